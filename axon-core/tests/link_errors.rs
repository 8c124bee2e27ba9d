//! Link errors: which links are refused (a second outgoing link, mismatched types, unknown
//! boxes, inbox->outbox, passthrough loops, bad `inbox_ref` requests), what the errors say,
//! and that fan-in is allowed.

mod common;

use axon_core::{LinkErrorKind, LinkOptions, link, link_with};

use common::standard_of;

/// A box has at most one outgoing link: a second is refused with AlreadyLinked, whose
/// message names the source, the sink asked for and the existing destination; the first link
/// keeps working.
#[test]
fn a_second_outgoing_link_from_one_box_is_refused_naming_the_existing_destination() {
    let (a, sa) = standard_of::<u32, u32>("Src");
    let (b, sb) = standard_of::<u32, u32>("First");
    let (c, sc) = standard_of::<u32, u32>("Second");
    link((&a, "outbox"), (&b, "inbox")).unwrap();

    let err = link((&a, "outbox"), (&c, "inbox")).unwrap_err();
    assert_eq!(
        err.kind(),
        &LinkErrorKind::AlreadyLinked {
            source: format!("{}.outbox", a.name()),
            existing: format!("{}.inbox", b.name()),
            sink: format!("{}.inbox", c.name()),
        }
    );
    let text = err.to_string();
    for needle in [format!("{}.outbox", a.name()), format!("{}.inbox", b.name()), format!("{}.inbox", c.name())] {
        assert!(text.contains(&needle), "{text:?} lacks {needle:?}");
    }

    sa.outbox.try_send(1).unwrap();
    assert_eq!(sb.inbox.try_recv(), Some(1));
    assert_eq!(sc.inbox.len(), 0);
}

/// The one-outgoing-link rule applies to forwarding inboxes too.
#[test]
fn a_forwarding_inbox_cannot_get_a_second_outgoing_link() {
    let (parent, _) = standard_of::<u32, u32>("Parent");
    let (c1, _) = standard_of::<u32, u32>("Child");
    let (c2, _) = standard_of::<u32, u32>("Child");
    link((&parent, "inbox"), (&c1, "inbox")).unwrap();
    let err = link((&parent, "inbox"), (&c2, "inbox")).unwrap_err();
    assert!(matches!(err.kind(), LinkErrorKind::AlreadyLinked { .. }), "{err}");
}

/// Fan-in is allowed: two outboxes may feed one inbox, and each sender's messages keep
/// their order.
#[test]
fn two_outboxes_may_feed_one_inbox_keeping_each_senders_order() {
    let (a, sa) = standard_of::<(), (char, u32)>("A");
    let (b, sb) = standard_of::<(), (char, u32)>("B");
    let (c, sc) = standard_of::<(char, u32), ()>("Merge");
    link((&a, "outbox"), (&c, "inbox")).unwrap();
    link((&b, "outbox"), (&c, "inbox")).unwrap();

    for n in 0..5 {
        sa.outbox.try_send(('a', n)).unwrap();
        if n % 2 == 0 {
            sb.outbox.try_send(('b', n)).unwrap();
        }
    }
    let got: Vec<(char, u32)> = sc.inbox.drain().collect();
    assert_eq!(got.len(), 8);
    let from = |who: char| -> Vec<u32> { got.iter().filter(|(w, _)| *w == who).map(|(_, n)| *n).collect() };
    assert_eq!(from('a'), [0, 1, 2, 3, 4]);
    assert_eq!(from('b'), [0, 2, 4]);
}

