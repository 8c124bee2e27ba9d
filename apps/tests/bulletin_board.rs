//! The `bulletin-board` binary on loopback, as its users meet it: a post reaching a connected
//! recipient as a notice, state surviving a restart and a `kill -9`, wrong passwords, the
//! rules of `delete`, 50 users posting at once, bad input of every kind, a database that
//! cannot be opened, the connection limit and Ctrl-C.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::Instant;

use common::{LIMIT, Server};

const EXE: &str = env!("CARGO_BIN_EXE_bulletin-board");
const BANNER: &str = "Bulletin board running on port ";
const READY: &str = "Type help for the commands.\r\n";

fn start(db: &Path, args: &[&str]) -> Server {
    let db = db.to_str().expect("a UTF-8 temporary path");
    let mut all = vec!["--db", db];
    all.extend_from_slice(args);
    Server::start(EXE, &all, BANNER)
}

/// A temporary directory and the board's database file in it.
fn board_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("board.sqlite");
    (dir, db)
}

/// A telnet-like client: writes bytes, reads until an expected piece of text arrives.
struct Term {
    stream: TcpStream,
    /// Received and not yet consumed.
    buf: Vec<u8>,
}

impl Term {
    fn connect(addr: SocketAddr) -> Term {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        Term { stream, buf: Vec::new() }
    }

    fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream.write_all(bytes.as_ref()).expect("write to the board");
    }

    /// Reads more; false at the end of the stream. Fails the test on a timeout.
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => false,
            Err(e) => panic!("nothing more within {LIMIT:?}: {e}; so far: {:?}", self.text()),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf).into_owned()
    }

    /// Everything up to and including the first `what`, consumed.
    fn expect(&mut self, what: &str) -> String {
        loop {
            if let Some(at) = find(&self.buf, what.as_bytes()) {
                let taken: Vec<u8> = self.buf.drain(..at + what.len()).collect();
                return String::from_utf8_lossy(&taken).into_owned();
            }
            if !self.fill() {
                panic!("the board closed the connection before sending {what:?}; it sent {:?}", self.text());
            }
        }
    }

    /// The rest of the line that starts with `prefix` (the text before it is consumed).
    fn line_after(&mut self, prefix: &str) -> String {
        self.expect(prefix);
        let rest = self.expect("\r\n");
        rest.trim_end_matches("\r\n").to_string()
    }

    /// Reads to the end of the stream; what arrived before it.
    fn until_closed(&mut self) -> String {
        let deadline = Instant::now() + LIMIT;
        while self.fill() {
            assert!(Instant::now() < deadline, "the board did not close the connection");
        }
        let all = self.text();
        self.buf.clear();
        all
    }

    /// Sends a command and returns what the board answered up to and including `until`.
    fn ask(&mut self, command: &str, until: &str) -> String {
        self.send(format!("{command}\r\n"));
        self.expect(until)
    }

    /// Sends a command and returns the first line of the answer (notices, which may arrive
    /// at any moment, skipped), without its terminator.
    fn reply(&mut self, command: &str) -> String {
        self.send(format!("{command}\r\n"));
        loop {
            let line = self.expect("\r\n");
            if !line.starts_with("notice: ") {
                return line.trim_end_matches("\r\n").to_string();
            }
        }
    }

    /// Posts a message and returns its number, once the board says it is posted.
    fn post(&mut self, to: &str, subject: &str, body: &[&str]) -> i64 {
        let mut text = format!("post {to} {subject}\r\n");
        for l in body {
            text.push_str(l);
            text.push_str("\r\n");
        }
        text.push_str(".\r\n");
        self.send(text);
        let said = self.line_after("posted message ");
        said.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("a message number in {said:?}"))
    }

    fn quit(mut self) -> String {
        self.send("quit\r\n");
        self.until_closed()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Logs in as `name` (creating the account with `password` if it is new) and waits for the
/// board to be ready for commands.
fn login(addr: SocketAddr, name: &str, password: &str) -> Term {
    let mut t = Term::connect(addr);
    t.expect("login: ");
    t.send(format!("{name}\r\n"));
    let asked = t.expect("password: ");
    t.send(format!("{password}\r\n"));
    if asked.contains("new password: ") {
        t.expect("again: ");
        t.send(format!("{password}\r\n"));
    }
    t.expect(READY);
    t
}

/// Opens the database file as another SQLite client would.
fn open_db(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(db).expect("open the board's database")
}

/// Alice posts to Bob while Bob is connected: Bob gets a one-line notice naming the message,
/// reads it, and it shows as read in his list; Carol, also connected, hears nothing of it.
#[test]
fn alice_posts_to_bob_who_is_connected_gets_a_notice_and_reads_it() {
    let (_dir, db) = board_dir();
    let server = start(&db, &[]);
    let mut bob = login(server.addr(), "bob", "bob-pw");
    let mut carol = login(server.addr(), "carol", "carol-pw");
    let mut alice = login(server.addr(), "alice", "alice-pw");
    assert_eq!(alice.reply("who"), "On the board now (3): alice, bob, carol");

    let n = alice.post("bob", "Lunch on Friday?", &["Noodles at one?", "", "A."]);
    let notice = bob.line_after("notice: ");
    assert_eq!(notice, format!("new message {n} from alice: Lunch on Friday?"));

    let shown = bob.ask(&format!("read {n}"), &format!("-- end of message {n} --\r\n"));
    for line in [
        format!("Message {n}"),
        "From: alice".into(),
        "To: bob".into(),
        "Subject: Lunch on Friday?".into(),
        "\r\nNoodles at one?\r\n\r\nA.\r\n".into(),
    ] {
        assert!(shown.contains(&line), "{line:?} missing from {shown:?}");
    }
    let list = bob.ask("list", "unread.\r\n");
    assert!(list.contains(&format!("{n:>5}  read    ")), "{list:?}");
    assert!(list.contains("alice -> bob  Lunch on Friday?"), "{list:?}");
    assert!(list.contains("1 message, 0 unread."), "{list:?}");

    // A message to all reaches both others, not its sender.
    let m = alice.post("all", "Fire drill at 3", &[]);
    assert_eq!(bob.line_after("notice: "), format!("new message {m} from alice to all: Fire drill at 3"));
    assert_eq!(carol.line_after("notice: "), format!("new message {m} from alice to all: Fire drill at 3"));
    // Carol never heard of Bob's message: her first notice was the one to all.
    let carol_list = carol.ask("list", "unread.\r\n");
    assert!(!carol_list.contains("Lunch"), "{carol_list:?}");
    assert!(carol_list.contains("1 message, 1 unread."), "{carol_list:?}");
    let said = alice.quit();
    assert!(said.contains("Goodbye, alice: 2 posted, 0 read, 0 deleted."), "{said:?}");
}

/// Stopping the server (Ctrl-C) and starting it again on the same file keeps the users (with
/// their passwords), the messages, what each has read, and when each was last here.
#[test]
fn a_restart_keeps_users_messages_and_read_marks() {
    let (_dir, db) = board_dir();
    let mut server = start(&db, &[]);
    let mut alice = login(server.addr(), "alice", "alice-pw");
    let bob = login(server.addr(), "bob", "bob-pw");
    bob.quit();
    let read_one = alice.post("bob", "one", &["first"]);
    let unread_one = alice.post("bob", "two", &["second"]);
    alice.quit();
    let mut bob = login(server.addr(), "bob", "bob-pw");
    bob.ask(&format!("read {read_one}"), "-- end of message");
    bob.quit();
    server.interrupt();
    assert_eq!(server.wait_exit(LIMIT).code(), Some(0));

    let server = start(&db, &[]);
    // The password survived: a wrong one is refused.
    let mut t = Term::connect(server.addr());
    t.expect("login: ");
    t.send("bob\r\nnot-it\r\n");
    t.expect("error: wrong password");
    t.send("bob-pw\r\n");
    let greeting = t.expect(READY);
    assert!(greeting.contains("Hello bob. You have 2 messages, 1 unread."), "{greeting:?}");
    assert!(greeting.contains("You were last here on "), "{greeting:?}");
    let list = t.ask("list", "unread.\r\n");
    assert!(list.contains(&format!("{read_one:>5}  read    ")), "{list:?}");
    assert!(list.contains(&format!("{unread_one:>5}  unread  ")), "{list:?}");
    let shown = t.ask(&format!("read {unread_one}"), "-- end of message");
    assert!(shown.contains("\r\nsecond\r\n"), "{shown:?}");
    t.quit();
}

/// Three wrong passwords for a known name end the session and close the connection; two
/// wrong then the right one let the user in.
#[test]
fn three_wrong_passwords_close_the_connection() {
    let (_dir, db) = board_dir();
    let server = start(&db, &[]);
    login(server.addr(), "alice", "right").quit();

    let mut t = Term::connect(server.addr());
    t.expect("login: ");
    t.send("alice\r\n");
    for _ in 0..3 {
        t.expect("password: ");
        t.send("wrong\r\n");
        t.expect("error: wrong password\r\n");
    }
    let rest = t.until_closed();
    assert_eq!(rest, "Too many wrong passwords. Goodbye.\r\n");

    let mut t = Term::connect(server.addr());
    t.expect("login: ");
    t.send("ALICE\r\nwrong\r\nwrong too\r\nright\r\n");
    let said = t.expect(READY);
    assert_eq!(said.matches("error: wrong password").count(), 2, "{said:?}");
    assert!(said.contains("Logged in as alice."), "{said:?}");
    t.quit();
}

/// `delete N`: a user may delete what they sent and what is addressed to them by name; a
/// message to all only its sender may delete; another user's private message does not exist
/// for them. A deleted message is gone for everyone, and its number is not used again.
#[test]
fn delete_deletes_only_ones_own_or_ones_addressed_to_oneself() {
    let (_dir, db) = board_dir();
    let server = start(&db, &[]);
    let mut alice = login(server.addr(), "alice", "a");
    let mut bob = login(server.addr(), "bob", "b");
    let mut carol = login(server.addr(), "carol", "c");
    let to_bob = alice.post("bob", "for bob", &[]);
    let to_all = alice.post("all", "for all", &[]);
    let alice_own = alice.post("bob", "alice takes it back", &[]);

    // Carol cannot see Alice's messages to Bob, so for her they do not exist.
    let gone = |n: i64| format!("error: there is no message {n}");
    assert_eq!(carol.reply(&format!("delete {to_bob}")), gone(to_bob));
    assert_eq!(carol.reply(&format!("read {to_bob}")), gone(to_bob));
    // A message to all: only Alice may delete it.
    assert_eq!(
        bob.reply(&format!("delete {to_all}")),
        format!("error: message {to_all} is to all: only its sender, alice, can delete it")
    );
    // Bob deletes the one addressed to him; Alice deletes one she sent.
    assert_eq!(bob.reply(&format!("delete {to_bob}")), format!("deleted message {to_bob}"));
    assert_eq!(alice.reply(&format!("delete {alice_own}")), format!("deleted message {alice_own}"));
    // Gone for everyone.
    assert_eq!(alice.reply(&format!("read {to_bob}")), gone(to_bob));
    assert_eq!(bob.reply(&format!("delete {to_bob}")), gone(to_bob));
    let list = bob.ask("list", "unread.\r\n");
    assert!(list.contains("for all") && !list.contains("for bob") && !list.contains("takes it back"), "{list:?}");
    assert_eq!(alice.reply(&format!("delete {to_all}")), format!("deleted message {to_all}"));
    // Numbers are never reused.
    let next = alice.post("bob", "later", &[]);
    assert!(next > alice_own && next > to_all, "message {next} reuses a deleted number");
    let said = bob.quit();
    assert!(said.contains("1 deleted."), "{said:?}");
}

/// 50 users, each on their own connection, post 4 messages each at the same moment: every
/// post is reported with its own number, and the database then holds exactly those 200
/// messages, each once, with the right sender and body.
#[test]
fn fifty_users_posting_at_once_lose_nothing_and_duplicate_nothing() {
    const USERS: usize = 50;
    const POSTS: usize = 4;
    let (_dir, db) = board_dir();
    let server = start(&db, &[]);
    let addr = server.addr();
    let barrier = Arc::new(Barrier::new(USERS));
    let threads: Vec<_> = (0..USERS)
        .map(|u| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let name = format!("user{u}");
                let mut t = login(addr, &name, &format!("pw{u}"));
                barrier.wait();
                let ids: Vec<i64> = (0..POSTS)
                    .map(|k| t.post("all", &format!("{name} #{k}"), &[&format!("body of {name} #{k}")]))
                    .collect();
                t.quit();
                ids
            })
        })
        .collect();
    let ids: Vec<i64> = threads.into_iter().flat_map(|t| t.join().expect("a user thread")).collect();
    let distinct: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), USERS * POSTS);
    assert_eq!(distinct.len(), USERS * POSTS, "two posts were given the same number");

    let conn = open_db(&db);
    let mut st =
        conn.prepare("SELECT m.id, u.name, m.subject, m.body FROM messages m JOIN users u ON u.id = m.sender").unwrap();
    let rows: Vec<(i64, String, String, String)> =
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(rows.len(), USERS * POSTS, "the database holds {} messages", rows.len());
    let stored: HashSet<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(stored, distinct, "the numbers reported are not the numbers stored");
    let subjects: BTreeSet<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(subjects.len(), USERS * POSTS, "a message was stored twice");
    for (_, sender, subject, body) in &rows {
        assert!(subject.starts_with(&format!("{sender} #")), "{subject:?} stored as from {sender}");
        assert_eq!(body, &format!("body of {subject}"));
    }
}

