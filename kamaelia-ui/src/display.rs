//! The display protocol (Kamaelia's `PygameDisplay` requests): how a component asks the
//! display service for a surface, shows frames on it and gives it back; the [`Display`]
//! service handle; and the client side every window component shares.
//!
//! A component draws into its own [`Surface`] and publishes each finished frame in a
//! [`FrameSlot`] it shares with the display: the slot holds only the latest frame, so a
//! component that draws faster than the display shows never queues frames, and a
//! [`DisplayRequest::Redraw`] is sent only when the slot goes from clean to dirty.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axon_core::{
    Component, ComponentBuilder, ComponentId, ControlWatch, Ctx, Inbox, InboxRef, Outbox, ServiceError, Signal,
};

use crate::event::Event;
use crate::surface::{Rgb, Surface};

/// The name the display service is registered under in a scheduler's
/// [`Services`](axon_core::Services) (Kamaelia's `"pygamedisplay"`).
pub const DISPLAY_SERVICE: &str = "display";

/// The window title used when a surface does not name one.
pub const DEFAULT_TITLE: &str = "Kamaelia";

/// Identifies one surface for the whole process.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SurfaceId(pub u64);

impl SurfaceId {
    /// A fresh id.
    pub fn next() -> SurfaceId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        SurfaceId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

#[derive(Default)]
struct SlotState {
    latest: Option<Arc<Surface>>,
    dirty: bool,
}

/// The latest frame of one surface, shared by the component that draws it and the display
/// that shows it. Cheap to clone.
#[derive(Clone, Default)]
pub struct FrameSlot(Arc<Mutex<SlotState>>);

impl fmt::Debug for FrameSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FrameSlot(..)")
    }
}

impl FrameSlot {
    fn state(&self) -> std::sync::MutexGuard<'_, SlotState> {
        // A panic while holding this lock leaves a whole frame or none: the data is fine.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts a new frame in; true if the slot was clean (so the display must be told).
    pub fn publish(&self, frame: Surface) -> bool {
        let mut s = self.state();
        s.latest = Some(Arc::new(frame));
        !std::mem::replace(&mut s.dirty, true)
    }

    /// The latest frame if it changed since the last `take` (marking it seen).
    pub fn take(&self) -> Option<Arc<Surface>> {
        let mut s = self.state();
        if std::mem::replace(&mut s.dirty, false) { s.latest.clone() } else { None }
    }

    /// The latest frame, seen or not.
    pub fn latest(&self) -> Option<Arc<Surface>> {
        self.state().latest.clone()
    }
}

/// Which input a surface wants on its `events` inbox ([`Event::Closed`] always comes).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Listen {
    /// Key and text events.
    pub keys: bool,
    /// Mouse button events.
    pub mouse: bool,
}

/// A request for a surface (Kamaelia's `{"DISPLAYREQUEST": True, "size": ..., "position": ...,
/// "callback": ..., "events": ...}`).
#[derive(Debug)]
pub struct SurfaceSpec {
    /// Its id (from [`SurfaceId::next`]).
    pub id: SurfaceId,
    /// The component that draws it.
    pub owner: ComponentId,
    /// Width and height in pixels.
    pub size: (usize, usize),
    /// Where its top-left corner goes in its window.
    pub position: (i32, i32),
    /// Its window's title: surfaces with the same title share one window ([`DEFAULT_TITLE`]
    /// when `None`).
    pub title: Option<String>,
    /// Pixels of this colour are not shown (Kamaelia's `transparency`).
    pub colour_key: Option<Rgb>,
    /// The input it wants.
    pub listen: Listen,
    /// Where events go (Kamaelia's `events` callback).
    pub events: Option<InboxRef<Event>>,
    /// Where the answer goes (Kamaelia's `callback`).
    pub reply: Option<InboxRef<DisplayReply>>,
    /// Its frames.
    pub frame: FrameSlot,
}

/// What a component sends the display service.
#[derive(Debug)]
#[non_exhaustive]
pub enum DisplayRequest {
    /// Give me a surface.
    Open(SurfaceSpec),
    /// The surface's [`FrameSlot`] has a new frame.
    Redraw(SurfaceId),
    /// I am done with the surface (Kamaelia's `producerFinished(message=surface)`).
    Close(SurfaceId),
}

/// The display service's answer to [`DisplayRequest::Open`], on the requester's `callback`.
///
/// A display never waits on a client: an answer (or an [`Event`]) for a component whose
/// `callback` (or `events`) inbox is full is dropped, so one component that stopped reading
/// cannot stall every window.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisplayReply {
    /// The surface is shown.
    Granted(SurfaceId),
    /// It cannot be shown (no display, say); the reason says why.
    Refused {
        /// The surface.
        id: SurfaceId,
        /// Why.
        reason: String,
    },
}

