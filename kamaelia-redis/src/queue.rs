//! The distributed work queue on a Redis stream: [`Job`]s enqueued idempotently, taken by
//! [`QueueWorker`]s on any host through one consumer group, leased, kept alive by heartbeats,
//! reclaimed from dead workers, dead-lettered after too many deliveries, acknowledged only
//! after the work succeeded.
//!
//! Keys of queue `NAME`: the stream `kamaelia:queue:NAME` (group `workers`, from the
//! beginning), the set `...:ids` of every job id ever enqueued (what makes enqueueing
//! idempotent), the hash `...:done` (job id -> who finished it), the hash `...:failures` (job
//! id -> the last failure), and the dead-letter stream `...:dead`.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::path::Path;
use std::time::{Duration, Instant, UNIX_EPOCH};

use axon_core::{Component, ComponentBuilder, ControlWatch, Inbox, Next, Outbox, Signal, ThreadCtx};
use redis::{Connection, RedisError, Value};
use serde::{Deserialize, Serialize};

use crate::endpoint::{
    Backoff, Endpoint, RawEntry, int, is_connection_error, range_entries, read_reply_entries, string,
};
use crate::{Error, ErrorKind};

/// The consumer group every worker of a queue belongs to.
const GROUP: &str = "workers";

/// One job: a file of the shared source directory. Its id is the relative path, the size and
/// the modification time, so enqueueing the same directory twice makes no duplicates, and a
/// file changed since is a new job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// `PATH:SIZE:MTIME` (mtime as seconds.nanoseconds since the epoch).
    pub id: String,
    /// The path relative to the source directory, with `/` separators.
    pub path: String,
    /// Size in bytes when enqueued.
    pub size: u64,
    /// Modification time when enqueued, nanoseconds since the epoch.
    pub mtime_ns: u128,
}

impl Job {
    /// The job for `root/rel` as it is now on disk.
    pub fn for_file(root: &Path, rel: &Path) -> std::io::Result<Job> {
        let meta = std::fs::metadata(root.join(rel))?;
        let mtime_ns = meta.modified()?.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let path = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        Ok(Job::new(path, meta.len(), mtime_ns))
    }

    /// The job for a file at relative `path` with this size and mtime.
    pub fn new(path: impl Into<String>, size: u64, mtime_ns: u128) -> Job {
        let path = path.into();
        let id = format!("{path}:{size}:{}.{:09}", mtime_ns / 1_000_000_000, mtime_ns % 1_000_000_000);
        Job { id, path, size, mtime_ns }
    }
}

/// A queue URL: `redis://HOST:PORT[/DB]/NAME`.
#[derive(Clone, Debug)]
pub(crate) struct QueueUrl {
    pub(crate) endpoint: Endpoint,
    pub(crate) name: String,
}

impl QueueUrl {
    pub(crate) fn parse(url: &str) -> Result<QueueUrl, Error> {
        let malformed = |why: &str| {
            Error::new(ErrorKind::MalformedUrl, url, format!("{why} (expected redis://HOST:PORT[/DB]/NAME)"))
        };
        let rest = url.strip_prefix("redis://").ok_or_else(|| malformed("it does not start with redis://"))?;
        let (server, path) = rest.split_once('/').ok_or_else(|| malformed("no queue name: redis://HOST:PORT/NAME"))?;
        let (db, name) = match path.split_once('/') {
            Some((db, name)) => (Some(db), name),
            None => (None, path),
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(malformed("no queue name: redis://HOST:PORT[/DB]/NAME"));
        }
        let server_url = match db {
            Some(db) => format!("redis://{server}/{db}"),
            None => format!("redis://{server}"),
        };
        let endpoint =
            Endpoint::parse(&server_url).map_err(|e| Error::new(ErrorKind::MalformedUrl, url, e.detail()))?;
        Ok(QueueUrl { endpoint, name: name.to_string() })
    }

    fn key(&self, suffix: &str) -> String {
        if suffix.is_empty() {
            format!("kamaelia:queue:{}", self.name)
        } else {
            format!("kamaelia:queue:{}:{suffix}", self.name)
        }
    }
}

