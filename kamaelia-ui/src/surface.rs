//! [`Surface`]: a plain pixel buffer every component draws into, and [`Rgb`] colours.
//!
//! Drawing never touches a window: the display service copies finished surfaces into its
//! windows, and tests read their pixels directly.

use std::fmt;

use crate::font::{TextMetrics, glyph};

/// A colour: red, green, blue (Kamaelia's `(r, g, b)` tuples).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Black.
    pub const BLACK: Rgb = Rgb(0, 0, 0);
    /// White.
    pub const WHITE: Rgb = Rgb(255, 255, 255);

    /// The pixel value: `0RGB`, one byte each, as minifb's buffers hold them.
    pub const fn pixel(self) -> u32 {
        ((self.0 as u32) << 16) | ((self.1 as u32) << 8) | self.2 as u32
    }

    /// The colour of a pixel value (its top byte ignored).
    pub const fn from_pixel(p: u32) -> Rgb {
        Rgb((p >> 16) as u8, (p >> 8) as u8, p as u8)
    }
}

impl From<(u8, u8, u8)> for Rgb {
    fn from((r, g, b): (u8, u8, u8)) -> Self {
        Rgb(r, g, b)
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {}, {})", self.0, self.1, self.2)
    }
}

/// A rectangle of pixels: `x`, `y` of its top-left corner, `w` wide, `h` high.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct Rect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
}

impl Rect {
    /// A rectangle.
    pub const fn new(x: i32, y: i32, w: usize, h: usize) -> Self {
        Rect { x, y, w, h }
    }

    /// True if the point is inside (left and top edges inclusive, right and bottom exclusive).
    pub fn contains(&self, x: i32, y: i32) -> bool {
        let (x, y) = (i64::from(x), i64::from(y));
        let (left, top) = (i64::from(self.x), i64::from(self.y));
        x >= left && y >= top && x < left + self.w as i64 && y < top + self.h as i64
    }
}

