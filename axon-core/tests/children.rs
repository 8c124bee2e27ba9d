//! Children: a parent creates, links and activates children at run time, is woken as each ends, and owns the links it made.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axon_core::{Component, ComponentBuilder, Inbox, Outbox, Scheduler, link, pause, yield_now};

use common::{run_counted, run_within_limit};

/// A child that yields `yields` times, then finishes.
fn yielder(yields: usize) -> Component {
    let mut b = ComponentBuilder::new("Yielder");
    b.inbox::<u32>("inbox");
    b.run(move |_ctx| async move {
        for _ in 0..yields {
            yield_now().await;
        }
    })
}

/// A component with an `inbox` and an `outbox` that the test keeps, and a body that pauses
/// until woken, then finishes.
struct Held {
    component: Component,
    inbox: Inbox<u32>,
    outbox: Outbox<u32>,
}

fn held(kind: &'static str) -> Held {
    let mut b = ComponentBuilder::new(kind);
    let inbox = b.inbox::<u32>("inbox");
    let outbox = b.outbox::<u32>("outbox");
    let component = b.run(|_ctx| async {
        pause().await;
    });
    Held { component, inbox, outbox }
}

#[test]
fn a_parent_is_woken_once_as_each_child_ends() {
    let remaining = Arc::new(Mutex::new(Vec::new()));
    let record = remaining.clone();
    let mut b = ComponentBuilder::new("Parent");
    b.inbox::<u32>("inbox");
    let (parent, parent_polls) = run_counted(b, move |ctx| async move {
        // The children end in three different cycles.
        for yields in [0, 1, 2] {
            ctx.spawn(&yielder(yields)).unwrap();
        }
        loop {
            let done = ctx.children_done();
            record.lock().unwrap().push(ctx.children().len());
            if done {
                break;
            }
            pause().await;
        }
    });
    let sched = Scheduler::new();
    sched.activate(&parent).unwrap();
    run_within_limit(sched);
    assert!(parent.is_finished());
    assert_eq!(*remaining.lock().unwrap(), [3, 2, 1, 0]);
    assert_eq!(parent_polls.load(Ordering::SeqCst), 4);
}

#[test]
fn a_parent_links_and_activates_children_at_run_time_and_hears_from_them() {
    let got = Arc::new(Mutex::new(Vec::new()));
    let family = Arc::new(Mutex::new(Vec::new()));
    let record = got.clone();
    let record_family = family.clone();
    let mut b = ComponentBuilder::new("Parent");
    let inbox = b.inbox::<u32>("inbox");
    let parent = b.run(move |ctx| async move {
        let me = ctx.component();
        for n in 1..=3 {
            let mut cb = ComponentBuilder::new("Child");
            let out = cb.outbox::<u32>("outbox");
            let child = cb.run(move |_ctx| async move {
                out.send(n * 10).await;
            });
            ctx.link((&child, "outbox"), (&me, "inbox")).unwrap();
            ctx.spawn(&child).unwrap();
            record_family.lock().unwrap().push(child.parent() == Some(me.clone()));
        }
        assert_eq!(me.children().len(), 3);
        ctx.wait_for_children().await;
        record.lock().unwrap().extend(inbox.drain());
    });
    let sched = Scheduler::new();
    sched.activate(&parent).unwrap();
    let sched = run_within_limit(sched);
    assert_eq!(*family.lock().unwrap(), [true, true, true]);
    assert_eq!(*got.lock().unwrap(), [10, 20, 30]);
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
}

#[test]
fn wait_for_children_returns_once_every_child_has_finished() {
    let seen = Arc::new(Mutex::new(None));
    let record = seen.clone();
    let mut b = ComponentBuilder::new("Parent");
    b.inbox::<u32>("inbox");
    let parent = b.run(move |ctx| async move {
        let kids: Vec<Component> = [0, 5, 2].map(yielder).into();
        for k in &kids {
            ctx.spawn(k).unwrap();
        }
        ctx.wait_for_children().await;
        *record.lock().unwrap() = Some((kids.iter().all(Component::is_finished), ctx.children().len()));
    });
    let sched = Scheduler::new();
    sched.activate(&parent).unwrap();
    run_within_limit(sched);
    assert_eq!(*seen.lock().unwrap(), Some((true, 0)));
    assert!(parent.is_finished());
}

#[test]
fn wait_for_children_returns_at_once_with_no_children() {
    let mut b = ComponentBuilder::new("Childless");
    b.inbox::<u32>("inbox");
    let (parent, polls) = run_counted(b, |ctx| async move {
        ctx.wait_for_children().await;
    });
    let sched = Scheduler::new();
    sched.activate(&parent).unwrap();
    assert_eq!(sched.step(), 1);
    assert!(parent.is_finished());
    assert_eq!(polls.load(Ordering::SeqCst), 1);
}

