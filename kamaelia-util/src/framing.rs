//! chunks_to_lines and lines_to_tokenlists: the line and token framers text protocols use.
//!
//! [`ChunksToLines`] turns a byte stream cut anywhere (socket reads, file blocks) into lines;
//! [`LinesToTokenlists`] splits lines into tokens with Kamaelia's quoting rules (the
//! AxonVisualiser protocol, reference §1.15). The framing itself is in the plain types
//! [`LineFramer`] and [`split_tokens`], usable without a component.

use std::collections::VecDeque;
use std::fmt;

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Outbox, Signal};

/// The default maximum line length of [`ChunksToLines`] and [`LineFramer`]: 64 KiB.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

const LF: u8 = b'\n';
const CR: u8 = b'\r';

/// What to do with a line longer than the maximum.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverlongPolicy {
    /// Discard the whole line, up to and including its newline, and report a
    /// [`FramingError::Overlong`]; the next line is framed normally. The line is never held in
    /// memory beyond the limit.
    #[default]
    Refuse,
    /// Cut the line into pieces of exactly the maximum length (the last piece shorter), each
    /// sent as a line. Pieces are cut at byte boundaries, which may cut a multi-byte UTF-8
    /// character in two.
    Split,
}

/// How [`ChunksToLines::build_text`] and [`decode_line`] treat a line that is not valid UTF-8.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Utf8Policy {
    /// Replace each invalid sequence with U+FFFD (the lossy decoding).
    #[default]
    Replace,
    /// Report the line as a [`FramingError::InvalidUtf8`], which keeps its bytes.
    Report,
}

/// A line that could not be framed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramingError {
    /// A line was longer than the limit and was discarded ([`OverlongPolicy::Refuse`]).
    Overlong {
        /// The maximum line length in force.
        limit: usize,
        /// The length of the discarded line (its terminator not counted) when it is reported
        /// at its end; when it is reported as soon as the limit is passed
        /// ([`LineFramer::report_at_limit`], as [`ChunksToLines`] does), how much of it had
        /// come by then (more than `limit`; the rest, up to its newline, is discarded uncounted).
        discarded: usize,
    },
    /// A line was not valid UTF-8 ([`Utf8Policy::Report`]).
    InvalidUtf8 {
        /// The line's bytes, untouched.
        line: Vec<u8>,
        /// The length of its valid UTF-8 prefix.
        valid_up_to: usize,
    },
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::Overlong { limit, .. } => write!(f, "line longer than {limit} bytes"),
            FramingError::InvalidUtf8 { valid_up_to, .. } => {
                write!(f, "line is not valid UTF-8 (invalid byte at offset {valid_up_to})")
            }
        }
    }
}

impl std::error::Error for FramingError {}

/// Decodes one line as UTF-8 under `policy`.
pub fn decode_line(line: Vec<u8>, policy: Utf8Policy) -> Result<String, FramingError> {
    match String::from_utf8(line) {
        Ok(s) => Ok(s),
        Err(e) => match policy {
            Utf8Policy::Replace => Ok(String::from_utf8_lossy(e.as_bytes()).into_owned()),
            Utf8Policy::Report => {
                let valid_up_to = e.utf8_error().valid_up_to();
                Err(FramingError::InvalidUtf8 { line: e.into_bytes(), valid_up_to })
            }
        },
    }
}

