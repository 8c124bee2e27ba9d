//! What a Backplane message looks like in a stream: the [`Origin`] that published it, its
//! per-origin sequence number, and the message as JSON.
//!
//! An entry has four fields: `k` = `kamaelia/1` (marks the entry as ours: anything else in
//! the stream is foreign), `o` = the origin, `s` = the sequence number (decimal, from 1,
//! contiguous per origin), `d` = the message, encoded by the bridge's [`Codec`]:
//! serde_json unless another is chosen.
//!
//! Why JSON: an entry can be read by `redis-cli XRANGE`, by a tool in any language, and by
//! the next version of this crate; a decoding failure names the field that is wrong. Its cost
//! (a few hundred nanoseconds for a chat line) is small next to a network round trip, and
//! entries are written in pipelined batches, so it does not set the throughput. serde_json is
//! already the workspace's serde format.

use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The value of the `k` field of every entry we write.
pub(crate) const MARK: &[u8] = b"kamaelia/1";

/// The default limit on one encoded message (1 MiB): Redis takes far larger values, but a
/// message this big is almost always a mistake, and one would hold up every subscriber.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1 << 20;

/// Who published a message: a host, a process id and a random instance id, so two processes
/// (or two runs of one) never share an origin. A subscribe bridge skips entries of its own
/// origin (their local subscribers already had them) and checks that each other origin's
/// sequence numbers are contiguous.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(String);

impl Origin {
    /// This process's origin, the same for every bridge in it: `host:pid:instance`.
    pub fn process() -> Origin {
        static PROCESS: OnceLock<Origin> = OnceLock::new();
        PROCESS.get_or_init(Origin::fresh).clone()
    }

    /// A new origin with a fresh instance id, for a bridge that should behave as another
    /// process would (tests, or several independent systems in one process).
    pub fn fresh() -> Origin {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".into());
        Origin(format!("{host}:{}:{:016x}", std::process::id(), rand::random::<u64>()))
    }

    /// The origin as written in entries.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({})", self.0)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a bridge turns a message into the bytes of an entry's `d` field and back.
///
/// [`Codec::json`] (the default for serde types) is readable anywhere; [`Codec::bytes`] keeps
/// byte messages (a chat line as `Arc<[u8]>`) as they are, rather than as a JSON array of
/// numbers.
pub struct Codec<T> {
    encode: fn(&T) -> Result<Vec<u8>, String>,
    decode: fn(&[u8]) -> Result<T, String>,
}

impl<T> Clone for Codec<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Codec<T> {}

impl<T> fmt::Debug for Codec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codec").finish_non_exhaustive()
    }
}

impl<T> Codec<T> {
    /// A codec from two functions (a decoding error says why, in words).
    pub fn new(encode: fn(&T) -> Result<Vec<u8>, String>, decode: fn(&[u8]) -> Result<T, String>) -> Self {
        Codec { encode, decode }
    }
}

impl<T: Serialize + DeserializeOwned> Codec<T> {
    /// serde_json.
    pub fn json() -> Self {
        Codec {
            encode: |m| serde_json::to_vec(m).map_err(|e| e.to_string()),
            decode: |d| {
                serde_json::from_slice(d).map_err(|e| format!("does not decode as {}: {e}", std::any::type_name::<T>()))
            },
        }
    }
}

impl<T: AsRef<[u8]> + From<Vec<u8>>> Codec<T> {
    /// The message's bytes as they are.
    pub fn bytes() -> Self {
        Codec { encode: |m| Ok(m.as_ref().to_vec()), decode: |d| Ok(T::from(d.to_vec())) }
    }
}

/// Encodes a message, refusing one over `max` bytes (its encoded size in the error).
pub(crate) fn encode<T>(codec: &Codec<T>, msg: &T, max: usize) -> Result<Vec<u8>, String> {
    let d = (codec.encode)(msg).map_err(|e| format!("cannot encode the message: {e}"))?;
    if d.len() > max {
        return Err(format!("the message encodes to {} bytes, over the limit of {max}", d.len()));
    }
    Ok(d)
}

