//! [`PublishBridge`]: a threaded component that writes what reaches its inbox to a
//! backplane's stream, in pipelined batches, keeping every subscriber's policy.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, Inbox, Next, Outbox, Signal, ThreadCtx};
use redis::Connection;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::endpoint::{Backoff, Endpoint, is_connection_error};
use crate::policy::{backplane_stream, enforce};
use crate::wire::{Codec, DEFAULT_MAX_MESSAGE_BYTES, MARK, Origin, encode};
use crate::{Error, ErrorKind};

/// Counters of a [`PublishBridge`], shared with whoever holds a clone.
#[derive(Clone, Debug, Default)]
pub struct PublishStats(Arc<PublishCounts>);

#[derive(Debug, Default)]
struct PublishCounts {
    published: AtomicU64,
    refused: AtomicU64,
    waits: AtomicU64,
    reconnects: AtomicU64,
    blocked: AtomicU64,
}

impl PublishStats {
    /// Messages written to the stream (confirmed by Redis).
    pub fn published(&self) -> u64 {
        self.0.published.load(Ordering::SeqCst)
    }
    /// Messages refused (over the size limit, or not serialisable), each reported on `error`.
    pub fn refused(&self) -> u64 {
        self.0.refused.load(Ordering::SeqCst)
    }
    /// Times publishing had to wait for a lossless subscriber to catch up.
    pub fn waits(&self) -> u64 {
        self.0.waits.load(Ordering::SeqCst)
    }
    /// Connections re-made after a loss.
    pub fn reconnects(&self) -> u64 {
        self.0.reconnects.load(Ordering::SeqCst)
    }
    /// True while publishing waits for a lossless subscriber.
    pub fn is_blocked(&self) -> bool {
        self.0.blocked.load(Ordering::SeqCst) != 0
    }
}

/// Publishes to the backplane `name` across processes: every message reaching `inbox` is
/// appended to the stream `kamaelia:backplane:NAME` with this process's [`Origin`] and the
/// next sequence number of that origin.
///
/// Boxes:
/// - `inbox: T`: messages to publish (bounded: [`inbox_capacity`](Self::inbox_capacity)),
///   so a publisher held back by a lossless subscriber makes its senders wait.
/// - `control: Signal`, `signal: Signal` (out): the shutdown contract (below); other signals
///   are passed on.
/// - `outbox: T` (out): with [`forwarder`](Self::forwarder), each message again, at once
///   (before it is written to Redis: local delivery never waits for the server).
/// - `error: Error` (out): a refused message (too large), a lost connection and its return.
///
/// Writing: messages are taken as they come, up to [`batch`](Self::batch) at a time, and
/// written with one pipelined round trip per batch. While the server is unreachable they are
/// kept (up to [`outage_buffer`](Self::outage_buffer), then the inbox fills) and written in
/// order once it is back; a batch whose reply was lost is written again with the same
/// sequence numbers, which subscribers recognise as duplicates. So nothing confirmed is lost
/// and nothing is delivered twice.
///
/// Policies (see [`RemotePolicy`](crate::RemotePolicy)): every so often (after as many
/// messages as the most lagging lossless group may still take) it reads each group's lag:
/// publishing waits while a lossless group lags more than its bound; a DropOldest group
/// beyond its bound is moved ahead; a Disconnect group beyond its bound is removed. Then the
/// stream is trimmed below the oldest entry any lossless group has not read and acknowledged.
/// With several publishers the lag can pass the bound by what the others publish between
/// their checks.
///
/// Shutdown: `ProducerFinished` writes everything taken (waiting for the server if need be),
/// then passes the signal on; `ShutdownMicroprocess` stops at once (even while waiting for a
/// subscriber or for the server) and passes it on. A malformed URL or refused credentials:
/// reported on `error`, then `ErrorInformation` and `ShutdownMicroprocess` out of `signal`.
#[must_use = "a builder does nothing until `build` is called"]
pub struct PublishBridge<T> {
    url: String,
    name: String,
    origin: Origin,
    batch: usize,
    inbox_capacity: usize,
    outage_buffer: usize,
    max_message_bytes: usize,
    forwarder: bool,
    stats: PublishStats,
    codec: Codec<T>,
    _t: PhantomData<fn(T)>,
}

impl<T: Serialize + DeserializeOwned + Send + 'static> PublishBridge<T> {
    /// A bridge to backplane `name` on the server at `url` (`redis://HOST:PORT[/DB]`),
    /// encoding with [`Codec::json`].
    pub fn new(url: impl Into<String>, name: impl Into<String>) -> Self {
        Self::with_codec(url, name, Codec::json())
    }
}

