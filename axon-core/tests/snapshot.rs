//! Introspection: `Snapshot` contents, the Introspector protocol and its diffs, JSON and DOT exports, and deadlock detection.

use std::collections::BTreeSet;

use axon_core::{
    BoxAddr, BoxInfo, Component, ComponentBuilder, ComponentInfo, ComponentState, Deadlock, Direction, LinkInfo,
    LinkKind, Scheduler, Signal, Snapshot, link, pause, unlink,
};

/// A body that pauses forever, so a component stays put for inspection.
async fn idle_forever() {
    loop {
        pause().await;
    }
}

/// The known system:
///
/// ```text
/// Source.outbox -> Sink.inbox (capacity 5)      Parent.inbox  => Child.inbox   (inbox passthrough)
/// Source.signal -> Sink.control                 Child.outbox  => Parent.outbox (outbox passthrough)
/// ```
///
/// Created in that order (Source, Sink, Child, Parent), so their ids ascend the same way.
/// Source sends 1, 2, 3; Sink takes one. Parent adopts Child, makes both passthrough links
/// and activates it. Everything then pauses.
struct System {
    sched: Scheduler,
    source: Component,
    sink: Component,
    parent: Component,
    child: Component,
}

fn known_system() -> System {
    let mut b = ComponentBuilder::new("Source");
    let out = b.outbox::<u32>("outbox");
    let _sig = b.signal();
    let source = b.run(move |_ctx| async move {
        for n in 1..=3 {
            out.send(n).await;
        }
        idle_forever().await;
    });

    let mut b = ComponentBuilder::new("Sink");
    let inbox = b.inbox_with_capacity::<u32>("inbox", 5);
    let _control = b.control();
    let _extra = b.inbox::<u32>("extra");
    let sink = b.run(move |_ctx| async move {
        let _first = inbox.recv().await;
        idle_forever().await;
    });

    let mut b = ComponentBuilder::new("Child");
    let _inbox = b.inbox::<u32>("inbox");
    let _outbox = b.outbox::<u32>("outbox");
    let child = b.run(|_ctx| idle_forever());

    let mut b = ComponentBuilder::new("Parent");
    let _inbox = b.inbox::<u32>("inbox");
    let _outbox = b.outbox::<u32>("outbox");
    let adopted = child.clone();
    let parent = b.run(move |ctx| async move {
        let me = ctx.component();
        ctx.add_child(&adopted);
        ctx.link((&me, "inbox"), (&adopted, "inbox")).unwrap();
        ctx.link((&adopted, "outbox"), (&me, "outbox")).unwrap();
        ctx.activate(&adopted).unwrap();
        idle_forever().await;
    });

    link((&source, "outbox"), (&sink, "inbox")).unwrap();
    link((&source, "signal"), (&sink, "control")).unwrap();

    let sched = Scheduler::new();
    for c in [&source, &sink, &parent] {
        sched.activate(c).unwrap();
    }
    sched.run_until_idle();
    System { sched, source, sink, parent, child }
}

fn addr(c: &Component, name: &str) -> BoxAddr {
    BoxAddr { component: c.id(), name: name.into() }
}

fn boxinfo<T>(name: &str, direction: Direction, len: usize, capacity: Option<usize>, through: u64) -> BoxInfo {
    BoxInfo { name: name.into(), direction, msg_type: std::any::type_name::<T>().into(), len, capacity, through }
}

