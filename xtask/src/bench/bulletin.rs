//! Workload "bulletin": the bulletin board with many users at once, each posting and
//! reading, against a thread-per-connection peer calling the same database code; operations
//! per second, latency, and where the time goes (SQLite commits vs the component system).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use apps::bulletin::{
    BulletinBoard, Database, DbAnswer, DbOp, DbReply, DbStats, DbStatsSnapshot, HashAnswer, HashOp, PostOutcome, READY,
    hash_op,
};
use serde::{Deserialize, Serialize};

use super::plan::System;
use super::{Metric, Size};

/// What the report says about this workload, under its title.
pub(crate) const NOTE: &str = "The real bulletin board (`apps::bulletin::BulletinBoard`, port 0, a fresh SQLite \
     file in WAL mode with synchronous=FULL) on `kamaelia_net::scheduler()`, against a thread-per-connection \
     server (`threads`: std sockets, one OS thread per client, the same `apps::bulletin::Database` code behind \
     a mutex, one transaction per request: the obvious way to write it). Both answer only after the commit. \
     Each client (a blocking socket on its own thread, in the same process) creates its account first \
     (untimed: argon2 is slow on purpose), then, once all are in, alternates `post` (to the next user, one \
     body line; the recipient gets a notice) and `read` (of its latest post, which marks it read: a write \
     too), timing each from sending the command to its last answer line. Operations per second: all \
     operations / (first sent to last answered). Where the time goes: `database busy` is the share of the \
     run the database spent in SQLite (statements and commits, commits being mostly the WAL's fsync), \
     `requests per commit` how many requests each transaction carried (group commit: the board's Database \
     runs every waiting request in one transaction; the peer commits each); for ours the child also prints \
     the scheduler thread's CPU time (the component system and socket I/O) on stderr. The run fails unless \
     every operation got its answer and the database holds every post exactly once.";

/// What one run reports.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct BulletinRun {
    /// Seconds from the first timed operation sent until the last one answered.
    pub(crate) run_s: f64,
    /// Operations answered as expected.
    pub(crate) ops: u64,
    /// Posts the database holds after the run (each subject once).
    pub(crate) stored_posts: u64,
    /// Median operation latency, in us.
    pub(crate) median_us: f64,
    /// 99th percentile, in us.
    pub(crate) p99_us: f64,
    /// Database requests during the timed part.
    pub(crate) db_requests: u64,
    /// Transactions (commits) during the timed part.
    pub(crate) db_commits: u64,
    /// Seconds in SQLite statements during the timed part.
    pub(crate) db_statements_s: f64,
    /// Seconds in commits during the timed part.
    pub(crate) db_commit_s: f64,
    /// CPU seconds of the scheduler's thread during the timed part (ours only).
    pub(crate) scheduler_cpu_s: Option<f64>,
    /// What went wrong first, if anything did.
    pub(crate) problem: Option<String>,
}

/// Checks a run and gives its figures.
pub(crate) fn check(size: Size, value: serde_json::Value) -> Result<Vec<(Metric, f64)>, String> {
    let Size::Bulletin { users, ops } = size else { return Err(format!("bulletin with size {size}")) };
    let r: BulletinRun = serde_json::from_value(value).map_err(|e| format!("unexpected result ({e})"))?;
    let expected = users as u64 * ops;
    let posts = users as u64 * ops.div_ceil(2);
    if r.ops != expected || r.stored_posts != posts || r.problem.is_some() {
        return Err(format!(
            "{} of {expected} operations answered, {} of {posts} posts stored{}",
            r.ops,
            r.stored_posts,
            r.problem.map(|p| format!(" ({p})")).unwrap_or_default()
        ));
    }
    if r.run_s <= 0.0 || r.db_commits == 0 {
        return Err("an empty run".into());
    }
    Ok(vec![
        (Metric::OpsPerS, expected as f64 / r.run_s),
        (Metric::MedianUs, r.median_us),
        (Metric::P99Us, r.p99_us),
        (Metric::DbBusyPct, 100.0 * (r.db_statements_s + r.db_commit_s) / r.run_s),
        (Metric::RequestsPerCommit, r.db_requests as f64 / r.db_commits as f64),
    ])
}

/// A fresh directory for one run's database, removed when dropped.
struct RunDir(PathBuf);

impl RunDir {
    fn new() -> Result<RunDir, String> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("kamaelia-bench-bulletin-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(RunDir(dir))
    }

