//! The clients of the networking workloads, the same for every server, run in the same child
//! process as the server: loopback TCP clients as tokio tasks on one current-thread runtime
//! (on the child's main thread), except the echo client, one blocking `std` socket.
//!
//! Before anything is measured every client must be served: the last client to connect says
//! `sync <k>` and each client waits for that line (so each connection has been accepted and
//! subscribed to the chat); if some client has not seen it within a few seconds the last one
//! says it again, a bounded number of times.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream as StdStream};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::runtime::{Builder, Runtime};
use tokio::time::timeout_at;

use super::{ChatRun, EchoRun, IdleRun};

/// How long each client waits for a `sync` line, per attempt.
const SYNC_WAIT: Duration = Duration::from_secs(3);
/// How many times the last client says `sync` before the run fails.
const SYNC_ATTEMPTS: usize = 5;
/// How long a chat run may take before the clients stop waiting for missing lines.
const CHAT_DEADLINE: Duration = Duration::from_secs(120);
/// How long after the `sync` lines the idle window starts (the server may still be writing).
const IDLE_SETTLE: Duration = Duration::from_millis(300);
/// Round trips made before the echo client starts timing.
const ECHO_WARMUP: u64 = 100;

/// One client connection.
struct Conn {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    /// The line being read (a read cut short by a timeout leaves its part here).
    line: Vec<u8>,
}

fn runtime() -> Result<Runtime, String> {
    Builder::new_current_thread().enable_all().build().map_err(|e| format!("cannot start the clients' runtime: {e}"))
}