#[test]
fn links_a_parent_made_are_removed_when_the_parent_ends() {
    let a = held("A");
    let b_ = held("B");
    let c = held("C");
    let (wa, wb) = (a.component.clone(), b_.component.clone());
    let mut b = ComponentBuilder::new("Parent");
    b.inbox::<u32>("inbox");
    let parent = b.run(move |ctx| async move {
        ctx.link((&wa, "outbox"), (&wb, "inbox")).unwrap();
        pause().await;
    });
    // A link made outside any component belongs to nobody's postoffice.
    link((&c.component, "outbox"), (&b_.component, "inbox")).unwrap();

    let sched = Scheduler::new();
    sched.activate(&parent).unwrap();
    assert_eq!(sched.step(), 1);
    assert!(a.outbox.is_linked());
    a.outbox.try_send(1).unwrap();
    assert_eq!(b_.inbox.len(), 1);

    parent.wake();
    assert_eq!(sched.step(), 1);
    assert!(parent.is_finished());
    assert!(!a.outbox.is_linked(), "the parent's link went with it");
    a.outbox.try_send(2).unwrap();
    assert_eq!(a.outbox.buffered(), 1);
    assert_eq!(b_.inbox.drain().collect::<Vec<_>>(), [1]);

    assert!(c.outbox.is_linked(), "a link the parent did not make stays");
    c.outbox.try_send(3).unwrap();
    assert_eq!(b_.inbox.try_recv(), Some(3));
}

#[test]
fn children_done_forgets_finished_children() {
    let fast = yielder(0);
    let slow = held("Slow");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let kids = [fast.clone(), slow.component.clone()];
    let mut b = ComponentBuilder::new("Parent");
    b.inbox::<u32>("inbox");
    let parent = b.run(move |ctx| async move {
        for k in &kids {
            ctx.spawn(k).unwrap();
        }
        loop {
            let done = ctx.children_done();
            record.lock().unwrap().push((done, ctx.children()));
            if done {
                break;
            }
            pause().await;
        }
    });
    let sched = Scheduler::new();
    sched.activate(&parent).unwrap();
    sched.run_until_idle();
    assert!(fast.is_finished());
    assert_eq!(parent.children(), std::slice::from_ref(&slow.component));

    slow.component.wake();
    sched.run_until_idle();
    assert!(parent.is_finished());
    assert_eq!(
        *seen.lock().unwrap(),
        [(false, vec![fast.clone(), slow.component.clone()]), (false, vec![slow.component.clone()]), (true, vec![]),]
    );
    assert!(parent.children().is_empty());
}

#[test]
fn remove_child_unlinks_the_links_the_parent_made_involving_that_child() {
    let c1 = held("Child1");
    let c2 = held("Child2");
    let a = held("A");
    let b_ = held("B");
    let (k1, k2, wa, wb) = (c1.component.clone(), c2.component.clone(), a.component.clone(), b_.component.clone());
    let mut b = ComponentBuilder::new("Parent");
    b.inbox::<u32>("inbox");
    b.inbox::<u32>("forward");
    let parent = b.run(move |ctx| async move {
        let me = ctx.component();
        ctx.add_child(&k1);
        ctx.add_child(&k2);
        // The child as source, the child as sink, another child, and two strangers.
        ctx.link((&k1, "outbox"), (&me, "inbox")).unwrap();
        ctx.link((&me, "forward"), (&k1, "inbox")).unwrap();
        ctx.link((&k2, "outbox"), (&me, "inbox")).unwrap();
        ctx.link((&wa, "outbox"), (&wb, "inbox")).unwrap();
        pause().await;
        ctx.remove_child(&k1);
        pause().await;
    });
    let forward = parent.inbox_ref::<u32>("forward").unwrap();
    let sched = Scheduler::new();
    sched.activate(&parent).unwrap();
    assert_eq!(sched.step(), 1);
    assert_eq!(parent.children(), [c1.component.clone(), c2.component.clone()]);
    assert!(c1.outbox.is_linked());
    forward.try_send(1).unwrap();
    assert_eq!(c1.inbox.try_recv(), Some(1), "forwarded to the child");

    parent.wake();
    assert_eq!(sched.step(), 1);
    assert_eq!(parent.children(), std::slice::from_ref(&c2.component));
    assert!(!c1.outbox.is_linked(), "child -> parent link removed");
    forward.try_send(2).unwrap();
    assert_eq!(forward.len(), 1, "parent -> child link removed");
    assert!(c1.inbox.is_empty());
    assert!(c2.outbox.is_linked(), "the other child's link stays");
    assert!(a.outbox.is_linked(), "links not involving the child stay");
    assert_eq!(c1.component.parent(), None);
    assert_eq!(c2.component.parent(), Some(parent.clone()));
}