/// Adds the job if its id was never enqueued; returns whether it was new. Atomic on the
/// server, so two enqueuers racing on one directory add each job once.
const ENQUEUE: &str = r"
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'job', ARGV[2])
  return 1
end
return 0";

/// What a queue holds, for `status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct QueueStatus {
    /// Enqueued, not yet handed to any worker.
    pub waiting: u64,
    /// Handed to a worker and not yet acknowledged, per worker.
    pub in_progress: Vec<(String, u64)>,
    /// Finished (acknowledged after success).
    pub done: u64,
    /// Moved to the dead-letter stream.
    pub dead: u64,
}

/// A blocking connection to one queue, for enqueueing and status (apps, tests). Workers are
/// components: [`QueueWorker`].
pub struct Queue {
    url: QueueUrl,
    con: Connection,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("url", &self.url.endpoint.url()).field("name", &self.url.name).finish()
    }
}

impl Queue {
    /// Connects to the queue at `url` (`redis://HOST:PORT[/DB]/NAME`) and makes sure it exists.
    pub fn connect(url: &str) -> Result<Queue, Error> {
        let url = QueueUrl::parse(url)?;
        let mut con = url.endpoint.connect(Duration::ZERO)?;
        create_group(&mut con, &url.key("")).map_err(|e| url.endpoint.error(&e))?;
        Ok(Queue { url, con })
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.url.name
    }

    /// Enqueues `job` unless a job with its id was ever enqueued; true if it was new.
    pub fn enqueue(&mut self, job: &Job) -> Result<bool, Error> {
        let body = serde_json::to_string(job)
            .map_err(|e| Error::new(ErrorKind::Server, self.url.endpoint.url(), e.to_string()))?;
        let added: i64 = redis::Script::new(ENQUEUE)
            .key(self.url.key(""))
            .key(self.url.key("ids"))
            .arg(&job.id)
            .arg(body)
            .invoke(&mut self.con)
            .map_err(|e| self.url.endpoint.error(&e))?;
        Ok(added == 1)
    }

    /// Waiting, in progress per worker, done, dead letters.
    pub fn status(&mut self) -> Result<QueueStatus, Error> {
        let ep = self.url.endpoint.clone();
        status(&mut self.con, &self.url).map_err(|e| ep.error(&e))
    }

    /// The dead letters: (job id, reason), oldest first.
    pub fn dead_letters(&mut self) -> Result<Vec<(String, String)>, Error> {
        let v: Value = redis::cmd("XRANGE")
            .arg(self.url.key("dead"))
            .arg("-")
            .arg("+")
            .query(&mut self.con)
            .map_err(|e| self.url.endpoint.error(&e))?;
        Ok(range_entries(v)
            .into_iter()
            .filter_map(|(_, f)| {
                let f = f?;
                let get =
                    |k: &[u8]| f.iter().find(|(n, _)| n == k).map(|(_, v)| String::from_utf8_lossy(v).into_owned());
                Some((get(b"id")?, get(b"reason").unwrap_or_default()))
            })
            .collect())
    }

    /// The ids of the jobs done.
    pub fn done(&mut self) -> Result<Vec<String>, Error> {
        redis::cmd("HKEYS").arg(self.url.key("done")).query(&mut self.con).map_err(|e| self.url.endpoint.error(&e))
    }
}

fn create_group(con: &mut Connection, key: &str) -> Result<(), RedisError> {
    match redis::cmd("XGROUP").arg("CREATE").arg(key).arg(GROUP).arg("0").arg("MKSTREAM").query::<()>(con) {
        Err(e) if e.code() != Some("BUSYGROUP") => Err(e),
        _ => Ok(()),
    }
}

