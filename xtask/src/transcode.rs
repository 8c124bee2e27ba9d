//! `cargo xtask transcode`: the arguments of the transcode-and-upload batch job. The job
//! itself is `apps::transcode`; here Ctrl-C becomes its stop requests.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use apps::transcode::{EXIT_USAGE, Options, Transcode, parse_until};
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
///
/// Distributed mode, on a Redis work queue: `cargo xtask transcode enqueue|work|status --help`.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask transcode", version, verbatim_doc_comment)]
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
    #[arg(long, value_name = "HH:MM")]
    until: Option<String>,
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

fn usage_error(text: impl std::fmt::Display) -> ExitCode {
    eprintln!("xtask transcode: {text}");
    ExitCode::from(EXIT_USAGE as u8)
}

pub(crate) fn main(args: &[String]) -> ExitCode {
    if let Some(code) = crate::transcode_distributed::dispatch(args) {
        return code;
    }
    let args =
        match Args::try_parse_from(std::iter::once("cargo xtask transcode").chain(args.iter().map(String::as_str))) {
            Ok(a) => a,
            Err(e) => {
                // --help and --version are not errors.
                let _ = e.print();
                return if e.use_stderr() { ExitCode::from(EXIT_USAGE as u8) } else { ExitCode::SUCCESS };
            }
        };
    let until = match args.until.as_deref().map(parse_until).transpose() {
        Ok(u) => u,
        Err(e) => return usage_error(e),
    };
    let mut opts = Options::new(args.source);
    if let Some(p) = args.pattern {
        opts.pattern = p;
    }
    opts.exclude = args.exclude;
    opts.workers = args.workers;
    opts.upload = args.upload;
    opts.until = until;
    opts.ffmpeg_args = args.ffmpeg_args;
    opts.output_ext = args.output_ext;
    opts.dry_run = args.dry_run;
    let job = match Transcode::new(opts) {
        Ok(j) => j,
        Err(e) => return usage_error(e),
    };

    // SIGINT (and SIGTERM, SIGHUP): the first stops taking new work, the second aborts the
    // running work, a third exits at once.
    let stop = job.stop_handle();
    let presses = AtomicUsize::new(0);
    let handler = ctrlc::set_handler(move || match presses.fetch_add(1, Ordering::SeqCst) {
        0 => {
            eprintln!("interrupted: running transcodes finish, no new ones start (interrupt again to abort them)");
            stop.stop();
        }
        1 => {
            eprintln!("interrupted again: aborting running transcodes and uploads (again to exit at once)");
            stop.abort();
        }
        _ => std::process::exit(130),
    });
    if let Err(e) = handler {
        eprintln!("xtask transcode: cannot handle Ctrl-C ({e}); it will end the job at once");
    }

    let summary = job.run();
    print!("{summary}");
    // Exit codes here are 0 and 1.
    ExitCode::from(u8::try_from(summary.exit_code()).unwrap_or(1))
}
