//! Box semantics: what inboxes and outboxes hold, count and hand back (Axon's `send`, `recv`,
//! `dataReady`, the `Inbox()` drain idiom), and the standard box names.

mod common;

use axon_core::{ComponentBuilder, link};

use common::standard_of;

/// Messages sent along a link are received in the order they were sent.
#[test]
fn an_inbox_hands_messages_back_in_the_order_they_were_sent() {
    let (src, s) = standard_of::<(), u32>("Source");
    let (dst, d) = standard_of::<u32, ()>("Sink");
    link((&src, "outbox"), (&dst, "inbox")).unwrap();

    for n in [3, 1, 4, 1, 5] {
        s.outbox.try_send(n).unwrap();
    }
    let got: Vec<u32> = std::iter::from_fn(|| d.inbox.try_recv()).collect();
    assert_eq!(got, [3, 1, 4, 1, 5]);
}

/// `try_recv` on an empty inbox is `None` (Axon raises IndexError), and it stays usable.
#[test]
fn try_recv_on_an_empty_inbox_is_none() {
    let (src, s) = standard_of::<(), u32>("Source");
    let (dst, d) = standard_of::<u32, ()>("Sink");
    link((&src, "outbox"), (&dst, "inbox")).unwrap();

    assert_eq!(d.inbox.try_recv(), None);
    assert!(d.inbox.is_empty());
    s.outbox.try_send(7).unwrap();
    assert_eq!(d.inbox.try_recv(), Some(7));
    assert_eq!(d.inbox.try_recv(), None);
    assert!(d.control.try_recv().is_none());
}

/// `len` (Axon's `dataReady`) counts the waiting messages, up on each delivery and down on
/// each receive.
#[test]
fn len_counts_waiting_messages_up_on_delivery_and_down_on_receive() {
    let (src, s) = standard_of::<(), u32>("Source");
    let (dst, d) = standard_of::<u32, ()>("Sink");
    link((&src, "outbox"), (&dst, "inbox")).unwrap();

    assert_eq!(d.inbox.len(), 0);
    for n in 1..=4 {
        s.outbox.try_send(n).unwrap();
        assert_eq!(d.inbox.len(), n as usize);
    }
    assert!(!d.inbox.is_empty());
    d.inbox.try_recv().unwrap();
    assert_eq!(d.inbox.len(), 3);
    // Another inbox of the same component is counted separately.
    assert_eq!(d.control.len(), 0);
}

/// `drain` takes every waiting message, oldest first, and leaves the inbox empty.
#[test]
fn drain_takes_every_waiting_message_oldest_first() {
    let (src, s) = standard_of::<(), String>("Source");
    let (dst, d) = standard_of::<String, ()>("Sink");
    link((&src, "outbox"), (&dst, "inbox")).unwrap();

    for w in ["a", "b", "c"] {
        s.outbox.try_send(w.to_string()).unwrap();
    }
    let got: Vec<String> = d.inbox.drain().collect();
    assert_eq!(got, ["a", "b", "c"]);
    assert_eq!(d.inbox.len(), 0);
    assert_eq!(d.inbox.drain().count(), 0);
}

/// An unlinked outbox keeps what is sent to it (Axon would drop it) and, once linked, hands
/// it on in order, ahead of anything sent afterwards.
#[test]
fn an_unlinked_outbox_keeps_messages_and_they_flow_in_order_when_linked() {
    let (src, s) = standard_of::<(), u32>("Source");
    let (dst, d) = standard_of::<u32, ()>("Sink");

    assert!(!s.outbox.is_linked());
    for n in 1..=3 {
        s.outbox.try_send(n).unwrap();
    }
    assert_eq!(s.outbox.buffered(), 3);
    assert_eq!(d.inbox.len(), 0);

    link((&src, "outbox"), (&dst, "inbox")).unwrap();
    assert!(s.outbox.is_linked());
    assert_eq!(s.outbox.buffered(), 0);
    assert_eq!(d.inbox.len(), 3);

    s.outbox.try_send(4).unwrap();
    assert_eq!(s.outbox.buffered(), 0);
    assert_eq!(d.inbox.drain().collect::<Vec<_>>(), [1, 2, 3, 4]);
}

/// An inbox that forwards to a child's inbox (an inbox passthrough) reports `len` 0 while
/// its messages land, in order, at the final destination.
#[test]
fn a_forwarding_inbox_reports_len_zero_while_messages_land_at_the_final_inbox() {
    let (src, s) = standard_of::<(), u32>("Source");
    let (parent, p) = standard_of::<u32, ()>("Parent");
    let (child, c) = standard_of::<u32, ()>("Child");
    link((&src, "outbox"), (&parent, "inbox")).unwrap();
    link((&parent, "inbox"), (&child, "inbox")).unwrap();

    for n in 1..=3 {
        s.outbox.try_send(n).unwrap();
    }
    assert_eq!(p.inbox.len(), 0);
    assert!(p.inbox.is_empty());
    assert_eq!(c.inbox.len(), 3);

    // Delivering straight into the forwarding inbox (Axon's `_deliver`) forwards too.
    parent.inbox_ref::<u32>("inbox").unwrap().try_send(4).unwrap();
    assert_eq!(p.inbox.len(), 0);
    assert_eq!(c.inbox.drain().collect::<Vec<_>>(), [1, 2, 3, 4]);
}

/// The standard boxes are named `inbox`, `control`, `outbox`, `signal`, in that order.
#[test]
fn standard_boxes_are_inbox_control_outbox_signal_in_that_order() {
    let (c, s) = standard_of::<u8, u8>("Std");
    assert_eq!(c.inbox_names(), ["inbox", "control"]);
    assert_eq!(c.outbox_names(), ["outbox", "signal"]);
    assert_eq!(s.inbox.name(), "inbox");
    assert_eq!(s.control.name(), "control");
    assert_eq!(s.outbox.name(), "outbox");
    assert_eq!(s.signal.name(), "signal");
    for name in ["inbox", "control", "outbox", "signal"] {
        assert!(c.has_box(name), "missing {name}");
    }
}

/// Declared boxes keep exactly the names they were declared with, in declaration order,
/// inboxes and outboxes listed separately.
#[test]
fn declared_boxes_keep_their_names_in_declaration_order() {
    let mut b = ComponentBuilder::new("Custom");
    let data = b.inbox::<u32>("data");
    let ctl = b.control();
    let limited = b.inbox_with_capacity::<String>("limited", 2);
    let result = b.outbox::<u32>("result");
    let log = b.outbox_with_capacity::<String>("log", 5);
    let c = b.run(|_ctx| async {});

    assert_eq!(c.inbox_names(), ["data", "control", "limited"]);
    assert_eq!(c.outbox_names(), ["result", "log"]);
    assert_eq!([data.name(), ctl.name(), limited.name()], ["data", "control", "limited"]);
    assert_eq!([result.name(), log.name()], ["result", "log"]);
    assert!(!c.has_box("inbox"));
    assert!(!c.has_box("outbox"));
}

/// A component is named `<Kind>_<id>` after its kind and unique id.
#[test]
fn a_component_is_named_after_its_kind_and_id() {
    let (a, _) = standard_of::<u8, u8>("Thing");
    let (b, _) = standard_of::<u8, u8>("Thing");
    assert_eq!(a.name(), format!("Thing_{}", a.id()));
    assert_eq!(b.name(), format!("Thing_{}", b.id()));
    assert_ne!(a.id(), b.id());
}
