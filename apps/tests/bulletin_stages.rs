//! The bulletin board's components on their own, without a network: the component contract
//! for the scheduler-run ones (LineReader, Authenticator, MessageBoardUI), the threaded
//! Database and PasswordHasher (draining, prompt shutdown, signals passed on, group commit),
//! stages waiting on a service, and the four stages in a Seq running a whole session typed
//! ahead in one go (what `kamaelia-chassis/examples/bulletin_board.rs` showed in memory).

use std::path::Path;
use std::time::{Duration, Instant};

use apps::bulletin::{
    Authenticator, BANNER, BoardServices, ConnectionInfo, Database, DbAnswer, DbError, DbOp, DbReply, DbRequest,
    HashAnswer, HashOp, HashReply, HashRequest, Input, LineReader, MessageBoardUI, PasswordHasher, PostOutcome,
    SESSION_KEY, Session, StateSaverLogout, User, UserRetriever, new_session,
};
use axon_core::conformance::Contract;
use axon_core::stm::Store;
use axon_core::{Background, Component, Handle, Scheduler, Signal};
use kamaelia_chassis::Seq;
use kamaelia_util::{FramingError, PassThrough};

const LIMIT: Duration = Duration::from_secs(30);

fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("board.sqlite");
    (dir, path)
}

/// The board's services: a Database on `path` and a PasswordHasher, returned unactivated.
fn services(path: &Path) -> (BoardServices, Component, Component) {
    let db = Database::open(path).unwrap().build();
    let hasher = PasswordHasher::new().build();
    let services = BoardServices {
        db: db.inbox_ref("inbox").unwrap(),
        hasher: hasher.inbox_ref("inbox").unwrap(),
        online: Store::new(),
    };
    (services, db, hasher)
}

/// A session with `user` logged in.
fn logged_in(user: User) -> Session {
    let session = new_session(None);
    let mut var = session.usevar(SESSION_KEY).unwrap();
    var.set(ConnectionInfo { user: Some(user), ..ConnectionInfo::default() });
    var.commit().unwrap();
    session
}

fn conn(session: &Session) -> ConnectionInfo {
    session.usevar(SESSION_KEY).unwrap().get().cloned().unwrap_or_default()
}

/// Text from a handle until `what` has arrived; all of it.
fn text_until(h: &Handle<Input, Vec<u8>>, what: &str) -> String {
    let deadline = Instant::now() + LIMIT;
    let mut text = String::new();
    while !text.contains(what) {
        let left = deadline.saturating_duration_since(Instant::now());
        match h.get_timeout(left) {
            Some(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
            None => panic!("{what:?} did not arrive within {LIMIT:?}; got {text:?}"),
        }
    }
    text
}

fn overlong() -> Input {
    Err(FramingError::Overlong { limit: 10, discarded: 20 })
}

#[test]
fn line_reader_keeps_the_component_contract() {
    Contract::new("LineReader", || LineReader::new().build())
        .sample(|i| format!("line {i}\r\n").into_bytes())
        .check()
        .unwrap();
}

#[test]
fn authenticator_keeps_the_component_contract() {
    let (_dir, path) = temp_db();
    // Bad input never reaches the services, so these are never activated.
    let (services, _db, _hasher) = services(&path);
    Contract::new("Authenticator", move || Authenticator::new(new_session(None), services.clone()).build())
        .sample(|i| if i % 2 == 0 { Ok(format!("not a name {i}")) } else { overlong() })
        .check()
        .unwrap();
}

#[test]
fn message_board_keeps_the_component_contract() {
    let (_dir, path) = temp_db();
    let (services, _db, _hasher) = services(&path);
    let user = User { id: 1, name: "alice".into() };
    Contract::new("MessageBoardUI", move || MessageBoardUI::new(logged_in(user.clone()), services.clone()).build())
        .sample(|i| if i % 2 == 0 { Ok(format!("frobnicate {i}")) } else { overlong() })
        .check()
        .unwrap();
}

/// The line reader: LF and CRLF end lines; refused lines come out in their place; a last
/// line without a terminator is sent when the input ends.
#[test]
fn line_reader_gives_lines_and_refusals_in_stream_order() {
    let bg = Scheduler::new().background();
    let h = bg.handle::<Vec<u8>, Input>(&LineReader::new().max_line_length(8).build()).unwrap();
    h.put(b"one\r\ntw".to_vec());
    h.put(b"o\nmuch too long\n\xff\r\nlast".to_vec());
    h.put_control(Signal::producer_finished());
    let got: Vec<Input> = (0..5).map(|_| h.get_timeout(LIMIT).expect("a line")).collect();
    assert_eq!(got[0], Ok("one".into()));
    assert_eq!(got[1], Ok("two".into()));
    assert_eq!(got[2], Err(FramingError::Overlong { limit: 8, discarded: 13 }));
    assert!(matches!(&got[3], Err(FramingError::InvalidUtf8 { valid_up_to: 0, .. })), "{:?}", got[3]);
    assert_eq!(got[4], Ok("last".into()));
    assert!(h.get_signal_timeout(LIMIT).is_some_and(|s| s.is_producer_finished()));
}

/// A reply inbox the test can read: a PassThrough's `inbox`, its `outbox` on a handle.
fn replies<T: Send + 'static>(bg: &Background) -> (axon_core::InboxRef<T>, Handle<T, T>) {
    let pass = PassThrough::<T>::new();
    let inbox = pass.inbox_ref::<T>("inbox").unwrap();
    (inbox, bg.handle::<T, T>(&pass).unwrap())
}

