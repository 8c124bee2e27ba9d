//! `kamaelia-redis relay URL NAME`: a process on a Backplane bridged through Redis. Each line
//! of stdin is published; every message of the backplane (this process's own, once, and
//! every other process's) is printed on stdout. Like `nc` for a backplane:
//! `tail -F app.log | kamaelia-redis relay redis://loghost:6379 LOGS` on one host, and
//! `kamaelia-redis relay redis://loghost:6379 LOGS </dev/null` to watch on another.
//!
//! Exit codes: 0 at the end of stdin (once what was read is written to Redis), 1 on a bad
//! command line, 2 when Redis cannot be reached at start.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Scheduler, Signal};
use kamaelia_chassis::{PublishTo, SubscribeTo};
use kamaelia_redis::{Error, RedisBackplane};

const USAGE: &str = "usage: kamaelia-redis relay redis://HOST:PORT[/DB] NAME [--group GROUP] [--stay]\n\
  --group GROUP  a durable consumer group (resumed after a restart)\n\
  --stay         keep printing after the end of stdin (until killed)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("relay") => relay(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(1)
        }
    }
}

fn relay(args: &[String]) -> ExitCode {
    let (Some(url), Some(name)) = (args.first(), args.get(1)) else {
        eprintln!("{USAGE}");
        return ExitCode::from(1);
    };
    let mut group = None;
    let mut stay = false;
    let mut rest = args[2..].iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--group" => group = rest.next().cloned(),
            "--stay" => stay = true,
            other => {
                eprintln!("unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(1);
            }
        }
    }
    if let Err(e) = kamaelia_redis::check(url) {
        eprintln!("kamaelia-redis: {e}");
        return ExitCode::from(2);
    }
    let bg = Scheduler::new().background();
    let mut bp = RedisBackplane::<String>::new(url, name);
    if let Some(g) = group {
        bp = bp.group(g);
    }
    let bp = bp.build();
    let errors = error_printer();
    if axon_core::link((&bp, "error"), (&errors, "inbox")).is_err() || bg.activate(&errors).is_err() {
        eprintln!("kamaelia-redis: cannot start the error printer");
        return ExitCode::from(1);
    }
    if let Err(e) = bg.activate(&bp) {
        eprintln!("kamaelia-redis: {e}");
        return ExitCode::from(1);
    }
    let (Ok(publish), Ok(subscribe)) = (
        bg.handle::<String, String>(&PublishTo::<String>::new(name.clone()).build()),
        bg.handle::<String, String>(&SubscribeTo::<String>::new(name.clone()).build()),
    ) else {
        eprintln!("kamaelia-redis: cannot attach to the backplane");
        return ExitCode::from(1);
    };
    let printer = std::thread::spawn(move || {
        let stdout = std::io::stdout();
        while let Some(line) = subscribe.get_timeout(Duration::from_secs(3600)) {
            let mut out = stdout.lock();
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                break;
            }
        }
    });
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        publish.put(line);
    }
    if stay {
        let _ = printer.join();
        return ExitCode::SUCCESS;
    }
    // End of input: let the backplane write what it holds, then stop.
    bp.inbox_ref::<Signal>("control").map(|c| c.try_send(Signal::producer_finished())).ok();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !bp.is_finished() && Instant::now() < deadline {
        std::thread::park_timeout(Duration::from_millis(10));
    }
    ExitCode::SUCCESS
}

/// Prints every report of the bridges on stderr.
fn error_printer() -> Component {
    let mut b = ComponentBuilder::new("ErrorPrinter");
    let inbox = b.inbox::<Error>("inbox");
    let control = b.control();
    let signal = b.signal();
    b.run_threaded(move |tctx| {
        let mut watch = ControlWatch::new(control, signal);
        let end = loop {
            match watch.next_blocking(&tctx, &inbox) {
                Next::Data(e) => eprintln!("kamaelia-redis: {e}"),
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        watch.finish_blocking(end);
    })
}
