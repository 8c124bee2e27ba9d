//! `cargo xtask bench`: our system side by side with its peers on the workloads of
//! `shared/benchmarks.md`, each figure the median of several runs, written up as a report.
//!
//! Every run is a fresh child process (this binary re-executed with a hidden `__bench-child`
//! command, or a Python script for the original Axon) that prints one JSON object. So a
//! run's allocations never pollute the next run's resident-memory figure, and a run that
//! hangs is killed at a time limit instead of hanging the suite.

mod axon_py;
mod bulletin;
mod child;
mod logfile;
mod net_driver;
mod ours;
mod plan;
mod redis;
mod report;
mod threads_peer;
mod tokio_peer;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub(crate) use child::{CHILD, child_main};
use plan::{Size, System, Workload};

/// What one hackysack run reports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct HackysackRun {
    /// Seconds to create and activate every player.
    pub(crate) build_s: f64,
    /// Seconds from the first kick until every player has ended.
    pub(crate) run_s: f64,
    /// Kicks made.
    pub(crate) kicks: u64,
    /// Players that ended.
    pub(crate) exited: u64,
}

/// What one ring run reports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RingRun {
    /// Seconds from the token's injection until the whole ring has ended.
    pub(crate) run_s: f64,
    /// Hops the members counted.
    pub(crate) hops: u64,
}

/// What one pipeline run reports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PipelineRun {
    /// Seconds from start until the sink has everything.
    pub(crate) run_s: f64,
    /// Messages the sink received.
    pub(crate) received: u64,
    /// Whether they arrived in order, each exactly once.
    pub(crate) in_order: bool,
}

/// What one spawn run reports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SpawnRun {
    /// Seconds to create and activate every component and have each run to its first wait.
    pub(crate) total_s: f64,
    /// VmRSS after minus VmRSS before, in bytes.
    pub(crate) rss_delta_bytes: i64,
    /// Components that started.
    pub(crate) started: u64,
}

/// What one chat fan-out run reports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ChatRun {
    /// Seconds from the first line sent until the last client has every line.
    pub(crate) run_s: f64,
    /// Data lines received, over all clients.
    pub(crate) delivered: u64,
    /// Clients that received every line of every client, each sender's lines in order.
    pub(crate) complete_clients: u64,
    /// Median, over every line delivered, of the time from its sending to its arrival, in us.
    pub(crate) median_us: f64,
    /// The 99th percentile of the same.
    pub(crate) p99_us: f64,
    /// What went wrong first, if anything did (a closed connection, a line out of order).
    pub(crate) problem: Option<String>,
}

/// What one echo run reports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct EchoRun {
    /// Round trips made (after the warm-up).
    pub(crate) round_trips: u64,
    /// Round trips whose answer was exactly the message sent.
    pub(crate) correct: u64,
    /// Median round trip, in us.
    pub(crate) median_us: f64,
    /// The 99th percentile round trip, in us.
    pub(crate) p99_us: f64,
}

/// What one idle-cost run reports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct IdleRun {
    /// Connections open and served when the measured window started.
    pub(crate) connections: u64,
    /// Of those, connections still served after it (a line from one reached them all).
    pub(crate) alive_after: u64,
    /// CPU seconds (user + system) the whole process used during the window.
    pub(crate) cpu_s: f64,
    /// The window's length in seconds.
    pub(crate) window_s: f64,
}

/// What one log-follow run reports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct LogRun {
    /// Seconds from start until the last matching line is written.
    pub(crate) run_s: f64,
    /// The log's size in bytes.
    pub(crate) bytes: u64,
    /// Matching lines written.
    pub(crate) matched: u64,
    /// Matching lines as `grep -c` counts them.
    pub(crate) expected: u64,
}

