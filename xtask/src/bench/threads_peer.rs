//! The OS-threads peer: one `std::thread` per actor or stage, crossbeam-channel between them
//! (bounded, capacity 1024, for streams; unbounded mailboxes for hackysack), shutdown by
//! dropping the senders, results through `JoinHandle`s. A thread that cannot be created is
//! reported as an error, never a crash.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use rand::Rng;

use super::child::{Live, vm_rss_bytes};
use super::{HackysackRun, PipelineRun, RingRun, SpawnRun};

/// Capacity of the channels of the ring and the pipeline.
const CAPACITY: usize = 1024;

fn start<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<JoinHandle<T>, String> {
    thread::Builder::new().spawn(f).map_err(|e| format!("could not start a thread: {e}"))
}

#[derive(Debug)]
enum Kick {
    Sack(#[allow(dead_code, reason = "who kicked it, as the original's message carries")] usize),
    Exit,
}

type Circle = Arc<OnceLock<Vec<Sender<Kick>>>>;

fn hackysacker(me: usize, inbox: Receiver<Kick>, circle: Circle, kicks: Arc<AtomicU64>, turns: u64) {
    for kick in inbox {
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

pub(crate) fn hackysack(players: usize, turns: u64) -> Result<HackysackRun, String> {
    let kicks = Arc::new(AtomicU64::new(0));
    let circle = Circle::default();
    let begin = Instant::now();
    let mut senders = Vec::with_capacity(players);
    let mut handles = Vec::with_capacity(players);
    let mut failed = None;
    for me in 0..players {
        let (tx, rx) = unbounded();
        let (circle, kicks) = (circle.clone(), kicks.clone());
        match start(move || hackysacker(me, rx, circle, kicks, turns)) {
            Ok(h) => {
                senders.push(tx);
                handles.push(h);
            }
            Err(e) => {
                failed = Some(format!("player {me}: {e}"));
                break;
            }
        }
    }
    let started = senders.len();
    circle.set(senders).expect("the circle is formed once");
    let circle = circle.get().expect("formed");
    if let Some(e) = failed {
        // Let the players that did start go home before reporting.
        for p in circle {
            let _ = p.send(Kick::Exit);
        }
        handles.into_iter().for_each(|h| drop(h.join()));
        return Err(format!("{e} ({started} threads were running)"));
    }
    let build = begin.elapsed();
    let begin = Instant::now();
    let _ = circle[0].send(Kick::Sack(usize::MAX));
    let exited = handles.into_iter().map(|h| u64::from(h.join().is_ok())).sum();
    Ok(HackysackRun {
        build_s: build.as_secs_f64(),
        run_s: begin.elapsed().as_secs_f64(),
        kicks: kicks.load(Ordering::Relaxed),
        exited,
    })
}

fn ring_member(rx: Receiver<u64>, tx: Sender<u64>) -> u64 {
    let mut sent = 0;
    for token in rx {
        if token == 0 || tx.send(token - 1).is_err() {
            break;
        }
        sent += 1;
    }
    sent
}

pub(crate) fn ring(members: usize, hops: u64) -> Result<RingRun, String> {
    let (first_tx, mut rx) = bounded(CAPACITY);
    let mut handles = Vec::with_capacity(members);
    for _ in 1..members {
        let (tx, next_rx) = bounded(CAPACITY);
        let this_rx = rx;
        handles.push(start(move || ring_member(this_rx, tx))?);
        rx = next_rx;
    }
    let last_tx = first_tx.clone();
    handles.push(start(move || ring_member(rx, last_tx))?);
    let begin = Instant::now();
    first_tx.send(hops).map_err(|_| "the ring closed early")?;
    drop(first_tx);
    let mut total = 0;
    for h in handles {
        total += h.join().map_err(|_| "a ring member panicked")?;
    }
    Ok(RingRun { run_s: begin.elapsed().as_secs_f64(), hops: total })
}

pub(crate) fn pipeline(stages: usize, messages: u64) -> Result<PipelineRun, String> {
    let begin = Instant::now();
    let (tx, mut rx) = bounded::<u64>(CAPACITY);
    let mut threads = vec![start(move || {
        for n in 0..messages {
            if tx.send(n).is_err() {
                return;
            }
        }
    })?];
    for _ in 0..stages {
        let (tx, next_rx) = bounded(CAPACITY);
        let stage_rx = rx;
        threads.push(start(move || {
            for n in stage_rx {
                if tx.send(n).is_err() {
                    return;
                }
            }
        })?);
        rx = next_rx;
    }
    let sink = start(move || {
        let (mut expected, mut in_order) = (0u64, true);
        for n in rx {
            in_order &= n == expected;
            expected += 1;
        }
        (expected, in_order)
    })?;
    let (received, in_order) = sink.join().map_err(|_| "the sink panicked")?;
    let run_s = begin.elapsed().as_secs_f64();
    threads.into_iter().for_each(|h| drop(h.join()));
    Ok(PipelineRun { run_s, received, in_order })
}

pub(crate) fn spawn(n: usize) -> Result<(SpawnRun, Live), String> {
    let started = Arc::new(AtomicUsize::new(0));
    let (before, begin) = (vm_rss_bytes(), Instant::now());
    let mut senders = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = unbounded::<u64>();
        let (ctx, crx) = unbounded::<u64>();
        let started = started.clone();
        start(move || {
            started.fetch_add(1, Ordering::Relaxed);
            crossbeam_channel::select! {
                recv(rx) -> _ => {}
                recv(crx) -> _ => {}
            }
        })?;
        senders.push((tx, ctx));
    }
    while started.load(Ordering::Relaxed) < n {
        thread::sleep(Duration::from_micros(200));
    }
    let total_s = begin.elapsed().as_secs_f64();
    let rss_delta_bytes = vm_rss_bytes() - before;
    Ok((SpawnRun { total_s, rss_delta_bytes, started: started.load(Ordering::Relaxed) as u64 }, Box::new(senders)))
}
