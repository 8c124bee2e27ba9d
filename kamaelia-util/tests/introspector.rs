//! The Introspector sends `DEL ALL`, then the whole topology of its system in Axon's
//! visualiser protocol, then only what changed, looking on a timer rather than busily.

#[path = "common/split.rs"]
mod common_split;

use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ComponentState, Scheduler, Signal, link, pause, unlink};
use common_split::*;
use kamaelia_util::Introspector;

/// A component with one outbox `outbox` of `String`, waiting forever.
fn src() -> Component {
    let mut b = ComponentBuilder::new("Src");
    let _out = b.outbox::<String>("outbox");
    b.run(|_ctx| async {
        loop {
            pause().await;
        }
    })
}

/// A component with one inbox `inbox` of `String`, waiting forever.
fn sink_box() -> Component {
    let mut b = ComponentBuilder::new("Sink");
    let _inbox = b.inbox::<String>("inbox");
    b.run(|_ctx| async {
        loop {
            pause().await;
        }
    })
}

fn node(id: impl std::fmt::Display, name: &str, kind: &str) -> String {
    format!("ADD NODE \"{id}\" \"{name}\" randompos {kind}")
}

fn boxnode(c: &Component, dir: char, name: &str) -> String {
    let kind = if dir == 'i' { "inbox" } else { "outbox" };
    format!("ADD NODE \"({}, '{dir}', '{name}')\" \"{name}\" randompos {kind}", c.id())
}

fn boxid(c: &Component, dir: char, name: &str) -> String {
    format!("({}, '{dir}', '{name}')", c.id())
}

fn addlink(a: &str, b: &str) -> String {
    format!("ADD LINK \"{a}\" \"{b}\"")
}

fn own(c: &Component, dir: char, name: &str) -> String {
    addlink(&c.id().to_string(), &boxid(c, dir, name))
}

/// Protocol text from lines in any order: each section (`DEL LINK`, `DEL NODE`, `ADD NODE`,
/// `ADD LINK`, in that order) sorted, every line ending in a newline. The Introspector sends
/// each section sorted by node id, so this is its exact text.
fn text(lines: &[String]) -> String {
    let mut out = String::new();
    for prefix in ["DEL LINK ", "DEL NODE ", "ADD NODE ", "ADD LINK "] {
        let mut section: Vec<&String> = lines.iter().filter(|l| l.starts_with(prefix)).collect();
        section.sort_by_key(|l| sort_key(l));
        for l in section {
            out.push_str(l);
            out.push('\n');
        }
    }
    assert_eq!(out.lines().count(), lines.len(), "every expected line belongs to a section");
    out
}

/// Lines sort by their quoted ids (what the Introspector sorts by), not by the whole line.
fn sort_key(line: &str) -> Vec<String> {
    let tokens = kamaelia_util::split_tokens(line).expect("a well-formed line");
    if tokens[0] == "ADD" && tokens[1] == "NODE" { vec![tokens[2].clone()] } else { tokens[2..].to_vec() }
}

/// Every node and link of the introspector and the probe reading it.
fn introspector_and_probe(intro: &Component, probe: &Component) -> Vec<String> {
    vec![
        node(intro.id(), intro.name(), "component"),
        boxnode(intro, 'i', "inbox"),
        boxnode(intro, 'i', "control"),
        boxnode(intro, 'o', "outbox"),
        boxnode(intro, 'o', "signal"),
        own(intro, 'i', "inbox"),
        own(intro, 'i', "control"),
        own(intro, 'o', "outbox"),
        own(intro, 'o', "signal"),
        node(probe.id(), probe.name(), "component"),
        boxnode(probe, 'i', "inbox"),
        boxnode(probe, 'i', "control"),
        own(probe, 'i', "inbox"),
        own(probe, 'i', "control"),
        addlink(&boxid(intro, 'o', "outbox"), &boxid(probe, 'i', "inbox")),
    ]
}

#[test]
fn introspector_sends_del_all_then_the_whole_topology_of_a_known_system() {
    let (s, k) = (src(), sink_box());
    link((&s, "outbox"), (&k, "inbox")).unwrap();
    let intro = Introspector::new().build();
    let out = attach::<String>(&intro, "outbox", None);
    let sched = scheduler_with(&[&s, &k, &intro]);
    sched.run_until_idle();

    let mut expected = vec![
        node(s.id(), s.name(), "component"),
        boxnode(&s, 'o', "outbox"),
        own(&s, 'o', "outbox"),
        node(k.id(), k.name(), "component"),
        boxnode(&k, 'i', "inbox"),
        own(&k, 'i', "inbox"),
        addlink(&boxid(&s, 'o', "outbox"), &boxid(&k, 'i', "inbox")),
    ];
    expected.extend(introspector_and_probe(&intro, &out.component));
    assert_eq!(out.take(), ["DEL ALL\n".to_string(), text(&expected)]);
    assert!(s.name().starts_with("Src_"), "names are <kind>_<id>, as Axon's: {}", s.name());
}

