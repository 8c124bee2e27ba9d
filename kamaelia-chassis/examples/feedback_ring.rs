//! `cargo run -p kamaelia-chassis --example feedback_ring`
//!
//! A feedback loop that ends itself: a circular Pipeline carries a pair of Fibonacci numbers
//! round and round, each lap turning `(a, b)` into `(b, a + b)`. A splitter in the ring taps
//! every pair off to a printer. The ring's first stage counts the laps; after the last one it
//! sends ProducerFinished instead of the pair, and that signal cascades round the ring (and
//! out to the printer), stopping every stage.
//!
//! ```text
//!        +--> RoundCounter --> Step --> TwoWaySplitter --+--outbox2/signal2--> Caption --> Echoer
//!        |                                               |
//!        +---------------------- outbox/signal ----------+
//! ```

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Scheduler, Signal, link};
use kamaelia_chassis::Pipeline;
use kamaelia_util::{ConsoleEchoer, PureTransformer, TwoWaySplitter};

type Pair = (u64, u64);

/// Passes on the first `laps` values it receives. The next one has been round the ring
/// `laps` times: it sends ProducerFinished instead, and ends.
fn round_counter(laps: usize) -> Component {
    let mut b = ComponentBuilder::new("RoundCounter");
    let io = b.standard::<Pair, Pair>();
    b.run(move |ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let mut passed = 0;
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Data(v) if passed < laps => {
                    passed += 1;
                    if let Err(stop) = watch.send(&io.outbox, v).await {
                        break stop.signal;
                    }
                }
                Next::Data(_) => break Signal::producer_finished_by(ctx.id()),
                // Other signals are passed on by the watch.
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        watch.finish(end).await;
    })
}

/// How many times the pair goes round.
const LAPS: usize = 10;

fn main() {
    let splitter = TwoWaySplitter::<Pair>::new();
    let ring = Pipeline::builder()
        .child(round_counter(LAPS))
        .child(PureTransformer::new(|(a, b): Pair| Some((b, a + b))))
        .child(splitter.clone())
        .circular(true)
        .build()
        .expect("the ring is wired correctly");
    let printer = Pipeline::new([
        PureTransformer::new(|(a, b): Pair| Some(format!("the ring carried ({a}, {b})\n"))),
        ConsoleEchoer::<String>::new().build(),
    ])
    .expect("the printer is wired correctly");
    link((&splitter, "outbox2"), (&printer, "inbox")).expect("the tap fits the printer");
    link((&splitter, "signal2"), (&printer, "control")).expect("the tap fits the printer");

    // The seed goes in through the pipeline's inbox, which passes through to the first stage.
    ring.inbox_ref::<Pair>("inbox").expect("the ring takes pairs").try_send((0, 1)).expect("unbounded");
    let sched = Scheduler::new();
    sched.activate(&ring).expect("the ring starts");
    sched.activate(&printer).expect("the printer starts");
    sched.run();
    let ended = ring.is_finished() && printer.is_finished();
    println!("the counter stopped the ring after {LAPS} laps; every stage has ended: {ended}");
}
