//! The `chat-server` binary on loopback: every line reaches every client in order, 200 clients
//! at once, clients leaving mid-line, a client that never reads, garbage and invalid UTF-8,
//! over-long lines, the connection limit, and Ctrl-C.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use apps::chat::{ChatLine, SUBSCRIBER_BUFFER, SUBSCRIBER_INBOX, protocol_on};
use axon_core::{ComponentBuilder, ControlWatch, Next, Scheduler, Signal, SignalPolicy, link};
use common::{Client, LIMIT, Server};
use kamaelia_chassis::Backplane;
use kamaelia_net::ConnInfo;
use kamaelia_util::LineFramer;

const EXE: &str = env!("CARGO_BIN_EXE_chat-server");
const BANNER: &str = "Chat server running on port ";

fn start(args: &[&str]) -> Server {
    Server::start(EXE, args, BANNER)
}

/// What every client receives when the client on `port` sends the line `line`.
fn said(port: u16, line: impl AsRef<[u8]>) -> Vec<u8> {
    [format!("Chat:127.0.0.1:{port} says ").as_bytes(), line.as_ref(), b"\r\n"].concat()
}

/// Connects a client and waits until it is subscribed: it says hello and waits to hear it
/// back (from then on it receives every line the server takes).
fn join(addr: SocketAddr, name: &str) -> Client {
    let mut c = Client::connect(addr);
    let hello = format!("hello from {name}");
    c.send(format!("{hello}\n"));
    c.skip_until(&said(c.port(), &hello));
    c
}

/// Ctrl-C: the server exits with status 0, promptly.
fn interrupt_and_expect_clean_exit(server: &mut Server) {
    server.interrupt();
    let status = server.wait_exit(LIMIT);
    assert_eq!(status.code(), Some(0), "after SIGINT the server exits 0, got {status}");
}

/// 200 clients at once each send five lines; every client, the senders included, receives
/// all 1000 lines, each sender's in the order it sent them, each labelled with its sender.
#[test]
fn every_line_reaches_every_one_of_200_clients_in_order_per_sender() {
    const CLIENTS: usize = 200;
    const LINES: usize = 5;
    let mut server = start(&[]);
    let addr = server.addr();
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut c = join(addr, &i.to_string());
                // Everyone is subscribed before anyone sends.
                barrier.wait();
                // Half send their lines in one write, half one write per line.
                let lines: Vec<String> = (0..LINES).map(|k| format!("line {i} {k}\n")).collect();
                if i % 2 == 0 {
                    c.send(lines.concat());
                } else {
                    for l in &lines {
                        c.send(l);
                    }
                }
                let mut next = vec![0usize; CLIENTS];
                let mut senders: HashMap<usize, u16> = HashMap::new();
                let mut got = 0;
                while got < CLIENTS * LINES {
                    let line = c.text_line();
                    let (port, text) = line
                        .strip_prefix("Chat:127.0.0.1:")
                        .and_then(|rest| rest.strip_suffix("\r\n"))
                        .and_then(|rest| rest.split_once(" says "))
                        .unwrap_or_else(|| panic!("client {i}: malformed line {line:?}"));
                    if text.starts_with("hello from ") {
                        continue;
                    }
                    let fields: Vec<&str> = text.split(' ').collect();
                    assert_eq!(fields.len(), 3, "client {i}: unexpected line {line:?}");
                    let (j, k): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
                    assert_eq!(k, next[j], "client {i}: lines of sender {j} out of order (line {line:?})");
                    next[j] += 1;
                    let port: u16 = port.parse().unwrap();
                    assert_eq!(*senders.entry(j).or_insert(port), port, "client {i}: sender {j} under two names");
                    got += 1;
                }
                assert!(next.iter().all(|&n| n == LINES), "client {i}: counts per sender {next:?}");
                (c.port(), senders)
            })
        })
        .collect();
    let results: Vec<(u16, HashMap<usize, u16>)> =
        threads.into_iter().map(|t| t.join().expect("a client thread failed")).collect();
    // Each line was labelled with its sender's own address.
    for (i, (_, senders)) in results.iter().enumerate() {
        for (j, port) in senders {
            assert_eq!(*port, results[*j].0, "client {i} saw sender {j} as port {port}");
        }
    }
    interrupt_and_expect_clean_exit(&mut server);
}