/// A `width`×`height` buffer of pixels, row by row from the top, each `0RGB` ([`Rgb::pixel`]),
/// the layout minifb displays.
#[derive(Clone, PartialEq, Eq)]
pub struct Surface {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height` pixels, row-major.
    pub pixels: Vec<u32>,
}

impl fmt::Debug for Surface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Surface").field("width", &self.width).field("height", &self.height).finish_non_exhaustive()
    }
}

impl Surface {
    /// A surface filled with `colour`.
    pub fn new(width: usize, height: usize, colour: Rgb) -> Self {
        Surface { width, height, pixels: vec![colour.pixel(); width * height] }
    }

    /// Its whole area.
    pub fn rect(&self) -> Rect {
        Rect::new(0, 0, self.width, self.height)
    }

    /// The pixel at (`x`, `y`), or `None` outside.
    pub fn get(&self, x: usize, y: usize) -> Option<Rgb> {
        (x < self.width && y < self.height).then(|| Rgb::from_pixel(self.pixels[y * self.width + x]))
    }

    /// Sets one pixel; outside the surface it does nothing.
    pub fn set(&mut self, x: i64, y: i64, colour: Rgb) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            self.pixels[y as usize * self.width + x as usize] = colour.pixel();
        }
    }

    /// Fills everything with `colour`.
    pub fn fill(&mut self, colour: Rgb) {
        self.pixels.fill(colour.pixel());
    }

    /// The part of `r` inside the surface, as (x0, y0, x1, y1) with x1, y1 exclusive.
    fn clip(&self, r: Rect) -> Option<(usize, usize, usize, usize)> {
        let x0 = i64::from(r.x).max(0);
        let y0 = i64::from(r.y).max(0);
        let x1 = (i64::from(r.x) + r.w as i64).min(self.width as i64);
        let y1 = (i64::from(r.y) + r.h as i64).min(self.height as i64);
        (x0 < x1 && y0 < y1).then_some((x0 as usize, y0 as usize, x1 as usize, y1 as usize))
    }

    /// Fills a rectangle (clipped to the surface).
    pub fn fill_rect(&mut self, r: Rect, colour: Rgb) {
        if let Some((x0, y0, x1, y1)) = self.clip(r) {
            let p = colour.pixel();
            for y in y0..y1 {
                self.pixels[y * self.width + x0..y * self.width + x1].fill(p);
            }
        }
    }

    /// Draws a border `width` pixels thick just inside `r`.
    pub fn border(&mut self, r: Rect, width: usize, colour: Rgb) {
        if width == 0 {
            return;
        }
        let wi = width as i32;
        self.fill_rect(Rect::new(r.x, r.y, r.w, width.min(r.h)), colour);
        self.fill_rect(Rect::new(r.x, r.y + r.h as i32 - wi, r.w, width.min(r.h)), colour);
        self.fill_rect(Rect::new(r.x, r.y, width.min(r.w), r.h), colour);
        self.fill_rect(Rect::new(r.x + r.w as i32 - wi, r.y, width.min(r.w), r.h), colour);
    }

    /// Draws `text` in one line with its top-left corner at (`x`, `y`), at `text_height`
    /// (see [`TextMetrics`]), only the glyphs' set pixels (the background shows through).
    /// Drawing is clipped to `clip` (and to the surface). Returns the width drawn.
    pub fn draw_text_clipped(
        &mut self,
        x: i32,
        y: i32,
        text: &str,
        text_height: usize,
        colour: Rgb,
        clip: Rect,
    ) -> usize {
        let m = TextMetrics::new(text_height);
        let top = i64::from(y) + m.glyph_top() as i64;
        let mut left = i64::from(x);
        let s = m.scale as i64;
        for c in text.chars() {
            let g = glyph(c);
            for (row, bits) in g.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) == 0 {
                        continue;
                    }
                    let px = left + col as i64 * s;
                    let py = top + row as i64 * s;
                    for dy in 0..s {
                        for dx in 0..s {
                            let (qx, qy) = (px + dx, py + dy);
                            if clip.contains(qx as i32, qy as i32) {
                                self.set(qx, qy, colour);
                            }
                        }
                    }
                }
            }
            left += m.advance as i64;
        }
        m.width(text)
    }

    /// [`draw_text_clipped`](Self::draw_text_clipped) clipped only to the surface.
    pub fn draw_text(&mut self, x: i32, y: i32, text: &str, text_height: usize, colour: Rgb) -> usize {
        let all = self.rect();
        self.draw_text_clipped(x, y, text, text_height, colour, all)
    }

    /// Copies `src` with its top-left corner at (`x`, `y`), clipped. Pixels of `src` equal to
    /// `colour_key` (a transparent surface's background) are skipped.
    pub fn blit(&mut self, src: &Surface, x: i32, y: i32, colour_key: Option<Rgb>) {
        let Some((x0, y0, x1, y1)) = self.clip(Rect::new(x, y, src.width, src.height)) else { return };
        let key = colour_key.map(Rgb::pixel);
        for dy in y0..y1 {
            let sy = (dy as i64 - i64::from(y)) as usize;
            let sx0 = (x0 as i64 - i64::from(x)) as usize;
            let from = &src.pixels[sy * src.width + sx0..sy * src.width + sx0 + (x1 - x0)];
            let to = &mut self.pixels[dy * self.width + x0..dy * self.width + x1];
            match key {
                None => to.copy_from_slice(from),
                Some(k) => {
                    for (t, f) in to.iter_mut().zip(from) {
                        if (*f & 0x00FF_FFFF) != k {
                            *t = *f;
                        }
                    }
                }
            }
        }
    }

    /// How many pixels inside `r` have `colour` (a test helper as much as anything).
    pub fn count(&self, r: Rect, colour: Rgb) -> usize {
        let Some((x0, y0, x1, y1)) = self.clip(r) else { return 0 };
        let p = colour.pixel();
        (y0..y1)
            .map(|y| self.pixels[y * self.width + x0..y * self.width + x1].iter().filter(|&&q| q == p).count())
            .sum()
    }
}