fn status(con: &mut Connection, url: &QueueUrl) -> Result<QueueStatus, RedisError> {
    let key = url.key("");
    let groups = crate::policy::groups(con, &key)?;
    let g = groups.iter().find(|g| g.name == GROUP);
    let waiting = match g {
        Some(g) => match g.lag {
            Some(l) => l,
            None => {
                let v: Value =
                    redis::cmd("XRANGE").arg(&key).arg(format!("({}", g.last_delivered)).arg("+").query(con)?;
                range_entries(v).len() as u64
            }
        },
        None => redis::cmd("XLEN").arg(&key).query(con)?,
    };
    let mut in_progress = Vec::new();
    if g.is_some_and(|g| g.pending > 0) {
        let v: Value = redis::cmd("XPENDING").arg(&key).arg(GROUP).query(con)?;
        if let Value::Array(a) = v {
            if let Some(Value::Array(per)) = a.into_iter().nth(3) {
                for c in per {
                    if let Value::Array(pair) = c {
                        if let (Some(name), Some(n)) = (pair.first().and_then(string), pair.get(1).and_then(int)) {
                            in_progress.push((name, n.max(0) as u64));
                        }
                    }
                }
            }
        }
    }
    let done: u64 = redis::cmd("HLEN").arg(url.key("done")).query(con)?;
    let dead: u64 = redis::cmd("XLEN").arg(url.key("dead")).query(con)?;
    Ok(QueueStatus { waiting, in_progress, done, dead })
}

/// A job handed to whoever does the work: the job, how many times it has been delivered
/// (1 the first time), and the ticket to answer with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The job.
    pub job: Job,
    /// Deliveries so far, this one included.
    pub delivery: u64,
    /// Give it back in the [`Outcome`].
    pub ticket: Ticket,
}

/// Identifies one delivery of a job (its stream entry).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ticket {
    entry: String,
    job_id: String,
}

impl Ticket {
    /// The job's id.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }
}

/// What became of a [`Lease`]: send it to the worker's `inbox`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The work succeeded (outputs in place): acknowledge it.
    Done(Ticket),
    /// The work failed: another delivery will be made (by any worker) until the job has been
    /// delivered `max_deliveries` times, then it goes to the dead letters with this reason.
    Failed(Ticket, String),
}

/// Takes jobs from a queue on behalf of one worker (a consumer of the group `workers`) and
/// hands them out as [`Lease`]s; acknowledges each when its [`Outcome`] says it is done.
///
/// Boxes:
/// - `outbox: Lease` (out): jobs to do, at most [`max_in_flight`](Self::max_in_flight) at a
///   time without an outcome.
/// - `inbox: Outcome`: what became of them.
/// - `control`, `signal` (out): the shutdown contract (below); other signals are passed on.
/// - `error: Error` (out): lost connections and their return, undecodable entries (dead-lettered).
///
/// Taking, in order: after a (re)start, its own pending entries (jobs it held when it
/// stopped: a `kill -9`ed worker restarted under the same consumer name picks them up at
/// once); jobs of any worker idle for longer than the lease (`XAUTOCLAIM`, looked at every
/// quarter lease); new jobs (`XREADGROUP`). While a job is out it is kept alive by a
/// heartbeat every lease/3 (`XCLAIM ... JUSTID`, which does not count as a delivery), so a
/// long job is never reclaimed while its worker lives. A job whose delivery count passes
/// `max_deliveries` is moved to the dead-letter stream with the reason (its last failure, or
/// the expired leases) instead of being handed out. An outcome whose acknowledgement could
/// not be written (the server was down) is kept and written once it is back.
///
/// Shutdown: `ProducerFinished` stops taking jobs, waits for the outcomes of those out, then
/// passes the signal on; `ShutdownMicroprocess` stops at once (the jobs out stay pending and
/// are reclaimed after the lease) and passes it on. With [`until_empty`](Self::until_empty)
/// it sends its own `ProducerFinished` once nothing is waiting or in progress in the queue.
#[must_use = "a builder does nothing until `build` is called"]
pub struct QueueWorker {
    url: String,
    consumer: String,
    lease: Duration,
    max_deliveries: u64,
    max_in_flight: usize,
    until_empty: bool,
    _p: PhantomData<()>,
}

impl QueueWorker {
    /// A worker named `consumer` (keep the name across restarts) on the queue at `url`
    /// (`redis://HOST:PORT[/DB]/NAME`).
    pub fn new(url: impl Into<String>, consumer: impl Into<String>) -> Self {
        QueueWorker {
            url: url.into(),
            consumer: consumer.into(),
            lease: Duration::from_secs(60),
            max_deliveries: 5,
            max_in_flight: 1,
            until_empty: false,
            _p: PhantomData,
        }
    }