/// A decoded entry.
#[derive(Debug)]
pub(crate) struct Decoded<T> {
    pub(crate) origin: String,
    pub(crate) seq: u64,
    pub(crate) msg: T,
}

/// Decodes an entry's fields, or says why it is not a message of ours of type `T`.
pub(crate) fn decode<T>(codec: &Codec<T>, fields: &[(Vec<u8>, Vec<u8>)], max: usize) -> Result<Decoded<T>, String> {
    let field = |name: &[u8]| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_slice());
    if field(b"k") != Some(MARK) {
        let names: Vec<String> = fields.iter().map(|(k, _)| String::from_utf8_lossy(k).into_owned()).collect();
        return Err(format!("not a kamaelia entry (no k={}; fields {names:?})", String::from_utf8_lossy(MARK)));
    }
    let origin = field(b"o")
        .and_then(|o| std::str::from_utf8(o).ok())
        .filter(|o| !o.is_empty())
        .ok_or("no origin (field o)")?
        .to_string();
    let seq = field(b"s")
        .and_then(|s| std::str::from_utf8(s).ok()?.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .ok_or("no sequence number (field s)")?;
    let d = field(b"d").ok_or("no message (field d)")?;
    if d.len() > max {
        return Err(format!("the message is {} bytes, over the limit of {max}", d.len()));
    }
    let msg = (codec.decode)(d).map_err(|e| format!("the message from {origin} (seq {seq}) {e}"))?;
    Ok(Decoded { origin, seq, msg })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(o: &str, s: &str, d: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        vec![
            (b"k".to_vec(), MARK.to_vec()),
            (b"o".to_vec(), o.as_bytes().to_vec()),
            (b"s".to_vec(), s.as_bytes().to_vec()),
            (b"d".to_vec(), d.to_vec()),
        ]
    }

    #[test]
    fn round_trips_and_names_what_is_wrong() {
        let (json, num) = (Codec::<String>::json(), Codec::<u32>::json());
        let d = encode(&json, &"hello".to_string(), 100).unwrap();
        let got: Decoded<String> = decode(&json, &entry("h:1:ab", "7", &d), 100).unwrap();
        assert_eq!((got.origin.as_str(), got.seq, got.msg.as_str()), ("h:1:ab", 7, "hello"));
        let foreign = vec![(b"temp".to_vec(), b"21".to_vec())];
        assert!(decode(&json, &foreign, 100).unwrap_err().contains("not a kamaelia entry"));
        assert!(decode(&json, &entry("h", "0", &d), 100).unwrap_err().contains("sequence"));
        assert!(decode(&num, &entry("h", "1", &d), 100).unwrap_err().contains("does not decode as u32"));
        assert!(encode(&json, &"x".repeat(200), 100).unwrap_err().contains("over the limit of 100"));
        assert!(decode(&json, &entry("h", "1", &d), 3).unwrap_err().contains("over the limit"));
    }

    #[test]
    fn the_bytes_codec_keeps_bytes_as_they_are() {
        let codec = Codec::<std::sync::Arc<[u8]>>::bytes();
        let line: std::sync::Arc<[u8]> = b"Chat:1.2.3.4:5 says hi".to_vec().into();
        let d = encode(&codec, &line, 100).unwrap();
        assert_eq!(d, b"Chat:1.2.3.4:5 says hi");
        assert_eq!(decode(&codec, &entry("h", "1", &d), 100).unwrap().msg, line);
    }

    #[test]
    fn origins_differ_between_instances_and_not_within_a_process() {
        assert_eq!(Origin::process(), Origin::process());
        assert_ne!(Origin::fresh(), Origin::fresh());
        assert!(Origin::process().as_str().contains(&format!(":{}:", std::process::id())));
    }
}
