//! Size-limited boxes: exactly N accepted, N+1 refused with the message handed back, one
//! limit for every producer, limits enforced only at the final destination, link-time
//! moves that never lose messages, and `send().await` waiting for space.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axon_core::{ComponentBuilder, Full, LinkOptions, Scheduler, link, link_with, pause, unlink};

use common::standard;

/// A box with capacity N accepts exactly N messages; the next is refused with `Full`,
/// which hands the message back, and nothing is stored.
#[test]
fn a_box_of_capacity_n_accepts_exactly_n_and_refuses_the_next_handing_it_back() {
    let (src, s) = standard("Src");
    let mut b = ComponentBuilder::new("Sink");
    let inbox = b.inbox_with_capacity::<u32>("inbox", 3);
    let sink = b.run(|_ctx| async {});
    link((&src, "outbox"), (&sink, "inbox")).unwrap();

    assert_eq!(inbox.capacity(), Some(3));
    for n in 1..=3 {
        assert_eq!(s.outbox.try_send(n), Ok(()));
    }
    assert_eq!(s.outbox.try_send(4), Err(Full(4)));
    assert_eq!(s.outbox.try_send(5).unwrap_err().into_inner(), 5);
    assert_eq!(inbox.len(), 3);

    // Delivering directly is held to the same limit.
    let direct = sink.inbox_ref::<u32>("inbox").unwrap();
    assert_eq!(direct.try_send(6), Err(Full(6)));
    assert_eq!(inbox.drain().collect::<Vec<_>>(), [1, 2, 3]);
}

/// Receiving one message from a full box frees exactly one slot.
#[test]
fn a_receive_from_a_full_box_frees_exactly_one_slot() {
    let (src, s) = standard("Src");
    let (sink, d) = standard("Sink");
    sink.set_box_capacity("inbox", Some(2)).unwrap();
    link((&src, "outbox"), (&sink, "inbox")).unwrap();

    s.outbox.try_send(1).unwrap();
    s.outbox.try_send(2).unwrap();
    assert_eq!(s.outbox.try_send(3), Err(Full(3)));

    assert_eq!(d.inbox.try_recv(), Some(1));
    assert_eq!(s.outbox.try_send(3), Ok(()));
    assert_eq!(s.outbox.try_send(4), Err(Full(4)));
    assert_eq!(d.inbox.drain().collect::<Vec<_>>(), [2, 3]);
}

/// Every producer feeding one inbox sees the same limit: what one sends uses up space for
/// the others.
#[test]
fn all_producers_feeding_one_inbox_share_its_limit() {
    let (a, sa) = standard("A");
    let (b, sb) = standard("B");
    let (sink, d) = standard("Sink");
    d.inbox.set_capacity(Some(3));
    link((&a, "outbox"), (&sink, "inbox")).unwrap();
    link((&b, "outbox"), (&sink, "inbox")).unwrap();

    sa.outbox.try_send(1).unwrap();
    sb.outbox.try_send(2).unwrap();
    sa.outbox.try_send(3).unwrap();
    assert_eq!(sb.outbox.try_send(4), Err(Full(4)));
    assert_eq!(sa.outbox.try_send(5), Err(Full(5)));

    d.inbox.try_recv().unwrap();
    assert_eq!(sb.outbox.try_send(4), Ok(()));
    assert_eq!(sa.outbox.try_send(5), Err(Full(5)));
    assert_eq!(d.inbox.drain().collect::<Vec<_>>(), [2, 3, 4]);
}

