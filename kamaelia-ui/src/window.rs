//! [`WindowDisplay`]: the display service with real windows (minifb), one thread owning them
//! all (Kamaelia's `PygameDisplay`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axon_core::{Component, ComponentBuilder, ControlWatch, Inbox, Next, Signal, ThreadCtx};
use minifb::{InputCallback, MouseMode, Window, WindowOptions};

use crate::display::{Display, DisplayReply, DisplayRequest, SurfaceId, SurfaceSpec, WindowInput, route, window_title};
use crate::event::{Key, MouseButton};
use crate::surface::{Rgb, Surface};

/// Collects a window's key and character input in the order it happens.
struct Collector(Arc<Mutex<Vec<WindowInput>>>);

impl InputCallback for Collector {
    fn add_char(&mut self, uni_char: u32) {
        if let Some(c) = char::from_u32(uni_char) {
            self.0.lock().unwrap_or_else(PoisonError::into_inner).push(WindowInput::Char(c));
        }
    }

    fn set_key_state(&mut self, key: Key, down: bool) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(WindowInput::Key { key, down });
    }
}

const BUTTONS: [(minifb::MouseButton, MouseButton); 3] = [
    (minifb::MouseButton::Left, MouseButton::Left),
    (minifb::MouseButton::Middle, MouseButton::Middle),
    (minifb::MouseButton::Right, MouseButton::Right),
];

/// One open window and what it shows.
struct Win {
    window: Window,
    size: (usize, usize),
    frame: Surface,
    input: Arc<Mutex<Vec<WindowInput>>>,
    buttons: [bool; 3],
    dirty: bool,
}

/// The display service with windows: a threaded component that owns every minifb window of
/// its scheduler and runs their event loop (minifb windows must be made and updated on one
/// thread). Window components find it through [`Display::of`], which starts one with the
/// defaults if none is registered.
///
/// Surfaces are grouped into windows by title; each window is as large as the bounding box
/// of its surfaces (or the fixed [`size`](Self::size)), made when its first surface is asked
/// for and made again, larger, when a later surface does not fit. Each surface is drawn at its
/// position, in the order they were asked for, over the background colour. Input is routed as
/// [`Event`](crate::Event) describes. When the user closes a window every surface in it gets
/// [`Event::Closed`](crate::Event::Closed); the window is not made again.
///
/// Boxes:
/// - `inbox: DisplayRequest`: requests from window components.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: ()`: unused.
/// - `signal: Signal`: `ErrorInformation` when a window cannot be made (no `$DISPLAY`, say:
///   the requesting components are also told, with [`DisplayReply::Refused`]); the signal that
///   ended it.
///
/// Life: it waits (using no CPU) while it has no window; with windows it polls them at the
/// frame rate ([`fps`](Self::fps), default 60), as a window system needs.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch), blocking
/// variants: it is threaded): on `ProducerFinished` it serves the requests already in `inbox`
/// first; either way every window is closed. It also ends by itself once the last surface it
/// was given has been given back (sending its own `ProducerFinished`), unless
/// [`persistent`](Self::persistent). It then deregisters itself, so the next [`Display::of`]
/// starts a new one.
///
/// Known limit: minifb reports mouse buttons as states polled once a frame, so a click
/// shorter than a frame may be missed. Keys and typed text are reported as events, in order.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct WindowDisplay {
    background: Rgb,
    size: Option<(usize, usize)>,
    fps: u32,
    persistent: bool,
}

impl Default for WindowDisplay {
    fn default() -> Self {
        Self::new()
    }
}

impl WindowDisplay {
    /// The defaults: white background, windows sized by their surfaces, 60 frames a second.
    pub fn new() -> Self {
        WindowDisplay { background: Rgb::WHITE, size: None, fps: 60, persistent: false }
    }

    /// The colour where no surface is (default white, Kamaelia's).
    pub fn background(mut self, c: impl Into<Rgb>) -> Self {
        self.background = c.into();
        self
    }

    /// A fixed size for every window (Kamaelia's `PygameDisplay(width, height)`).
    pub fn size(mut self, width: usize, height: usize) -> Self {
        self.size = Some((width, height));
        self
    }

