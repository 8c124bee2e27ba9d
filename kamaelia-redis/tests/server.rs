//! The test helper itself: a real redis-server starts, answers, survives `kill -9` with its
//! append-only data, and restarts on the same port.

use std::io::{Read, Write};
use std::net::TcpStream;

use kamaelia_redis::testing::RedisServer;

/// One command over a raw socket, the reply's first line.
fn say(port: u16, command: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(command.as_bytes()).unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_string()
}

#[test]
fn starts_kills_and_restarts_on_the_same_port_keeping_appended_data() {
    let mut server = RedisServer::start().expect("start redis-server");
    let port = server.port();
    assert!(server.url().ends_with(&format!(":{port}")));
    assert_eq!(say(port, "PING\r\n"), "+PONG");
    assert_eq!(say(port, "SET k survived\r\n"), "+OK");
    server.kill9().unwrap();
    assert!(!server.is_running());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "killed server still listening");
    server.restart().unwrap();
    assert_eq!(server.port(), port);
    assert_eq!(say(port, "GET k\r\n"), "$8");
}

#[test]
fn extra_arguments_are_kept_across_a_restart() {
    let mut server = RedisServer::start_with(&["--requirepass", "s3cret"]).unwrap();
    assert!(say(server.port(), "GET k\r\n").starts_with("-NOAUTH"));
    server.restart().unwrap();
    assert!(say(server.port(), "GET k\r\n").starts_with("-NOAUTH"));
}
