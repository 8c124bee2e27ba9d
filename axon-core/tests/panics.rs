//! Panics: a panicking component is reported and cut out of the system, and everything else runs on.

mod common;

use std::sync::{Arc, Mutex};

use axon_core::{Component, ComponentBuilder, ComponentState, Scheduler, Signal, link, pause};

use common::{collector, run_within_limit};

/// A scheduler that records panics without printing them.
fn quiet() -> Scheduler {
    Scheduler::builder().report_panics(false).build()
}

/// A component that panics with `boom <n>` on the first number it receives.
fn bomb() -> Component {
    let mut b = ComponentBuilder::new("Bomb");
    let inbox = b.inbox::<u32>("inbox");
    b.outbox::<u32>("outbox");
    b.run(move |_ctx| async move {
        let n = inbox.recv().await;
        panic!("boom {n}");
    })
}

/// A source of `0..n` with a ProducerFinished at the end.
fn source(n: u32) -> Component {
    let mut b = ComponentBuilder::new("Source");
    let out = b.outbox::<u32>("outbox");
    let sig = b.signal();
    b.run(move |ctx| async move {
        for i in 0..n {
            out.send(i).await;
        }
        sig.send(Signal::producer_finished_by(ctx.id())).await;
    })
}

#[test]
fn a_panicking_component_is_reported_with_its_name_and_message() {
    let bomb = bomb();
    bomb.inbox_ref::<u32>("inbox").unwrap().try_send(7).unwrap();
    let sched = quiet();
    sched.activate(&bomb).unwrap();
    let sched = run_within_limit(sched);

    let panics = sched.panics();
    assert_eq!(panics.len(), 1);
    assert_eq!(panics[0].id, bomb.id());
    assert_eq!(panics[0].name, bomb.name());
    assert_eq!(panics[0].message, "boom 7");
    assert_eq!(bomb.state(), ComponentState::Panicked);
    assert!(bomb.is_finished());
    assert_eq!(sched.live(), 0);
}

#[test]
fn a_panic_with_a_non_string_payload_is_still_reported() {
    let mut b = ComponentBuilder::new("OddBomb");
    b.inbox::<u32>("inbox");
    let odd = b.run(|_ctx| async {
        std::panic::panic_any(42_u8);
    });
    let sched = quiet();
    sched.activate(&odd).unwrap();
    let sched = run_within_limit(sched);
    let panics = sched.panics();
    assert_eq!(panics.len(), 1);
    assert_eq!(panics[0].name, odd.name());
    assert!(!panics[0].message.is_empty());
    assert_eq!(odd.state(), ComponentState::Panicked);
}

#[test]
fn a_panicking_component_loses_its_links_and_its_upstream_sender_buffers() {
    let bomb = bomb();
    // The sender and receiver around the bomb are kept by the test, boxes and all.
    let mut b = ComponentBuilder::new("Upstream");
    let upstream_out = b.outbox::<u32>("outbox");
    let upstream = b.run(|_ctx| async {});
    let mut b = ComponentBuilder::new("Downstream");
    let downstream_in = b.inbox::<u32>("inbox");
    let downstream = b.run(|_ctx| async {});
    link((&upstream, "outbox"), (&bomb, "inbox")).unwrap();
    link((&bomb, "outbox"), (&downstream, "inbox")).unwrap();

    let sched = quiet();
    sched.activate(&bomb).unwrap();
    assert_eq!(sched.step(), 1);
    upstream_out.try_send(1).unwrap();
    sched.run_until_idle();
    assert_eq!(bomb.state(), ComponentState::Panicked);

    assert!(!upstream_out.is_linked(), "the upstream sender's outbox is unlinked");
    upstream_out.try_send(2).unwrap();
    upstream_out.try_send(3).unwrap();
    assert_eq!(upstream_out.buffered(), 2, "later sends are kept, not lost");
    assert_eq!(bomb.inbox_ref::<u32>("inbox").unwrap().len(), 0, "nothing more reaches the dead inbox");

    // The bomb's own outbox no longer leads downstream: it can be linked afresh (a box has
    // one outgoing link, so this would fail with AlreadyLinked had the old link survived).
    let mut b = ComponentBuilder::new("Other");
    b.inbox::<u32>("inbox");
    let other = b.run(|_ctx| async {});
    link((&bomb, "outbox"), (&other, "inbox")).expect("the bomb's outbox was unlinked");
    assert!(downstream_in.is_empty());
}