/// A client that closes its connection mid-line: the complete lines before, and the partial
/// line (as if it ended there: the framer sends what it holds when the client closes its
/// side), reach the others; the server carries on.
///
/// The client has read everything sent to it when it closes, so its close is a clean FIN (a
/// close with unread data is a reset: see the next test).
#[test]
fn a_client_closing_mid_line_has_its_partial_line_published_and_the_server_carries_on() {
    let mut server = start(&[]);
    let mut watcher = join(server.addr(), "watcher");
    let mut leaver = join(server.addr(), "leaver");
    let lp = leaver.port();
    watcher.skip_until(&said(lp, "hello from leaver"));
    leaver.send("complete\n");
    assert_eq!(leaver.line(), said(lp, "complete"));
    leaver.send("partial, no new");
    leaver.send("line");
    drop(leaver);
    assert_eq!(watcher.line(), said(lp, "complete"));
    assert_eq!(watcher.line(), said(lp, "partial, no newline"));
    // The server carries on: the watcher chats, and someone new joins.
    watcher.send("still here\n");
    assert_eq!(watcher.line(), said(watcher.port(), "still here"));
    let newcomer = join(server.addr(), "newcomer");
    assert_eq!(watcher.line(), said(newcomer.port(), "hello from newcomer"));
    interrupt_and_expect_clean_exit(&mut server);
}

/// A client whose connection is reset mid-line (SO_LINGER 0: an RST, not a FIN; closing with
/// unread data does the same) is a socket error for the server: that connection ends (what it
/// had already sent is still published, as after a clean close) and nothing else is disturbed.
#[test]
fn a_client_reset_mid_line_disturbs_no_one() {
    let mut server = start(&[]);
    let mut watcher = join(server.addr(), "watcher");
    for round in 0..5 {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.connect(&server.addr().into()).unwrap();
        socket.set_linger(Some(Duration::ZERO)).unwrap();
        let mut stream: std::net::TcpStream = socket.into();
        std::io::Write::write_all(&mut stream, b"half a li").unwrap();
        drop(stream);
        let line = format!("round {round}");
        watcher.send(format!("{line}\n"));
        // Whatever the reset client managed to get published, the watcher's own line arrives.
        watcher.skip_until(&said(watcher.port(), &line));
    }
    let newcomer = join(server.addr(), "newcomer");
    watcher.skip_until(&said(newcomer.port(), "hello from newcomer"));
    assert!(server.running());
    interrupt_and_expect_clean_exit(&mut server);
}

