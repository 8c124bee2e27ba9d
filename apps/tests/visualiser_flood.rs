//! No peer can flood the visualiser's log (issue #17, item 9): 1 MiB of garbage on one
//! connection gives a few report lines and a count, not a line each, and another
//! connection's reports are still shown. Run against the real `axon-visualiser --dot FILE`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use apps::visualiser::{REPORT_BURST, REPORT_INTERVAL};

/// How long anything may take before a test fails (generous: debug builds, busy CI).
const LIMIT: Duration = Duration::from_secs(30);

/// Reads `r` line by line into a channel, on a thread.
fn lines_of(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { return };
            let _ = tx.send(line);
        }
    });
    rx
}

/// What the stderr lines say about one system: lines shown, and reports counted.
#[derive(Debug, Default)]
struct Tally {
    shown: u64,
    counted: u64,
}

/// Folds one stderr line (`axon-visualiser: system N: ...`) into the tallies.
fn tally(line: &str, by_system: &mut BTreeMap<u64, Tally>) {
    let Some(rest) = line.strip_prefix("axon-visualiser: system ") else { return };
    let Some((n, what)) = rest.split_once(": ") else { return };
    let Ok(n) = n.parse::<u64>() else { return };
    let t = by_system.entry(n).or_default();
    match what.split_once(" more reports not shown") {
        Some((count, _)) => t.counted += count.parse::<u64>().unwrap_or_else(|_| panic!("a count: {line:?}")),
        None => t.shown += 1,
    }
}

#[test]
fn a_mib_of_garbage_gives_a_few_report_lines_and_a_count_per_connection() {
    let dir = tempfile::tempdir().unwrap();
    let dot = dir.path().join("topology.dot");
    let mut child = Command::new(env!("CARGO_BIN_EXE_axon-visualiser"))
        .args(["--port", "0", "--dot"])
        .arg(&dot)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start axon-visualiser");
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let banner = stdout.recv_timeout(LIMIT).expect("a banner");
    let port: u16 = banner
        .strip_prefix("Axon visualiser listening on port ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("banner {banner:?}"));

    // 1 MiB of lines that are not UTF-8: each is one report.
    let mut garbage = Vec::new();
    let mut bad_lines = 0u64;
    while garbage.len() < 1 << 20 {
        garbage.extend_from_slice(format!("\u{1}\u{2} {bad_lines} ").as_bytes());
        garbage.extend_from_slice(b"\xff\xfe\n");
        bad_lines += 1;
    }
    let started = Instant::now();
    let mut flood = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    flood.write_all(&garbage).expect("send the garbage");
    drop(flood);
    // Another system, one bad line: shown, whatever the first one sent.
    let mut other = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    other.write_all(b"\xff another system\n").expect("send");

    let mut by_system = BTreeMap::new();
    let mut lines = Vec::new();
    let deadline = Instant::now() + LIMIT + REPORT_INTERVAL;
    // Until every report of the flood is accounted for, shown or counted, and the other
    // system's line has been shown.
    let done = |t: &BTreeMap<u64, Tally>| {
        t.values().any(|t| t.shown + t.counted == bad_lines) && t.values().any(|t| t.shown == 1 && t.counted == 0)
    };
    while !done(&by_system) {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = stderr.recv_timeout(left).unwrap_or_else(|_| {
            panic!(
                "not all {bad_lines} reports accounted for: {by_system:?}; {} lines, last: {:?}",
                lines.len(),
                lines.last()
            )
        });
        tally(&line, &mut by_system);
        lines.push(line);
    }
    let flooded = by_system.values().find(|t| t.shown + t.counted == bad_lines).expect("the flood's tally");
    // The burst, then counts (one every interval at most while the flood lasts).
    let intervals = started.elapsed().as_secs() / REPORT_INTERVAL.as_secs() + 2;
    assert!(flooded.shown <= u64::from(REPORT_BURST) * intervals, "{flooded:?}");
    assert!(lines.len() <= 3 * intervals as usize + REPORT_BURST as usize, "{} lines: {lines:#?}", lines.len());
    drop(other);
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "{status}");
}
