//! `chat-server --redis`: two real chat-server processes sharing one chat through a real
//! redis-server. Every line arrives exactly once at every client of both servers, in
//! per-sender order (no echo doubling); while Redis is down both keep serving their own
//! clients, and remote lines resume when it is back; an unreachable Redis at start exits 2.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{Client, LIMIT, Server};
use kamaelia_redis::backplane_stream;
use kamaelia_redis::testing::{RedisServer, redis};

const EXE: &str = env!("CARGO_BIN_EXE_chat-server");
const BANNER: &str = "Chat server running on port ";

/// Waits until `n` chat servers have their consumer group on the chat's stream.
fn wait_for_servers(url: &str, n: usize) {
    let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let groups: Vec<redis::Value> =
            redis::cmd("XINFO").arg("GROUPS").arg(backplane_stream("CHAT")).query(&mut con).unwrap_or_default();
        if groups.len() == n {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{} of {n} servers subscribed", groups.len());
        std::thread::park_timeout(Duration::from_millis(5));
    }
}

/// The next line `Chat:<ip>:<port> says <text>`, as (sender port, text).
fn said(c: &mut Client) -> (u16, String) {
    let line = c.text_line();
    let rest = line.strip_prefix("Chat:127.0.0.1:").unwrap_or_else(|| panic!("not a chat line: {line:?}"));
    let (port, text) = rest.split_once(" says ").unwrap();
    (port.parse().unwrap(), text.trim_end().to_string())
}

#[test]
fn lines_cross_two_servers_exactly_once_in_per_sender_order() {
    let redis_server = RedisServer::start().unwrap();
    let url = redis_server.url();
    let one = Server::start(EXE, &["--redis", &url], BANNER);
    let two = Server::start(EXE, &["--redis", &url], BANNER);
    wait_for_servers(&url, 2);
    let mut clients: Vec<Client> = vec![one.connect(), one.connect(), one.connect(), two.connect(), two.connect()];
    // Each client knows it is subscribed once its own line comes back.
    for c in clients.iter_mut() {
        c.send("joined\n");
        let me = c.port();
        while said(c) != (me, "joined".into()) {}
    }
    let ports: Vec<u16> = clients.iter().map(Client::port).collect();
    for k in 0..20 {
        for c in clients.iter_mut() {
            c.send(format!("line {k}\n"));
        }
    }
    for c in clients.iter_mut() {
        let mut next: HashMap<u16, u32> = ports.iter().map(|p| (*p, 0)).collect();
        while next.values().any(|n| *n < 20) {
            let (from, text) = said(c);
            if text == "joined" {
                continue;
            }
            let n = next.get_mut(&from).unwrap_or_else(|| panic!("a line from an unknown client {from}"));
            assert_eq!(text, format!("line {n}"), "client {}: {from}'s lines out of order or doubled", c.port());
            *n += 1;
        }
    }
    // Nothing more: no line arrives twice.
    for c in clients.iter_mut() {
        c.stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut buf = [0u8; 1];
        assert!(std::io::Read::read(&mut c.stream, &mut buf).is_err(), "an extra line at client {}", c.port());
    }
}

#[test]
fn both_servers_keep_serving_their_own_clients_while_redis_is_down_and_remote_lines_resume() {
    let mut redis_server = RedisServer::start().unwrap();
    let url = redis_server.url();
    let one = Server::start(EXE, &["--redis", &url], BANNER);
    let two = Server::start(EXE, &["--redis", &url], BANNER);
    wait_for_servers(&url, 2);
    let (mut a, mut b, mut c) = (one.connect(), one.connect(), two.connect());
    for x in [&mut a, &mut b, &mut c] {
        x.send("joined\n");
        let me = x.port();
        while said(x) != (me, "joined".into()) {}
    }
    redis_server.kill9().unwrap();
    a.send("while redis is down\n");
    let a_port = a.port();
    for x in [&mut a, &mut b] {
        loop {
            let (from, text) = said(x);
            if text != "joined" {
                assert_eq!((from, text.as_str()), (a_port, "while redis is down"));
                break;
            }
        }
    }
    redis_server.restart().unwrap();
    loop {
        let (from, text) = said(&mut c);
        if text != "joined" {
            assert_eq!((from, text.as_str()), (a_port, "while redis is down"), "held and sent once Redis is back");
            break;
        }
    }
    c.send("after\n");
    let c_port = c.port();
    for x in [&mut a, &mut b, &mut c] {
        let got = loop {
            let line = said(x);
            if line.1 != "joined" {
                break line;
            }
        };
        assert_eq!(got, (c_port, "after".into()));
    }
}

#[test]
fn an_unreachable_redis_at_start_exits_2_naming_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis://127.0.0.1:{port}");
    let out = std::process::Command::new(EXE).args(["--port", "0", "--redis", &url]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&url) && err.contains("apt-get install redis-server"), "{err}");
}