    /// How long a job may go without a heartbeat before another worker may take it
    /// (default 60 s; at least 30 ms).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(30));
        self
    }

    /// Deliveries after which a job is dead-lettered (default 5).
    pub fn max_deliveries(mut self, n: u64) -> Self {
        self.max_deliveries = n.max(1);
        self
    }

    /// Jobs handed out at once without an outcome (default 1).
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// Sets the consumer name.
    pub fn consumer(mut self, consumer: impl Into<String>) -> Self {
        self.consumer = consumer.into();
        self
    }

    /// Ends (with `ProducerFinished`) once nothing is waiting or in progress (default: runs
    /// until told to stop).
    pub fn until_empty(mut self, yes: bool) -> Self {
        self.until_empty = yes;
        self
    }

    /// Builds the threaded component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("QueueWorker");
        let inbox = b.inbox::<Outcome>("inbox");
        let control = b.control();
        let outbox = b.outbox::<Lease>("outbox");
        let signal = b.signal();
        let error = b.outbox::<Error>("error");
        b.run_threaded(move |tctx| {
            let watch = ControlWatch::new(control, signal);
            Worker { cfg: self, tctx, watch, inbox, outbox, error, pending_finish: None }.run();
        })
    }
}

struct Worker {
    cfg: QueueWorker,
    tctx: ThreadCtx,
    watch: ControlWatch,
    inbox: Inbox<Outcome>,
    outbox: Outbox<Lease>,
    error: Outbox<Error>,
    /// A `ProducerFinished` received while jobs were out: passed on once they are answered.
    pending_finish: Option<Signal>,
}

/// How long one blocking read waits for new jobs (also how soon a shutdown is seen then).
const BLOCK: Duration = Duration::from_millis(100);

