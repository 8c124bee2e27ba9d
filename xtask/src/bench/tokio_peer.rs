//! The tokio peer, written the way tokio's users write it: one task per actor or stage,
//! `tokio::sync::mpsc` channels between them (bounded, capacity 1024, for streams; unbounded
//! mailboxes for hackysack, whose players deliver without waiting), shutdown by dropping the
//! senders, results through `JoinHandle`s. Current-thread or multi-thread (2 workers) runtime.
//!
//! The networking peers are written the way tokio's own examples are: the chat server after
//! `examples/chat.rs` (shared state behind a `tokio::sync::Mutex` mapping each peer's address
//! to the unbounded `mpsc` sender of its task; each connection's task `select!`s between a
//! line from its client, broadcast to every peer, and a message for its client, written to
//! the socket), the echo server after `examples/echo.rs` (read into a buffer, `write_all` it
//! back).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rand::Rng;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::{Builder, Runtime};
use tokio::sync::{Mutex, Notify, mpsc};

use super::child::{Live, vm_rss_bytes};
use super::{HackysackRun, PipelineRun, RingRun, SpawnRun};

/// Capacity of the channels of the ring and the pipeline.
const CAPACITY: usize = 1024;

fn runtime(multi_thread: bool) -> Runtime {
    let mut b = if multi_thread {
        let mut b = Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        Builder::new_current_thread()
    };
    b.build().expect("a tokio runtime starts")
}

