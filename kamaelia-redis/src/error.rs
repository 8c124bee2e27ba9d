//! [`Error`]: what went wrong talking to Redis, or with what was found in a stream, always
//! naming the server (password hidden) and saying what to do.

use std::fmt;

/// What kind of fault an [`Error`] is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL is not a Redis URL (`redis://HOST:PORT[/DB]`). Fatal.
    MalformedUrl,
    /// Nothing answers at the URL (connection refused, unknown host, timed out). Components
    /// keep retrying with backoff; apps exit 2 at start.
    Unreachable,
    /// The server refused the credentials (or wants some). Fatal.
    AuthRefused,
    /// The connection broke while in use. Components reconnect with backoff.
    ConnectionLost,
    /// The connection is back after a loss.
    Reconnected,
    /// The server answered a command with an error.
    Server,
    /// A stream entry that is not ours or does not decode as the expected type: moved to the
    /// dead-letter stream, never delivered.
    Undecodable,
    /// A message over the size limit: not published (or, found in a stream, dead-lettered).
    TooLarge,
    /// Messages of an origin that never arrived (a sequence gap): `missed` of them, exactly.
    Gap {
        /// The origin whose messages are missing.
        origin: String,
        /// How many consecutive sequence numbers were missed.
        missed: u64,
    },
    /// This subscriber's consumer group was removed by its policy (Disconnect). Fatal.
    Disconnected,
}

/// A fault, reported on a component's `error` outbox (or returned by a function), with the
/// server it concerns and a sentence saying what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    url: String,
    detail: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, url: &str, detail: impl Into<String>) -> Self {
        Error { kind, url: redact(url), detail: detail.into() }
    }

    /// The kind of fault.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The server's URL, with any password replaced by `***`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What happened, in words.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// True for faults a component cannot recover from by retrying (a malformed URL, refused
    /// credentials, a removed subscription).
    pub fn is_fatal(&self) -> bool {
        matches!(self.kind, ErrorKind::MalformedUrl | ErrorKind::AuthRefused | ErrorKind::Disconnected)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = &self.url;
        let detail = &self.detail;
        match &self.kind {
            ErrorKind::MalformedUrl => {
                write!(f, "{url:?} is not a Redis URL: {detail}")
            }
            ErrorKind::Unreachable => write!(
                f,
                "cannot reach Redis at {url}: {detail}. Is redis-server running there? \
                 (install: `apt-get install redis-server`; start: `redis-server --port PORT`)"
            ),
            ErrorKind::AuthRefused => write!(
                f,
                "Redis at {url} refused authentication: {detail} (give the password as redis://:PASSWORD@HOST:PORT)"
            ),
            ErrorKind::ConnectionLost => write!(f, "lost the connection to Redis at {url}: {detail}; reconnecting"),
            ErrorKind::Reconnected => write!(f, "reconnected to Redis at {url}: {detail}"),
            ErrorKind::Server => write!(f, "Redis at {url} answered with an error: {detail}"),
            ErrorKind::Undecodable => write!(f, "an entry in Redis at {url} is not ours or does not decode: {detail}"),
            ErrorKind::TooLarge => write!(f, "message too large for Redis at {url}: {detail}"),
            ErrorKind::Gap { origin, missed } => {
                write!(f, "{missed} message(s) from {origin} never arrived (Redis at {url}): {detail}")
            }
            ErrorKind::Disconnected => write!(f, "removed from Redis at {url}: {detail}"),
        }
    }
}

impl std::error::Error for Error {}

/// The URL with a password (`redis://user:pw@host`) replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_string() };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else { return url.to_string() };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &rest[at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_appear_in_messages() {
        assert_eq!(redact("redis://:hunter2@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(redact("redis://bob:hunter2@h:1"), "redis://bob:***@h:1");
        assert_eq!(redact("redis://h:1"), "redis://h:1");
        let e = Error::new(ErrorKind::AuthRefused, "redis://:hunter2@h:1", "WRONGPASS");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn unreachable_names_the_url_and_how_to_install() {
        let e = Error::new(ErrorKind::Unreachable, "redis://127.0.0.1:1", "connection refused");
        let s = e.to_string();
        assert!(s.contains("redis://127.0.0.1:1") && s.contains("apt-get install redis-server"), "{s}");
    }
}
