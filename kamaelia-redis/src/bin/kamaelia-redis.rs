//! `kamaelia-redis relay URL NAME`: a process on a Backplane bridged through Redis. Each line
//! of stdin is published; every message of the backplane (this process's own, once, and
//! every other process's) is printed on stdout. Like `nc` for a backplane:
//! `tail -F app.log | kamaelia-redis relay redis://loghost:6379 LOGS` on one host, and
//! `kamaelia-redis relay redis://loghost:6379 LOGS </dev/null` to watch on another.
//!
//! `kamaelia-redis enqueue redis://HOST:PORT/QUEUE DIR`: every file under DIR becomes a job
//! (idempotently: its id is the relative path, size and mtime).
//! `kamaelia-redis work redis://HOST:PORT/QUEUE --consumer NAME --exec CMD [--lease SECS]
//! [--max-deliveries N] [--until-empty]`: a worker; each job runs `sh -c CMD` with
//! `KAMAELIA_JOB_ID`, `KAMAELIA_JOB_PATH` and `KAMAELIA_JOB_DELIVERY` set, and is acknowledged
//! only if CMD exits 0.
//! `kamaelia-redis status redis://HOST:PORT/QUEUE`: waiting, in progress per worker, done, dead.
//!
//! Exit codes: 0 when done (relay: at the end of stdin, once what was read is written to
//! Redis), 1 on a bad command line, 2 when Redis cannot be reached at start.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Scheduler, Signal};
use kamaelia_chassis::{PublishTo, SubscribeTo};
use kamaelia_redis::{Error, Job, Lease, Outcome, Queue, QueueWorker, RedisBackplane};

const USAGE: &str = "usage: kamaelia-redis relay redis://HOST:PORT[/DB] NAME [--group GROUP] [--stay]\n\
  \x20      kamaelia-redis enqueue redis://HOST:PORT[/DB]/QUEUE DIR\n\
  \x20      kamaelia-redis work redis://HOST:PORT[/DB]/QUEUE --consumer NAME --exec CMD [--lease SECS] \
  [--max-deliveries N] [--until-empty]\n\
  \x20      kamaelia-redis status redis://HOST:PORT[/DB]/QUEUE\n\
  relay: --group GROUP  a durable consumer group (resumed after a restart)\n\
  \x20      --stay         keep printing after the end of stdin (until killed)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("relay") => relay(&args[1..]),
        Some("enqueue") => enqueue(&args[1..]),
        Some("work") => work(&args[1..]),
        Some("status") => status(&args[1..]),
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

fn usage(why: &str) -> ExitCode {
    eprintln!("kamaelia-redis: {why}\n{USAGE}");
    ExitCode::from(1)
}

fn connect(url: &str) -> Result<Queue, ExitCode> {
    Queue::connect(url).map_err(|e| {
        eprintln!("kamaelia-redis: {e}");
        ExitCode::from(if e.kind() == &kamaelia_redis::ErrorKind::MalformedUrl { 1 } else { 2 })
    })
}

fn enqueue(args: &[String]) -> ExitCode {
    let [url, dir] = args else { return usage("enqueue takes a queue URL and a directory") };
    let mut queue = match connect(url) {
        Ok(q) => q,
        Err(code) => return code,
    };
    let root = std::path::Path::new(dir);
    let mut files = Vec::new();
    if let Err(e) = walk(root, std::path::Path::new(""), &mut files) {
        eprintln!("kamaelia-redis: cannot read {dir}: {e}");
        return ExitCode::from(2);
    }
    files.sort();
    let (mut new, mut old) = (0, 0);
    for rel in files {
        let job = match Job::for_file(root, &rel) {
            Ok(j) => j,
            Err(e) => {
                eprintln!("kamaelia-redis: skipping {}: {e}", rel.display());
                continue;
            }
        };
        match queue.enqueue(&job) {
            Ok(true) => new += 1,
            Ok(false) => old += 1,
            Err(e) => {
                eprintln!("kamaelia-redis: {e}");
                return ExitCode::from(2);
            }
        }
    }
    println!("{new} enqueued, {old} already queued");
    ExitCode::SUCCESS
}