impl Worker {
    fn run(mut self) {
        let url = match QueueUrl::parse(&self.cfg.url) {
            Ok(u) => u,
            Err(e) => return self.fatal(e),
        };
        let key = url.key("");
        let heartbeat = self.cfg.lease / 3;
        let claim_every = self.cfg.lease / 4;
        let mut con: Option<Connection> = None;
        let mut backoff = Backoff::new();
        let mut lost = false;
        let mut own_pending = true;
        let mut next_claim = Instant::now();
        // Jobs out: entry -> (ticket, last heartbeat).
        let mut out: HashMap<String, (Ticket, Instant)> = HashMap::new();
        // Outcomes not yet written.
        let mut outcomes: Vec<Outcome> = Vec::new();
        let end = 'run: loop {
            // Outcomes first: they free room and must not wait.
            loop {
                match self.watch.try_next(&self.inbox) {
                    Some(Next::Data(o)) => outcomes.push(o),
                    Some(Next::Other(s)) => self.watch.emit_blocking(s),
                    Some(Next::End(s)) if s.is_shutdown() => break 'run s,
                    Some(Next::End(s)) => {
                        // ProducerFinished, inbox drained: keep it noted until the jobs out
                        // are answered.
                        if out.is_empty() && outcomes.is_empty() {
                            break 'run s;
                        }
                        let _ = self.watch.take_finished();
                        self.pending_finish = Some(s);
                        break;
                    }
                    None => break,
                }
            }
            if let Some(s) = self.watch.check() {
                break s;
            }
            let finishing = self.pending_finish.is_some() || self.watch.is_finishing();
            if finishing && out.is_empty() && outcomes.is_empty() {
                break self
                    .pending_finish
                    .take()
                    .or_else(|| self.watch.take_finished())
                    .unwrap_or_else(Signal::producer_finished);
            }
            let Some(c) = con.as_mut() else {
                if !backoff.due() {
                    self.tctx.pause(Some(backoff.wait()));
                    continue;
                }
                match url.endpoint.connect(BLOCK).and_then(|mut c| {
                    create_group(&mut c, &key).map_err(|e| url.endpoint.error(&e))?;
                    Ok(c)
                }) {
                    Ok(c) => {
                        con = Some(c);
                        backoff.reset();
                        if std::mem::take(&mut lost) {
                            let e = Error::new(ErrorKind::Reconnected, url.endpoint.url(), "taking jobs again");
                            if let Err(s) = self.report(e) {
                                break s;
                            }
                        }
                    }
                    Err(e) if e.is_fatal() => return self.fatal(e),
                    Err(e) => {
                        backoff.failed();
                        if !std::mem::replace(&mut lost, true) {
                            if let Err(s) = self.report(e) {
                                break s;
                            }
                        }
                    }
                }
                continue;
            };
            let result = self.turn(
                c,
                &url,
                &mut out,
                &mut outcomes,
                &mut own_pending,
                &mut next_claim,
                heartbeat,
                claim_every,
                finishing,
            );
            match result {
                Ok(Turn::Busy) => {}
                Ok(Turn::Idle(t)) => {
                    self.tctx.pause(Some(t));
                }
                Ok(Turn::Empty) => {
                    if self.cfg.until_empty && out.is_empty() && outcomes.is_empty() {
                        break Signal::producer_finished_by(self.tctx.id());
                    }
                }
                Ok(Turn::Stop(s)) => break s,
                Err(e) => {
                    con = None;
                    backoff.failed();
                    let report = if is_connection_error(&e) {
                        !std::mem::replace(&mut lost, true)
                    } else {
                        lost = true;
                        true
                    };
                    if report {
                        if let Err(s) = self.report(url.endpoint.lost(&e)) {
                            break s;
                        }
                    }
                }
            }
        };
        self.watch.finish_blocking(end);
    }

    /// One round with a connection: write outcomes, heartbeat, take jobs.
    #[allow(clippy::too_many_arguments)]
    fn turn(
        &mut self,
        c: &mut Connection,
        url: &QueueUrl,
        out: &mut HashMap<String, (Ticket, Instant)>,
        outcomes: &mut Vec<Outcome>,
        own_pending: &mut bool,
        next_claim: &mut Instant,
        heartbeat: Duration,
        claim_every: Duration,
        finishing: bool,
    ) -> Result<Turn, RedisError> {
        let key = url.key("");
        while let Some(o) = outcomes.first() {
            self.write_outcome(c, url, o)?;
            let o = outcomes.remove(0);
            let ticket = match &o {
                Outcome::Done(t) | Outcome::Failed(t, _) => t,
            };
            out.remove(&ticket.entry);
        }
        // Heartbeats for jobs out longer than a third of the lease.
        let now = Instant::now();
        let due: Vec<String> =
            out.iter().filter(|(_, (_, at))| now.duration_since(*at) >= heartbeat).map(|(e, _)| e.clone()).collect();
        if !due.is_empty() {
            redis::cmd("XCLAIM")
                .arg(&key)
                .arg(GROUP)
                .arg(&self.cfg.consumer)
                .arg(0)
                .arg(&due)
                .arg("JUSTID")
                .query::<Value>(c)?;
            for e in due {
                if let Some(slot) = out.get_mut(&e) {
                    slot.1 = now;
                }
            }
        }
        let next_beat = out.values().map(|(_, at)| *at + heartbeat).min();
        let until_beat = next_beat.map(|t| t.saturating_duration_since(Instant::now()));
        if finishing || out.len() >= self.cfg.max_in_flight {
            return Ok(Turn::Idle(until_beat.unwrap_or(BLOCK).min(BLOCK)));
        }
        let room = self.cfg.max_in_flight - out.len();
        // 1. Own pending entries after a start.
        let mut entries: Vec<RawEntry> = Vec::new();
        if *own_pending {
            let v: Value = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(GROUP)
                .arg(&self.cfg.consumer)
                .arg("COUNT")
                .arg(room)
                .arg("STREAMS")
                .arg(&key)
                .arg("0")
                .query(c)?;
            entries = read_reply_entries(v).into_iter().filter(|(id, _)| !out.contains_key(id)).collect();
            if entries.is_empty() {
                *own_pending = false;
            }
        }
        // 2. Jobs whose lease expired.
        if entries.is_empty() && Instant::now() >= *next_claim {
            *next_claim = Instant::now() + claim_every;
            let v: Value = redis::cmd("XAUTOCLAIM")
                .arg(&key)
                .arg(GROUP)
                .arg(&self.cfg.consumer)
                .arg(self.cfg.lease.as_millis() as u64)
                .arg("0-0")
                .arg("COUNT")
                .arg(room)
                .query(c)?;
            if let Value::Array(parts) = v {
                if let Some(claimed) = parts.into_iter().nth(1) {
                    entries = range_entries(claimed);
                }
            }
        }
        // 3. New jobs.
        let mut fresh = false;
        if entries.is_empty() {
            let block = until_beat
                .unwrap_or(BLOCK)
                .min(BLOCK)
                .min(next_claim.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(1));
            let v: Value = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(GROUP)
                .arg(&self.cfg.consumer)
                .arg("COUNT")
                .arg(room)
                .arg("BLOCK")
                .arg(block.as_millis() as u64)
                .arg("STREAMS")
                .arg(&key)
                .arg(">")
                .query(c)?;
            entries = read_reply_entries(v);
            fresh = true;
        }
        if entries.is_empty() {
            if fresh && self.cfg.until_empty && out.is_empty() {
                let s = status(c, url)?;
                if s.waiting == 0 && s.in_progress.is_empty() {
                    return Ok(Turn::Empty);
                }
            }
            return Ok(Turn::Busy);
        }
        for (entry, f) in entries {
            let Some(f) = f else {
                // Deleted while pending: nothing to do.
                redis::cmd("XACK").arg(&key).arg(GROUP).arg(&entry).query::<()>(c)?;
                continue;
            };
            let delivery = self.deliveries(c, &key, &entry)?;
            let job_field = f.iter().find(|(k, _)| k == b"job").map(|(_, v)| v.clone());
            let job: Result<Job, String> = match job_field {
                Some(j) => serde_json::from_slice(&j).map_err(|e| format!("the job does not decode: {e}")),
                None => Err("not a job entry (no field job)".into()),
            };
            let job = match job {
                Ok(j) => j,
                Err(why) => {
                    self.dead_letter(c, url, &entry, &f, None, &why)?;
                    let e = Error::new(
                        ErrorKind::Undecodable,
                        url.endpoint.url(),
                        format!("entry {entry} of {key}: {why}; moved to {}", url.key("dead")),
                    );
                    if let Err(s) = self.report(e) {
                        return Ok(Turn::Stop(s));
                    }
                    continue;
                }
            };
            if delivery > self.cfg.max_deliveries {
                let last: Value = redis::cmd("HGET").arg(url.key("failures")).arg(&job.id).query(c)?;
                let why = match string(&last) {
                    Some(f) => {
                        format!("delivered {delivery} times (max {}); last failure: {f}", self.cfg.max_deliveries)
                    }
                    None => format!("delivered {delivery} times (max {}); its leases expired", self.cfg.max_deliveries),
                };
                self.dead_letter(c, url, &entry, &f, Some(&job.id), &why)?;
                continue;
            }
            let ticket = Ticket { entry: entry.clone(), job_id: job.id.clone() };
            out.insert(entry, (ticket.clone(), Instant::now()));
            if let Err(i) = self.watch.send_blocking(&self.tctx, &self.outbox, Lease { job, delivery, ticket }) {
                return Ok(Turn::Stop(i.signal));
            }
        }
        Ok(Turn::Busy)
    }

    /// How many times the entry has been delivered (this delivery included).
    fn deliveries(&self, c: &mut Connection, key: &str, entry: &str) -> Result<u64, RedisError> {
        let v: Value = redis::cmd("XPENDING").arg(key).arg(GROUP).arg(entry).arg(entry).arg(1).query(c)?;
        let n = match v {
            Value::Array(a) => a.first().and_then(|e| match e {
                Value::Array(f) => f.get(3).and_then(int),
                _ => None,
            }),
            _ => None,
        };
        Ok(n.unwrap_or(1).max(1) as u64)
    }

    fn write_outcome(&mut self, c: &mut Connection, url: &QueueUrl, o: &Outcome) -> Result<(), RedisError> {
        let key = url.key("");
        match o {
            Outcome::Done(t) => redis::pipe()
                .atomic()
                .cmd("XACK")
                .arg(&key)
                .arg(GROUP)
                .arg(&t.entry)
                .ignore()
                .cmd("HSET")
                .arg(url.key("done"))
                .arg(&t.job_id)
                .arg(&self.cfg.consumer)
                .ignore()
                .cmd("HDEL")
                .arg(url.key("failures"))
                .arg(&t.job_id)
                .ignore()
                .query::<()>(c),
            Outcome::Failed(t, why) => {
                // Recorded for the dead letter; the entry is made reclaimable at once (idle
                // as long as a lease), so the next claim by any worker delivers it again.
                redis::cmd("HSET").arg(url.key("failures")).arg(&t.job_id).arg(why).query::<()>(c)?;
                redis::cmd("XCLAIM")
                    .arg(&key)
                    .arg(GROUP)
                    .arg(&self.cfg.consumer)
                    .arg(0)
                    .arg(&t.entry)
                    .arg("IDLE")
                    .arg(self.cfg.lease.as_millis() as u64)
                    .arg("JUSTID")
                    .query::<Value>(c)
                    .map(drop)
            }
        }
    }

    fn dead_letter(
        &self,
        c: &mut Connection,
        url: &QueueUrl,
        entry: &str,
        fields: &[(Vec<u8>, Vec<u8>)],
        job_id: Option<&str>,
        why: &str,
    ) -> Result<(), RedisError> {
        let mut add = redis::cmd("XADD");
        add.arg(url.key("dead"))
            .arg("*")
            .arg("entry")
            .arg(entry)
            .arg("reason")
            .arg(why)
            .arg("worker")
            .arg(&self.cfg.consumer);
        for (k, v) in fields {
            add.arg(k.as_slice()).arg(v.as_slice());
        }
        if job_id.is_none() {
            add.arg("id").arg(entry);
        }
        redis::pipe()
            .atomic()
            .add_command(add)
            .ignore()
            .cmd("XACK")
            .arg(url.key(""))
            .arg(GROUP)
            .arg(entry)
            .ignore()
            .query::<()>(c)
    }

    fn report(&mut self, e: Error) -> Result<(), Signal> {
        self.watch.send_blocking(&self.tctx, &self.error, e).map_err(|i| i.signal)
    }

    fn fatal(mut self, e: Error) {
        let message = format!("QueueWorker({}): {e}", self.cfg.consumer);
        let _ = self.error.try_send(e);
        self.watch.emit_blocking(Signal::ErrorInformation { caller: Some(self.tctx.id()), message });
        self.watch.finish_blocking(Signal::ShutdownMicroprocess);
    }
}

/// What a round did.
enum Turn {
    /// Something happened: go round again.
    Busy,
    /// Nothing to take now: wait this long (or for an outcome).
    Idle(Duration),
    /// Nothing waiting or in progress anywhere.
    Empty,
    /// A shutdown interrupted a send.
    Stop(Signal),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_path_size_and_mtime() {
        let j = Job::new("a/b.mov", 10, 1_700_000_000_123_456_789);
        assert_eq!(j.id, "a/b.mov:10:1700000000.123456789");
    }

    #[test]
    fn queue_urls_name_the_queue() {
        let q = QueueUrl::parse("redis://127.0.0.1:6379/jobs").unwrap();
        assert_eq!((q.name.as_str(), q.endpoint.url()), ("jobs", "redis://127.0.0.1:6379"));
        let q = QueueUrl::parse("redis://h:1/2/jobs").unwrap();
        assert_eq!((q.name.as_str(), q.endpoint.url()), ("jobs", "redis://h:1/2"));
        for bad in ["redis://h:1", "redis://h:1/", "h:1/jobs", "redis://h:x/jobs"] {
            assert_eq!(QueueUrl::parse(bad).unwrap_err().kind(), &ErrorKind::MalformedUrl, "{bad}");
        }
    }
}