/// Frames a byte stream into lines: the logic of [`ChunksToLines`], without a component.
///
/// Feed it chunks cut anywhere with [`push`](LineFramer::push), take complete lines with
/// [`next_frame`](LineFramer::next_frame), and call [`finish`](LineFramer::finish) at the
/// end of the stream. The lines are the same however the stream was cut.
///
/// A line ends at LF (`\n`); a CR (`\r`) just before the LF is part of the terminator, so
/// LF and CRLF both end a line. A CR anywhere else is kept as data. Lines are given without
/// their terminator; an empty line is an empty `Vec`. Line lengths are counted without the
/// terminator. At the end of the stream a last line with no terminator is framed as if one
/// followed (so a final lone CR is dropped as the start of a CRLF).
///
/// ```
/// use kamaelia_util::LineFramer;
///
/// let mut framer = LineFramer::new();
/// framer.push(b"HELLO\r\nWOR");
/// framer.push(b"LD\nBYE");
/// framer.finish();
/// let lines: Vec<Vec<u8>> = std::iter::from_fn(|| framer.next_frame()).map(Result::unwrap).collect();
/// assert_eq!(lines, [b"HELLO".to_vec(), b"WORLD".to_vec(), b"BYE".to_vec()]);
/// ```
#[derive(Clone, Debug)]
pub struct LineFramer {
    max: usize,
    policy: OverlongPolicy,
    /// The start of the current line (never more than `max` bytes, plus one trailing CR
    /// that may turn out to be part of a CRLF).
    partial: Vec<u8>,
    /// Set while discarding an overlong line (Refuse policy).
    discarding: Option<Discard>,
    /// Report an overlong line as soon as the limit is passed, not at its end.
    at_limit: bool,
    /// Frames made and not yet taken, in stream order.
    ready: VecDeque<Result<Vec<u8>, FramingError>>,
}

/// Progress through an overlong line being discarded.
#[derive(Copy, Clone, Debug)]
struct Discard {
    /// Bytes discarded so far.
    count: usize,
    /// Whether the last of them was a CR (which a following LF makes a terminator).
    last_cr: bool,
}

impl Default for LineFramer {
    fn default() -> Self {
        Self::new()
    }
}

impl LineFramer {
    /// A framer with the default limit ([`DEFAULT_MAX_LINE`]) and policy (refuse).
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_MAX_LINE, OverlongPolicy::Refuse)
    }

    /// A framer refusing or splitting lines longer than `max` bytes.
    ///
    /// # Panics
    /// If `max` is 0.
    pub fn with_limit(max: usize, policy: OverlongPolicy) -> Self {
        assert!(max > 0, "LineFramer: the maximum line length must be at least 1");
        LineFramer { max, policy, partial: Vec::new(), discarding: None, at_limit: false, ready: VecDeque::new() }
    }

    /// Under [`OverlongPolicy::Refuse`], reports an overlong line as soon as more than the
    /// limit has come without a newline (`true`), rather than when its end arrives (`false`,
    /// the default, whose report carries the whole line's length). The line is discarded up to
    /// its newline either way, and reported once. For a peer on a socket the end of a line may
    /// never come: reporting at the limit lets a server answer at once.
    pub fn report_at_limit(mut self, yes: bool) -> Self {
        self.at_limit = yes;
        self
    }

    /// The maximum line length.
    pub fn max_line_length(&self) -> usize {
        self.max
    }

    /// What happens to longer lines.
    pub fn policy(&self) -> OverlongPolicy {
        self.policy
    }

    /// Bytes held of a line not yet complete.
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// Takes the next complete line, or the error that stands in its place.
    pub fn next_frame(&mut self) -> Option<Result<Vec<u8>, FramingError>> {
        self.ready.pop_front()
    }

    /// Ends the stream: a last line with no terminator becomes a frame (or, if overlong
    /// under the refuse policy, an error). Afterwards the framer is empty and can be reused.
    pub fn finish(&mut self) {
        if !self.partial.is_empty() || self.discarding.is_some() {
            self.push(&[LF]);
        }
    }

    /// Starts discarding an overlong line of which `count` bytes have come (the last a CR if
    /// `last_cr`), reporting it now if asked to report at the limit.
    fn start_discarding(&mut self, count: usize, last_cr: bool) {
        self.partial.clear();
        self.discarding = Some(Discard { count, last_cr });
        if self.at_limit {
            let discarded = count - usize::from(last_cr);
            self.ready.push_back(Err(FramingError::Overlong { limit: self.max, discarded }));
        }
    }

    /// Adds the next chunk of the stream.
    pub fn push(&mut self, mut rest: &[u8]) {
        while !rest.is_empty() {
            let eol = rest.iter().position(|&b| b == LF);
            if let Some(d) = &mut self.discarding {
                match eol {
                    None => {
                        d.count += rest.len();
                        d.last_cr = rest.last() == Some(&CR);
                        return;
                    }
                    Some(i) => {
                        d.count += i;
                        if i > 0 {
                            d.last_cr = rest[i - 1] == CR;
                        }
                        let discarded = d.count - usize::from(d.last_cr);
                        self.discarding = None;
                        if !self.at_limit {
                            self.ready.push_back(Err(FramingError::Overlong { limit: self.max, discarded }));
                        }
                        rest = &rest[i + 1..];
                        continue;
                    }
                }
            }
            match eol {
                Some(i) => {
                    let body = &rest[..i];
                    let cr = match body.last() {
                        Some(&b) => b == CR,
                        None => self.partial.last() == Some(&CR),
                    };
                    let len = self.partial.len() + body.len() - usize::from(cr);
                    if len > self.max && self.policy == OverlongPolicy::Refuse {
                        self.partial.clear();
                        self.ready.push_back(Err(FramingError::Overlong { limit: self.max, discarded: len }));
                    } else {
                        self.partial.extend_from_slice(body);
                        self.partial.truncate(len);
                        let line = std::mem::take(&mut self.partial);
                        self.emit_line(line);
                    }
                    rest = &rest[i + 1..];
                }
                None => {
                    // No end of line in what is left: hold it, unless the line is already too
                    // long (a trailing CR may yet be half of a CRLF, so it does not count).
                    let total = self.partial.len() + rest.len();
                    let last_cr = rest.last() == Some(&CR);
                    if total - usize::from(last_cr) <= self.max {
                        self.partial.extend_from_slice(rest);
                    } else if self.policy == OverlongPolicy::Refuse {
                        self.start_discarding(total, last_cr);
                    } else {
                        self.partial.extend_from_slice(rest);
                        self.split_partial();
                    }
                    return;
                }
            }
        }
    }

    /// Sends a complete line, cut into pieces if it is too long (split policy).
    fn emit_line(&mut self, line: Vec<u8>) {
        if line.len() <= self.max {
            self.ready.push_back(Ok(line));
        } else {
            self.ready.extend(line.chunks(self.max).map(|piece| Ok(piece.to_vec())));
        }
    }

    /// Sends full-length pieces of the incomplete line while more than the maximum is held.
    fn split_partial(&mut self) {
        let max = self.max;
        let mut off = 0;
        while content_len(&self.partial[off..]) > max {
            self.ready.push_back(Ok(self.partial[off..off + max].to_vec()));
            off += max;
        }
        self.partial.drain(..off);
    }
}