/// A `kill -9` while clients post: every message the board reported as posted is there
/// after a restart, and SQLite's integrity check passes.
#[test]
fn kill_9_loses_no_posted_message_and_leaves_the_database_intact() {
    let (_dir, db) = board_dir();
    let mut server = start(&db, &[]);
    let addr = server.addr();
    let mut steady = login(addr, "steady", "s");
    // Another client keeps the database busy with posts it does not wait for.
    let mut flood = login(addr, "flood", "f");
    let burst: String = (0..300).map(|k| format!("post all flood {k}\r\nbody {k}\r\n.\r\n")).collect();
    flood.send(&burst);
    let acked: Vec<i64> = (0..20).map(|k| steady.post("flood", &format!("steady {k}"), &["kept"])).collect();
    let pid = server.pid();
    let status = Command::new("kill").args(["-KILL", &pid.to_string()]).status().expect("run kill");
    assert!(status.success());
    server.wait_exit(LIMIT);
    // What the flooding client was told was posted before the kill.
    let flood_acked: Vec<i64> = flood
        .until_closed()
        .lines()
        .filter_map(|l| {
            l.strip_prefix("posted message ").and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok())
        })
        .collect();

    let conn = open_db(&db);
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let stored: HashSet<i64> = {
        let mut st = conn.prepare("SELECT id FROM messages").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    for id in acked.iter().chain(&flood_acked) {
        assert!(stored.contains(id), "message {id} was reported posted but is gone after kill -9");
    }
    drop(conn);

    // The board starts again on the file, and the messages are there for their reader.
    let server = start(&db, &[]);
    let mut flood = login(server.addr(), "flood", "f");
    let list = flood.ask("list", "unread.\r\n");
    for id in &acked {
        assert!(list.contains(&format!("{id:>5}  unread  ")), "message {id} missing from {list:?}");
    }
    flood.quit();
}

