//! Text from the font8x8 bitmap font: glyph lookup and the metrics of a text height.
//!
//! Every glyph is 8×8 font pixels. A text height `h` draws each font pixel as an
//! `s`×`s` block, `s = max(1, h / 8)` (integer scaling keeps the glyphs crisp), so a character
//! is `8s` pixels wide and a line `max(h, 8s)` pixels high, the glyph centred in it. The font
//! covers ASCII, Latin-1, Greek, box drawing, blocks and Hiragana; any other character is
//! drawn as a hollow box.

use font8x8::UnicodeFonts;

/// The size of text drawn at one text height: see the module docs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TextMetrics {
    /// The text height asked for.
    pub text_height: usize,
    /// Screen pixels per font pixel.
    pub scale: usize,
    /// How far each character advances, in pixels (`8 * scale`).
    pub advance: usize,
    /// The height of one line, in pixels (`max(text_height, 8 * scale)`).
    pub line_height: usize,
}

impl TextMetrics {
    /// The metrics of `text_height` (0 counts as 1).
    pub fn new(text_height: usize) -> Self {
        let text_height = text_height.max(1);
        let scale = (text_height / 8).max(1);
        TextMetrics { text_height, scale, advance: 8 * scale, line_height: text_height.max(8 * scale) }
    }

    /// The width of `text` in pixels (one advance per character).
    pub fn width(&self, text: &str) -> usize {
        text.chars().count() * self.advance
    }

    /// How many characters fit in `width` pixels (at least 1, so wrapping always progresses).
    pub fn chars_in(&self, width: usize) -> usize {
        (width / self.advance).max(1)
    }

    /// The glyph's top edge within its line (the glyph is centred vertically).
    pub fn glyph_top(&self) -> usize {
        (self.line_height - 8 * self.scale) / 2
    }
}

/// A hollow box, for characters the font does not have.
const MISSING: [u8; 8] = [0x00, 0x7E, 0x42, 0x42, 0x42, 0x42, 0x7E, 0x00];

/// The 8×8 glyph of `c`: row by row, top first; bit 0 of a row is its leftmost pixel.
pub fn glyph(c: char) -> [u8; 8] {
    font8x8::BASIC_FONTS
        .get(c)
        .or_else(|| font8x8::LATIN_FONTS.get(c))
        .or_else(|| font8x8::GREEK_FONTS.get(c))
        .or_else(|| font8x8::BOX_FONTS.get(c))
        .or_else(|| font8x8::BLOCK_FONTS.get(c))
        .or_else(|| font8x8::HIRAGANA_FONTS.get(c))
        .or_else(|| font8x8::MISC_FONTS.get(c))
        .unwrap_or(MISSING)
}