/// A figure reported for a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Metric {
    /// Milliseconds to create and activate (hackysack).
    BuildMs,
    /// Milliseconds to run (hackysack).
    RunMs,
    /// Nanoseconds per kick (hackysack at N = 10, many turns).
    NsPerKick,
    /// Nanoseconds per hop (ring).
    NsPerHop,
    /// Messages per second end to end (pipeline).
    MsgsPerS,
    /// Microseconds to create and activate one component (spawn).
    UsPerComponent,
    /// Resident bytes per idle component (spawn).
    BytesPerComponent,
    /// Lines delivered per second, over all clients (chat).
    LinesPerS,
    /// Median latency in microseconds (chat: send to arrival; echo: round trip).
    MedianUs,
    /// 99th percentile latency in microseconds.
    P99Us,
    /// CPU milliseconds per 10 s of holding idle connections (idle).
    CpuMsPer10s,
    /// Megabytes (10^6 bytes) of log per second (log follow).
    MbPerS,
    /// Operations answered per second (bulletin).
    OpsPerS,
    /// Share of the run the database spent in SQLite, in percent (bulletin).
    DbBusyPct,
    /// Database requests per transaction committed (bulletin).
    RequestsPerCommit,
}

impl Metric {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Metric::BuildMs => "build + activate (ms)",
            Metric::RunMs => "run (ms)",
            Metric::NsPerKick => "ns per kick",
            Metric::NsPerHop => "ns per hop",
            Metric::MsgsPerS => "messages per second",
            Metric::UsPerComponent => "us per component",
            Metric::BytesPerComponent => "resident bytes per component",
            Metric::LinesPerS => "lines delivered per second",
            Metric::MedianUs => "median latency (us)",
            Metric::P99Us => "p99 latency (us)",
            Metric::CpuMsPer10s => "CPU ms per 10 s",
            Metric::MbPerS => "MB/s",
            Metric::OpsPerS => "operations per second",
            Metric::DbBusyPct => "database busy (% of the run)",
            Metric::RequestsPerCommit => "requests per commit",
        }
    }

    pub(crate) fn higher_is_better(self) -> bool {
        matches!(
            self,
            Metric::MsgsPerS | Metric::LinesPerS | Metric::MbPerS | Metric::OpsPerS | Metric::RequestsPerCommit
        )
    }
}

/// Median, min and max of a figure over the runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Stats {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) runs: Vec<f64>,
}

impl Stats {
    fn of(mut runs: Vec<f64>) -> Option<Stats> {
        if runs.is_empty() {
            return None;
        }
        let mut sorted = runs.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        runs.shrink_to_fit();
        Some(Stats { median, min: sorted[0], max: sorted[n - 1], runs })
    }
}

/// How a system fared on one case.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// Measured: each figure over the runs.
    Measured { figures: Vec<(Metric, Stats)> },
    /// Not run, with the reason.
    Skipped { reason: String },
    /// A run failed or a check did not hold.
    Failed { reason: String },
}

/// One system on one case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) system: System,
    /// The size this system ran at (it may be scaled down from the case's).
    pub(crate) size: Option<Size>,
    pub(crate) outcome: Outcome,
    /// Which invocation of the suite measured it (an index into the report's `runs`).
    #[serde(default)]
    pub(crate) run: usize,
}

/// One case with every system's entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct CaseResult {
    pub(crate) workload: Workload,
    pub(crate) size: Size,
    pub(crate) entries: Vec<Entry>,
}

/// Each figure's values so far, run by run.
type Samples = Vec<(Metric, Vec<f64>)>;

