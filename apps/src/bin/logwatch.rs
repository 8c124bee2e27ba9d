//! `logwatch`: follows a file like `tail -F` and prints each appended line that matches a
//! regular expression, as it arrives: `Pipeline(Follow(FILE), Grep(PATTERN), Printer())`.
//! With `--serve PORT` the matching lines also go to every TCP client on PORT (at `--bind`,
//! 127.0.0.1 by default), each ending in CRLF; `Logwatch running on port N` on stderr says
//! where (stdout carries the matching lines only).
//!
//! Exit status: 0 after Ctrl-C (the lines already appended are read and printed first) or
//! when stdout is closed; 2 for a bad pattern, a file that cannot be followed or a `--serve`
//! address that cannot be listened on (with a message on stderr); 1 for other failures. A second Ctrl-C exits at once with 130.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use apps::logwatch::{DEFAULT_BIND, EXIT_FAILED, Logwatch, Options};
use apps::shutdown::INTERRUPTED_TWICE;
use axon_core::Signal;
use clap::Parser;

/// Follow FILE (like `tail -F`) and print each appended line in which PATTERN matches.
#[derive(Parser, Debug)]
#[command(name = "logwatch", version)]
struct Args {
    /// The file to follow. It may not exist yet (it is waited for), but its directory must.
    file: PathBuf,
    /// A regular expression searched for anywhere in each line (Rust regex syntax).
    pattern: String,
    /// Print the lines that do not match instead (as `grep -v`).
    #[arg(long)]
    invert: bool,
    /// Read the whole file first, instead of starting at its end.
    #[arg(long)]
    from_start: bool,
    /// Also serve the matching lines to TCP clients on PORT, each line ending in CRLF (0: any
    /// free port; `Logwatch running on port N` on stderr says which).
    #[arg(long, value_name = "PORT")]
    serve: Option<u16>,
    /// The address --serve listens on.
    #[arg(long, default_value_t = DEFAULT_BIND, requires = "serve")]
    bind: IpAddr,
    #[command(flatten)]
    debug: apps::appflags::DebugFlags,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut opts = Options::new(args.file, args.pattern);
    opts.invert = args.invert;
    opts.from_start = args.from_start;
    opts.serve = args.serve;
    opts.bind = args.bind;
    let code = run(&opts, &args.debug);
    // Exit codes here are 0, 1 and 2.
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Writes a message on stderr, ignoring a closed stderr (where `eprintln!` would panic).
fn say(text: std::fmt::Arguments<'_>) {
    apps::shutdown::say(format_args!("logwatch: {text}"));
}

fn run(opts: &Options, debug: &apps::appflags::DebugFlags) -> i32 {
    let watch = match Logwatch::new(opts) {
        Ok(w) => w,
        Err(e) => {
            say(format_args!("{e}"));
            return e.exit_code();
        }
    };
    let sched = match kamaelia_net::scheduler() {
        Ok(s) => s,
        Err(e) => {
            say(format_args!("cannot start the scheduler: {e}"));
            return EXIT_FAILED;
        }
    };
    let stop = watch.stopper();
    // SIGINT (and SIGTERM, SIGHUP): drain and stop; a second one exits at once.
    let handler = apps::shutdown::on_signals(move |n| {
        if n == 1 {
            // Control inboxes are unbounded: this never waits.
            stop.send_blocking(Signal::producer_finished());
        } else {
            std::process::exit(INTERRUPTED_TWICE);
        }
    });
    if let Err(e) = handler {
        say(format_args!("cannot handle Ctrl-C: {e}"));
        return EXIT_FAILED;
    }
    if let Err(e) = watch.activate(&sched) {
        say(format_args!("cannot start: {e}"));
        return EXIT_FAILED;
    }
    if let Some(addr) = watch.serving() {
        // The chat server's and the greeter's form (on stderr: stdout is the matching lines).
        let _ = writeln!(std::io::stderr().lock(), "Logwatch running on port {}", addr.port());
    }
    // The console and introspector stop by themselves once the pipeline has ended.
    if let Err(e) = debug.start("logwatch", &sched, std::slice::from_ref(&watch.pipeline)) {
        say(format_args!("{e:#}"));
        return EXIT_FAILED;
    }
    sched.run();
    watch.exit_code()
}
