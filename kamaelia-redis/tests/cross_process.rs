//! Two real processes on one bridged Backplane: every line typed into either is printed by
//! both, exactly once, in each sender's order (no echo doubling); and the relay's start-up
//! errors are clear.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use common::{LIMIT, group_names, wait_for};
use kamaelia_redis::backplane_stream;
use kamaelia_redis::testing::RedisServer;

struct Relay {
    child: Child,
    lines: mpsc::Receiver<String>,
}

fn relay(url: &str, name: &str) -> Relay {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kamaelia-redis"))
        .args(["relay", url, name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run kamaelia-redis relay");
    let out = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Relay { child, lines }
}

#[test]
fn lines_cross_between_two_processes_exactly_once_in_per_sender_order() {
    let server = RedisServer::start().unwrap();
    let url = server.url();
    let mut one = relay(&url, "CHAT");
    let mut two = relay(&url, "CHAT");
    let key = backplane_stream("CHAT");
    wait_for("both processes subscribed", || group_names(&url, &key).len() == 2);
    {
        let (mut a, mut b) = (one.child.stdin.take().unwrap(), two.child.stdin.take().unwrap());
        for i in 0..100 {
            writeln!(a, "one {i}").unwrap();
            writeln!(b, "two {i}").unwrap();
        }
        let expect = |r: &Relay| {
            let got: Vec<String> = (0..200).map(|_| r.lines.recv_timeout(LIMIT).expect("a line")).collect();
            for who in ["one", "two"] {
                let mine: Vec<String> = got.iter().filter(|l| l.starts_with(who)).cloned().collect();
                assert_eq!(mine, (0..100).map(|i| format!("{who} {i}")).collect::<Vec<_>>(), "{who}'s lines");
            }
        };
        expect(&one);
        expect(&two);
        // Closing stdin ends each process (a, b dropped here).
    }
    for r in [&mut one, &mut two] {
        assert!(r.child.wait().unwrap().success());
        assert!(r.lines.try_recv().is_err(), "a line printed twice");
    }
    // Clean ends removed both per-run groups.
    assert!(group_names(&url, &key).is_empty());
}

#[test]
fn unreachable_redis_at_start_exits_2_naming_the_url_and_the_install_hint() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis://127.0.0.1:{port}");
    let out = Command::new(env!("CARGO_BIN_EXE_kamaelia-redis")).args(["relay", &url, "X"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&url) && err.contains("apt-get install redis-server"), "{err}");
    let out =
        Command::new(env!("CARGO_BIN_EXE_kamaelia-redis")).args(["relay", "localhost:6379", "X"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a Redis URL"));
}