/// Run the benchmarks side by side with their peers (the original Axon in a venv, tokio,
/// threads with crossbeam) and write the report to `docs/benchmarks/<date>.md`.
#[derive(clap::Args, Debug, Default)]
pub(crate) struct Options {
    /// The arguments as given, for the report (filled in by `main`, not parsed).
    #[arg(skip)]
    pub(crate) args: Vec<String>,
    /// Every workload at a tiny size, one run each, results checked; Axon only if its venv
    /// exists already; results go to a temporary directory.
    #[arg(long)]
    quick: bool,
    /// Run only these workloads (hackysack, hackysack-kick, ring, pipeline, spawn, chat, echo,
    /// idle, log-follow) and/or systems (ours-1t, ours-2t, tokio-ct, tokio-mt, threads, axon,
    /// grep); their figures are merged into the day's report (replacing the same workload,
    /// size and system there), which a run without --only rewrites.
    #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',', value_parser = only_name)]
    only: Vec<String>,
    /// Runs per figure [default: 5; 1 with --quick].
    #[arg(long, value_name = "N")]
    runs: Option<usize>,
    /// Where the report goes [default: docs/benchmarks, or a temporary directory].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// `--only`'s values: a workload or a system.
fn only_name(name: &str) -> Result<String, String> {
    if Workload::from_name(name).is_none() && System::from_id(name).is_none() {
        return Err(format!("no workload or system named {name:?}"));
    }
    Ok(name.to_string())
}

/// The workspace root (xtask lives one level below it).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// `cargo xtask bench ...`.
pub(crate) fn main(opts: Options) -> ExitCode {
    // Timings from a debug build mean nothing: a full run rebuilds this tool optimised and
    // runs that. The quick mode only checks that every workload works, so it runs as built.
    if cfg!(debug_assertions) && !opts.quick {
        eprintln!("xtask bench: re-running as an optimised build (cargo run --release -p xtask)");
        let status = Command::new(crate::cargo())
            .args(["run", "--release", "--quiet", "--package", "xtask", "--", "bench"])
            .args(&opts.args)
            .status();
        return match status {
            Ok(s) if s.success() => ExitCode::SUCCESS,
            Ok(_) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("xtask bench: could not run cargo: {e}");
                ExitCode::FAILURE
            }
        };
    }
    run_suite(&opts)
}

