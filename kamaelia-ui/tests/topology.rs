//! The AxonVisualiser's parts without a window: the visualiser protocol's commands build the
//! topology model (and bad ones are refused with a clear error, changing nothing); the
//! force-directed layout settles with linked nodes closer than unlinked ones, and stays cheap
//! with thousands of nodes; rendering puts labels, boxes and links where the view says; the
//! TopologyViewer component draws what arrives on a null display and lets nodes be dragged.

mod common;

use axon_core::{Scheduler, Signal};
use common::{LIMIT, control, event, shows_text, snapshot_boxes, stepped, tap, window_component_boxes};
use kamaelia_ui::{
    Command, Event, LABEL_HEIGHT, Layout, MouseButton, NodeKey, NodeKind, NullDisplay, PositionSpec, Rect, Rgb,
    Surface, Topology, TopologyEvent, TopologyMessage, TopologyStyle, TopologyViewer, View, component_label_rect,
    draw_line, render,
};

fn toks(line: &str) -> Vec<String> {
    // The lines in these tests quote only tokens without escapes: split on quotes, then spaces.
    let mut out = Vec::new();
    for (i, part) in line.split('"').enumerate() {
        if i % 2 == 1 {
            out.push(part.to_string());
        } else {
            out.extend(part.split_whitespace().map(String::from));
        }
    }
    out
}

fn apply(topo: &mut Topology, source: u64, lines: &[&str]) {
    for l in lines {
        topo.apply_tokens(source, &toks(l)).unwrap_or_else(|e| panic!("{l}: {e}"));
    }
}

fn key(source: u64, id: &str) -> NodeKey {
    NodeKey::new(source, id)
}

/// A component `id` named `name` with an inbox and an outbox, as the Introspector sends it.
fn component(id: u32, name: &str) -> Vec<String> {
    vec![
        format!("ADD NODE \"{id}\" \"{name}\" randompos component"),
        format!("ADD NODE \"({id}, 'i', 'inbox')\" \"inbox\" randompos inbox"),
        format!("ADD NODE \"({id}, 'o', 'outbox')\" \"outbox\" randompos outbox"),
        format!("ADD LINK \"{id}\" \"({id}, 'i', 'inbox')\""),
        format!("ADD LINK \"{id}\" \"({id}, 'o', 'outbox')\""),
    ]
}

fn link_line(from: u32, to: u32) -> String {
    format!("ADD LINK \"({from}, 'o', 'outbox')\" \"({to}, 'i', 'inbox')\"")
}

fn topology_of(lines: &[String]) -> Topology {
    let mut topo = Topology::new();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    apply(&mut topo, 1, &refs);
    topo
}

fn dist(layout: &Layout, a: &NodeKey, b: &NodeKey) -> f32 {
    let (p, q) = (layout.position(a).unwrap(), layout.position(b).unwrap());
    ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt()
}

// ---- The model ----

#[test]
fn protocol_commands_add_and_remove_nodes_and_links() {
    let mut topo = Topology::new();
    apply(
        &mut topo,
        1,
        &[
            "DEL ALL",
            "ADD NODE \"5\" \"Src_5\" randompos component",
            "ADD NODE \"(5, 'o', 'outbox')\" \"outbox\" randompos outbox",
            "ADD NODE \"6\" \"Sink_6\" 10,-20 component",
            "ADD NODE \"(6, 'i', 'inbox')\" \"inbox\" auto inbox",
            "ADD LINK \"5\" \"(5, 'o', 'outbox')\"",
            "ADD LINK \"6\" \"(6, 'i', 'inbox')\"",
            "ADD LINK \"(5, 'o', 'outbox')\" \"(6, 'i', 'inbox')\"",
        ],
    );
    assert_eq!(topo.node_count(), 4);
    assert_eq!(topo.link_count(), 3);
    let n = topo.node(&key(1, "6")).unwrap();
    assert_eq!((n.name.as_str(), &n.kind, n.position), ("Sink_6", &NodeKind::Component, PositionSpec::At(10, -20)));
    assert!(topo.has_link(&key(1, "(5, 'o', 'outbox')"), &key(1, "(6, 'i', 'inbox')")));

    apply(&mut topo, 1, &["DEL LINK \"(5, 'o', 'outbox')\" \"(6, 'i', 'inbox')\""]);
    assert_eq!(topo.link_count(), 2);
    // Removing a node removes its links.
    apply(&mut topo, 1, &["DEL NODE \"6\""]);
    assert_eq!(topo.node_count(), 3);
    assert_eq!(topo.link_count(), 1);
    apply(&mut topo, 1, &["DEL ALL"]);
    assert!(topo.is_empty());
    assert_eq!(topo.link_count(), 0);
}

