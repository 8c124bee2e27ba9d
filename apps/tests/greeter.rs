//! The `greeter` binary on loopback: each line `L` is answered with `hello L\r\n`, for LF and
//! CRLF lines, for several clients at once, and Ctrl-C shuts it down.

mod common;

use common::{LIMIT, Server};

const EXE: &str = env!("CARGO_BIN_EXE_greeter");
const BANNER: &str = "Greeter running on port ";

fn start() -> Server {
    Server::start(EXE, &[], BANNER)
}

fn interrupt_and_expect_clean_exit(server: &mut Server) {
    server.interrupt();
    let status = server.wait_exit(LIMIT);
    assert_eq!(status.code(), Some(0), "after SIGINT the greeter exits 0, got {status}");
}

/// A line goes in, `hello <line>\r\n` comes back.
#[test]
fn a_line_is_answered_with_hello() {
    let mut server = start();
    let mut c = server.connect();
    c.send("world\n");
    assert_eq!(c.text_line(), "hello world\r\n");
    interrupt_and_expect_clean_exit(&mut server);
}

/// LF and CRLF both end a line, however the bytes are split into writes; an empty line is
/// answered too.
#[test]
fn lf_and_crlf_lines_split_across_writes_are_each_answered() {
    let mut server = start();
    let mut c = server.connect();
    c.send("crlf\r\nlf\nsplit ");
    c.send("across writes\r");
    c.send("\n\n");
    for expected in ["hello crlf\r\n", "hello lf\r\n", "hello split across writes\r\n", "hello \r\n"] {
        assert_eq!(c.text_line(), expected);
    }
    interrupt_and_expect_clean_exit(&mut server);
}

/// Two clients at once each get their own answers, and only theirs.
#[test]
fn two_clients_each_get_their_own_answers() {
    let mut server = start();
    let mut a = server.connect();
    let mut b = server.connect();
    a.send("alice\n");
    b.send("bob\n");
    a.send("again\n");
    assert_eq!(b.text_line(), "hello bob\r\n");
    assert_eq!(a.text_line(), "hello alice\r\n");
    assert_eq!(a.text_line(), "hello again\r\n");
    b.send("bye\n");
    assert_eq!(b.text_line(), "hello bye\r\n");
    interrupt_and_expect_clean_exit(&mut server);
}

/// Bytes that are not UTF-8 are answered byte for byte.
#[test]
fn invalid_utf8_is_answered_byte_for_byte() {
    let mut server = start();
    let mut c = server.connect();
    c.send(b"\xff\xfe\x00 caf\xc3\xa9\n");
    assert_eq!(c.line(), b"hello \xff\xfe\x00 caf\xc3\xa9\r\n");
    interrupt_and_expect_clean_exit(&mut server);
}

/// A line longer than 64 KiB gets an error line; the connection stays usable. (The error
/// line travels a path of its own, so it may overtake or be overtaken by the answer to a line
/// sent right after: see `apps::greeter::protocol`.)
#[test]
fn an_overlong_line_gets_an_error_line_and_the_connection_stays_usable() {
    let mut server = start();
    let mut c = server.connect();
    c.send([vec![b'z'; 100_000], b"\r\n".to_vec()].concat());
    c.send("next\n");
    let mut two = [c.text_line(), c.text_line()];
    two.sort();
    assert_eq!(two, ["error: line longer than 65536 bytes\r\n", "hello next\r\n"]);
    c.send([vec![b'z'; 65_537], b"\n".to_vec()].concat());
    assert_eq!(c.text_line(), "error: line longer than 65536 bytes\r\n");
    c.send("after\n");
    assert_eq!(c.text_line(), "hello after\r\n");
    interrupt_and_expect_clean_exit(&mut server);
}

/// A client that sends its lines and closes its sending side still gets every answer (a
/// last line without a terminator included), then the greeter closes the connection.
#[test]
fn a_half_closed_client_gets_every_answer_then_the_end() {
    let mut server = start();
    let mut c = server.connect();
    c.send("one\ntwo");
    c.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(c.text_line(), "hello one\r\n");
    assert_eq!(c.text_line(), "hello two\r\n");
    assert_eq!(c.read_to_end(), (0, true));
    interrupt_and_expect_clean_exit(&mut server);
}

/// Ctrl-C (SIGINT) closes every connection and the greeter exits 0.
#[test]
fn sigint_closes_every_connection_and_exits_0() {
    let mut server = start();
    let mut c = server.connect();
    c.send("hi\n");
    assert_eq!(c.text_line(), "hello hi\r\n");
    interrupt_and_expect_clean_exit(&mut server);
    c.read_to_end();
}
