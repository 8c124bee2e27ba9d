//! The report: the machine and versions, every figure (median, min, max), how far ours leads
//! or trails each peer, the targets of `shared/benchmarks.md` met or missed; as Markdown and
//! the same figures as JSON.
//!
//! A day's report may gather the figures of several invocations: a run of some workloads
//! (`--only`) adds its figures to the day's report, replacing those of the same workload, size
//! and system, and the report lists each invocation (its command, load, commit) and which
//! figures came from it. A run of every workload writes the report afresh.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::plan::{System, Workload, grouped};
use super::{CaseResult, Metric, Outcome, axon_py, workspace_root};

fn default_command() -> String {
    "cargo xtask bench".into()
}

/// Where and with what the suite ran.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub(crate) date: String,
    /// The command line (reports written before it was recorded: a plain full run).
    #[serde(default = "default_command")]
    command: String,
    mode: String,
    runs_per_figure: usize,
    elapsed_s: f64,
    cpu_model: String,
    logical_cores: usize,
    memory: String,
    kernel: String,
    load_average_at_start: String,
    load_average_at_end: String,
    rustc: String,
    commit: String,
    tokio: String,
    crossbeam_channel: String,
    axon: String,
}

fn first_line(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok().filter(|o| o.status.success())?;
    String::from_utf8_lossy(&out.stdout).lines().next().map(|l| l.trim().to_string())
}

fn proc_field(file: &str, key: &str) -> Option<String> {
    std::fs::read_to_string(file)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(key).map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string()))
}

/// A crate's version as Cargo.lock has it.
fn locked_version(krate: &str) -> String {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap_or_default();
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l == format!("name = \"{krate}\"") {
            if let Some(v) = lines.next().and_then(|v| v.strip_prefix("version = ")) {
                return v.trim_matches('"').to_string();
            }
        }
    }
    "unknown".into()
}

/// Days since 1970-01-01 to a civil (year, month, day), after Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn today_utc() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

impl Meta {
    pub(crate) fn gather(
        command: String,
        quick: bool,
        runs: usize,
        elapsed: Duration,
        load_average_at_start: String,
        axon: &Result<PathBuf, String>,
    ) -> Meta {
        let root = workspace_root();
        let commit = first_line(Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).current_dir(&root))
            .unwrap_or_else(|| "unknown".into());
        let dirty = Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=no"])
            .current_dir(&root)
            .output()
            .is_ok_and(|o| !o.stdout.is_empty());
        Meta {
            date: today_utc(),
            command,
            mode: if quick { "quick" } else { "full" }.into(),
            runs_per_figure: runs,
            elapsed_s: elapsed.as_secs_f64(),
            cpu_model: proc_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into()),
            logical_cores: std::fs::read_to_string("/proc/cpuinfo")
                .map(|s| s.lines().filter(|l| l.starts_with("processor")).count())
                .unwrap_or(0),
            memory: proc_field("/proc/meminfo", "MemTotal").unwrap_or_else(|| "unknown".into()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or("unknown".into(), |s| s.trim().into()),
            load_average_at_start,
            load_average_at_end: load_average(),
            rustc: first_line(Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())).arg("-V"))
                .unwrap_or_else(|| "unknown".into()),
            commit: if dirty { format!("{commit} (with uncommitted changes)") } else { commit },
            tokio: locked_version("tokio"),
            crossbeam_channel: locked_version("crossbeam-channel"),
            axon: match axon {
                Ok(python) => axon_py::describe(python),
                Err(why) => format!("skipped: {why}"),
            },
        }
    }

    /// `quick` or `full`.
    pub(crate) fn mode(&self) -> &str {
        &self.mode
    }
}

/// A day's report: the invocations whose figures it holds, and the figures.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Report {
    /// Each invocation of the suite with figures here, oldest first; each entry of `results`
    /// names its invocation by index.
    runs: Vec<Meta>,
    results: Vec<CaseResult>,
}

/// A report as stored: `runs`, or (written before reports could gather several
/// invocations) a single `meta`.
#[derive(Deserialize)]
struct Stored {
    #[serde(default)]
    runs: Vec<Meta>,
    meta: Option<Meta>,
    results: Vec<CaseResult>,
}

