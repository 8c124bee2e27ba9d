//! ConnectedSocketAdapter: one connected TCP socket as a component: bytes in on `inbox` are
//! written to the peer, bytes the peer sends come out of `outbox`.

use std::io::{self, Read, Write};
use std::net::Shutdown;

use axon_core::{Component, ComponentBuilder, ControlWatch, Signal, yield_now};
use mio::net::TcpStream;

use crate::selector::{READABLE, Registration, Selector, WRITABLE};

/// What a connection does when its peer reads more slowly than the system writes to it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlowClientPolicy {
    /// Backpressure: take the next message from `inbox` only once the previous one is
    /// written, so a stalled peer fills `inbox` and senders wait. Right for a client, or
    /// a server whose protocol talks to one peer.
    Wait,
    /// Keep taking messages, so senders never wait on this peer, but close the connection
    /// (reporting why on `signal`) once more than `max_queued_bytes` are waiting to be
    /// written. The server default: one stalled client can neither stall the others (on a
    /// shared Backplane, say) nor grow memory without bound.
    Disconnect {
        /// Bytes that may wait to be written before the peer counts as stalled.
        max_queued_bytes: usize,
    },
}

impl Default for SlowClientPolicy {
    fn default() -> Self {
        SlowClientPolicy::Disconnect { max_queued_bytes: 1 << 20 }
    }
}

/// How much is read from the socket at once (Kamaelia's CSA reads at most 32768 bytes).
pub const READ_CHUNK: usize = 32 * 1024;
/// Reads done before letting other components run.
const READS_PER_TURN: usize = 16;

/// Builds a ConnectedSocketAdapter (Kamaelia's CSA).
///
/// Boxes:
/// - `inbox: Vec<u8>`: bytes to write to the peer (bounded: [`inbox_capacity`](Self::inbox_capacity)).
/// - `control: Signal`: shutdown signalling (below); other signals are passed on.
/// - `outbox: Vec<u8>`: bytes received, at most [`READ_CHUNK`] per message. When its
///   destination is full the adapter stops reading (TCP flow control then slows the peer).
/// - `signal: Signal`: `ProducerFinished { message: "peer closed" }` when the peer closes
///   its side (the adapter keeps writing until told to stop, so a protocol can still
///   answer a half-closed connection); `ErrorInformation` on a socket error, or when a
///   [`SlowClientPolicy::Disconnect`] limit is passed, after which it ends; and the
///   terminal signal from `control` when that ends it.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)), read for a
/// socket: `ProducerFinished` writes everything still pending (in `inbox` too), closes the
/// connection, then passes the signal on; `ShutdownMicroprocess` (or `Shutdown`) closes it at
/// once, dropping what was not written, and passes it on. A socket error (or a slow peer past
/// its limit) ends it with `ErrorInformation` as its last signal instead.
#[must_use = "a builder does nothing until `build` is called"]
pub struct ConnectedSocketAdapter {
    stream: TcpStream,
    policy: SlowClientPolicy,
    inbox_capacity: usize,
    selector: Option<Selector>,
}

impl ConnectedSocketAdapter {
    /// An adapter for a connected, non-blocking socket.
    pub fn new(stream: TcpStream) -> Self {
        ConnectedSocketAdapter { stream, policy: SlowClientPolicy::default(), inbox_capacity: 64, selector: None }
    }

