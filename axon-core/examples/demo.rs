//! `cargo run --release -p axon-core --example demo`
//!
//! The project's main job until the apps exist: builds a small Kamaelia-style system from
//! components and linkages, runs it, and prints what it did (the messages, the topology in
//! Axon's Introspector protocol, and how every component ended).

use std::sync::{Arc, Mutex};

use axon_core::{Component, ComponentBuilder, Scheduler, Signal, link};

/// Emits each word, then ProducerFinished.
fn source(words: &[&str]) -> Component {
    let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    let mut b = ComponentBuilder::new("Source");
    let outbox = b.outbox::<String>("outbox");
    let signal = b.signal();
    b.run(move |ctx| async move {
        for w in words {
            outbox.send(w).await;
        }
        signal.send(Signal::producer_finished_by(ctx.id())).await;
    })
}

/// Applies `f` to each message; the driver owns the loop and the shutdown contract.
fn transformer(kind: &'static str, f: fn(String) -> String) -> Component {
    let mut b = ComponentBuilder::new(kind);
    let io = b.standard::<String, String>();
    b.run(move |_| io.transform(move |m| Some(f(m))))
}

/// Prints each message and keeps a log; says which signal ended it.
fn printer(log: Arc<Mutex<Vec<String>>>) -> Component {
    let mut b = ComponentBuilder::new("Printer");
    let io = b.standard::<String, ()>();
    b.run(move |_| async move {
        let mut driver = io.driver();
        let end = driver
            .run(|m, _out| {
                println!("  printer got: {m}");
                log.lock().expect("log lock").push(m);
            })
            .await;
        println!("  printer stops on {end}");
        driver.finish(end).await;
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("axon-core demo: Source -> Upper -> Exclaim -> Printer, wired signal -> control");
    let log = Arc::new(Mutex::new(Vec::new()));
    let chain = [
        source(&["hello", "kamaelia", "in", "rust"]),
        transformer("Upper", |s| s.to_uppercase()),
        transformer("Exclaim", |s| format!("{s}!")),
        printer(log.clone()),
    ];
    for pair in chain.windows(2) {
        link((&pair[0], "outbox"), (&pair[1], "inbox"))?;
        link((&pair[0], "signal"), (&pair[1], "control"))?;
    }
    let sched = Scheduler::new();
    println!("topology (Axon Introspector protocol):");
    for c in &chain {
        sched.activate(c)?;
    }
    for line in sched.snapshot().to_introspector().lines().filter(|l| l.contains("LINK \"(")) {
        println!("  {line}");
    }
    println!("running:");
    sched.run();
    println!("done: {} messages printed; components:", log.lock().expect("log lock").len());
    for c in &chain {
        println!("  {} {:?}", c.name(), c.state());
    }
    Ok(())
}