#[test]
fn introspector_sends_only_the_new_link_after_a_link_and_only_its_removal_after_an_unlink() {
    let (s, k) = (src(), sink_box());
    let intro = Introspector::new().build();
    let out = attach::<String>(&intro, "outbox", None);
    let sched = scheduler_with(&[&s, &k, &intro]);
    sched.run_until_idle();
    assert_eq!(out.take().len(), 2, "DEL ALL and the topology");

    let linkage = link((&s, "outbox"), (&k, "inbox")).unwrap();
    intro.wake();
    sched.run_until_idle();
    let l = addlink(&boxid(&s, 'o', "outbox"), &boxid(&k, 'i', "inbox"));
    assert_eq!(out.take(), [format!("{l}\n")]);

    unlink(&linkage);
    intro.wake();
    sched.run_until_idle();
    assert_eq!(out.take(), [format!("DEL{}\n", &l[3..])]);
}

#[test]
fn introspector_sends_a_new_component_with_its_boxes_and_its_removal_when_it_ends() {
    let intro = Introspector::new().build();
    let out = attach::<String>(&intro, "outbox", None);
    let sched = scheduler_with(&[&intro]);
    sched.run_until_idle();
    out.take();

    // A component that ends when told: it has a control inbox.
    let mut b = ComponentBuilder::new("Worker");
    let control = b.control();
    let worker = b.run(move |_ctx| async move {
        control.recv().await;
    });
    sched.activate(&worker).unwrap();
    sched.run_until_idle();
    intro.wake();
    sched.run_until_idle();
    let added = text(&[
        node(worker.id(), worker.name(), "component"),
        boxnode(&worker, 'i', "control"),
        own(&worker, 'i', "control"),
    ]);
    assert_eq!(out.take(), [added]);

    put_control(&worker, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(worker.is_finished());
    intro.wake();
    sched.run_until_idle();
    let removed = format!(
        "DEL LINK \"{}\" \"{}\"\nDEL NODE \"{}\"\nDEL NODE \"{}\"\n",
        worker.id(),
        boxid(&worker, 'i', "control"),
        boxid(&worker, 'i', "control"),
        worker.id(),
    );
    assert_eq!(out.take(), [removed]);
}

#[test]
fn introspector_sends_nothing_and_stays_paused_while_nothing_changes() {
    let (s, k) = (src(), sink_box());
    link((&s, "outbox"), (&k, "inbox")).unwrap();
    let intro = Introspector::new().build();
    let out = attach::<String>(&intro, "outbox", None);
    let sched = scheduler_with(&[&s, &k, &intro]);
    sched.run_until_idle();
    assert_eq!(out.take().len(), 2);
    assert_eq!(intro.state(), ComponentState::Paused, "it waits for its timer, not busily");
    for _ in 0..5 {
        // Messages moving are not topology changes.
        k.inbox_ref::<String>("inbox").unwrap().try_send("moving".into()).unwrap();
        intro.wake();
        assert!(sched.run_until_idle() >= 1, "the wake made it look again");
        assert_eq!(intro.state(), ComponentState::Paused);
    }
    assert!(out.take().is_empty(), "no change, nothing sent");
}

#[test]
fn introspector_notices_a_change_on_its_timer_without_being_woken() {
    let (s, k) = (src(), sink_box());
    let intro = Introspector::new().interval(Duration::from_millis(20)).build();
    let out = attach::<String>(&intro, "outbox", Some("signal"));
    // Step mode: nothing but the timer can wake the introspector once the link is made.
    let sched = scheduler_with(&[&s, &k, &intro]);
    sched.run_until_idle();
    let first = out.take();
    assert_eq!(first[0], "DEL ALL\n");
    assert!(first[1].contains(&node(s.id(), s.name(), "component")));

    let started = Instant::now();
    link((&s, "outbox"), (&k, "inbox")).unwrap();
    // A link wakes nobody; stepping runs due timers, so step until the diff comes.
    while out.len() == 0 && started.elapsed() < LIMIT {
        sched.step();
    }
    let diff = out.take().concat();
    assert_eq!(diff, format!("{}\n", addlink(&boxid(&s, 'o', "outbox"), &boxid(&k, 'i', "inbox"))));
    put_control(&intro, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

#[test]
fn introspector_stops_at_once_on_shutdown_and_passes_it_on() {
    let intro = Introspector::new().build();
    let out = attach::<String>(&intro, "outbox", Some("signal"));
    let sched = scheduler_with(&[&intro]);
    sched.run_until_idle();
    put_control(&intro, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(intro.is_finished());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
}

#[test]
fn introspector_stops_on_producer_finished_and_passes_it_on() {
    let intro = Introspector::new().build();
    let out = attach::<String>(&intro, "outbox", Some("signal"));
    let sched = scheduler_with(&[&intro]);
    sched.run_until_idle();
    put_control(&intro, Signal::producer_finished());
    sched.run_until_idle();
    assert!(intro.is_finished());
    assert_eq!(out.signal_names(), ["producerFinished"]);
}

/// Other signals are passed on (the contract's one policy; Axon's Introspector ignores
/// them), and it carries on.
#[test]
fn introspector_passes_other_signals_on() {
    let intro = Introspector::new().build();
    let out = attach::<String>(&intro, "outbox", Some("signal"));
    let sched = scheduler_with(&[&intro]);
    sched.run_until_idle();
    put_control(&intro, Signal::Status("hello".into()));
    sched.run_until_idle();
    assert!(!intro.is_finished());
    assert_eq!(out.signal_names(), ["status"]);
}

#[test]
fn introspector_stuck_sending_into_a_full_box_still_stops_on_shutdown() {
    let intro = Introspector::new().build();
    let p = attach_bounded::<String>(&intro, "outbox", Some("signal"), 1);
    let sched = scheduler_with(&[&intro]);
    sched.run_until_idle();
    assert_eq!(p.len(), 1, "DEL ALL fills the box; the topology waits for room");
    assert!(!intro.is_finished());
    put_control(&intro, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(intro.is_finished());
    assert_eq!(p.signal_names(), ["shutdownMicroprocess"]);
}

#[test]
fn introspector_signal_reaches_the_next_component_in_a_chain() {
    let intro = Introspector::new().build();
    let (next, seen) = sink::<String>();
    chain(&intro, &next);
    let sched = scheduler_with(&[&intro, &next]);
    sched.run_until_idle();
    put_control(&intro, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(next.is_finished());
    assert_eq!(seen.signal_names(), ["shutdownMicroprocess"]);
    assert_eq!(seen.data()[0], "DEL ALL\n");
}

#[test]
fn introspector_can_leave_itself_out() {
    let s = src();
    let intro = Introspector::new().include_self(false).build();
    let out = attach::<String>(&intro, "outbox", None);
    let sched = scheduler_with(&[&s, &intro]);
    sched.run_until_idle();
    let got = out.take();
    // The probe stays (it is linked to no one now) but nothing of the introspector does.
    let expected = text(&[
        node(s.id(), s.name(), "component"),
        boxnode(&s, 'o', "outbox"),
        own(&s, 'o', "outbox"),
        node(out.component.id(), out.component.name(), "component"),
        boxnode(&out.component, 'i', "inbox"),
        boxnode(&out.component, 'i', "control"),
        own(&out.component, 'i', "inbox"),
        own(&out.component, 'i', "control"),
    ]);
    assert_eq!(got, ["DEL ALL\n".to_string(), expected]);
    assert!(!got[1].contains(&format!("\"{}\"", intro.id())));
}

#[test]
fn introspector_sends_names_with_control_characters_as_spaces() {
    let mut b = ComponentBuilder::named("two\nlines");
    let _inbox = b.inbox::<String>("in\rbox");
    let odd = b.run(|_ctx| async {
        loop {
            pause().await;
        }
    });
    let intro = Introspector::new().include_self(false).build();
    let out = attach::<String>(&intro, "outbox", None);
    let sched = scheduler_with(&[&odd, &intro]);
    sched.run_until_idle();
    let got = out.take().concat();
    assert!(got.contains(&node(odd.id(), "two lines", "component")), "{got}");
    assert!(got.contains(&boxnode(&odd, 'i', "in box")), "{got}");
    for line in got.lines() {
        assert!(kamaelia_util::split_tokens(line).is_ok(), "{line:?}");
    }
}

#[test]
fn introspector_boxes_show_in_a_snapshot_with_their_types() {
    let intro = Introspector::new().build();
    let sched = scheduler_with(&[&intro]);
    assert_eq!(snapshot_boxes(&sched.handle(), &intro), standard_boxes::<(), String>());
}

#[test]
fn introspector_leaves_out_links_to_boxes_whose_component_is_gone() {
    // A Handle keeps its sink's inboxes, not its sink: the introspector's outbox leads to a
    // box of a component no snapshot can show, so the link is left out too. (Step mode: on
    // a background scheduler the introspector could look before `handle` has dropped its
    // sink.)
    let sched = Scheduler::new();
    let intro = Introspector::new().build();
    let h = sched.handle().handle::<(), String>(&intro).unwrap();
    sched.run_until_idle();
    assert_eq!(h.try_get().as_deref(), Some("DEL ALL\n"));
    let text = h.try_get().expect("the topology");
    let nodes: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("ADD NODE"))
        .map(|l| kamaelia_util::split_tokens(l).unwrap()[2].clone())
        .collect();
    for l in text.lines().filter(|l| l.starts_with("ADD LINK")) {
        let t = kamaelia_util::split_tokens(l).unwrap();
        assert!(nodes.contains(&t[2]) && nodes.contains(&t[3]), "{l} links a node never added:\n{text}");
    }
    assert!(!text.contains(&format!("ADD LINK \"{}\"", boxid(&intro, 'o', "outbox"))), "{text}");
    h.put_control(Signal::ShutdownMicroprocess);
}