fn run_suite(opts: &Options) -> ExitCode {
    let started = Instant::now();
    let runs = opts.runs.unwrap_or(if opts.quick { 1 } else { 5 }).max(1);
    let wanted_workload = |w: Workload| {
        !opts.only.iter().any(|n| Workload::from_name(n).is_some()) || opts.only.iter().any(|n| *n == w.name())
    };
    let wanted_system =
        |s: System| !opts.only.iter().any(|n| System::from_id(n).is_some()) || opts.only.iter().any(|n| *n == s.id());
    let cases: Vec<plan::Case> = plan::cases(opts.quick).into_iter().filter(|c| wanted_workload(c.workload)).collect();
    let axon_wanted = wanted_system(System::Axon) && cases.iter().any(|c| c.workload.systems().contains(&System::Axon));
    let axon = if axon_wanted { axon_py::prepare(opts.quick) } else { Err("not selected".into()) };
    if let Err(why) = &axon {
        eprintln!("xtask bench: Axon peer skipped: {why}");
    }
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("xtask bench: cannot find this executable to re-run it: {e}");
            return ExitCode::FAILURE;
        }
    };
    let timeout = if opts.quick { Duration::from_secs(60) } else { Duration::from_secs(300) };
    let load_at_start = report::load_average();
    let mut results = Vec::new();
    let mut failures = 0;
    let mut logs = Vec::new();
    for case in cases {
        // The log-follow workload's file, made once for every system's runs.
        let data = match case.size {
            Size::LogFollow { bytes } => {
                let made = logfile::ensure(bytes);
                match &made {
                    Ok(path) => logs.push(path.clone()),
                    Err(e) => {
                        failures += 1;
                        eprintln!("xtask bench: {}: FAILED: {e}", case.workload.name());
                    }
                }
                made.map(drop)
            }
            _ => Ok(()),
        };
        // Each system's size, or why it does not run.
        let mut systems: Vec<(System, Result<Size, String>)> = Vec::new();
        for &system in case.workload.systems() {
            if !wanted_system(system) {
                continue;
            }
            let size = match (system, &axon, &data) {
                (_, _, Err(why)) => case.size_for(system).and(Err(why.clone())),
                (System::Axon, Err(why), _) => case.size_for(system).and(Err(why.clone())),
                _ => case.size_for(system),
            };
            systems.push((system, size));
        }
        // Runs go round the systems (run 1 of each, then run 2 of each ...), so a noisy spell
        // on this shared machine is spread over every system rather than landing on one.
        let mut progress: Vec<Result<Samples, String>> = systems.iter().map(|_| Ok(Vec::new())).collect();
        for run in 1..=runs {
            for ((system, size), state) in systems.iter().zip(progress.iter_mut()) {
                let (Ok(size), Ok(figures)) = (size, state.as_mut()) else {
                    continue;
                };
                let command = match (system, &axon) {
                    (System::Axon, Ok(python)) => axon_py::command(python, case.workload, *size),
                    _ => child::command(&exe, case.workload, *system, *size),
                };
                match run_json(command, timeout).and_then(|v| check(case.workload, *size, v)) {
                    Ok(got) => {
                        let shown: Vec<String> =
                            got.iter().map(|(m, v)| format!("{} {}", report::number(*v), m.label())).collect();
                        eprintln!(
                            "  {} {} [{size}] run {run}/{runs}: {}",
                            case.workload.name(),
                            system.id(),
                            shown.join(", ")
                        );
                        for (m, v) in got {
                            match figures.iter_mut().find(|(fm, _)| *fm == m) {
                                Some((_, vs)) => vs.push(v),
                                None => figures.push((m, vec![v])),
                            }
                        }
                    }
                    Err(reason) => {
                        failures += 1;
                        eprintln!(
                            "xtask bench: {} {} [{size}]: FAILED: run {run}: {reason}",
                            case.workload.name(),
                            system.id()
                        );
                        *state = Err(format!("run {run}: {reason}"));
                    }
                }
            }
        }
        let entries = systems
            .into_iter()
            .zip(progress)
            .map(|((system, size), state)| match (size, state) {
                (Err(reason), _) => {
                    Entry { system, size: case.size_for(system).ok(), outcome: Outcome::Skipped { reason }, run: 0 }
                }
                (Ok(size), Err(reason)) => {
                    Entry { system, size: Some(size), outcome: Outcome::Failed { reason }, run: 0 }
                }
                (Ok(size), Ok(figures)) => Entry {
                    system,
                    size: Some(size),
                    outcome: Outcome::Measured {
                        figures: figures.into_iter().filter_map(|(m, vs)| Stats::of(vs).map(|st| (m, st))).collect(),
                    },
                    run: 0,
                },
            })
            .collect();
        results.push(CaseResult { workload: case.workload, size: case.size, entries });
    }
    // The generated logs are large (256 MB in full mode) and quick to make again.
    for path in logs {
        let _ = std::fs::remove_file(path);
    }
    let elapsed = started.elapsed();
    let out_dir = opts.out.clone().unwrap_or_else(|| {
        if opts.quick {
            std::env::temp_dir().join("kamaelia-bench-quick")
        } else {
            workspace_root().join("docs").join("benchmarks")
        }
    });
    let command =
        std::iter::once("cargo xtask bench").chain(opts.args.iter().map(String::as_str)).collect::<Vec<_>>().join(" ");
    let meta = report::Meta::gather(command, opts.quick, runs, elapsed, load_at_start, &axon);
    let stem = meta.date.clone();
    // A run of some workloads (--only) adds its figures to the day's report; a run of all of
    // them writes the report afresh.
    let report = if opts.only.is_empty() {
        report::Report::new(meta, results)
    } else {
        match report::Report::read(&out_dir, &stem) {
            Ok(Some(earlier)) if earlier.mode() == meta.mode() => earlier.merge(meta, results),
            Ok(_) => report::Report::new(meta, results),
            Err(e) => {
                eprintln!("xtask bench: cannot add to the report in {}: {e}", out_dir.display());
                return ExitCode::FAILURE;
            }
        }
    };
    match report::write(&out_dir, &stem, &report) {
        Ok((md, json)) => eprintln!("xtask bench: wrote {} and {}", md.display(), json.display()),
        Err(e) => {
            eprintln!("xtask bench: could not write the report to {}: {e}", out_dir.display());
            return ExitCode::FAILURE;
        }
    }
    eprintln!(
        "xtask bench: {} in {:.1} s",
        if failures == 0 { "all checks passed" } else { "CHECKS FAILED" },
        elapsed.as_secs_f64()
    );
    if failures == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Checks a run's result and turns it into figures.
