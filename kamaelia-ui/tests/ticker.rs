//! Ticker on a null display: words appear one at a time at its rate; pause and unpause;
//! its shutdown rules (paused or not); its boxes.

mod common;

use std::time::Instant;

use axon_core::{Scheduler, Signal};
use common::{LIMIT, control, event, inbox_of, outbox_of, put, shows_text, snapshot_boxes, stepped, tap};
use kamaelia_ui::{DisplayReply, DisplayRequest, Event, NullDisplay, Rgb, Ticker};

const FG: Rgb = Rgb(232, 232, 48);

fn small() -> kamaelia_ui::TickerBuilder {
    Ticker::builder().size(200, 100).text_height(8)
}

/// True if word `k` of single-letter words is shown on the first line.
fn word_at(s: &kamaelia_ui::Surface, k: usize, letter: char) -> bool {
    shows_text(s, 1 + k * 16, 1, &format!(" {letter}"), 8, FG)
}

#[test]
fn words_appear_one_at_a_time_at_its_rate() {
    const RATE: f64 = 20.0;
    let null = NullDisplay::new();
    let t = small().words_per_second(RATE).build();
    let bg = Scheduler::new().background();
    bg.activate(null.component()).unwrap();
    let h = bg.handle::<String, ()>(&t).unwrap();
    let start = Instant::now();
    h.put("a b  c\td".into());
    h.put("e f g h i j".into());
    let frame = null.wait_for(&t, LIMIT, |s| word_at(s, 9, 'j')).expect("all ten words shown");
    let took = start.elapsed().as_secs_f64();
    assert!(took >= 9.0 / RATE * 0.9, "ten words at {RATE}/s take at least 9 intervals, took {took:.3}s");
    for (k, c) in "abcdefghij".chars().enumerate() {
        assert!(word_at(&frame, k, c), "word {k} in order, runs of spaces collapsed");
    }
    h.put_control(Signal::ShutdownMicroprocess);
    assert!(h.get_signal_timeout(LIMIT).is_some_and(|s| s.is_shutdown()));
}

#[test]
fn pausebox_holds_the_words_and_unpausebox_lets_them_go_on() {
    let t = small().build();
    let (sched, null) = stepped(&t);
    put(&t, "pausebox", ());
    put(&t, "inbox", "x y z".to_string());
    sched.run_until_idle();
    let blank = null.surface(&t).unwrap();
    assert_eq!(blank.count(blank.rect(), FG), 0, "paused: nothing shown, the words kept");
    put(&t, "unpausebox", ());
    sched.run_until_idle();
    let one = null.surface(&t).unwrap();
    assert!(word_at(&one, 0, 'x'), "unpaused: the first word at once");
    assert!(!word_at(&one, 1, 'y'), "the next waits for its time");
}

#[test]
fn producer_finished_shows_the_remaining_words_then_is_passed_on() {
    let null = NullDisplay::new();
    let t = small().words_per_second(200.0).build();
    let bg = Scheduler::new().background();
    bg.activate(null.component()).unwrap();
    let h = bg.handle::<String, ()>(&t).unwrap();
    h.put("p q r s".into());
    h.put_control(Signal::producer_finished());
    let s = h.get_signal_timeout(LIMIT).expect("a signal");
    assert!(s.is_producer_finished(), "{s}");
    let frame = null.surface(&t).unwrap();
    assert!(word_at(&frame, 3, 's'), "every word was shown first");
    assert!(null.wait_info(&t, LIMIT, |i| !i.open));
}

#[test]
fn producer_finished_while_paused_waits_for_the_unpause() {
    let t = small().build();
    let taps = tap::<()>(&t);
    let (sched, null) = stepped(&t);
    put(&t, "pausebox", ());
    put(&t, "inbox", "last".to_string());
    control(&t, Signal::producer_finished());
    sched.run_until_idle();
    assert!(!t.is_finished());
    put(&t, "unpausebox", ());
    sched.run_until_idle();
    assert!(t.is_finished());
    assert!(shows_text(&null.surface(&t).unwrap(), 1, 1, " last", 8, FG));
    assert!(matches!(taps.signals().as_slice(), [s] if s.is_producer_finished()));
}

#[test]
fn shutdown_stops_it_at_once_even_while_paused() {
    let t = small().build();
    let taps = tap::<()>(&t);
    let (sched, null) = stepped(&t);
    put(&t, "pausebox", ());
    put(&t, "inbox", "never".to_string());
    control(&t, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(t.is_finished());
    assert!(matches!(taps.signals().as_slice(), [Signal::ShutdownMicroprocess]));
    assert!(!null.info(&t).unwrap().open);
}

#[test]
fn closing_its_window_ends_it_with_its_own_shutdown() {
    let t = small().build();
    let taps = tap::<()>(&t);
    let (sched, _null) = stepped(&t);
    event(&t, Event::Closed);
    sched.run_until_idle();
    assert!(t.is_finished());
    assert!(matches!(taps.signals().as_slice(), [Signal::ShutdownMicroprocess]));
}

#[test]
fn it_has_kamaelias_defaults_and_shows_its_boxes_in_a_snapshot() {
    let t = Ticker::new();
    let (sched, null) = stepped(&t);
    let info = null.info(&t).unwrap();
    assert_eq!((info.size, info.position), ((399, 299), (1, 1)));
    let frame = null.surface(&t).unwrap();
    assert_eq!(frame.get(0, 0), Some(Rgb(128, 48, 128)));
    assert_eq!(
        snapshot_boxes(&sched, &t),
        [
            inbox_of::<String>("inbox"),
            inbox_of::<Signal>("control"),
            inbox_of::<u8>("alphacontrol"),
            inbox_of::<()>("pausebox"),
            inbox_of::<()>("unpausebox"),
            outbox_of::<()>("outbox"),
            outbox_of::<Signal>("signal"),
            inbox_of::<Event>("events"),
            inbox_of::<DisplayReply>("callback"),
            outbox_of::<DisplayRequest>("display_signal"),
        ]
    );
}