/// Every regular file under `root/rel`, as paths relative to `root`.
fn walk(root: &std::path::Path, rel: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let path = rel.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

fn status(args: &[String]) -> ExitCode {
    let [url] = args else { return usage("status takes a queue URL") };
    let mut queue = match connect(url) {
        Ok(q) => q,
        Err(code) => return code,
    };
    match queue.status() {
        Ok(s) => {
            println!("waiting: {}", s.waiting);
            let total: u64 = s.in_progress.iter().map(|(_, n)| n).sum();
            println!("in progress: {total}");
            for (worker, n) in &s.in_progress {
                println!("  {worker}: {n}");
            }
            println!("done: {}", s.done);
            println!("dead letters: {}", s.dead);
            if let Ok(dead) = queue.dead_letters() {
                for (id, why) in dead {
                    println!("  {id}: {why}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kamaelia-redis: {e}");
            ExitCode::from(2)
        }
    }
}

fn work(args: &[String]) -> ExitCode {
    let Some(url) = args.first() else { return usage("work takes a queue URL") };
    let (mut consumer, mut exec, mut worker) = (None, None, QueueWorker::new(url.clone(), ""));
    let mut rest = args[1..].iter();
    while let Some(a) = rest.next() {
        let mut value = || rest.next().cloned();
        match a.as_str() {
            "--consumer" => consumer = value(),
            "--exec" => exec = value(),
            "--lease" => match value().and_then(|v| v.parse::<f64>().ok()).filter(|v| *v > 0.0) {
                Some(s) => worker = worker.lease(Duration::from_secs_f64(s)),
                None => return usage("--lease takes a number of seconds"),
            },
            "--max-deliveries" => match value().and_then(|v| v.parse::<u64>().ok()) {
                Some(n) => worker = worker.max_deliveries(n),
                None => return usage("--max-deliveries takes a number"),
            },
            "--until-empty" => worker = worker.until_empty(true),
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    let (Some(consumer), Some(exec)) = (consumer, exec) else { return usage("work needs --consumer and --exec") };
    if let Err(code) = connect(url) {
        return code;
    }
    let worker = worker.consumer(consumer).build();
    let runner = runner(exec);
    let errors = error_printer();
    let sched = Scheduler::new();
    for (from, to) in [
        ((&worker, "outbox"), (&runner, "inbox")),
        ((&runner, "outbox"), (&worker, "inbox")),
        ((&worker, "signal"), (&runner, "control")),
    ] {
        if let Err(e) = axon_core::link(from, to) {
            eprintln!("kamaelia-redis: {e}");
            return ExitCode::from(1);
        }
    }
    if axon_core::link((&worker, "error"), (&errors, "inbox")).is_err()
        || axon_core::link((&runner, "signal"), (&errors, "control")).is_err()
    {
        return ExitCode::from(1);
    }
    for c in [&errors, &runner, &worker] {
        if let Err(e) = sched.activate(c) {
            eprintln!("kamaelia-redis: {e}");
            return ExitCode::from(1);
        }
    }
    sched.run();
    ExitCode::SUCCESS
}

/// Runs each job's command; answers Done on exit 0, Failed with the exit status and the end
/// of stderr otherwise.
fn runner(exec: String) -> Component {
    let mut b = ComponentBuilder::new("JobRunner");
    let io = b.standard::<Lease, Outcome>();
    b.run_threaded(move |tctx| {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let end = loop {
            match watch.next_blocking(&tctx, &io.inbox) {
                Next::Data(lease) => {
                    let run = std::process::Command::new("sh")
                        .arg("-c")
                        .arg(&exec)
                        .env("KAMAELIA_JOB_ID", &lease.job.id)
                        .env("KAMAELIA_JOB_PATH", &lease.job.path)
                        .env("KAMAELIA_JOB_DELIVERY", lease.delivery.to_string())
                        .stdin(std::process::Stdio::null())
                        .stdout(std::process::Stdio::inherit())
                        .stderr(std::process::Stdio::piped())
                        .output();
                    let outcome = match run {
                        Ok(o) if o.status.success() => Outcome::Done(lease.ticket),
                        Ok(o) => {
                            let err = String::from_utf8_lossy(&o.stderr);
                            let tail: String =
                                err.trim().chars().rev().take(200).collect::<Vec<_>>().into_iter().rev().collect();
                            Outcome::Failed(lease.ticket, format!("{}: {tail}", o.status))
                        }
                        Err(e) => Outcome::Failed(lease.ticket, format!("cannot run sh: {e}")),
                    };
                    if let Err(i) = watch.send_blocking(&tctx, &io.outbox, outcome) {
                        break i.signal;
                    }
                }
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        watch.finish_blocking(end);
    })
}