    /// How often windows are polled and redrawn, per second (default 60; at least 1).
    pub fn fps(mut self, fps: u32) -> Self {
        self.fps = fps.max(1);
        self
    }

    /// Keep running when no surface is left (default: end).
    pub fn persistent(mut self, yes: bool) -> Self {
        self.persistent = yes;
        self
    }

    /// Builds the service component (register it with [`Display::register`], or let
    /// [`Display::of`] make one).
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("WindowDisplay");
        let io = b.standard::<DisplayRequest, ()>();
        b.run_threaded(move |ctx| {
            let mut watch = ControlWatch::new(io.control, io.signal);
            let end = Service::new(self).run(&ctx, &io.inbox, &mut watch);
            Display::deregister_self(&ctx);
            watch.finish_blocking(end);
        })
    }
}

struct Service {
    config: WindowDisplay,
    surfaces: Vec<SurfaceSpec>,
    windows: HashMap<String, Win>,
    /// Windows the user closed: never made again.
    closed: HashSet<String>,
}

impl Service {
    fn new(config: WindowDisplay) -> Self {
        Service { config, surfaces: Vec::new(), windows: HashMap::new(), closed: HashSet::new() }
    }

    /// Serves requests and runs the windows until it ends; returns the signal to end with.
    /// Dropping `self` closes every window.
    fn run(mut self, ctx: &ThreadCtx, inbox: &Inbox<DisplayRequest>, watch: &mut ControlWatch) -> Signal {
        let frame = Duration::from_secs(1) / self.config.fps;
        let mut had_any = false;
        loop {
            let mut opened: Vec<SurfaceId> = Vec::new();
            let mut end = None;
            while let Some(next) = watch.try_next(inbox) {
                let req = match next {
                    Next::Data(req) => req,
                    Next::End(s) => {
                        end = Some(s);
                        break;
                    }
                    // `Other` comes only under `SignalPolicy::Deliver`; this watch forwards.
                    Next::Other(_) => continue,
                };
                match req {
                    DisplayRequest::Open(spec) => {
                        had_any = true;
                        opened.push(spec.id);
                        self.surfaces.push(spec);
                    }
                    DisplayRequest::Redraw(id) => {
                        if let Some(s) = self.surfaces.iter().find(|s| s.id == id) {
                            s.frame.take();
                            if let Some(w) = self.windows.get_mut(window_title(s)) {
                                w.dirty = true;
                            }
                        }
                    }
                    DisplayRequest::Close(id) => {
                        if let Some(i) = self.surfaces.iter().position(|s| s.id == id) {
                            let gone = self.surfaces.remove(i);
                            let title = window_title(&gone).to_string();
                            if self.surfaces.iter().any(|s| window_title(s) == title) {
                                if let Some(w) = self.windows.get_mut(&title) {
                                    w.dirty = true;
                                }
                            } else {
                                self.windows.remove(&title);
                            }
                        }
                    }
                }
            }
            if let Some(s) = end {
                return s;
            }
            if !opened.is_empty() {
                self.open_windows(&opened, watch);
            }
            self.update_windows();
            if had_any && self.surfaces.is_empty() && !self.config.persistent {
                return Signal::producer_finished_by(ctx.id());
            }
            ctx.pause(if self.windows.is_empty() { None } else { Some(frame) });
        }
    }

    /// The size a window needs for its surfaces.
    fn needed(&self, title: &str) -> (usize, usize) {
        if let Some(size) = self.config.size {
            return size;
        }
        let (mut w, mut h) = (1, 1);
        for s in self.surfaces.iter().filter(|s| window_title(s) == title) {
            w = w.max((i64::from(s.position.0) + s.size.0 as i64).max(1) as usize);
            h = h.max((i64::from(s.position.1) + s.size.1 as i64).max(1) as usize);
        }
        (w, h)
    }

