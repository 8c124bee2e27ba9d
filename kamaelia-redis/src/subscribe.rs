//! [`SubscribeBridge`]: a threaded component that reads a backplane's stream through a
//! consumer group of its own and sends the messages of every other origin out of `outbox`.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axon_core::{Component, ComponentBuilder, ControlWatch, Outbox, Signal, ThreadCtx};
use redis::{Connection, RedisError, Value};
use serde::de::DeserializeOwned;

use crate::endpoint::{Backoff, Endpoint, RawEntry, is_connection_error, read_reply_entries, string};
use crate::policy::{RemotePolicy, backplane_dead_letters, backplane_stream, registry_key, removed_key};
use crate::wire::{Codec, DEFAULT_MAX_MESSAGE_BYTES, Origin, decode};
use crate::{Error, ErrorKind};

/// Counters of a [`SubscribeBridge`], shared with whoever holds a clone.
#[derive(Clone, Debug, Default)]
pub struct SubscribeStats(Arc<SubscribeCounts>);

#[derive(Debug, Default)]
struct SubscribeCounts {
    delivered: AtomicU64,
    own: AtomicU64,
    duplicates: AtomicU64,
    missed: AtomicU64,
    dead: AtomicU64,
    reconnects: AtomicU64,
}

impl SubscribeStats {
    /// Messages sent out of `outbox`.
    pub fn delivered(&self) -> u64 {
        self.0.delivered.load(Ordering::SeqCst)
    }
    /// Entries of this bridge's own origin, skipped.
    pub fn own(&self) -> u64 {
        self.0.own.load(Ordering::SeqCst)
    }
    /// Entries seen twice (a publisher's retried write, a redelivery), skipped.
    pub fn duplicates(&self) -> u64 {
        self.0.duplicates.load(Ordering::SeqCst)
    }
    /// Messages that never arrived, summed over origins (sequence gaps): exact.
    pub fn missed(&self) -> u64 {
        self.0.missed.load(Ordering::SeqCst)
    }
    /// Entries moved to the dead-letter stream (foreign, undecodable, too large).
    pub fn dead_lettered(&self) -> u64 {
        self.0.dead.load(Ordering::SeqCst)
    }
    /// Connections re-made after a loss.
    pub fn reconnects(&self) -> u64 {
        self.0.reconnects.load(Ordering::SeqCst)
    }
}

/// Subscribes to the backplane `name` across processes: reads the stream
/// `kamaelia:backplane:NAME` through a consumer group of its own and sends every message of
/// another origin out of `outbox`, in each origin's order.
///
/// Boxes:
/// - `control: Signal`, `signal: Signal` (out): the shutdown contract (below); other signals
///   are passed on.
/// - `outbox: T` (out): the messages. Sending waits for room: a stalled consumer stalls the
///   group, and the publishers then apply its [`RemotePolicy`].
/// - `error: Error` (out): gaps (per origin, exact), entries that were not ours or did not
///   decode (each also moved to the dead-letter stream `kamaelia:backplane:NAME:dead` with the
///   reason, and acknowledged: never a crash), a lost connection and its return.
///
/// The group starts at the end of the stream (messages published from then on, as a local
/// `SubscribeTo`). Entries of this bridge's own [`Origin`] are skipped (its local subscribers
/// had them already). Each other origin's sequence numbers are checked: an entry already seen
/// (a retried write, a redelivery after a reconnect) is skipped; a jump is reported as a gap
/// of exactly the missing count. An entry is acknowledged only once it has been sent out of
/// `outbox`; after a lost connection the bridge reconnects with backoff and reads its own
/// pending entries first, so nothing is lost.
///
/// The group is named by [`group`](Self::group); with the default (this bridge's origin)
/// it is removed when the bridge ends cleanly. A named group is kept, so a restarted process
/// resumes where it left off.
///
/// Shutdown: `ProducerFinished` or `ShutdownMicroprocess` stops it (within one BLOCK, 100 ms,
/// if it is waiting for entries; at once if it is waiting for room in `outbox`), acknowledging
/// what it sent, and passes the signal on. A malformed URL, refused credentials, or removal
/// by the Disconnect policy: reported on `error`, then `ErrorInformation` (saying why) and
/// `ShutdownMicroprocess` out of `signal`.
#[must_use = "a builder does nothing until `build` is called"]
pub struct SubscribeBridge<T> {
    url: String,
    name: String,
    origin: Origin,
    group: Option<String>,
    policy: RemotePolicy,
    count: usize,
    block: Duration,
    max_message_bytes: usize,
    stats: SubscribeStats,
    codec: Codec<T>,
    _t: PhantomData<fn() -> T>,
}

