//! Line and token framing: LineFramer and ChunksToLines give the same lines however a stream
//! is cut, end lines at LF or CRLF, refuse or split overlong lines and keep going; and
//! split_tokens and LinesToTokenlists follow Kamaelia's quoting grammar, reporting bad lines.

#[path = "common/split.rs"]
mod common_split;

use std::panic::catch_unwind;

use axon_core::Signal;
use common_split::*;
use kamaelia_util::{
    ChunksToLines, DEFAULT_MAX_LINE, FramingError, LineFramer, LinesToTokenlists, OverlongPolicy, TokenError,
    TokenErrorKind, Utf8Policy, decode_line, split_tokens,
};

type Frame = Result<Vec<u8>, FramingError>;

/// Frames `chunks` as one stream, then ends it.
fn frames(max: usize, policy: OverlongPolicy, chunks: &[&[u8]]) -> Vec<Frame> {
    let mut framer = LineFramer::with_limit(max, policy);
    let mut out = Vec::new();
    for chunk in chunks {
        framer.push(chunk);
        out.extend(std::iter::from_fn(|| framer.next_frame()));
    }
    framer.finish();
    out.extend(std::iter::from_fn(|| framer.next_frame()));
    out
}

fn lines(items: &[&str]) -> Vec<Frame> {
    items.iter().map(|s| Ok(s.as_bytes().to_vec())).collect()
}

fn overlong(limit: usize, discarded: usize) -> Frame {
    Err(FramingError::Overlong { limit, discarded })
}

/// Asserts that cutting `text` into two or three chunks anywhere gives the same frames as
/// framing it whole, and returns those frames.
fn same_frames_however_cut(max: usize, policy: OverlongPolicy, text: &[u8]) -> Vec<Frame> {
    let whole = frames(max, policy, &[text]);
    for i in 0..=text.len() {
        for j in i..=text.len() {
            let cut = frames(max, policy, &[&text[..i], &text[i..j], &text[j..]]);
            assert_eq!(cut, whole, "cut at {i} and {j}, {policy:?} max {max}: {:?}", String::from_utf8_lossy(text));
        }
    }
    let bytes: Vec<&[u8]> = text.chunks(1).collect();
    assert_eq!(frames(max, policy, &bytes), whole, "one byte at a time");
    whole
}

// ---------------------------------------------------------------------------------------
// LineFramer

#[test]
fn line_framer_gives_the_same_lines_however_the_stream_is_cut() {
    let text = b"GET / HTTP/1.0\r\nHost: x\r\n\r\nbare\rcr\n\nlast";
    let whole = same_frames_however_cut(DEFAULT_MAX_LINE, OverlongPolicy::Refuse, text);
    assert_eq!(whole, lines(&["GET / HTTP/1.0", "Host: x", "", "bare\rcr", "", "last"]));
}

#[test]
fn line_framer_ends_lines_at_lf_and_crlf_and_keeps_a_cr_anywhere_else() {
    let got = frames(100, OverlongPolicy::Refuse, &[b"a\nb\r\n\rc\r\nd\r\re\n\r\r\n"]);
    assert_eq!(got, lines(&["a", "b", "\rc", "d\r\re", "\r"]));
}

#[test]
fn line_framer_sends_empty_lines_as_empty_frames() {
    assert_eq!(frames(10, OverlongPolicy::Refuse, &[b"\n\r\n\n"]), lines(&["", "", ""]));
}

#[test]
fn line_framer_at_the_end_sends_a_last_line_with_no_terminator() {
    assert_eq!(frames(10, OverlongPolicy::Refuse, &[b"one\ntw", b"o"]), lines(&["one", "two"]));
    assert_eq!(frames(10, OverlongPolicy::Refuse, &[b"one\r"]), lines(&["one"]), "a final CR ends the line");
    assert_eq!(frames(10, OverlongPolicy::Refuse, &[b"one\n"]), lines(&["one"]), "no empty line is invented");
    assert!(frames(10, OverlongPolicy::Refuse, &[]).is_empty());
    let mut framer = LineFramer::new();
    framer.push(b"x");
    framer.finish();
    framer.finish();
    assert_eq!(std::iter::from_fn(|| framer.next_frame()).collect::<Vec<_>>(), lines(&["x"]));
}

