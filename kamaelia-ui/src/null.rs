//! [`NullDisplay`]: a display service with no windows, keeping every surface's frames in
//! memory, for tests and for running window components headless.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ComponentId, ControlWatch, Next, Signal};

use crate::display::{
    DISPLAY_SERVICE, Display, DisplayReply, DisplayRequest, Listen, SurfaceId, SurfaceSpec, WindowInput, route,
    window_title,
};
use crate::surface::Surface;

/// What a [`NullDisplay`] knows of one surface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurfaceInfo {
    /// Its id.
    pub id: SurfaceId,
    /// Width and height.
    pub size: (usize, usize),
    /// Position in its window.
    pub position: (i32, i32),
    /// Its window's title.
    pub title: String,
    /// The input it asked for.
    pub listen: Listen,
    /// False once its component gave it back.
    pub open: bool,
    /// How many redraws it asked for.
    pub redraws: usize,
}

#[derive(Default)]
struct State {
    surfaces: Vec<(SurfaceSpec, SurfaceInfo)>,
    ended: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Only this module's short, panic-free sections hold the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A display service with no windows: it grants every surface, keeps each one's latest frame
/// for whoever asks, and lets a test play a window's input into it ([`input`](Self::input)),
/// routed exactly as a real window routes it. The other way to feed a component is straight
/// into its `events` inbox (`component.inbox_ref::<Event>("events")`).
///
/// Boxes: `inbox: DisplayRequest` (the requests), `control: Signal`, `outbox: ()` (unused),
/// `signal: Signal`.
///
/// When activated it registers itself as its scheduler's display service
/// ([`DISPLAY_SERVICE`]), so window components built without an explicit display use it; it
/// refuses to start if another display is registered.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): on
/// `ProducerFinished` it serves the requests already in `inbox` first. It also ends by
/// itself, as [`WindowDisplay`](crate::WindowDisplay) does, once the last surface it was
/// given has been given back (sending its own `ProducerFinished`). Either way it deregisters
/// itself.
#[derive(Clone)]
pub struct NullDisplay {
    component: Component,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for NullDisplay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NullDisplay").field("component", &self.component).finish_non_exhaustive()
    }
}

impl Default for NullDisplay {
    fn default() -> Self {
        Self::new()
    }
}

impl NullDisplay {
    /// A null display (activate its [`component`](Self::component) before the components
    /// that use it).
    pub fn new() -> Self {
        let shared = Arc::new(Shared::default());
        let mut b = ComponentBuilder::new("NullDisplay");
        let io = b.standard::<DisplayRequest, ()>();
        b.on_activate(|ctx| {
            ctx.services().register(DISPLAY_SERVICE, &ctx.component(), "inbox").map_err(|e| e.to_string())
        });
        let sh = shared.clone();
        let component = b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            let mut had_any = false;
            let end = loop {
                let req = match watch.next(&io.inbox).await {
                    Next::Data(req) => req,
                    Next::End(s) => break s,
                    // `Other` comes only under `SignalPolicy::Deliver`; this watch forwards.
                    Next::Other(_) => continue,
                };
                match req {
                    DisplayRequest::Open(spec) => {
                        had_any = true;
                        let info = SurfaceInfo {
                            id: spec.id,
                            size: spec.size,
                            position: spec.position,
                            title: window_title(&spec).to_string(),
                            listen: spec.listen,
                            open: true,
                            redraws: 0,
                        };
                        let reply = spec.reply.clone();
                        sh.lock().surfaces.push((spec, info.clone()));
                        sh.changed.notify_all();
                        if let Some(r) = reply {
                            // A display never waits on a client (see `DisplayReply`).
                            let _ = r.try_send(DisplayReply::Granted(info.id));
                        }
                    }
                    DisplayRequest::Redraw(id) => {
                        if let Some((spec, info)) = sh.lock().surfaces.iter_mut().find(|(s, _)| s.id == id) {
                            spec.frame.take();
                            info.redraws += 1;
                        }
                        sh.changed.notify_all();
                    }
                    DisplayRequest::Close(id) => {
                        if let Some((_, info)) = sh.lock().surfaces.iter_mut().find(|(s, _)| s.id == id) {
                            info.open = false;
                        }
                        sh.changed.notify_all();
                    }
                }
                if had_any && sh.lock().surfaces.iter().all(|(_, i)| !i.open) {
                    break Signal::producer_finished_by(ctx.id());
                }
            };
            Display::deregister_self(&ctx);
            sh.lock().ended = true;
            sh.changed.notify_all();
            watch.finish(end).await;
        });
        NullDisplay { component, shared }
    }

    /// The service component.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// This display, to give a window component explicitly.
    pub fn display(&self) -> Display {
        Display::new(self.component.clone())
    }

    /// The newest surface `owner` asked for.
    pub fn info(&self, owner: &Component) -> Option<SurfaceInfo> {
        self.find(owner.id(), |_, i| i.clone())
    }

    fn find<R>(&self, owner: ComponentId, f: impl FnOnce(&SurfaceSpec, &SurfaceInfo) -> R) -> Option<R> {
        let g = self.shared.lock();
        g.surfaces.iter().rev().find(|(s, _)| s.owner == owner).map(|(s, i)| f(s, i))
    }

    /// The latest frame of the newest surface `owner` asked for.
    pub fn surface(&self, owner: &Component) -> Option<Surface> {
        self.find(owner.id(), |s, _| s.frame.latest()).flatten().map(|f| (*f).clone())
    }

    /// Waits up to `timeout` until `owner`'s latest frame satisfies `test`; returns that frame,
    /// or `None` on timeout.
    pub fn wait_for(&self, owner: &Component, timeout: Duration, test: impl Fn(&Surface) -> bool) -> Option<Surface> {
        let deadline = Instant::now() + timeout;
        let mut g = self.shared.lock();
        loop {
            let frame =
                g.surfaces.iter().rev().find(|(s, _)| s.owner == owner.id()).and_then(|(s, _)| s.frame.latest());
            if let Some(f) = frame.filter(|f| test(f)) {
                return Some((*f).clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            g = self.shared.changed.wait_timeout(g, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// Waits up to `timeout` until `test` holds for what it knows of `owner`'s newest surface.
    pub fn wait_info(&self, owner: &Component, timeout: Duration, test: impl Fn(&SurfaceInfo) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut g = self.shared.lock();
        loop {
            if g.surfaces.iter().rev().find(|(s, _)| s.owner == owner.id()).is_some_and(|(_, i)| test(i)) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = self.shared.changed.wait_timeout(g, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// Waits up to `timeout` for the display to end; true if it has.
    pub fn wait_ended(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut g = self.shared.lock();
        while !g.ended {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = self.shared.changed.wait_timeout(g, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
        true
    }

    /// Plays `input` into the window titled `title` (`None`: the default title), as a real
    /// window would: each open surface in it gets the events it asked for, positions made
    /// relative to it (an event for a full `events` inbox is dropped, see
    /// [`DisplayReply`]). Returns how many events were delivered.
    pub fn input(&self, title: Option<&str>, input: WindowInput) -> usize {
        let title = title.unwrap_or(crate::DEFAULT_TITLE);
        let deliveries = {
            let g = self.shared.lock();
            route(input, g.surfaces.iter().filter(|(s, i)| i.open && window_title(s) == title).map(|(s, _)| s))
        };
        // As a real window: input for a surface whose `events` inbox is full is dropped.
        deliveries.into_iter().filter_map(|(to, e)| to.try_send(e).ok()).count()
    }
}
