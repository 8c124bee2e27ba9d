//! Button (Kamaelia's `Kamaelia.UI.Pygame.Button`): a captioned surface that sends its
//! message when clicked or when its key is pressed.

use std::fmt;

use axon_core::{Component, ComponentBuilder, ComponentId, ControlWatch, Signal, pause, yield_now};

use crate::Display;
use crate::display::{DisplayBoxes, DisplayClient, Listen, Placement};
use crate::event::{Event, Key, MouseButton};
use crate::font::TextMetrics;
use crate::surface::{Rgb, Surface};

/// A Button's default message: "button `.0` was clicked" (Kamaelia's `("CLICK", id)`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Click(pub ComponentId);

/// The face of a button: its caption centred on its background.
pub fn button_face(caption: &str, size: (usize, usize), text_height: usize, bg: Rgb, fg: Rgb) -> Surface {
    let m = TextMetrics::new(text_height);
    let mut s = Surface::new(size.0, size.1, bg);
    let x = (size.0 as i64 - m.width(caption) as i64) / 2;
    let y = (size.1 as i64 - m.line_height as i64) / 2;
    s.draw_text(x as i32, y as i32, caption, text_height, fg);
    s
}

/// Builds a Button; see [`Button`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct ButtonBuilder<M> {
    caption: Option<String>,
    placement: Placement,
    size: Option<(usize, usize)>,
    margin: usize,
    text_height: usize,
    bgcolour: Rgb,
    fgcolour: Rgb,
    key: Option<Key>,
    transparent: bool,
    msg: Box<dyn Fn(ComponentId) -> M + Send>,
}

impl<M> fmt::Debug for ButtonBuilder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ButtonBuilder").field("caption", &self.caption).field("key", &self.key).finish_non_exhaustive()
    }
}

/// Kamaelia's `Button`: a surface showing a caption; a left click inside it, or its key,
/// sends its message on `outbox`.
///
/// Configuration (Kamaelia's defaults): `caption` `"Button <id>"`; `position` (0, 0) in its
/// window (Kamaelia lets the display choose); `margin` 8 around the caption; `bgcolour`
/// (224, 224, 224); `fgcolour` black; `msg` [`Click`] with its id; `key` none; not
/// `transparent`; `size` the caption's size plus the margins (a given size centres the
/// caption); `text_height` 14; `title` and `display` choose its window.
///
/// Boxes:
/// - `inbox: ()`: unused (Kamaelia's took pygame events: here they come on `events`).
/// - `control: Signal`: shutdown signalling.
/// - `outbox: M`: its message, once per click or key press.
/// - `signal: Signal`: signals passed on; `ErrorInformation` if it cannot have a window; the
///   signal that ended it.
/// - `events: Event`: from its window. A left [`Event::MouseDown`] whose position (relative
///   to the button) is inside it, or a [`Event::KeyDown`] of its key, sends the message.
/// - `callback: DisplayReply`, `display_signal: DisplayRequest`: the display protocol
///   (Kamaelia's `callback` and `display_signal`).
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)); it has nothing
/// to drain, so `ProducerFinished` ends it at once too. It gives its surface back when it
/// stops. If its window is closed it sends its own `ShutdownMicroprocess` and stops.
///
/// Differs from Kamaelia: only the left button clicks; closing the window ends it.
#[derive(Debug)]
pub struct Button;

impl Button {
    /// A Button with the defaults, sending [`Click`].
    #[allow(clippy::new_ret_no_self, reason = "components are ordinary Components, as every Kamaelia constructor")]
    pub fn new() -> Component {
        Self::builder().build()
    }

    /// A builder, sending [`Click`] until [`msg`](ButtonBuilder::msg) says otherwise.
    pub fn builder() -> ButtonBuilder<Click> {
        ButtonBuilder {
            caption: None,
            placement: Placement::new((0, 0), (0, 0)),
            size: None,
            margin: 8,
            text_height: 14,
            bgcolour: Rgb(224, 224, 224),
            fgcolour: Rgb::BLACK,
            key: None,
            transparent: false,
            msg: Box::new(Click),
        }
    }
}