    fn db(&self) -> PathBuf {
        self.0.join("board.sqlite")
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the workload on `system`: `users` clients, `ops` operations each.
pub(crate) fn run(system: System, users: usize, ops: u64) -> Result<BulletinRun, String> {
    if users < 2 {
        return Err("the bulletin workload needs at least two users (each posts to the next)".into());
    }
    let dir = RunDir::new()?;
    let db = dir.db();
    let (addr, stats, live): (SocketAddr, Arc<DbStats>, Box<dyn std::any::Any>) = match system {
        System::Ours1 => {
            let sched = kamaelia_net::scheduler().map_err(|e| format!("cannot make the scheduler: {e}"))?;
            let board = BulletinBoard::new(&db).port(0).listen().map_err(|e| e.to_string())?;
            board.activate(&sched).map_err(|e| format!("cannot activate the board: {e}"))?;
            let (addr, stats) = (board.local_addr, board.stats.clone());
            (addr, stats, Box::new((sched.background(), board)))
        }
        System::Threads => {
            let (addr, stats) = threads_board(&db)?;
            (addr, stats, Box::new(()))
        }
        other => return Err(format!("{} does not run bulletin", other.id())),
    };
    let result = drive(addr, &stats, users, ops, &db);
    // The server is left running: the child process exits after printing the result.
    std::mem::forget(live);
    result
}

/// The clients: accounts first (untimed), then `ops` operations each, all at once.
fn drive(addr: SocketAddr, stats: &DbStats, users: usize, ops: u64, db: &Path) -> Result<BulletinRun, String> {
    let ready = Arc::new(Barrier::new(users + 1));
    let go = Arc::new(Barrier::new(users + 1));
    let threads: Vec<_> = (0..users)
        .map(|u| {
            let (ready, go) = (ready.clone(), go.clone());
            std::thread::spawn(move || -> Result<Vec<u64>, String> {
                let setup = Client::login(addr, &format!("user{u}"), "pw");
                ready.wait();
                let mut c = setup?;
                go.wait();
                c.operations(u, users, ops)
            })
        })
        .collect();
    ready.wait();
    let before = stats.snapshot();
    let cpu_before = scheduler_cpu();
    let started = Instant::now();
    go.wait();
    let mut latencies = Vec::new();
    let mut problem = None;
    for t in threads {
        match t.join() {
            Ok(Ok(l)) => latencies.extend(l),
            Ok(Err(e)) => problem = problem.or(Some(e)),
            Err(_) => problem = problem.or(Some("a client thread panicked".into())),
        }
    }
    let run_s = started.elapsed().as_secs_f64();
    let after = stats.snapshot();
    let scheduler_cpu_s = cpu_before.zip(scheduler_cpu()).map(|(a, b)| b - a);
    let d = delta(before, after);
    if let Some(cpu) = scheduler_cpu_s {
        eprintln!(
            "bulletin: {:.3} s; database busy {:.3} s in statements + {:.3} s in {} commits; scheduler thread CPU {cpu:.3} s",
            run_s,
            d.statements.as_secs_f64(),
            d.commits.as_secs_f64(),
            d.batches
        );
    }
    let stored_posts = stored_posts(db)?;
    let ops_done = latencies.len() as u64;
    Ok(BulletinRun {
        run_s,
        ops: ops_done,
        stored_posts,
        median_us: percentile(&mut latencies, 50.0) as f64 / 1e3,
        p99_us: percentile(&mut latencies, 99.0) as f64 / 1e3,
        db_requests: d.requests,
        db_commits: d.batches,
        db_statements_s: d.statements.as_secs_f64(),
        db_commit_s: d.commits.as_secs_f64(),
        scheduler_cpu_s,
        problem,
    })
}

fn delta(a: DbStatsSnapshot, b: DbStatsSnapshot) -> DbStatsSnapshot {
    DbStatsSnapshot {
        requests: b.requests - a.requests,
        batches: b.batches - a.batches,
        statements: b.statements.saturating_sub(a.statements),
        commits: b.commits.saturating_sub(a.commits),
    }
}

/// Distinct post subjects in the database (read as another SQLite client, WAL allows it).
fn stored_posts(db: &Path) -> Result<u64, String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| format!("cannot read back the database: {e}"))?;
    let (all, distinct): (i64, i64) = conn
        .query_row("SELECT count(*), count(DISTINCT subject) FROM messages", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|e| format!("cannot count the posts: {e}"))?;
    if all != distinct {
        return Err(format!("{all} posts stored, only {distinct} distinct: a post was stored twice"));
    }
    Ok(all as u64)
}

