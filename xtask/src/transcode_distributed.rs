//! `cargo xtask transcode enqueue|work|status`: the transcode job as a distributed work queue
//! on Redis (`apps::transcode::distributed`). Without one of these words, `cargo xtask
//! transcode` is the single-machine job, as before.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use apps::transcode::distributed::{self, WorkOptions};
use apps::transcode::{EXIT_USAGE, parse_until};
use clap::Parser;

/// Put the videos under a shared directory in a Redis work queue (idempotently: a file's job
/// id is its relative path, size and mtime, so enqueueing again adds only new or changed files).
#[derive(Parser, Debug)]
#[command(name = "cargo xtask transcode enqueue")]
struct Enqueue {
    /// The shared directory to look for videos under (recursively).
    #[arg(long, value_name = "DIR")]
    source: PathBuf,
    /// Only files whose relative path this regex matches [default: common video extensions].
    #[arg(long, value_name = "REGEX")]
    pattern: Option<String>,
    /// Leave alone files whose relative path this regex matches.
    #[arg(long, value_name = "REGEX")]
    exclude: Option<String>,
    /// The queue: redis://HOST:PORT[/DB]/NAME.
    #[arg(long, value_name = "URL")]
    queue: String,
}

/// Take jobs from the queue, transcode and upload them; run on each host.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask transcode work")]
struct Work {
    /// The shared directory (the same one, e.g. an NFS mount, on every host).
    #[arg(long, value_name = "DIR")]
    source: PathBuf,
    /// The queue: redis://HOST:PORT[/DB]/NAME.
    #[arg(long, value_name = "URL")]
    queue: String,
    /// Where outputs go: ftp://user:pass@host:port/path or a directory.
    #[arg(long, value_name = "DEST")]
    upload: String,
    /// Jobs at once on this host.
    #[arg(long, value_name = "N", default_value_t = 2)]
    workers: usize,
    /// Seconds a job may go without a heartbeat before another worker takes it.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    lease: f64,
    /// Deliveries after which a job goes to the dead letters.
    #[arg(long, value_name = "N", default_value_t = 5)]
    max_deliveries: u64,
    /// Stop taking jobs at this local time (24-hour clock).
    #[arg(long, value_name = "HH:MM")]
    until: Option<String>,
    /// End once nothing is waiting or in progress.
    #[arg(long)]
    until_empty: bool,
    /// This host's name in the queue [default: the hostname].
    #[arg(long, value_name = "NAME")]
    host: Option<String>,
    /// ffmpeg's output options [default: "-vf scale=640:360 -c:v mpeg4 -q:v 5 -c:a copy"].
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    ffmpeg_args: Option<String>,
    /// The outputs' file extension.
    #[arg(long, value_name = "EXT", default_value = "avi")]
    output_ext: String,
}

/// Waiting, in progress per worker, done, dead letters.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask transcode status")]
struct Status {
    /// The queue: redis://HOST:PORT[/DB]/NAME.
    #[arg(long, value_name = "URL")]
    queue: String,
}

fn parse<P: Parser>(name: &str, args: &[String]) -> Result<P, ExitCode> {
    P::try_parse_from(std::iter::once(name).chain(args.iter().map(String::as_str))).map_err(|e| {
        let _ = e.print();
        if e.use_stderr() { ExitCode::from(EXIT_USAGE as u8) } else { ExitCode::SUCCESS }
    })
}

fn failed(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("xtask transcode: {e}");
    ExitCode::from(EXIT_USAGE as u8)
}

/// Runs `enqueue`, `work` or `status` if `args` starts with one; `None` otherwise.
pub(crate) fn dispatch(args: &[String]) -> Option<ExitCode> {
    let rest = args.get(1..).unwrap_or_default();
    Some(match args.first().map(String::as_str)? {
        "enqueue" => match parse::<Enqueue>("cargo xtask transcode enqueue", rest) {
            Ok(a) => match distributed::enqueue(&a.source, a.pattern.as_deref(), a.exclude.as_deref(), &a.queue) {
                Ok((new, old)) => {
                    println!("{new} enqueued, {old} already queued");
                    ExitCode::SUCCESS
                }
                Err(e) => failed(e),
            },
            Err(code) => code,
        },
        "status" => match parse::<Status>("cargo xtask transcode status", rest) {
            Ok(a) => match distributed::status(&a.queue) {
                Ok((s, dead)) => {
                    println!("waiting: {}", s.waiting);
                    println!("in progress: {}", s.in_progress.iter().map(|(_, n)| n).sum::<u64>());
                    for (worker, n) in &s.in_progress {
                        println!("  {worker}: {n}");
                    }
                    println!("done: {}", s.done);
                    println!("dead letters: {}", s.dead);
                    for (id, why) in dead {
                        println!("  {id}: {why}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => failed(e),
            },
            Err(code) => code,
        },
        "work" => match parse::<Work>("cargo xtask transcode work", rest) {
            Ok(a) => work(a),
            Err(code) => code,
        },
        _ => return None,
    })
}

fn work(a: Work) -> ExitCode {
    let until = match a.until.as_deref().map(parse_until).transpose() {
        Ok(u) => u,
        Err(e) => return failed(e),
    };
    if !a.lease.is_finite() || a.lease <= 0.0 {
        return failed("--lease must be a positive number of seconds");
    }
    let mut opts = WorkOptions::new(a.source, a.queue, a.upload);
    opts.workers = a.workers;
    opts.lease = Duration::from_secs_f64(a.lease);
    opts.max_deliveries = a.max_deliveries;
    opts.until = until;
    opts.until_empty = a.until_empty;
    if let Some(h) = a.host {
        opts.host = h;
    }
    opts.ffmpeg_args = a.ffmpeg_args;
    opts.output_ext = a.output_ext;
    // Ctrl-C: running jobs finish, no new ones start; again: exit at once (the jobs running
    // are taken over by another worker after their lease).
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let presses = AtomicUsize::new(0);
    if let Err(e) = ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!("interrupted: running jobs finish, no new ones start (interrupt again to exit at once)");
            flag.store(true, Ordering::SeqCst);
        } else {
            std::process::exit(130);
        }
    }) {
        eprintln!("xtask transcode: cannot handle Ctrl-C ({e}); it will end the worker at once");
    }
    match distributed::work(opts, &stop) {
        Ok(summary) => {
            print!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => failed(e),
    }
}
