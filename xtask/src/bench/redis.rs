//! The cross-process Backplane workload: one publisher process to two subscriber processes
//! through a real `redis-server`, ours ([`PublishBridge`] -> [`SubscribeBridge`]) against the
//! raw `redis` client doing the same traffic (pipelined `XADD`, `XREADGROUP COUNT n`, `XACK`).
//!
//! The run's process (`__bench-child redis-backplane SYSTEM MESSAGES BYTES 0`) starts its own
//! server in a temporary directory, starts two subscriber processes (the same command with
//! role 1), waits until both have their consumer group, publishes, and collects what each
//! subscriber reports. Every message carries its sequence number and its sending time (the
//! wall clock: all three processes share it), so each subscriber checks it got every message
//! once, in order, and measures each one's latency.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axon_core::{ComponentBuilder, ControlWatch, LinkOptions, Next, Scheduler, link_with};
use kamaelia_redis::testing::{RedisServer, redis};
use kamaelia_redis::{Origin, PublishBridge, SubscribeBridge, backplane_stream};
use serde::{Deserialize, Serialize};

use super::Metric;
use super::plan::{Size, System};

/// The backplane's name in every run.
const NAME: &str = "BENCH";
/// Messages per pipelined write and per read, for both systems.
const BATCH: usize = 256;
/// Environment variable carrying the server's URL to the subscriber processes.
const URL_VAR: &str = "KAMAELIA_BENCH_REDIS_URL";

/// One message: its number, when it was sent (ns since the epoch), and padding.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Msg {
    seq: u64,
    sent_ns: u64,
    pad: String,
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// What one subscriber process reports.
#[derive(Debug, Serialize, Deserialize)]
struct SubRun {
    received: u64,
    in_order: bool,
    last_ns: u64,
    median_us: f64,
    p99_us: f64,
}

/// What one run reports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RedisRun {
    /// Seconds from the first message published to the last one received by both.
    pub(crate) run_s: f64,
    /// Messages received, over both subscribers.
    pub(crate) received: u64,
    /// Subscribers that got every message once, in order.
    pub(crate) complete: u64,
    /// The larger of the two subscribers' median latencies, us.
    pub(crate) median_us: f64,
    /// The larger of the two subscribers' p99 latencies, us.
    pub(crate) p99_us: f64,
}

/// Checks a run and turns it into figures.
pub(crate) fn check(size: Size, value: serde_json::Value) -> Result<Vec<(Metric, f64)>, String> {
    let Size::Redis { messages, .. } = size else { return Err(format!("internal error: size {size}")) };
    let r: RedisRun = serde_json::from_value(value).map_err(|e| format!("unexpected result ({e})"))?;
    if r.received != 2 * messages || r.complete != 2 {
        return Err(format!(
            "{} of {} messages received; {} of 2 subscribers got every one once, in order",
            r.received,
            2 * messages,
            r.complete
        ));
    }
    Ok(vec![(Metric::MsgsPerS, messages as f64 / r.run_s), (Metric::MedianUs, r.median_us), (Metric::P99Us, r.p99_us)])
}

/// Why this workload cannot run here, if it cannot.
pub(crate) fn unavailable() -> Option<String> {
    match Command::new("redis-server").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(s) if s.success() => None,
        _ => Some("redis-server is not installed (apt-get install redis-server)".into()),
    }
}

/// `__bench-child redis-backplane SYSTEM MESSAGES BYTES ROLE`.
pub(crate) fn child(system: System, messages: u64, bytes: usize, role: u64) -> Result<serde_json::Value, String> {
    let raw = match system {
        System::Ours1 => false,
        System::RedisRaw => true,
        other => return Err(format!("{} does not run redis-backplane", other.id())),
    };
    let json = |v: Result<serde_json::Value, serde_json::Error>| v.map_err(|e| e.to_string());
    if role == 1 {
        let url = std::env::var(URL_VAR).map_err(|_| format!("{URL_VAR} is not set"))?;
        let run = if raw { raw_subscriber(&url, messages)? } else { subscriber(&url, messages)? };
        json(serde_json::to_value(run))
    } else {
        json(serde_json::to_value(publisher(system, raw, messages, bytes)?))
    }
}

