//! The services registry (Axon's CoordinatingAssistantTracker): named services, tracked values, one registry per scheduler.

use std::sync::{Arc, Mutex};

use axon_core::{Component, ComponentBuilder, Scheduler, ServiceError, Services, yield_now};

/// A component with one `requests` inbox and one `responses` outbox; its body does nothing.
fn server(kind: &'static str) -> Component {
    let mut b = ComponentBuilder::new(kind);
    let _requests = b.inbox::<String>("requests");
    let _responses = b.outbox::<String>("responses");
    b.run(|_ctx| async {})
}

/// A registered service is retrieved as its component and inbox, listed by name, and gone
/// once deregistered.
#[test]
fn register_retrieve_deregister() {
    let services = Services::new();
    let a = server("A");
    let b = server("B");
    services.register("zeta", &a, "requests").unwrap();
    services.register("alpha", &b, "requests").unwrap();

    let (found, inbox) = services.retrieve("zeta").unwrap();
    assert_eq!(found, a);
    assert_eq!(inbox, "requests");
    assert_eq!(services.retrieve("alpha").unwrap().0, b);
    assert_eq!(services.services_registered(), ["alpha", "zeta"]);

    services.deregister("zeta").unwrap();
    assert_eq!(services.retrieve("zeta").unwrap_err(), ServiceError::UnknownService("zeta".into()));
    assert_eq!(services.services_registered(), ["alpha"]);

    // The name is free again.
    services.register("zeta", &b, "requests").unwrap();
    assert_eq!(services.retrieve("zeta").unwrap().0, b);
}

/// Registering a name already taken fails with ServiceAlreadyExists, even with the very same
/// component and inbox, and leaves the first registration in place.
#[test]
fn duplicate_name_is_refused_even_with_identical_args() {
    let services = Services::new();
    let a = server("A");
    let b = server("B");
    services.register("svc", &a, "requests").unwrap();

    assert_eq!(services.register("svc", &a, "requests"), Err(ServiceError::ServiceAlreadyExists("svc".into())));
    assert_eq!(services.register("svc", &b, "requests"), Err(ServiceError::ServiceAlreadyExists("svc".into())));
    assert_eq!(services.retrieve("svc").unwrap().0, a);
}

/// Registering a box the component does not have as an inbox (a missing name, or an outbox)
/// fails with BadInbox naming the service, the component and the box.
#[test]
fn unknown_inbox_is_refused_with_bad_inbox() {
    let services = Services::new();
    let a = server("A");

    for bad in ["nosuchbox", "responses"] {
        assert_eq!(
            services.register("svc", &a, bad),
            Err(ServiceError::BadInbox { service: "svc".into(), component: a.name().into(), inbox: bad.into() })
        );
    }
    assert!(services.services_registered().is_empty());
    let text = services.register("svc", &a, "nosuchbox").unwrap_err().to_string();
    assert!(text.contains(a.name()) && text.contains("nosuchbox"), "{text}");
}

/// Retrieving a name never registered fails with UnknownService.
#[test]
fn retrieve_unknown_is_unknown_service() {
    let services = Services::new();
    assert_eq!(services.retrieve("nobody").unwrap_err(), ServiceError::UnknownService("nobody".into()));
}

/// Deregistering a name not registered (never, or already removed) fails with
/// MultipleServiceDeletion.
#[test]
fn deregister_unknown_is_multiple_service_deletion() {
    let services = Services::new();
    assert_eq!(services.deregister("nobody"), Err(ServiceError::MultipleServiceDeletion("nobody".into())));
    services.register("svc", &server("A"), "requests").unwrap();
    services.deregister("svc").unwrap();
    assert_eq!(services.deregister("svc"), Err(ServiceError::MultipleServiceDeletion("svc".into())));
}

/// A tracked value is retrieved, updated and retrieved again; tracking it twice is a
/// NamespaceClash and leaves its value alone.
#[test]
fn values_are_tracked_updated_and_retrieved() {
    let services = Services::new();
    services.track_value("count", 5_i32).unwrap();
    services.track_value("label", String::from("hello")).unwrap();
    assert_eq!(services.retrieve_value::<i32>("count"), Ok(5));
    assert_eq!(services.retrieve_value::<String>("label").as_deref(), Ok("hello"));

    services.update_value("count", 6_i32).unwrap();
    assert_eq!(services.retrieve_value::<i32>("count"), Ok(6));

    assert_eq!(services.track_value("count", 100_i32), Err(ServiceError::NamespaceClash("count".into())));
    assert_eq!(services.retrieve_value::<i32>("count"), Ok(6));
    assert_eq!(services.values_tracked(), ["count", "label"]);
}

