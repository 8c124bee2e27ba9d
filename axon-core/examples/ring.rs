//! `cargo run --release -p axon-core --example ring -- [MEMBERS] [HOPS] [THREADS]`
//!
//! Erlang's process ring: MEMBERS components (default 503) linked in a circle pass a token
//! HOPS times (default 1 000 000); prints the time per hop.

use std::time::Instant;

use axon_core::{Component, ComponentBuilder, Scheduler, link};

fn member() -> Component {
    let mut b = ComponentBuilder::new("RingMember");
    let io = b.standard::<u64, u64>();
    b.run(move |_| async move {
        loop {
            let t = io.inbox.recv().await;
            io.outbox.send(t.saturating_sub(1)).await;
            if t == 0 {
                return;
            }
        }
    })
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().expect("numeric arguments"));
    let members = args.next().unwrap_or(503) as usize;
    let hops = args.next().unwrap_or(1_000_000);
    let threads = args.next().unwrap_or(1) as usize;
    let ring: Vec<Component> = (0..members).map(|_| member()).collect();
    for i in 0..members {
        link((&ring[i], "outbox"), (&ring[(i + 1) % members], "inbox")).expect("ring link");
    }
    ring[0].inbox_ref::<u64>("inbox").expect("inbox").try_send(hops).expect("unbounded inbox");
    let sched = Scheduler::builder().threads(threads).build();
    for m in &ring {
        sched.activate(m).expect("activate");
    }
    let start = Instant::now();
    sched.run();
    let took = start.elapsed();
    let total = hops + members as u64;
    println!(
        "ring of {members}, {total} hops on {threads} thread(s): {:.1} ns per hop",
        took.as_nanos() as f64 / total as f64
    );
}