/// The snapshot lists every component with its id, name, parent, state and boxes (type,
/// length, capacity, messages through), and every link with its kind.
#[test]
fn snapshot_lists_components_boxes_and_links() {
    let s = known_system();
    let snap = s.sched.snapshot();

    let info = |c: &Component, parent: Option<&Component>, boxes: Vec<BoxInfo>| ComponentInfo {
        id: c.id(),
        name: c.name().into(),
        parent: parent.map(Component::id),
        state: ComponentState::Paused,
        threaded: false,
        boxes,
        waiting_for: None,
    };
    use Direction::{Inbox, Outbox};
    let expected = vec![
        info(
            &s.source,
            None,
            vec![boxinfo::<u32>("outbox", Outbox, 0, None, 0), boxinfo::<Signal>("signal", Outbox, 0, None, 0)],
        ),
        info(
            &s.sink,
            None,
            vec![
                boxinfo::<u32>("inbox", Inbox, 2, Some(5), 3),
                boxinfo::<Signal>("control", Inbox, 0, None, 0),
                boxinfo::<u32>("extra", Inbox, 0, None, 0),
            ],
        ),
        info(
            &s.child,
            Some(&s.parent),
            vec![boxinfo::<u32>("inbox", Inbox, 0, None, 0), boxinfo::<u32>("outbox", Outbox, 0, None, 0)],
        ),
        info(
            &s.parent,
            None,
            vec![boxinfo::<u32>("inbox", Inbox, 0, None, 0), boxinfo::<u32>("outbox", Outbox, 0, None, 0)],
        ),
    ];
    assert_eq!(snap.components, expected);
    assert!(snap.components[0].name.starts_with("Source_"));
    assert_eq!(snap.components[0].name, format!("Source_{}", s.source.id()));

    let mut expected_links = vec![
        LinkInfo { source: addr(&s.source, "outbox"), sink: addr(&s.sink, "inbox"), kind: LinkKind::Normal },
        LinkInfo { source: addr(&s.source, "signal"), sink: addr(&s.sink, "control"), kind: LinkKind::Normal },
        LinkInfo { source: addr(&s.parent, "inbox"), sink: addr(&s.child, "inbox"), kind: LinkKind::InboxPassthrough },
        LinkInfo {
            source: addr(&s.child, "outbox"),
            sink: addr(&s.parent, "outbox"),
            kind: LinkKind::OutboxPassthrough,
        },
    ];
    expected_links.sort();
    assert_eq!(snap.links, expected_links);
}

/// The Introspector text starts with `DEL ALL`, then has exactly one `ADD NODE` per component
/// and per box and one `ADD LINK` per component-to-box edge and per link (reference §1.15),
/// every `ADD NODE` before any `ADD LINK`.
#[test]
fn introspector_text_lists_exactly_the_expected_nodes_and_links() {
    let s = known_system();
    let text = s.sched.snapshot().to_introspector();

    assert!(text.starts_with("DEL ALL\n"), "{text}");
    assert!(text.ends_with('\n'), "{text}");

    let (src, snk, par, chi) = (s.source.id(), s.sink.id(), s.parent.id(), s.child.id());
    let mut expected: Vec<String> = Vec::new();
    let component = |id, name: &str| format!("ADD NODE \"{id}\" \"{name}\" randompos component");
    let boxnode = |id, d: char, b: &str| {
        let kind = if d == 'i' { "inbox" } else { "outbox" };
        format!("ADD NODE \"({id}, '{d}', '{b}')\" \"{b}\" randompos {kind}")
    };
    let owns = |id, d: char, b: &str| format!("ADD LINK \"{id}\" \"({id}, '{d}', '{b}')\"");
    let wire = |a, ad: char, ab: &str, b, bd: char, bb: &str| {
        format!("ADD LINK \"({a}, '{ad}', '{ab}')\" \"({b}, '{bd}', '{bb}')\"")
    };
    let boxes: [(_, &Component, &[(char, &str)]); 4] = [
        (src, &s.source, &[('o', "outbox"), ('o', "signal")]),
        (snk, &s.sink, &[('i', "inbox"), ('i', "control"), ('i', "extra")]),
        (chi, &s.child, &[('i', "inbox"), ('o', "outbox")]),
        (par, &s.parent, &[('i', "inbox"), ('o', "outbox")]),
    ];
    for (id, c, bs) in boxes {
        expected.push(component(id, c.name()));
        for (d, b) in bs {
            expected.push(boxnode(id, *d, b));
            expected.push(owns(id, *d, b));
        }
    }
    expected.push(wire(src, 'o', "outbox", snk, 'i', "inbox"));
    expected.push(wire(src, 'o', "signal", snk, 'i', "control"));
    expected.push(wire(par, 'i', "inbox", chi, 'i', "inbox"));
    expected.push(wire(chi, 'o', "outbox", par, 'o', "outbox"));

    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines.len(), expected.len(), "{text}");
    let got: BTreeSet<&str> = lines.iter().copied().collect();
    let want: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(got, want);

    let last_node = lines.iter().rposition(|l| l.starts_with("ADD NODE")).unwrap();
    let first_link = lines.iter().position(|l| l.starts_with("ADD LINK")).unwrap();
    assert!(last_node < first_link, "{text}");
}

