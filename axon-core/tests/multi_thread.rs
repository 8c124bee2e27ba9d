//! The multi-thread scheduler: the same systems give the same results on 1, 2 and 4 threads, `run` returns, and timers work.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, Scheduler, Signal, link, sleep};

/// Far longer than any of these systems needs; only reached if `run` hangs.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `sched` on another thread and hands it back once `run` returns, failing the test if
/// `run` has not returned within [`LIMIT`].
fn run_within_limit(sched: Scheduler) -> Scheduler {
    common::run_within(sched, LIMIT)
}

/// A way to make a scheduler, with a label for failure messages.
type MakeScheduler = (&'static str, fn() -> Scheduler);

/// The schedulers every system is run on: the deterministic single-thread one first.
fn schedulers() -> Vec<MakeScheduler> {
    vec![
        ("single-thread", Scheduler::new),
        ("2 threads", || Scheduler::builder().threads(2).build()),
        ("4 threads", || Scheduler::builder().threads(4).build()),
    ]
}

/// Runs the system `build` sets up on every scheduler; checks that each gives `expected`.
fn same_everywhere<R, F>(build: F, expected: &R)
where
    R: PartialEq + std::fmt::Debug,
    F: Fn(&Scheduler) -> Box<dyn FnOnce() -> R>,
{
    for (label, make) in schedulers() {
        let sched = make();
        let result = build(&sched);
        let sched = run_within_limit(sched);
        assert_eq!(sched.live(), 0, "{label}");
        assert!(sched.panics().is_empty(), "{label}: {:?}", sched.panics());
        assert_eq!(&result(), expected, "{label}");
    }
}

// --- a pipeline: source -> 5 transformers -> sink -------------------------------------------

const NUMBERS: u64 = 10_000;
const STAGES: usize = 5;

fn number_source() -> Component {
    let mut b = ComponentBuilder::new("Source");
    let out = b.outbox::<u64>("outbox");
    let sig = b.signal();
    b.run(move |ctx| async move {
        for n in 0..NUMBERS {
            out.send(n).await;
        }
        sig.send(Signal::producer_finished_by(ctx.id())).await;
    })
}

/// `x -> 3x + 1`: order-sensitive enough that a reordering or a lost message shows.
fn transformer() -> Component {
    let mut b = ComponentBuilder::new("Transformer");
    let std = b.standard::<u64, u64>();
    b.run(|_ctx| std.transform(|x| Some(3 * x + 1)))
}

fn collector(got: &Arc<Mutex<Vec<u64>>>) -> Component {
    let got = got.clone();
    let mut b = ComponentBuilder::new("Sink");
    let std = b.standard::<u64, u64>();
    b.run(move |_ctx| async move {
        let mut driver = std.driver();
        driver.run(|x, _out| got.lock().unwrap().push(x)).await;
        got.lock().unwrap().extend(driver.inbox().drain());
    })
}

fn pipeline(sched: &Scheduler) -> Box<dyn FnOnce() -> Vec<u64>> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let mut chain = vec![number_source()];
    chain.extend((0..STAGES).map(|_| transformer()));
    chain.push(collector(&got));
    for pair in chain.windows(2) {
        link((&pair[0], "outbox"), (&pair[1], "inbox")).unwrap();
        link((&pair[0], "signal"), (&pair[1], "control")).unwrap();
    }
    for c in &chain {
        sched.activate(c).unwrap();
    }
    Box::new(move || std::mem::take(&mut *got.lock().unwrap()))
}

#[test]
fn a_pipeline_gives_the_same_output_on_every_scheduler() {
    let expected: Vec<u64> = (0..NUMBERS).map(|x| (0..STAGES).fold(x, |x, _| 3 * x + 1)).collect();
    same_everywhere(pipeline, &expected);
}

// --- a ring passing a token -----------------------------------------------------------------

const RING: usize = 50;
const HOPS: u64 = 10_000;

enum Token {
    Hop(u64),
    Stop,
}

/// Who received the token how often, and who held it at the end.
#[derive(Debug, PartialEq)]
struct RingResult {
    receipts: Vec<usize>,
    last_holder: Option<usize>,
}