#[test]
fn line_framer_accepts_a_line_of_exactly_the_maximum_length_with_either_terminator() {
    let got = frames(4, OverlongPolicy::Refuse, &[b"abcd\nabcd\r\nabcd"]);
    assert_eq!(got, lines(&["abcd", "abcd", "abcd"]));
}

#[test]
fn line_framer_refuses_an_overlong_line_and_frames_the_next_one_normally() {
    let got = same_frames_however_cut(5, OverlongPolicy::Refuse, b"12345\n123456\r\nok\n1234567\rx\nend");
    assert_eq!(got, [Ok(b"12345".to_vec()), overlong(5, 6), Ok(b"ok".to_vec()), overlong(5, 9), Ok(b"end".to_vec())]);
}

#[test]
fn line_framer_refusing_a_flood_holds_no_more_than_the_limit() {
    let mut framer = LineFramer::with_limit(1000, OverlongPolicy::Refuse);
    let chunk = [b'x'; 100];
    for _ in 0..1000 {
        framer.push(&chunk);
        assert!(framer.buffered() <= 1001, "holding {} bytes", framer.buffered());
        assert!(framer.next_frame().is_none(), "the refusal is reported when the line ends");
    }
    framer.push(b"\r\nnext\n");
    assert_eq!(framer.next_frame(), Some(overlong(1000, 100_000)));
    assert_eq!(framer.next_frame(), Some(Ok(b"next".to_vec())));
    assert_eq!(framer.next_frame(), None);
}

#[test]
fn line_framer_reporting_at_the_limit_reports_an_overlong_line_before_its_end_and_once() {
    let mut framer = LineFramer::with_limit(5, OverlongPolicy::Refuse).report_at_limit(true);
    framer.push(b"ok\n12345");
    assert_eq!(framer.next_frame(), Some(Ok(b"ok".to_vec())));
    assert_eq!(framer.next_frame(), None, "exactly the limit is not too long yet");
    // A trailing CR may be half of a CRLF: it does not pass the limit.
    framer.push(b"\r");
    assert_eq!(framer.next_frame(), None);
    framer.push(b"67");
    assert_eq!(framer.next_frame(), Some(overlong(5, 8)), "reported as soon as the limit is passed");
    for _ in 0..100 {
        framer.push(&[b'x'; 1000]);
        assert!(framer.buffered() <= 6, "holding {} bytes", framer.buffered());
    }
    assert_eq!(framer.next_frame(), None, "reported once");
    framer.push(b"xx\r\nnext\n1234567");
    assert_eq!(framer.next_frame(), Some(Ok(b"next".to_vec())), "discarded up to its newline");
    assert_eq!(framer.next_frame(), Some(overlong(5, 7)));
    framer.finish();
    assert_eq!(framer.next_frame(), None, "an overlong last line already reported is not reported again");
    // A line whose end comes in the same chunk is reported with its whole length.
    framer.push(b"123456789\n");
    assert_eq!(framer.next_frame(), Some(overlong(5, 9)));
}

#[test]
fn line_framer_reports_an_overlong_last_line_at_the_end_of_the_stream() {
    assert_eq!(frames(3, OverlongPolicy::Refuse, &[b"ok\nabcdef"]), [Ok(b"ok".to_vec()), overlong(3, 6)]);
}

#[test]
fn line_framer_splitting_cuts_an_overlong_line_into_maximum_length_pieces() {
    let got = same_frames_however_cut(3, OverlongPolicy::Split, b"abcdefg\nhi\nabcdef\r\nab\rcd\r\n");
    assert_eq!(got, lines(&["abc", "def", "g", "hi", "abc", "def", "ab\r", "cd"]));
}