impl<T: Send + 'static> PublishBridge<T> {
    /// A bridge encoding messages with `codec`.
    pub fn with_codec(url: impl Into<String>, name: impl Into<String>, codec: Codec<T>) -> Self {
        PublishBridge {
            codec,
            url: url.into(),
            name: name.into(),
            origin: Origin::process(),
            batch: 256,
            inbox_capacity: 1024,
            outage_buffer: 10_000,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            forwarder: false,
            stats: PublishStats::default(),
            _t: PhantomData,
        }
    }

    /// Publishes as `origin` (default: [`Origin::process`]).
    pub fn origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// Most messages per pipelined write (default 256).
    pub fn batch(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// Capacity of `inbox` (default 1024).
    pub fn inbox_capacity(mut self, n: usize) -> Self {
        self.inbox_capacity = n.max(1);
        self
    }

    /// Messages kept while the server is unreachable before the inbox stops being read
    /// (default 10 000).
    pub fn outage_buffer(mut self, n: usize) -> Self {
        self.outage_buffer = n.max(1);
        self
    }

    /// Largest encoded message (default [`DEFAULT_MAX_MESSAGE_BYTES`]).
    pub fn max_message_bytes(mut self, n: usize) -> Self {
        self.max_message_bytes = n;
        self
    }

    /// Also sends each message out of `outbox`, at once (default false).
    pub fn forwarder(mut self, yes: bool) -> Self {
        self.forwarder = yes;
        self
    }

    /// The bridge's counters.
    pub fn stats(&self) -> PublishStats {
        self.stats.clone()
    }

    /// Builds the threaded component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("PublishBridge");
        let inbox = b.inbox_with_capacity::<T>("inbox", self.inbox_capacity);
        let control = b.control();
        let outbox = b.outbox::<T>("outbox");
        let signal = b.signal();
        let error = b.outbox::<Error>("error");
        b.run_threaded(move |tctx| {
            let watch = ControlWatch::new(control, signal);
            Publisher { cfg: self, tctx, watch, inbox, outbox, error }.run();
        })
    }
}

struct Publisher<T> {
    cfg: PublishBridge<T>,
    tctx: ThreadCtx,
    watch: ControlWatch,
    inbox: Inbox<T>,
    outbox: Outbox<T>,
    error: Outbox<Error>,
}

/// Longest wait between two looks at a lagging lossless group.
const MAX_LAG_WAIT: Duration = Duration::from_millis(50);