impl Report {
    /// The report of one invocation.
    pub(crate) fn new(meta: Meta, mut results: Vec<CaseResult>) -> Report {
        for e in results.iter_mut().flat_map(|c| c.entries.iter_mut()) {
            e.run = 0;
        }
        Report { runs: vec![meta], results }
    }

    /// The report `<stem>.json` in `dir`, if there is one.
    pub(crate) fn read(dir: &Path, stem: &str) -> Result<Option<Report>, String> {
        let path = dir.join(format!("{stem}.json"));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let stored: Stored = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut runs = stored.runs;
        if runs.is_empty() {
            runs.extend(stored.meta);
        }
        if runs.is_empty() || stored.results.iter().flat_map(|c| &c.entries).any(|e| e.run >= runs.len()) {
            return Err(format!("{}: its figures name invocations it does not list", path.display()));
        }
        Ok(Some(Report { runs, results: stored.results }))
    }

    /// `quick` or `full`: the mode of the latest invocation.
    pub(crate) fn mode(&self) -> &str {
        self.runs.last().map_or("full", |m| m.mode())
    }

    /// This report with the figures of one more invocation: each of its entries replaces the
    /// entry of the same workload, size and system, or is added. Invocations left with no
    /// figure are dropped.
    pub(crate) fn merge(mut self, meta: Meta, results: Vec<CaseResult>) -> Report {
        let run = self.runs.len();
        self.runs.push(meta);
        for mut case in results {
            for e in &mut case.entries {
                e.run = run;
            }
            match self.results.iter_mut().find(|c| c.workload == case.workload && c.size == case.size) {
                Some(old) => {
                    for e in case.entries {
                        match old.entries.iter_mut().find(|o| o.system == e.system) {
                            Some(o) => *o = e,
                            None => old.entries.push(e),
                        }
                    }
                    let order = |s: System| case.workload.systems().iter().position(|x| *x == s);
                    old.entries.sort_by_key(|e| order(e.system));
                }
                None => self.results.push(case),
            }
        }
        // Workloads in the suite's order; sizes within one in the order they were added.
        self.results.sort_by_key(|c| Workload::ALL.iter().position(|w| *w == c.workload));
        // Renumber the invocations that still have figures.
        let used: Vec<usize> = (0..self.runs.len())
            .filter(|i| self.results.iter().flat_map(|c| &c.entries).any(|e| e.run == *i))
            .collect();
        for e in self.results.iter_mut().flat_map(|c| c.entries.iter_mut()) {
            e.run = used.iter().position(|i| *i == e.run).expect("a figure's invocation is kept");
        }
        let mut i = 0;
        self.runs.retain(|_| {
            i += 1;
            used.contains(&(i - 1))
        });
        self
    }
}

/// The 1, 5 and 15 minute load averages, from /proc/loadavg.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map_or("unknown".into(), |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

/// A figure with three significant digits (more for large numbers), spaces between thousands.
pub(crate) fn number(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        return v.to_string();
    }
    if a >= 10_000.0 {
        let s = grouped(a.round() as u64);
        return if v < 0.0 { format!("-{s}") } else { s };
    }
    if a == 0.0 {
        return "0".into();
    }
    let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
    format!("{v:.decimals$}")
}

fn ratio(v: f64) -> String {
    format!("{}×", number(v))
}

/// How many times better `ours` is than `peer` on `metric` (> 1: ours leads).
fn advantage(metric: Metric, ours: f64, peer: f64) -> f64 {
    if metric.higher_is_better() { ours / peer } else { peer / ours }
}

fn median(case: &CaseResult, system: System, metric: Metric) -> Option<f64> {
    case.entries.iter().find(|e| e.system == system).and_then(|e| match &e.outcome {
        Outcome::Measured { figures } => figures.iter().find(|(m, _)| *m == metric).map(|(_, s)| s.median),
        _ => None,
    })
}

/// A target of `shared/benchmarks.md` and whether this run met it.
#[derive(Debug, Serialize)]
struct Target {
    target: &'static str,
    measured: String,
    /// `met`, `missed`, or `not measured`.
    verdict: &'static str,
}