#[derive(Debug)]
enum Kick {
    Sack(#[allow(dead_code, reason = "who kicked it, as the original's message carries")] usize),
    Exit,
}

type Circle = Arc<OnceLock<Vec<mpsc::UnboundedSender<Kick>>>>;

async fn hackysacker(
    me: usize,
    mut inbox: mpsc::UnboundedReceiver<Kick>,
    circle: Circle,
    kicks: Arc<AtomicU64>,
    turns: u64,
) {
    while let Some(kick) = inbox.recv().await {
        match kick {
            Kick::Exit => return,
            Kick::Sack(_) => {
                let circle = circle.get().expect("the circle is formed before the first kick");
                if kicks.load(Ordering::Relaxed) >= turns {
                    for player in circle {
                        let _ = player.send(Kick::Exit);
                    }
                    return;
                }
                let mut rng = rand::rng();
                let to = loop {
                    let to = rng.random_range(0..circle.len());
                    if to != me {
                        break to;
                    }
                };
                kicks.fetch_add(1, Ordering::Relaxed);
                let _ = circle[to].send(Kick::Sack(me));
            }
        }
    }
}

pub(crate) fn hackysack(multi_thread: bool, players: usize, turns: u64) -> HackysackRun {
    let rt = runtime(multi_thread);
    rt.block_on(async {
        let kicks = Arc::new(AtomicU64::new(0));
        let circle = Circle::default();
        let start = Instant::now();
        let mut senders = Vec::with_capacity(players);
        let mut handles = Vec::with_capacity(players);
        for me in 0..players {
            let (tx, rx) = mpsc::unbounded_channel();
            senders.push(tx);
            handles.push(tokio::spawn(hackysacker(me, rx, circle.clone(), kicks.clone(), turns)));
        }
        circle.set(senders).expect("the circle is formed once");
        let build = start.elapsed();
        let start = Instant::now();
        let _ = circle.get().expect("formed")[0].send(Kick::Sack(usize::MAX));
        let mut exited = 0;
        for h in handles {
            exited += u64::from(h.await.is_ok());
        }
        HackysackRun {
            build_s: build.as_secs_f64(),
            run_s: start.elapsed().as_secs_f64(),
            kicks: kicks.load(Ordering::Relaxed),
            exited,
        }
    })
}

/// Forwards the token counted down by one; stops at 0, or when the ring is closed behind
/// it (every member's ending drops its sender, so the whole ring ends one lap later).
async fn ring_member(mut rx: mpsc::Receiver<u64>, tx: mpsc::Sender<u64>) -> u64 {
    let mut sent = 0;
    while let Some(token) = rx.recv().await {
        if token == 0 || tx.send(token - 1).await.is_err() {
            break;
        }
        sent += 1;
    }
    sent
}

pub(crate) fn ring(multi_thread: bool, members: usize, hops: u64) -> RingRun {
    let rt = runtime(multi_thread);
    rt.block_on(async {
        let (first_tx, mut rx) = mpsc::channel(CAPACITY);
        let mut handles = Vec::with_capacity(members);
        for _ in 1..members {
            let (tx, next_rx) = mpsc::channel(CAPACITY);
            handles.push(tokio::spawn(ring_member(rx, tx)));
            rx = next_rx;
        }
        handles.push(tokio::spawn(ring_member(rx, first_tx.clone())));
        let start = Instant::now();
        first_tx.send(hops).await.expect("the ring is open");
        drop(first_tx);
        let mut total = 0;
        for h in handles {
            total += h.await.expect("a ring member does not panic");
        }
        RingRun { run_s: start.elapsed().as_secs_f64(), hops: total }
    })
}

pub(crate) fn pipeline(multi_thread: bool, stages: usize, messages: u64) -> PipelineRun {
    let rt = runtime(multi_thread);
    rt.block_on(async {
        let start = Instant::now();
        let (tx, mut rx) = mpsc::channel::<u64>(CAPACITY);
        tokio::spawn(async move {
            for n in 0..messages {
                if tx.send(n).await.is_err() {
                    return;
                }
            }
        });
        for _ in 0..stages {
            let (tx, next_rx) = mpsc::channel(CAPACITY);
            let mut stage_rx = rx;
            tokio::spawn(async move {
                while let Some(n) = stage_rx.recv().await {
                    if tx.send(n).await.is_err() {
                        return;
                    }
                }
            });
            rx = next_rx;
        }
        let sink = tokio::spawn(async move {
            let (mut expected, mut in_order) = (0u64, true);
            while let Some(n) = rx.recv().await {
                in_order &= n == expected;
                expected += 1;
            }
            (expected, in_order)
        });
        let (received, in_order) = sink.await.expect("the sink does not panic");
        PipelineRun { run_s: start.elapsed().as_secs_f64(), received, in_order }
    })
}

/// An idle task: notes that it started, then waits on its data and control channels.
async fn idle(
    mut inbox: mpsc::UnboundedReceiver<u64>,
    mut control: mpsc::UnboundedReceiver<u64>,
    started: Arc<AtomicUsize>,
    n: usize,
    all_started: Arc<Notify>,
) {
    if started.fetch_add(1, Ordering::Relaxed) + 1 == n {
        all_started.notify_one();
    }
    tokio::select! {
        _ = inbox.recv() => {}
        _ = control.recv() => {}
    }
}

pub(crate) fn spawn(multi_thread: bool, n: usize) -> (SpawnRun, Live) {
    let rt = runtime(multi_thread);
    let started = Arc::new(AtomicUsize::new(0));
    let all_started = Arc::new(Notify::new());
    let (before, start) = (vm_rss_bytes(), Instant::now());
    // The senders are each task's address; keeping them keeps the tasks waiting.
    let senders = rt.block_on(async {
        let mut senders = Vec::with_capacity(n);
        for _ in 0..n {
            let (tx, rx) = mpsc::unbounded_channel();
            let (ctx, crx) = mpsc::unbounded_channel();
            senders.push((tx, ctx));
            tokio::spawn(idle(rx, crx, started.clone(), n, all_started.clone()));
        }
        if n > 0 {
            all_started.notified().await;
        }
        senders
    });
    let total_s = start.elapsed().as_secs_f64();
    let rss_delta_bytes = vm_rss_bytes() - before;
    (SpawnRun { total_s, rss_delta_bytes, started: started.load(Ordering::Relaxed) as u64 }, Box::new((rt, senders)))
}

/// Runs `server(listener)` on a runtime of its own, in the background: a current-thread
/// runtime gets a thread to drive it; a multi-thread runtime's workers run it.
fn serve<F, Fut>(multi_thread: bool, server: F) -> Result<(SocketAddr, Live), String>
where
    F: FnOnce(TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("cannot listen: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| format!("cannot make the listener non-blocking: {e}"))?;
    let addr = listener.local_addr().map_err(|e| format!("no local address: {e}"))?;
    // The same runtimes as elsewhere, with the I/O and timer drivers the servers need.
    let mut b = if multi_thread {
        let mut b = Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        Builder::new_current_thread()
    };
    let rt = b.enable_all().build().map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
    let task = async move {
        match TcpListener::from_std(listener) {
            Ok(listener) => server(listener).await,
            Err(e) => eprintln!("tokio server: cannot use the listener: {e}"),
        }
    };
    if multi_thread {
        rt.spawn(task);
        Ok((addr, Box::new(rt)))
    } else {
        let thread = std::thread::Builder::new()
            .name("tokio-server".into())
            .spawn(move || rt.block_on(task))
            .map_err(|e| format!("cannot start the server thread: {e}"))?;
        Ok((addr, Box::new(thread)))
    }
}

/// A message for a chat client: one line as everyone sees it, shared by every peer's queue
/// (examples/chat.rs clones a `String` per peer; sharing is what our backplane does).
type ChatLine = Arc<str>;

/// The chat server's shared state, as in examples/chat.rs: each peer's queue by address.
#[derive(Default)]
struct Shared {
    peers: HashMap<SocketAddr, mpsc::UnboundedSender<ChatLine>>,
}

impl Shared {
    /// Sends `message` to every peer, the sender included (as our chat server does;
    /// examples/chat.rs leaves the sender out).
    fn broadcast(&self, message: &ChatLine) {
        for peer in self.peers.values() {
            let _ = peer.send(message.clone());
        }
    }
}

/// Most bytes gathered from a peer's queue into one write.
const WRITE_BATCH: usize = 64 * 1024;

/// One chat connection, as examples/chat.rs's `process`: register, then relay both ways.
async fn chat_peer(state: Arc<Mutex<Shared>>, stream: TcpStream, addr: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let (tx, mut rx) = mpsc::unbounded_channel::<ChatLine>();
    state.lock().await.peers.insert(addr, tx);
    let prefix = format!("Chat:{}:{} says ", addr.ip(), addr.port());
    let mut out = Vec::with_capacity(WRITE_BATCH);
    loop {
        tokio::select! {
            Some(message) = rx.recv() => {
                // What else is queued goes out in the same write (examples/chat.rs writes one
                // line per send; batching is the fairer peer).
                out.clear();
                out.extend_from_slice(message.as_bytes());
                out.extend_from_slice(b"\r\n");
                while out.len() < WRITE_BATCH {
                    let Ok(more) = rx.try_recv() else { break };
                    out.extend_from_slice(more.as_bytes());
                    out.extend_from_slice(b"\r\n");
                }
                if write.write_all(&out).await.is_err() {
                    break;
                }
            }
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    let message: ChatLine = format!("{prefix}{line}").into();
                    state.lock().await.broadcast(&message);
                }
                // The client has gone, or sent something that is not a UTF-8 line.
                _ => break,
            },
        }
    }
    state.lock().await.peers.remove(&addr);
}

/// The tokio chat server, in the background.
pub(crate) fn chat_server(multi_thread: bool) -> Result<(SocketAddr, Live), String> {
    serve(multi_thread, |listener| async move {
        let state = Arc::new(Mutex::new(Shared::default()));
        while let Ok((stream, addr)) = listener.accept().await {
            tokio::spawn(chat_peer(state.clone(), stream, addr));
        }
    })
}

/// The tokio echo server (examples/echo.rs), in the background.
pub(crate) fn echo_server(multi_thread: bool) -> Result<(SocketAddr, Live), String> {
    serve(multi_thread, |listener| async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = vec![0; 1024];
                loop {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if socket.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    })
}