/// A client that never reads while another sends 24 MB through the chat: the others receive
/// every line, the server's peak memory stays far below what the stalled client was sent,
/// the stalled client is disconnected, and afterwards Ctrl-C still shuts down cleanly.
#[test]
fn a_client_that_never_reads_is_disconnected_without_stalling_others_or_growing_memory() {
    const LINES: usize = 24_000;
    const LEN: usize = 1000;
    let mut server = start(&[]);
    let addr = server.addr();
    let mut talker = join(addr, "talker");
    let mut listener = join(addr, "listener");
    // The staller's receive buffer is small, so its share backs up into the server soon.
    let staller = {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        socket.connect(&addr.into()).unwrap();
        let stream: std::net::TcpStream = socket.into();
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        let mut c = Client::from_stream(stream);
        c.send("hello from staller\n");
        c.skip_until(&said(c.port(), "hello from staller"));
        c
    };
    let tp = talker.port();
    talker.skip_until(&said(staller.port(), "hello from staller"));
    listener.skip_until(&said(staller.port(), "hello from staller"));
    let rss_before = server.rss_kib();

    // Line k is its number in six digits, a space, then x's up to LEN bytes. Made by patching
    // a template, so the readers keep up cheaply (a reader that falls megabytes behind is
    // rightly disconnected too).
    let template = |prefix: &[u8], suffix: &[u8]| [prefix, &[b'x'; LEN][..], suffix].concat();
    let patch = |buf: &mut [u8], at: usize, k: usize| buf[at..at + 7].copy_from_slice(format!("{k:06} ").as_bytes());
    // The talker keeps at most WINDOW lines ahead of the slower of the two readers, so a
    // reader thread that the test machine happens to starve for a moment never falls
    // megabytes behind (and is rightly disconnected as a slow client); the staller gets all.
    const WINDOW: usize = 256;
    let (progress_tx, progress) = std::sync::mpsc::channel::<(usize, usize)>();
    let mut writer = talker.stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let mut read = [0usize; 2];
        let mut line = template(b"", b"\n");
        let mut batch = Vec::with_capacity(70 * 1024);
        for k in 0..LINES {
            patch(&mut line, 0, k);
            batch.extend_from_slice(&line);
            if batch.len() > 64 * 1024 || k + 1 == LINES {
                std::io::Write::write_all(&mut writer, &batch).unwrap();
                batch.clear();
                while k + 1 == LINES || read.iter().min().is_some_and(|&r| r + WINDOW < k) {
                    match progress.recv_timeout(LIMIT) {
                        Ok((reader, n)) => read[reader] = n,
                        // Both readers are done (or failed: their threads report it).
                        Err(_) => break,
                    }
                }
            }
        }
    });
    let receive = move |mut c: Client, reader: usize, progress: std::sync::mpsc::Sender<(usize, usize)>| {
        std::thread::spawn(move || {
            let prefix = format!("Chat:127.0.0.1:{tp} says ");
            let mut expected = template(prefix.as_bytes(), b"\r\n");
            for k in 0..LINES {
                patch(&mut expected, prefix.len(), k);
                let got = c.line();
                assert!(got == expected, "line {k}: {:?}", String::from_utf8_lossy(&got));
                if k % 32 == 31 {
                    let _ = progress.send((reader, k + 1));
                }
            }
            c
        })
    };
    let (t1, t2) = (receive(talker, 0, progress_tx.clone()), receive(listener, 1, progress_tx));
    let (mut talker, mut listener) =
        (t1.join().expect("the talker missed lines"), t2.join().expect("the listener missed lines"));
    sender.join().unwrap();

    let peak = server_peak_kib(&server);
    let sent_kib = (LINES * (LEN + 30) / 1024) as u64;
    eprintln!("server memory: {rss_before} KiB before, peak {peak} KiB; {sent_kib} KiB sent to each client");
    assert!(
        peak.saturating_sub(rss_before) < sent_kib / 2,
        "the server's peak memory grew by {} KiB (from {rss_before} KiB) while {sent_kib} KiB went to a stalled client",
        peak.saturating_sub(rss_before)
    );

    // The stalled client was disconnected: it reads what was buffered for it, then the end.
    let mut staller = staller;
    let (read, _) = staller.read_to_end();
    eprintln!("the stalled client got {read} bytes before it was disconnected");
    assert!(read < LINES * LEN / 2, "the stalled client was sent {read} bytes before being disconnected");

    // The others are still connected.
    talker.send("after\n");
    assert_eq!(talker.line(), said(tp, "after"));
    assert_eq!(listener.line(), said(tp, "after"));
    interrupt_and_expect_clean_exit(&mut server);
}

/// VmHWM: the peak resident set, in KiB.
fn server_peak_kib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmHWM line")
}

/// Lines end at LF or CRLF; a CR elsewhere is data.
#[test]
fn lines_end_at_lf_or_crlf() {
    let mut server = start(&[]);
    let mut watcher = join(server.addr(), "watcher");
    let mut sender = join(server.addr(), "sender");
    let sp = sender.port();
    watcher.skip_until(&said(sp, "hello from sender"));
    sender.send("unix\nwindows\r\nsplit across ");
    sender.send("writes\r");
    sender.send("\nbare\rcr inside\n\n");
    for expected in ["unix", "windows", "split across writes", "bare\rcr inside", ""] {
        assert_eq!(watcher.line(), said(sp, expected));
    }
    interrupt_and_expect_clean_exit(&mut server);
}

