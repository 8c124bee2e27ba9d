//! Button on a null display: a click inside sends its message, one outside does not; its key
//! presses it; its caption, size and default message; its shutdown rules and boxes.

mod common;

use axon_core::Signal;
use common::{control, event, shows_text, snapshot_boxes, stepped, tap, window_component_boxes};
use kamaelia_ui::{Button, Click, Event, Key, MouseButton, Rgb, WindowInput};

fn down(x: i32, y: i32) -> Event {
    Event::MouseDown { x, y, button: MouseButton::Left }
}

#[test]
fn a_left_click_inside_sends_its_message_and_one_outside_does_not() {
    let b = Button::builder().caption("Go").size(60, 30).msg("go").build();
    let taps = tap::<&str>(&b);
    let (sched, _null) = stepped(&b);
    for e in [down(-1, 5), down(60, 5), down(5, 30), down(5, -1), down(70, 70)] {
        event(&b, e);
    }
    event(&b, Event::MouseDown { x: 5, y: 5, button: MouseButton::Right });
    event(&b, Event::MouseUp { x: 5, y: 5, button: MouseButton::Left });
    sched.run_until_idle();
    assert!(taps.outputs().is_empty(), "clicks outside, other buttons and releases do nothing");
    event(&b, down(0, 0));
    event(&b, down(59, 29));
    sched.run_until_idle();
    assert_eq!(taps.outputs(), ["go", "go"]);
}

#[test]
fn window_clicks_are_made_relative_to_the_button() {
    let b = Button::builder().caption("B").size(40, 20).position(100, 50).title("t").msg(7u8).build();
    let taps = tap::<u8>(&b);
    let (sched, null) = stepped(&b);
    let click = |x, y| WindowInput::Mouse { x, y, button: MouseButton::Left, down: true };
    assert_eq!(null.input(Some("t"), click(10, 10)), 1, "every click reaches it");
    sched.run_until_idle();
    assert!(taps.outputs().is_empty(), "(10, 10) is outside a button at (100, 50)");
    null.input(Some("t"), click(139, 69));
    sched.run_until_idle();
    assert_eq!(taps.outputs(), [7]);
}

#[test]
fn its_key_presses_it_and_other_keys_do_not() {
    let b = Button::builder().caption("Quit").key(Key::Q).msg("quit").build();
    let taps = tap::<&str>(&b);
    let (sched, null) = stepped(&b);
    assert!(null.info(&b).unwrap().listen.keys);
    event(&b, Event::KeyDown(Key::W));
    event(&b, Event::KeyUp(Key::Q));
    event(&b, Event::Text('q'));
    sched.run_until_idle();
    assert!(taps.outputs().is_empty());
    null.input(None, WindowInput::Key { key: Key::Q, down: true });
    sched.run_until_idle();
    assert_eq!(taps.outputs(), ["quit"]);
}

#[test]
fn by_default_it_is_sized_by_its_caption_and_sends_click_with_its_id() {
    let b = Button::new();
    let taps = tap::<Click>(&b);
    let (sched, null) = stepped(&b);
    let caption = format!("Button {}", b.id());
    let info = null.info(&b).unwrap();
    assert_eq!(info.size, (caption.len() * 8 + 16, 14 + 16), "caption plus a margin of 8");
    assert!(!info.listen.keys, "no key, no key events");
    let face = null.surface(&b).unwrap();
    assert!(shows_text(&face, 8, 8, &caption, 14, Rgb::BLACK));
    assert_eq!(face.get(0, 0), Some(Rgb(224, 224, 224)));
    event(&b, down(1, 1));
    sched.run_until_idle();
    assert_eq!(taps.outputs(), [Click(b.id())]);
}

#[test]
fn terminal_signals_are_passed_on_and_end_it_and_others_are_passed_on() {
    for s in [Signal::producer_finished(), Signal::ShutdownMicroprocess] {
        let b = Button::builder().msg(()).build();
        let taps = tap::<()>(&b);
        let (sched, null) = stepped(&b);
        control(&b, Signal::Status("x".into()));
        sched.run_until_idle();
        assert!(!b.is_finished());
        control(&b, s.clone());
        sched.run_until_idle();
        assert!(b.is_finished());
        let got = taps.signals();
        assert_eq!(got.len(), 2);
        assert!(matches!(&got[0], Signal::Status(x) if x == "x"));
        assert_eq!(got[1].axon_name(), s.axon_name());
        assert!(!null.info(&b).unwrap().open, "it gave its surface back");
    }
}

#[test]
fn closing_its_window_ends_it_with_its_own_shutdown() {
    let b = Button::builder().msg(()).build();
    let taps = tap::<()>(&b);
    let (sched, _null) = stepped(&b);
    event(&b, Event::Closed);
    sched.run_until_idle();
    assert!(b.is_finished());
    assert!(matches!(taps.signals().as_slice(), [Signal::ShutdownMicroprocess]));
}

#[test]
fn it_shows_its_boxes_with_their_types_in_a_snapshot() {
    let b = Button::new();
    let (sched, _null) = stepped(&b);
    assert_eq!(snapshot_boxes(&sched, &b), window_component_boxes::<(), Click>());
}
