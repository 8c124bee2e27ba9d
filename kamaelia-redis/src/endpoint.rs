//! One Redis server as the components see it: a URL checked once, connections with the
//! timeouts set, errors classified, reconnection backoff, and the few reply shapes we parse.

use std::time::{Duration, Instant};

use redis::{Connection, RedisError, Value};

use crate::{Error, ErrorKind};

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A reply slower than this (beyond a command's own BLOCK) means the connection is gone.
pub(crate) const REPLY_MARGIN: Duration = Duration::from_secs(5);

/// A parsed Redis URL and its client.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    url: String,
    client: redis::Client,
}

impl Endpoint {
    /// Checks `url` (`redis://HOST:PORT[/DB]`, optionally `redis://:PASSWORD@...`).
    pub(crate) fn parse(url: &str) -> Result<Endpoint, Error> {
        let malformed =
            |why: &str| Error::new(ErrorKind::MalformedUrl, url, format!("{why} (expected redis://HOST:PORT[/DB])"));
        let Some(rest) = url.strip_prefix("redis://") else {
            return Err(malformed(if url.contains("://") {
                "only redis:// is supported"
            } else {
                "it does not start with redis://"
            }));
        };
        let host = rest.rsplit('@').next().unwrap_or(rest).split('/').next().unwrap_or("");
        if host.is_empty() {
            return Err(malformed("no host"));
        }
        if let Some((_, port)) = host.rsplit_once(':') {
            if port.parse::<u16>().is_err() {
                return Err(malformed(&format!("port {port:?} is not a number from 0 to 65535")));
            }
        }
        let client = redis::Client::open(url).map_err(|e| malformed(&e.to_string()))?;
        Ok(Endpoint { url: url.to_string(), client })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A connection that answered `PING`, whose replies may take `block` plus a margin (the
    /// BLOCK of the commands it will send), so a dead server is noticed.
    pub(crate) fn connect(&self, block: Duration) -> Result<Connection, Error> {
        let mut con = self.client.get_connection_with_timeout(CONNECT_TIMEOUT).map_err(|e| self.error(&e))?;
        con.set_read_timeout(Some(block + REPLY_MARGIN)).map_err(|e| self.error(&e))?;
        con.set_write_timeout(Some(REPLY_MARGIN)).map_err(|e| self.error(&e))?;
        redis::cmd("PING").query::<String>(&mut con).map_err(|e| self.error(&e))?;
        Ok(con)
    }

    /// Classifies a client error for this server.
    pub(crate) fn error(&self, e: &RedisError) -> Error {
        Error::new(classify(e), &self.url, e.to_string())
    }

    /// The error for a connection that broke while in use.
    pub(crate) fn lost(&self, e: &RedisError) -> Error {
        let kind = match classify(e) {
            ErrorKind::Unreachable => ErrorKind::ConnectionLost,
            other => other,
        };
        Error::new(kind, &self.url, e.to_string())
    }
}

fn classify(e: &RedisError) -> ErrorKind {
    if e.kind() == redis::ErrorKind::AuthenticationFailed || matches!(e.code(), Some("WRONGPASS" | "NOAUTH" | "NOPERM"))
    {
        ErrorKind::AuthRefused
    } else if e.is_io_error() || e.is_connection_refusal() || e.is_timeout() || e.is_connection_dropped() {
        ErrorKind::Unreachable
    } else if e.kind() == redis::ErrorKind::InvalidClientConfig {
        ErrorKind::MalformedUrl
    } else {
        ErrorKind::Server
    }
}

/// True if the error means the connection can no longer be used (reconnect), rather than a
/// refusal of one command.
pub(crate) fn is_connection_error(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_refusal() || e.is_timeout() || e.is_connection_dropped()
}

/// Checks that Redis answers at `url`, with a clear error if not: for apps, before they start
/// anything (and exit 2 on an error).
pub fn check(url: &str) -> Result<(), Error> {
    Endpoint::parse(url)?.connect(Duration::ZERO).map(drop)
}

/// Reconnection delays: 20 ms, doubling to 2 s, reset by a success.
#[derive(Debug)]
pub(crate) struct Backoff {
    delay: Duration,
    next: Instant,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(20);
    const MAX: Duration = Duration::from_secs(2);

    pub(crate) fn new() -> Self {
        Backoff { delay: Self::FIRST, next: Instant::now() }
    }

    /// True if an attempt may be made now.
    pub(crate) fn due(&self) -> bool {
        Instant::now() >= self.next
    }

    /// Time until the next attempt is due.
    pub(crate) fn wait(&self) -> Duration {
        self.next.saturating_duration_since(Instant::now())
    }

    /// An attempt failed: wait longer before the next.
    pub(crate) fn failed(&mut self) {
        self.next = Instant::now() + self.delay;
        self.delay = (self.delay * 2).min(Self::MAX);
    }

    pub(crate) fn reset(&mut self) {
        self.delay = Self::FIRST;
        self.next = Instant::now();
    }
}

/// One stream entry as read: its id and its fields (`None`: the entry was deleted or trimmed
/// while pending).
pub(crate) type RawEntry = (String, Option<Vec<(Vec<u8>, Vec<u8>)>>);

/// The entries of an `XREADGROUP`/`XREAD` reply for one stream (nil: none).
pub(crate) fn read_reply_entries(v: Value) -> Vec<RawEntry> {
    let streams = match v {
        Value::Array(a) => a.into_iter().filter_map(|s| pair(s).map(|(_, e)| e)).collect::<Vec<_>>(),
        Value::Map(m) => m.into_iter().map(|(_, e)| e).collect(),
        _ => return Vec::new(),
    };
    streams.into_iter().flat_map(range_entries).collect()
}

/// The entries of an `XRANGE`-shaped array.
pub(crate) fn range_entries(v: Value) -> Vec<RawEntry> {
    let Value::Array(entries) = v else { return Vec::new() };
    entries
        .into_iter()
        .filter_map(|e| {
            let (id, fields) = pair(e)?;
            let id = string(&id)?;
            let fields = match fields {
                Value::Array(f) => {
                    let mut out = Vec::with_capacity(f.len() / 2);
                    let mut it = f.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        out.push((bytes(k), bytes(v)));
                    }
                    Some(out)
                }
                Value::Map(m) => Some(m.into_iter().map(|(k, v)| (bytes(k), bytes(v))).collect()),
                _ => None,
            };
            Some((id, fields))
        })
        .collect()
}

/// A two-element array as a pair.
pub(crate) fn pair(v: Value) -> Option<(Value, Value)> {
    match v {
        Value::Array(a) if a.len() == 2 => {
            let mut it = a.into_iter();
            Some((it.next()?, it.next()?))
        }
        _ => None,
    }
}

pub(crate) fn bytes(v: Value) -> Vec<u8> {
    match v {
        Value::BulkString(b) => b,
        Value::SimpleString(s) => s.into_bytes(),
        Value::Int(i) => i.to_string().into_bytes(),
        _ => Vec::new(),
    }
}

pub(crate) fn string(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

pub(crate) fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        Value::SimpleString(s) => s.parse().ok(),
        _ => None,
    }
}