/// CPU seconds of the background scheduler's thread so far (from its schedstat).
fn scheduler_cpu() -> Option<f64> {
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == "axon-scheduler" {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            return stat.split_whitespace().next()?.parse::<f64>().ok().map(|ns| ns / 1e9);
        }
    }
    None
}

/// The `p`-th percentile (0..=100) of `v`, reordering it; 0 if empty.
fn percentile(v: &mut [u64], p: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    let i = (((v.len() - 1) as f64) * p / 100.0).round() as usize;
    *v.select_nth_unstable(i).1
}

const LIMIT: Duration = Duration::from_secs(60);

/// One user on a blocking socket.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn login(addr: SocketAddr, name: &str, password: &str) -> Result<Client, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("{name}: cannot connect: {e}"))?;
        stream.set_read_timeout(Some(LIMIT)).map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let mut c = Client { stream, buf: Vec::new() };
        c.expect("login: ")?;
        c.send(&format!("{name}\r\n"))?;
        let asked = c.expect("password: ")?;
        c.send(&format!("{password}\r\n"))?;
        if asked.ends_with("new password: ") {
            c.expect("again: ")?;
            c.send(&format!("{password}\r\n"))?;
        }
        c.expect(READY)?;
        Ok(c)
    }

    fn send(&mut self, text: &str) -> Result<(), String> {
        self.stream.write_all(text.as_bytes()).map_err(|e| format!("write: {e}"))
    }

    /// Everything up to and including `what` (notices included), consumed.
    fn expect(&mut self, what: &str) -> Result<String, String> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(at) = self.buf.windows(what.len()).position(|w| w == what.as_bytes()) {
                let taken: Vec<u8> = self.buf.drain(..at + what.len()).collect();
                return Ok(String::from_utf8_lossy(&taken).into_owned());
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(format!("the board closed the connection before {what:?}")),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("waiting for {what:?}: {e}")),
            }
        }
    }

    /// Alternates posts (to the next user) and reads (of the latest post); the latencies, ns.
    fn operations(&mut self, u: usize, users: usize, ops: u64) -> Result<Vec<u64>, String> {
        let to = format!("user{}", (u + 1) % users);
        let mut latest = None;
        let mut latencies = Vec::with_capacity(ops as usize);
        for k in 0..ops {
            let sent = Instant::now();
            match latest {
                Some(n) if k % 2 == 1 => {
                    self.send(&format!("read {n}\r\n"))?;
                    self.expect(&format!("-- end of message {n} --\r\n"))?;
                }
                _ => {
                    self.send(&format!("post {to} user{u} #{k}\r\nbody of user{u} #{k}\r\n.\r\n"))?;
                    self.expect("posted message ")?;
                    let rest = self.expect("\r\n")?;
                    let n: i64 = rest
                        .split(' ')
                        .next()
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| format!("no message number in {rest:?}"))?;
                    latest = Some(n);
                }
            }
            latencies.push(u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX));
        }
        self.send("quit\r\n")?;
        Ok(latencies)
    }
}

/// The peer: one OS thread per connection, the board's own Database code behind a mutex
/// (one transaction per request), notices written straight to the recipient's sockets.
fn threads_board(db: &Path) -> Result<(SocketAddr, Arc<DbStats>), String> {
    let database = Database::open(db).map_err(|e| e.to_string())?;
    let stats = database.stats();
    let database = Arc::new(Mutex::new(database));
    let online: Arc<Online> = Arc::default();
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot listen: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (database, online) = (database.clone(), online.clone());
            std::thread::spawn(move || {
                let _ = serve(stream, &database, &online);
            });
        }
    });
    Ok((addr, stats))
}

type Online = Mutex<HashMap<String, Vec<Arc<Mutex<TcpStream>>>>>;

fn ask(database: &Mutex<Database>, op: DbOp) -> std::io::Result<DbAnswer> {
    let reply: DbReply = database.lock().map_err(|_| std::io::Error::other("poisoned"))?.run_batch(vec![op]).remove(0);
    reply.map_err(std::io::Error::other)
}

