//! The report: the machine and versions, every figure (median, min, max), how far ours leads
//! or trails each peer, the targets of `shared/benchmarks.md` met or missed; as Markdown and
//! the same figures as JSON.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::plan::{System, Workload, grouped};
use super::{CaseResult, Metric, Outcome, axon_py, workspace_root};

/// Where and with what the suite ran.
#[derive(Debug, Serialize)]
pub(crate) struct Meta {
    pub(crate) date: String,
    mode: &'static str,
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
            mode: if quick { "quick" } else { "full" },
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
    out
}

const HOW_WRITTEN: &[(&str, &str)] = &[
    (
        "ours (ours-1t, ours-2t)",
        "Written as a Kamaelia user writes it, through the public API only: components built with \
         `ComponentBuilder` and the four standard boxes. Hackysack: each player delivers straight \
         into the chosen player's inbox through an `InboxRef` (the original's \
         `inboxes['inbox'].append`, no linkages), a shared turn counter, `rand::rng()`. Ring: \
         `Pipeline::builder().circular(true)` of 503 members, each `recv_with_control` then \
         `outbox.send(token - 1)`; at 0 a member sends ProducerFinished on `signal` and every member \
         passes it on and ends. Pipeline: `Pipeline::new([DataSource::new(0..n), 10 x \
         PureTransformer::new(|n| Some(n)), sink])`, unbounded boxes; DataSource sends one item per \
         scheduler turn, as Kamaelia's does. Spawn: idle components that wait on \
         `inbox`/`control` with `recv_with_control`. Run on `Scheduler::new()` (ours-1t) and \
         `Scheduler::builder().threads(2).build()` (ours-2t).",
    ),
    (
        "tokio (tokio-ct, tokio-mt)",
        "One task per actor or stage (`tokio::spawn`), `tokio::sync::mpsc` channels: bounded \
         (capacity 1024) for the ring and the pipeline, unbounded mailboxes for hackysack; shutdown \
         by dropping senders (`recv()` returns `None`), results through `JoinHandle`s. An idle task \
         `select!`s over a data and a control receiver; the harness keeps both senders. \
         `Builder::new_current_thread()` and `new_multi_thread().worker_threads(2)`.",
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
pub(crate) fn write(
    dir: &Path,
    stem: &str,
    meta: &Meta,
    results: &[CaseResult],
) -> std::io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let targets = targets(results);
    let md_path = dir.join(format!("{stem}.md"));
    let json_path = dir.join(format!("{stem}.json"));
    std::fs::write(&md_path, markdown(meta, results, &targets))?;
    #[derive(Serialize)]
    struct Json<'a> {
        meta: &'a Meta,
        advantage: &'static str,
        results: &'a [CaseResult],
        targets: &'a [Target],
    }
    let json = Json { meta, advantage: ADVANTAGE, results, targets: &targets };
    std::fs::write(&json_path, serde_json::to_string_pretty(&json).map_err(std::io::Error::other)? + "\n")?;
    Ok((md_path, json_path))
}

const ADVANTAGE: &str = "how many times better ours is than the row's system: its time / our time, or our \
                         throughput / its throughput; above 1 ours leads, below 1 ours trails";

fn markdown(meta: &Meta, results: &[CaseResult], targets: &[Target]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks, {}\n", meta.date);
    let _ = writeln!(
        s,
        "Generated by `cargo xtask bench{}` in {:.0} s. Each figure is the median of {} run{} (min–max \
         beside it), each run in a fresh process. The machine is shared with other work (builds and \
         tests of other sessions ran at the same time), so figures are noisy: compare ratios, not \
         absolute times. (The load averages below overstate the other work: the threads peer's \
         runs make thousands of threads runnable at once.)\n",
        if meta.mode == "quick" { " --quick" } else { "" },
        meta.elapsed_s,
        meta.runs_per_figure,
        if meta.runs_per_figure == 1 { "" } else { "s" },
    );
    let _ = writeln!(s, "| | |\n|---|---|");
    for (k, v) in [
        ("CPU", meta.cpu_model.as_str()),
        ("logical cores", &meta.logical_cores.to_string()),
        ("memory", &meta.memory),
        ("kernel", &meta.kernel),
        ("load average (1, 5, 15 min) before the runs", &meta.load_average_at_start),
        ("load average after the runs", &meta.load_average_at_end),
        ("rustc", &meta.rustc),
        ("commit", &meta.commit),
        ("tokio", &meta.tokio),
        ("crossbeam-channel", &meta.crossbeam_channel),
        ("Axon", &meta.axon),
        ("Axon scheduler mode", "`scheduler.run.main(canblock=False)` driven by hand"),
    ] {
        let _ = writeln!(s, "| {k} | {v} |");
    }
    let _ = writeln!(
        s,
        "\nSystems: {}.",
        System::ALL.iter().map(|x| format!("`{}` {}", x.id(), x.label())).collect::<Vec<_>>().join("; ")
    );
    let _ = writeln!(s, "\n**Advantage** columns: {ADVANTAGE}.\n");

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
        header.push_str(" advantage of ours-1t | advantage of ours-2t |");
        rule.push_str("---|---|");
        let _ = writeln!(s, "{header}\n{rule}");
        for e in &case.entries {
            let scaled = e.size.filter(|sz| *sz != case.size);
            let mut row = match scaled {
                Some(sz) => format!("| {} (at {sz}) |", e.system.id()),
                None => format!("| {} |", e.system.id()),
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
                    for ours in [System::Ours1, System::Ours2] {
                        if ours == e.system {
                            row.push_str(" - |");
                            continue;
                        }
                        let cells: Vec<String> = metrics
                            .iter()
                            .map(|m| match (median(case, ours, *m), median(case, e.system, *m)) {
                                (Some(o), Some(p)) => ratio(advantage(*m, o, p)),
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
                    let _ = write!(row, " skipped |{}", " |".repeat(metrics.len() + 1));
                    let where_ = format!("{} ({})", case.workload.name(), case.size);
                    match skips.iter_mut().find(|(sys, r, _)| *sys == e.system && r == reason) {
                        Some((_, _, cases)) => cases.push(where_),
                        None => skips.push((e.system, reason.clone(), vec![where_])),
                    }
                }
                Outcome::Failed { reason } => {
                    let _ = write!(row, " **FAILED** |{}", " |".repeat(metrics.len() + 1));
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
                        every spawned component starts. Resident memory is VmRSS (from /proc/self/status) after minus \
                        before, in a fresh process per run, divided by the count."
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
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
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
