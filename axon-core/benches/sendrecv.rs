//! Send/receive benchmarks: a producer streaming into a consumer, and a ping-pong pair.
//! `cargo bench -p axon-core --bench sendrecv`

use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, Scheduler, link, yield_now};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const MESSAGES: u64 = 1_000_000;

fn producer(n: u64, yield_every: u64) -> Component {
    let mut b = ComponentBuilder::new("Producer");
    let out = b.outbox::<u64>("outbox");
    b.run(move |_| async move {
        for i in 0..n {
            out.send(i).await;
            if yield_every > 0 && i % yield_every == 0 {
                yield_now().await;
            }
        }
    })
}

fn consumer(n: u64) -> Component {
    let mut b = ComponentBuilder::new("Consumer");
    let inbox = b.inbox::<u64>("inbox");
    b.run(move |_| async move {
        for i in 0..n {
            let got = inbox.recv().await;
            assert_eq!(got, i);
        }
    })
}

/// A producer into a consumer whose inbox holds `capacity` messages (`None`: unbounded,
/// with the producer yielding every 64 sends so both interleave).
fn stream(capacity: Option<usize>) -> Duration {
    let sched = Scheduler::new();
    let p = producer(MESSAGES, if capacity.is_none() { 64 } else { 0 });
    let c = consumer(MESSAGES);
    c.set_box_capacity("inbox", capacity).expect("inbox");
    link((&p, "outbox"), (&c, "inbox")).expect("link");
    sched.activate(&p).expect("activate");
    sched.activate(&c).expect("activate");
    let start = Instant::now();
    sched.run();
    start.elapsed()
}

fn pinger(rounds: u64) -> Component {
    let mut b = ComponentBuilder::new("Pinger");
    let io = b.standard::<u64, u64>();
    b.run(move |_| async move {
        for i in 0..rounds {
            io.outbox.send(i).await;
            let back = io.inbox.recv().await;
            assert_eq!(back, i);
        }
    })
}

fn ponger(rounds: u64) -> Component {
    let mut b = ComponentBuilder::new("Ponger");
    let io = b.standard::<u64, u64>();
    b.run(move |_| async move {
        for _ in 0..rounds {
            let x = io.inbox.recv().await;
            io.outbox.send(x).await;
        }
    })
}

fn ping_pong(threads: usize, rounds: u64) -> Duration {
    let sched = Scheduler::builder().threads(threads).build();
    let a = pinger(rounds);
    let b = ponger(rounds);
    link((&a, "outbox"), (&b, "inbox")).expect("link");
    link((&b, "outbox"), (&a, "inbox")).expect("link");
    sched.activate(&a).expect("activate");
    sched.activate(&b).expect("activate");
    let start = Instant::now();
    sched.run();
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("sendrecv");
    g.sample_size(10);
    g.throughput(Throughput::Elements(MESSAGES));
    g.bench_function("stream_unbounded", |b| b.iter_custom(|i| (0..i).map(|_| stream(None)).sum()));
    g.bench_function("stream_capacity_64", |b| b.iter_custom(|i| (0..i).map(|_| stream(Some(64))).sum()));
    const ROUNDS: u64 = 200_000;
    g.throughput(Throughput::Elements(ROUNDS));
    for threads in [1, 2] {
        g.bench_function(format!("ping_pong_threads{threads}"), |b| {
            b.iter_custom(|i| (0..i).map(|_| ping_pong(threads, ROUNDS)).sum())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