#[test]
fn line_framer_defaults_to_refusing_lines_over_64_kib() {
    let framer = LineFramer::new();
    assert_eq!(DEFAULT_MAX_LINE, 65536);
    assert_eq!(framer.max_line_length(), DEFAULT_MAX_LINE);
    assert_eq!(framer.policy(), OverlongPolicy::Refuse);
    let err = FramingError::Overlong { limit: DEFAULT_MAX_LINE, discarded: 70_000 };
    assert_eq!(err.to_string(), "line longer than 65536 bytes");
}

#[test]
fn line_framer_refuses_a_zero_maximum() {
    assert!(catch_unwind(|| LineFramer::with_limit(0, OverlongPolicy::Split)).is_err());
    assert!(catch_unwind(|| ChunksToLines::new().max_line_length(0)).is_err());
}

#[test]
fn decode_line_replaces_invalid_utf8_or_reports_it_keeping_the_bytes() {
    let bad = b"a\xffb".to_vec();
    assert_eq!(decode_line(bad.clone(), Utf8Policy::Replace), Ok("a\u{FFFD}b".to_string()));
    let err = decode_line(bad.clone(), Utf8Policy::Report).unwrap_err();
    assert_eq!(err, FramingError::InvalidUtf8 { line: bad, valid_up_to: 1 });
    assert_eq!(err.to_string(), "line is not valid UTF-8 (invalid byte at offset 1)");
    assert_eq!(decode_line("é ok".as_bytes().to_vec(), Utf8Policy::Report), Ok("é ok".to_string()));
}

// ---------------------------------------------------------------------------------------
// ChunksToLines

#[test]
fn chunks_to_lines_sends_the_lines_of_a_stream_cut_anywhere() {
    let c2l = ChunksToLines::new().build();
    let out = attach::<Vec<u8>>(&c2l, "outbox", None);
    let sched = scheduler_with(&[&c2l]);
    put(&c2l, [b"HEL".to_vec(), b"LO\r".to_vec(), b"\nWORLD\n\nx".to_vec()]);
    sched.run_until_idle();
    assert_eq!(out.take(), [b"HELLO".to_vec(), b"WORLD".to_vec(), b"".to_vec()]);
}

#[test]
fn chunks_to_lines_refuses_an_overlong_line_on_error_and_the_stream_stays_usable() {
    let c2l = ChunksToLines::new().max_line_length(8).build();
    let out = attach::<Vec<u8>>(&c2l, "outbox", None);
    let err = attach::<FramingError>(&c2l, "error", None);
    let sched = scheduler_with(&[&c2l]);
    put(&c2l, [b"hello\n".to_vec(), vec![b'x'; 20], b"\r\nagain\n".to_vec()]);
    sched.run_until_idle();
    assert_eq!(out.take(), [b"hello".to_vec(), b"again".to_vec()]);
    let errors = err.take();
    assert_eq!(errors, [FramingError::Overlong { limit: 8, discarded: 20 }]);
    assert_eq!(errors[0].to_string(), "line longer than 8 bytes");
}

/// A peer that sends more than the limit without a newline is told at once, not when (if
/// ever) its newline comes (issue 17, item 7).
#[test]
fn chunks_to_lines_reports_an_overlong_line_as_soon_as_the_limit_is_passed() {
    let c2l = ChunksToLines::new().max_line_length(8).build();
    let out = attach::<Vec<u8>>(&c2l, "outbox", None);
    let err = attach::<FramingError>(&c2l, "error", None);
    let sched = scheduler_with(&[&c2l]);
    put(&c2l, [b"hello\n".to_vec(), vec![b'x'; 5], vec![b'x'; 5]]);
    sched.run_until_idle();
    assert_eq!(out.take(), [b"hello".to_vec()]);
    assert_eq!(err.take(), [FramingError::Overlong { limit: 8, discarded: 10 }], "no newline has come yet");
    put(&c2l, [vec![b'x'; 100_000], b"\nagain\n".to_vec()]);
    sched.run_until_idle();
    assert_eq!(out.take(), [b"again".to_vec()], "discarded up to its newline");
    assert!(err.take().is_empty(), "reported once");
}

