//! Rendering without any window: surfaces, bitmap text, TextPane wrapping and scrolling,
//! TickerPane wrapping and jump-scrolling, button faces.

mod common;

use common::{in_band, shows_text};
use kamaelia_ui::{
    Rect, Rgb, Surface, TextMetrics, TextPane, TextStyle, TickerPane, TickerStyle, button_face, glyph, wrap,
};

const BG: Rgb = Rgb(255, 255, 200);

fn pane(w: usize, h: usize, text_height: usize) -> TextPane {
    TextPane::new(TextStyle { size: (w, h), text_height, ..TextStyle::default() })
}

#[test]
fn text_height_sets_an_integer_glyph_scale_and_the_line_height() {
    assert_eq!(TextMetrics::new(8), TextMetrics { text_height: 8, scale: 1, advance: 8, line_height: 8 });
    assert_eq!(TextMetrics::new(18), TextMetrics { text_height: 18, scale: 2, advance: 16, line_height: 18 });
    assert_eq!(TextMetrics::new(5).line_height, 8, "a glyph is never cut: lines are at least 8 pixels");
    assert_eq!(TextMetrics::new(18).glyph_top(), 1, "the glyph is centred in its line");
    assert_eq!(TextMetrics::new(16).width("abc"), 48);
}

#[test]
fn text_is_drawn_glyph_pixel_for_glyph_pixel_at_its_scale() {
    let mut s = Surface::new(100, 40, Rgb::WHITE);
    let w = s.draw_text(3, 5, "Hi!", 16, Rgb(200, 0, 0));
    assert_eq!(w, 48);
    assert!(shows_text(&s, 3, 5, "Hi!", 16, Rgb(200, 0, 0)));
    // 'H' at scale 2: each set font pixel is a 2x2 block.
    let h = glyph('H');
    let (col, row) = (0..8).flat_map(|r| (0..8).map(move |c| (c, r))).find(|&(c, r)| h[r] & (1 << c) != 0).unwrap();
    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        assert_eq!(s.get(3 + col * 2 + dx, 5 + row * 2 + dy), Some(Rgb(200, 0, 0)));
    }
    // Nothing outside the text's box changed.
    let inked = s.count(s.rect(), Rgb(200, 0, 0));
    assert_eq!(inked, s.count(Rect::new(3, 5, 48, 16), Rgb(200, 0, 0)));
    assert!(inked > 0);
}

#[test]
fn text_is_clipped_to_the_surface_and_to_the_clip_rectangle() {
    let mut s = Surface::new(20, 10, Rgb::WHITE);
    s.draw_text(-4, -3, "WW", 8, Rgb::BLACK);
    s.draw_text(15, 6, "WW", 8, Rgb::BLACK);
    let mut c = Surface::new(40, 10, Rgb::WHITE);
    c.draw_text_clipped(0, 0, "MMMMM", 8, Rgb::BLACK, Rect::new(8, 0, 8, 8));
    assert_eq!(c.count(Rect::new(0, 0, 8, 10), Rgb::BLACK), 0);
    assert_eq!(c.count(Rect::new(16, 0, 24, 10), Rgb::BLACK), 0);
    assert!(c.count(Rect::new(8, 0, 8, 8), Rgb::BLACK) > 0);
}

#[test]
fn a_character_the_font_lacks_is_a_hollow_box() {
    let g = glyph('\u{1F600}');
    assert_eq!(g, [0x00, 0x7E, 0x42, 0x42, 0x42, 0x42, 0x7E, 0x00]);
    assert_ne!(glyph('é'), g, "Latin-1 is covered");
}

#[test]
fn blit_copies_clips_and_skips_the_colour_key() {
    let mut dst = Surface::new(10, 10, Rgb::WHITE);
    let mut src = Surface::new(4, 4, Rgb(1, 2, 3));
    src.set(0, 0, Rgb::BLACK);
    dst.blit(&src, 8, 8, None);
    assert_eq!(dst.get(8, 8), Some(Rgb::BLACK));
    assert_eq!(dst.get(9, 9), Some(Rgb(1, 2, 3)));
    dst.blit(&src, 0, 0, Some(Rgb(1, 2, 3)));
    assert_eq!(dst.get(0, 0), Some(Rgb::BLACK));
    assert_eq!(dst.get(1, 1), Some(Rgb::WHITE), "key-coloured pixels are transparent");
}

#[test]
fn wrapping_breaks_at_the_last_space_that_fits_else_cuts_and_loses_nothing() {
    assert_eq!(wrap("the quick brown fox", 10), ["the quick", "brown fox"]);
    assert_eq!(wrap("abcdefghijklmnop", 5), ["abcde", "fghij", "klmno", "p"]);
    assert_eq!(wrap("a\r\nb", 10), ["a  b"], "CR and LF become spaces");
    assert_eq!(wrap("", 10), [""], "an empty item is an empty line");
}

#[test]
fn the_newest_line_is_drawn_at_the_bottom_and_older_lines_move_up() {
    let mut p = pane(200, 64, 16);
    p.add("one");
    let s = p.render().clone();
    assert!(shows_text(&s, 0, 48, "one", 16, Rgb::BLACK));
    assert_eq!(in_band(&s, 0, 48, Rgb::BLACK), 0, "nothing above the newest line");
    p.add("two");
    let s = p.render().clone();
    assert!(shows_text(&s, 0, 48, "two", 16, Rgb::BLACK));
    assert!(shows_text(&s, 0, 32, "one", 16, Rgb::BLACK));
    assert_eq!(s.get(199, 0), Some(BG));
}