fn publisher(system: System, raw: bool, messages: u64, bytes: usize) -> Result<RedisRun, String> {
    let server = RedisServer::start().map_err(|e| e.to_string())?;
    let url = server.url();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut subs = Vec::new();
    for _ in 0..2 {
        let mut child = Command::new(&exe)
            .args([super::CHILD, "redis-backplane", system.id(), &messages.to_string(), &bytes.to_string(), "1"])
            .env(URL_VAR, &url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start a subscriber process: {e}"))?;
        let lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        subs.push((child, lines));
    }
    for (_, lines) in subs.iter_mut() {
        match lines.next() {
            Some(Ok(l)) if l == "ready" => {}
            other => return Err(format!("a subscriber did not get ready: {other:?}")),
        }
    }
    let pad = "x".repeat(bytes);
    let started = now_ns();
    if raw {
        raw_publish(&url, messages, &pad)?;
    } else {
        publish(&url, messages, &pad)?;
    }
    let mut runs = Vec::new();
    for (mut child, mut lines) in subs {
        let line = lines.find_map(|l| l.ok().filter(|l| l.starts_with('{'))).ok_or("a subscriber reported nothing")?;
        let _ = child.wait();
        runs.push(serde_json::from_str::<SubRun>(&line).map_err(|e| e.to_string())?);
    }
    let last = runs.iter().map(|r| r.last_ns).max().unwrap_or(started);
    Ok(RedisRun {
        run_s: (last.saturating_sub(started)) as f64 / 1e9,
        received: runs.iter().map(|r| r.received).sum(),
        complete: runs.iter().filter(|r| r.in_order && r.received == messages).count() as u64,
        median_us: runs.iter().map(|r| r.median_us).fold(0.0, f64::max),
        p99_us: runs.iter().map(|r| r.p99_us).fold(0.0, f64::max),
    })
}

/// Ours: a PublishBridge fed from a Handle, until it has written everything.
fn publish(url: &str, messages: u64, pad: &str) -> Result<(), String> {
    let bg = Scheduler::new().background();
    let bridge = PublishBridge::<Msg>::new(url, NAME).batch(BATCH);
    let stats = bridge.stats();
    let h = bg.handle::<Msg, Msg>(&bridge.build()).map_err(|e| e.to_string())?;
    for seq in 1..=messages {
        h.put(Msg { seq, sent_ns: now_ns(), pad: pad.to_string() });
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while stats.published() < messages {
        if Instant::now() > deadline {
            return Err(format!("published {} of {messages}", stats.published()));
        }
        std::thread::park_timeout(Duration::from_millis(1));
    }
    Ok(())
}

/// The raw client: the same entries, pipelined `BATCH` at a time.
fn raw_publish(url: &str, messages: u64, pad: &str) -> Result<(), String> {
    let mut con = redis::Client::open(url).and_then(|c| c.get_connection()).map_err(|e| e.to_string())?;
    let key = backplane_stream(NAME);
    let origin = Origin::fresh();
    let mut seq = 1;
    while seq <= messages {
        let mut pipe = redis::pipe();
        for s in seq..(seq + BATCH as u64).min(messages + 1) {
            let d = serde_json::to_vec(&Msg { seq: s, sent_ns: now_ns(), pad: pad.to_string() })
                .map_err(|e| e.to_string())?;
            pipe.cmd("XADD")
                .arg(&key)
                .arg("*")
                .arg("k")
                .arg("kamaelia/1")
                .arg("o")
                .arg(origin.as_str())
                .arg("s")
                .arg(s)
                .arg("d")
                .arg(d)
                .ignore();
        }
        pipe.query::<()>(&mut con).map_err(|e| e.to_string())?;
        seq += BATCH as u64;
    }
    Ok(())
}

/// Latency statistics and the order check over what a subscriber received.
struct Tally {
    expected: u64,
    received: u64,
    in_order: bool,
    latencies_us: Vec<f64>,
    last_ns: u64,
}

impl Tally {
    fn new(expected: u64) -> Self {
        Tally { expected, received: 0, in_order: true, latencies_us: Vec::with_capacity(expected as usize), last_ns: 0 }
    }

    fn add(&mut self, m: &Msg) {
        let now = now_ns();
        self.received += 1;
        self.in_order &= m.seq == self.received;
        self.latencies_us.push(now.saturating_sub(m.sent_ns) as f64 / 1e3);
        self.last_ns = now;
    }

    fn done(&self) -> bool {
        self.received >= self.expected
    }

    fn report(mut self) -> SubRun {
        self.latencies_us.sort_by(f64::total_cmp);
        let at = |q: f64| {
            self.latencies_us.get(((self.latencies_us.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(0.0)
        };
        SubRun {
            received: self.received,
            in_order: self.in_order,
            last_ns: self.last_ns,
            median_us: at(0.5),
            p99_us: at(0.99),
        }
    }
}

fn ready() {
    println!("ready");
}

/// Ours: a SubscribeBridge into a counting sink.
fn subscriber(url: &str, messages: u64) -> Result<SubRun, String> {
    let bg = Scheduler::new().background();
    let origin = Origin::fresh();
    let sub = SubscribeBridge::<Msg>::new(url, NAME).origin(origin.clone()).count(BATCH).build();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut b = ComponentBuilder::new("Tally");
    let io = b.standard::<Msg, ()>();
    let sink = b.run_threaded(move |tctx| {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let mut tally = Tally::new(messages);
        let end = loop {
            match watch.next_blocking(&tctx, &io.inbox) {
                Next::Data(m) => {
                    tally.add(&m);
                    if tally.done() {
                        break axon_core::Signal::producer_finished();
                    }
                }
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        let _ = tx.send(tally.report());
        watch.finish_blocking(end);
    });
    link_with((&sub, "outbox"), (&sink, "inbox"), LinkOptions::capacity(4 * BATCH)).map_err(|e| e.to_string())?;
    bg.activate(&sink).map_err(|e| e.to_string())?;
    bg.activate(&sub).map_err(|e| e.to_string())?;
    wait_for_group(url, origin.as_str())?;
    ready();
    rx.recv_timeout(Duration::from_secs(120)).map_err(|_| "the subscriber did not get every message".to_string())
}

fn wait_for_group(url: &str, group: &str) -> Result<(), String> {
    let mut con = redis::Client::open(url).and_then(|c| c.get_connection()).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v: Result<redis::Value, _> = redis::cmd("XINFO").arg("GROUPS").arg(backplane_stream(NAME)).query(&mut con);
        if let Ok(redis::Value::Array(groups)) = v {
            let name = redis::Value::BulkString(group.as_bytes().to_vec());
            if groups.iter().any(|g| matches!(g, redis::Value::Array(f) if f.contains(&name))) {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err("the subscriber's group never appeared".into());
        }
        std::thread::park_timeout(Duration::from_millis(2));
    }
}

/// The raw client: a group of its own, `XREADGROUP COUNT BATCH BLOCK`, decode, `XACK`.
fn raw_subscriber(url: &str, messages: u64) -> Result<SubRun, String> {
    let mut con = redis::Client::open(url).and_then(|c| c.get_connection()).map_err(|e| e.to_string())?;
    let key = backplane_stream(NAME);
    let group = Origin::fresh().as_str().to_string();
    redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&key)
        .arg(&group)
        .arg("$")
        .arg("MKSTREAM")
        .query::<()>(&mut con)
        .map_err(|e| e.to_string())?;
    ready();
    let mut tally = Tally::new(messages);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !tally.done() && Instant::now() < deadline {
        let reply: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&group)
            .arg("c")
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(100)
            .arg("STREAMS")
            .arg(&key)
            .arg(">")
            .query(&mut con)
            .map_err(|e| e.to_string())?;
        let mut ids = Vec::new();
        for stream in reply.keys {
            for entry in stream.ids {
                if let Some(redis::Value::BulkString(d)) = entry.map.get("d") {
                    let m: Msg = serde_json::from_slice(d).map_err(|e| e.to_string())?;
                    tally.add(&m);
                }
                ids.push(entry.id);
            }
        }
        if !ids.is_empty() {
            redis::cmd("XACK").arg(&key).arg(&group).arg(&ids).query::<()>(&mut con).map_err(|e| e.to_string())?;
        }
    }
    Ok(tally.report())
}
