//! What chassis build on: boxes declared like a child's, build-time linking through the
//! builder's `Ctx`, box information, and activation hooks.

use axon_core::{ActivateError, ComponentBuilder, Direction, LinkErrorKind, Scheduler, link};

fn doubler() -> axon_core::Component {
    let mut b = ComponentBuilder::new("Doubler");
    let io = b.standard::<i64, i64>();
    b.run(move |_| async move {
        loop {
            let x = io.inbox.recv().await;
            io.outbox.send(2 * x).await;
        }
    })
}

/// A box declared like a child's carries the child's message type, so a passthrough link
/// to it type-checks and delivers.
#[test]
fn a_box_declared_like_a_childs_carries_its_type_and_passes_through() {
    let child = doubler();
    let mut b = ComponentBuilder::new("Wrapper");
    b.declare_like("inbox", Direction::Inbox, (&child, "inbox")).unwrap();
    b.declare_like("outbox", Direction::Outbox, (&child, "outbox")).unwrap();
    let ctx = b.ctx();
    ctx.add_child(&child);
    ctx.link((&ctx.component(), "inbox"), (&child, "inbox")).unwrap();
    ctx.link((&child, "outbox"), (&ctx.component(), "outbox")).unwrap();
    let kid = child.clone();
    let wrapper = b.run(move |ctx| async move {
        ctx.activate(&kid).unwrap();
        ctx.wait_for_children().await;
    });
    assert_eq!(wrapper.box_info("inbox").unwrap().msg_type, "i64");
    assert_eq!(wrapper.box_info("outbox").unwrap().direction, Direction::Outbox);

    let mut b = ComponentBuilder::new("Sink");
    let sink_in = b.inbox::<i64>("inbox");
    let sink = b.run(|_| async {});
    link((&wrapper, "outbox"), (&sink, "inbox")).unwrap();
    wrapper.inbox_ref::<i64>("inbox").unwrap().try_send(21).unwrap();
    let sched = Scheduler::new();
    sched.activate(&wrapper).unwrap();
    sched.run_until_idle();
    assert_eq!(sink_in.try_recv(), Some(42));
    assert_eq!(child.parent().unwrap(), wrapper);
}

/// Declaring a box like a box that does not exist names the component and the box.
#[test]
fn declaring_like_an_unknown_box_is_an_error_naming_it() {
    let child = doubler();
    let mut b = ComponentBuilder::new("Wrapper");
    let err = b.declare_like("inbox", Direction::Inbox, (&child, "nope")).unwrap_err();
    assert!(matches!(err.kind(), LinkErrorKind::NoSuchBox { name, .. } if name == "nope"));
    assert!(err.to_string().contains(child.name()), "{err}");
}

/// Boxes added at run time like another's get a unique name and can be deleted by name.
#[test]
fn boxes_added_like_another_get_unique_names_and_can_be_deleted() {
    let model = doubler();
    let mut b = ComponentBuilder::new("Adaptive");
    let _io = b.standard::<i64, i64>();
    let ctx = b.ctx();
    let first = ctx.add_box_like("outbox", Direction::Outbox, (&model, "outbox")).unwrap();
    assert_ne!(first, "outbox", "the name is taken, so a number is appended");
    let c = b.run(|_| async {});
    assert_eq!(c.box_info(&first).unwrap().msg_type, "i64");
    assert!(ctx.delete_box(&first));
    assert!(!c.has_box(&first));
    assert!(!ctx.delete_box(&first));
}

/// An activation hook runs at activation, with the scheduler's services at hand.
#[test]
fn an_activation_hook_runs_at_activation_with_services() {
    let mut b = ComponentBuilder::new("Registrar");
    let _inbox = b.inbox::<String>("inbox");
    b.on_activate(|ctx| ctx.services().register("REG", &ctx.component(), "inbox").map_err(|e| e.to_string()));
    let c = b.run(|_| async {});
    let sched = Scheduler::new();
    assert!(sched.services().retrieve("REG").is_err(), "nothing is registered before activation");
    sched.activate(&c).unwrap();
    assert_eq!(sched.services().retrieve("REG").unwrap().0, c);
}

/// A hook that refuses makes activation fail with its reason, and the component ends
/// without its body ever running.
#[test]
fn a_refusing_hook_fails_activation_and_the_body_never_runs() {
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut b = ComponentBuilder::new("Refuser");
    b.on_activate(|_| Err("name already taken".to_string()));
    let flag = ran.clone();
    let c = b.run(move |_| async move { flag.store(true, std::sync::atomic::Ordering::SeqCst) });
    let sched = Scheduler::new();
    let err = sched.activate(&c).unwrap_err();
    assert!(matches!(&err, ActivateError::Refused { reason, .. } if reason == "name already taken"));
    assert!(err.to_string().contains(c.name()), "{err}");
    sched.run();
    assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    assert!(c.is_finished());
    assert_eq!(sched.live(), 0);
}