impl<M: Clone + Send + 'static> ButtonBuilder<M> {
    /// Its caption (default `"Button <id>"`).
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// The message it sends (default [`Click`]).
    pub fn msg<N: Clone + Send + 'static>(self, msg: N) -> ButtonBuilder<N> {
        ButtonBuilder {
            caption: self.caption,
            placement: self.placement,
            size: self.size,
            margin: self.margin,
            text_height: self.text_height,
            bgcolour: self.bgcolour,
            fgcolour: self.fgcolour,
            key: self.key,
            transparent: self.transparent,
            msg: Box::new(move |_| msg.clone()),
        }
    }

    /// A key that presses it too.
    pub fn key(mut self, key: Key) -> Self {
        self.key = Some(key);
        self
    }

    /// Where it goes in its window (default (0, 0)).
    pub fn position(mut self, x: i32, y: i32) -> Self {
        self.placement.position = (x, y);
        self
    }

    /// Its size (default: the caption's plus the margins).
    pub fn size(mut self, width: usize, height: usize) -> Self {
        self.size = Some((width, height));
        self
    }

    /// Space around the caption when sized by it (default 8).
    pub fn margin(mut self, margin: usize) -> Self {
        self.margin = margin;
        self
    }

    /// Caption text height (default 14).
    pub fn text_height(mut self, h: usize) -> Self {
        self.text_height = h;
        self
    }

    /// Background colour (default (224, 224, 224)).
    pub fn bgcolour(mut self, c: impl Into<Rgb>) -> Self {
        self.bgcolour = c.into();
        self
    }

    /// Caption colour (default black).
    pub fn fgcolour(mut self, c: impl Into<Rgb>) -> Self {
        self.fgcolour = c.into();
        self
    }

    /// Makes its background transparent in its window.
    pub fn transparent(mut self, yes: bool) -> Self {
        self.transparent = yes;
        self
    }

    /// Its window's title (default [`DEFAULT_TITLE`](crate::DEFAULT_TITLE)).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.placement.title = Some(title.into());
        self
    }

    /// The display service to use (default: the scheduler's, see [`Display::of`]).
    pub fn display(mut self, display: Display) -> Self {
        self.placement.display = Some(display);
        self
    }

    /// Builds the Button.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("Button");
        let io = b.standard::<(), M>();
        let boxes = DisplayBoxes::declare(&mut b);
        let caption = self.caption.unwrap_or_else(|| format!("Button {}", b.id()));
        let m = TextMetrics::new(self.text_height);
        let size = self.size.unwrap_or((m.width(&caption) + 2 * self.margin, m.line_height + 2 * self.margin));
        let mut placement = self.placement;
        placement.size = size;
        if self.transparent {
            placement.colour_key = Some(self.bgcolour);
        }
        let face = button_face(&caption, size, self.text_height, self.bgcolour, self.fgcolour);
        let (key, make) = (self.key, self.msg);
        b.run(move |ctx| async move {
            let msg = make(ctx.id());
            let inside = |x: i32, y: i32| x >= 0 && y >= 0 && (x as usize) < size.0 && (y as usize) < size.1;
            let mut watch = ControlWatch::new(io.control, io.signal);
            let listen = Listen { keys: key.is_some(), mouse: true };
            let client = match DisplayClient::connect(&ctx, boxes, &placement, listen, &mut watch).await {
                Ok(c) => c,
                Err(stop) => return watch.finish(stop).await,
            };
            let end = match client.show(&mut watch, &face).await {
                Err(end) => end,
                Ok(()) => 'run: loop {
                    if let Some(s) = watch.check() {
                        break s;
                    }
                    let mut busy = false;
                    while let Some(e) = client.events().try_recv() {
                        busy = true;
                        let pressed = match e {
                            Event::MouseDown { x, y, button: MouseButton::Left } => inside(x, y),
                            Event::KeyDown(k) => Some(k) == key,
                            Event::Closed => break 'run Signal::ShutdownMicroprocess,
                            _ => false,
                        };
                        if pressed {
                            if let Err(stop) = watch.send(&io.outbox, msg.clone()).await {
                                break 'run stop.signal;
                            }
                        }
                    }
                    client.refused(&ctx, &mut watch).await;
                    // `inbox` is unused: empty it so nothing piles up.
                    busy |= io.inbox.drain().count() > 0;
                    if let Some(f) = watch.take_finished() {
                        break f;
                    }
                    if busy {
                        yield_now().await;
                    } else {
                        pause().await;
                    }
                },
            };
            client.close(&mut watch).await;
            watch.finish(end).await;
        })
    }
}
