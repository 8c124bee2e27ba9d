//! Kamaelia's window components on minifb: [`TextDisplayer`], [`Textbox`], [`Ticker`] and
//! [`Button`], and the display service they share ([`WindowDisplay`], Kamaelia's
//! `PygameDisplay`).
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
//! use axon_core::{Scheduler, Signal};
//! use kamaelia_ui::{NullDisplay, Rgb, TextDisplayer};
//!
//! let null = NullDisplay::new();
//! let shown = TextDisplayer::builder().size(200, 60).text_height(16).build();
//! let sched = Scheduler::new().background();
//! sched.activate(null.component()).unwrap();
//! let h = sched.handle::<String, ()>(&shown).unwrap();
//! h.put("hello".to_string());
//! // The newest line is drawn at the bottom, in black on pale yellow.
//! let frame = null
//!     .wait_for(&shown, Duration::from_secs(10), |s| s.count(s.rect(), Rgb::BLACK) > 0)
//!     .expect("a frame with text");
//! assert_eq!(frame.get(199, 0), Some(Rgb(255, 255, 200)));
//! h.put_control(Signal::ShutdownMicroprocess);
//! assert!(h.get_signal_timeout(Duration::from_secs(10)).is_some_and(|s| s.is_shutdown()));
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
pub use topology::*;
pub use window::WindowDisplay;
