//! Inbox ownership: a receive awaited by a component that did not declare the box fails loudly, naming the box and its owner, instead of hanging.

use axon_core::{ComponentBuilder, Scheduler};

#[test]
fn an_inbox_moved_into_another_components_body_fails_loudly_instead_of_hanging() {
    let mut b = ComponentBuilder::new("Owner");
    let inbox = b.inbox::<u32>("inbox");
    let owner = b.run(|_ctx| async {});

    // The Inbox is `Send`, so it can be moved into another component's body by mistake.
    let thief = ComponentBuilder::new("Thief").run(move |_ctx| async move {
        let _ = inbox.recv().await;
    });
    let sched = Scheduler::builder().report_panics(false).build();
    sched.activate(&thief).unwrap();
    sched.run_until_idle();
    assert!(thief.is_finished(), "the wait ended instead of hanging");
    let panics = sched.panics();
    assert_eq!(panics.len(), 1, "{panics:?}");
    let message = &panics[0].message;
    assert!(message.contains("\"inbox\""), "{message}");
    assert!(message.contains(owner.name()), "{message}");
    assert!(message.contains(&thief.id().to_string()), "{message}");
}

#[test]
fn the_owner_itself_waits_and_is_woken_by_a_delivery() {
    let mut b = ComponentBuilder::new("Owner");
    let inbox = b.inbox::<u32>("inbox");
    let got = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = got.clone();
    let owner = b.run(move |_ctx| async move {
        *seen.lock().unwrap() = Some(inbox.recv().await);
    });
    let sched = Scheduler::new();
    sched.activate(&owner).unwrap();
    sched.run_until_idle();
    assert!(!owner.is_finished());
    owner.inbox_ref::<u32>("inbox").unwrap().try_send(5).unwrap();
    sched.run_until_idle();
    assert_eq!(*got.lock().unwrap(), Some(5));
}