/// A reply made of field/value pairs (`XINFO GROUPS` items, `HGETALL`) as (name, value).
pub(crate) fn fields(v: Value) -> Vec<(String, Value)> {
    match v {
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len() / 2);
            let mut it = a.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((string(&k).unwrap_or_default(), v));
            }
            out
        }
        Value::Map(m) => m.into_iter().map(|(k, v)| (string(&k).unwrap_or_default(), v)).collect(),
        _ => Vec::new(),
    }
}

/// A stream id `ms-seq`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct StreamId(pub(crate) u64, pub(crate) u64);

impl StreamId {
    pub(crate) fn parse(s: &str) -> Option<StreamId> {
        let (ms, seq) = s.split_once('-')?;
        Some(StreamId(ms.parse().ok()?, seq.parse().ok()?))
    }

    /// The smallest id after this one.
    pub(crate) fn next(self) -> StreamId {
        if self.1 == u64::MAX { StreamId(self.0 + 1, 0) } else { StreamId(self.0, self.1 + 1) }
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_urls_are_refused_with_the_reason() {
        for (url, why) in [
            ("localhost:6379", "does not start with redis://"),
            ("http://localhost:6379", "only redis://"),
            ("redis://", "no host"),
            ("redis://localhost:99999", "not a number"),
            ("redis://localhost:abc/0", "not a number"),
        ] {
            let e = Endpoint::parse(url).unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::MalformedUrl, "{url}");
            assert!(e.to_string().contains(why), "{url}: {e}");
        }
        assert!(Endpoint::parse("redis://127.0.0.1:6379/2").is_ok());
    }

    #[test]
    fn stream_ids_order_and_step() {
        let a = StreamId::parse("5-3").unwrap();
        assert_eq!(a.next().to_string(), "5-4");
        assert!(StreamId::parse("6-0").unwrap() > a);
        assert_eq!(StreamId::parse("x"), None);
    }
}