fn ring(sched: &Scheduler) -> Box<dyn FnOnce() -> RingResult> {
    let receipts: Arc<Vec<AtomicUsize>> = Arc::new((0..RING).map(|_| AtomicUsize::new(0)).collect());
    let last_holder = Arc::new(Mutex::new(None));
    let members: Vec<Component> = (0..RING)
        .map(|i| {
            let receipts = receipts.clone();
            let last_holder = last_holder.clone();
            let mut b = ComponentBuilder::new("RingMember");
            let inbox = b.inbox::<Token>("inbox");
            let out = b.outbox::<Token>("outbox");
            b.run(move |_ctx| async move {
                loop {
                    match inbox.recv().await {
                        Token::Hop(n) => {
                            receipts[i].fetch_add(1, Ordering::SeqCst);
                            if n == HOPS {
                                *last_holder.lock().unwrap() = Some(i);
                                out.send(Token::Stop).await;
                                return;
                            }
                            out.send(Token::Hop(n + 1)).await;
                        }
                        Token::Stop => {
                            out.send(Token::Stop).await;
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    for i in 0..RING {
        link((&members[i], "outbox"), (&members[(i + 1) % RING], "inbox")).unwrap();
    }
    members[0].inbox_ref::<Token>("inbox").unwrap().try_send(Token::Hop(0)).unwrap();
    for m in &members {
        sched.activate(m).unwrap();
    }
    Box::new(move || RingResult {
        receipts: receipts.iter().map(|r| r.load(Ordering::SeqCst)).collect(),
        last_holder: *last_holder.lock().unwrap(),
    })
}

#[test]
fn a_ring_passes_a_token_the_same_way_on_every_scheduler() {
    // Member k receives every hop n with n % RING == k, for n in 0..=HOPS.
    let hops = HOPS as usize + 1;
    let expected = RingResult {
        receipts: (0..RING).map(|k| hops / RING + usize::from(k < hops % RING)).collect(),
        last_holder: Some(HOPS as usize % RING),
    };
    same_everywhere(ring, &expected);
}

// --- a fan-in into one small inbox ----------------------------------------------------------

const PRODUCERS: usize = 4;
const EACH: u32 = 2_500;
const CAPACITY: usize = 2;

/// What each producer's messages looked like on arrival, and the fullest the inbox was seen.
#[derive(Debug, PartialEq)]
struct FanInResult {
    per_producer: Vec<Vec<u32>>,
    fullest_within_capacity: bool,
}

fn fan_in(sched: &Scheduler) -> Box<dyn FnOnce() -> FanInResult> {
    let per_producer = Arc::new(Mutex::new(vec![Vec::new(); PRODUCERS]));
    let fullest = Arc::new(AtomicUsize::new(0));
    let (record, record_fullest) = (per_producer.clone(), fullest.clone());
    let mut b = ComponentBuilder::new("Consumer");
    let inbox = b.inbox_with_capacity::<(usize, u32)>("inbox", CAPACITY);
    let consumer = b.run(move |_ctx| async move {
        for _ in 0..PRODUCERS * EACH as usize {
            record_fullest.fetch_max(inbox.len(), Ordering::SeqCst);
            let (p, n) = inbox.recv().await;
            record.lock().unwrap()[p].push(n);
        }
    });
    sched.activate(&consumer).unwrap();
    for p in 0..PRODUCERS {
        let mut b = ComponentBuilder::new("Producer");
        let out = b.outbox::<(usize, u32)>("outbox");
        let producer = b.run(move |_ctx| async move {
            for n in 0..EACH {
                out.send((p, n)).await;
            }
        });
        link((&producer, "outbox"), (&consumer, "inbox")).unwrap();
        sched.activate(&producer).unwrap();
    }
    Box::new(move || FanInResult {
        per_producer: std::mem::take(&mut *per_producer.lock().unwrap()),
        fullest_within_capacity: fullest.load(Ordering::SeqCst) <= CAPACITY,
    })
}

#[test]
fn a_fan_in_into_a_bounded_inbox_loses_and_reorders_nothing_on_every_scheduler() {
    let expected = FanInResult { per_producer: vec![(0..EACH).collect(); PRODUCERS], fullest_within_capacity: true };
    same_everywhere(fan_in, &expected);
}

// --- run and timers -------------------------------------------------------------------------

#[test]
fn run_on_an_empty_multi_thread_scheduler_returns() {
    for threads in [2, 4] {
        let sched = run_within_limit(Scheduler::builder().threads(threads).build());
        assert_eq!(sched.live(), 0);
    }
}

#[test]
fn sleepers_wake_after_at_least_their_duration_on_a_multi_thread_scheduler() {
    for threads in [2, 4] {
        let waited = Arc::new(Mutex::new(Vec::new()));
        let sched = Scheduler::builder().threads(threads).build();
        for ms in [60u64, 10, 40, 20, 30, 50] {
            let waited = waited.clone();
            let mut b = ComponentBuilder::new("Sleeper");
            b.inbox::<u32>("inbox");
            let c = b.run(move |_ctx| async move {
                let d = Duration::from_millis(ms);
                let start = Instant::now();
                sleep(d).await;
                waited.lock().unwrap().push((d, start.elapsed()));
            });
            sched.activate(&c).unwrap();
        }
        let sched = run_within_limit(sched);
        assert_eq!(sched.live(), 0);
        let waited = waited.lock().unwrap();
        assert_eq!(waited.len(), 6, "{threads} threads");
        for (asked, slept) in waited.iter() {
            assert!(slept >= asked, "{threads} threads: slept {slept:?} of {asked:?}");
        }
    }
}