#[test]
fn chunks_to_lines_splitting_sends_overlong_lines_in_pieces() {
    let c2l = ChunksToLines::new().max_line_length(4).overlong(OverlongPolicy::Split).build();
    let out = attach::<Vec<u8>>(&c2l, "outbox", None);
    let sched = scheduler_with(&[&c2l]);
    put(&c2l, [b"abcdefghij\n".to_vec()]);
    sched.run_until_idle();
    assert_eq!(out.take(), [b"abcd".to_vec(), b"efgh".to_vec(), b"ij".to_vec()]);
}

#[test]
fn chunks_to_lines_for_text_replaces_invalid_utf8_or_reports_it_with_its_bytes() {
    let lossy = ChunksToLines::new().build_text(Utf8Policy::Replace);
    let strict = ChunksToLines::new().build_text(Utf8Policy::Report);
    let lossy_out = attach::<String>(&lossy, "outbox", None);
    let strict_out = attach::<String>(&strict, "outbox", None);
    let strict_err = attach::<FramingError>(&strict, "error", None);
    let sched = scheduler_with(&[&lossy, &strict]);
    // "é" cut between its two bytes by the chunking is still one character.
    let chunks = || vec![b"caf\xc3".to_vec(), b"\xa9\nbad\xff\nok\n".to_vec()];
    put(&lossy, chunks());
    put(&strict, chunks());
    sched.run_until_idle();
    assert_eq!(lossy_out.take(), ["café", "bad\u{FFFD}", "ok"]);
    assert_eq!(strict_out.take(), ["café", "ok"]);
    assert_eq!(strict_err.take(), [FramingError::InvalidUtf8 { line: b"bad\xff".to_vec(), valid_up_to: 3 }]);
}

