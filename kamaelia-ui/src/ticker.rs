//! Ticker (Kamaelia's `Kamaelia.UI.Pygame.Ticker`): text shown a word at a time, at a steady
//! rate, wrapping and jump-scrolling; and [`TickerPane`], what it draws.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, Signal, pause, pause_until};

use crate::Display;
use crate::display::{DisplayBoxes, DisplayClient, Listen, Placement};
use crate::font::TextMetrics;
use crate::surface::{Rect, Rgb, Surface};

/// How a [`TickerPane`] looks. Defaults are Kamaelia's Ticker's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TickerStyle {
    /// Width and height in pixels (default 399×299: Kamaelia's `render_right`,
    /// `render_bottom`).
    pub size: (usize, usize),
    /// Text height (default 39).
    pub text_height: usize,
    /// Extra pixels between lines (default `text_height / 7`).
    pub line_spacing: usize,
    /// Background (default (128, 48, 128)).
    pub background_colour: Rgb,
    /// Text (default (232, 232, 48)).
    pub text_colour: Rgb,
    /// Outline (default: the background colour).
    pub outline_colour: Rgb,
    /// Outline width (default 1).
    pub outline_width: usize,
}

impl Default for TickerStyle {
    fn default() -> Self {
        let bg = Rgb(128, 48, 128);
        TickerStyle {
            size: (399, 299),
            text_height: 39,
            line_spacing: 39 / 7,
            background_colour: bg,
            text_colour: Rgb(232, 232, 48),
            outline_colour: bg,
            outline_width: 1,
        }
    }
}

/// A ticker's surface: words added one at a time, each after a space, left to right; a word
/// that would cross the right edge starts a new line; when a new line would not fit above the
/// bottom edge, everything jumps up one line (the top line leaves) and the word goes on the
/// bottom line.
///
/// The text area is the surface inside the outline. Differs from Kamaelia: the outline is
/// drawn all round (the original's is off the surface on the right and bottom), and a word
/// too long for a whole line is clipped rather than drawn past the edge.
#[derive(Clone, Debug)]
pub struct TickerPane {
    style: TickerStyle,
    metrics: TextMetrics,
    surface: Surface,
    /// Where the next word goes.
    x: usize,
    y: usize,
    /// Whether the current line has a word.
    started: bool,
    scrolls: usize,
}

impl TickerPane {
    /// A blank ticker.
    pub fn new(style: TickerStyle) -> Self {
        let metrics = TextMetrics::new(style.text_height);
        let mut surface = Surface::new(style.size.0, style.size.1, style.background_colour);
        surface.border(surface.rect(), style.outline_width, style.outline_colour);
        let o = style.outline_width;
        TickerPane { style, metrics, surface, x: o, y: o, started: false, scrolls: 0 }
    }

    /// Its text area: the surface inside the outline.
    pub fn text_area(&self) -> Rect {
        let o = self.style.outline_width;
        let (w, h) = self.style.size;
        Rect::new(o as i32, o as i32, w.saturating_sub(2 * o), h.saturating_sub(2 * o))
    }

    /// The distance from one line's top to the next one's.
    pub fn line_step(&self) -> usize {
        self.metrics.line_height + self.style.line_spacing
    }

    /// Where the next word goes: (x, y) of its line's top-left.
    pub fn cursor(&self) -> (usize, usize) {
        (self.x, self.y)
    }

    /// How many times it has jump-scrolled.
    pub fn scrolls(&self) -> usize {
        self.scrolls
    }

    /// Its surface.
    pub fn surface(&self) -> &Surface {
        &self.surface
    }

    /// Shows one more word.
    pub fn push_word(&mut self, word: &str) {
        let area = self.text_area();
        let right = area.x as usize + area.w;
        let bottom = area.y as usize + area.h;
        let text = format!(" {word}");
        let width = self.metrics.width(&text);
        if self.started && self.x + width > right {
            self.x = area.x as usize;
            let step = self.line_step();
            if self.y + step + self.metrics.line_height > bottom {
                self.scroll(step);
            } else {
                self.y += step;
            }
        }
        self.surface.draw_text_clipped(
            self.x as i32,
            self.y as i32,
            &text,
            self.style.text_height,
            self.style.text_colour,
            area,
        );
        self.x += width;
        self.started = true;
    }