    /// Makes (or remakes, larger) the windows new surfaces need, and answers their requests.
    fn open_windows(&mut self, opened: &[SurfaceId], watch: &mut ControlWatch) {
        let titles: Vec<String> = {
            let mut t: Vec<String> = Vec::new();
            for s in self.surfaces.iter().filter(|s| opened.contains(&s.id)) {
                let title = window_title(s).to_string();
                if !t.contains(&title) {
                    t.push(title);
                }
            }
            t
        };
        for title in titles {
            let result = if self.closed.contains(&title) {
                Err(format!("its window {title:?} was closed"))
            } else {
                self.make_window(&title)
            };
            let here: Vec<usize> = (0..self.surfaces.len())
                .filter(|&i| opened.contains(&self.surfaces[i].id) && window_title(&self.surfaces[i]) == title)
                .collect();
            match result {
                Ok(()) => {
                    for &i in &here {
                        if let Some(r) = &self.surfaces[i].reply {
                            // A display never waits on a client (see `DisplayReply`).
                            let _ = r.try_send(DisplayReply::Granted(self.surfaces[i].id));
                        }
                    }
                }
                Err(reason) => {
                    watch.emit_blocking(Signal::ErrorInformation { caller: None, message: reason.clone() });
                    for &i in here.iter().rev() {
                        let s = self.surfaces.remove(i);
                        if let Some(r) = &s.reply {
                            let _ = r.try_send(DisplayReply::Refused { id: s.id, reason: reason.clone() });
                        }
                    }
                }
            }
        }
    }

    fn make_window(&mut self, title: &str) -> Result<(), String> {
        let size = self.needed(title);
        if let Some(w) = self.windows.get_mut(title) {
            if w.size.0 >= size.0 && w.size.1 >= size.1 {
                w.dirty = true;
                return Ok(());
            }
        }
        // Close the old, smaller one first.
        self.windows.remove(title);
        let mut window = Window::new(title, size.0, size.1, WindowOptions::default()).map_err(|e| {
            let hint = if std::env::var_os("DISPLAY").is_none() { " ($DISPLAY is not set)" } else { "" };
            format!("cannot open a window{hint}: {e}")
        })?;
        window.set_target_fps(0);
        let input = Arc::new(Mutex::new(Vec::new()));
        window.set_input_callback(Box::new(Collector(input.clone())));
        let frame = Surface::new(size.0, size.1, self.config.background);
        self.windows.insert(title.to_string(), Win { window, size, frame, input, buttons: [false; 3], dirty: true });
        Ok(())
    }

    /// Draws what changed, pumps every window's events and routes its input.
    fn update_windows(&mut self) {
        let mut gone = Vec::new();
        let titles: Vec<String> = self.windows.keys().cloned().collect();
        for title in titles {
            let Some(w) = self.windows.get_mut(&title) else { continue };
            let here = || self.surfaces.iter().filter(|s| window_title(s) == title);
            let result = if w.dirty {
                w.dirty = false;
                w.frame.fill(self.config.background);
                for s in here() {
                    if let Some(f) = s.frame.latest() {
                        w.frame.blit(&f, s.position.0, s.position.1, s.colour_key);
                    }
                }
                w.window.update_with_buffer(&w.frame.pixels, w.size.0, w.size.1).map_err(|e| e.to_string())
            } else {
                w.window.update();
                Ok(())
            };
            let mut inputs: Vec<WindowInput> =
                std::mem::take(&mut *w.input.lock().unwrap_or_else(PoisonError::into_inner));
            if let Some((x, y)) = w.window.get_mouse_pos(MouseMode::Pass) {
                for (i, (mb, button)) in BUTTONS.iter().enumerate() {
                    let down = w.window.get_mouse_down(*mb);
                    if down != w.buttons[i] {
                        w.buttons[i] = down;
                        inputs.push(WindowInput::Mouse { x: x as i32, y: y as i32, button: *button, down });
                    }
                }
            }
            if result.is_err() || !w.window.is_open() {
                inputs.push(WindowInput::Close);
                gone.push(title.clone());
            }
            for input in inputs {
                for (to, e) in route(input, here()) {
                    // Input for a component that does not read it is dropped (see `DisplayReply`).
                    let _ = to.try_send(e);
                }
            }
        }
        for title in gone {
            self.windows.remove(&title);
            self.closed.insert(title);
        }
    }
}