#[test]
fn chunks_to_lines_on_producer_finished_sends_buffered_lines_and_the_last_partial_one_then_passes_it_on() {
    let c2l = ChunksToLines::new().build();
    let out = attach::<Vec<u8>>(&c2l, "outbox", Some("signal"));
    let sched = scheduler_with(&[&c2l]);
    put(&c2l, [b"one\ntw".to_vec()]);
    sched.run_until_idle();
    put(&c2l, [b"o\nthr".to_vec(), b"ee".to_vec()]);
    put_control(&c2l, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(out.take(), [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
    assert_eq!(out.signal_names(), ["producerFinished"]);
    assert!(c2l.is_finished());
}

#[test]
fn chunks_to_lines_on_shutdown_stops_at_once_sending_nothing_more() {
    let c2l = ChunksToLines::new().build();
    let out = attach::<Vec<u8>>(&c2l, "outbox", Some("signal"));
    let sched = scheduler_with(&[&c2l]);
    put(&c2l, [b"one\ntw".to_vec()]);
    sched.run_until_idle();
    put(&c2l, [b"o\n".to_vec()]);
    put_control(&c2l, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert_eq!(out.take(), [b"one".to_vec()]);
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
    assert!(c2l.is_finished());
}

#[test]
fn chunks_to_lines_then_lines_to_tokenlists_pass_the_end_of_the_stream_down_a_chain() {
    let chunks = vec![b"ADD NODE \"5\" \"Src".to_vec(), b"_5\" randompos component\r\nDEL ALL".to_vec()];
    let src = source(chunks, Signal::producer_finished());
    let c2l = ChunksToLines::new().build_text(Utf8Policy::Replace);
    let tok = LinesToTokenlists::new();
    let (sink, seen) = sink::<Vec<String>>();
    chain(&src, &c2l);
    chain(&c2l, &tok);
    chain(&tok, &sink);
    let sched = run_within_limit(scheduler_with(&[&src, &c2l, &tok, &sink]));
    assert_eq!(seen.data(), [vec!["ADD", "NODE", "5", "Src_5", "randompos", "component"], vec!["DEL", "ALL"]]);
    assert_eq!(seen.signal_names(), ["producerFinished"]);
    assert_eq!(sched.live(), 0);
}

#[test]
fn chunks_to_lines_shows_its_error_outbox_in_a_snapshot() {
    let bytes = ChunksToLines::new().build();
    let text = ChunksToLines::new().build_text(Utf8Policy::Report);
    let sched = scheduler_with(&[&bytes, &text]);
    let mut expected = standard_boxes::<Vec<u8>, Vec<u8>>();
    expected.push(outbox_of::<FramingError>("error"));
    assert_eq!(snapshot_boxes(&sched, &bytes), expected);
    let mut expected = standard_boxes::<Vec<u8>, String>();
    expected.push(outbox_of::<FramingError>("error"));
    assert_eq!(snapshot_boxes(&sched, &text), expected);
}

// ---------------------------------------------------------------------------------------
// split_tokens

fn tokens(line: &str) -> Vec<String> {
    split_tokens(line).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn split_tokens_passes_kamaelias_own_tokeniser_tests() {
    // From Kamaelia's lines_to_tokenlists test suite.
    let table: &[(&str, &[&str])] = &[
        ("", &[]),
        ("  ", &[]),
        ("\t", &[]),
        (" hello", &["hello"]),
        ("hello  ", &["hello"]),
        (" hello ", &["hello"]),
        ("1   2 3", &["1", "2", "3"]),
        ("a 'b c' d", &["a", "b c", "d"]),
        (r"a b\c d", &["a", r"b\c", "d"]),
        (r#"a "b\\c" d"#, &["a", r"b\c", "d"]),
        (r#"a "b\"c" d"#, &["a", "b\"c", "d"]),
        (r#"a "b\xc" d"#, &["a", "bxc", "d"]),
        (r"a 'b\'c' d", &["a", "b'c", "d"]),
        (r"a 'b\\c' d", &["a", r"b\c", "d"]),
        (r"a 'b\xc' d", &["a", "bxc", "d"]),
    ];
    for (line, want) in table {
        assert_eq!(tokens(line), *want, "line {line:?}");
    }
}

#[test]
fn split_tokens_reads_the_axon_visualiser_protocol() {
    assert_eq!(
        tokens(r#"ADD NODE "(5, 'i', 'inbox')" "inbox" randompos inbox"#),
        ["ADD", "NODE", "(5, 'i', 'inbox')", "inbox", "randompos", "inbox"]
    );
    assert_eq!(
        tokens(r#"ADD LINK "(5, 'o', 'outbox')" "(6, 'i', 'inbox')""#),
        ["ADD", "LINK", "(5, 'o', 'outbox')", "(6, 'i', 'inbox')"]
    );
}

#[test]
fn split_tokens_reads_the_example_from_kamaelias_documentation() {
    let line = r#"Hello world "how are you" 'john said "hi"' "i replied \"hi\"" "c:\\windows" end"#;
    assert_eq!(
        tokens(line),
        ["Hello", "world", "how are you", "john said \"hi\"", "i replied \"hi\"", r"c:\windows", "end"]
    );
}

#[test]
fn split_tokens_treats_quotes_inside_a_bare_token_as_ordinary_characters() {
    assert_eq!(tokens(r#"it's a"b c'"#), ["it's", "a\"b", "c'"]);
}

#[test]
fn split_tokens_gives_an_empty_quoted_token_and_splits_on_any_whitespace() {
    assert_eq!(tokens("\"\" ''"), ["", ""]);
    assert_eq!(tokens("a\tb\u{3000}c\u{1f}d"), ["a", "b", "c", "d"]);
}

#[test]
fn split_tokens_reports_an_unterminated_quote_with_its_line_and_position() {
    let e = split_tokens(r#"ADD NODE "abc"#).unwrap_err();
    assert_eq!(e.kind(), TokenErrorKind::UnterminatedQuote);
    assert_eq!(e.position(), 9);
    assert_eq!(e.line(), r#"ADD NODE "abc"#);
    assert_eq!(e.to_string(), r#"unterminated quote at byte 9 of line "ADD NODE \"abc""#);
    let escaped = split_tokens(r#"'it\'"#).unwrap_err();
    assert_eq!(escaped.kind(), TokenErrorKind::UnterminatedQuote, "an escaped quote does not close");
    let trailing_backslash = split_tokens("\"abc\\").unwrap_err();
    assert_eq!(trailing_backslash.kind(), TokenErrorKind::UnterminatedQuote);
}

#[test]
fn split_tokens_reports_text_straight_after_a_closing_quote() {
    for (line, position) in [("'abc'def", 5), (" 'abc'def", 6), ("x \"y\"z", 5)] {
        let e: TokenError = split_tokens(line).unwrap_err();
        assert_eq!(e.kind(), TokenErrorKind::TextAfterQuote, "{line:?}");
        assert_eq!(e.position(), position, "{line:?}");
    }
}

// ---------------------------------------------------------------------------------------
// LinesToTokenlists

#[test]
fn lines_to_tokenlists_sends_the_tokens_of_each_line_and_nothing_for_a_blank_one() {
    let tok = LinesToTokenlists::new();
    let out = attach::<Vec<String>>(&tok, "outbox", None);
    let sched = scheduler_with(&[&tok]);
    put(&tok, ["DEL ALL", "   ", "", "GET 'ALL'"].map(String::from));
    sched.run_until_idle();
    assert_eq!(out.take(), [vec!["DEL", "ALL"], vec!["GET", "ALL"]]);
}

#[test]
fn lines_to_tokenlists_reports_a_bad_line_on_error_and_goes_on() {
    let tok = LinesToTokenlists::new();
    let out = attach::<Vec<String>>(&tok, "outbox", None);
    let err = attach::<TokenError>(&tok, "error", None);
    let sched = scheduler_with(&[&tok]);
    put(&tok, ["ADD NODE \"5", "DEL ALL"].map(String::from));
    sched.run_until_idle();
    assert_eq!(out.take(), [vec!["DEL", "ALL"]]);
    let errors = err.take();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line(), "ADD NODE \"5");
    assert_eq!(errors[0].kind(), TokenErrorKind::UnterminatedQuote);
    assert!(!tok.is_finished());
}

#[test]
fn lines_to_tokenlists_on_producer_finished_splits_queued_lines_then_passes_it_on() {
    let tok = LinesToTokenlists::new();
    let out = attach::<Vec<String>>(&tok, "outbox", Some("signal"));
    let sched = scheduler_with(&[&tok]);
    put(&tok, ["a b", "c"].map(String::from));
    put_control(&tok, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(out.take(), [vec!["a", "b"], vec!["c"]]);
    assert_eq!(out.signal_names(), ["producerFinished"]);
    assert!(tok.is_finished());
}

#[test]
fn lines_to_tokenlists_on_shutdown_stops_at_once_and_passes_it_on() {
    let tok = LinesToTokenlists::new();
    let out = attach::<Vec<String>>(&tok, "outbox", Some("signal"));
    let sched = scheduler_with(&[&tok]);
    put(&tok, ["a b".to_string()]);
    put_control(&tok, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert!(out.take().is_empty());
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
    assert!(tok.is_finished());
}

#[test]
fn lines_to_tokenlists_shows_its_boxes_in_a_snapshot() {
    let tok = LinesToTokenlists::new();
    let sched = scheduler_with(&[&tok]);
    let mut expected = standard_boxes::<String, Vec<String>>();
    expected.push(outbox_of::<TokenError>("error"));
    assert_eq!(snapshot_boxes(&sched, &tok), expected);
}
