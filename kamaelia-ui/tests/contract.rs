//! The shutdown contract, checked with [`Contract`] for every scheduler-run component the
//! crate exports: drain on `ProducerFinished`, a shutdown while blocked on a full outbox,
//! other signals passed on. The threaded [`WindowDisplay`](kamaelia_ui::WindowDisplay) is
//! checked by `display_service.rs`.

use axon_core::conformance::Contract;
use kamaelia_ui::{
    Button, Display, DisplayRequest, NullDisplay, SurfaceId, TextDisplayer, Textbox, Ticker, TopologyEvent,
    TopologyMessage, TopologyViewer,
};

/// A display for the component under test: a null display that is never activated, so its
/// inbox takes the component's requests and nothing answers them (as before a real display
/// answers). The component's own behaviour is all that is checked.
fn headless() -> Display {
    NullDisplay::new().display()
}

#[test]
fn text_displayer() {
    Contract::new("TextDisplayer", || TextDisplayer::builder().size(80, 40).display(headless()).build())
        .sample(|i| format!("line {i}"))
        // `outbox` is unused: nothing to block on.
        .never_blocks()
        .check()
        .unwrap();
}

#[test]
fn textbox() {
    Contract::new("Textbox", || Textbox::builder().size(80, 40).display(headless()).build())
        // Each message is a line typed and entered, so each goes out of `outbox`.
        .sample(|i| format!("line {i}\n"))
        .check()
        .unwrap();
}

#[test]
fn ticker() {
    // As fast as it goes, so the step-mode scheduler never waits for its word timer.
    Contract::new("Ticker", || Ticker::builder().size(80, 40).words_per_second(f64::MAX).display(headless()).build())
        .sample(|i| format!("word{i} and more"))
        // `outbox` is unused: nothing to block on.
        .never_blocks()
        .check()
        .unwrap();
}

#[test]
fn button() {
    Contract::new("Button", || Button::builder().msg(()).display(headless()).build())
        // `inbox` is unused (emptied as it comes); it sends only when clicked.
        .sample(|_| ())
        .never_blocks()
        .check()
        .unwrap();
}

#[test]
fn topology_viewer() {
    Contract::new("TopologyViewer", || TopologyViewer::builder().size(80, 60).display(headless()).build())
        // Each message is a read error, so each is reported out of `outbox`.
        .sample(|i| TopologyMessage { source: 1, event: TopologyEvent::Error(format!("bad line {i}")) })
        .check()
        .unwrap();
}

#[test]
fn null_display() {
    Contract::new("NullDisplay", || NullDisplay::new().component().clone())
        // Redraws of surfaces it never opened: served, changing nothing.
        .sample(|i| DisplayRequest::Redraw(SurfaceId(u64::MAX - i as u64)))
        // `outbox` is unused: nothing to block on.
        .never_blocks()
        .check()
        .unwrap();
}