    /// The slow-peer policy (default [`SlowClientPolicy::Disconnect`] at 1 MiB).
    pub fn policy(mut self, policy: SlowClientPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Capacity of `inbox`, in messages (default 64).
    pub fn inbox_capacity(mut self, n: usize) -> Self {
        self.inbox_capacity = n.max(1);
        self
    }

    /// The selector to use (default: the scheduler's, see [`Selector::of`]).
    pub fn selector(mut self, selector: Selector) -> Self {
        self.selector = Some(selector);
        self
    }

    /// The component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("ConnectedSocketAdapter");
        let inbox = b.inbox_with_capacity::<Vec<u8>>("inbox", self.inbox_capacity);
        let control = b.control();
        let outbox = b.outbox::<Vec<u8>>("outbox");
        let signal = b.signal();
        let ConnectedSocketAdapter { mut stream, policy, selector, .. } = self;
        b.run(move |ctx| async move {
            let me = ctx.id();
            let error = |message: String| Signal::ErrorInformation { caller: Some(me), message };
            let mut watch = ControlWatch::new(control, signal);
            let selector = match selector.map_or_else(|| Selector::of(&ctx), Ok) {
                Ok(s) => s,
                Err(e) => return watch.finish(error(format!("no selector: {e}"))).await,
            };
            let reg = match selector.register(&mut stream) {
                Ok(r) => r,
                Err(e) => return watch.finish(error(format!("cannot watch the socket: {e}"))).await,
            };
            let mut conn = Conn { stream, reg, pending: Vec::new(), written: 0, held: None, read_open: true };
            let mut buf = vec![0u8; READ_CHUNK];
            let mut closing: Option<Signal> = None;
            let end = loop {
                // Control first: a shutdown is never starved by traffic.
                if let Some(stop) = watch.check() {
                    break End::Shutdown(stop);
                }
                if let Some(finished) = watch.take_finished() {
                    closing.get_or_insert(finished);
                }
                // Take what there is to write.
                match policy {
                    SlowClientPolicy::Wait => {
                        if conn.unwritten() == 0 {
                            if let Some(m) = inbox.try_recv() {
                                conn.queue(m);
                            }
                        }
                    }
                    SlowClientPolicy::Disconnect { max_queued_bytes } => {
                        for m in inbox.drain() {
                            conn.queue(m);
                        }
                        if conn.unwritten() > max_queued_bytes {
                            break End::Error(format!(
                                "peer is not reading: {} bytes queued, more than the limit of {max_queued_bytes}",
                                conn.unwritten()
                            ));
                        }
                    }
                }
                let mut progressed = match conn.write() {
                    Ok(p) => p,
                    Err(e) => break End::Error(format!("write failed: {e}")),
                };
                if let Some(sig) = &closing {
                    if conn.unwritten() == 0 && inbox.is_empty() {
                        break End::Closed(sig.clone());
                    }
                }
                // Hand on what was read, then read more if there is room for it.
                if let Some(chunk) = conn.held.take() {
                    if let Err(full) = outbox.try_send_notify(chunk) {
                        conn.held = Some(full.into_inner());
                    } else {
                        progressed = true;
                    }
                }
                if conn.read_open && conn.held.is_none() {
                    match conn.read(&mut buf, &outbox) {
                        Ok(ReadOutcome { progressed: p, eof }) => {
                            progressed |= p;
                            if eof {
                                let message = Some(crate::client::PEER_CLOSED.into());
                                watch.emit(Signal::ProducerFinished { caller: Some(me), message }).await;
                            }
                        }
                        Err(e) => break End::Error(format!("read failed: {e}")),
                    }
                }
                if progressed {
                    yield_now().await;
                    continue;
                }
                let mut want = 0;
                if conn.read_open && conn.held.is_none() {
                    want |= READABLE;
                }
                if conn.unwritten() > 0 {
                    want |= WRITABLE;
                }
                // Waits for readiness, or for any wake: a delivery into inbox or control,
                // or space in the outbox's destination.
                conn.reg.wait(want).await;
            };
            let Conn { mut stream, reg, .. } = conn;
            let _ = stream.shutdown(Shutdown::Both);
            reg.deregister(&mut stream);
            drop(stream);
            match end {
                End::Closed(sig) | End::Shutdown(sig) => watch.finish(sig).await,
                End::Error(message) => watch.finish(error(message)).await,
            }
        })
    }
}

enum End {
    /// ProducerFinished: everything was written, then the connection closed.
    Closed(Signal),
    /// ShutdownMicroprocess (or Shutdown): closed at once.
    Shutdown(Signal),
    /// A socket error or a slow peer.
    Error(String),
}

struct ReadOutcome {
    progressed: bool,
    eof: bool,
}

struct Conn {
    stream: TcpStream,
    reg: Registration,
    pending: Vec<u8>,
    written: usize,
    /// A chunk read but not yet accepted by the outbox's destination.
    held: Option<Vec<u8>>,
    read_open: bool,
}

impl Conn {
    fn unwritten(&self) -> usize {
        self.pending.len() - self.written
    }

    fn queue(&mut self, m: Vec<u8>) {
        if self.written > 0 && self.written == self.pending.len() {
            self.pending.clear();
            self.written = 0;
        }
        self.pending.extend_from_slice(&m);
    }

    /// Writes what it can; true if anything was written.
    fn write(&mut self) -> io::Result<bool> {
        let mut progressed = false;
        while self.unwritten() > 0 {
            let seen = self.reg.ready();
            match self.stream.write(&self.pending[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.written += n;
                    progressed = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.reg.clear(seen, WRITABLE);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.unwritten() == 0 {
            self.pending.clear();
            self.written = 0;
        }
        Ok(progressed)
    }

    /// Reads up to [`READS_PER_TURN`] chunks into the outbox.
    fn read(&mut self, buf: &mut [u8], outbox: &axon_core::Outbox<Vec<u8>>) -> io::Result<ReadOutcome> {
        let mut progressed = false;
        for _ in 0..READS_PER_TURN {
            let seen = self.reg.ready();
            match self.stream.read(buf) {
                Ok(0) => {
                    self.read_open = false;
                    return Ok(ReadOutcome { progressed, eof: true });
                }
                Ok(n) => {
                    progressed = true;
                    if let Err(full) = outbox.try_send_notify(buf[..n].to_vec()) {
                        self.held = Some(full.into_inner());
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.reg.clear(seen, READABLE);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(ReadOutcome { progressed, eof: false })
    }
}