fn targets(results: &[CaseResult]) -> Vec<Target> {
    let find = |w: Workload| results.iter().find(|c| c.workload == w);
    let get = |w: Workload, s: System, m: Metric| find(w).and_then(|c| median(c, s, m));
    let mut out = Vec::new();
    let mut push = |target, measured: Option<(String, bool)>| {
        let (measured, verdict) = match measured {
            Some((m, ok)) => (m, if ok { "met" } else { "missed" }),
            None => ("not measured".into(), "not measured"),
        };
        out.push(Target { target, measured, verdict });
    };
    let kick = |s| get(Workload::HackysackKick, s, Metric::NsPerKick);
    push(
        "hackysack per kick <= 0.1 us (ours, single-thread)",
        kick(System::Ours1).map(|v| {
            (format!("{} ns (2 threads: {})", number(v), kick(System::Ours2).map_or("-".into(), number)), v <= 100.0)
        }),
    );
    push(
        "hackysack per kick beats tokio current-thread",
        kick(System::Ours1).zip(kick(System::TokioCt)).map(|(o, t)| {
            (format!("{} ns vs {} ns: {}", number(o), number(t), ratio(advantage(Metric::NsPerKick, o, t))), o < t)
        }),
    );
    push(
        "hackysack per kick >= 100x Axon",
        kick(System::Ours1).zip(kick(System::Axon)).map(|(o, a)| {
            let r = advantage(Metric::NsPerKick, o, a);
            (format!("{} ns vs {} ns: {}", number(o), number(a), ratio(r)), r >= 100.0)
        }),
    );
    let hop = |s| get(Workload::Ring, s, Metric::NsPerHop);
    push(
        "ring <= 100 ns per hop, single-thread scheduler",
        hop(System::Ours1).map(|v| {
            (format!("{} ns (2 threads: {})", number(v), hop(System::Ours2).map_or("-".into(), number)), v <= 100.0)
        }),
    );
    let tput = |s| get(Workload::Pipeline, s, Metric::MsgsPerS);
    for (target, peer, need) in [
        ("pipeline >= 2x tokio current-thread", System::TokioCt, 2.0),
        ("pipeline >= 5x threads + crossbeam", System::Threads, 5.0),
    ] {
        push(
            target,
            tput(System::Ours1).zip(tput(peer)).map(|(o, p)| {
                let r = o / p;
                let two = tput(System::Ours2).map_or("-".into(), |t| ratio(t / p));
                (format!("single-thread {} (2 threads: {two})", ratio(r)), r >= need)
            }),
        );
    }
    let spawn = |s, m| get(Workload::Spawn, s, m);
    push(
        "memory per idle component (4 boxes) <= 400 B",
        spawn(System::Ours1, Metric::BytesPerComponent).map(|v| (format!("{} B", number(v)), v <= 400.0)),
    );
    push(
        "create + activate <= 0.3 us per component",
        spawn(System::Ours1, Metric::UsPerComponent).map(|v| {
            let two = spawn(System::Ours2, Metric::UsPerComponent).map_or("-".into(), number);
            (format!("{} us (2 threads: {two} us)", number(v)), v <= 0.3)
        }),
    );
    let chat = |s| get(Workload::Chat, s, Metric::LinesPerS);
    let best_tokio = [System::TokioCt, System::TokioMt]
        .into_iter()
        .filter_map(|s| chat(s).map(|v| (s, v)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    push(
        "chat fan-out >= the tokio chat peer (lines delivered per second), no lost line",
        chat(System::Ours1).zip(best_tokio).map(|(o, (s, t))| {
            (
                format!(
                    "{} vs {} ({}): {}; every line reached every client in every run",
                    number(o),
                    number(t),
                    s.id(),
                    ratio(o / t)
                ),
                o >= t,
            )
        }),
    );
    let idle = |s| get(Workload::Idle, s, Metric::CpuMsPer10s);
    let size = find(Workload::Idle).map_or(String::new(), |c| format!(" ({})", c.size));
    push(
        "idle cost < 0.01 CPU-seconds per 10 s (chat server, 1 000 idle connections)",
        idle(System::Ours1).map(|v| {
            let peers: Vec<String> = [System::TokioCt, System::TokioMt]
                .into_iter()
                .filter_map(|s| idle(s).map(|p| format!("{} {} ms", s.id(), number(p))))
                .collect();
            let peers = if peers.is_empty() { String::new() } else { format!("; {}", peers.join(", ")) };
            (format!("{} CPU-ms per 10 s{size}{peers}", number(v)), v < 10.0)
        }),
    );
    let follow = |s| get(Workload::LogFollow, s, Metric::MbPerS);
    push(
        "log follow >= 1/3 of grep's MB/s on the same file",
        follow(System::Ours1).zip(follow(System::Grep)).map(|(o, g)| {
            let two = follow(System::Ours2).map_or("-".into(), |t| format!("{} MB/s, {}", number(t), ratio(t / g)));
            (
                format!("{} MB/s vs grep {} MB/s: {} (2 threads: {two})", number(o), number(g), ratio(o / g)),
                o * 3.0 >= g,
            )
        }),
    );
    if find(Workload::Chat).is_some() {
        out.push(Target {
            target: "chat: bounded memory with one stalled client",
            measured: "not a benchmark figure: apps/tests/chat_server.rs checks it (a client that never \
                       reads while 24 MB go through the chat)"
                .into(),
            verdict: "not measured",
        });
    }
    out
}

const HOW_WRITTEN: &[(&str, &str)] = &[
    (
        "ours (ours-1t, ours-2t)",
        "Written as a Kamaelia user writes it, through the public API only: components built with \
         `ComponentBuilder` and the four standard boxes, each keeping the shutdown contract on a \
         `ControlWatch` or the `Driver`. Hackysack: each player (`watch.next(&inbox)`) delivers \
         straight into the chosen player's inbox through an `InboxRef` (the original's \
         `inboxes['inbox'].append`, no linkages), a shared turn counter, `rand::rng()`. Ring: \
         `Pipeline::builder().circular(true)` of 503 members, each `watch.next(&inbox)` then \
         `watch.send(&outbox, token - 1)`; at 0 a member sends ProducerFinished on `signal` and \
         every member passes it on and ends. Pipeline: `Pipeline::new([DataSource::new(0..n), 10 x \
         PureTransformer::new(|n| Some(n)), sink])`, unbounded boxes, the sink on the `Driver`; \
         DataSource sends one item per scheduler turn, as Kamaelia's does. Spawn: idle components \
         that wait on `inbox`/`control` with `watch.next(&inbox)`. Run on `Scheduler::new()` \
         (ours-1t) and `Scheduler::builder().threads(2).build()` (ours-2t). Chat, echo and idle run \
         the real servers (`apps::chat::ChatServer`; a `ServerCore` of `PassThrough`s) on \
         `kamaelia_net::scheduler()`, the single-thread scheduler whose idle wait is the selector, \
         in the background; log follow is the logwatch pipeline on either scheduler.",
    ),
    (
        "tokio (tokio-ct, tokio-mt)",
        "One task per actor or stage (`tokio::spawn`), `tokio::sync::mpsc` channels: bounded \
         (capacity 1024) for the ring and the pipeline, unbounded mailboxes for hackysack; shutdown \
         by dropping senders (`recv()` returns `None`), results through `JoinHandle`s. An idle task \
         `select!`s over a data and a control receiver; the harness keeps both senders. \
         `Builder::new_current_thread()` and `new_multi_thread().worker_threads(2)`. The chat \
         server follows tokio's `examples/chat.rs`: a `tokio::sync::Mutex<HashMap<SocketAddr, \
         UnboundedSender>>` of peers; each connection's task `select!`s between \
         `BufReader::lines().next_line()` (a line from its client, broadcast to every peer, the \
         sender included as ours does) and its queue (written with `write_all`, with whatever else \
         is queued gathered into the same write, up to 64 KiB; the example writes line by line); \
         lines are `Arc<str>` shared by the queues, as our backplane shares them. Unbounded queues, \
         as in the example: unlike ours, a client that stops reading grows the server's memory. \
         The echo server is `examples/echo.rs`. Both set TCP_NODELAY, as ServerCore does.",
    ),
    (
        "threads",
        "One `std::thread` per actor or stage, crossbeam-channel: bounded (1024) for ring and \
         pipeline, unbounded for hackysack, shutdown by dropping senders, results through \
         `JoinHandle`s. An idle thread blocks in `select!` over a data and a control receiver.",
    ),
    (
        "axon",
        "The original Axon and Kamaelia from PyPI in a venv, scripts in `xtask/bench/python/`, one \
         fresh interpreter per run. Components subclass `Axon.Component.component` with \
         generator `main`s (dataReady/recv/send/pause/yield); ring is \
         `Pipeline(*members, circular=True)`, pipeline is `Pipeline(Source, 10 x \
         PureTransformer(lambda x: x), sink)` (the source counts rather than use DataSource, \
         whose `pop(0)` is quadratic), hackysack is the Kamaelia variant of reference §6 \
         (players append straight into each other's inboxes). The scheduler is driven \
         as `for _ in scheduler.run.main(canblock=False): pass` (not `runThreads()`, which sleeps \
         when all are paused).",
    ),
];

/// Writes `<stem>.md` and `<stem>.json` into `dir`.
pub(crate) fn write(dir: &Path, stem: &str, report: &Report) -> std::io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let targets = targets(&report.results);
    let md_path = dir.join(format!("{stem}.md"));
    let json_path = dir.join(format!("{stem}.json"));
    std::fs::write(&md_path, markdown(report, &targets))?;
    #[derive(Serialize)]
    struct Json<'a> {
        runs: &'a [Meta],
        advantage: &'static str,
        results: &'a [CaseResult],
        targets: &'a [Target],
    }
    let json = Json { runs: &report.runs, advantage: ADVANTAGE, results: &report.results, targets: &targets };
    std::fs::write(&json_path, serde_json::to_string_pretty(&json).map_err(std::io::Error::other)? + "\n")?;
    Ok((md_path, json_path))
}

