//! Spawn benchmark: build and activate idle components, each with the four standard boxes;
//! time per component (criterion) and resident memory per component (VmRSS, printed first).
//! `cargo bench -p axon-core --bench spawn`

use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, Scheduler};
use criterion::{Criterion, Throughput, criterion_group};

/// A component with inbox, control, outbox and signal that waits for a message forever.
fn idle() -> Component {
    let mut b = ComponentBuilder::new("Idle");
    let io = b.standard::<u64, u64>();
    b.run(move |_| async move {
        let _ = io.inbox.recv().await;
        drop(io);
    })
}

fn vm_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Builds and activates `n` idle components, runs one cycle so each has started and paused.
fn spawn(sched: &Scheduler, n: usize) -> (Vec<Component>, Duration) {
    let start = Instant::now();
    let comps: Vec<Component> = (0..n).map(|_| idle()).collect();
    for c in &comps {
        sched.activate(c).expect("activate");
    }
    sched.step();
    (comps, start.elapsed())
}

fn memory_report() {
    const N: usize = 1_000_000;
    let sched = Scheduler::new();
    let before = vm_rss_bytes();
    let (comps, took) = spawn(&sched, N);
    let after = vm_rss_bytes();
    println!(
        "spawn {N} idle components (4 boxes each): {:.3} us per component, {} bytes resident per component",
        took.as_secs_f64() * 1e6 / N as f64,
        (after.saturating_sub(before)) / N as u64
    );
    drop(comps);
}

fn bench(c: &mut Criterion) {
    const N: usize = 100_000;
    let mut g = c.benchmark_group("spawn");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("build_activate_start_100k", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let sched = Scheduler::new();
                    let (comps, took) = spawn(&sched, N);
                    drop(comps);
                    took
                })
                .sum()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    memory_report();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