/// The peer's protocol: just what the clients use (login, post, read, quit), same text.
fn serve(stream: TcpStream, database: &Mutex<Database>, online: &Online) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let out = Arc::new(Mutex::new(stream.try_clone()?));
    let say = |text: &str| -> std::io::Result<()> {
        out.lock().map_err(|_| std::io::Error::other("poisoned"))?.write_all(text.as_bytes())
    };
    let mut lines = BufReader::new(stream);
    let mut line = || -> std::io::Result<String> {
        let mut l = String::new();
        if lines.read_line(&mut l)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(l.trim_end_matches(['\r', '\n']).to_string())
    };
    say("login: ")?;
    let name = line()?;
    let user = match ask(database, DbOp::FindAccount { name: name.clone() })? {
        DbAnswer::Account(Some(account)) => {
            say("password: ")?;
            let password = line()?;
            let verified = hash_op(&HashOp::Verify { password, hash: account.password_hash });
            if verified != Ok(HashAnswer::Verified(true)) {
                return say("error: wrong password\r\n");
            }
            account.user
        }
        _ => {
            say("new password: ")?;
            let password = line()?;
            say("again: ")?;
            line()?;
            let Ok(HashAnswer::Hashed(password_hash)) = hash_op(&HashOp::Hash { password }) else {
                return say("error: cannot hash\r\n");
            };
            match ask(database, DbOp::CreateAccount { name: name.clone(), password_hash })? {
                DbAnswer::Created(Some(user)) => user,
                _ => return say("error: name taken\r\n"),
            }
        }
    };
    say(&format!("{READY}\r\n"))?;
    online
        .lock()
        .map_err(|_| std::io::Error::other("poisoned"))?
        .entry(user.name.clone())
        .or_default()
        .push(out.clone());
    loop {
        let l = line()?;
        let mut words = l.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some("quit"), ..) => return say("Goodbye.\r\n"),
            (Some("read"), Some(n), _) => {
                let n: i64 = n.parse().unwrap_or(0);
                match ask(database, DbOp::Read { user: user.id, message: n })? {
                    DbAnswer::Message(Some(m)) => say(&format!(
                        "Message {n}\r\nFrom: {}\r\nSubject: {}\r\n\r\n{}\r\n-- end of message {n} --\r\n",
                        m.from, m.subject, m.body
                    ))?,
                    _ => say(&format!("error: there is no message {n}\r\n"))?,
                }
            }
            (Some("post"), Some(to), Some(subject)) => {
                if !matches!(ask(database, DbOp::FindAccount { name: to.to_string() })?, DbAnswer::Account(Some(_))) {
                    say(&format!("error: there is no user named {to}\r\n"))?;
                    continue;
                }
                say("Type the message; end it with a line holding only \".\".\r\n")?;
                let mut body = Vec::new();
                loop {
                    let b = line()?;
                    if b == "." {
                        break;
                    }
                    body.push(b);
                }
                let op = DbOp::Post {
                    from: user.id,
                    to: to.to_string(),
                    subject: subject.to_string(),
                    body: body.join("\n"),
                };
                if let DbAnswer::Posted(PostOutcome::Posted { id, to: Some(to) }) = ask(database, op)? {
                    say(&format!("posted message {id} to {to}\r\n"))?;
                    let notice = format!("notice: new message {id} from {}: {subject}\r\n", user.name);
                    let recipients = online.lock().map_err(|_| std::io::Error::other("poisoned"))?.get(&to).cloned();
                    for r in recipients.unwrap_or_default() {
                        if let Ok(mut s) = r.lock() {
                            let _ = s.write_all(notice.as_bytes());
                        }
                    }
                }
            }
            _ => say("error: unknown command\r\n")?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(ops: u64, stored: u64, problem: Option<&str>) -> serde_json::Value {
        json!({"run_s": 2.0, "ops": ops, "stored_posts": stored, "median_us": 100.0, "p99_us": 900.0,
               "db_requests": 40, "db_commits": 10, "db_statements_s": 0.5, "db_commit_s": 0.5,
               "scheduler_cpu_s": 0.1, "problem": problem})
    }

    #[test]
    fn a_run_counts_only_if_every_operation_was_answered_and_every_post_stored_once() {
        let size = Size::Bulletin { users: 4, ops: 5 };
        let figures = check(size, run(20, 12, None)).unwrap();
        assert_eq!(
            figures,
            [
                (Metric::OpsPerS, 10.0),
                (Metric::MedianUs, 100.0),
                (Metric::P99Us, 900.0),
                (Metric::DbBusyPct, 50.0),
                (Metric::RequestsPerCommit, 4.0)
            ]
        );
        assert!(check(size, run(19, 12, None)).unwrap_err().contains("19 of 20 operations"));
        assert!(check(size, run(20, 11, None)).unwrap_err().contains("11 of 12 posts"));
        assert!(check(size, run(20, 12, Some("user3: closed"))).unwrap_err().contains("user3: closed"));
    }

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let mut v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&mut v, 50.0), 51);
        assert_eq!(percentile(&mut v, 99.0), 99);
        assert_eq!(percentile(&mut [], 99.0), 0);
    }
}