#[test]
fn commands_match_their_first_two_words_in_any_case_and_relabel_and_freeze() {
    let mut topo = Topology::new();
    apply(&mut topo, 1, &["add node \"a\" \"A\" RandomPos component", "UPDATE_NAME NODE \"a\" \"Renamed\""]);
    assert_eq!(topo.node(&key(1, "a")).unwrap().name, "Renamed");
    apply(&mut topo, 1, &["FREEZE ALL"]);
    assert!(topo.is_frozen());
    apply(&mut topo, 1, &["UNFREEZE ALL"]);
    assert!(!topo.is_frozen());
    // A type the AxonVisualiser does not know is kept as a plain node.
    apply(&mut topo, 1, &["ADD NODE \"x\" \"X\" randompos -"]);
    assert_eq!(topo.node(&key(1, "x")).unwrap().kind, NodeKind::Other("-".into()));
}

#[test]
fn malformed_commands_are_refused_with_a_clear_error_and_change_nothing() {
    let mut topo = Topology::new();
    apply(&mut topo, 1, &["ADD NODE \"a\" \"A\" randompos component", "ADD NODE \"b\" \"B\" randompos inbox"]);
    let generation = topo.generation();
    let cases: &[(&[&str], &str)] = &[
        (&["HELLO"], "at least two words"),
        (&["ADD", "THING", "x"], "unknown command ADD THING"),
        (&["ADD", "NODE", "c", "C", "randompos"], "expected `ADD NODE id name posSpec type` (6 words), got 5"),
        (&["ADD", "NODE", "c", "C", "nowhere", "component"], "bad position \"nowhere\""),
        (&["ADD", "LINK", "a"], "expected `ADD LINK from to` (4 words), got 3"),
        (&["ADD", "LINK", "a", "zz"], "no node \"zz\""),
        (&["ADD", "LINK", "a", "a"], "to itself"),
        (&["DEL", "NODE", "zz"], "no node \"zz\""),
        (&["DEL", "LINK", "a", "b"], "no link from \"a\" to \"b\""),
        (&["DEL", "ALL", "now"], "expected `DEL ALL` (2 words), got 3"),
        (&["UPDATE_NAME", "NODE", "zz", "Z"], "no node \"zz\""),
    ];
    for (tokens, want) in cases {
        let e = topo.apply_tokens(1, tokens).expect_err("refused");
        let shown = e.to_string();
        assert!(shown.contains(want), "{tokens:?}: {shown:?} should say {want:?}");
        assert!(shown.starts_with("bad command ["), "{shown}");
        assert_eq!(e.tokens, tokens.iter().map(|t| t.to_string()).collect::<Vec<_>>());
    }
    assert_eq!(topo.generation(), generation, "nothing changed");
    assert_eq!((topo.node_count(), topo.link_count()), (2, 0));
}

#[test]
fn each_system_has_its_own_ids_and_del_all_clears_only_its_own() {
    let mut topo = Topology::new();
    apply(&mut topo, 1, &["ADD NODE \"5\" \"One_5\" randompos component"]);
    apply(&mut topo, 2, &["ADD NODE \"5\" \"Two_5\" randompos component"]);
    assert_eq!(topo.node_count(), 2);
    assert_eq!(topo.node(&key(2, "5")).unwrap().name, "Two_5");
    // A link may not cross systems: "5" in system 2 is not system 1's.
    apply(&mut topo, 2, &["ADD NODE \"6\" \"Two_6\" randompos component", "ADD LINK \"5\" \"6\""]);
    assert!(topo.has_link(&key(2, "5"), &key(2, "6")));
    apply(&mut topo, 2, &["DEL ALL"]);
    assert_eq!(topo.nodes().map(|(k, _)| k.clone()).collect::<Vec<_>>(), [key(1, "5")]);
    assert!(topo.remove_source(1));
    assert!(topo.is_empty());
    assert!(!topo.remove_source(1), "nothing left to remove");
}

