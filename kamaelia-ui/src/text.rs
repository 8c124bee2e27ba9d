//! TextDisplayer and Textbox (Kamaelia's `Kamaelia.UI.Pygame.Text`), and [`TextPane`], the
//! wrapped, scrolling lines both draw.

use std::collections::VecDeque;
use std::fmt;

use axon_core::{Component, ComponentBuilder, ControlWatch, Ctx, Inbox, Next, Outbox, Signal, pause, yield_now};

use crate::Display;
use crate::display::{DisplayBoxes, DisplayClient, Listen, Placement};
use crate::event::{Event, Key};
use crate::font::TextMetrics;
use crate::surface::{Rect, Rgb, Surface};

/// The cursor a [`Textbox`] shows after the text typed.
pub const CURSOR: char = '_';

/// How many inbox items a text component takes in one turn before it redraws and lets
/// others run.
const BATCH: usize = 256;

/// How a [`TextPane`] looks. Defaults are Kamaelia's TextDisplayer's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextStyle {
    /// Width and height in pixels (default 500×300).
    pub size: (usize, usize),
    /// Text height in pixels (default 18; see [`TextMetrics`]).
    pub text_height: usize,
    /// Background (default (255, 255, 200), pale yellow).
    pub bgcolour: Rgb,
    /// Text (default black).
    pub fgcolour: Rgb,
    /// Space between the border and the text, in pixels (default 0).
    pub padding: usize,
    /// Border width in pixels (default 0).
    pub border_size: usize,
    /// Border colour (default (128, 128, 128)).
    pub border_colour: Rgb,
}

impl Default for TextStyle {
    fn default() -> Self {
        TextStyle {
            size: (500, 300),
            text_height: 18,
            bgcolour: Rgb(255, 255, 200),
            fgcolour: Rgb::BLACK,
            padding: 0,
            border_size: 0,
            border_colour: Rgb(128, 128, 128),
        }
    }
}

/// Lines of text, newest at the bottom, older ones scrolling up and out of sight (what
/// TextDisplayer and Textbox show), drawn into a [`Surface`].
///
/// Geometry, as Kamaelia's: the text area is the surface less the border and padding on
/// each side; the newest line's top is one line height above the text area's bottom, each
/// older line one line height higher; a line partly above the text area is clipped.
/// Wrapping: a line longer than [`line_len`](Self::line_len) characters is broken at its last
/// space within that length (the space dropped), or cut at that length if it has none;
/// CR and LF become spaces.
///
/// Differs from Kamaelia: the characters per line come from the text area's width, not the
/// whole surface's, and a line cut where it has no space loses no character (the original
/// drops the character at the cut).
#[derive(Clone, Debug)]
pub struct TextPane {
    style: TextStyle,
    metrics: TextMetrics,
    lines: VecDeque<String>,
    surface: Surface,
    dirty: bool,
}

impl TextPane {
    /// An empty pane.
    pub fn new(style: TextStyle) -> Self {
        let metrics = TextMetrics::new(style.text_height);
        let surface = Surface::new(style.size.0, style.size.1, style.bgcolour);
        let mut pane = TextPane { style, metrics, lines: VecDeque::new(), surface, dirty: true };
        pane.render();
        pane
    }

    /// Its style.
    pub fn style(&self) -> &TextStyle {
        &self.style
    }

    /// Its text metrics.
    pub fn metrics(&self) -> TextMetrics {
        self.metrics
    }

    fn inset(&self) -> usize {
        self.style.padding + self.style.border_size
    }

    /// The text area: the surface less border and padding.
    pub fn text_area(&self) -> Rect {
        let i = self.inset();
        let (w, h) = self.style.size;
        Rect::new(i as i32, i as i32, w.saturating_sub(2 * i), h.saturating_sub(2 * i))
    }

    /// Characters per line.
    pub fn line_len(&self) -> usize {
        self.metrics.chars_in(self.text_area().w)
    }

    /// How many lines can be seen (the top one perhaps in part).
    pub fn rows(&self) -> usize {
        self.text_area().h.div_ceil(self.metrics.line_height).max(1)
    }

