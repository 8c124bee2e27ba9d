//! A real `redis-server` for tests (feature `testing`): started on 127.0.0.1 with a free
//! port and a temporary directory, killed with `kill -9` and restarted on the same port and
//! directory, so a test sees exactly what a crash and a restart do to its data.
//!
//! ```no_run
//! use kamaelia_redis::testing::RedisServer;
//!
//! let mut server = RedisServer::start().expect("redis-server");
//! let url = server.url(); // redis://127.0.0.1:PORT
//! server.kill9().unwrap(); // as a crash would: no shutdown, no save
//! server.restart().unwrap(); // same port, same directory: the append-only file is replayed
//! # drop(url);
//! ```
//!
//! The server runs with `--save '' --appendonly yes --daemonize no`: no snapshots, every
//! write in the append-only file, in the foreground so the helper owns the process. Readiness
//! is an event, not a guess: the helper reads the server's log until it says "Ready to accept
//! connections", then checks with a `PING`. Nothing here installs anything: with no
//! `redis-server` on `PATH` the error says what to install.

/// The `redis` client crate itself, for peers that measure against the raw client (the
/// benchmarks): `redis` stays a dependency of kamaelia-redis only.
pub use redis;

use std::fmt;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a start may take before it is an error (a loaded CI machine replaying a large
/// append-only file is slow; a healthy start takes milliseconds).
const START_DEADLINE: Duration = Duration::from_secs(30);

/// Why a test server could not be started.
#[derive(Debug)]
pub struct ServerError(String);

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServerError {}

/// A `redis-server` child process owned by a test. Dropping it kills the server and removes
/// its directory.
pub struct RedisServer {
    port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    child: Option<Child>,
    log: Arc<Mutex<String>>,
}

impl fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisServer").field("port", &self.port).field("dir", &self.dir.path()).finish()
    }
}

impl RedisServer {
    /// Starts a server on a free port of 127.0.0.1 in a new temporary directory.
    pub fn start() -> Result<RedisServer, ServerError> {
        Self::start_with(&[])
    }

    /// [`start`](Self::start) with more `redis-server` arguments (e.g. `["--requirepass",
    /// "secret"]`), kept for restarts.
    pub fn start_with(extra: &[&str]) -> Result<RedisServer, ServerError> {
        let dir = tempfile::Builder::new()
            .prefix("kamaelia-redis-test-")
            .tempdir()
            .map_err(|e| ServerError(format!("cannot make a temporary directory for redis-server: {e}")))?;
        let extra = extra.iter().map(|s| s.to_string()).collect();
        let mut server = RedisServer { port: 0, dir, extra, child: None, log: Arc::new(Mutex::new(String::new())) };
        // A port found free can be taken by another test before the server binds it: try
        // again with another.
        let mut tries = 0;
        loop {
            server.port = free_port()?;
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(e) if e.0.contains("Address already in use") && tries < 5 => tries += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's directory (its append-only files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything the server has logged (all runs).
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// True while the server process runs.
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Kills the server with SIGKILL (`kill -9`: no shutdown, no final save) and waits for it.
    pub fn kill9(&mut self) -> Result<(), ServerError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        child.kill().map_err(|e| ServerError(format!("cannot kill redis-server: {e}")))?;
        child.wait().map_err(|e| ServerError(format!("cannot reap redis-server: {e}")))?;
        Ok(())
    }

    /// Starts the server again on the same port and directory (it replays its append-only
    /// file). Kills it first if it is still running.
    pub fn restart(&mut self) -> Result<(), ServerError> {
        self.kill9()?;
        self.spawn()
    }

    fn spawn(&mut self) -> Result<(), ServerError> {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "yes", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--logfile", "", "--protected-mode", "yes"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| {
            ServerError(if e.kind() == std::io::ErrorKind::NotFound {
                "redis-server is not installed (not found on PATH): install it, e.g. \
                 `apt-get install -y redis-server` on Debian"
                    .to_string()
            } else {
                format!("cannot run redis-server: {e}")
            })
        })?;
        let (ready_tx, ready_rx) = mpsc::channel();
        for pipe in [
            child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let (log, ready) = (self.log.clone(), ready_tx.clone());
            // Keeps reading for the server's whole life: a full pipe would block its logging.
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if line.contains("Ready to accept connections") {
                        let _ = ready.send(true);
                    }
                    if let Ok(mut l) = log.lock() {
                        l.push_str(&line);
                        l.push('\n');
                    }
                }
                // The pipe closed: the server ended.
                let _ = ready.send(false);
            });
        }
        drop(ready_tx);
        self.child = Some(child);
        let deadline = Instant::now() + START_DEADLINE;
        let mut closed = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match ready_rx.recv_timeout(left) {
                Ok(true) => break,
                Ok(false) => {
                    closed += 1;
                    if closed == 2 {
                        let _ = self.kill9();
                        return Err(ServerError(format!(
                            "redis-server on port {} exited before it was ready:\n{}",
                            self.port,
                            self.log()
                        )));
                    }
                }
                Err(_) => {
                    let _ = self.kill9();
                    return Err(ServerError(format!(
                        "redis-server on port {} was not ready after {START_DEADLINE:?}:\n{}",
                        self.port,
                        self.log()
                    )));
                }
            }
        }
        self.ping()
    }

    /// Sends `PING` over a plain socket and expects `+PONG` (or, with a password set, the
    /// server's `-NOAUTH`, which also proves it answers).
    fn ping(&self) -> Result<(), ServerError> {
        use std::io::{Read, Write};
        let fail = |e: std::io::Error| ServerError(format!("redis-server on port {}: PING failed: {e}", self.port));
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).map_err(fail)?;
        s.set_read_timeout(Some(START_DEADLINE)).map_err(fail)?;
        s.write_all(b"PING\r\n").map_err(fail)?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).map_err(fail)?;
        let reply = String::from_utf8_lossy(&buf[..n]);
        if reply.starts_with("+PONG") || reply.starts_with("-NOAUTH") {
            Ok(())
        } else {
            Err(ServerError(format!("redis-server on port {}: PING answered {reply:?}", self.port)))
        }
    }

    fn stop(&mut self) {
        let _ = self.kill9();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, ServerError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| ServerError(format!("cannot find a free port: {e}")))?;
    l.local_addr().map(|a| a.port()).map_err(|e| ServerError(format!("cannot find a free port: {e}")))
}

/// The path of the append-only directory inside a server's directory (Redis 7 keeps its
/// AOF in `appendonlydir/`), for tests that look at it.
pub fn aof_dir(server: &RedisServer) -> PathBuf {
    server.dir().join("appendonlydir")
}