/// Bad input of every kind gets a clear `error:` line and the session carries on.
#[test]
fn bad_input_gets_an_error_line_and_the_session_goes_on() {
    let (_dir, db) = board_dir();
    let server = start(&db, &[]);
    let mut t = Term::connect(server.addr());
    t.expect("login: ");
    // At the login prompt: names that cannot be, a line too long, invalid UTF-8.
    t.send("no spaces allowed\r\n");
    t.expect("error: a name is 1 to 32 letters, digits, '-' or '_'\r\nlogin: ");
    t.send("all\r\n");
    t.expect("error: \"all\" means everyone and cannot be a user's name\r\nlogin: ");
    t.send(format!("{}\r\n", "x".repeat(70_000)));
    t.expect("error: line longer than 65536 bytes\r\nlogin: ");
    t.send(b"caf\xe9\r\n");
    t.expect("error: line is not valid UTF-8 (invalid byte at offset 3)\r\nlogin: ");
    t.send("dora\r\n");
    t.expect("new password: ");
    t.send("one\r\n");
    t.expect("again: ");
    t.send("two\r\n");
    t.expect("error: the two passwords differ\r\nnew password: ");
    t.send("\r\n");
    t.expect("error: the password cannot be empty\r\nnew password: ");
    t.send("pw\r\npw\r\n");
    t.expect(READY);

    for (command, answer) in [
        ("frobnicate", "error: unknown command \"frobnicate\"; type help for the commands"),
        ("read", "error: read needs a message number, as in: read 3"),
        ("read two", "error: read needs a message number, as in: read 3 (not \"two\")"),
        ("read 0", "error: read needs a message number, as in: read 3 (not \"0\")"),
        ("read 12345", "error: there is no message 12345"),
        ("delete", "error: delete needs a message number, as in: delete 3"),
        ("delete 12345", "error: there is no message 12345"),
        ("post", "error: post needs a recipient and a subject, as in: post bob Lunch on Friday?"),
        ("post bob", "error: post needs a recipient and a subject, as in: post bob Lunch on Friday?"),
        ("post nobody Hello", "error: there is no user named nobody"),
        ("list everything", "error: list takes nothing after it"),
    ] {
        assert_eq!(t.reply(command), answer, "after {command:?}");
    }
    t.send(format!("{}\n", "y".repeat(100_000)));
    t.expect("error: line longer than 65536 bytes\r\n");
    t.send(b"\xff\xfe\r\n");
    t.expect("error: line is not valid UTF-8 (invalid byte at offset 0)\r\n");
    // A body over the limit is read to its end and not posted.
    let big: String = (0..70).map(|_| format!("{}\r\n", "z".repeat(1000))).collect();
    t.send(format!("post all Too big\r\n{big}.\r\n"));
    t.expect("error: the message is longer than 65536 bytes; not posted\r\n");
    // A body with a refused line is not posted either.
    t.send(format!("post all Broken\r\nfine\r\n{}\r\n.\r\n", "w".repeat(70_000)));
    t.expect("error: line longer than 65536 bytes; not posted\r\n");
    t.send(b"post all Broken too\r\n\xc3\x28\r\n.\r\n");
    t.expect("error: line is not valid UTF-8 (invalid byte at offset 0); not posted\r\n");
    // LF alone ends a line too; nothing was posted; the session goes on.
    let list = t.ask("list", "unread.\r\n");
    assert!(list.ends_with("0 messages, 0 unread.\r\n"), "{list:?}");
    t.send("who\n");
    assert_eq!(t.line_after("On the board now "), "(1): dora");
    let n = t.post("all", "Finally", &["..a line starting with a dot"]);
    let shown = t.ask(&format!("read {n}"), "-- end of message");
    assert!(shown.contains("\r\n\r\n.a line starting with a dot\r\n"), "{shown:?}");
    t.quit();
}

