//! Ring benchmark (Erlang's process ring): 503 components linked in a circle pass a token;
//! reported as time per hop. `cargo bench -p axon-core --bench ring`

use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, Scheduler, link};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const MEMBERS: usize = 503;
const HOPS: u64 = 1_000_000;

/// Forwards the token, counting it down; at zero passes the zero on and ends, so the
/// whole ring ends one lap later.
fn member() -> Component {
    let mut b = ComponentBuilder::new("RingMember");
    let io = b.standard::<u64, u64>();
    b.run(move |_| async move {
        loop {
            let t = io.inbox.recv().await;
            if t == 0 {
                io.outbox.send(0).await;
                return;
            }
            io.outbox.send(t - 1).await;
        }
    })
}

fn ring(threads: usize, hops: u64) -> Duration {
    let sched = Scheduler::builder().threads(threads).build();
    let members: Vec<Component> = (0..MEMBERS).map(|_| member()).collect();
    for i in 0..MEMBERS {
        link((&members[i], "outbox"), (&members[(i + 1) % MEMBERS], "inbox")).expect("ring link");
    }
    members[0].inbox_ref::<u64>("inbox").expect("inbox").try_send(hops).expect("unbounded");
    for m in &members {
        sched.activate(m).expect("activate");
    }
    let start = Instant::now();
    sched.run();
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ring503");
    g.throughput(Throughput::Elements(HOPS));
    g.sample_size(10);
    for threads in [1, 2] {
        g.bench_function(format!("threads{threads}"), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| ring(threads, HOPS)).sum())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