/// Updating or retrieving a value that was never tracked fails with
/// AccessToUndeclaredTrackedVariable, and the update does not create it.
#[test]
fn untracked_values_are_access_to_undeclared_tracked_variable() {
    let services = Services::new();
    assert_eq!(
        services.update_value("ghost", 1_u8),
        Err(ServiceError::AccessToUndeclaredTrackedVariable("ghost".into()))
    );
    assert_eq!(
        services.retrieve_value::<u8>("ghost"),
        Err(ServiceError::AccessToUndeclaredTrackedVariable("ghost".into()))
    );
    assert!(services.values_tracked().is_empty());
}

/// Retrieving a tracked value as another type fails with WrongValueType naming the value
/// and the type asked for.
#[test]
fn retrieving_as_another_type_is_wrong_value_type() {
    let services = Services::new();
    services.track_value("count", 5_i32).unwrap();
    assert_eq!(
        services.retrieve_value::<String>("count"),
        Err(ServiceError::WrongValueType { name: "count".into(), wanted: std::any::type_name::<String>() })
    );
    assert_eq!(services.retrieve_value::<i32>("count"), Ok(5));
}

/// Each scheduler has its own registry: the same service and value names registered on two
/// schedulers do not collide, and each retrieves its own.
#[test]
fn each_scheduler_has_its_own_registry() {
    let one = Scheduler::new();
    let two = Scheduler::new();
    let a = server("A");
    let b = server("B");

    one.services().register("svc", &a, "requests").unwrap();
    two.services().register("svc", &b, "requests").unwrap();
    one.services().track_value("port", 1500_u16).unwrap();
    two.services().track_value("port", 1501_u16).unwrap();

    assert_eq!(one.services().retrieve("svc").unwrap().0, a);
    assert_eq!(two.services().retrieve("svc").unwrap().0, b);
    assert_eq!(one.services().retrieve_value::<u16>("port"), Ok(1500));
    assert_eq!(two.services().retrieve_value::<u16>("port"), Ok(1501));

    one.services().deregister("svc").unwrap();
    assert_eq!(two.services().retrieve("svc").unwrap().0, b);
}

/// A component registers itself as a service through `ctx.services()` while running; another
/// finds it there by name at run time and delivers to it through `inbox_ref`, with no link.
#[test]
fn component_finds_a_service_at_run_time_and_delivers_to_it() {
    let received = Arc::new(Mutex::new(Vec::new()));

    let mut b = ComponentBuilder::new("EchoService");
    let requests = b.inbox::<String>("requests");
    let got = received.clone();
    let service = b.run(move |ctx| async move {
        ctx.services().register("echo", &ctx.component(), "requests").unwrap();
        for _ in 0..3 {
            let r = requests.recv().await;
            got.lock().unwrap().push(r);
        }
        ctx.services().deregister("echo").unwrap();
    });

    let looked_up = Arc::new(Mutex::new(None));
    let b = ComponentBuilder::new("Client");
    let found = looked_up.clone();
    let client = b.run(move |ctx| async move {
        // The service registers itself on its first turn; wait for it without assuming order.
        let (svc, inbox) = loop {
            match ctx.services().retrieve("echo") {
                Ok(found) => break found,
                Err(ServiceError::UnknownService(_)) => yield_now().await,
                Err(e) => panic!("{e}"),
            }
        };
        *found.lock().unwrap() = Some((svc.id(), inbox.clone()));
        let to = svc.inbox_ref::<String>(&inbox).unwrap();
        for word in ["one", "two", "three"] {
            to.send(word.to_string()).await;
        }
    });

    let sched = Scheduler::new();
    sched.activate(&client).unwrap();
    sched.activate(&service).unwrap();
    sched.run();

    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
    assert_eq!(*looked_up.lock().unwrap(), Some((service.id(), "requests".to_string())));
    assert_eq!(*received.lock().unwrap(), ["one", "two", "three"]);
    // It was the scheduler's own registry: the service removed itself from it.
    assert!(sched.services().services_registered().is_empty());
}
