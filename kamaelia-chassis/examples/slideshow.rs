//! `cargo run -p kamaelia-chassis --example slideshow`
//!
//! The slideshow seed, without a window: a remote control presses the slideshow's buttons
//! (sending "NEXT", "PREV", "FIRST" and "LAST", as the UI's Buttons do), a Chooser steps
//! through the slides, and a display prints each slide shown. The Chooser starts on the first
//! slide and does not loop, so NEXT on the last slide and PREV on the first show nothing. When
//! the remote has pressed its last button, its ProducerFinished passes down the line and the
//! system ends by itself.
//!
//! ```text
//! REMOTE --> CHOOSER --> CAPTION --> DISPLAY
//! ```

use axon_core::Scheduler;
use kamaelia_chassis::Graphline;
use kamaelia_util::{Chooser, ConsoleEchoer, DataSource, PureTransformer};

fn main() {
    let slides = ["title.png", "agenda.png", "demo.png", "questions.png"];
    let presses = ["NEXT", "NEXT", "PREV", "LAST", "NEXT", "FIRST", "PREV", "NEXT"];
    println!("the remote presses: {}", presses.join(" "));

    let slideshow = Graphline::builder()
        .component("REMOTE", DataSource::new(presses.map(String::from)))
        .component("CHOOSER", Chooser::new(slides.map(String::from).to_vec()).build_text())
        .component("CAPTION", PureTransformer::new(|slide: String| Some(format!("showing {slide}\n"))))
        .component("DISPLAY", ConsoleEchoer::<String>::new().build())
        .link(("REMOTE", "outbox"), ("CHOOSER", "inbox"))
        .link(("REMOTE", "signal"), ("CHOOSER", "control"))
        .link(("CHOOSER", "outbox"), ("CAPTION", "inbox"))
        .link(("CHOOSER", "signal"), ("CAPTION", "control"))
        .link(("CAPTION", "outbox"), ("DISPLAY", "inbox"))
        .link(("CAPTION", "signal"), ("DISPLAY", "control"))
        .build()
        .expect("the slideshow is wired correctly");

    let sched = Scheduler::new();
    sched.activate(&slideshow).expect("the slideshow starts");
    sched.run();
    println!("the remote has finished, and so has the slideshow");
}
