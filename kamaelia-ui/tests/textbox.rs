//! Textbox on a null display: typing, Backspace and Enter through its `events` inbox and
//! through window input; typing by message; Esc; its shutdown rules and boxes.

mod common;

use axon_core::Signal;
use common::{control, event, put, shows_text, snapshot_boxes, stepped, tap, window_component_boxes};
use kamaelia_ui::{CURSOR, Event, Key, MouseButton, Rgb, Textbox, WindowInput};

fn small() -> kamaelia_ui::TextboxBuilder {
    Textbox::builder().size(200, 40).text_height(16)
}

fn type_text(c: &axon_core::Component, text: &str) {
    for ch in text.chars() {
        event(c, Event::KeyDown(Key::A));
        event(c, Event::Text(ch));
    }
}

#[test]
fn typing_then_enter_sends_the_line_and_clears_it() {
    let tb = small().build();
    let taps = tap::<String>(&tb);
    let (sched, null) = stepped(&tb);
    type_text(&tb, "hello");
    sched.run_until_idle();
    assert!(taps.outputs().is_empty(), "nothing is sent before Enter");
    let frame = null.surface(&tb).unwrap();
    assert!(shows_text(&frame, 0, 24, &format!("hello{CURSOR}"), 16, Rgb::BLACK), "the text and its cursor");
    event(&tb, Event::KeyDown(Key::Enter));
    sched.run_until_idle();
    assert_eq!(taps.outputs(), ["hello"]);
    let frame = null.surface(&tb).unwrap();
    assert!(shows_text(&frame, 0, 24, &CURSOR.to_string(), 16, Rgb::BLACK));
    assert_eq!(frame.count(kamaelia_ui::Rect::new(16, 0, 184, 40), Rgb::BLACK), 0, "cleared");
}

#[test]
fn backspace_removes_the_last_character() {
    let tb = small().build();
    let taps = tap::<String>(&tb);
    let (sched, _null) = stepped(&tb);
    type_text(&tb, "cart");
    event(&tb, Event::KeyDown(Key::Backspace));
    event(&tb, Event::KeyDown(Key::Backspace));
    type_text(&tb, "t");
    event(&tb, Event::KeyDown(Key::NumPadEnter));
    event(&tb, Event::KeyDown(Key::Backspace));
    event(&tb, Event::KeyDown(Key::Enter));
    sched.run_until_idle();
    assert_eq!(taps.outputs(), ["cat", ""], "Backspace on an empty line does nothing");
}

#[test]
fn control_characters_and_other_events_are_not_typed() {
    let tb = small().build();
    let taps = tap::<String>(&tb);
    let (sched, _null) = stepped(&tb);
    for e in [
        Event::Text('\r'),
        Event::Text('\u{8}'),
        Event::KeyUp(Key::Enter),
        Event::MouseDown { x: 1, y: 1, button: MouseButton::Left },
        Event::Text('é'),
        Event::KeyDown(Key::Enter),
    ] {
        event(&tb, e);
    }
    sched.run_until_idle();
    assert_eq!(taps.outputs(), ["é"]);
}

#[test]
fn window_input_reaches_it_as_key_and_text_events() {
    let tb = small().title("w").position(0, 100).build();
    let taps = tap::<String>(&tb);
    let (sched, null) = stepped(&tb);
    assert!(null.info(&tb).unwrap().listen.keys);
    for c in "hi".chars() {
        assert_eq!(null.input(Some("w"), WindowInput::Key { key: Key::H, down: true }), 1);
        null.input(Some("w"), WindowInput::Char(c));
        null.input(Some("w"), WindowInput::Key { key: Key::H, down: false });
    }
    null.input(Some("w"), WindowInput::Key { key: Key::Enter, down: true });
    null.input(Some("w"), WindowInput::Char('\r'));
    assert_eq!(null.input(Some("another window"), WindowInput::Char('x')), 0);
    assert_eq!(null.input(Some("w"), WindowInput::Mouse { x: 5, y: 105, button: MouseButton::Left, down: true }), 0);
    sched.run_until_idle();
    assert_eq!(taps.outputs(), ["hi"], "the CR typed with Enter is not a character");
}

#[test]
fn characters_on_its_inbox_are_typed_too() {
    let tb = small().initial("ab").build();
    let taps = tap::<String>(&tb);
    let (sched, _null) = stepped(&tb);
    put(&tb, "inbox", "c".to_string());
    put(&tb, "inbox", "\n".to_string());
    put(&tb, "inbox", "xy\u{8}z\r\n".to_string());
    put(&tb, "inbox", "\r".to_string());
    sched.run_until_idle();
    assert_eq!(taps.outputs(), ["abc", "xz", ""], "CRLF counts once; a lone CR is Enter");
}

#[test]
fn escape_ends_it_with_its_own_shutdown() {
    let tb = small().build();
    let taps = tap::<String>(&tb);
    let (sched, null) = stepped(&tb);
    type_text(&tb, "unsent");
    event(&tb, Event::KeyDown(Key::Escape));
    sched.run_until_idle();
    assert!(tb.is_finished());
    assert!(taps.outputs().is_empty());
    assert!(matches!(taps.signals().as_slice(), [Signal::ShutdownMicroprocess]));
    assert!(!null.info(&tb).unwrap().open);
}

#[test]
fn closing_its_window_ends_it_with_its_own_shutdown() {
    let tb = small().build();
    let taps = tap::<String>(&tb);
    let (sched, null) = stepped(&tb);
    assert_eq!(null.input(None, WindowInput::Close), 1);
    sched.run_until_idle();
    assert!(tb.is_finished());
    assert!(matches!(taps.signals().as_slice(), [Signal::ShutdownMicroprocess]));
}

#[test]
fn producer_finished_types_what_is_queued_then_is_passed_on() {
    let tb = small().build();
    let taps = tap::<String>(&tb);
    let (sched, _null) = stepped(&tb);
    put(&tb, "inbox", "done\n".to_string());
    put(&tb, "inbox", "partial".to_string());
    control(&tb, Signal::producer_finished());
    sched.run_until_idle();
    assert!(tb.is_finished());
    assert_eq!(taps.outputs(), ["done"], "text without Enter is not a line");
    assert!(matches!(taps.signals().as_slice(), [s] if s.is_producer_finished()));
}

#[test]
fn shutdown_stops_at_once_and_is_passed_on() {
    let tb = small().build();
    let taps = tap::<String>(&tb);
    let (sched, _null) = stepped(&tb);
    put(&tb, "inbox", "ignored\n".to_string());
    control(&tb, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(tb.is_finished());
    assert!(taps.outputs().is_empty());
    assert!(matches!(taps.signals().as_slice(), [Signal::ShutdownMicroprocess]));
}

#[test]
fn it_shows_its_boxes_with_their_types_in_a_snapshot() {
    let tb = small().build();
    let (sched, _null) = stepped(&tb);
    assert_eq!(snapshot_boxes(&sched, &tb), window_component_boxes::<String, String>());
}