/// `who` lists the users on the board now, and forgets one whose connection dropped without
/// `quit`.
#[test]
fn who_forgets_a_user_whose_connection_dropped() {
    let (_dir, db) = board_dir();
    let server = start(&db, &[]);
    let mut alice = login(server.addr(), "alice", "a");
    let bob = login(server.addr(), "bob", "b");
    let bob2 = login(server.addr(), "bob", "b");
    assert_eq!(alice.reply("who"), "On the board now (2): alice, bob (2 connections)");
    drop(bob);
    drop(bob2);
    let deadline = Instant::now() + LIMIT;
    loop {
        let who = alice.reply("who");
        if who == "On the board now (1): alice" {
            break;
        }
        // Each `who` is a round trip to the board: the poll paces itself.
        assert!(Instant::now() < deadline, "bob is still listed: {who:?}");
    }
    alice.quit();
}

/// A database that cannot be opened is a clear startup error with exit status 2: a missing
/// directory, a file that is not a database, a database another process keeps locked.
#[test]
fn a_database_that_cannot_be_opened_or_is_locked_exits_2() {
    let (dir, db) = board_dir();
    let run = |path: &Path| {
        let out = Command::new(EXE)
            .args(["--port", "0", "--db"])
            .arg(path)
            .stdin(Stdio::null())
            .output()
            .expect("run bulletin-board");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run(&dir.path().join("no such directory").join("board.sqlite"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot open the database") && err.contains("no such directory"), "{err}");

    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, vec![b'#'; 4096]).unwrap();
    let (code, err) = run(&junk);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not an SQLite database"), "{err}");

    // Another client holds the write lock.
    let holder = open_db(&db);
    holder
        .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE other(x); BEGIN IMMEDIATE; INSERT INTO other VALUES (1);")
        .unwrap();
    let (code, err) = run(&db);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("locked by another process"), "{err}");
    holder.execute_batch("COMMIT").unwrap();
    // Once it lets go, the board starts on the same file.
    let server = start(&db, &[]);
    login(server.addr(), "alice", "a").quit();
}

/// A client beyond `--max-connections` is told the board is full and closed.
#[test]
fn a_client_beyond_max_connections_is_refused_with_a_line() {
    let (_dir, db) = board_dir();
    let server = start(&db, &["--max-connections", "1"]);
    let first = login(server.addr(), "alice", "a");
    let mut second = Term::connect(server.addr());
    assert_eq!(second.until_closed(), "Bulletin board full: try again later\r\n");
    first.quit();
}

/// Ctrl-C closes every session and the server exits 0.
#[test]
fn sigint_closes_every_session_and_exits_0() {
    let (_dir, db) = board_dir();
    let mut server = start(&db, &[]);
    let mut alice = login(server.addr(), "alice", "a");
    let mut half = Term::connect(server.addr());
    half.expect("login: ");
    server.interrupt();
    assert_eq!(server.wait_exit(LIMIT).code(), Some(0));
    alice.until_closed();
    half.until_closed();
    // The database was closed cleanly: a fresh client finds it intact.
    let check: String = open_db(&db).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}
