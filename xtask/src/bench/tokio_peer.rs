//! The tokio peer, written the way tokio's users write it: one task per actor or stage,
//! `tokio::sync::mpsc` channels between them (bounded, capacity 1024, for streams; unbounded
//! mailboxes for hackysack, whose players deliver without waiting), shutdown by dropping the
//! senders, results through `JoinHandle`s. Current-thread or multi-thread (2 workers) runtime.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rand::Rng;
use tokio::runtime::{Builder, Runtime};
use tokio::sync::{Notify, mpsc};

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