const ADVANTAGE: &str = "how many times better ours is than the row's system: its time / our time, or our \
                         throughput / its throughput; above 1 ours leads, below 1 ours trails";

/// What the report says about how a workload is run, under its title.
fn workload_note(w: Workload) -> Option<&'static str> {
    Some(match w {
        Workload::Chat => {
            "The real chat server (`apps::chat::ChatServer`, defaults, port 0) on \
             `kamaelia_net::scheduler()` against a tokio chat server written after tokio's \
             `examples/chat.rs`, each in the child process with the same clients: loopback TCP \
             connections as tokio tasks on one current-thread runtime on the child's main thread \
             (so the clients have one core, the server the other). Once every client is served \
             (a line from the last one has reached them all), each client sends its lines as fast \
             as its socket takes them, one `write` per line, each stamped with its sending time, \
             while reading. A line is delivered when it reaches a client: every client gets every \
             line, its own included, so clients² x lines deliveries; the run fails unless each \
             client gets all of them, each sender's in order. Lines delivered per second: \
             deliveries / (first send to last arrival). Latency: from a line's sending to its \
             arrival at each client, over every delivery."
        }
        Workload::Echo => {
            "A ServerCore whose protocol is a `PassThrough` of byte chunks (Kamaelia's \
             `EchoProtocol`) on `kamaelia_net::scheduler()`, against tokio's `examples/echo.rs` \
             (read into a 1 KiB buffer, `write_all` it back). One client, a blocking `std` socket \
             with TCP_NODELAY in the same process, sends a message and reads all of it back, \
             timing each round trip, after 100 untimed ones; every answer must be the message sent. \
             On this VM a round trip costs ~5 us while client and server share a CPU, and ~70 us when \
             each wakes the other on the other CPU; where the OS places the threads decides which a \
             run sees, for every system alike, hence maxima of 60-110 us among medians of ~5 us."
        }
        Workload::Idle => {
            "The chat servers of workload 5 holding idle connections: the clients connect, a line \
             from the last reaches them all (every connection served), 0.3 s later the window \
             starts; nothing is sent during it. CPU time is the whole child process's (server and \
             the sleeping clients): the sum over its threads of the time on a CPU from \
             `/proc/self/task/*/schedstat` (nanoseconds) before and after the window, given per \
             10 s. After the window a line must still reach every client."
        }
        Workload::LogFollow => {
            "`shared/benchmarks.md` asks for a 1 GB log; the full run uses 256 MB to fit this \
             machine's disk and time budget (the figure is MB/s, 1 MB = 10^6 bytes). The log is a \
             synthetic web-server access log (~120-byte lines, one in 64 containing `pants`), made \
             once under `target/bench-data/`, read through once so every run finds it in the page \
             cache, and removed after the suite. Ours: `Pipeline(Follow::new(path).from_start(true)\
             .stop_at_eof(true), Grep::new(\"pants\"), Printer)` with logwatch's box size (1024), \
             the printer writing to a sink that counts lines, timed from activation until the \
             scheduler has run it to the end. grep: `grep pants FILE` (the system's GNU grep, \
             locale as inherited), timed from spawn to exit, its output read from a pipe and \
             thrown away: not `> /dev/null`, since GNU grep then stops at the first match. Every \
             run's count of matching lines must equal `grep -c`'s."
        }
        Workload::Bulletin => super::bulletin::NOTE,
        _ => return None,
    })
}