#[test]
fn the_rest_of_the_system_runs_to_completion_after_a_panic() {
    let got = Arc::new(Mutex::new(Vec::new()));
    let src = source(1000);
    let snk = collector("Sink", &got);
    link((&src, "outbox"), (&snk, "inbox")).unwrap();
    link((&src, "signal"), (&snk, "control")).unwrap();

    // A second pipeline whose middle stage blows up on its first message.
    let bomb_src = source(10);
    let bomb = bomb();
    link((&bomb_src, "outbox"), (&bomb, "inbox")).unwrap();

    let sched = quiet();
    for c in [&bomb, &src, &bomb_src, &snk] {
        sched.activate(c).unwrap();
    }
    let sched = run_within_limit(sched);
    assert_eq!(*got.lock().unwrap(), (0..1000).collect::<Vec<_>>());
    assert_eq!(sched.panics().len(), 1);
    assert_eq!(bomb.state(), ComponentState::Panicked);
    for c in [&src, &bomb_src, &snk] {
        assert_eq!(c.state(), ComponentState::Finished, "{}", c.name());
    }
}

#[test]
fn a_parent_is_woken_when_a_panicking_child_ends() {
    let child = bomb();
    child.inbox_ref::<u32>("inbox").unwrap().try_send(1).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let the_child = child.clone();
    let mut b = ComponentBuilder::new("Parent");
    b.inbox::<u32>("inbox");
    let parent = b.run(move |ctx| async move {
        ctx.spawn(&the_child).unwrap();
        pause().await;
        record.lock().unwrap().push((the_child.state(), ctx.children_done()));
    });
    let sched = quiet();
    sched.activate(&parent).unwrap();
    assert_eq!(sched.step(), 1, "the parent spawns the child and pauses");
    assert_eq!(sched.step(), 1, "the child panics");
    assert_eq!(child.state(), ComponentState::Panicked);
    assert_eq!(parent.state(), ComponentState::Runnable, "its end woke the parent");
    assert_eq!(sched.step(), 1);
    assert_eq!(*seen.lock().unwrap(), [(ComponentState::Panicked, true)]);
    assert!(parent.is_finished());
    assert_eq!(sched.panics().len(), 1);
}

#[test]
fn a_threaded_components_panic_is_reported_the_same_way() {
    let mut b = ComponentBuilder::new("ThreadedBomb");
    let inbox = b.inbox::<u32>("inbox");
    let bomb = b.run_threaded(move |_tctx| {
        let n = inbox.recv_blocking();
        panic!("threaded boom {n}");
    });
    let mut b = ComponentBuilder::new("Upstream");
    let upstream_out = b.outbox::<u32>("outbox");
    let upstream = b.run(|_ctx| async {});
    link((&upstream, "outbox"), (&bomb, "inbox")).unwrap();
    upstream_out.try_send(5).unwrap();

    let sched = quiet();
    sched.activate(&bomb).unwrap();
    let sched = run_within_limit(sched);
    let panics = sched.panics();
    assert_eq!(panics.len(), 1);
    assert_eq!(panics[0].id, bomb.id());
    assert_eq!(panics[0].name, bomb.name());
    assert_eq!(panics[0].message, "threaded boom 5");
    assert_eq!(bomb.state(), ComponentState::Panicked);
    assert!(!upstream_out.is_linked());
    upstream_out.try_send(6).unwrap();
    assert_eq!(upstream_out.buffered(), 1);
}