/// The length of an incomplete line, not counting a trailing CR.
fn content_len(bytes: &[u8]) -> usize {
    bytes.len() - usize::from(bytes.last() == Some(&CR))
}

/// ChunksToLines: turns chunks of a byte stream, cut anywhere, into lines (Kamaelia's
/// `chunks_to_lines`, used in front of every line-based protocol).
///
/// Framing is [`LineFramer`]'s: LF and CRLF end a line; a CR elsewhere is kept; lines are
/// sent without their terminator; an empty line is sent as an empty line.
///
/// Boxes:
/// - `inbox: Vec<u8>`: chunks of the stream.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: Vec<u8>` (or `String` with [`build_text`](ChunksToLines::build_text)): lines.
/// - `signal: Signal`: signals passed on.
/// - `error: FramingError`: lines refused for being too long (or, with
///   [`Utf8Policy::Report`], for not being UTF-8), in stream order with the lines. An error
///   takes the place of its line and the next line is framed normally, so a server can answer
///   the sender and keep the connection. Like any outbox, while unlinked it keeps what is sent.
///
/// Configuration: [`max_line_length`](ChunksToLines::max_line_length) (default
/// [`DEFAULT_MAX_LINE`], 64 KiB) and [`overlong`](ChunksToLines::overlong) (default
/// [`OverlongPolicy::Refuse`]). An overlong line is reported as soon as more than the limit has
/// come without a newline ([`LineFramer::report_at_limit`]: a peer that never ends its line is
/// answered at once), then discarded up to its newline; it is never held in memory beyond the
/// limit.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)), with an end
/// hook: on `ProducerFinished` it frames what is already in `inbox`, then sends a last line
/// that has no terminator (see [`LineFramer::finish`]) before passing the signal on. A
/// shutdown drops the partial line it holds.
///
/// Differs from Kamaelia: the original works on text, removes *every* CR, has no length limit,
/// and on `producerFinished` stops without sending buffered lines, losing a last line that has
/// no newline. Here nothing is lost: buffered lines and the last partial line are sent.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ChunksToLines {
    max: usize,
    policy: OverlongPolicy,
}