impl<T: Send + 'static> Publisher<T> {
    fn run(mut self) {
        let endpoint = match Endpoint::parse(&self.cfg.url) {
            Ok(e) => e,
            Err(e) => return self.fatal(e),
        };
        let key = backplane_stream(&self.cfg.name);
        let origin = self.cfg.origin.as_str().to_string();
        let mut con: Option<Connection> = None;
        let mut backoff = Backoff::new();
        let mut lost = false;
        // Encoded, numbered, not yet confirmed by Redis; oldest first.
        let mut pending: VecDeque<(u64, Vec<u8>)> = VecDeque::new();
        let mut seq = 0u64;
        let mut slack = 0u64;
        let mut lag_wait = Duration::ZERO;
        let mut next_check = Instant::now();
        let mut finishing: Option<Signal> = None;
        let end = 'run: loop {
            // 1. Take what has arrived, while there is room.
            let mut took = 0;
            while finishing.is_none() && pending.len() < self.cfg.outage_buffer && took < self.cfg.batch {
                match self.watch.try_next(&self.inbox) {
                    Some(Next::Data(m)) => {
                        took += 1;
                        match encode(&self.cfg.codec, &m, self.cfg.max_message_bytes) {
                            Ok(d) => {
                                seq += 1;
                                pending.push_back((seq, d));
                            }
                            Err(why) => {
                                self.cfg.stats.0.refused.fetch_add(1, Ordering::SeqCst);
                                let e = Error::new(ErrorKind::TooLarge, endpoint.url(), why);
                                if let Err(i) = self.watch.send_blocking(&self.tctx, &self.error, e) {
                                    break 'run i.signal;
                                }
                            }
                        }
                        if self.cfg.forwarder {
                            if let Err(i) = self.watch.send_blocking(&self.tctx, &self.outbox, m) {
                                break 'run i.signal;
                            }
                        }
                    }
                    Some(Next::Other(s)) => self.watch.emit_blocking(s),
                    Some(Next::End(s)) if s.is_shutdown() => break 'run s,
                    Some(Next::End(s)) => finishing = Some(s),
                    None => break,
                }
            }
            if let Some(s) = self.watch.check() {
                break s;
            }
            if pending.is_empty() {
                if let Some(s) = finishing.take() {
                    break s;
                }
            }
            // 2. Connect when there is something to write.
            if con.is_none() && !pending.is_empty() && backoff.due() {
                match endpoint.connect(Duration::ZERO) {
                    Ok(c) => {
                        con = Some(c);
                        backoff.reset();
                        slack = 0;
                        if std::mem::take(&mut lost) {
                            self.cfg.stats.0.reconnects.fetch_add(1, Ordering::SeqCst);
                            let e = Error::new(ErrorKind::Reconnected, endpoint.url(), "publishing again");
                            if let Err(i) = self.watch.send_blocking(&self.tctx, &self.error, e) {
                                break i.signal;
                            }
                        }
                    }
                    Err(e) if e.is_fatal() => return self.fatal(e),
                    Err(e) => {
                        backoff.failed();
                        if !std::mem::replace(&mut lost, true) {
                            if let Err(i) = self.watch.send_blocking(&self.tctx, &self.error, e) {
                                break i.signal;
                            }
                        }
                    }
                }
            }
            // 3. Look at the subscribers when the slack is used up.
            if let Some(c) = con.as_mut() {
                if !pending.is_empty() && slack == 0 && Instant::now() >= next_check {
                    match enforce(c, &self.cfg.name, self.cfg.batch.max(1000) as u64) {
                        Ok(check) => {
                            slack = check.slack;
                            if slack == 0 {
                                if lag_wait.is_zero() {
                                    self.cfg.stats.0.waits.fetch_add(1, Ordering::SeqCst);
                                    self.cfg.stats.0.blocked.store(1, Ordering::SeqCst);
                                }
                                lag_wait = (lag_wait * 2).clamp(Duration::from_millis(1), MAX_LAG_WAIT);
                                next_check = Instant::now() + lag_wait;
                            } else {
                                lag_wait = Duration::ZERO;
                                self.cfg.stats.0.blocked.store(0, Ordering::SeqCst);
                            }
                        }
                        Err(e) => {
                            if let Err(s) = self.lose(&endpoint, &e, &mut con, &mut backoff, &mut lost) {
                                break s;
                            }
                        }
                    }
                }
            }
            // 4. Write a batch.
            if let Some(c) = con.as_mut() {
                if slack > 0 && !pending.is_empty() {
                    let n = pending.len().min(self.cfg.batch).min(slack as usize);
                    let mut pipe = redis::pipe();
                    for (s, d) in pending.iter().take(n) {
                        pipe.cmd("XADD")
                            .arg(&key)
                            .arg("*")
                            .arg("k")
                            .arg(MARK)
                            .arg("o")
                            .arg(&origin)
                            .arg("s")
                            .arg(*s)
                            .arg("d")
                            .arg(d.as_slice())
                            .ignore();
                    }
                    match pipe.query::<()>(c) {
                        Ok(()) => {
                            pending.drain(..n);
                            slack -= n as u64;
                            self.cfg.stats.0.published.fetch_add(n as u64, Ordering::SeqCst);
                        }
                        Err(e) => {
                            if let Err(s) = self.lose(&endpoint, &e, &mut con, &mut backoff, &mut lost) {
                                break s;
                            }
                        }
                    }
                    continue;
                }
            }
            // 5. Nothing to do now: wait for a message, a signal, or the next timer.
            let can_take = finishing.is_none() && pending.len() < self.cfg.outage_buffer && !self.inbox.is_empty();
            if can_take {
                continue;
            }
            let timeout = if pending.is_empty() {
                None
            } else if con.is_none() {
                Some(backoff.wait())
            } else {
                Some(next_check.saturating_duration_since(Instant::now()))
            };
            self.tctx.pause(timeout);
        };
        self.cfg.stats.0.blocked.store(0, Ordering::SeqCst);
        self.watch.finish_blocking(end);
    }

    /// A command failed: a broken connection is dropped (reconnect later, reported once);
    /// a refusal by the server is reported and retried after a backoff.
    fn lose(
        &mut self,
        endpoint: &Endpoint,
        e: &redis::RedisError,
        con: &mut Option<Connection>,
        backoff: &mut Backoff,
        lost: &mut bool,
    ) -> Result<(), Signal> {
        *con = None;
        backoff.failed();
        let report = if is_connection_error(e) {
            !std::mem::replace(lost, true)
        } else {
            *lost = true;
            true
        };
        if report {
            let err = endpoint.lost(e);
            self.watch.send_blocking(&self.tctx, &self.error, err).map_err(|i| i.signal)?;
        }
        Ok(())
    }

    /// Reports an error the bridge cannot get past, then stops those downstream.
    fn fatal(mut self, e: Error) {
        let message = format!("PublishBridge({}): {e}", self.cfg.name);
        let _ = self.error.try_send(e);
        self.watch.emit_blocking(Signal::ErrorInformation { caller: Some(self.tctx.id()), message });
        self.watch.finish_blocking(Signal::ShutdownMicroprocess);
    }
}