fn answer(h: &Handle<DbReply, DbReply>) -> DbAnswer {
    h.get_timeout(LIMIT).expect("a reply from the database").expect("the request succeeded")
}

/// The Database answers every request already waiting when told ProducerFinished, in one
/// transaction for the lot (group commit), then passes the signal on and ends.
#[test]
fn the_database_drains_on_producer_finished_committing_what_waits_in_one_transaction() {
    let (_dir, path) = temp_db();
    let database = Database::open(&path).unwrap();
    let stats = database.stats();
    let db = database.build();
    let bg = Scheduler::new().background();
    let (reply, replies) = replies::<DbReply>(&bg);
    let inbox = db.inbox_ref::<DbRequest>("inbox").unwrap();
    let ask = |op| inbox.try_send(DbRequest { op, reply: reply.clone() }).unwrap();
    ask(DbOp::CreateAccount { name: "alice".into(), password_hash: "h".into() });
    for k in 0..50 {
        ask(DbOp::Post { from: 1, to: "all".into(), subject: format!("s{k}"), body: String::new() });
    }
    // A request that fails (no user 99: a foreign key) is undone alone.
    ask(DbOp::Post { from: 99, to: "all".into(), subject: "ghost".into(), body: String::new() });
    ask(DbOp::List { user: 1 });
    db.inbox_ref::<Signal>("control").unwrap().try_send(Signal::producer_finished()).unwrap();
    let h = bg.handle::<DbRequest, ()>(&db).unwrap();

    assert!(matches!(answer(&replies), DbAnswer::Created(Some(User { id: 1, .. }))));
    for k in 0..50 {
        assert_eq!(answer(&replies), DbAnswer::Posted(PostOutcome::Posted { id: k + 1, to: None }));
    }
    assert!(matches!(replies.get_timeout(LIMIT), Some(Err(DbError::Statement(_)))));
    let DbAnswer::List(list) = answer(&replies) else { panic!("a list") };
    assert_eq!(list.len(), 50);
    assert!(h.get_signal_timeout(LIMIT).is_some_and(|s| s.is_producer_finished()));
    let s = stats.snapshot();
    assert_eq!(s.requests, 53);
    assert_eq!(s.batches, 1, "53 requests waiting should be one transaction");
}

