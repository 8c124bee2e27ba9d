//! Grep: passes lines that match (or, inverted, do not match) a regular expression.

use std::fmt;

use axon_core::{Component, ComponentBuilder};

/// A pattern [`Grep`] could not compile.
#[derive(Clone, Debug)]
pub struct GrepError {
    pattern: String,
    error: regex::Error,
}

impl GrepError {
    /// The pattern as given.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The regex crate's error.
    pub fn regex_error(&self) -> &regex::Error {
        &self.error
    }
}

impl fmt::Display for GrepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            // The syntax error's own text shows the pattern with a caret under the trouble.
            regex::Error::Syntax(text) => write!(f, "invalid pattern {:?}:\n{text}", self.pattern),
            other => write!(f, "invalid pattern {:?}: {other}", self.pattern),
        }
    }
}

impl std::error::Error for GrepError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A compiled pattern that can test one kind of line.
trait Matcher: Send + Sync + 'static {
    /// The lines it tests.
    type Line: Send + 'static;
    fn found_in(&self, line: &Self::Line) -> bool;
}

impl Matcher for regex::Regex {
    type Line = String;
    fn found_in(&self, line: &String) -> bool {
        self.is_match(line)
    }
}

impl Matcher for regex::bytes::Regex {
    type Line = Vec<u8>;
    fn found_in(&self, line: &Vec<u8>) -> bool {
        self.is_match(line)
    }
}

/// Grep: passes on the lines in which a regular expression matches (Kamaelia's
/// `Grep(pattern, invert)` from the Europython09 utilities, and the `grep` of the log
/// follow pipeline `Pipeline(Follow(path), Grep(".*pants.*"), Printer())`).
///
/// The pattern is searched for anywhere in the line, as `grep` does (anchor it with `^` and
/// `$` to match whole lines); the syntax is the [`regex`] crate's (RE2-like: no
/// backreferences or lookaround; `(?i)` for case-insensitive). With
/// [`invert`](Grep::invert) the lines that do *not* match are passed instead (`grep -v`).
///
/// ```
/// use kamaelia_file::Grep;
///
/// let grep = Grep::new("pants").unwrap().invert(false).build();
/// # drop(grep);
/// assert!(Grep::new("unclosed (group").unwrap_err().to_string().contains("unclosed (group"));
/// ```
///
/// [`Grep::new`] makes a grep of `String` lines; [`Grep::bytes`] one of `Vec<u8>` lines
/// (lines that need not be UTF-8, searched with [`regex::bytes`]). A bad pattern is a
/// [`GrepError`] from either, before any component exists.
///
/// Boxes (`L` is `String` or `Vec<u8>`):
/// - `inbox: L`: lines.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: L`: the lines that match (or, inverted, that do not), unchanged and in order.
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: the standard contract ([`Driver`](axon_core::Driver)): it is `io.transform`
/// over the match. A line waiting for room downstream when a shutdown arrives is dropped.
///
/// Differs from Kamaelia: the original compiles the pattern when the component first runs,
/// so a bad pattern is an exception inside the running system.
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Grep<R = regex::Regex> {
    regex: R,
    invert: bool,
}

impl Grep<regex::Regex> {
    /// A grep of `String` lines for `pattern`.
    ///
    /// # Errors
    /// A pattern that does not compile, with the regex crate's explanation.
    pub fn new(pattern: &str) -> Result<Self, GrepError> {
        regex::Regex::new(pattern)
            .map(|regex| Grep { regex, invert: false })
            .map_err(|error| GrepError { pattern: pattern.to_string(), error })
    }
}

impl Grep<regex::bytes::Regex> {
    /// A grep of `Vec<u8>` lines for `pattern` (lines need not be UTF-8; the pattern is
    /// Unicode-aware as in [`Grep::new`], and `(?-u)` lets it match arbitrary bytes).
    ///
    /// # Errors
    /// A pattern that does not compile, with the regex crate's explanation.
    pub fn bytes(pattern: &str) -> Result<Self, GrepError> {
        regex::bytes::Regex::new(pattern)
            .map(|regex| Grep { regex, invert: false })
            .map_err(|error| GrepError { pattern: pattern.to_string(), error })
    }
}

#[allow(private_bounds, reason = "the matcher trait is an implementation detail of the two constructors")]
impl<R: Matcher> Grep<R> {
    /// Passes the lines that do *not* match instead (`grep -v`). Default false.
    pub fn invert(mut self, yes: bool) -> Self {
        self.invert = yes;
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let Grep { regex, invert } = self;
        let mut b = ComponentBuilder::new("Grep");
        let io = b.standard::<R::Line, R::Line>();
        b.run(move |_ctx| io.transform(move |line| (regex.found_in(&line) != invert).then_some(line)))
    }
}