    /// Where the line `back` lines above the newest one is drawn (0: the newest).
    pub fn line_rect(&self, back: usize) -> Rect {
        let area = self.text_area();
        let lh = self.metrics.line_height as i64;
        let bottom = i64::from(area.y) + area.h as i64;
        let y = bottom - (back as i64 + 1) * lh;
        Rect::new(area.x, y as i32, area.w, self.metrics.line_height)
    }

    /// The lines kept (at most [`rows`](Self::rows)), oldest first.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(String::as_str)
    }

    /// Adds `text` as a new line (wrapped into as many as it needs), scrolling older ones up.
    pub fn add(&mut self, text: &str) {
        for line in wrap(text, self.line_len()) {
            self.lines.push_back(line);
        }
        let rows = self.rows();
        while self.lines.len() > rows {
            self.lines.pop_front();
        }
        self.dirty = true;
    }

    /// Removes every line.
    pub fn clear(&mut self) {
        self.lines.clear();
        self.dirty = true;
    }

    /// Replaces everything with `text` (Kamaelia's `setText`).
    pub fn set_text(&mut self, text: &str) {
        self.clear();
        self.add(text);
    }

    /// The pane drawn.
    pub fn render(&mut self) -> &Surface {
        if self.dirty {
            self.dirty = false;
            let s = &self.style;
            self.surface.fill(s.border_colour);
            let b = s.border_size;
            self.surface.fill_rect(
                Rect::new(b as i32, b as i32, s.size.0.saturating_sub(2 * b), s.size.1.saturating_sub(2 * b)),
                s.bgcolour,
            );
            let area = self.text_area();
            let n = self.lines.len();
            for (i, line) in self.lines.iter().enumerate() {
                let r = self.line_rect(n - 1 - i);
                self.surface.draw_text_clipped(r.x, r.y, line, s.text_height, s.fgcolour, area);
            }
        }
        &self.surface
    }
}

/// Breaks `text` into lines of at most `len` characters (see [`TextPane`]).
pub fn wrap(text: &str, len: usize) -> Vec<String> {
    let len = len.max(1);
    let mut rest: Vec<char> = text.chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
    let mut out = Vec::new();
    while rest.len() > len {
        match rest[..len].iter().rposition(|&c| c == ' ') {
            Some(i) if i > 0 => {
                out.push(rest[..i].iter().collect());
                rest.drain(..=i);
            }
            _ => {
                out.push(rest[..len].iter().collect());
                rest.drain(..len);
            }
        }
    }
    out.push(rest.into_iter().collect());
    out
}

/// Builds a TextDisplayer or a Textbox: the options they share.
macro_rules! text_options {
    () => {
        /// Width and height of its surface (default 500×300).
        pub fn size(mut self, width: usize, height: usize) -> Self {
            self.style.size = (width, height);
            self.placement.size = (width, height);
            self
        }

        /// Where its surface goes in its window (default (0, 0)).
        pub fn position(mut self, x: i32, y: i32) -> Self {
            self.placement.position = (x, y);
            self
        }

        /// Its window's title: surfaces with one title share a window (default
        /// [`DEFAULT_TITLE`](crate::DEFAULT_TITLE)).
        pub fn title(mut self, title: impl Into<String>) -> Self {
            self.placement.title = Some(title.into());
            self
        }

        /// Text height in pixels (default 18).
        pub fn text_height(mut self, h: usize) -> Self {
            self.style.text_height = h;
            self
        }

        /// Background colour (default (255, 255, 200)).
        pub fn bgcolour(mut self, c: impl Into<Rgb>) -> Self {
            self.style.bgcolour = c.into();
            self
        }

        /// Text colour (default black).
        pub fn fgcolour(mut self, c: impl Into<Rgb>) -> Self {
            self.style.fgcolour = c.into();
            self
        }

        /// Padding inside the border, in pixels (default 0).
        pub fn padding(mut self, p: usize) -> Self {
            self.style.padding = p;
            self
        }

        /// Border width and colour (default none, (128, 128, 128)).
        pub fn border(mut self, size: usize, colour: impl Into<Rgb>) -> Self {
            self.style.border_size = size;
            self.style.border_colour = colour.into();
            self
        }

        /// Makes its background transparent in its window (Kamaelia's `transparent`).
        pub fn transparent(mut self, yes: bool) -> Self {
            self.transparent = yes;
            self
        }

        /// The display service to use (default: the scheduler's, see [`Display::of`]).
        pub fn display(mut self, display: Display) -> Self {
            self.placement.display = Some(display);
            self
        }
    };
}