/// A threaded service passes a Status on and carries on, and stops at once on
/// ShutdownMicroprocess while blocked waiting for work, passing it on.
fn status_then_shutdown<I: Send + 'static>(bg: &Background, c: &Component) {
    assert!(c.is_threaded(), "{} must not run on the scheduler's thread", c.name());
    let h = bg.handle::<I, ()>(c).unwrap();
    h.put_control(Signal::Status("still there?".into()));
    let got = h.get_signal_timeout(LIMIT);
    assert!(matches!(&got, Some(Signal::Status(t)) if t == "still there?"), "{}: {got:?}", c.name());
    assert!(!c.is_finished(), "{}: a Status ended it", c.name());
    h.put_control(Signal::ShutdownMicroprocess);
    let got = h.get_signal_timeout(LIMIT);
    assert!(matches!(got, Some(Signal::ShutdownMicroprocess)), "{}: {got:?}", c.name());
    let deadline = Instant::now() + LIMIT;
    while !c.is_finished() {
        assert!(Instant::now() < deadline, "{} did not stop", c.name());
        std::thread::yield_now();
    }
}

#[test]
fn the_database_and_hasher_pass_status_on_and_stop_promptly_on_shutdown() {
    let (_dir, path) = temp_db();
    let bg = Scheduler::new().background();
    status_then_shutdown::<DbRequest>(&bg, &Database::open(&path).unwrap().build());
    status_then_shutdown::<HashRequest>(&bg, &PasswordHasher::new().build());
}

/// The hasher salts: the same password hashes differently twice, and each hash verifies it
/// and nothing else. A hash it cannot read is an error, not a panic.
#[test]
fn the_hasher_salts_and_verifies() {
    let bg = Scheduler::new().background();
    let hasher = PasswordHasher::new().build();
    let inbox = hasher.inbox_ref::<HashRequest>("inbox").unwrap();
    let _h = bg.handle::<HashRequest, ()>(&hasher).unwrap();
    let (reply, replies) = replies::<HashReply>(&bg);
    let ask = |op| {
        inbox.try_send(HashRequest { op, reply: reply.clone() }).unwrap();
        replies.get_timeout(LIMIT).expect("a reply from the hasher")
    };
    let hash = |p: &str| match ask(HashOp::Hash { password: p.into() }) {
        Ok(HashAnswer::Hashed(h)) => h,
        other => panic!("{other:?}"),
    };
    let (a, b) = (hash("secret"), hash("secret"));
    assert!(a.starts_with("$argon2id$"), "{a}");
    assert_ne!(a, b, "two hashes of one password must have different salts");
    let verify = |p: &str, h: &str| ask(HashOp::Verify { password: p.into(), hash: h.into() });
    assert_eq!(verify("secret", &a), Ok(HashAnswer::Verified(true)));
    assert_eq!(verify("secret", &b), Ok(HashAnswer::Verified(true)));
    assert_eq!(verify("Secret", &a), Ok(HashAnswer::Verified(false)));
    assert!(verify("secret", "not a hash").is_err());
}

/// A stage waiting for a service's reply still obeys `control`: a Status is passed on and
/// the stage waits on; a ShutdownMicroprocess ends it within one scheduler turn.
#[test]
fn a_stage_waiting_for_the_database_passes_status_on_and_stops_at_once_on_shutdown() {
    let (_dir, path) = temp_db();
    // The database is never activated: the stage's request waits in its inbox forever.
    let (services, db, _hasher) = services(&path);
    let stage = UserRetriever::new(logged_in(User { id: 1, name: "alice".into() }), services).build();
    let sched = Scheduler::new();
    let mut b = axon_core::ComponentBuilder::new("Probe");
    let signal = b.inbox::<Signal>("signal");
    let probe = b.run(|_| async {});
    axon_core::link((&stage, "signal"), (&probe, "signal")).unwrap();
    sched.activate(&stage).unwrap();
    sched.run_until_idle();
    assert_eq!(db.box_info("inbox").unwrap().len, 1, "the profile request was sent");
    let control = stage.inbox_ref::<Signal>("control").unwrap();
    control.try_send(Signal::Status("hello".into())).unwrap();
    sched.run_until_idle();
    assert!(matches!(signal.try_recv(), Some(Signal::Status(t)) if t == "hello"));
    assert!(!stage.is_finished());
    control.try_send(Signal::ShutdownMicroprocess).unwrap();
    sched.step();
    assert!(stage.is_finished(), "still waiting for the database after ShutdownMicroprocess");
    assert!(matches!(signal.try_recv(), Some(Signal::ShutdownMicroprocess)));
}