/// A limit on a box in the middle of a chain is inert while the chain holds; once the chain
/// is cut there, the box is the final destination and its limit is enforced.
#[test]
fn a_limit_mid_chain_is_inert_until_the_chain_is_cut() {
    let (src, s) = standard("Src");
    let (parent, p) = standard("Parent");
    let (child, c) = standard("Child");
    parent.set_box_capacity("inbox", Some(1)).unwrap();
    // An outbox's limit mid-chain is inert too.
    src.set_box_capacity("outbox", Some(1)).unwrap();
    link((&src, "outbox"), (&parent, "inbox")).unwrap();
    let pass = link((&parent, "inbox"), (&child, "inbox")).unwrap();

    for n in 1..=5 {
        assert_eq!(s.outbox.try_send(n), Ok(()), "message {n}");
    }
    assert_eq!(c.inbox.len(), 5);

    unlink(&pass);
    assert_eq!(s.outbox.try_send(6), Ok(()));
    assert_eq!(s.outbox.try_send(7), Err(Full(7)));
    assert_eq!(p.inbox.len(), 1);
    assert_eq!(c.inbox.len(), 5);
}

/// An unlinked outbox with a capacity keeps at most that many messages (it is the final
/// destination while unlinked).
#[test]
fn an_unlinked_outbox_with_a_capacity_keeps_at_most_that_many() {
    let mut b = ComponentBuilder::new("Src");
    let out = b.outbox_with_capacity::<u32>("outbox", 2);
    let src = b.run(|_ctx| async {});
    let (sink, d) = standard("Sink");

    out.try_send(1).unwrap();
    out.try_send(2).unwrap();
    assert_eq!(out.try_send(3), Err(Full(3)));
    assert_eq!(out.buffered(), 2);

    link((&src, "outbox"), (&sink, "inbox")).unwrap();
    assert_eq!(out.try_send(3), Ok(()));
    assert_eq!(d.inbox.drain().collect::<Vec<_>>(), [1, 2, 3]);
}

/// `None` means unbounded: the default, and what setting `None` restores.
#[test]
fn a_capacity_of_none_is_unbounded() {
    let (src, s) = standard("Src");
    let (sink, d) = standard("Sink");
    link((&src, "outbox"), (&sink, "inbox")).unwrap();

    assert_eq!(d.inbox.capacity(), None);
    for n in 0..10_000 {
        s.outbox.try_send(n).unwrap();
    }
    assert_eq!(d.inbox.len(), 10_000);

    d.inbox.set_capacity(Some(10_000));
    assert_eq!(s.outbox.try_send(0), Err(Full(0)));
    sink.set_box_capacity("inbox", None).unwrap();
    assert_eq!(d.inbox.capacity(), None);
    assert_eq!(s.outbox.try_send(0), Ok(()));
}

/// `LinkOptions::capacity(n)` (Axon's `pipewidth`) sets the sink box's capacity.
#[test]
fn link_options_capacity_sets_the_sinks_capacity() {
    let (src, s) = standard("Src");
    let (sink, d) = standard("Sink");
    link_with((&src, "outbox"), (&sink, "inbox"), LinkOptions::capacity(2)).unwrap();

    assert_eq!(d.inbox.capacity(), Some(2));
    s.outbox.try_send(1).unwrap();
    s.outbox.try_send(2).unwrap();
    assert_eq!(s.outbox.try_send(3), Err(Full(3)));
}

/// Linking moves the messages waiting in the source box into the destination even beyond
/// its capacity: none is lost, order is kept, and new sends are refused until it drains
/// below its limit.
#[test]
fn linking_moves_every_waiting_message_even_beyond_the_destinations_capacity() {
    let (src, s) = standard("Src");
    let (sink, d) = standard("Sink");
    d.inbox.set_capacity(Some(2));
    for n in 1..=5 {
        s.outbox.try_send(n).unwrap();
    }
    assert_eq!(s.outbox.buffered(), 5);

    link((&src, "outbox"), (&sink, "inbox")).unwrap();
    assert_eq!(s.outbox.buffered(), 0);
    assert_eq!(d.inbox.len(), 5);
    assert_eq!(s.outbox.try_send(6), Err(Full(6)));

    let mut got: Vec<u32> = (0..4).map(|_| d.inbox.try_recv().unwrap()).collect();
    assert_eq!(s.outbox.try_send(6), Ok(()));
    assert_eq!(s.outbox.try_send(7), Err(Full(7)));
    got.extend(d.inbox.drain());
    assert_eq!(got, [1, 2, 3, 4, 5, 6]);
}