fn check(workload: Workload, size: Size, value: serde_json::Value) -> Result<Vec<(Metric, f64)>, String> {
    let parse_err = |e: serde_json::Error| format!("unexpected result ({e})");
    match (workload, size) {
        (Workload::Hackysack | Workload::HackysackKick, Size::Hackysack { players, turns }) => {
            let r: HackysackRun = serde_json::from_value(value).map_err(parse_err)?;
            if r.kicks != turns {
                return Err(format!("{} kicks, expected {turns}", r.kicks));
            }
            if r.exited != players as u64 {
                return Err(format!("{} of {players} players exited", r.exited));
            }
            Ok(if workload == Workload::Hackysack {
                vec![(Metric::BuildMs, r.build_s * 1e3), (Metric::RunMs, r.run_s * 1e3)]
            } else {
                vec![(Metric::NsPerKick, r.run_s * 1e9 / turns as f64)]
            })
        }
        (Workload::Ring, Size::Ring { hops, .. }) => {
            let r: RingRun = serde_json::from_value(value).map_err(parse_err)?;
            if r.hops != hops {
                return Err(format!("the token made {} hops, expected {hops}", r.hops));
            }
            Ok(vec![(Metric::NsPerHop, r.run_s * 1e9 / hops as f64)])
        }
        (Workload::Pipeline, Size::Pipeline { messages, .. }) => {
            let r: PipelineRun = serde_json::from_value(value).map_err(parse_err)?;
            if r.received != messages || !r.in_order {
                return Err(format!(
                    "the sink got {} of {messages} messages{}",
                    r.received,
                    if r.in_order { "" } else { ", out of order" }
                ));
            }
            Ok(vec![(Metric::MsgsPerS, messages as f64 / r.run_s)])
        }
        (Workload::Spawn, Size::Spawn { components }) => {
            let r: SpawnRun = serde_json::from_value(value).map_err(parse_err)?;
            if r.started != components as u64 {
                return Err(format!("{} of {components} components started", r.started));
            }
            Ok(vec![
                (Metric::UsPerComponent, r.total_s * 1e6 / components as f64),
                (Metric::BytesPerComponent, r.rss_delta_bytes as f64 / components as f64),
            ])
        }
        (Workload::Chat, Size::Chat { clients, lines }) => {
            let r: ChatRun = serde_json::from_value(value).map_err(parse_err)?;
            let expected = (clients * clients) as u64 * lines;
            if r.delivered != expected || r.complete_clients != clients as u64 {
                return Err(format!(
                    "{} of {expected} lines delivered; {} of {clients} clients got every line in order{}",
                    r.delivered,
                    r.complete_clients,
                    r.problem.map(|p| format!(" ({p})")).unwrap_or_default()
                ));
            }
            Ok(vec![
                (Metric::LinesPerS, expected as f64 / r.run_s),
                (Metric::MedianUs, r.median_us),
                (Metric::P99Us, r.p99_us),
            ])
        }
        (Workload::Echo, Size::Echo { round_trips, .. }) => {
            let r: EchoRun = serde_json::from_value(value).map_err(parse_err)?;
            if r.round_trips != round_trips || r.correct != round_trips {
                return Err(format!(
                    "{} round trips of {round_trips}, {} answered with the message sent",
                    r.round_trips, r.correct
                ));
            }
            Ok(vec![(Metric::MedianUs, r.median_us), (Metric::P99Us, r.p99_us)])
        }
        (Workload::Idle, Size::Idle { connections, .. }) => {
            let r: IdleRun = serde_json::from_value(value).map_err(parse_err)?;
            if r.connections != connections as u64 || r.alive_after != connections as u64 {
                return Err(format!(
                    "{} of {connections} connections served before the window, {} after it",
                    r.connections, r.alive_after
                ));
            }
            if r.window_s <= 0.0 {
                return Err("an empty measuring window".into());
            }
            Ok(vec![(Metric::CpuMsPer10s, r.cpu_s * 1e3 * 10.0 / r.window_s)])
        }
        (Workload::LogFollow, Size::LogFollow { .. }) => {
            let r: LogRun = serde_json::from_value(value).map_err(parse_err)?;
            if r.matched != r.expected {
                return Err(format!("{} matching lines written, grep -c counts {}", r.matched, r.expected));
            }
            if r.expected == 0 {
                return Err("no line of the log matches: the check proves nothing".into());
            }
            Ok(vec![(Metric::MbPerS, r.bytes as f64 / 1e6 / r.run_s)])
        }
        (Workload::RedisBackplane, size) => redis::check(size, value),
        (Workload::Bulletin, size) => bulletin::check(size, value),
        (w, s) => Err(format!("internal error: workload {} with size {s}", w.name())),
    }
}

