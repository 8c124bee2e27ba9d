//! Our side, written as a Kamaelia user would write it: components with the standard boxes,
//! a circular `Pipeline` for the ring, `DataSource` -> `PureTransformer`s -> a sink in a
//! `Pipeline` for throughput, hackysack players delivering straight into each other's inboxes
//! as the Kamaelia original does. Run on `Scheduler::new()` or `threads(2)`.
//!
//! The networking workloads run the real servers on `kamaelia_net::scheduler()` (the
//! single-thread scheduler whose idle wait is the selector) in the background: the chat server
//! of `apps::chat`, and a ServerCore whose protocol is a `PassThrough` (Kamaelia's echo
//! protocol). Log follow is the logwatch pipeline, `Follow` (from the start, stopping at the
//! end) -> `Grep` -> `Printer`, on `Scheduler::new()` or `threads(2)`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, InboxRef, Next, Scheduler, Signal};
use kamaelia_chassis::Pipeline;
use kamaelia_file::{Follow, Grep, Printer};
use kamaelia_net::ServerCore;
use kamaelia_util::{DataSource, PassThrough, PureTransformer};
use rand::Rng;

use super::child::{Live, vm_rss_bytes};
use super::logfile::{self, LineCounter};
use super::{HackysackRun, LogRun, PipelineRun, RingRun, SpawnRun};

fn scheduler(threads: usize) -> Scheduler {
    Scheduler::builder().threads(threads).build()
}

/// What is kicked around the circle.
#[derive(Debug)]
enum Kick {
    /// The sack, from the player that kicked it.
    Sack(#[allow(dead_code, reason = "who kicked it, as the original's message carries")] usize),
    /// The game is over.
    Exit,
}

/// The circle every player knows: each one's inbox, filled once all are built.
type Circle = Arc<OnceLock<Vec<InboxRef<Kick>>>>;

/// A hackysack player: on the sack, kicks it to a random other player (or, at the turn
/// limit, tells everyone to exit); on exit, ends. Shutdown: the standard contract
/// ([`ControlWatch`]).
fn hackysacker(me: usize, circle: Circle, kicks: Arc<AtomicU64>, turns: u64) -> Component {
    let mut b = ComponentBuilder::new("HackySacker");
    let io = b.standard::<Kick, ()>();
    b.run(move |_ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        loop {
            match watch.next(&io.inbox).await {
                Next::Data(Kick::Exit) => return watch.close().await,
                Next::Data(Kick::Sack(_)) => {
                    let circle = circle.get().expect("the circle is formed before the first kick");
                    if kicks.load(Ordering::Relaxed) >= turns {
                        for player in circle {
                            // Inboxes are unbounded: a delivery cannot be refused.
                            let _ = player.try_send(Kick::Exit);
                        }
                        return watch.close().await;
                    }
                    let to = {
                        let mut rng = rand::rng();
                        loop {
                            let to = rng.random_range(0..circle.len());
                            if to != me {
                                break to;
                            }
                        }
                    };
                    kicks.fetch_add(1, Ordering::Relaxed);
                    // Inboxes are unbounded: a delivery cannot be refused.
                    let _ = circle[to].try_send(Kick::Sack(me));
                }
                // `Other` comes only under `SignalPolicy::Deliver`; this watch forwards.
                Next::Other(_) => {}
                Next::End(s) => return watch.finish(s).await,
            }
        }
    })
}

pub(crate) fn hackysack(threads: usize, players: usize, turns: u64) -> HackysackRun {
    let sched = scheduler(threads);
    let kicks = Arc::new(AtomicU64::new(0));
    let circle = Circle::default();
    let start = Instant::now();
    let team: Vec<Component> = (0..players).map(|me| hackysacker(me, circle.clone(), kicks.clone(), turns)).collect();
    let inboxes = team.iter().map(|p| p.inbox_ref::<Kick>("inbox").expect("a player has an inbox")).collect();
    circle.set(inboxes).expect("the circle is formed once");
    for p in &team {
        sched.activate(p).expect("a new player activates");
    }
    let build = start.elapsed();
    let start = Instant::now();
    let _ = circle.get().expect("formed")[0].try_send(Kick::Sack(usize::MAX));
    sched.run();
    let run = start.elapsed();
    let exited = team.iter().filter(|p| p.is_finished()).count() as u64;
    HackysackRun {
        build_s: build.as_secs_f64(),
        run_s: run.as_secs_f64(),
        kicks: kicks.load(Ordering::Relaxed),
        exited,
    }
}