/// A display service: a component whose `inbox` takes [`DisplayRequest`]s. The window one is
/// [`WindowDisplay`](crate::WindowDisplay); tests use [`NullDisplay`](crate::NullDisplay).
#[derive(Clone, Debug)]
pub struct Display {
    component: Component,
}

impl Display {
    /// A display served by `component` (which must have an `inbox` of [`DisplayRequest`]).
    pub fn new(component: Component) -> Display {
        Display { component }
    }

    /// The service component.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// Registers `component` as the display service of the scheduler whose services these are.
    ///
    /// # Errors
    /// If another display is registered, or `component` has no `inbox`.
    pub fn register(services: &axon_core::Services, component: &Component) -> Result<Display, ServiceError> {
        services.register(DISPLAY_SERVICE, component, "inbox")?;
        Ok(Display::new(component.clone()))
    }

    /// The display service of the scheduler `ctx`'s component runs on: the registered one, or
    /// else a [`WindowDisplay`](crate::WindowDisplay) with default settings, started and
    /// registered on first use (Kamaelia's `PygameDisplay.getDisplayService()`).
    ///
    /// # Errors
    /// If a new display cannot be started.
    pub fn of(ctx: &Ctx) -> Result<Display, String> {
        let services = ctx.services();
        if let Ok((c, _)) = services.retrieve(DISPLAY_SERVICE) {
            return Ok(Display::new(c));
        }
        let window = crate::WindowDisplay::new().build();
        match Display::register(&services, &window) {
            Ok(d) => {
                ctx.activate(&window).map_err(|e| format!("cannot start the display service: {e}"))?;
                Ok(d)
            }
            // Someone else registered one first: use theirs (ours never ran).
            Err(_) => services
                .retrieve(DISPLAY_SERVICE)
                .map(|(c, _)| Display::new(c))
                .map_err(|e| format!("no display service: {e}")),
        }
    }

    /// Removes `me` from `ctx`'s services if it is the registered display (a service that
    /// ends calls this, so a later [`Display::of`] starts a new one).
    pub(crate) fn deregister_self(ctx: &Ctx) {
        let services = ctx.services();
        if services.retrieve(DISPLAY_SERVICE).is_ok_and(|(c, _)| c.id() == ctx.id()) {
            let _ = services.deregister(DISPLAY_SERVICE);
        }
    }
}

/// The display boxes every window component declares.
pub(crate) struct DisplayBoxes {
    /// `events`: input from its window.
    pub(crate) events: Inbox<Event>,
    /// `callback`: the display's answer.
    pub(crate) callback: Inbox<DisplayReply>,
    /// `display_signal`: requests to the display.
    pub(crate) requests: Outbox<DisplayRequest>,
}

impl DisplayBoxes {
    pub(crate) fn declare(b: &mut ComponentBuilder) -> Self {
        DisplayBoxes { events: b.inbox("events"), callback: b.inbox("callback"), requests: b.outbox("display_signal") }
    }
}

/// Where a component's surface goes and how it looks there: the options every window
/// component's builder shares.
#[derive(Clone, Debug)]
pub(crate) struct Placement {
    pub(crate) size: (usize, usize),
    pub(crate) position: (i32, i32),
    pub(crate) title: Option<String>,
    pub(crate) display: Option<Display>,
    pub(crate) colour_key: Option<Rgb>,
}

impl Placement {
    pub(crate) fn new(size: (usize, usize), position: (i32, i32)) -> Self {
        Placement { size, position, title: None, display: None, colour_key: None }
    }
}

/// A window component's side of the display protocol: its display boxes, its surface and
/// its frames. Every request goes out through the component's [`ControlWatch`], so a
/// shutdown arriving while the display's inbox is full ends the wait (the `Err` of each
/// call is that shutdown, for the component to end with).
pub(crate) struct DisplayClient {
    boxes: DisplayBoxes,
    id: SurfaceId,
    slot: FrameSlot,
    connected: bool,
}

