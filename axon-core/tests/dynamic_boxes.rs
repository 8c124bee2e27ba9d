//! Dynamic boxes (Axon's AdaptiveCommsComponent): adding inboxes and outboxes at run time,
//! name-collision suffixing, linking them from outside, and deleting them.

mod common;

use std::sync::{Arc, Mutex};

use axon_core::{Component, ComponentBuilder, Ctx, Inbox, LinkErrorKind, Outbox, Scheduler, link, pause};

use common::standard;

/// Work to run inside a component's body, with its context.
type Job = Box<dyn FnOnce(&Ctx) + Send>;

/// An adaptive component with the standard boxes plus `jobs`: its body runs every job it
/// receives there, with its own `Ctx`, so a test can act from inside the body.
fn adaptive(sched: &Scheduler) -> Component {
    let mut b = ComponentBuilder::new("Adaptive");
    // The declared boxes stay the component's even though their handles are dropped here.
    let _ = b.standard::<u32, u32>();
    let jobs = b.inbox::<Job>("jobs");
    let c = b.run(move |ctx| async move {
        loop {
            while let Some(job) = jobs.try_recv() {
                job(&ctx);
            }
            pause().await;
        }
    });
    sched.activate(&c).unwrap();
    sched.run_until_idle();
    c
}

/// Runs `f` inside `c`'s body (delivering the job wakes it) and returns its result.
fn in_body<R: Send + 'static>(sched: &Scheduler, c: &Component, f: impl FnOnce(&Ctx) -> R + Send + 'static) -> R {
    let slot = Arc::new(Mutex::new(None));
    let out = slot.clone();
    let job: Job = Box::new(move |ctx| *out.lock().unwrap() = Some(f(ctx)));
    c.inbox_ref::<Job>("jobs").unwrap().try_send(job).unwrap();
    sched.run_until_idle();
    let result = slot.lock().unwrap().take();
    result.expect("the body ran the job")
}

/// A body can add an inbox and an outbox at run time; a free name is kept as asked and
/// the new boxes are listed after the declared ones.
#[test]
fn a_body_can_add_inboxes_and_outboxes_at_run_time() {
    let sched = Scheduler::new();
    let c = adaptive(&sched);
    assert!(!c.has_box("extra"));

    let (i, o) = in_body(&sched, &c, |ctx| (ctx.add_inbox::<u32>("extra"), ctx.add_outbox::<u32>("report")));
    assert_eq!(i.name(), "extra");
    assert_eq!(o.name(), "report");
    assert_eq!(c.inbox_names(), ["inbox", "control", "jobs", "extra"]);
    assert_eq!(c.outbox_names(), ["outbox", "signal", "report"]);
}

/// Adding a box under a name already taken appends a number; the returned box's `name()` is
/// the real one, different from the one asked for, and each addition gets its own name.
#[test]
fn a_taken_name_gets_a_numeric_suffix_and_name_reports_the_real_one() {
    let sched = Scheduler::new();
    let c = adaptive(&sched);

    let (i1, i2, o1) = in_body(&sched, &c, |ctx| {
        (ctx.add_inbox::<u32>("inbox"), ctx.add_inbox::<u32>("inbox"), ctx.add_outbox::<u32>("outbox"))
    });
    for (name, base) in [(i1.name(), "inbox"), (i2.name(), "inbox"), (o1.name(), "outbox")] {
        assert_ne!(name, base);
        let suffix = name.strip_prefix(base).unwrap_or_else(|| panic!("{name:?} does not start with {base:?}"));
        assert!(
            !suffix.is_empty() && suffix.chars().all(|ch| ch.is_ascii_digit()),
            "{name:?} is not {base:?} plus a number"
        );
    }
    assert_ne!(i1.name(), i2.name());
    assert_eq!(c.inbox_names(), ["inbox", "control", "jobs", i1.name(), i2.name()]);
    assert_eq!(c.outbox_names(), ["outbox", "signal", o1.name()]);
}

/// Boxes added at run time can be linked by their real names from outside, once the body
/// has added them, and the body receives and sends through them.
#[test]
fn boxes_added_at_run_time_are_linkable_by_name_from_outside() {
    let names = Arc::new(Mutex::new(None));
    let published = names.clone();
    let mut b = ComponentBuilder::new("Doubler");
    let _ = b.standard::<u32, u32>();
    let doubler = b.run(move |ctx| async move {
        let inbox: Inbox<u32> = ctx.add_inbox("inbox");
        let outbox: Outbox<u32> = ctx.add_outbox("outbox");
        *published.lock().unwrap() = Some((inbox.name().to_string(), outbox.name().to_string()));
        loop {
            let n = inbox.recv().await;
            outbox.send(2 * n).await;
        }
    });
    let (src, s) = standard("Src");
    let (dst, d) = standard("Dst");

    let sched = Scheduler::new();
    sched.activate(&doubler).unwrap();
    sched.step();
    let (in_name, out_name) = names.lock().unwrap().clone().expect("the body ran");
    assert_ne!(in_name, "inbox");
    assert_ne!(out_name, "outbox");

    link((&src, "outbox"), (&doubler, &in_name)).unwrap();
    link((&doubler, &out_name), (&dst, "inbox")).unwrap();
    s.outbox.try_send(1).unwrap();
    s.outbox.try_send(21).unwrap();
    sched.run_until_idle();

    assert_eq!(d.inbox.drain().collect::<Vec<_>>(), [2, 42]);
    // The declared boxes of the same base names were not involved.
    assert_eq!(doubler.inbox_ref::<u32>("inbox").unwrap().len(), 0);
}