/// Kamaelia's `TextDisplayer`: shows each item it receives as a new line at the bottom of
/// its surface, wrapped, older lines scrolling up (see [`TextPane`]).
///
/// Configuration (Kamaelia's defaults): `size` 500×300, `text_height` 18, `bgcolour`
/// (255, 255, 200), `fgcolour` black, `position` (0, 0), `padding` 0, `border` 0 in
/// (128, 128, 128), not `transparent`; `title` and `display` choose its window.
///
/// Boxes:
/// - `inbox: T` (`String` with [`build`](TextDisplayerBuilder::build)): each item is
///   formatted with `Display` and shown as a new line.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: ()`: unused (as Kamaelia's).
/// - `signal: Signal`: signals passed on; `ErrorInformation` if it cannot have a window; the
///   signal that ended it.
/// - `events: Event`: from its window; it acts on [`Event::Closed`] (Kamaelia's
///   `_quitevents`).
/// - `callback: DisplayReply`: the display's answer (Kamaelia's `_surface`).
/// - `display_signal: DisplayRequest`: requests to the display (Kamaelia's `_pygame`).
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): on
/// `ProducerFinished` it shows what is already in `inbox` first. When its window is closed it
/// sends its own `ShutdownMicroprocess` and stops. Either way it gives its surface back to the
/// display. If the display refuses a surface (no `$DISPLAY`, say) it sends `ErrorInformation`
/// and goes on without a window, still consuming its inbox, so the system it is part of does
/// not stall.
///
/// Differs from Kamaelia: the original always sends its own `shutdownMicroprocess`, and drops
/// what is still in its inbox on `producerFinished`; here the signal that ended it is passed
/// on and nothing received before it is lost.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct TextDisplayerBuilder {
    style: TextStyle,
    placement: Placement,
    transparent: bool,
}

/// Kamaelia's `TextDisplayer`: see [`TextDisplayerBuilder`].
#[derive(Debug)]
pub struct TextDisplayer;

impl TextDisplayer {
    /// A TextDisplayer of `String`s with the defaults.
    #[allow(clippy::new_ret_no_self, reason = "components are ordinary Components, as every Kamaelia constructor")]
    pub fn new() -> Component {
        Self::builder().build()
    }

    /// A builder.
    pub fn builder() -> TextDisplayerBuilder {
        let style = TextStyle::default();
        TextDisplayerBuilder { placement: Placement::new(style.size, (0, 0)), style, transparent: false }
    }
}

impl TextDisplayerBuilder {
    text_options!();

    /// Builds a TextDisplayer of `String`s.
    pub fn build(self) -> Component {
        self.build_display::<String>()
    }

    /// Builds a TextDisplayer whose `inbox` takes any `T: Display`.
    pub fn build_display<T: fmt::Display + Send + 'static>(mut self) -> Component {
        if self.transparent {
            self.placement.colour_key = Some(self.style.bgcolour);
        }
        let mut b = ComponentBuilder::new("TextDisplayer");
        let io = b.standard::<T, ()>();
        let boxes = DisplayBoxes::declare(&mut b);
        let TextDisplayerBuilder { style, placement, .. } = self;
        b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            let client = match DisplayClient::connect(&ctx, boxes, &placement, Listen::default(), &mut watch).await {
                Ok(c) => c,
                Err(stop) => return watch.finish(stop).await,
            };
            let mut shown = Shown { ctx, watch, client, pane: TextPane::new(style) };
            let end = match shown.client.show(&mut shown.watch, shown.pane.render()).await {
                Err(end) => end,
                Ok(()) => loop {
                    match shown.turn(&io.inbox).await {
                        Ok(true) => yield_now().await,
                        Ok(false) => pause().await,
                        Err(end) => break end,
                    }
                },
            };
            let Shown { mut watch, client, .. } = shown;
            client.close(&mut watch).await;
            watch.finish(end).await;
        })
    }
}

/// A running TextDisplayer.
struct Shown {
    ctx: Ctx,
    watch: ControlWatch,
    client: DisplayClient,
    pane: TextPane,
}