/// `introspector_diff` against the previous snapshot shows only `ADD LINK` after a link,
/// only `DEL LINK` after an unlink, and nothing when nothing changed.
#[test]
fn introspector_diff_shows_only_what_changed() {
    let s = known_system();
    let before = s.sched.snapshot();
    assert_eq!(s.sched.snapshot().introspector_diff(&before), "");

    let l = link((&s.parent, "outbox"), (&s.sink, "extra")).unwrap();
    let linked = s.sched.snapshot();
    let wire = format!("\"({}, 'o', 'outbox')\" \"({}, 'i', 'extra')\"", s.parent.id(), s.sink.id());
    assert_eq!(linked.introspector_diff(&before), format!("ADD LINK {wire}\n"));
    assert_eq!(s.sched.snapshot().introspector_diff(&linked), "");

    unlink(&l);
    let unlinked = s.sched.snapshot();
    assert_eq!(unlinked.introspector_diff(&linked), format!("DEL LINK {wire}\n"));
    assert_eq!(unlinked.introspector_diff(&before), "");
}

/// A snapshot serialises to JSON and deserialises back to an equal snapshot.
#[test]
fn snapshot_round_trips_through_json() {
    let s = known_system();
    let snap = s.sched.snapshot();
    let json = snap.to_json();
    let back: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snap);
    assert!(json.contains("\"paused\""), "{json}");
    assert!(json.contains("\"inbox_passthrough\""), "{json}");
    assert_eq!(serde_json::to_string(&snap).unwrap(), serde_json::to_string(&back).unwrap());
}