/// A ring member: forwards the token counted down by one; on 0, signals ProducerFinished
/// downstream and ends; on a signal, passes it on and ends (the standard contract,
/// [`ControlWatch`]). Adds the hops it made to `tally`.
fn ring_member(tally: Arc<AtomicU64>) -> Component {
    let mut b = ComponentBuilder::new("RingMember");
    let io = b.standard::<u64, u64>();
    b.run(move |ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let mut sent = 0;
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Data(0) => break Signal::producer_finished_by(ctx.id()),
                Next::Data(token) => {
                    if let Err(stop) = watch.send(&io.outbox, token - 1).await {
                        break stop.signal;
                    }
                    sent += 1;
                }
                // `Other` comes only under `SignalPolicy::Deliver`; this watch forwards.
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        tally.fetch_add(sent, Ordering::Relaxed);
        watch.finish(end).await;
    })
}

pub(crate) fn ring(threads: usize, members: usize, hops: u64) -> RingRun {
    let sched = scheduler(threads);
    let tally = Arc::new(AtomicU64::new(0));
    let ring = (0..members)
        .fold(Pipeline::builder().circular(true), |b, _| b.child(ring_member(tally.clone())))
        .build()
        .expect("a ring of ring members builds");
    ring.inbox_ref::<u64>("inbox").expect("a pipeline has an inbox").try_send(hops).expect("unbounded");
    sched.activate(&ring).expect("the ring activates");
    let start = Instant::now();
    sched.run();
    RingRun { run_s: start.elapsed().as_secs_f64(), hops: tally.load(Ordering::Relaxed) }
}

/// A sink that counts what arrives and notes whether it came in order, until
/// ProducerFinished (the [`Driver`](axon_core::Driver) drains what was sent before it); then
/// records (received, in order).
fn order_checking_sink(result: Arc<Mutex<Option<(u64, bool)>>>) -> Component {
    let mut b = ComponentBuilder::new("OrderCheckingSink");
    let io = b.standard::<u64, ()>();
    b.run(move |_ctx| async move {
        let (mut expected, mut in_order) = (0u64, true);
        let mut driver = io.driver();
        let end = driver
            .run(|n, _| {
                in_order &= n == expected;
                expected += 1;
            })
            .await;
        *result.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((expected, in_order));
        driver.finish(end).await;
    })
}

pub(crate) fn pipeline(threads: usize, stages: usize, messages: u64) -> PipelineRun {
    let sched = scheduler(threads);
    let result = Arc::new(Mutex::new(None));
    let children = std::iter::once(DataSource::new(0..messages))
        .chain((0..stages).map(|_| PureTransformer::new(|n: u64| Some(n))))
        .chain(std::iter::once(order_checking_sink(result.clone())));
    let pipeline = Pipeline::new(children).expect("the pipeline builds");
    sched.activate(&pipeline).expect("the pipeline activates");
    let start = Instant::now();
    sched.run();
    let run_s = start.elapsed().as_secs_f64();
    let (received, in_order) = result.lock().unwrap_or_else(std::sync::PoisonError::into_inner).unwrap_or((0, false));
    PipelineRun { run_s, received, in_order }
}

/// An idle component with the four standard boxes: notes that it started, then waits on
/// `inbox` and `control` (a [`ControlWatch`]) for something that never comes.
fn idle(started: Arc<AtomicUsize>) -> Component {
    let mut b = ComponentBuilder::new("Idle");
    let io = b.standard::<u64, u64>();
    b.run(move |_ctx| async move {
        started.fetch_add(1, Ordering::Relaxed);
        let mut watch = ControlWatch::new(io.control, io.signal);
        let _ = watch.next(&io.inbox).await;
    })
}