impl Shown {
    /// Shows what has come (at most [`BATCH`] items); `Ok(true)` if more may be waiting, `Err`
    /// with the signal that ends it.
    async fn turn<T: fmt::Display + Send + 'static>(&mut self, inbox: &Inbox<T>) -> Result<bool, Signal> {
        if self.client.closed() {
            return Err(Signal::ShutdownMicroprocess);
        }
        self.client.refused(&self.ctx, &mut self.watch).await;
        let mut n = 0;
        let mut end = None;
        while n < BATCH {
            match self.watch.try_next(inbox) {
                Some(Next::Data(item)) => {
                    self.pane.add(&item.to_string());
                    n += 1;
                }
                Some(Next::End(s)) => {
                    end = Some(s);
                    break;
                }
                // `Other` comes only under `SignalPolicy::Deliver`; this watch forwards.
                Some(Next::Other(_)) | None => break,
            }
        }
        if n > 0 {
            self.client.show(&mut self.watch, self.pane.render()).await?;
        }
        match end {
            Some(s) => Err(s),
            None => Ok(n == BATCH),
        }
    }
}

/// Kamaelia's `Textbox`: a line of typed text (shown with a [`CURSOR`], wrapped like a
/// [`TextPane`]); Enter sends it on `outbox` and starts a new one.
///
/// Configuration: as [`TextDisplayerBuilder`], plus `initial` (Kamaelia's
/// `initial_string_buffer`, default empty).
///
/// Input, from its window (`events`): a typed character ([`Event::Text`]) is added;
/// Backspace removes the last character; Enter (either) sends the text (without a line
/// ending) and clears it; Esc ends the Textbox. From `inbox` (Kamaelia's way of typing by
/// message): each character of each string is typed: `\r` or `\n` (a `\r\n` pair counting
/// once) is Enter, `\x08` is Backspace, other control characters are ignored.
///
/// Boxes:
/// - `inbox: String`: characters to type.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: String`: each line entered.
/// - `signal: Signal`: signals passed on; `ErrorInformation` if it cannot have a window; the
///   signal that ended it.
/// - `events: Event`: keys and text from its window, and [`Event::Closed`].
/// - `callback: DisplayReply`, `display_signal: DisplayRequest`: the display protocol.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): on
/// `ProducerFinished` it types what is already in `inbox` first (text not ended by Enter is
/// not sent); a shutdown also ends a send waiting on a full `outbox`. Esc, or closing its
/// window, makes it send its own `ShutdownMicroprocess` and stop. It gives its surface back to
/// the display when it stops. A refused surface is reported as `ErrorInformation` and it goes
/// on without a window.
///
/// Differs from Kamaelia: the cursor is `_` (font8x8's `|` is a broken bar, easily read as
/// `:`); a line cut without a space keeps every character (see [`TextPane`]); the original
/// always sends its own `shutdownMicroprocess`.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct TextboxBuilder {
    style: TextStyle,
    placement: Placement,
    transparent: bool,
    initial: String,
}

/// Kamaelia's `Textbox`: see [`TextboxBuilder`].
#[derive(Debug)]
pub struct Textbox;

impl Textbox {
    /// A Textbox with the defaults.
    #[allow(clippy::new_ret_no_self, reason = "components are ordinary Components, as every Kamaelia constructor")]
    pub fn new() -> Component {
        Self::builder().build()
    }

    /// A builder.
    pub fn builder() -> TextboxBuilder {
        let style = TextStyle::default();
        TextboxBuilder {
            placement: Placement::new(style.size, (0, 0)),
            style,
            transparent: false,
            initial: String::new(),
        }
    }
}

/// What typing one thing into a Textbox did.
enum Typed {
    Nothing,
    Changed,
    Line(String),
    Quit,
}

/// A Textbox's line being typed.
struct LineEditor {
    buffer: String,
    after_cr: bool,
}

impl LineEditor {
    fn event(&mut self, e: Event) -> Typed {
        match e {
            Event::KeyDown(Key::Enter | Key::NumPadEnter) => Typed::Line(std::mem::take(&mut self.buffer)),
            Event::KeyDown(Key::Backspace) => {
                self.buffer.pop();
                Typed::Changed
            }
            Event::KeyDown(Key::Escape) | Event::Closed => Typed::Quit,
            Event::Text(c) if !c.is_control() => {
                self.buffer.push(c);
                Typed::Changed
            }
            _ => Typed::Nothing,
        }
    }