/// `delete_inbox` returns what the inbox still held, in order, and the box is gone: not
/// listed, not reachable by name.
#[test]
fn delete_inbox_returns_what_it_held_and_the_box_disappears() {
    let sched = Scheduler::new();
    let c = adaptive(&sched);
    let temp = in_body(&sched, &c, |ctx| ctx.add_inbox::<u32>("temp"));

    let direct = c.inbox_ref::<u32>("temp").unwrap();
    for n in 1..=3 {
        direct.try_send(n).unwrap();
    }
    let held = in_body(&sched, &c, move |ctx| ctx.delete_inbox(temp));

    assert_eq!(held, [1, 2, 3]);
    assert_eq!(c.inbox_names(), ["inbox", "control", "jobs"]);
    assert!(!c.has_box("temp"));
    let err = c.inbox_ref::<u32>("temp").unwrap_err();
    assert!(matches!(err.kind(), LinkErrorKind::NoSuchBox { .. }), "{err}");
}

/// Deleting a linked inbox unlinks it: a sender that fed it then keeps its messages in its
/// own outbox instead, and may be linked elsewhere.
#[test]
fn deleting_a_linked_inbox_unlinks_it_so_the_sender_buffers() {
    let sched = Scheduler::new();
    let c = adaptive(&sched);
    let temp = in_body(&sched, &c, |ctx| ctx.add_inbox::<u32>("temp"));
    let (src, s) = standard("Src");
    link((&src, "outbox"), (&c, "temp")).unwrap();
    s.outbox.try_send(1).unwrap();

    let held = in_body(&sched, &c, move |ctx| ctx.delete_inbox(temp));
    assert_eq!(held, [1]);
    assert!(!s.outbox.is_linked());

    s.outbox.try_send(2).unwrap();
    assert_eq!(s.outbox.buffered(), 1);

    let (other, o) = standard("Other");
    link((&src, "outbox"), (&other, "inbox")).unwrap();
    assert_eq!(o.inbox.drain().collect::<Vec<_>>(), [2]);
}

/// Deleting an inbox in the middle of a chain cuts both its links: what reached the end of
/// the chain stays there, and the sender buffers from then on.
#[test]
fn deleting_a_forwarding_inbox_cuts_the_chain_on_both_sides() {
    let sched = Scheduler::new();
    let c = adaptive(&sched);
    let temp = in_body(&sched, &c, |ctx| ctx.add_inbox::<u32>("temp"));
    let (src, s) = standard("Src");
    let (child, ch) = standard("Child");
    link((&src, "outbox"), (&c, "temp")).unwrap();
    link((&c, "temp"), (&child, "inbox")).unwrap();
    s.outbox.try_send(1).unwrap();

    let held = in_body(&sched, &c, move |ctx| ctx.delete_inbox(temp));
    assert!(held.is_empty());
    assert!(!s.outbox.is_linked());
    s.outbox.try_send(2).unwrap();
    assert_eq!(s.outbox.buffered(), 1);
    assert_eq!(ch.inbox.drain().collect::<Vec<_>>(), [1]);
}

/// `delete_outbox` returns what the outbox kept while unlinked; deleting a linked outbox
/// unlinks it, leaving other feeders of the same inbox linked.
#[test]
fn delete_outbox_returns_what_it_kept_and_unlinks_it() {
    let sched = Scheduler::new();
    let c = adaptive(&sched);
    let (kept, linked) = in_body(&sched, &c, |ctx| (ctx.add_outbox::<u32>("kept"), ctx.add_outbox::<u32>("linked")));
    kept.try_send(7).unwrap();
    kept.try_send(8).unwrap();
    let (other, so) = standard("Other");
    let (dst, d) = standard("Dst");
    link((&c, "linked"), (&dst, "inbox")).unwrap();
    link((&other, "outbox"), (&dst, "inbox")).unwrap();
    linked.try_send(1).unwrap();

    let kept_name = kept.name().to_string();
    let (held_kept, held_linked) = in_body(&sched, &c, move |ctx| (ctx.delete_outbox(kept), ctx.delete_outbox(linked)));
    assert_eq!(held_kept, [7, 8]);
    assert!(held_linked.is_empty());
    assert!(!c.has_box(&kept_name));
    assert!(!c.has_box("linked"));
    assert_eq!(c.outbox_names(), ["outbox", "signal"]);

    so.outbox.try_send(2).unwrap();
    assert_eq!(d.inbox.drain().collect::<Vec<_>>(), [1, 2]);
}