/// Bytes are passed through untouched: invalid UTF-8 and control bytes reach the others byte
/// for byte, and a blob of pseudo-random garbage arrives framed exactly as LineFramer frames it.
#[test]
fn garbage_bytes_and_invalid_utf8_pass_through_byte_for_byte() {
    let mut server = start(&[]);
    let mut watcher = join(server.addr(), "watcher");
    let mut sender = join(server.addr(), "sender");
    let sp = sender.port();
    watcher.skip_until(&said(sp, "hello from sender"));

    let bad: &[u8] = b"caf\xc3\xa9 \xff\xfe\x00 half a char: \xe2\x82 \x1b[31m";
    sender.send([bad, b"\r\n"].concat());
    assert_eq!(watcher.line(), said(sp, bad));

    // 256 KiB of xorshift noise, then a newline and a marker.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let blob: Vec<u8> = (0..256 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let mut framer = LineFramer::new();
    framer.push(&blob);
    framer.push(b"\n");
    let expected: Vec<Vec<u8>> = std::iter::from_fn(|| framer.next_frame())
        .map(|l| said(sp, l.expect("no line this short is refused")))
        .collect();
    assert!(expected.len() > 100, "the blob has many lines");
    for chunk in blob.chunks(1000) {
        sender.send(chunk);
    }
    sender.send("\nend of garbage\n");
    let got = watcher.skip_until(&said(sp, "end of garbage"));
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "line {i} of the garbage");
    }
    // The sender's connection is as good as ever.
    sender.send("still fine\n");
    watcher.skip_until(&said(sp, "still fine"));
    interrupt_and_expect_clean_exit(&mut server);
}

/// A line longer than 64 KiB is refused with an error line to its sender only; the
/// connection stays usable, and a line of exactly 64 KiB is accepted.
#[test]
fn an_overlong_line_gets_an_error_line_and_the_connection_stays_usable() {
    let mut server = start(&[]);
    let mut watcher = join(server.addr(), "watcher");
    let mut sender = join(server.addr(), "sender");
    let sp = sender.port();
    watcher.skip_until(&said(sp, "hello from sender"));

    sender.send([vec![b'a'; 70_000], b"\n".to_vec()].concat());
    assert_eq!(sender.text_line(), "error: line longer than 65536 bytes\r\n");
    let longest = vec![b'b'; 65_536];
    sender.send([&longest[..], b"\r\n"].concat());
    sender.send("ok\n");
    // The watcher never saw the refused line.
    assert_eq!(watcher.line(), said(sp, &longest));
    assert_eq!(watcher.line(), said(sp, "ok"));
    assert_eq!(sender.line(), said(sp, &longest));
    assert_eq!(sender.line(), said(sp, "ok"));
    interrupt_and_expect_clean_exit(&mut server);
}

/// Beyond `--max-connections` a client gets a one-line refusal and is closed; those already
/// connected carry on.
#[test]
fn a_client_beyond_max_connections_is_refused_with_a_line() {
    let mut server = start(&["--max-connections", "2"]);
    let mut a = join(server.addr(), "a");
    let b = join(server.addr(), "b");
    let mut c = Client::connect(server.addr());
    assert_eq!(c.text_line(), "Chat server full: try again later\r\n");
    assert_eq!(c.read_to_end().0, 0, "then the connection is closed");
    a.skip_until(&said(b.port(), "hello from b"));
    a.send("still chatting\n");
    assert_eq!(a.line(), said(a.port(), "still chatting"));
    interrupt_and_expect_clean_exit(&mut server);
}

/// Ctrl-C (SIGINT) shuts the server down: every connection is closed and it exits 0.
#[test]
fn sigint_closes_every_connection_and_exits_0() {
    let mut server = start(&[]);
    let mut clients: Vec<Client> = (0..3).map(|i| join(server.addr(), &i.to_string())).collect();
    interrupt_and_expect_clean_exit(&mut server);
    for c in &mut clients {
        c.read_to_end();
    }
}

/// The command line: an unusable port is an error with a message, and a non-zero exit.
#[test]
fn a_taken_port_is_reported_and_exits_non_zero() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let out = std::process::Command::new(EXE).args(["--port", &port]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot listen on 127.0.0.1"), "stderr: {stderr}");
}

