//! TextDisplayer on a null display: lines shown where expected, wrapped and scrolled; its
//! shutdown rules; its surface request; its boxes in a snapshot.

mod common;

use axon_core::{Scheduler, Signal};
use common::{LIMIT, control, event, put, shows_text, snapshot_boxes, stepped, tap, window_component_boxes};
use kamaelia_chassis::Pipeline;
use kamaelia_ui::{Event, NullDisplay, Rgb, TextDisplayer, Textbox};

const BG: Rgb = Rgb(255, 255, 200);

fn small() -> kamaelia_ui::TextDisplayerBuilder {
    TextDisplayer::builder().size(200, 64).text_height(16)
}

#[test]
fn each_item_is_shown_as_a_new_line_at_the_bottom_older_lines_above() {
    let null = NullDisplay::new();
    let td = small().build();
    let bg = Scheduler::new().background();
    bg.activate(null.component()).unwrap();
    let h = bg.handle::<String, ()>(&td).unwrap();
    h.put("one".into());
    h.put("two".into());
    let frame = null
        .wait_for(&td, LIMIT, |s| shows_text(s, 0, 48, "two", 16, Rgb::BLACK))
        .expect("the newest line at the bottom");
    assert!(shows_text(&frame, 0, 32, "one", 16, Rgb::BLACK));
    assert_eq!(frame.get(199, 0), Some(BG));
    h.put_control(Signal::ShutdownMicroprocess);
    assert!(h.get_signal_timeout(LIMIT).is_some_and(|s| s.is_shutdown()));
}

#[test]
fn any_displayable_item_is_shown_and_long_items_wrap() {
    let null = NullDisplay::new();
    let td = small().size(160, 64).build_display::<f64>();
    let bg = Scheduler::new().background();
    bg.activate(null.component()).unwrap();
    let h = bg.handle::<f64, ()>(&td).unwrap();
    h.put(1234567.8125);
    // "1234567.8125" is 12 characters; 10 fit on a line.
    let frame = null.wait_for(&td, LIMIT, |s| shows_text(s, 0, 48, "25", 16, Rgb::BLACK)).expect("wrapped");
    assert!(shows_text(&frame, 0, 32, "1234567.81", 16, Rgb::BLACK));
}

#[test]
fn after_many_lines_it_shows_the_newest_ones() {
    let null = NullDisplay::new();
    let td = small().build();
    let bg = Scheduler::new().background();
    bg.activate(null.component()).unwrap();
    let h = bg.handle::<String, ()>(&td).unwrap();
    for i in 0..500 {
        h.put(format!("line {i}"));
    }
    let frame = null
        .wait_for(&td, LIMIT, |s| shows_text(s, 0, 48, "line 499", 16, Rgb::BLACK))
        .expect("the last line at the bottom");
    for (k, y) in [(498, 32), (497, 16), (496, 0)] {
        assert!(shows_text(&frame, 0, y, &format!("line {k}"), 16, Rgb::BLACK));
    }
    let info = null.info(&td).unwrap();
    assert!(info.redraws < 500, "frames are coalesced, not one per line: {} redraws", info.redraws);
}

#[test]
fn it_asks_for_a_surface_of_its_size_position_and_title() {
    let td = small().position(7, 9).title("chat").bgcolour((1, 2, 3)).fgcolour((4, 5, 6)).build();
    let (_sched, null) = stepped(&td);
    let info = null.info(&td).expect("a surface was asked for");
    assert_eq!((info.size, info.position, info.title.as_str()), ((200, 64), (7, 9), "chat"));
    assert!(info.open);
    assert!(!info.listen.keys && !info.listen.mouse, "it listens to no input");
    let frame = null.surface(&td).expect("a first frame");
    assert_eq!(frame.get(0, 0), Some(Rgb(1, 2, 3)));
}