async fn connect_all(addr: SocketAddr, n: usize) -> Result<Vec<Conn>, String> {
    let mut conns = Vec::with_capacity(n);
    for i in 0..n {
        let stream = TcpStream::connect(addr).await.map_err(|e| format!("client {i} of {n} could not connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| format!("client {i}: {e}"))?;
        let (read, writer) = stream.into_split();
        conns.push(Conn { reader: BufReader::with_capacity(64 * 1024, read), writer, line: Vec::new() });
    }
    Ok(conns)
}

/// Reads until the end of a line (continuing one a timeout cut short). `Ok(false)`: the
/// server closed the connection.
async fn fill_line(conn: &mut Conn) -> io::Result<bool> {
    conn.reader.read_until(b'\n', &mut conn.line).await?;
    Ok(conn.line.last() == Some(&b'\n'))
}

/// What a chat line says (after `says `), without its line ending.
fn said(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line.windows(6).position(|w| w == b" says ") {
        Some(i) => &line[i + 6..],
        None => line,
    }
}

/// Waits until every client has received a line that the last client sent, saying it again
/// if need be. Lines read meanwhile that are not that line are dropped.
async fn sync(conns: &mut [Conn], word: &str) -> Result<(), String> {
    let n = conns.len();
    let mut seen = vec![false; n];
    for attempt in 0..SYNC_ATTEMPTS {
        let text = format!("{word} {attempt}");
        conns[n - 1]
            .writer
            .write_all(format!("{text}\n").as_bytes())
            .await
            .map_err(|e| format!("client {}: cannot send: {e}", n - 1))?;
        let deadline = tokio::time::Instant::now() + SYNC_WAIT;
        for (i, conn) in conns.iter_mut().enumerate() {
            while !seen[i] {
                match timeout_at(deadline, fill_line(conn)).await {
                    Err(_) => break,
                    Ok(Err(e)) => return Err(format!("client {i}: {e}")),
                    Ok(Ok(false)) => return Err(format!("client {i}: the server closed the connection")),
                    Ok(Ok(true)) => {
                        // Any of this round's lines will do: a client that missed an
                        // earlier one may be reading it only now.
                        seen[i] = said(&conn.line).starts_with(format!("{word} ").as_bytes());
                        conn.line.clear();
                    }
                }
            }
        }
        if seen.iter().all(|s| *s) {
            return Ok(());
        }
    }
    let missing = seen.iter().filter(|s| !**s).count();
    Err(format!("{missing} of {n} clients never received a line another client sent ({word})"))
}

/// What one chat client received.
struct Heard {
    got: u64,
    complete: bool,
    latencies_ns: Vec<u64>,
    finished: Instant,
    problem: Option<String>,
}

/// Reads data lines (`m <sender> <seq> <sent-ns>`) until every client's every line has come,
/// checking each sender's lines arrive in order; other lines (`sync`) are skipped.
async fn receive(
    me: usize,
    mut reader: BufReader<OwnedReadHalf>,
    mut line: Vec<u8>,
    (clients, lines): (usize, u64),
    origin: Instant,
    deadline: tokio::time::Instant,
) -> Heard {
    let expected = clients as u64 * lines;
    let mut next = vec![0u64; clients];
    let mut latencies_ns = Vec::with_capacity(expected as usize);
    let (mut got, mut problem) = (0u64, None);
    while got < expected && problem.is_none() {
        match timeout_at(deadline, reader.read_until(b'\n', &mut line)).await {
            Err(_) => problem = Some(format!("client {me}: timed out with {got} of {expected} lines")),
            Ok(Err(e)) => problem = Some(format!("client {me}: {e}")),
            Ok(Ok(_)) if line.last() != Some(&b'\n') => {
                problem = Some(format!("client {me}: the server closed the connection after {got} lines"));
            }
            Ok(Ok(_)) => {
                let now = origin.elapsed().as_nanos() as u64;
                if let Some(data) = said(&line).strip_prefix(b"m ") {
                    let mut fields =
                        data.split(|&b| b == b' ').map(|f| std::str::from_utf8(f).ok()?.parse::<u64>().ok());
                    match (fields.next().flatten(), fields.next().flatten(), fields.next().flatten()) {
                        (Some(sender), Some(seq), Some(sent)) if (sender as usize) < clients => {
                            let want = &mut next[sender as usize];
                            if seq != *want {
                                problem = Some(format!(
                                    "client {me}: line {seq} of client {sender} came when {want} was due"
                                ));
                            }
                            *want = seq + 1;
                            got += 1;
                            latencies_ns.push(now.saturating_sub(sent));
                        }
                        _ => problem = Some(format!("client {me}: garbled line {:?}", String::from_utf8_lossy(&line))),
                    }
                }
                line.clear();
            }
        }
    }
    let complete = problem.is_none() && next.iter().all(|&n| n == lines);
    Heard { got, complete, latencies_ns, finished: Instant::now(), problem }
}

/// The `p`-th percentile (0..=100) of `v`, reordering it; 0 if empty.
fn percentile(v: &mut [u64], p: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    let i = (((v.len() - 1) as f64) * p / 100.0).round() as usize;
    *v.select_nth_unstable(i).1
}

/// Workload 5: `clients` clients each send `lines` lines as fast as the socket takes them,
/// while each reads every client's lines (its own included).
pub(crate) fn chat(addr: SocketAddr, clients: usize, lines: u64) -> Result<ChatRun, String> {
    if clients == 0 {
        return Err("the chat needs at least one client".into());
    }
    runtime()?.block_on(async move {
        let mut conns = connect_all(addr, clients).await?;
        sync(&mut conns, "sync").await?;
        let deadline = tokio::time::Instant::now() + CHAT_DEADLINE;
        let origin = Instant::now();
        let (mut writers, mut readers) = (Vec::with_capacity(clients), Vec::with_capacity(clients));
        for (i, Conn { reader, mut writer, line }) in conns.into_iter().enumerate() {
            readers.push(tokio::spawn(receive(i, reader, line, (clients, lines), origin, deadline)));
            writers.push(tokio::spawn(async move {
                let mut buf = Vec::with_capacity(64);
                for seq in 0..lines {
                    buf.clear();
                    let sent = origin.elapsed().as_nanos() as u64;
                    let _ = writeln!(buf, "m {i} {seq} {sent}");
                    writer.write_all(&buf).await.map_err(|e| format!("client {i}: cannot send: {e}"))?;
                }
                // Kept open: closing it would end this client's chat before the others'
                // lines reach it.
                Ok::<_, String>(writer)
            }));
        }
        let mut open = Vec::with_capacity(clients);
        for w in writers {
            open.push(w.await.map_err(|e| format!("a sending client panicked: {e}"))??);
        }
        let (mut delivered, mut complete_clients, mut problem) = (0, 0, None);
        let (mut latencies, mut last) = (Vec::new(), origin);
        for r in readers {
            let r = r.await.map_err(|e| format!("a receiving client panicked: {e}"))?;
            delivered += r.got;
            complete_clients += u64::from(r.complete);
            problem = problem.or(r.problem);
            latencies.extend(r.latencies_ns);
            last = last.max(r.finished);
        }
        drop(open);
        let us = |ns: u64| ns as f64 / 1e3;
        Ok(ChatRun {
            run_s: (last - origin).as_secs_f64(),
            delivered,
            complete_clients,
            median_us: us(percentile(&mut latencies, 50.0)),
            p99_us: us(percentile(&mut latencies, 99.0)),
            problem,
        })
    })
}

/// CPU time this process has used so far, in seconds: every thread's time on a CPU from
/// `/proc/self/task/*/schedstat` (nanoseconds), or else user + system time from
/// `/proc/self/stat` (clock ticks, taken as 1/100 s).
fn process_cpu_s() -> Result<f64, String> {
    let from_schedstat = || -> Option<f64> {
        let mut ns = 0u64;
        for task in std::fs::read_dir("/proc/self/task").ok()? {
            let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
        }
        Some(ns as f64 / 1e9)
    };
    let from_stat = || -> Option<f64> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // After the command name in parentheses: state is field 3; utime and stime 14 and 15.
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(ticks as f64 / 100.0)
    };
    from_schedstat().or_else(from_stat).ok_or_else(|| "cannot read this process's CPU time from /proc".into())
}

/// Workload 6: `connections` clients connect and are served (a line reaches them all), then
/// nobody says anything for `window`; the CPU time the whole process (server, and clients
/// asleep) used meanwhile is measured. Afterwards a line must still reach every client.
pub(crate) fn idle(addr: SocketAddr, connections: usize, window: Duration) -> Result<IdleRun, String> {
    if connections == 0 {
        return Err("idle needs at least one connection".into());
    }
    runtime()?.block_on(async move {
        let mut conns = connect_all(addr, connections).await?;
        sync(&mut conns, "sync").await?;
        tokio::time::sleep(IDLE_SETTLE).await;
        let before = process_cpu_s()?;
        let start = Instant::now();
        tokio::time::sleep(window).await;
        let cpu_s = process_cpu_s()? - before;
        let window_s = start.elapsed().as_secs_f64();
        let alive_after = match sync(&mut conns, "alive").await {
            Ok(()) => connections as u64,
            Err(e) => {
                eprintln!("idle: after the window: {e}");
                0
            }
        };
        Ok(IdleRun { connections: connections as u64, alive_after, cpu_s, window_s })
    })
}

/// Echo round trips: one client sends a message of `bytes` bytes and waits for all of it to
/// come back, `round_trips` times in a row (after a warm-up), timing each.
pub(crate) fn echo(addr: SocketAddr, round_trips: u64, bytes: usize) -> Result<EchoRun, String> {
    let mut stream = StdStream::connect(addr).map_err(|e| format!("cannot connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| format!("{e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| format!("{e}"))?;
    let (mut message, mut answer) = (vec![b'.'; bytes.max(8)], vec![0u8; bytes.max(8)]);
    let mut latencies_ns = Vec::with_capacity(round_trips as usize);
    let mut correct = 0;
    for k in 0..ECHO_WARMUP + round_trips {
        // Each message differs, so an answer to an earlier one is caught.
        let tag = format!("{:08}", k % 100_000_000);
        message[..8].copy_from_slice(tag.as_bytes());
        let start = Instant::now();
        stream.write_all(&message).map_err(|e| format!("round trip {k}: cannot send: {e}"))?;
        stream.read_exact(&mut answer).map_err(|e| format!("round trip {k}: no answer: {e}"))?;
        let took = start.elapsed().as_nanos() as u64;
        if k >= ECHO_WARMUP {
            latencies_ns.push(took);
            correct += u64::from(answer == message);
        }
    }
    let us = |ns: u64| ns as f64 / 1e3;
    Ok(EchoRun {
        round_trips: latencies_ns.len() as u64,
        correct,
        median_us: us(percentile(&mut latencies_ns, 50.0)),
        p99_us: us(percentile(&mut latencies_ns, 99.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let mut v: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(percentile(&mut v, 50.0), 51);
        assert_eq!(percentile(&mut v, 99.0), 99);
        assert_eq!(percentile(&mut [], 99.0), 0);
    }

    #[test]
    fn what_a_chat_line_says() {
        assert_eq!(said(b"Chat:127.0.0.1:4000 says m 1 2 3\r\n"), b"m 1 2 3");
        assert_eq!(said(b"Chat:127.0.0.1:4000 says sync 0\n"), b"sync 0");
        assert_eq!(said(b"no prefix"), b"no prefix");
    }
}