/// An outbox reports how many messages wait at its final destination, through a chain.
#[test]
fn an_outbox_reports_the_queue_length_at_its_final_destination() {
    let mut b = ComponentBuilder::new("Producer");
    let out = b.outbox::<u8>("outbox");
    let producer = b.run(|_| async {});
    let mut b = ComponentBuilder::new("Parent");
    let _pin = b.inbox::<u8>("inbox");
    let parent = b.run(|_| async {});
    let mut b = ComponentBuilder::new("Child");
    let child_in = b.inbox::<u8>("inbox");
    let child = b.run(|_| async {});
    out.try_send(1).unwrap();
    assert_eq!(out.queued(), 1, "unlinked: its own buffer");
    link((&producer, "outbox"), (&parent, "inbox")).unwrap();
    link((&parent, "inbox"), (&child, "inbox")).unwrap();
    out.try_send(2).unwrap();
    assert_eq!(out.queued(), 2);
    child_in.try_recv();
    assert_eq!(out.queued(), 1);
}

/// A message that records when it is dropped.
struct DropFlag(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A chassis built (children adopted, links recorded in its postoffice) but never activated
/// is freed with everything it holds once its handles are dropped: its linkages do not keep
/// it alive.
#[test]
fn a_chassis_built_but_never_activated_is_freed() {
    let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let mut b = ComponentBuilder::new("Child");
        let _inbox = b.inbox::<DropFlag>("inbox");
        let child = b.run(|_| async {});
        let mut b = ComponentBuilder::new("Chassis");
        b.declare_like("inbox", Direction::Inbox, (&child, "inbox")).unwrap();
        let ctx = b.ctx();
        ctx.add_child(&child);
        ctx.link((&ctx.component(), "inbox"), (&child, "inbox")).unwrap();
        let kid = child.clone();
        let chassis = b.run(move |ctx| async move {
            ctx.activate(&kid).unwrap();
        });
        chassis.inbox_ref::<DropFlag>("inbox").unwrap().try_send(DropFlag(dropped.clone())).unwrap();
        assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
    }
    assert!(dropped.load(std::sync::atomic::Ordering::SeqCst), "the chassis and its child were leaked");
}

/// `try_send_notify` hands a refused message back and has its component woken once space
/// appears, so the component can serve other inboxes meanwhile and retry.
#[test]
fn try_send_notify_wakes_the_sender_when_space_appears() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let polls = std::sync::Arc::new(AtomicUsize::new(0));
    let mut b = ComponentBuilder::new("Slow");
    let slow_in = b.inbox_with_capacity::<u8>("inbox", 1);
    let slow = b.run(|_| async {});
    let mut b = ComponentBuilder::new("Sender");
    let out = b.outbox::<u8>("outbox");
    let p = polls.clone();
    let sender = b.run(move |_| async move {
        let mut pending = vec![1u8, 2];
        while !pending.is_empty() {
            p.fetch_add(1, Ordering::SeqCst);
            match out.try_send_notify(pending[0]) {
                Ok(()) => {
                    pending.remove(0);
                }
                Err(full) => {
                    assert_eq!(full.into_inner(), pending[0]);
                    axon_core::pause().await;
                }
            }
        }
    });
    link((&sender, "outbox"), (&slow, "inbox")).unwrap();
    let sched = Scheduler::new();
    sched.activate(&sender).unwrap();
    sched.run_until_idle();
    assert!(sched.is_paused(&sender), "second message refused: the sender pauses");
    let before = polls.load(Ordering::SeqCst);
    assert_eq!(slow_in.try_recv(), Some(1));
    sched.run_until_idle();
    assert!(polls.load(Ordering::SeqCst) > before, "collecting a message woke the sender");
    assert_eq!(slow_in.try_recv(), Some(2));
    assert!(sender.is_finished());
}

/// `pause_for` resolves to true when a delivery wakes the component first, and to false
/// when the time runs out first.
#[test]
fn pause_for_tells_a_wake_from_a_timeout() {
    use std::time::Duration;
    let results = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut b = ComponentBuilder::new("Waiter");
    let inbox = b.inbox::<u8>("inbox");
    let r = results.clone();
    let waiter = b.run(move |_| async move {
        let woken = axon_core::pause_for(Duration::from_secs(60)).await;
        r.lock().unwrap().push((woken, inbox.try_recv()));
        let woken = axon_core::pause_for(Duration::from_millis(20)).await;
        r.lock().unwrap().push((woken, inbox.try_recv()));
    });
    let sched = Scheduler::new();
    sched.activate(&waiter).unwrap();
    sched.step();
    waiter.inbox_ref::<u8>("inbox").unwrap().try_send(7).unwrap();
    let start = std::time::Instant::now();
    sched.run();
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert_eq!(*results.lock().unwrap(), [(true, Some(7)), (false, None)]);
}