impl DisplayClient {
    /// Finds the display (the chosen one or [`Display::of`]), links `display_signal` to it and
    /// asks for a surface. If there is no display to ask, says so with `ErrorInformation` on
    /// `signal` and returns the client unconnected (its frames then go nowhere).
    pub(crate) async fn connect(
        ctx: &Ctx,
        boxes: DisplayBoxes,
        placement: &Placement,
        listen: Listen,
        watch: &mut ControlWatch,
    ) -> Result<DisplayClient, Signal> {
        let mut client = DisplayClient { boxes, id: SurfaceId::next(), slot: FrameSlot::default(), connected: false };
        let display = match placement.display.clone().map_or_else(|| Display::of(ctx), Ok) {
            Ok(d) => d,
            Err(e) => {
                watch.emit(no_window(ctx, &e)).await;
                return Ok(client);
            }
        };
        let me = ctx.component();
        if let Err(e) = ctx.link((&me, "display_signal"), (display.component(), "inbox")) {
            watch.emit(no_window(ctx, &format!("cannot use the display service: {e}"))).await;
            return Ok(client);
        }
        // Both inboxes were declared by DisplayBoxes with these types.
        let events = me.inbox_ref::<Event>("events").ok();
        let reply = me.inbox_ref::<DisplayReply>("callback").ok();
        let spec = SurfaceSpec {
            id: client.id,
            owner: ctx.id(),
            size: placement.size,
            position: placement.position,
            title: placement.title.clone(),
            colour_key: placement.colour_key,
            listen,
            events,
            reply,
            frame: client.slot.clone(),
        };
        watch.send(&client.boxes.requests, DisplayRequest::Open(spec)).await?;
        client.connected = true;
        Ok(client)
    }

    /// True if a display was asked for its surface.
    pub(crate) fn is_connected(&self) -> bool {
        self.connected
    }

    /// Its `events` inbox: input from its window.
    pub(crate) fn events(&self) -> &Inbox<Event> {
        &self.boxes.events
    }

    /// Empties `events`, for a component that wants no input: true if its window was closed.
    pub(crate) fn closed(&self) -> bool {
        self.boxes.events.drain().filter(|e| *e == Event::Closed).count() > 0
    }

    /// Reads the display's answers: each refusal is reported as `ErrorInformation` on
    /// `signal`. True if the surface was refused.
    pub(crate) async fn refused(&self, ctx: &Ctx, watch: &mut ControlWatch) -> bool {
        let mut refused = false;
        while let Some(r) = self.boxes.callback.try_recv() {
            if let DisplayReply::Refused { reason, .. } = r {
                refused = true;
                watch.emit(no_window(ctx, &reason)).await;
            }
        }
        refused
    }

    /// Shows a new frame (the display is told only if it had seen the previous one).
    pub(crate) async fn show(&self, watch: &mut ControlWatch, frame: &Surface) -> Result<(), Signal> {
        if self.slot.publish(frame.clone()) && self.connected {
            watch.send(&self.boxes.requests, DisplayRequest::Redraw(self.id)).await?;
        }
        Ok(())
    }

    /// Gives the surface back (a component's last request; a second shutdown while the
    /// display is full abandons it).
    pub(crate) async fn close(self, watch: &mut ControlWatch) {
        if self.connected {
            let _ = watch.send(&self.boxes.requests, DisplayRequest::Close(self.id)).await;
        }
    }
}

/// The `ErrorInformation` a component sends when it cannot have a window.
fn no_window(ctx: &Ctx, reason: &str) -> Signal {
    Signal::ErrorInformation { caller: Some(ctx.id()), message: format!("{}: no window: {reason}", ctx.name()) }
}

/// Input to one window, before it is routed to the surfaces in it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WindowInput {
    /// A key went down (`down`) or up.
    Key {
        /// The key.
        key: crate::Key,
        /// True when pressed.
        down: bool,
    },
    /// A character was typed.
    Char(char),
    /// A mouse button went down or up at (`x`, `y`) in the window.
    Mouse {
        /// Pixels from the window's left edge.
        x: i32,
        /// Pixels from the window's top edge.
        y: i32,
        /// Which button.
        button: crate::MouseButton,
        /// True when pressed.
        down: bool,
    },
    /// The window was closed.
    Close,
}

/// Where one window input goes: the events each surface in the window gets (see [`Event`]).
pub(crate) fn route<'a>(
    input: WindowInput,
    surfaces: impl IntoIterator<Item = &'a SurfaceSpec>,
) -> Vec<(InboxRef<Event>, Event)> {
    let mut out = Vec::new();
    for s in surfaces {
        let Some(events) = &s.events else { continue };
        let event = match input {
            WindowInput::Key { key, down } if s.listen.keys => {
                if down {
                    Event::KeyDown(key)
                } else {
                    Event::KeyUp(key)
                }
            }
            WindowInput::Char(c) if s.listen.keys && !c.is_control() => Event::Text(c),
            WindowInput::Mouse { x, y, button, down } if s.listen.mouse => {
                let (x, y) = (x - s.position.0, y - s.position.1);
                if down { Event::MouseDown { x, y, button } } else { Event::MouseUp { x, y, button } }
            }
            WindowInput::Close => Event::Closed,
            _ => continue,
        };
        out.push((events.clone(), event));
    }
    out
}

/// The title of the window a surface is shown in.
pub(crate) fn window_title(spec: &SurfaceSpec) -> &str {
    spec.title.as_deref().unwrap_or(DEFAULT_TITLE)
}
