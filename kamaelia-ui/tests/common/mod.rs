//! Shared by the kamaelia-ui tests: a time limit and helpers to look at pixels.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use kamaelia_ui::{Rect, Rgb, Surface, TextMetrics, glyph};

/// How long anything may take before a test fails (generous: debug builds, busy CI).
pub const LIMIT: Duration = Duration::from_secs(20);

/// True if `s` shows `text` drawn at (`x`, `y`) in `fg` at `text_height`, glyph pixel by
/// glyph pixel: every set font pixel is `fg` and every clear one is not.
pub fn shows_text(s: &Surface, x: usize, y: usize, text: &str, text_height: usize, fg: Rgb) -> bool {
    let m = TextMetrics::new(text_height);
    let top = y + m.glyph_top();
    text.chars().enumerate().all(|(i, c)| {
        let g = glyph(c);
        (0..8).all(|row| {
            (0..8).all(|col| {
                let set = g[row] & (1 << col) != 0;
                let px = x + i * m.advance + col * m.scale;
                let py = top + row * m.scale;
                match s.get(px, py) {
                    Some(p) => (p == fg) == set,
                    None => !set,
                }
            })
        })
    })
}

/// How many pixels of `colour` are in the horizontal band `y .. y + h`.
pub fn in_band(s: &Surface, y: i32, h: usize, colour: Rgb) -> usize {
    s.count(Rect::new(0, y, s.width, h), colour)
}

use std::any::type_name;

use axon_core::{Component, ComponentBuilder, Direction, Inbox, InboxRef, Scheduler, Signal, link};
use kamaelia_ui::{DisplayReply, DisplayRequest, Event, NullDisplay};

/// A component's `outbox` and `signal`, collected by a bodiless sink.
pub struct Taps<O> {
    /// What it sent on `outbox`.
    pub outbox: Inbox<O>,
    /// What it sent on `signal`.
    pub signal: Inbox<Signal>,
    _sink: Component,
}

impl<O: Send + 'static> Taps<O> {
    /// Everything on `signal` so far.
    pub fn signals(&self) -> Vec<Signal> {
        self.signal.drain().collect()
    }

    /// Everything on `outbox` so far.
    pub fn outputs(&self) -> Vec<O> {
        self.outbox.drain().collect()
    }
}

/// Taps `c`'s `outbox` and `signal`.
pub fn tap<O: Send + 'static>(c: &Component) -> Taps<O> {
    let mut b = ComponentBuilder::new("Tap");
    let outbox = b.inbox::<O>("outbox");
    let signal = b.inbox::<Signal>("signal");
    let sink = b.run(|_| async {});
    link((c, "outbox"), (&sink, "outbox")).expect("link outbox");
    link((c, "signal"), (&sink, "signal")).expect("link signal");
    Taps { outbox, signal, _sink: sink }
}

/// A step-mode scheduler with a null display and `c` activated and run until idle.
pub fn stepped(c: &Component) -> (Scheduler, NullDisplay) {
    let sched = Scheduler::new();
    let null = NullDisplay::new();
    sched.activate(null.component()).expect("activate the null display");
    sched.activate(c).expect("activate the component");
    sched.run_until_idle();
    (sched, null)
}

/// Puts `e` into `c`'s `events` inbox, as a window does.
pub fn event(c: &Component, e: Event) {
    c.inbox_ref::<Event>("events").expect("an events inbox").send_blocking(e);
}

/// Puts `s` into `c`'s `control` inbox.
pub fn control(c: &Component, s: Signal) {
    c.inbox_ref::<Signal>("control").expect("a control inbox").send_blocking(s);
}

/// Puts `m` into `c`'s inbox `name`.
pub fn put<T: Send + 'static>(c: &Component, name: &str, m: T) {
    let r: InboxRef<T> = c.inbox_ref(name).expect("the inbox");
    r.send_blocking(m);
}

/// `c`'s boxes as `snapshot()` shows them: (name, direction, message type), in order.
pub fn snapshot_boxes(sched: &Scheduler, c: &Component) -> Vec<(String, Direction, String)> {
    let snap = sched.snapshot();
    let info = snap.components.iter().find(|i| i.id == c.id()).expect("the component is in the snapshot");
    info.boxes.iter().map(|b| (b.name.clone(), b.direction, b.msg_type.clone())).collect()
}

/// An expected inbox.
pub fn inbox_of<T>(name: &str) -> (String, Direction, String) {
    (name.to_string(), Direction::Inbox, type_name::<T>().to_string())
}

/// An expected outbox.
pub fn outbox_of<T>(name: &str) -> (String, Direction, String) {
    (name.to_string(), Direction::Outbox, type_name::<T>().to_string())
}

/// The four standard boxes, then the three display boxes every window component has.
pub fn window_component_boxes<I, O>() -> Vec<(String, Direction, String)> {
    vec![
        inbox_of::<I>("inbox"),
        inbox_of::<Signal>("control"),
        outbox_of::<O>("outbox"),
        outbox_of::<Signal>("signal"),
        inbox_of::<Event>("events"),
        inbox_of::<DisplayReply>("callback"),
        outbox_of::<DisplayRequest>("display_signal"),
    ]
}