impl Default for ChunksToLines {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunksToLines {
    /// A ChunksToLines with the default limit (64 KiB) and policy (refuse).
    pub fn new() -> Self {
        ChunksToLines { max: DEFAULT_MAX_LINE, policy: OverlongPolicy::Refuse }
    }

    /// Sets the maximum line length in bytes, not counting the terminator.
    ///
    /// # Panics
    /// If `max` is 0.
    pub fn max_line_length(mut self, max: usize) -> Self {
        assert!(max > 0, "ChunksToLines: the maximum line length must be at least 1");
        self.max = max;
        self
    }

    /// Sets what happens to a line longer than the maximum.
    pub fn overlong(mut self, policy: OverlongPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Builds a ChunksToLines sending lines as bytes (`Vec<u8>`).
    pub fn build(self) -> Component {
        self.build_with(Ok)
    }

    /// Builds a ChunksToLines sending lines as `String`s, decoded under `utf8`: invalid UTF-8
    /// is replaced with U+FFFD, or the line is reported on `error` with its bytes.
    pub fn build_text(self, utf8: Utf8Policy) -> Component {
        self.build_with(move |line| decode_line(line, utf8))
    }

    fn build_with<O: Send + 'static>(
        self,
        convert: impl Fn(Vec<u8>) -> Result<O, FramingError> + Send + 'static,
    ) -> Component {
        let mut b = ComponentBuilder::new("ChunksToLines");
        let std = b.standard::<Vec<u8>, O>();
        let error = b.outbox::<FramingError>("error");
        let mut framer = LineFramer::with_limit(self.max, self.policy).report_at_limit(true);
        b.run(move |_ctx| async move {
            let mut watch = ControlWatch::new(std.control, std.signal);
            let end = loop {
                let mut finished = None;
                match watch.next(&std.inbox).await {
                    Next::Data(chunk) => framer.push(&chunk),
                    Next::Other(s) => watch.emit(s).await,
                    Next::End(s) if s.is_producer_finished() => {
                        framer.finish();
                        finished = Some(s);
                    }
                    Next::End(s) => break s,
                }
                let mut cut = None;
                while let Some(frame) = framer.next_frame() {
                    let sent = match frame.and_then(&convert) {
                        Ok(line) => watch.send(&std.outbox, line).await.map_err(Signal::from),
                        Err(e) => watch.send(&error, e).await.map_err(Signal::from),
                    };
                    if let Err(s) = sent {
                        cut = Some(s);
                        break;
                    }
                }
                if let Some(s) = cut.or(finished) {
                    break s;
                }
            };
            watch.finish(end).await;
        })
    }
}

/// Why a line could not be split into tokens.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenErrorKind {
    /// A quoted token has no closing quote.
    UnterminatedQuote,
    /// A closing quote is followed by something other than whitespace.
    TextAfterQuote,
}

/// A line [`split_tokens`] could not split, with where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenError {
    line: String,
    position: usize,
    kind: TokenErrorKind,
}

impl TokenError {
    /// The line, whole.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The byte offset of the trouble: the opening quote of an unterminated token, or the
    /// first character after a closing quote.
    pub fn position(&self) -> usize {
        self.position
    }

    /// What went wrong.
    pub fn kind(&self) -> TokenErrorKind {
        self.kind
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TokenErrorKind::UnterminatedQuote => {
                write!(f, "unterminated quote at byte {} of line {:?}", self.position, self.line)
            }
            TokenErrorKind::TextAfterQuote => {
                write!(f, "text straight after a closing quote at byte {} of line {:?}", self.position, self.line)
            }
        }
    }
}

impl std::error::Error for TokenError {}

