//! The display service: components find the registered display; the null display's life;
//! and the window display, with no X display to open windows on, refusing clearly while the
//! components carry on without a window.

mod common;

use std::process::Command;

use axon_core::{Scheduler, Signal};
use common::{LIMIT, stepped, tap};
use kamaelia_ui::{DISPLAY_SERVICE, Display, DisplayRequest, NullDisplay, SurfaceId, TextDisplayer, WindowDisplay};

#[test]
fn components_use_the_display_registered_with_their_scheduler() {
    let td = TextDisplayer::new();
    let (sched, null) = stepped(&td);
    assert_eq!(sched.services().retrieve(DISPLAY_SERVICE).unwrap().0, *null.component());
    assert!(null.info(&td).is_some(), "it asked the registered display");
}

#[test]
fn a_second_display_cannot_register_with_the_same_scheduler() {
    let sched = Scheduler::new();
    let a = NullDisplay::new();
    let b = NullDisplay::new();
    sched.activate(a.component()).unwrap();
    let err = sched.activate(b.component()).unwrap_err();
    assert!(err.to_string().contains(DISPLAY_SERVICE), "{err}");
}

#[test]
fn a_display_given_explicitly_is_used_even_from_another_scheduler() {
    let (a, null) = stepped(&TextDisplayer::new());
    let td = TextDisplayer::builder().display(null.display()).build();
    let b = Scheduler::new();
    b.activate(&td).unwrap();
    b.run_until_idle();
    assert!(b.services().retrieve(DISPLAY_SERVICE).is_err(), "nothing registered with this scheduler");
    a.run_until_idle();
    assert!(null.info(&td).is_some_and(|i| i.open), "the given display serves it");
}

#[test]
fn the_null_display_ends_and_deregisters_once_its_last_surface_is_given_back() {
    let td = TextDisplayer::new();
    let taps = tap::<()>(&td);
    let (sched, null) = stepped(&td);
    let null_taps = tap::<()>(null.component());
    common::control(&td, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(null.wait_ended(LIMIT));
    assert!(null.component().is_finished());
    assert!(matches!(null_taps.signals().as_slice(), [s] if s.is_producer_finished()));
    assert!(sched.services().retrieve(DISPLAY_SERVICE).is_err(), "deregistered");
    assert!(!taps.signals().is_empty());
}

/// The window display keeps the shutdown contract (it is threaded, so `contract.rs` cannot
/// run it): another signal is passed on and it carries on; requests already queued are
/// served before `ProducerFinished` ends it, which is passed on last; a shutdown ends it and
/// is passed on. It never waits to send (answers and input to a client that does not read
/// are dropped), so there is no blocked send for a shutdown to interrupt. No request here
/// opens a window.
#[test]
fn the_window_display_keeps_the_shutdown_contract() {
    let sched = Scheduler::new().background();
    let window = WindowDisplay::new().build();
    let h = sched.handle::<DisplayRequest, ()>(&window).unwrap();
    h.put_control(Signal::Status("hi".into()));
    let s = h.get_signal_timeout(LIMIT).expect("the Status is passed on");
    assert!(matches!(&s, Signal::Status(t) if t == "hi"), "{s}");
    assert!(!window.is_finished(), "a Status does not end it");
    for i in 0..3 {
        h.put(DisplayRequest::Redraw(SurfaceId(u64::MAX - i)));
    }
    h.put_control(Signal::producer_finished());
    let s = h.get_signal_timeout(LIMIT).expect("it ends");
    assert!(s.is_producer_finished(), "{s}");
    assert_eq!(window.box_info("inbox").unwrap().len, 0, "the queued requests were served first");

    let window = WindowDisplay::new().build();
    let h = sched.handle::<DisplayRequest, ()>(&window).unwrap();
    h.put(DisplayRequest::Redraw(SurfaceId(u64::MAX)));
    h.put_control(Signal::ShutdownMicroprocess);
    let s = h.get_signal_timeout(LIMIT).expect("it ends");
    assert!(s.is_shutdown(), "{s}");
}

/// Runs the body of `child_name` in a child process of this test binary with `$DISPLAY`
/// removed (a process cannot safely change its own environment while threads run).
fn in_child_without_display(child_name: &str) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", child_name, "--nocapture", "--test-threads=1"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("KAMAELIA_UI_CHILD", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the child test failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran its test:\n{text}");
}

/// With no X display the window display cannot make a window: it sends ErrorInformation
/// saying so, and the component is refused and says so too, then goes on consuming its inbox
/// without a window (so the system does not stall) and ends as usual.
#[test]
fn without_an_x_display_the_window_display_refuses_with_a_clear_error() {
    if std::env::var_os("KAMAELIA_UI_CHILD").is_none() {
        in_child_without_display("without_an_x_display_the_window_display_refuses_with_a_clear_error");
        return;
    }
    let sched = Scheduler::new().background();
    let window = WindowDisplay::new().build();
    Display::register(sched.services(), &window).unwrap();
    let display = sched.handle::<DisplayRequest, ()>(&window).unwrap();
    let td = TextDisplayer::new();
    let h = sched.handle::<String, ()>(&td).unwrap();
    let e = display.get_signal_timeout(LIMIT).expect("the display reports an error");
    let Signal::ErrorInformation { message, .. } = e else { panic!("expected ErrorInformation, got {e}") };
    assert!(message.contains("cannot open a window") && message.contains("$DISPLAY is not set"), "{message}");
    let e = h.get_signal_timeout(LIMIT).expect("the component reports it too");
    let Signal::ErrorInformation { message, .. } = e else { panic!("expected ErrorInformation, got {e}") };
    assert!(message.contains("no window: cannot open a window"), "{message}");
    // Still consuming its inbox, still obeying its control.
    h.put("into the void".into());
    h.put_control(Signal::producer_finished());
    let s = h.get_signal_timeout(LIMIT).expect("it ends");
    assert!(s.is_producer_finished(), "{s}");
    assert!(h.component().box_info("inbox").unwrap().len == 0);
    // The display, refused its only surface, ends and deregisters.
    let s = display.get_signal_timeout(LIMIT).expect("the display ends");
    assert!(s.is_producer_finished(), "{s}");
}