    /// Moves the text area's contents up by `step` and clears the line the cursor is on.
    fn scroll(&mut self, step: usize) {
        self.scrolls += 1;
        let area = self.text_area();
        let w = self.surface.width;
        let (x0, x1) = (area.x as usize, area.x as usize + area.w);
        let (top, bottom) = (area.y as usize, area.y as usize + area.h);
        for y in top..bottom {
            let (dst, src) = (y * w, (y + step) * w);
            if y + step < bottom {
                self.surface.pixels.copy_within(src + x0..src + x1, dst + x0);
            } else {
                self.surface.pixels[dst + x0..dst + x1].fill(self.style.background_colour.pixel());
            }
        }
        let clear = Rect::new(area.x, self.y as i32, area.w, bottom.saturating_sub(self.y));
        self.surface.fill_rect(clear, self.style.background_colour);
    }
}

/// Kamaelia's `Ticker`: shows the words of the lines it receives one at a time, at a steady
/// rate (see [`TickerPane`] for wrapping and jump-scrolling). Runs of spaces and line breaks
/// only separate words.
///
/// Configuration (Kamaelia's defaults): `size` 399×299, `text_height` 39, `line_spacing`
/// `text_height / 7`, `background_colour` (128, 48, 128), `text_colour` (232, 232, 48),
/// `outline_colour` the background, `outline_width` 1, `position` (1, 1), 8
/// `words_per_second`; `title` and `display` choose its window.
///
/// Boxes:
/// - `inbox: String`: lines of text.
/// - `control: Signal`: shutdown signalling.
/// - `alphacontrol: u8`: accepted and ignored (windows here are composed opaque).
/// - `pausebox: ()`: any message pauses it; text keeps being taken in.
/// - `unpausebox: ()`: any message resumes it.
/// - `outbox: ()`: unused.
/// - `signal: Signal`: signals passed on; `ErrorInformation` if it cannot have a window; the
///   signal that ended it.
/// - `events: Event`: from its window; closing it ends the Ticker.
/// - `callback: DisplayReply`, `display_signal: DisplayRequest`: the display protocol
///   (Kamaelia's `_displaycontrol`, `_displaysignal`).
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): on
/// `ProducerFinished` it first shows every word it has received, at its rate (while paused,
/// that waits for the unpause, as in Kamaelia); a shutdown stops it at once, paused or not.
/// Closing its window makes it send its own `ShutdownMicroprocess` and stop.
///
/// Differs from Kamaelia: the original stops at `producerFinished` without showing the words
/// still to come, cannot be shut down while paused, and has no way to end from a closed
/// window; its `"\0CLRTKR"` and double-newline in-band commands are not supported.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct TickerBuilder {
    style: TickerStyle,
    placement: Placement,
    spacing_set: bool,
    outline_set: bool,
    words_per_second: f64,
}

/// Kamaelia's `Ticker`: see [`TickerBuilder`].
#[derive(Debug)]
pub struct Ticker;

impl Ticker {
    /// A Ticker with the defaults.
    #[allow(clippy::new_ret_no_self, reason = "components are ordinary Components, as every Kamaelia constructor")]
    pub fn new() -> Component {
        Self::builder().build()
    }

    /// A builder.
    pub fn builder() -> TickerBuilder {
        let style = TickerStyle::default();
        TickerBuilder {
            placement: Placement::new(style.size, (1, 1)),
            style,
            spacing_set: false,
            outline_set: false,
            words_per_second: 8.0,
        }
    }
}

impl TickerBuilder {
    /// Its size (default 399×299).
    pub fn size(mut self, width: usize, height: usize) -> Self {
        self.style.size = (width, height);
        self.placement.size = (width, height);
        self
    }