/// Python's `\s` and `str.isspace`, which Kamaelia's tokeniser uses: Unicode whitespace plus
/// the four ASCII information separators.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Splits a line into tokens with Kamaelia's `lines_to_tokenlists` grammar.
///
/// - Tokens are separated by runs of whitespace; leading and trailing whitespace is ignored,
///   so a blank line gives no tokens.
/// - A token that starts with `"` or `'` runs to the matching unescaped quote, which must be
///   followed by whitespace or the end of the line. Inside it, spaces and the other kind of
///   quote are ordinary characters, and a backslash makes the next character literal
///   (`\"` is `"`, `\\` is `\`, `\x` is `x`). The quotes are removed; `""` is an empty token.
/// - Any other token runs to the next whitespace; quotes and backslashes inside it are
///   ordinary characters (`a"b` and `b\c` are tokens as written).
///
/// ```
/// use kamaelia_util::split_tokens;
///
/// let tokens = split_tokens(r#"ADD NODE "(5, 'i', 'inbox')" "inbox" randompos inbox"#).unwrap();
/// assert_eq!(tokens, ["ADD", "NODE", "(5, 'i', 'inbox')", "inbox", "randompos", "inbox"]);
/// ```
///
/// # Errors
/// A quoted token with no closing quote, or a closing quote followed by something other than
/// whitespace, is a [`TokenError`].
///
/// Differs from Kamaelia: the original's regular expression returns an empty list for such a
/// line (so the whole line vanishes), except when the line starts with whitespace and the
/// trouble is in its first token, when backtracking makes the whole rest of the line, leading
/// space included, one token. Both are reported as errors here. For every line the original
/// splits sensibly, the tokens are the same.
pub fn split_tokens(line: &str) -> Result<Vec<String>, TokenError> {
    let error = |position, kind| TokenError { line: line.to_string(), position, kind };
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().peekable();
    loop {
        while chars.next_if(|&(_, c)| is_space(c)).is_some() {}
        let Some(&(start, first)) = chars.peek() else { break };
        let mut token = String::new();
        if first == '"' || first == '\'' {
            chars.next();
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                if c == first {
                    closed = true;
                    break;
                }
                if c == '\\' {
                    match chars.next() {
                        Some((_, escaped)) => token.push(escaped),
                        None => break,
                    }
                } else {
                    token.push(c);
                }
            }
            if !closed {
                return Err(error(start, TokenErrorKind::UnterminatedQuote));
            }
            if let Some(&(at, c)) = chars.peek() {
                if !is_space(c) {
                    return Err(error(at, TokenErrorKind::TextAfterQuote));
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|&(_, c)| !is_space(c)) {
                token.push(c);
            }
        }
        tokens.push(token);
    }
    Ok(tokens)
}

/// LinesToTokenlists: splits each line into a list of tokens (Kamaelia's
/// `lines_to_tokenlists`), with the quoting rules of [`split_tokens`].
///
/// Boxes:
/// - `inbox: String`: lines.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: Vec<String>`: the tokens of each line that has any (blank lines send nothing,
///   as in the original).
/// - `signal: Signal`: signals passed on.
/// - `error: TokenError`: lines that could not be split (an unterminated quote ...), with the
///   line.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): on
/// `ProducerFinished` it splits the lines already in `inbox` first.
///
/// Differs from Kamaelia: the original drops a line it cannot split without a word (here it
/// goes to `error`), and stops on `producerFinished` without splitting the lines still queued.
#[derive(Debug)]
pub struct LinesToTokenlists {
    _private: (),
}

// The type names the component, as Kamaelia's class does; `new` builds it.
#[allow(clippy::new_ret_no_self)]
impl LinesToTokenlists {
    /// Builds a LinesToTokenlists.
    pub fn new() -> Component {
        let mut b = ComponentBuilder::new("LinesToTokenlists");
        let std = b.standard::<String, Vec<String>>();
        let error: Outbox<TokenError> = b.outbox("error");
        b.run(move |_ctx| async move {
            let mut watch = ControlWatch::new(std.control, std.signal);
            let end = loop {
                match watch.next(&std.inbox).await {
                    Next::Data(line) => {
                        let sent = match split_tokens(&line) {
                            Ok(tokens) if tokens.is_empty() => Ok(()),
                            Ok(tokens) => watch.send(&std.outbox, tokens).await.map_err(Signal::from),
                            Err(e) => watch.send(&error, e).await.map_err(Signal::from),
                        };
                        if let Err(s) = sent {
                            break s;
                        }
                    }
                    Next::Other(s) => watch.emit(s).await,
                    Next::End(s) => break s,
                }
            };
            watch.finish(end).await;
        })
    }
}