/// An advantage as a cell: `=` when both are zero, `∞` when only ours is.
fn advantage_cell(metric: Metric, ours: f64, peer: f64) -> String {
    match (ours == 0.0, peer == 0.0) {
        (true, true) => "=".into(),
        (true, false) if !metric.higher_is_better() => "∞".into(),
        (false, true) if metric.higher_is_better() => "∞".into(),
        _ => ratio(advantage(metric, ours, peer)),
    }
}

fn markdown(report: &Report, targets: &[Target]) -> String {
    let results = &report.results;
    let meta = report.runs.last().expect("a report has at least one invocation");
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks, {}\n", meta.date);
    let several = report.runs.len() > 1;
    let _ = writeln!(
        s,
        "Generated by {}. Each figure is the median of the runs given below (min–max beside it), each \
         run in a fresh process. The machine is shared with other work (builds and tests of other \
         sessions ran at the same time), so figures are noisy: compare ratios, not absolute times. \
         (The load averages below overstate the other work: the threads peer's runs make thousands \
         of threads runnable at once.)\n",
        if several {
            format!("{} invocations of `cargo xtask bench`, listed below, each adding its figures", report.runs.len())
        } else {
            format!("`{}` in {:.0} s", meta.command, meta.elapsed_s)
        }
    );
    let axon = report.runs.iter().rev().map(|m| &m.axon).find(|a| !a.starts_with("skipped")).unwrap_or(&meta.axon);
    let _ = writeln!(s, "| | |\n|---|---|");
    for (k, v) in [
        ("CPU", meta.cpu_model.as_str()),
        ("logical cores", &meta.logical_cores.to_string()),
        ("memory", &meta.memory),
        ("kernel", &meta.kernel),
        ("rustc", &meta.rustc),
        ("tokio", &meta.tokio),
        ("crossbeam-channel", &meta.crossbeam_channel),
        ("Axon", axon),
        ("Axon scheduler mode", "`scheduler.run.main(canblock=False)` driven by hand"),
    ] {
        let _ = writeln!(s, "| {k} | {v} |");
    }
    let _ = writeln!(
        s,
        "\n| invocation | runs per figure | took | load average (1, 5, 15 min) before | after | commit | figures |\n\
         |---|---|---|---|---|---|---|"
    );
    for (i, m) in report.runs.iter().enumerate() {
        let mut workloads: Vec<&str> = Vec::new();
        for c in results {
            if c.entries.iter().any(|e| e.run == i) && !workloads.contains(&c.workload.name()) {
                workloads.push(c.workload.name());
            }
        }
        let _ = writeln!(
            s,
            "| {}`{}` | {} | {:.0} s | {} | {} | {} | {} |",
            if several { format!("{}. ", i + 1) } else { String::new() },
            m.command,
            m.runs_per_figure,
            m.elapsed_s,
            m.load_average_at_start,
            m.load_average_at_end,
            m.commit,
            workloads.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "\nSystems: {}.",
        System::ALL.iter().map(|x| format!("`{}` {}", x.id(), x.label())).collect::<Vec<_>>().join("; ")
    );
    let _ = writeln!(s, "\n**Advantage** columns: {ADVANTAGE}.");
    if several {
        let _ = writeln!(s, "\n`[n]` after a system: the figures of invocation n above.");
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "## Targets (`shared/benchmarks.md`)\n\n| target | measured | verdict |\n|---|---|---|");
    for t in targets {
        let _ = writeln!(s, "| {} | {} | **{}** |", t.target, t.measured, t.verdict);
    }

    let mut notes: Vec<String> = Vec::new();
    let mut skips: Vec<(System, String, Vec<String>)> = Vec::new();
    let mut last_workload = None;
    for case in results {
        if last_workload != Some(case.workload) {
            let _ = writeln!(s, "\n## {}\n", case.workload.title());
            if let Some(note) = workload_note(case.workload) {
                let _ = writeln!(s, "{note}\n");
            }
            last_workload = Some(case.workload);
        }
        let metrics: Vec<Metric> = case
            .entries
            .iter()
            .find_map(|e| match &e.outcome {
                Outcome::Measured { figures } => Some(figures.iter().map(|(m, _)| *m).collect()),
                _ => None,
            })
            .unwrap_or_default();
        let _ = writeln!(s, "### {}\n", case.size);
        let mut header = "| system |".to_string();
        let mut rule = "|---|".to_string();
        for m in &metrics {
            let _ = write!(header, " {} |", m.label());
            rule.push_str("---|");
        }
        let ours_systems: Vec<System> =
            [System::Ours1, System::Ours2].into_iter().filter(|o| case.workload.systems().contains(o)).collect();
        for o in &ours_systems {
            let _ = write!(header, " advantage of {} |", o.id());
            rule.push_str("---|");
        }
        let _ = writeln!(s, "{header}\n{rule}");
        let padding = " |".repeat((metrics.len() + ours_systems.len()).saturating_sub(1));
        for e in &case.entries {
            let scaled = e.size.filter(|sz| *sz != case.size);
            let from = if several { format!(" [{}]", e.run + 1) } else { String::new() };
            let mut row = match scaled {
                Some(sz) => format!("| {}{from} (at {sz}) |", e.system.id()),
                None => format!("| {}{from} |", e.system.id()),
            };
            match &e.outcome {
                Outcome::Measured { figures } => {
                    for m in &metrics {
                        match figures.iter().find(|(fm, _)| fm == m) {
                            Some((_, st)) => {
                                if st.runs.len() == 1 {
                                    let _ = write!(row, " {} |", number(st.median));
                                } else {
                                    let _ =
                                        write!(row, " {} ({}–{}) |", number(st.median), number(st.min), number(st.max));
                                }
                            }
                            None => row.push_str(" - |"),
                        }
                    }
                    for &ours in &ours_systems {
                        if ours == e.system {
                            row.push_str(" - |");
                            continue;
                        }
                        let cells: Vec<String> = metrics
                            .iter()
                            .map(|m| match (median(case, ours, *m), median(case, e.system, *m)) {
                                (Some(o), Some(p)) => advantage_cell(*m, o, p),
                                _ => "-".into(),
                            })
                            .collect();
                        let _ = write!(row, " {} |", cells.join(" / "));
                    }
                    if let Some(sz) = scaled {
                        notes.push(format!(
                            "{} on {} ({}): run at {sz}; the figures are per unit, so still comparable.",
                            e.system.id(),
                            case.workload.name(),
                            case.size
                        ));
                    }
                }
                Outcome::Skipped { reason } => {
                    let _ = write!(row, " skipped |{padding}");
                    let where_ = format!("{} ({})", case.workload.name(), case.size);
                    match skips.iter_mut().find(|(sys, r, _)| *sys == e.system && r == reason) {
                        Some((_, _, cases)) => cases.push(where_),
                        None => skips.push((e.system, reason.clone(), vec![where_])),
                    }
                }
                Outcome::Failed { reason } => {
                    let _ = write!(row, " **FAILED** |{padding}");
                    notes.push(format!(
                        "{} on {} {}: FAILED: {reason}",
                        e.system.id(),
                        case.workload.name(),
                        case.size
                    ));
                }
            }
            let _ = writeln!(s, "{row}");
        }
        let _ = writeln!(s);
    }

    let _ = writeln!(s, "## How each system is written\n");
    for (who, how) in HOW_WRITTEN {
        let _ = writeln!(s, "- **{who}**: {how}");
    }
    let _ = writeln!(
        s,
        "\nEvery run is checked: hackysack makes exactly the turns asked for and every player ends; the ring's \
                        members count exactly the hops asked for; the pipeline's sink gets every message once, in order; \
                        every spawned component starts; every chat client gets every client's every line, each sender's \
                        in order; every echo answer is the message sent; every idle connection is still served after \
                        the window; log follow writes as many lines as `grep -c` counts. Resident memory is VmRSS \
                        (from /proc/self/status) after minus before, in a fresh process per run, divided by the count."
    );
    for (system, reason, cases) in skips {
        notes.push(format!("{} skipped on {}: {reason}", system.id(), cases.join(", ")));
    }
    if !notes.is_empty() {
        let _ = writeln!(s, "\n## Scaled and skipped\n");
        for n in notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::plan::Size;
    use super::super::{Entry, Stats};
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    fn meta(command: &str) -> Meta {
        Meta {
            date: "2026-11-22".into(),
            command: command.into(),
            mode: "full".into(),
            runs_per_figure: 5,
            elapsed_s: 1.0,
            cpu_model: String::new(),
            logical_cores: 2,
            memory: String::new(),
            kernel: String::new(),
            load_average_at_start: String::new(),
            load_average_at_end: String::new(),
            rustc: String::new(),
            commit: String::new(),
            tokio: String::new(),
            crossbeam_channel: String::new(),
            axon: String::new(),
        }
    }

    fn case(workload: Workload, size: Size, systems: &[(System, f64)]) -> CaseResult {
        let entries = systems
            .iter()
            .map(|&(system, v)| Entry {
                system,
                size: Some(size),
                outcome: Outcome::Measured {
                    figures: vec![(Metric::NsPerHop, Stats { median: v, min: v, max: v, runs: vec![v] })],
                },
                run: 0,
            })
            .collect();
        CaseResult { workload, size, entries }
    }

    fn figure(r: &Report, w: Workload, s: System) -> Option<(f64, usize)> {
        let c = r.results.iter().find(|c| c.workload == w)?;
        let e = c.entries.iter().find(|e| e.system == s)?;
        match &e.outcome {
            Outcome::Measured { figures } => Some((figures[0].1.median, e.run)),
            _ => None,
        }
    }

    #[test]
    fn a_partial_run_replaces_its_own_figures_and_keeps_the_rest() {
        let ring = Size::Ring { members: 503, hops: 1000 };
        let chat = Size::Chat { clients: 2, lines: 2 };
        let first = Report::new(
            meta("cargo xtask bench"),
            vec![
                case(Workload::Ring, ring, &[(System::Ours1, 1.0), (System::TokioCt, 2.0)]),
                case(Workload::Chat, chat, &[(System::Ours1, 3.0), (System::TokioCt, 4.0)]),
            ],
        );
        // A stored report of the older shape (one `meta`) reads back the same.
        let dir = tempfile::tempdir().unwrap();
        let old = serde_json::json!({"meta": first.runs[0], "results": first.results});
        std::fs::write(dir.path().join("d.json"), old.to_string()).unwrap();
        let first = Report::read(dir.path(), "d").unwrap().unwrap();
        assert_eq!(first.runs.len(), 1);
        assert!(Report::read(dir.path(), "nothing").unwrap().is_none());

        let second = first.merge(
            meta("cargo xtask bench --only chat,tokio-ct"),
            vec![case(Workload::Chat, chat, &[(System::TokioCt, 5.0)])],
        );
        assert_eq!(second.runs.len(), 2);
        assert_eq!(figure(&second, Workload::Ring, System::TokioCt), Some((2.0, 0)));
        assert_eq!(figure(&second, Workload::Chat, System::Ours1), Some((3.0, 0)));
        assert_eq!(figure(&second, Workload::Chat, System::TokioCt), Some((5.0, 1)));

        // Once every figure of the first invocation is replaced, it is no longer listed.
        let third = second.merge(
            meta("cargo xtask bench --only ring,chat"),
            vec![
                case(Workload::Chat, chat, &[(System::Ours1, 6.0), (System::TokioCt, 7.0)]),
                case(Workload::Ring, ring, &[(System::Ours1, 8.0), (System::TokioCt, 9.0)]),
            ],
        );
        assert_eq!(third.runs.len(), 1);
        assert_eq!(third.runs[0].command, "cargo xtask bench --only ring,chat");
        assert_eq!(figure(&third, Workload::Ring, System::Ours1), Some((8.0, 0)));
        // Workloads stay in the suite's order.
        assert_eq!(third.results.iter().map(|c| c.workload).collect::<Vec<_>>(), [Workload::Ring, Workload::Chat]);
        let md = markdown(&third, &targets(&third.results));
        assert!(md.contains("## 5. Chat fan-out") && !md.contains("[1]"), "{md}");
    }

    #[test]
    fn numbers() {
        assert_eq!(number(0.000672), "0.000672");
        assert_eq!(number(1.234), "1.23");
        assert_eq!(number(85.27), "85.3");
        assert_eq!(number(1234.0), "1234");
        assert_eq!(number(12_345_678.0), "12 345 678");
    }
}