/// `send().await` into a full box waits (the sender pauses and is not run again) and
/// completes only after the consumer receives.
#[test]
fn an_awaited_send_into_a_full_box_waits_until_the_consumer_receives() {
    let sent = Arc::new(AtomicUsize::new(0));
    let got = Arc::new(Mutex::new(Vec::new()));

    let mut b = ComponentBuilder::new("Producer");
    let out = b.outbox::<u32>("outbox");
    let count = sent.clone();
    let producer = b.run(move |_ctx| async move {
        for n in 0..3 {
            out.send(n).await;
            count.fetch_add(1, Ordering::SeqCst);
        }
    });

    // The consumer takes one message each time it is told to on `go`.
    let mut b = ComponentBuilder::new("Consumer");
    let inbox = b.inbox_with_capacity::<u32>("inbox", 1);
    let go = b.inbox::<()>("go");
    let seen = got.clone();
    let consumer = b.run(move |_ctx| async move {
        loop {
            if go.try_recv().is_some() {
                let m = inbox.try_recv().expect("a message was waiting");
                seen.lock().unwrap().push(m);
            }
            pause().await;
        }
    });
    link((&producer, "outbox"), (&consumer, "inbox")).unwrap();
    let go = consumer.inbox_ref::<()>("go").unwrap();

    let sched = Scheduler::new();
    sched.activate(&producer).unwrap();
    sched.activate(&consumer).unwrap();

    sched.step();
    assert_eq!(sent.load(Ordering::SeqCst), 1);
    assert!(sched.is_paused(&producer));
    // Nobody collects, so the blocked producer is not run again.
    assert_eq!(sched.step(), 0);
    assert_eq!(sent.load(Ordering::SeqCst), 1);

    go.try_send(()).unwrap();
    sched.step(); // the consumer collects 0, which wakes the producer
    assert_eq!(*got.lock().unwrap(), [0]);
    sched.step(); // the producer's send of 1 completes; its send of 2 waits
    assert_eq!(sent.load(Ordering::SeqCst), 2);
    // The delivery of 1 wakes the consumer, which does not collect without `go`.
    sched.run_until_idle();
    assert_eq!(sent.load(Ordering::SeqCst), 2);
    assert!(sched.is_paused(&producer));

    go.try_send(()).unwrap();
    sched.run_until_idle();
    assert_eq!(sent.load(Ordering::SeqCst), 3);
    assert!(producer.is_finished());
    go.try_send(()).unwrap();
    sched.run_until_idle();
    assert_eq!(*got.lock().unwrap(), [0, 1, 2]);
}

/// With a one-slot box between them, a producer awaiting `send` and a consumer awaiting
/// `recv` pass every message, in order, and both finish.
#[test]
fn awaited_sends_through_a_one_slot_box_deliver_everything_in_order() {
    let got = Arc::new(Mutex::new(Vec::new()));

    let mut b = ComponentBuilder::new("Producer");
    let out = b.outbox::<u32>("outbox");
    let producer = b.run(move |_ctx| async move {
        for n in 0..200 {
            out.send(n).await;
        }
    });
    let mut b = ComponentBuilder::new("Consumer");
    let inbox = b.inbox::<u32>("inbox");
    let seen = got.clone();
    let consumer = b.run(move |_ctx| async move {
        for _ in 0..200 {
            let m = inbox.recv().await;
            seen.lock().unwrap().push(m);
        }
    });
    link_with((&producer, "outbox"), (&consumer, "inbox"), LinkOptions::capacity(1)).unwrap();

    let sched = Scheduler::new();
    sched.activate(&producer).unwrap();
    sched.activate(&consumer).unwrap();
    sched.run();
    assert!(producer.is_finished() && consumer.is_finished());
    assert_eq!(*got.lock().unwrap(), (0..200).collect::<Vec<_>>());
}