#[test]
fn a_long_line_wraps_onto_as_many_lines_as_it_needs() {
    // 10 characters of 16 pixels fit in 160.
    let mut p = pane(160, 64, 16);
    assert_eq!(p.line_len(), 10);
    p.add("aaaa bbbb cccc dddd");
    let s = p.render().clone();
    assert_eq!(p.lines().collect::<Vec<_>>(), ["aaaa bbbb", "cccc dddd"]);
    assert!(shows_text(&s, 0, 32, "aaaa bbbb", 16, Rgb::BLACK));
    assert!(shows_text(&s, 0, 48, "cccc dddd", 16, Rgb::BLACK));
}

#[test]
fn after_many_lines_only_the_newest_that_fit_are_kept_and_shown() {
    let mut p = pane(200, 64, 16);
    assert_eq!(p.rows(), 4);
    for i in 0..100 {
        p.add(&format!("line {i}"));
    }
    assert_eq!(p.lines().collect::<Vec<_>>(), ["line 96", "line 97", "line 98", "line 99"]);
    let s = p.render().clone();
    for (k, y) in [(99, 48), (98, 32), (97, 16), (96, 0)] {
        assert!(shows_text(&s, 0, y, &format!("line {k}"), 16, Rgb::BLACK), "line {k} at y {y}");
    }
}

#[test]
fn border_and_padding_inset_the_text_and_a_partial_top_line_is_clipped() {
    let style = TextStyle {
        size: (100, 50),
        text_height: 16,
        padding: 3,
        border_size: 2,
        border_colour: Rgb(9, 9, 9),
        ..TextStyle::default()
    };
    let mut p = TextPane::new(style);
    assert_eq!(p.text_area(), Rect::new(5, 5, 90, 40));
    assert_eq!(p.rows(), 3, "two whole lines and part of a third");
    assert_eq!(p.line_len(), 5);
    for w in ["XXXXX", "XXXXX", "XXXXX"] {
        p.add(w);
    }
    let s = p.render().clone();
    assert_eq!(s.get(0, 0), Some(Rgb(9, 9, 9)));
    assert_eq!(s.get(1, 49), Some(Rgb(9, 9, 9)));
    assert_eq!(s.get(2, 2), Some(BG), "padding shows the background");
    assert!(shows_text(&s, 5, 29, "XXXXX", 16, Rgb::BLACK));
    assert_eq!(s.count(Rect::new(0, 0, 100, 5), Rgb::BLACK), 0, "the top line is clipped to the text area");
    assert!(s.count(Rect::new(5, 5, 90, 8), Rgb::BLACK) > 0, "its visible part is drawn");
}

#[test]
fn a_ticker_adds_words_left_to_right_after_a_space() {
    let style = TickerStyle { size: (200, 100), text_height: 16, line_spacing: 2, ..TickerStyle::default() };
    let fg = style.text_colour;
    let mut t = TickerPane::new(style);
    assert_eq!(t.cursor(), (1, 1));
    t.push_word("ab");
    assert_eq!(t.cursor(), (1 + 3 * 16, 1));
    t.push_word("cd");
    assert!(shows_text(t.surface(), 1, 1, " ab cd", 16, fg));
}

#[test]
fn a_ticker_wraps_a_word_that_would_cross_the_right_edge_and_jump_scrolls_at_the_bottom() {
    // Text area 198 x 98: 12 characters per line, lines every 18 pixels; five lines fit.
    let style = TickerStyle { size: (200, 100), text_height: 16, line_spacing: 2, ..TickerStyle::default() };
    let (fg, bg) = (style.text_colour, style.background_colour);
    let mut t = TickerPane::new(style);
    assert_eq!(t.line_step(), 18);
    for w in ["aaaa", "bbbb", "cccc"] {
        t.push_word(w);
    }
    assert_eq!(t.cursor(), (1 + 5 * 16, 19), "the third word started the second line");
    assert!(shows_text(t.surface(), 1, 19, " cccc", 16, fg));
    // Two words of five characters (with their space) a line from here on: lines 2 to 5 fill.
    for i in 0..7 {
        t.push_word(&format!("w{i}xx"));
    }
    assert_eq!(t.scrolls(), 0);
    assert_eq!(t.cursor(), (1 + 10 * 16, 1 + 4 * 18), "at the end of the last line that fits");
    t.push_word("next1");
    assert_eq!(t.scrolls(), 1, "one more line: a jump-scroll");
    assert_eq!(t.cursor(), (1 + 6 * 16, 1 + 4 * 18), "the word went on the bottom line");
    let s = t.surface();
    assert!(shows_text(s, 1, 1 + 4 * 18, " next1", 16, fg));
    assert!(shows_text(s, 1, 1, " cccc w0xx", 16, fg), "the old second line is now the first");
    assert!(shows_text(s, 1, 1 + 3 * 18, " w5xx w6xx", 16, fg), "the old last line moved up one");
    assert_eq!(s.get(0, 0), Some(bg), "the outline defaults to the background colour");
}

#[test]
fn a_button_face_centres_its_caption() {
    let s = button_face("OK", (64, 30), 8, Rgb(224, 224, 224), Rgb::BLACK);
    assert!(shows_text(&s, 24, 11, "OK", 8, Rgb::BLACK));
    assert_eq!(s.get(0, 0), Some(Rgb(224, 224, 224)));
}