#[test]
fn producer_finished_shows_what_was_already_received_then_is_passed_on() {
    let td = small().build();
    let taps = tap::<()>(&td);
    let (sched, null) = stepped(&td);
    put(&td, "inbox", "first".to_string());
    put(&td, "inbox", "second".to_string());
    control(&td, Signal::producer_finished());
    sched.run_until_idle();
    assert!(td.is_finished());
    let frame = null.surface(&td).unwrap();
    assert!(shows_text(&frame, 0, 48, "second", 16, Rgb::BLACK));
    assert!(shows_text(&frame, 0, 32, "first", 16, Rgb::BLACK));
    let signals = taps.signals();
    assert_eq!(signals.len(), 1);
    assert!(signals[0].is_producer_finished());
    assert!(!null.info(&td).unwrap().open, "it gave its surface back");
}

#[test]
fn shutdown_stops_at_once_and_is_passed_on() {
    let td = small().build();
    let taps = tap::<()>(&td);
    let (sched, null) = stepped(&td);
    put(&td, "inbox", "never shown".to_string());
    control(&td, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(td.is_finished());
    assert_eq!(null.surface(&td).unwrap().count(kamaelia_ui::Rect::new(0, 0, 200, 64), Rgb::BLACK), 0);
    let signals = taps.signals();
    assert!(matches!(signals.as_slice(), [Signal::ShutdownMicroprocess]), "{signals:?}");
    assert!(!null.info(&td).unwrap().open);
}

#[test]
fn closing_its_window_makes_it_send_its_own_shutdown() {
    let td = small().build();
    let taps = tap::<()>(&td);
    let (sched, _null) = stepped(&td);
    event(&td, Event::Closed);
    sched.run_until_idle();
    assert!(td.is_finished());
    assert!(matches!(taps.signals().as_slice(), [Signal::ShutdownMicroprocess]));
}

#[test]
fn other_signals_are_passed_on_and_it_carries_on() {
    let td = small().build();
    let taps = tap::<()>(&td);
    let (sched, null) = stepped(&td);
    control(&td, Signal::Status("hi".into()));
    put(&td, "inbox", "still here".to_string());
    sched.run_until_idle();
    assert!(!td.is_finished());
    assert!(matches!(taps.signals().as_slice(), [Signal::Status(s)] if s == "hi"));
    assert!(shows_text(&null.surface(&td).unwrap(), 0, 48, "still here", 16, Rgb::BLACK));
}

#[test]
fn a_shutdown_cascades_from_a_textbox_to_a_text_displayer_in_a_pipeline() {
    let null = NullDisplay::new();
    let tb = Textbox::builder().size(200, 20).text_height(16).build();
    let td = small().position(0, 20).build();
    let p = Pipeline::new([tb.clone(), td.clone()]).unwrap();
    let bg = Scheduler::new().background();
    bg.activate(null.component()).unwrap();
    let h = bg.handle::<String, ()>(&p).unwrap();
    assert!(null.wait_info(&tb, LIMIT, |i| i.open));
    // Typed into the Textbox, shown by the TextDisplayer.
    for c in "hey".chars() {
        event(&tb, Event::Text(c));
    }
    event(&tb, Event::KeyDown(kamaelia_ui::Key::Enter));
    assert!(null.wait_for(&td, LIMIT, |s| shows_text(s, 0, 48, "hey", 16, Rgb::BLACK)).is_some());
    // Esc ends the Textbox; its ShutdownMicroprocess ends the TextDisplayer and emerges.
    event(&tb, Event::KeyDown(kamaelia_ui::Key::Escape));
    let s = h.get_signal_timeout(LIMIT).expect("the shutdown emerges from the pipeline");
    assert!(s.is_shutdown(), "{s}");
    assert!(null.wait_info(&td, LIMIT, |i| !i.open));
    assert!(null.wait_ended(LIMIT), "the display ends once both surfaces are given back");
    drop(h);
    bg.join();
}

#[test]
fn it_shows_its_boxes_with_their_types_in_a_snapshot() {
    let td = small().build();
    let (sched, _null) = stepped(&td);
    assert_eq!(snapshot_boxes(&sched, &td), window_component_boxes::<String, ()>());
    let td2 = small().build_display::<u64>();
    sched.activate(&td2).unwrap();
    sched.run_until_idle();
    assert_eq!(snapshot_boxes(&sched, &td2), window_component_boxes::<u64, ()>());
}