/// Runs a command that prints one JSON object as its last line of output, killing it after
/// `timeout`.
fn run_json(mut cmd: Command, timeout: Duration) -> Result<serde_json::Value, String> {
    let what = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {what}: {e}"))?;
    // Drain both pipes on their own threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what} did not finish within {} s and was killed", timeout.as_secs()));
            }
            Err(e) => return Err(format!("waiting for {what}: {e}")),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(format!("{what} failed ({status}): {}", tail.join(" | ")));
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or_else(|| format!("{what} printed no result (stderr: {})", stderr.lines().last().unwrap_or("")))?;
    serde_json::from_str(line).map_err(|e| format!("{what} printed an unreadable result {line:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hackysack_checks_kicks_and_exits() {
        let size = Size::Hackysack { players: 10, turns: 100 };
        let good = json!({"build_s": 0.001, "run_s": 0.002, "kicks": 100, "exited": 10});
        let figures = check(Workload::Hackysack, size, good).unwrap();
        assert_eq!(figures, [(Metric::BuildMs, 1.0), (Metric::RunMs, 2.0)]);
        let short = json!({"build_s": 0.001, "run_s": 0.002, "kicks": 99, "exited": 10});
        assert!(check(Workload::Hackysack, size, short).unwrap_err().contains("99 kicks"));
        let stuck = json!({"build_s": 0.001, "run_s": 0.002, "kicks": 100, "exited": 9});
        assert!(check(Workload::HackysackKick, size, stuck).unwrap_err().contains("9 of 10"));
    }

    #[test]
    fn ring_checks_the_hop_count() {
        let size = Size::Ring { members: 503, hops: 1000 };
        let figures = check(Workload::Ring, size, json!({"run_s": 0.001, "hops": 1000})).unwrap();
        assert_eq!(figures, [(Metric::NsPerHop, 1000.0)]);
        assert!(check(Workload::Ring, size, json!({"run_s": 0.001, "hops": 999})).is_err());
    }

    #[test]
    fn pipeline_checks_count_and_order() {
        let size = Size::Pipeline { stages: 10, messages: 1000 };
        let ok = json!({"run_s": 0.5, "received": 1000, "in_order": true});
        assert_eq!(check(Workload::Pipeline, size, ok).unwrap(), [(Metric::MsgsPerS, 2000.0)]);
        let jumbled = json!({"run_s": 0.5, "received": 1000, "in_order": false});
        assert!(check(Workload::Pipeline, size, jumbled).unwrap_err().contains("out of order"));
        let lost = json!({"run_s": 0.5, "received": 999, "in_order": true});
        assert!(check(Workload::Pipeline, size, lost).is_err());
    }

    #[test]
    fn spawn_checks_every_component_started() {
        let size = Size::Spawn { components: 1000 };
        let ok = json!({"total_s": 0.001, "rss_delta_bytes": 500_000, "started": 1000});
        assert_eq!(
            check(Workload::Spawn, size, ok).unwrap(),
            [(Metric::UsPerComponent, 1.0), (Metric::BytesPerComponent, 500.0)]
        );
        let short = json!({"total_s": 0.001, "rss_delta_bytes": 500_000, "started": 999});
        assert!(check(Workload::Spawn, size, short).is_err());
    }

    #[test]
    fn chat_checks_every_line_reached_every_client() {
        let size = Size::Chat { clients: 2, lines: 10 };
        let ok = json!({"run_s": 0.5, "delivered": 40, "complete_clients": 2, "median_us": 10.0, "p99_us": 20.0,
                        "problem": null});
        assert_eq!(
            check(Workload::Chat, size, ok).unwrap(),
            [(Metric::LinesPerS, 80.0), (Metric::MedianUs, 10.0), (Metric::P99Us, 20.0)]
        );
        let lost = json!({"run_s": 0.5, "delivered": 39, "complete_clients": 1, "median_us": 10.0, "p99_us": 20.0,
                          "problem": "client 1: closed"});
        assert!(check(Workload::Chat, size, lost).unwrap_err().contains("client 1: closed"));
        let jumbled = json!({"run_s": 0.5, "delivered": 40, "complete_clients": 1, "median_us": 1.0, "p99_us": 2.0,
                             "problem": null});
        assert!(check(Workload::Chat, size, jumbled).is_err());
    }

    #[test]
    fn echo_idle_and_log_follow_are_checked() {
        let size = Size::Echo { round_trips: 100, message_bytes: 32 };
        let ok = json!({"round_trips": 100, "correct": 100, "median_us": 20.0, "p99_us": 40.0});
        assert_eq!(check(Workload::Echo, size, ok).unwrap(), [(Metric::MedianUs, 20.0), (Metric::P99Us, 40.0)]);
        let garbled = json!({"round_trips": 100, "correct": 99, "median_us": 20.0, "p99_us": 40.0});
        assert!(check(Workload::Echo, size, garbled).is_err());

        let size = Size::Idle { connections: 50, millis: 500 };
        let ok = json!({"connections": 50, "alive_after": 50, "cpu_s": 0.001, "window_s": 0.5});
        assert_eq!(check(Workload::Idle, size, ok).unwrap(), [(Metric::CpuMsPer10s, 20.0)]);
        let dropped = json!({"connections": 50, "alive_after": 49, "cpu_s": 0.0, "window_s": 0.5});
        assert!(check(Workload::Idle, size, dropped).is_err());

        let size = Size::LogFollow { bytes: 2_000_000 };
        let ok = json!({"run_s": 0.5, "bytes": 2_000_000, "matched": 7, "expected": 7});
        assert_eq!(check(Workload::LogFollow, size, ok).unwrap(), [(Metric::MbPerS, 4.0)]);
        let short = json!({"run_s": 0.5, "bytes": 2_000_000, "matched": 6, "expected": 7});
        assert!(check(Workload::LogFollow, size, short).unwrap_err().contains("grep -c"));
    }

    #[test]
    fn a_result_that_is_not_json_is_an_error() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo not json"]);
        assert!(run_json(cmd, Duration::from_secs(10)).is_err());
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo '{\"a\": 1}'"]);
        assert_eq!(run_json(cmd, Duration::from_secs(10)).unwrap(), json!({"a": 1}));
    }

    #[test]
    fn a_run_past_its_time_limit_is_killed() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let err = run_json(cmd, Duration::from_millis(100)).unwrap_err();
        assert!(err.contains("killed"), "{err}");
    }

    #[test]
    fn stats_are_median_min_max() {
        let s = Stats::of(vec![3.0, 1.0, 2.0, 5.0, 4.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (3.0, 1.0, 5.0));
        assert_eq!(Stats::of(vec![1.0, 2.0]).unwrap().median, 1.5);
        assert!(Stats::of(vec![]).is_none());
    }
}
