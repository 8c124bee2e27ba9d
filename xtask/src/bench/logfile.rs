//! The log-follow workload's data and its peer: a synthetic web-server access log (made once
//! per suite under `target/bench-data/`, the same bytes every time), and the system's `grep`
//! binary searching it.
//!
//! `grep PATTERN FILE > /dev/null` is not what is timed: GNU grep notices that its output is
//! /dev/null and stops at the first match (as `grep -q` does). So grep writes its matches to
//! a pipe that this process reads and throws away, counting lines, much as our Printer writes
//! to a sink that counts them.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use super::{LogRun, workspace_root};

/// What both systems search for: a word about one line in 64 contains (the seeds' pipeline
/// greps for `.*pants.*`; searched for anywhere in the line, as grep does, that is `pants`).
pub(crate) const PATTERN: &str = "pants";

/// Where the log of `bytes` bytes lives.
pub(crate) fn path(bytes: u64) -> PathBuf {
    workspace_root().join("target").join("bench-data").join(format!("access-{bytes}.log"))
}

/// A small, fast, deterministic generator (xorshift64*), so every run and every system sees
/// the same log.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const METHODS: &[&str] = &["GET", "GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD"];
const SECTIONS: &[&str] = &["shirts", "shoes", "socks", "hats", "jackets", "skirts", "scarves"];
const WORDS: &[&str] = &["blue", "linen", "sale", "summer", "wool", "size+m", "organic", "kids", "slim"];
const STATUSES: &[&str] = &["200", "200", "200", "200", "200", "304", "301", "404", "500", "201"];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "curl/8.5.0",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
];

/// One access-log line, newline included.
fn line(rng: &mut Rng, n: u64, out: &mut Vec<u8>) -> io::Result<()> {
    let secs = n / 40;
    write!(
        out,
        "10.{}.{}.{} - - [22/Nov/2026:{:02}:{:02}:{:02} +0000] \"{} ",
        rng.below(256),
        rng.below(256),
        rng.below(256),
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60,
        rng.pick(METHODS)
    )?;
    match rng.below(64) {
        0 => write!(out, "/shop/pants/{}", rng.below(100_000))?,
        1..=20 => write!(out, "/api/v1/items/{}?page={}", rng.below(1_000_000), rng.below(20))?,
        21..=40 => write!(out, "/shop/{}/{}", rng.pick(SECTIONS), rng.below(100_000))?,
        41..=50 => write!(out, "/search?q={}+{}", rng.pick(WORDS), rng.pick(WORDS))?,
        _ => write!(out, "/static/app.{:012x}.js", rng.next() >> 16)?,
    }
    writeln!(
        out,
        " HTTP/1.1\" {} {} \"-\" \"{}\" rt={}.{:03}",
        rng.pick(STATUSES),
        rng.below(200_000),
        rng.pick(AGENTS),
        rng.below(3),
        rng.below(1000)
    )
}

/// Writes a log of at most `bytes` bytes (whole lines) to `path`.
fn generate(path: &Path, bytes: u64) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut written, mut buf) = (0u64, Vec::with_capacity(512));
    for n in 0.. {
        buf.clear();
        line(&mut rng, n, &mut buf)?;
        if written + buf.len() as u64 > bytes {
            break;
        }
        out.write_all(&buf)?;
        written += buf.len() as u64;
    }
    out.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()
}

/// The log of `bytes` bytes, generated if it is not there yet, and read through once so both
/// systems find it in the page cache.
pub(crate) fn ensure(bytes: u64) -> Result<PathBuf, String> {
    let path = path(bytes);
    if !path.exists() {
        let dir = path.parent().expect("the log lives in a directory");
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        eprintln!("xtask bench: generating a {} MB log at {}", bytes as f64 / 1e6, path.display());
        // Written under another name and renamed, so a log that exists is complete.
        let partial = path.with_extension("partial");
        generate(&partial, bytes).map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
        fs::rename(&partial, &path).map_err(|e| format!("cannot rename {}: {e}", partial.display()))?;
    }
    let mut file = File::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    while file.read(&mut buf).map_err(|e| format!("cannot read {}: {e}", path.display()))? > 0 {}
    Ok(path)
}

/// Matching lines as `grep -c PATTERN path` counts them.
pub(crate) fn grep_count(path: &Path) -> Result<u64, String> {
    let out = Command::new("grep")
        .arg("-c")
        .arg(PATTERN)
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run grep -c: {e}"))?;
    // Status 1: no line matched (the count printed is 0).
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(format!("grep -c failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().parse().map_err(|_| format!("grep -c printed {text:?}"))
}

/// One run of `grep PATTERN path`, its output read from a pipe and counted.
pub(crate) fn grep(path: &Path) -> Result<LogRun, String> {
    let bytes = fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len();
    let start = Instant::now();
    let mut child = Command::new("grep")
        .arg(PATTERN)
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run grep: {e}"))?;
    let mut out = child.stdout.take().expect("piped");
    let (mut buf, mut matched) = (vec![0u8; 64 * 1024], 0u64);
    loop {
        let n = out.read(&mut buf).map_err(|e| format!("reading grep's output: {e}"))?;
        if n == 0 {
            break;
        }
        matched += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    let status = child.wait().map_err(|e| format!("waiting for grep: {e}"))?;
    let run_s = start.elapsed().as_secs_f64();
    if !matches!(status.code(), Some(0 | 1)) {
        return Err(format!("grep failed ({status})"));
    }
    Ok(LogRun { run_s, bytes, matched, expected: grep_count(path)? })
}

/// A writer that throws its bytes away, counting the lines (what our Printer writes to).
pub(crate) struct LineCounter(pub(crate) std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Write for LineCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let lines = buf.iter().filter(|&&b| b == b'\n').count() as u64;
        self.0.fetch_add(lines, std::sync::atomic::Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