/// The DOT export is a `digraph` that names every component and has one edge per link.
#[test]
fn dot_output_is_a_digraph_with_every_component_and_an_edge_per_link() {
    let s = known_system();
    let snap = s.sched.snapshot();
    let dot = snap.to_dot();
    assert!(dot.trim_start().starts_with("digraph"), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
    for c in [&s.source, &s.sink, &s.parent, &s.child] {
        assert!(dot.contains(c.name()), "{} missing from\n{dot}", c.name());
    }
    let edges = dot.lines().filter(|l| l.contains("->")).count();
    assert_eq!(edges, snap.links.len(), "{dot}");
    assert_eq!(edges, 4);
}

/// A component that was linked but never activated appears in the snapshot (state Created)
/// when a link leads to it from an activated one, or from it to an activated one.
#[test]
fn linked_but_unactivated_components_appear_in_the_snapshot() {
    let mut b = ComponentBuilder::new("Middle");
    let inbox = b.inbox::<u32>("inbox");
    let _out = b.outbox::<u32>("outbox");
    let middle = b.run(move |_ctx| async move {
        let _ = inbox.recv().await;
    });

    let mut b = ComponentBuilder::new("Downstream");
    let _inbox = b.inbox::<u32>("inbox");
    let downstream = b.run(|_ctx| async {});

    let mut b = ComponentBuilder::new("Upstream");
    let _out = b.outbox::<u32>("outbox");
    let upstream = b.run(|_ctx| async {});

    let mut b = ComponentBuilder::new("Unrelated");
    let _inbox = b.inbox::<u32>("inbox");
    let unrelated = b.run(|_ctx| async {});

    link((&upstream, "outbox"), (&middle, "inbox")).unwrap();
    link((&middle, "outbox"), (&downstream, "inbox")).unwrap();

    let sched = Scheduler::new();
    sched.activate(&middle).unwrap();
    sched.run_until_idle();

    let snap = sched.snapshot();
    let state_of = |c: &Component| snap.components.iter().find(|i| i.id == c.id()).map(|i| i.state);
    assert_eq!(state_of(&middle), Some(ComponentState::Paused));
    assert_eq!(state_of(&downstream), Some(ComponentState::Created));
    assert_eq!(state_of(&upstream), Some(ComponentState::Created));
    assert_eq!(state_of(&unrelated), None);
    assert_eq!(snap.links.len(), 2);
    let text = snap.to_introspector();
    for c in [&upstream, &middle, &downstream] {
        assert!(text.contains(&format!("ADD NODE \"{}\" \"{}\"", c.id(), c.name())), "{text}");
    }
}

/// A component whose body blocks in `send().await` into `to`'s inbox (capacity 1,
/// pre-filled) and never reads its own.
fn blocked_sender(kind: &'static str) -> Component {
    let mut b = ComponentBuilder::new(kind);
    let _inbox = b.inbox_with_capacity::<u32>("inbox", 1);
    let out = b.outbox::<u32>("outbox");
    b.run(move |_ctx| async move {
        out.send(1).await;
    })
}

/// Two components each blocked sending into the other's full inbox are reported by
/// `detect_deadlocks`, naming both components and the boxes they wait on.
#[test]
fn two_components_blocked_on_each_others_full_inbox_are_a_deadlock() {
    let a = blocked_sender("Alpha");
    let b = blocked_sender("Beta");
    for c in [&a, &b] {
        c.inbox_ref::<u32>("inbox").unwrap().try_send(0).unwrap();
    }
    link((&a, "outbox"), (&b, "inbox")).unwrap();
    link((&b, "outbox"), (&a, "inbox")).unwrap();

    let sched = Scheduler::new();
    sched.activate(&a).unwrap();
    sched.activate(&b).unwrap();
    sched.run_until_idle();
    assert_eq!(a.state(), ComponentState::Paused);
    assert_eq!(b.state(), ComponentState::Paused);

    let deadlocks = sched.detect_deadlocks();
    assert_eq!(
        deadlocks,
        vec![Deadlock {
            cycle: vec![(a.name().to_string(), addr(&b, "inbox")), (b.name().to_string(), addr(&a, "inbox")),]
        }]
    );
    assert_eq!(sched.snapshot().deadlocks(), deadlocks);
    let text = deadlocks[0].to_string();
    assert!(text.contains(a.name()) && text.contains(b.name()), "{text}");
}

/// A component blocked sending into a full inbox whose owner is not itself blocked (no
/// cycle) is not a deadlock, though the snapshot shows what it waits on.
#[test]
fn a_blocked_sender_without_a_cycle_is_not_a_deadlock() {
    let a = blocked_sender("Alpha");
    let mut builder = ComponentBuilder::new("Beta");
    let _inbox = builder.inbox_with_capacity::<u32>("inbox", 1);
    let b = builder.run(|_ctx| idle_forever());
    b.inbox_ref::<u32>("inbox").unwrap().try_send(0).unwrap();
    link((&a, "outbox"), (&b, "inbox")).unwrap();

    let sched = Scheduler::new();
    sched.activate(&a).unwrap();
    sched.activate(&b).unwrap();
    sched.run_until_idle();

    let snap = sched.snapshot();
    let a_info = snap.components.iter().find(|c| c.id == a.id()).unwrap();
    assert_eq!(a_info.waiting_for, Some(addr(&b, "inbox")));
    assert!(sched.detect_deadlocks().is_empty());
    assert!(snap.deadlocks().is_empty());
}

/// A link to a box whose component is gone (an inbox kept alive by the link alone) is left
/// out of the snapshot, so the exports never name a node they did not add.
#[test]
fn links_to_components_that_are_gone_are_left_out() {
    let mut b = axon_core::ComponentBuilder::new("Source");
    let _out = b.outbox::<u8>("outbox");
    let source = b.run(|_| async {});
    {
        let mut b = axon_core::ComponentBuilder::new("Gone");
        let _inbox = b.inbox::<u8>("inbox");
        let gone = b.run(|_| async {});
        axon_core::link((&source, "outbox"), (&gone, "inbox")).unwrap();
    }
    let sched = axon_core::Scheduler::new();
    sched.activate(&source).unwrap();
    let snap = sched.snapshot();
    assert!(snap.links.is_empty(), "{:?}", snap.links);
    assert!(!snap.to_introspector().contains("ADD LINK \"("), "{}", snap.to_introspector());
}

/// A component name with a newline in it cannot split an Introspector command line.
#[test]
fn control_characters_in_names_do_not_break_protocol_lines() {
    let mut b = axon_core::ComponentBuilder::named("two\nlines");
    let _inbox = b.inbox::<u8>("inbox");
    let c = b.run(|_| async {});
    let sched = axon_core::Scheduler::new();
    sched.activate(&c).unwrap();
    let text = sched.snapshot().to_introspector();
    for line in text.lines() {
        assert!(line == "DEL ALL" || line.starts_with("ADD "), "a broken line: {line:?}");
    }
    assert!(text.contains("\"two lines\""), "{text}");
}
