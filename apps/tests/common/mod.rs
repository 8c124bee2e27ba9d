//! Shared by the app tests: running a server binary on port 0, reading its port from its first
//! line of output, line-oriented loopback clients, interrupting it and reading its memory.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

/// How long anything may take before a test fails (generous: debug builds, busy CI).
pub const LIMIT: Duration = Duration::from_secs(30);

/// A server binary running as a child process.
pub struct Server {
    pid: u32,
    /// The port it printed.
    pub port: u16,
    exited: Receiver<ExitStatus>,
    status: Option<ExitStatus>,
}

impl Server {
    /// Starts `exe --port 0 <args>` and waits for its first line, `<banner><port>`.
    pub fn start(exe: &str, args: &[&str], banner: &str) -> Server {
        let mut child = Command::new(exe)
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {exe}: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let pid = child.id();
        let (exit_tx, exited) = channel();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = exit_tx.send(status);
            }
        });
        let (line_tx, line_rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            let _ = line_tx.send(line);
            // Keep reading, so the server never blocks on a full pipe.
            let _ = std::io::copy(&mut r, &mut std::io::sink());
        });
        let mut server = Server { pid, port: 0, exited, status: None };
        let line = match line_rx.recv_timeout(LIMIT) {
            Ok(line) => line,
            Err(_) => panic!("{exe} printed nothing within {LIMIT:?}"),
        };
        let port = line
            .trim_end()
            .strip_prefix(banner)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{exe}: expected a first line {banner:?}<port>, got {line:?}"));
        server.port = port;
        server
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Connects a client.
    pub fn connect(&self) -> Client {
        Client::connect(self.addr())
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends it SIGINT (what Ctrl-C does).
    pub fn interrupt(&self) {
        let ok = Command::new("kill").args(["-INT", &self.pid.to_string()]).status().expect("run kill").success();
        assert!(ok, "kill -INT {} failed", self.pid);
    }

    /// Waits for it to exit, failing the test after `within`.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        match self.exited.recv_timeout(within) {
            Ok(s) => {
                self.status = Some(s);
                s
            }
            Err(RecvTimeoutError::Timeout) => panic!("the server did not exit within {within:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("lost track of the server process"),
        }
    }

    /// True while it runs.
    pub fn running(&mut self) -> bool {
        if self.status.is_none() {
            if let Ok(s) = self.exited.try_recv() {
                self.status = Some(s);
            }
        }
        self.status.is_none()
    }

    /// Its resident memory (VmRSS), in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).expect("read /proc/<pid>/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a VmRSS line")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.running() {
            let _ = Command::new("kill").args(["-KILL", &self.pid.to_string()]).status();
            let _ = self.exited.recv_timeout(LIMIT);
        }
    }
}

/// A loopback client reading lines (terminator included), with a read timeout.
pub struct Client {
    /// The stream, for writing.
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr) -> Client {
        Client::from_stream(TcpStream::connect(addr).expect("connect"))
    }

    /// A client on a connected stream (its read timeout set to [`LIMIT`]).
    pub fn from_stream(stream: TcpStream) -> Client {
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Client { stream, reader }
    }

    /// Its own port (the server sees it as the peer port).
    pub fn port(&self) -> u16 {
        self.stream.local_addr().unwrap().port()
    }

    /// Writes all of `bytes`.
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream.write_all(bytes.as_ref()).expect("write");
    }

    /// The next line, up to and including its LF; fails the test on timeout or end of stream.
    pub fn line(&mut self) -> Vec<u8> {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => panic!("the server closed the connection (expected a line)"),
            Ok(_) if line.ends_with(b"\n") => line,
            Ok(_) => panic!("the connection ended mid-line: {:?}", String::from_utf8_lossy(&line)),
            Err(e) => panic!("no line within {LIMIT:?}: {e} (read so far: {:?})", String::from_utf8_lossy(&line)),
        }
    }

    /// The next line, as text (lossy).
    pub fn text_line(&mut self) -> String {
        String::from_utf8_lossy(&self.line()).into_owned()
    }

    /// Reads lines until `expected` arrives, returning those before it.
    pub fn skip_until(&mut self, expected: &[u8]) -> Vec<Vec<u8>> {
        let mut skipped = Vec::new();
        loop {
            let line = self.line();
            if line == expected {
                return skipped;
            }
            skipped.push(line);
        }
    }

    /// Reads to the end of the stream; the bytes read, and whether it ended cleanly (EOF) or
    /// by a reset. Fails the test on timeout.
    pub fn read_to_end(&mut self) -> (usize, bool) {
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0;
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return (total, true),
                Ok(n) => total += n,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (total, false),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => panic!("the connection did not end within {LIMIT:?}: {e} ({total} bytes read)"),
            }
        }
    }
}