/// Library level: the backplane never waits for a connection whose output is stuck. One
/// protocol's output goes to a sink that takes 4 messages and then nothing until released;
/// another protocol's client sends more lines than the stuck one can hold. The sender gets
/// every line (the backplane went on), and the stuck subscription was disconnected: once
/// released, the sink sees fewer lines than were sent, then `ErrorInformation` and
/// `ShutdownMicroprocess` (which, in the server, close that connection).
#[test]
fn the_backplane_never_waits_for_a_connection_whose_output_is_stuck() {
    const N: usize = SUBSCRIBER_INBOX + SUBSCRIBER_BUFFER + 1000;
    let bg = Scheduler::new().background();
    let backplane = Backplane::<ChatLine>::new("STUCK");
    bg.activate(&backplane).unwrap();
    let conn = |port| ConnInfo {
        peer: SocketAddr::from(([127, 0, 0, 1], port)),
        local: SocketAddr::from(([127, 0, 0, 1], 1501)),
    };

    // The stuck connection: a sink that holds 4 messages and reads nothing until released.
    let mut b = ComponentBuilder::new("StuckSocket");
    let inbox = b.inbox_with_capacity::<Vec<u8>>("inbox", 4);
    let control = b.control();
    let release = b.inbox::<()>("release");
    let outbox = b.outbox::<Result<Vec<u8>, Signal>>("outbox");
    let signal = b.signal();
    let sink = b.run(move |_| async move {
        release.recv().await;
        // Every signal is reported on `outbox`, the terminal one last.
        let mut watch = ControlWatch::new(control, signal).with_policy(SignalPolicy::Deliver);
        loop {
            let (report, end) = match watch.next(&inbox).await {
                Next::Data(d) => (Ok(d), false),
                Next::Other(s) => (Err(s), false),
                Next::End(s) => (Err(s), true),
            };
            if watch.send(&outbox, report).await.is_err() || end {
                return;
            }
        }
    });
    let stuck = protocol_on("STUCK", conn(1));
    link((&stuck, "outbox"), (&sink, "inbox")).unwrap();
    link((&stuck, "signal"), (&sink, "control")).unwrap();
    let released = sink.inbox_ref::<()>("release").unwrap();
    let seen = bg.handle::<Vec<u8>, Result<Vec<u8>, Signal>>(&sink).unwrap();
    bg.activate(&stuck).unwrap();

    let talker = bg.handle::<Vec<u8>, Vec<u8>>(&protocol_on("STUCK", conn(2))).unwrap();
    // Both are subscribed once the talker hears the stuck one's hello, then its own.
    stuck.inbox_ref::<Vec<u8>>("inbox").unwrap().send_blocking(b"hello\n".to_vec());
    assert_eq!(talker.get_timeout(LIMIT), Some(said(1, "hello")));
    talker.put(b"hello\n".to_vec());
    assert_eq!(talker.get_timeout(LIMIT), Some(said(2, "hello")));

    let feeder = {
        let input = talker.component().inbox_ref::<Vec<u8>>("inbox").unwrap();
        std::thread::spawn(move || {
            for k in 0..N {
                input.send_blocking(format!("line {k}\n").into_bytes());
            }
        })
    };
    for k in 0..N {
        assert_eq!(talker.get_timeout(LIMIT), Some(said(2, format!("line {k}"))), "the talker's line {k}");
    }
    feeder.join().unwrap();

    released.send_blocking(());
    let mut lines = 0;
    let mut signals = Vec::new();
    while !signals.last().is_some_and(Signal::is_terminal) {
        match seen.get_timeout(LIMIT).expect("the stuck connection's output and signals") {
            Ok(_) => lines += 1,
            Err(s) => signals.push(s),
        }
    }
    assert!(lines < N, "the stuck connection was given all {lines} lines: it was never disconnected");
    assert!(
        matches!(signals.as_slice(), [Signal::ErrorInformation { .. }, Signal::ShutdownMicroprocess]),
        "signals: {signals:?}"
    );
}