    /// Types one character from `inbox`.
    fn char(&mut self, c: char) -> Typed {
        let after_cr = std::mem::replace(&mut self.after_cr, c == '\r');
        match c {
            '\n' if after_cr => Typed::Nothing,
            '\r' | '\n' => Typed::Line(std::mem::take(&mut self.buffer)),
            '\x08' => {
                self.buffer.pop();
                Typed::Changed
            }
            c if c.is_control() => Typed::Nothing,
            c => {
                self.buffer.push(c);
                Typed::Changed
            }
        }
    }
}

impl TextboxBuilder {
    text_options!();

    /// The text it starts with (Kamaelia's `initial_string_buffer`).
    pub fn initial(mut self, text: impl Into<String>) -> Self {
        self.initial = text.into();
        self
    }

    /// Builds the Textbox.
    pub fn build(mut self) -> Component {
        if self.transparent {
            self.placement.colour_key = Some(self.style.bgcolour);
        }
        let mut b = ComponentBuilder::new("Textbox");
        let io = b.standard::<String, String>();
        let boxes = DisplayBoxes::declare(&mut b);
        let TextboxBuilder { style, placement, initial, .. } = self;
        b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            let listen = Listen { keys: true, mouse: false };
            let client = match DisplayClient::connect(&ctx, boxes, &placement, listen, &mut watch).await {
                Ok(c) => c,
                Err(stop) => return watch.finish(stop).await,
            };
            let editor = LineEditor { buffer: initial, after_cr: false };
            let mut typing = Typing { ctx, watch, client, pane: TextPane::new(style), editor, outbox: io.outbox };
            let end = match typing.redraw().await {
                Err(end) => end,
                Ok(()) => loop {
                    match typing.turn(&io.inbox).await {
                        Ok(true) => yield_now().await,
                        Ok(false) => pause().await,
                        Err(end) => break end,
                    }
                },
            };
            let Typing { mut watch, client, .. } = typing;
            client.close(&mut watch).await;
            watch.finish(end).await;
        })
    }
}

/// A running Textbox.
struct Typing {
    ctx: Ctx,
    watch: ControlWatch,
    client: DisplayClient,
    pane: TextPane,
    editor: LineEditor,
    outbox: Outbox<String>,
}

impl Typing {
    /// Shows the line being typed, with its cursor.
    async fn redraw(&mut self) -> Result<(), Signal> {
        self.pane.set_text(&format!("{}{CURSOR}", self.editor.buffer));
        self.client.show(&mut self.watch, self.pane.render()).await
    }

    /// Acts on what was typed; `Ok(true)` if more may be waiting, `Err` with the signal
    /// that ends it.
    async fn turn(&mut self, inbox: &Inbox<String>) -> Result<bool, Signal> {
        if let Some(s) = self.watch.check() {
            return Err(s);
        }
        let mut changed = false;
        while let Some(e) = self.client.events().try_recv() {
            match self.editor.event(e) {
                Typed::Nothing => {}
                Typed::Changed => changed = true,
                Typed::Line(line) => {
                    changed = true;
                    self.watch.send(&self.outbox, line).await?;
                }
                Typed::Quit => return Err(Signal::ShutdownMicroprocess),
            }
        }
        self.client.refused(&self.ctx, &mut self.watch).await;
        let mut n = 0;
        let mut end = None;
        while n < BATCH {
            let text = match self.watch.try_next(inbox) {
                Some(Next::Data(text)) => text,
                Some(Next::End(s)) => {
                    end = Some(s);
                    break;
                }
                // `Other` comes only under `SignalPolicy::Deliver`; this watch forwards.
                Some(Next::Other(_)) | None => break,
            };
            n += 1;
            for c in text.chars() {
                match self.editor.char(c) {
                    Typed::Nothing | Typed::Quit => {}
                    Typed::Changed => changed = true,
                    Typed::Line(line) => {
                        changed = true;
                        self.watch.send(&self.outbox, line).await?;
                    }
                }
            }
        }
        if changed {
            self.redraw().await?;
        }
        match end {
            Some(s) => Err(s),
            None => Ok(n == BATCH),
        }
    }
}