#[test]
fn the_topology_exports_as_one_json_line_and_as_dot() {
    let mut topo = Topology::new();
    let odd = Command::AddNode {
        id: "5".into(),
        name: "Src \"x\"\\_5".into(),
        position: PositionSpec::Auto,
        kind: NodeKind::Component,
    };
    topo.apply(1, &odd).unwrap();
    apply(
        &mut topo,
        1,
        &["ADD NODE \"(5, 'o', 'outbox')\" \"outbox\" randompos outbox", "ADD LINK \"5\" \"(5, 'o', 'outbox')\""],
    );
    assert_eq!(
        topo.to_json(),
        r#"{"nodes":[{"source":1,"id":"(5, 'o', 'outbox')","name":"outbox","type":"outbox"},{"source":1,"id":"5","name":"Src \"x\"\\_5","type":"component"}],"links":[{"source":1,"from":"5","to":"(5, 'o', 'outbox')"}]}"#
    );
    let dot = topo.to_dot();
    assert!(dot.starts_with("digraph topology {\n"), "{dot}");
    assert!(dot.contains(r#"  "1:5" [label="Src \"x\"\\_5", shape=box];"#), "{dot}");
    assert!(dot.contains("  \"1:(5, 'o', 'outbox')\" [label=\"outbox\", shape=house];\n"), "{dot}");
    assert!(dot.contains("  \"1:5\" -> \"1:(5, 'o', 'outbox')\" [color=gray, arrowhead=none];\n"), "{dot}");
    assert!(dot.ends_with("}\n"));
}

#[test]
fn commands_print_as_protocol_lines() {
    let add = Command::AddNode {
        id: "(5, 'i', 'inbox')".into(),
        name: "in \"box\"".into(),
        position: PositionSpec::Auto,
        kind: NodeKind::Inbox,
    };
    assert_eq!(add.to_string(), r#"ADD NODE "(5, 'i', 'inbox')" "in \"box\"" randompos inbox"#);
    assert_eq!(Command::DelAll.to_string(), "DEL ALL");
    assert_eq!(Command::DelLink { from: "a".into(), to: "b".into() }.to_string(), r#"DEL LINK "a" "b""#);
    assert_eq!(
        Command::parse(&toks(r#"ADD NODE "5" "S" 3,4 component"#)).unwrap().to_string(),
        r#"ADD NODE "5" "S" 3,4 component"#
    );
}

// ---- The layout ----

/// Components 1 -> 2 linked (1's outbox to 2's inbox), and 3 on its own.
fn three_components() -> Topology {
    let mut lines = component(1, "A_1");
    lines.extend(component(2, "B_2"));
    lines.extend(component(3, "C_3"));
    lines.push(link_line(1, 2));
    topology_of(&lines)
}

#[test]
fn the_layout_settles_with_linked_components_closer_than_unlinked_ones() {
    for seed in [1, 2, 3, 42, 1234] {
        let topo = three_components();
        let mut layout = Layout::with_seed(seed);
        layout.sync(&topo);
        let steps = layout.run(5000);
        assert!(layout.is_settled(), "seed {seed}: not settled after {steps} steps");
        let (a, b, c) = (key(1, "1"), key(1, "2"), key(1, "3"));
        let ab = dist(&layout, &a, &b);
        assert!(ab < dist(&layout, &a, &c) && ab < dist(&layout, &b, &c), "seed {seed}: linked {ab}");
        // Linked boxes are about a link's length apart; boxes sit near their component.
        let bb = dist(&layout, &key(1, "(1, 'o', 'outbox')"), &key(1, "(2, 'i', 'inbox')"));
        assert!((60.0..140.0).contains(&bb), "seed {seed}: linked boxes {bb} apart");
        for id in 1..=3 {
            for b in ["i', 'inbox", "o', 'outbox"] {
                let d = dist(&layout, &key(1, &id.to_string()), &key(1, &format!("({id}, '{b}')")));
                assert!((20.0..80.0).contains(&d), "seed {seed}: box of {id} at {d}");
            }
        }
    }
}

#[test]
fn the_layout_is_reproducible_from_its_seed() {
    let topo = three_components();
    let run = |seed| {
        let mut l = Layout::with_seed(seed);
        l.sync(&topo);
        l.run(50);
        l.positions().map(|(k, p)| (k.clone(), p)).collect::<Vec<_>>()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[test]
fn new_boxes_appear_beside_their_component_and_old_nodes_keep_their_places() {
    let mut topo = topology_of(&component(1, "A_1"));
    let mut layout = Layout::with_seed(3);
    layout.sync(&topo);
    layout.run(2000);
    let a = layout.position(&key(1, "1")).unwrap();
    apply(
        &mut topo,
        1,
        &["ADD NODE \"(1, 'i', 'control')\" \"control\" randompos inbox", "ADD LINK \"1\" \"(1, 'i', 'control')\""],
    );
    layout.sync(&topo);
    assert_eq!(layout.position(&key(1, "1")), Some(a), "syncing moves nothing");
    let d = dist(&layout, &key(1, "1"), &key(1, "(1, 'i', 'control')"));
    assert!((d - layout.layout_params().own_link_length).abs() < 1.0, "placed at a link's length: {d}");
    assert!(!layout.is_settled(), "a change wakes the layout");
    apply(&mut topo, 1, &["DEL NODE \"(1, 'i', 'control')\""]);
    layout.sync(&topo);
    assert_eq!(layout.len(), 3);
    assert_eq!(layout.position(&key(1, "(1, 'i', 'control')")), None);
}

#[test]
fn a_held_node_stays_where_it_is_put() {
    let topo = three_components();
    let mut layout = Layout::with_seed(5);
    layout.sync(&topo);
    let a = key(1, "1");
    assert!(layout.set_position(&a, (500.0, -300.0)));
    layout.hold(Some(&a));
    assert_eq!(layout.held(), Some(&a));
    layout.run(100);
    assert_eq!(layout.position(&a), Some((500.0, -300.0)));
    layout.hold(None);
    assert!(!layout.set_position(&key(1, "nope"), (0.0, 0.0)));
}

#[test]
fn a_frozen_layout_does_not_move() {
    let mut topo = three_components();
    apply(&mut topo, 1, &["FREEZE ALL"]);
    let mut layout = Layout::with_seed(5);
    layout.sync(&topo);
    let before: Vec<_> = layout.positions().map(|(_, p)| p).collect();
    assert_eq!(layout.step(), 0.0);
    assert!(layout.is_settled());
    assert_eq!(layout.positions().map(|(_, p)| p).collect::<Vec<_>>(), before);
}

#[test]
fn thousands_of_nodes_cost_a_step_in_proportion_to_their_number_not_its_square() {
    // 1500 components of 4 boxes each (7500 nodes), in chains of 10 linked components.
    let mut lines = Vec::new();
    let mut links = Vec::new();
    for id in 1..=1500u32 {
        lines.push(format!("ADD NODE \"{id}\" \"Worker_{id}\" randompos component"));
        for b in ["i', 'inbox", "i', 'control", "o', 'outbox", "o', 'signal"] {
            let name = b.rsplit('\'').next().unwrap_or_default();
            let kind = if b.starts_with('i') { "inbox" } else { "outbox" };
            lines.push(format!("ADD NODE \"({id}, '{b}')\" \"{name}\" randompos {kind}"));
            lines.push(format!("ADD LINK \"{id}\" \"({id}, '{b}')\""));
        }
        if id % 10 != 0 {
            links.push(link_line(id, id + 1));
        }
    }
    lines.extend(links);
    let topo = topology_of(&lines);
    assert_eq!(topo.node_count(), 7500);
    let mut layout = Layout::with_seed(9);
    layout.sync(&topo);
    let n = layout.len();
    let mut first = 0.0;
    for i in 0..30 {
        let speed = layout.step();
        if i == 0 {
            first = speed;
        }
        assert!(layout.last_pair_checks() < n * n / 50, "step {i}: {} pair checks", layout.last_pair_checks());
    }
    assert!(layout.positions().all(|(_, p)| p.0.is_finite() && p.1.is_finite()));
    // Still moving, but calming down.
    assert!(layout.step() <= first);
}

// ---- Rendering ----

/// A topology of one component (without boxes), laid out.
fn single(id: u32, name: &str) -> (Topology, Layout) {
    let topo = topology_of(&[format!("ADD NODE \"{id}\" \"{name}\" randompos component")]);
    let mut layout = Layout::with_seed(1);
    layout.sync(&topo);
    (topo, layout)
}

#[test]
fn a_component_is_drawn_as_a_box_with_its_short_name_where_the_view_puts_it() {
    let (topo, mut layout) = single(5, "Kamaelia.Chassis.Pipeline_5");
    let c = key(1, "5");
    layout.set_position(&c, (30.0, -10.0));
    let view = View { center: (0.0, 0.0), zoom: 1.0, width: 300, height: 200 };
    let mut s = Surface::new(300, 200, Rgb::WHITE);
    let style = TopologyStyle::default();
    render(&mut s, &topo, &layout, &view, &style);
    let at = view.to_screen((30.0, -10.0));
    assert_eq!(at, (180.0, 90.0));
    let label = component_label_rect(at, "Kamaelia.Chassis.Pipeline_5");
    assert!(
        shows_text(&s, label.x as usize, label.y as usize, "Pipeline_5", LABEL_HEIGHT, style.text),
        "the short name, glyph by glyph, at {label:?}"
    );
    // The box round it has a border, and nothing is drawn far away from the component.
    assert_eq!(s.get(label.x as usize - 5, label.y as usize - 4), Some(style.component_border));
    assert_eq!(s.count(Rect::new(0, 150, 300, 50), style.text), 0);
}

#[test]
fn boxes_are_coloured_squares_with_labels_and_links_are_lines() {
    let mut lines = component(1, "A_1");
    lines.extend(component(2, "B_2"));
    lines.push(link_line(1, 2));
    let topo = topology_of(&lines);
    let mut layout = Layout::with_seed(1);
    layout.sync(&topo);
    // Put the nodes by hand: A at the left, its outbox right of it; B's inbox further right.
    for (id, p) in [
        ("1", (-150.0, 0.0)),
        ("(1, 'i', 'inbox')", (-150.0, 60.0)),
        ("(1, 'o', 'outbox')", (-60.0, 0.0)),
        ("(2, 'i', 'inbox')", (60.0, 0.0)),
        ("2", (150.0, 0.0)),
        ("(2, 'o', 'outbox')", (150.0, -60.0)),
    ] {
        layout.set_position(&key(1, id), p);
    }
    let view = View::new(400, 200);
    let style = TopologyStyle::default();
    let mut s = Surface::new(400, 200, Rgb::WHITE);
    render(&mut s, &topo, &layout, &view, &style);
    assert_eq!(s.get(140, 100), Some(style.outbox), "A's outbox at (-60, 0)");
    assert_eq!(s.get(260, 100), Some(style.inbox), "B's inbox at (60, 0)");
    assert_eq!(s.get(50, 160), Some(style.inbox), "A's inbox at (-150, 60)");
    // The link between them is green, from one square to the other.
    assert_eq!(s.count(Rect::new(150, 100, 95, 1), style.link), 95);
    // A component's link to its own box is grey.
    assert!(s.count(Rect::new(50, 115, 1, 35), style.own_link) > 30);
    // Box labels are centred over or under their square, away from the component: A's
    // outbox (level with A) above, A's inbox (below A) under it.
    assert!(shows_text(&s, 116, 86, "outbox", LABEL_HEIGHT, style.text));
    assert!(shows_text(&s, 30, 166, "inbox", LABEL_HEIGHT, style.text));
}

#[test]
fn the_view_maps_both_ways_fits_everything_and_finds_the_node_under_a_point() {
    let topo = three_components();
    let mut layout = Layout::with_seed(11);
    layout.sync(&topo);
    layout.run(3000);
    let mut view = View::new(640, 480);
    view.fit(&layout);
    for (_, p) in layout.positions() {
        let s = view.to_screen(p);
        assert!(s.0 >= 0.0 && s.1 >= 0.0 && s.0 < 640.0 && s.1 < 480.0, "{p:?} shows at {s:?}");
        let back = view.to_world(s);
        assert!((back.0 - p.0).abs() < 1e-3 && (back.1 - p.1).abs() < 1e-3);
    }
    for (k, p) in layout.positions() {
        let s = view.to_screen(p);
        let found = view.node_at(&topo, &layout, s).expect("a node under its own centre");
        // A box may sit under its component's label box; otherwise it is found itself.
        assert!(found == *k || topo.node(&found).unwrap().kind == NodeKind::Component, "{k} found {found}");
    }
    assert_eq!(view.node_at(&topo, &layout, (-100.0, -100.0)), None);
    let before = view.to_screen((0.0, 0.0));
    view.drag((10.0, 10.0), (30.0, 50.0));
    let after = view.to_screen((0.0, 0.0));
    assert!((after.0 - before.0 - 20.0).abs() < 1e-3 && (after.1 - before.1 - 40.0).abs() < 1e-3);
}

#[test]
fn lines_are_clipped_to_the_surface() {
    let mut s = Surface::new(50, 50, Rgb::WHITE);
    let red = Rgb(255, 0, 0);
    draw_line(&mut s, (-1e9, -1e9), (-1e9 + 10.0, -1e9), red);
    assert_eq!(s.count(s.rect(), red), 0);
    draw_line(&mut s, (-1000.0, 25.0), (1000.0, 25.0), red);
    assert_eq!(s.count(s.rect(), red), 50, "one row, clipped");
    draw_line(&mut s, (10.0, 0.0), (10.0, 49.0), red);
    assert_eq!(s.count(Rect::new(10, 0, 1, 50), red), 50);
}

// ---- The viewer component ----

fn msg(source: u64, line: &str) -> TopologyMessage {
    TopologyMessage { source, event: TopologyEvent::Command(toks(line)) }
}

/// Black pixels (label text) in the `r` part of `s`.
fn text_in(s: &Surface, r: Rect) -> usize {
    s.count(r, Rgb::BLACK)
}

#[test]
fn the_viewer_draws_what_arrives_and_reports_what_it_cannot_apply() {
    let null = NullDisplay::new();
    let bg = Scheduler::new().background();
    bg.activate(null.component()).unwrap();
    let viewer = TopologyViewer::builder().size(320, 240).build();
    let h = bg.handle::<TopologyMessage, String>(&viewer).unwrap();
    for line in component(5, "Src_5") {
        h.put(msg(1, &line));
    }
    let frame = null.wait_for(&viewer, LIMIT, |s| text_in(s, s.rect()) > 0).expect("a frame with labels");
    assert_eq!((frame.width, frame.height), (320, 240));

    h.put(msg(1, "ADD LINK \"5\" \"nowhere\""));
    h.put(TopologyMessage { source: 2, event: TopologyEvent::Error("unterminated quote".into()) });
    assert_eq!(
        h.get_timeout(LIMIT).as_deref(),
        Some("system 1: bad command [\"ADD\", \"LINK\", \"5\", \"nowhere\"]: no node \"nowhere\"")
    );
    assert_eq!(h.get_timeout(LIMIT).as_deref(), Some("system 2: unterminated quote"));

    // The system goes away: its nodes go with it.
    h.put(TopologyMessage { source: 1, event: TopologyEvent::Closed });
    null.wait_for(&viewer, LIMIT, |s| text_in(s, s.rect()) == 0).expect("an empty frame");
    h.put_control(Signal::ShutdownMicroprocess);
    assert!(h.get_signal_timeout(LIMIT).is_some_and(|s| s.is_shutdown()));
    assert!(null.wait_info(&viewer, LIMIT, |i| !i.open), "the surface is given back");
}

#[test]
fn a_node_pressed_and_released_elsewhere_moves_there() {
    let null = NullDisplay::new();
    let bg = Scheduler::new().background();
    bg.activate(null.component()).unwrap();
    let viewer = TopologyViewer::builder().size(400, 300).build();
    let h = bg.handle::<TopologyMessage, String>(&viewer).unwrap();
    h.put(msg(1, "ADD NODE \"5\" \"Lonely_5\" randompos component"));
    // Alone, it is fitted into the middle.
    let middle = Rect::new(150, 140, 100, 20);
    null.wait_for(&viewer, LIMIT, |s| text_in(s, middle) > 0).expect("the component in the middle");
    event(&viewer, Event::MouseDown { x: 200, y: 150, button: MouseButton::Left });
    event(&viewer, Event::MouseUp { x: 80, y: 60, button: MouseButton::Left });
    let corner = Rect::new(30, 50, 100, 20);
    let moved = null
        .wait_for(&viewer, LIMIT, |s| text_in(s, corner) > 0 && text_in(s, middle) == 0)
        .expect("the component where it was dropped");
    assert!(text_in(&moved, corner) > 0);

    // Pressing the background and releasing pans the view: the node follows.
    event(&viewer, Event::MouseDown { x: 300, y: 250, button: MouseButton::Left });
    event(&viewer, Event::MouseUp { x: 400, y: 300, button: MouseButton::Left });
    let panned = Rect::new(130, 100, 100, 20);
    null.wait_for(&viewer, LIMIT, |s| text_in(s, panned) > 0 && text_in(s, corner) == 0).expect("panned");
    h.put_control(Signal::ShutdownMicroprocess);
    assert!(h.get_signal_timeout(LIMIT).is_some_and(|s| s.is_shutdown()));
}

#[test]
fn the_viewer_ends_when_its_window_is_closed_and_shows_its_boxes() {
    let viewer = TopologyViewer::new();
    let taps = tap::<String>(&viewer);
    let (sched, null) = stepped(&viewer);
    assert_eq!(snapshot_boxes(&sched, &viewer), window_component_boxes::<TopologyMessage, String>());
    assert!(null.info(&viewer).is_some_and(|i| i.size == (800, 600) && i.title == "Axon Visualiser"));
    event(&viewer, Event::Closed);
    sched.run_until_idle();
    assert!(viewer.is_finished());
    assert!(taps.signals().iter().any(Signal::is_shutdown));
}

#[test]
fn the_viewer_stops_on_producer_finished_and_passes_other_signals_on() {
    let viewer = TopologyViewer::new();
    let taps = tap::<String>(&viewer);
    let (sched, _null) = stepped(&viewer);
    control(&viewer, Signal::Status("hi".into()));
    sched.run_until_idle();
    assert!(!viewer.is_finished());
    control(&viewer, Signal::producer_finished());
    sched.run_until_idle();
    assert!(viewer.is_finished());
    let names: Vec<_> = taps.signals().iter().map(Signal::axon_name).collect();
    assert_eq!(names.last(), Some(&"producerFinished"));
    assert!(names.len() == 2, "{names:?}");
}

#[test]
fn the_viewer_without_a_display_reports_it_and_stops() {
    // A display that refuses: a NullDisplay that was never activated is not registered, so
    // give the viewer a component with an inbox that answers nothing, then refuse by hand.
    let null = NullDisplay::new();
    let viewer = TopologyViewer::builder().display(null.display()).build();
    let taps = tap::<String>(&viewer);
    let sched = Scheduler::new();
    sched.activate(&viewer).unwrap();
    sched.run_until_idle();
    common::put(
        &viewer,
        "callback",
        kamaelia_ui::DisplayReply::Refused { id: kamaelia_ui::SurfaceId(0), reason: "no $DISPLAY".into() },
    );
    sched.run_until_idle();
    assert!(viewer.is_finished());
    let sigs = taps.signals();
    assert!(matches!(&sigs[0], Signal::ErrorInformation { message, .. } if message.contains("no $DISPLAY")));
    assert!(sigs[1].is_shutdown());
}