pub(crate) fn spawn(threads: usize, n: usize) -> (SpawnRun, Live) {
    let started = Arc::new(AtomicUsize::new(0));
    let (before, start, live): (i64, Instant, Live) = if threads == 1 {
        let sched = Scheduler::new();
        let (before, start) = (vm_rss_bytes(), Instant::now());
        for _ in 0..n {
            sched.activate(&idle(started.clone())).expect("a new component activates");
        }
        while started.load(Ordering::Relaxed) < n {
            sched.step();
        }
        (before, start, Box::new(sched))
    } else {
        let sched = scheduler(threads).background();
        let (before, start) = (vm_rss_bytes(), Instant::now());
        for _ in 0..n {
            sched.activate(&idle(started.clone())).expect("a new component activates");
        }
        while started.load(Ordering::Relaxed) < n {
            std::thread::sleep(Duration::from_micros(200));
        }
        (before, start, Box::new(sched))
    };
    let total_s = start.elapsed().as_secs_f64();
    let rss_delta_bytes = vm_rss_bytes() - before;
    (SpawnRun { total_s, rss_delta_bytes, started: started.load(Ordering::Relaxed) as u64 }, live)
}

/// The chat server (`apps::chat::ChatServer`, its defaults, port 0) running in the background
/// on `kamaelia_net::scheduler()`: where it listens, and what keeps it running.
pub(crate) fn chat_server() -> Result<(SocketAddr, Live), String> {
    let sched = kamaelia_net::scheduler().map_err(|e| format!("cannot make the scheduler: {e}"))?;
    let chat = apps::chat::ChatServer::new().port(0).listen().map_err(|e| format!("cannot listen: {e}"))?;
    chat.activate(&sched).map_err(|e| format!("cannot activate the chat server: {e}"))?;
    let addr = chat.local_addr;
    Ok((addr, Box::new((sched.background(), chat))))
}

/// A ServerCore whose protocol echoes what it receives (a `PassThrough` of byte chunks:
/// Kamaelia's `EchoProtocol`), in the background on `kamaelia_net::scheduler()`.
pub(crate) fn echo_server() -> Result<(SocketAddr, Live), String> {
    let sched = kamaelia_net::scheduler().map_err(|e| format!("cannot make the scheduler: {e}"))?;
    let server = ServerCore::new(|_conn| PassThrough::<Vec<u8>>::new())
        .port(0)
        .listen()
        .map_err(|e| format!("cannot listen: {e}"))?;
    sched.activate(&server.component).map_err(|e| format!("cannot activate the server: {e}"))?;
    let addr = server.local_addr;
    Ok((addr, Box::new((sched.background(), server))))
}

/// `Pipeline(Follow(path, from the start, stopping at its end), Grep(PATTERN), Printer)`,
/// boxes bounded as logwatch's are, the printer writing to a sink that counts lines.
pub(crate) fn log_follow(threads: usize, path: &Path) -> Result<LogRun, String> {
    let bytes = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len();
    let sched = scheduler(threads);
    let matched = Arc::new(AtomicU64::new(0));
    let follow = Follow::new(path).from_start(true).stop_at_eof(true);
    follow.check().map_err(|e| e.to_string())?;
    let grep = Grep::new(logfile::PATTERN).map_err(|e| e.to_string())?;
    let pipeline = Pipeline::builder()
        .box_size(apps::logwatch::PIPELINE_BOX)
        .child(follow.build())
        .child(grep.build())
        .child(Printer::new().writer(LineCounter(matched.clone())).build())
        .build()
        .map_err(|e| format!("cannot build the pipeline: {e}"))?;
    let start = Instant::now();
    sched.activate(&pipeline).map_err(|e| format!("cannot activate the pipeline: {e}"))?;
    sched.run();
    let run_s = start.elapsed().as_secs_f64();
    Ok(LogRun { run_s, bytes, matched: matched.load(Ordering::Relaxed), expected: logfile::grep_count(path)? })
}