impl<T: serde::Serialize + DeserializeOwned + Send + 'static> SubscribeBridge<T> {
    /// A bridge from backplane `name` on the server at `url` (`redis://HOST:PORT[/DB]`),
    /// decoding with [`Codec::json`].
    pub fn new(url: impl Into<String>, name: impl Into<String>) -> Self {
        Self::with_codec(url, name, Codec::json())
    }
}

impl<T: Send + 'static> SubscribeBridge<T> {
    /// A bridge decoding messages with `codec`.
    pub fn with_codec(url: impl Into<String>, name: impl Into<String>, codec: Codec<T>) -> Self {
        SubscribeBridge {
            codec,
            url: url.into(),
            name: name.into(),
            origin: Origin::process(),
            group: None,
            policy: RemotePolicy::default(),
            count: 256,
            block: Duration::from_millis(100),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            stats: SubscribeStats::default(),
            _t: PhantomData,
        }
    }

    /// Skips entries of `origin` (default: [`Origin::process`]).
    pub fn origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// Names the consumer group (kept after the bridge ends, resumed by the next one).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// The slow-subscriber policy publishers apply to this group (default lossless,
    /// bound [`RemotePolicy::DEFAULT_BOUND`]).
    pub fn policy(mut self, policy: RemotePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Most entries per read (default 256).
    pub fn count(mut self, n: usize) -> Self {
        self.count = n.max(1);
        self
    }

    /// Largest message accepted (default [`DEFAULT_MAX_MESSAGE_BYTES`]); a larger entry is
    /// dead-lettered.
    pub fn max_message_bytes(mut self, n: usize) -> Self {
        self.max_message_bytes = n;
        self
    }

    /// The bridge's counters.
    pub fn stats(&self) -> SubscribeStats {
        self.stats.clone()
    }

    /// Builds the threaded component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("SubscribeBridge");
        let control = b.control();
        let outbox = b.outbox::<T>("outbox");
        let signal = b.signal();
        let error = b.outbox::<Error>("error");
        b.run_threaded(move |tctx| {
            let watch = ControlWatch::new(control, signal);
            let ephemeral = self.group.is_none();
            let group = self.group.clone().unwrap_or_else(|| self.origin.as_str().to_string());
            Subscriber {
                key: backplane_stream(&self.name),
                group,
                ephemeral,
                cfg: self,
                tctx,
                watch,
                outbox,
                error,
                last_seq: HashMap::new(),
            }
            .run();
        })
    }
}

struct Subscriber<T> {
    cfg: SubscribeBridge<T>,
    key: String,
    group: String,
    ephemeral: bool,
    tctx: ThreadCtx,
    watch: ControlWatch,
    outbox: Outbox<T>,
    error: Outbox<Error>,
    /// The last sequence number delivered (or skipped as already seen), per origin.
    last_seq: HashMap<String, u64>,
}

/// Why the read loop stopped.
enum Stop {
    Signal(Signal),
    Fatal(Error),
}