/// A ProducerFinished (the client has gone) while a request is under way does not abandon
/// it: the stage waits for the answer, uses it, and only then ends.
#[test]
fn a_producer_finished_while_a_request_is_under_way_waits_for_the_answer() {
    let (_dir, path) = temp_db();
    let (services, db, _hasher) = services(&path);
    let mut setup = Database::open(&path).unwrap();
    setup.run_batch(vec![DbOp::CreateAccount { name: "alice".into(), password_hash: "h".into() }]);
    let session = logged_in(User { id: 1, name: "alice".into() });
    let stage = UserRetriever::new(session.clone(), services).build();
    let bg = Scheduler::new().background();
    let h = bg.handle::<Input, Vec<u8>>(&stage).unwrap();
    h.put_control(Signal::producer_finished());
    // The request is in the (not yet running) database's inbox; now let it answer.
    let deadline = Instant::now() + LIMIT;
    while db.box_info("inbox").unwrap().len == 0 {
        assert!(Instant::now() < deadline, "the stage sent no request");
        std::thread::yield_now();
    }
    assert!(!stage.is_finished());
    let _db = bg.handle::<DbRequest, ()>(&db).unwrap();
    let greeting = text_until(&h, "Type help for the commands.");
    assert!(greeting.contains("Hello alice. You have 0 messages, 0 unread."), "{greeting:?}");
    assert!(h.get_signal_timeout(LIMIT).is_some_and(|s| s.is_producer_finished()));
    assert!(conn(&session).profile.is_some());
}

/// The four stages in a Seq on one session, with the real Database and PasswordHasher: a
/// whole visit typed ahead in one go (every line there before the first prompt) runs to the
/// end, each stage taking its lines and handing the rest on. A second visit logs in to the
/// account the first created.
#[test]
fn the_four_stages_in_a_seq_run_a_whole_session_typed_ahead() {
    let (_dir, path) = temp_db();
    let (services, db, hasher) = services(&path);
    let bg = Scheduler::new().background();
    bg.activate(&db).unwrap();
    bg.activate(&hasher).unwrap();
    let visit = |lines: &[&str]| {
        let session = new_session(None);
        let seq = Seq::new([
            Authenticator::new(session.clone(), services.clone()).build().into(),
            UserRetriever::new(session.clone(), services.clone()).build().into(),
            MessageBoardUI::new(session.clone(), services.clone()).build().into(),
            StateSaverLogout::new(session.clone(), services.clone()).build().into(),
        ])
        .unwrap();
        let h = bg.handle::<Input, Vec<u8>>(&seq).unwrap();
        for l in lines {
            h.put(Ok(l.to_string()));
        }
        let text = text_until(&h, "deleted.\r\n");
        assert!(h.get_signal_timeout(LIMIT).is_some_and(|s| s.is_producer_finished()), "the Seq ends");
        (text, conn(&session))
    };
    let (first, info) =
        visit(&["alice", "pw", "pw", "post all Hello", "first line", ".", "list", "who", "quit", "ignored"]);
    assert!(first.starts_with(BANNER), "{first:?}");
    for part in [
        "Account alice created.",
        "Hello alice. You have 0 messages, 0 unread.",
        "posted message 1 to all",
        "    1  read    ",
        "On the board now (1): alice",
        "Goodbye, alice: 1 posted, 0 read, 0 deleted.",
    ] {
        assert!(first.contains(part), "{part:?} missing from {first:?}");
    }
    assert_eq!(info.user.map(|u| u.name).as_deref(), Some("alice"));
    assert_eq!(info.posted, 1);
    // What came after `quit` was handed to no one: it is left in the session.
    assert_eq!(info.pending, vec![Ok("ignored".to_string())]);

    let (second, _) = visit(&["alice", "pw", "read 1", "quit"]);
    assert!(second.contains("You were last here on "), "{second:?}");
    assert!(second.contains("\r\nfirst line\r\n-- end of message 1 --"), "{second:?}");
}