    /// Where it goes in its window (default (1, 1)).
    pub fn position(mut self, x: i32, y: i32) -> Self {
        self.placement.position = (x, y);
        self
    }

    /// Text height (default 39).
    pub fn text_height(mut self, h: usize) -> Self {
        self.style.text_height = h;
        self
    }

    /// Extra space between lines (default `text_height / 7`).
    pub fn line_spacing(mut self, px: usize) -> Self {
        self.style.line_spacing = px;
        self.spacing_set = true;
        self
    }

    /// Background colour (default (128, 48, 128)).
    pub fn background_colour(mut self, c: impl Into<Rgb>) -> Self {
        self.style.background_colour = c.into();
        self
    }

    /// Text colour (default (232, 232, 48)).
    pub fn text_colour(mut self, c: impl Into<Rgb>) -> Self {
        self.style.text_colour = c.into();
        self
    }

    /// Outline colour and width (default: the background colour, 1).
    pub fn outline(mut self, c: impl Into<Rgb>, width: usize) -> Self {
        self.style.outline_colour = c.into();
        self.style.outline_width = width;
        self.outline_set = true;
        self
    }

    /// Words shown per second (default 8).
    ///
    /// # Panics
    /// Unless `rate` is positive and finite.
    pub fn words_per_second(mut self, rate: f64) -> Self {
        assert!(rate.is_finite() && rate > 0.0, "Ticker: words per second must be positive, got {rate}");
        self.words_per_second = rate;
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

    /// Builds the Ticker.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("Ticker");
        let inbox = b.inbox::<String>("inbox");
        let control = b.control();
        let alpha = b.inbox::<u8>("alphacontrol");
        let pausebox = b.inbox::<()>("pausebox");
        let unpausebox = b.inbox::<()>("unpausebox");
        let _outbox = b.outbox::<()>("outbox");
        let signal = b.signal();
        let boxes = DisplayBoxes::declare(&mut b);
        let mut style = self.style;
        if !self.spacing_set {
            style.line_spacing = style.text_height / 7;
        }
        if !self.outline_set {
            style.outline_colour = style.background_colour;
        }
        let placement = self.placement;
        let delay = Duration::from_secs_f64(1.0 / self.words_per_second);
        b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(control, signal);
            let client = match DisplayClient::connect(&ctx, boxes, &placement, Listen::default(), &mut watch).await {
                Ok(c) => c,
                Err(stop) => return watch.finish(stop).await,
            };
            let mut pane = TickerPane::new(style);
            let mut words: VecDeque<String> = VecDeque::new();
            let mut paused = false;
            let mut next = Instant::now();
            let end = match client.show(&mut watch, pane.surface()).await {
                Err(end) => end,
                Ok(()) => loop {
                    if let Some(s) = watch.check() {
                        break s;
                    }
                    if client.closed() {
                        break Signal::ShutdownMicroprocess;
                    }
                    client.refused(&ctx, &mut watch).await;
                    alpha.drain().for_each(drop);
                    // Pause and unpause in arrival order cannot be told apart across two boxes:
                    // an unpause cancels one pause, whatever came first.
                    let (p, u) = (pausebox.drain().count(), unpausebox.drain().count());
                    if p > u {
                        paused = true;
                    } else if u > p {
                        paused = false;
                    }
                    for line in inbox.drain() {
                        words.extend(line.split_whitespace().map(str::to_string));
                    }
                    // Finishing: every word received before `ProducerFinished` is shown first.
                    if !paused && words.is_empty() {
                        if let Some(f) = watch.take_finished() {
                            break f;
                        }
                    }
                    if paused || words.is_empty() {
                        pause().await;
                        continue;
                    }
                    let now = Instant::now();
                    if now < next {
                        pause_until(next).await;
                        continue;
                    }
                    if let Some(w) = words.pop_front() {
                        pane.push_word(&w);
                        if let Err(end) = client.show(&mut watch, pane.surface()).await {
                            break end;
                        }
                    }
                    next = now + delay;
                },
            };
            client.close(&mut watch).await;
            watch.finish(end).await;
        })
    }
}