impl<T: Send + 'static> Subscriber<T> {
    fn run(mut self) {
        let endpoint = match Endpoint::parse(&self.cfg.url) {
            Ok(e) => e,
            Err(e) => return self.fatal(e),
        };
        let mut con: Option<Connection> = None;
        let mut backoff = Backoff::new();
        let mut lost = false;
        let mut set_up = false;
        let mut read_pending = true;
        let stop = loop {
            if let Some(s) = self.watch.check() {
                break Stop::Signal(s);
            }
            if let Some(s) = self.watch.take_finished() {
                break Stop::Signal(s);
            }
            let Some(c) = con.as_mut() else {
                if !backoff.due() {
                    self.tctx.pause(Some(backoff.wait()));
                    continue;
                }
                match endpoint.connect(self.cfg.block) {
                    Ok(c) => {
                        con = Some(c);
                        backoff.reset();
                        read_pending = true;
                        if std::mem::take(&mut lost) {
                            self.cfg.stats.0.reconnects.fetch_add(1, Ordering::SeqCst);
                            let e =
                                Error::new(ErrorKind::Reconnected, endpoint.url(), "reading its pending entries first");
                            if let Err(s) = self.report(e) {
                                break Stop::Signal(s);
                            }
                        }
                    }
                    Err(e) if e.is_fatal() => break Stop::Fatal(e),
                    Err(e) => {
                        backoff.failed();
                        if !std::mem::replace(&mut lost, true) {
                            if let Err(s) = self.report(e) {
                                break Stop::Signal(s);
                            }
                        }
                    }
                }
                continue;
            };
            if !set_up {
                match self.set_up(c) {
                    Ok(()) => set_up = true,
                    Err(e) => match self.failed(&endpoint, &e, &mut con, &mut backoff, &mut lost) {
                        Ok(()) => continue,
                        Err(stop) => break stop,
                    },
                }
            }
            let Some(c) = con.as_mut() else { continue };
            let mut cmd = redis::cmd("XREADGROUP");
            cmd.arg("GROUP").arg(&self.group).arg("c").arg("COUNT").arg(self.cfg.count);
            if !read_pending {
                cmd.arg("BLOCK").arg(self.cfg.block.as_millis() as u64);
            }
            cmd.arg("STREAMS").arg(&self.key).arg(if read_pending { "0" } else { ">" });
            let entries = match cmd.query::<Value>(c) {
                Ok(v) => read_reply_entries(v),
                Err(e) if e.code() == Some("NOGROUP") => {
                    match self.removed(c) {
                        Ok(Some(why)) => break Stop::Fatal(Error::new(ErrorKind::Disconnected, endpoint.url(), why)),
                        // Gone without a reason (the server lost it): make it again; a gap,
                        // if any, is reported by the sequence check.
                        Ok(None) => set_up = false,
                        Err(e) => match self.failed(&endpoint, &e, &mut con, &mut backoff, &mut lost) {
                            Ok(()) => {}
                            Err(stop) => break stop,
                        },
                    }
                    continue;
                }
                Err(e) => match self.failed(&endpoint, &e, &mut con, &mut backoff, &mut lost) {
                    Ok(()) => continue,
                    Err(stop) => break stop,
                },
            };
            if entries.is_empty() {
                read_pending = false;
                continue;
            }
            let (acks, interrupted) = self.deliver(&endpoint, c, entries);
            if !acks.is_empty() {
                let r = redis::cmd("XACK").arg(&self.key).arg(&self.group).arg(&acks).query::<()>(c);
                if let Err(e) = r {
                    if e.code() != Some("NOGROUP") {
                        if let Err(stop) = self.failed(&endpoint, &e, &mut con, &mut backoff, &mut lost) {
                            break stop;
                        }
                    }
                }
            }
            if let Some(s) = interrupted {
                break Stop::Signal(s);
            }
        };
        match stop {
            Stop::Signal(s) => {
                if self.ephemeral {
                    if let Some(c) = con.as_mut() {
                        self.tear_down(c);
                    }
                }
                self.watch.finish_blocking(s);
            }
            Stop::Fatal(e) => self.fatal(e),
        }
    }

    /// Makes the group (at the end of the stream) if it does not exist, and registers its policy.
    fn set_up(&self, c: &mut Connection) -> Result<(), RedisError> {
        let policy = serde_json::to_string(&self.cfg.policy).unwrap_or_default();
        redis::pipe()
            .cmd("HSET")
            .arg(registry_key(&self.cfg.name))
            .arg(&self.group)
            .arg(policy)
            .ignore()
            .cmd("HDEL")
            .arg(removed_key(&self.cfg.name))
            .arg(&self.group)
            .ignore()
            .query::<()>(c)?;
        match redis::cmd("XGROUP").arg("CREATE").arg(&self.key).arg(&self.group).arg("$").arg("MKSTREAM").query::<()>(c)
        {
            Ok(()) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Why the group was removed, if a publisher removed it.
    fn removed(&self, c: &mut Connection) -> Result<Option<String>, RedisError> {
        let v: Value = redis::cmd("HGET").arg(removed_key(&self.cfg.name)).arg(&self.group).query(c)?;
        Ok(string(&v))
    }

    /// Removes an ephemeral group and its registration (best effort: a failure leaves a
    /// group that a later check can see and remove by hand).
    fn tear_down(&self, c: &mut Connection) {
        let _ = redis::pipe()
            .cmd("XGROUP")
            .arg("DESTROY")
            .arg(&self.key)
            .arg(&self.group)
            .ignore()
            .cmd("HDEL")
            .arg(registry_key(&self.cfg.name))
            .arg(&self.group)
            .ignore()
            .query::<()>(c);
    }

    /// Sends each entry on (or skips, or dead-letters it). Returns the ids to acknowledge and
    /// the shutdown that interrupted a send, if one did (that entry stays pending).
    fn deliver(
        &mut self,
        endpoint: &Endpoint,
        c: &mut Connection,
        entries: Vec<RawEntry>,
    ) -> (Vec<String>, Option<Signal>) {
        let mut acks = Vec::with_capacity(entries.len());
        for (id, fields) in entries {
            // Deleted or trimmed while pending (a DropOldest jump): nothing to deliver; a gap,
            // if any, shows in the sequence numbers.
            let Some(fields) = fields else {
                acks.push(id);
                continue;
            };
            let d = match decode(&self.cfg.codec, &fields, self.cfg.max_message_bytes) {
                Ok(d) => d,
                Err(why) => {
                    let kind =
                        if why.contains("over the limit") { ErrorKind::TooLarge } else { ErrorKind::Undecodable };
                    let moved = self.dead_letter(c, &id, &fields, &why);
                    let detail = match moved {
                        Ok(()) => format!(
                            "entry {id} of {}: {why}; moved to {}",
                            self.key,
                            backplane_dead_letters(&self.cfg.name)
                        ),
                        Err(e) => {
                            format!("entry {id} of {}: {why}; could not move it to the dead letters: {e}", self.key)
                        }
                    };
                    self.cfg.stats.0.dead.fetch_add(1, Ordering::SeqCst);
                    if let Err(s) = self.report(Error::new(kind, endpoint.url(), detail)) {
                        return (acks, Some(s));
                    }
                    acks.push(id);
                    continue;
                }
            };
            if d.origin == self.cfg.origin.as_str() {
                self.cfg.stats.0.own.fetch_add(1, Ordering::SeqCst);
                acks.push(id);
                continue;
            }
            let last = self.last_seq.get(&d.origin).copied();
            if last.is_some_and(|l| d.seq <= l) {
                self.cfg.stats.0.duplicates.fetch_add(1, Ordering::SeqCst);
                acks.push(id);
                continue;
            }
            if let Some(l) = last {
                if d.seq > l + 1 {
                    let missed = d.seq - l - 1;
                    self.cfg.stats.0.missed.fetch_add(missed, Ordering::SeqCst);
                    let detail = format!(
                        "sequence {} to {} of backplane {:?} (group {:?})",
                        l + 1,
                        d.seq - 1,
                        self.cfg.name,
                        self.group
                    );
                    let e = Error::new(ErrorKind::Gap { origin: d.origin.clone(), missed }, endpoint.url(), detail);
                    if let Err(s) = self.report(e) {
                        return (acks, Some(s));
                    }
                }
            }
            match self.watch.send_blocking(&self.tctx, &self.outbox, d.msg) {
                Ok(()) => {
                    self.last_seq.insert(d.origin, d.seq);
                    self.cfg.stats.0.delivered.fetch_add(1, Ordering::SeqCst);
                    acks.push(id);
                }
                Err(i) => return (acks, Some(i.signal)),
            }
        }
        (acks, None)
    }

    fn dead_letter(
        &self,
        c: &mut Connection,
        id: &str,
        fields: &[(Vec<u8>, Vec<u8>)],
        why: &str,
    ) -> Result<(), RedisError> {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(backplane_dead_letters(&self.cfg.name))
            .arg("*")
            .arg("dead.stream")
            .arg(&self.key)
            .arg("dead.id")
            .arg(id)
            .arg("dead.group")
            .arg(&self.group)
            .arg("dead.reason")
            .arg(why);
        for (k, v) in fields {
            cmd.arg(k.as_slice()).arg(v.as_slice());
        }
        cmd.query::<()>(c)
    }

    fn report(&mut self, e: Error) -> Result<(), Signal> {
        self.watch.send_blocking(&self.tctx, &self.error, e).map_err(|i| i.signal)
    }

    /// A command failed: fatal errors stop the bridge; a broken connection is dropped
    /// (reconnect with backoff, reported once); a refusal is reported and retried later.
    fn failed(
        &mut self,
        endpoint: &Endpoint,
        e: &RedisError,
        con: &mut Option<Connection>,
        backoff: &mut Backoff,
        lost: &mut bool,
    ) -> Result<(), Stop> {
        let err = endpoint.lost(e);
        if err.is_fatal() {
            return Err(Stop::Fatal(err));
        }
        *con = None;
        backoff.failed();
        let report = if is_connection_error(e) {
            !std::mem::replace(lost, true)
        } else {
            *lost = true;
            true
        };
        if report {
            self.report(err).map_err(Stop::Signal)?;
        }
        Ok(())
    }

    fn fatal(mut self, e: Error) {
        let message = format!("SubscribeBridge({}): {e}", self.cfg.name);
        let _ = self.error.try_send(e);
        self.watch.emit_blocking(Signal::ErrorInformation { caller: Some(self.tctx.id()), message });
        self.watch.finish_blocking(Signal::ShutdownMicroprocess);
    }
}
