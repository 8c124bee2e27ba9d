//! Kamaelia's window components on minifb: [`TextDisplayer`], [`Textbox`], [`Ticker`],
//! [`Button`] and the AxonVisualiser's [`TopologyViewer`], and the display service they share
//! ([`WindowDisplay`], Kamaelia's `PygameDisplay`).
//!
//! Each is an ordinary component with the standard boxes plus the display protocol's
//! (`events`, `callback`, `display_signal`), and each keeps the standard shutdown contract on
//! a [`ControlWatch`](axon_core::ControlWatch), so it sits in a `Pipeline` like any other.
//!
//! Every component draws into a plain pixel buffer, a [`Surface`], with text from the font8x8
//! bitmap font ([`TextMetrics`]); a display service shows the surfaces in windows and sends
//! each component the input of its window ([`Event`]) on its `events` inbox. So a component
//! works, and is tested, without any window: with a [`NullDisplay`], its frames are read back
//! and events are put into the same inbox a window feeds. The renderers are plain types too
//! ([`TextPane`], [`TickerPane`], [`button_face`]).
//!
//! ```
//! use std::time::Duration;
//! use axon_core::{ComponentBuilder, Scheduler, Signal, link};
//! use kamaelia_ui::{NullDisplay, Rgb, TextDisplayer};
//!
//! // A component of one's own, on the driver: it shouts each line.
//! let mut b = ComponentBuilder::new("Shout");
//! let io = b.standard::<String, String>();
//! let shout = b.run(|_ctx| io.transform(|line: String| Some(line.to_uppercase())));
//! // Shown in a TextDisplayer; a NullDisplay keeps its frames instead of opening a window.
//! let null = NullDisplay::new();
//! let shown = TextDisplayer::builder().size(200, 60).text_height(16).build();
//! link((&shout, "outbox"), (&shown, "inbox")).unwrap();
//! link((&shout, "signal"), (&shown, "control")).unwrap();
//!
//! let sched = Scheduler::new().background();
//! for c in [null.component(), &shown, &shout] {
//!     sched.activate(c).unwrap();
//! }
//! shout.inbox_ref::<String>("inbox").unwrap().send_blocking("hello".to_string());
//! // The newest line is drawn at the bottom, in black on pale yellow.
//! let frame = null
//!     .wait_for(&shown, Duration::from_secs(10), |s| s.count(s.rect(), Rgb::BLACK) > 0)
//!     .expect("a frame with text");
//! assert_eq!(frame.get(199, 0), Some(Rgb(255, 255, 200)));
//! // A shutdown runs down the chain: the TextDisplayer gives its surface back and ends.
//! shout.inbox_ref::<Signal>("control").unwrap().send_blocking(Signal::ShutdownMicroprocess);
//! assert!(null.wait_info(&shown, Duration::from_secs(10), |i| !i.open));
//! ```
//!
//! Apps open real windows with the default display ([`Display::of`] starts a
//! [`WindowDisplay`] on first use) or register one configured their way.

mod button;
mod display;
mod event;
mod font;
mod null;
mod surface;
mod text;
mod ticker;
mod topology;
mod window;

pub use button::{Button, ButtonBuilder, Click, button_face};
pub use display::{
    DEFAULT_TITLE, DISPLAY_SERVICE, Display, DisplayReply, DisplayRequest, FrameSlot, Listen, SurfaceId, SurfaceSpec,
    WindowInput,
};
pub use event::{Event, Key, MouseButton};
pub use font::{TextMetrics, glyph};
pub use null::{NullDisplay, SurfaceInfo};
pub use surface::{Rect, Rgb, Surface};
pub use text::{CURSOR, TextDisplayer, TextDisplayerBuilder, TextPane, TextStyle, Textbox, TextboxBuilder, wrap};
pub use ticker::{Ticker, TickerBuilder, TickerPane, TickerStyle};
pub use topology::{
    Command, CommandError, LABEL_HEIGHT, Layout, LayoutParams, Node, NodeKey, NodeKind, Point, PositionSpec, SourceId,
    Topology, TopologyEvent, TopologyMessage, TopologyStyle, TopologyViewer, TopologyViewerBuilder, VIEWER_TITLE, View,
    component_label_rect, draw_line, render, short_name,
};
pub use window::WindowDisplay;