/// Linking boxes of different message types is refused with TypeMismatch; the message
/// names both components, both boxes and both types.
#[test]
fn linking_boxes_of_different_types_is_refused_naming_both_ends_and_types() {
    let (a, _) = standard_of::<(), u32>("Numbers");
    let (b, _) = standard_of::<String, ()>("Words");

    let err = link((&a, "outbox"), (&b, "inbox")).unwrap_err();
    match err.kind() {
        LinkErrorKind::TypeMismatch { source, source_type, sink, sink_type } => {
            assert_eq!(source, &format!("{}.outbox", a.name()));
            assert_eq!(sink, &format!("{}.inbox", b.name()));
            assert_eq!(source_type, std::any::type_name::<u32>());
            assert_eq!(sink_type, std::any::type_name::<String>());
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
    let text = err.to_string();
    for needle in [a.name(), "outbox", b.name(), "inbox", "u32", "String"] {
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    }
}

/// A box name the component does not have is refused with NoSuchBox naming the component
/// and the box, on either end of the link.
#[test]
fn an_unknown_box_name_is_refused_naming_the_component_and_box() {
    let (a, _) = standard_of::<u32, u32>("Src");
    let (b, _) = standard_of::<u32, u32>("Dst");

    let err = link((&a, "outbx"), (&b, "inbox")).unwrap_err();
    assert_eq!(err.kind(), &LinkErrorKind::NoSuchBox { component: a.name().to_string(), name: "outbx".to_string() });
    let text = err.to_string();
    assert!(text.contains(a.name()) && text.contains("outbx"), "{text:?}");

    let err = link((&a, "outbox"), (&b, "inbx")).unwrap_err();
    assert_eq!(err.kind(), &LinkErrorKind::NoSuchBox { component: b.name().to_string(), name: "inbx".to_string() });
    let text = err.to_string();
    assert!(text.contains(b.name()) && text.contains("inbx"), "{text:?}");
}

/// An inbox cannot feed an outbox: WrongDirection, naming both ends.
#[test]
fn an_inbox_cannot_be_linked_to_an_outbox() {
    let (a, _) = standard_of::<u32, u32>("A");
    let (b, sb) = standard_of::<u32, u32>("B");

    let err = link((&a, "inbox"), (&b, "outbox")).unwrap_err();
    assert_eq!(
        err.kind(),
        &LinkErrorKind::WrongDirection { source: format!("{}.inbox", a.name()), sink: format!("{}.outbox", b.name()) }
    );
    let text = err.to_string();
    assert!(text.contains(a.name()) && text.contains(b.name()), "{text:?}");
    assert!(!sb.outbox.is_linked());
}

/// A link that would close a loop of passthrough links is refused with Cycle; the links
/// already made keep working.
#[test]
fn a_loop_of_passthrough_links_is_refused() {
    let (p, _) = standard_of::<u32, u32>("P");
    let (q, _) = standard_of::<u32, u32>("Q");
    let (r, sr) = standard_of::<u32, u32>("R");

    let err = link((&p, "inbox"), (&p, "inbox")).unwrap_err();
    assert!(matches!(err.kind(), LinkErrorKind::Cycle { .. }), "{err}");

    link((&p, "inbox"), (&q, "inbox")).unwrap();
    link((&q, "inbox"), (&r, "inbox")).unwrap();
    let err = link((&r, "inbox"), (&p, "inbox")).unwrap_err();
    assert_eq!(
        err.kind(),
        &LinkErrorKind::Cycle { source: format!("{}.inbox", r.name()), sink: format!("{}.inbox", p.name()) }
    );
    assert!(err.to_string().contains(r.name()));

    let (a, _) = standard_of::<u32, u32>("A");
    let (b, _) = standard_of::<u32, u32>("B");
    link((&a, "outbox"), (&b, "outbox")).unwrap();
    let err = link((&b, "outbox"), (&a, "outbox")).unwrap_err();
    assert!(matches!(err.kind(), LinkErrorKind::Cycle { .. }), "{err}");

    // The refused link left the chain P -> Q -> R intact.
    p.inbox_ref::<u32>("inbox").unwrap().try_send(9).unwrap();
    assert_eq!(sr.inbox.try_recv(), Some(9));
}

/// A refused link changes nothing: in particular a capacity asked for in its options is not
/// applied to the sink.
#[test]
fn a_refused_link_leaves_the_sinks_capacity_unchanged() {
    let (a, _) = standard_of::<u32, u32>("Src");
    let (b, _) = standard_of::<u32, u32>("First");
    let (c, sc) = standard_of::<u32, u32>("Second");
    link((&a, "outbox"), (&b, "inbox")).unwrap();

    let err = link_with((&a, "outbox"), (&c, "inbox"), LinkOptions::capacity(1)).unwrap_err();
    assert!(matches!(err.kind(), LinkErrorKind::AlreadyLinked { .. }), "{err}");
    assert_eq!(sc.inbox.capacity(), None);
}

/// `inbox_ref` refuses a wrong message type (TypeMismatch naming the box and its real
/// type), an outbox name (NotAnInbox) and an unknown name (NoSuchBox).
#[test]
fn inbox_ref_refuses_a_wrong_type_an_outbox_or_an_unknown_name() {
    let (c, sc) = standard_of::<u32, u32>("Target");

    let err = c.inbox_ref::<String>("inbox").unwrap_err();
    match err.kind() {
        LinkErrorKind::TypeMismatch { sink, sink_type, source_type, .. } => {
            assert_eq!(sink, &format!("{}.inbox", c.name()));
            assert_eq!(sink_type, std::any::type_name::<u32>());
            assert_eq!(source_type, std::any::type_name::<String>());
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
    assert!(err.to_string().contains("u32"), "{err}");

    let err = c.inbox_ref::<u32>("outbox").unwrap_err();
    assert_eq!(err.kind(), &LinkErrorKind::NotAnInbox { component: c.name().to_string(), name: "outbox".to_string() });
    assert!(err.to_string().contains(c.name()), "{err}");

    let err = c.inbox_ref::<u32>("nope").unwrap_err();
    assert_eq!(err.kind(), &LinkErrorKind::NoSuchBox { component: c.name().to_string(), name: "nope".to_string() });

    // The right type and name works.
    c.inbox_ref::<u32>("inbox").unwrap().try_send(5).unwrap();
    assert_eq!(sc.inbox.try_recv(), Some(5));
}
