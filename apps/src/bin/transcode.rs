//! `transcode`: the transcode-and-upload batch job (`apps::transcode`) as a command. Finds
//! videos under a directory, transcodes them with ffmpeg N at a time and uploads the
//! outputs; stoppable (Ctrl-C, `--until`) and resumable. `cargo xtask transcode` runs the
//! release build of this binary; `cargo install --path apps` installs it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use apps::transcode::{EXIT_USAGE, Options, StopHandle, Transcode, parse_until};
use clap::Parser;

/// Transcode the videos under a directory with ffmpeg (by default to MPEG-4 at 640x360,
/// audio copied) and upload them, N at a time; stoppable and resumable.
///
/// State is kept in the source directory: a source moves to done/ once transcoded; its
/// output waits in to_upload/ until uploaded, then moves to encoded/; ffmpeg writes into
/// transcoding/. A later run uploads what waits first, then transcodes what is left.
///
/// Ctrl-C (or reaching --until) stops taking new work: running transcodes finish and are
/// uploaded. A second Ctrl-C aborts running transcodes (removing their partial outputs)
/// and uploads. A summary is printed at the end.
///
/// Exit status: 0 all done (or left for the next run by a stop), 1 some files failed
/// (listed), 2 a usage or environment error (ffmpeg missing, say).
#[derive(Parser, Debug)]
#[command(name = "transcode", version, verbatim_doc_comment)]
struct Args {
    /// The directory to look for videos under (recursively).
    #[arg(long, value_name = "DIR")]
    source: PathBuf,
    /// Only files whose path (relative to DIR) this regex matches [default: common video
    /// extensions].
    #[arg(long, value_name = "REGEX")]
    pattern: Option<String>,
    /// Leave alone files whose relative path this regex matches.
    #[arg(long, value_name = "REGEX")]
    exclude: Option<String>,
    /// Transcode-and-upload pipelines running side by side.
    #[arg(long, value_name = "N", default_value_t = 2)]
    workers: usize,
    /// Where outputs go: ftp://user:pass@host:port/path (passive mode) or a local
    /// directory. Without it, outputs wait in to_upload/.
    #[arg(long, value_name = "DEST")]
    upload: Option<String>,
    /// Stop taking new work at this local time (24-hour clock; tomorrow if already past).
    #[arg(long, value_name = "HH:MM", value_parser = parse_until)]
    until: Option<Instant>,
    /// ffmpeg's output options [default: "-vf scale=640:360 -c:v mpeg4 -q:v 5 -c:a copy"].
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    ffmpeg_args: Option<String>,
    /// The outputs' file extension (it picks ffmpeg's container).
    #[arg(long, value_name = "EXT", default_value = "avi")]
    output_ext: String,
    /// Say what would be done; change nothing.
    #[arg(long)]
    dry_run: bool,
}

/// The exit status after a third interrupt (128 + SIGINT, as a shell reports it).
const EXIT_INTERRUPTED: u8 = 130;

/// Writes a line on stderr, ignoring a closed stderr (where `eprintln!` would panic).
fn say(text: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            // --help and --version are not errors.
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(EXIT_USAGE as u8) } else { ExitCode::SUCCESS };
        }
    };
    let mut opts = Options::new(args.source);
    if let Some(p) = args.pattern {
        opts.pattern = p;
    }
    opts.exclude = args.exclude;
    opts.workers = args.workers;
    opts.upload = args.upload;
    opts.until = args.until;
    opts.ffmpeg_args = args.ffmpeg_args;
    opts.output_ext = args.output_ext;
    opts.dry_run = args.dry_run;
    opts.interrupt_hints = true;
    let job = match Transcode::new(opts) {
        Ok(j) => j,
        Err(e) => {
            say(format_args!("transcode: {e}"));
            return ExitCode::from(EXIT_USAGE as u8);
        }
    };
    let echo = ControlEcho::off();
    install_stop_signals(job.stop_handle());
    let summary = job.run();
    drop(echo);
    let mut out = std::io::stdout().lock();
    // A closed stdout must not turn a finished job into a panic.
    let _ = write!(out, "{summary}");
    let _ = out.flush();
    // Exit codes here are 0 and 1.
    ExitCode::from(u8::try_from(summary.exit_code()).unwrap_or(1))
}

// ---- Signal handling: on `apps::shutdown`'s helper, which cannot die (issue 17) ------------

/// SIGINT (and SIGTERM, SIGHUP): the first stops taking new work (`stop.stop()`), the second
/// aborts the running work (`stop.abort()`), a third exits at once with 130.
///
/// Nothing is written from here: the job itself shows each stop request, with what a further
/// interrupt does (`Options::interrupt_hints`), above its progress bars on a terminal. A line
/// written on the terminal from a signal handler would tear the bars and leave a stale frame
/// in the scrollback.
fn install_stop_signals(stop: StopHandle) {
    let handler = apps::shutdown::on_signals(move |n| match n {
        1 => stop.stop(),
        2 => stop.abort(),
        _ => {
            ControlEcho::restore();
            std::process::exit(i32::from(EXIT_INTERRUPTED))
        }
    });
    if let Err(e) = handler {
        say(format_args!("transcode: cannot handle Ctrl-C ({e}); it will end the job at once"));
    }
}

/// The terminal's echo of control characters (`stty -echoctl`), off while the job runs with
/// progress bars: the bars keep the cursor at the end of their last line, so the `^C` a
/// terminal echoes for Ctrl-C would start a new line under them, and their next redraw would
/// leave a stale frame in the scrollback. Restored when dropped (and by
/// [`restore`](Self::restore) before an exit at once).
struct ControlEcho;

/// The terminal settings to restore, if they were changed.
static SAVED_TERMIOS: std::sync::Mutex<Option<nix::sys::termios::Termios>> = std::sync::Mutex::new(None);

impl ControlEcho {
    /// Turns the echo off if stdin and stdout are a terminal (bars are drawn then).
    fn off() -> ControlEcho {
        use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
        use std::io::IsTerminal;
        let stdin = std::io::stdin();
        if !(stdin.is_terminal() && std::io::stdout().is_terminal()) {
            return ControlEcho;
        }
        if let Ok(saved) = tcgetattr(&stdin) {
            let mut quiet = saved.clone();
            quiet.local_flags.remove(LocalFlags::ECHOCTL);
            if tcsetattr(&stdin, SetArg::TCSANOW, &quiet).is_ok() {
                *SAVED_TERMIOS.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(saved);
            }
        }
        ControlEcho
    }

    /// Puts the terminal's settings back, if they were changed.
    fn restore() {
        let saved = SAVED_TERMIOS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(saved) = saved {
            // Nothing more to do if the terminal has gone.
            let _ = nix::sys::termios::tcsetattr(std::io::stdin(), nix::sys::termios::SetArg::TCSANOW, &saved);
        }
    }
}

impl Drop for ControlEcho {
    fn drop(&mut self) {
        ControlEcho::restore();
    }
}
