//! ConsoleReader and ConsoleEchoer: lines in with prompt and eol, text out with tag and format, both shutdown signals, a broken pipe, snapshots.

mod common;

use std::io::Cursor;

use axon_core::{ComponentId, Direction, Scheduler, Signal, link};
use kamaelia_util::{ConsoleEchoer, ConsoleReader};

use common::{
    BrokenPipe, FailingReader, LIMIT, SharedBuf, assert_boxes, attach, put, put_control, queued, run_all,
    standard_boxes, step_all, typed_console, wait_finished,
};

/// ConsoleReader writes the prompt before every read (including the one that meets the end
/// of input), sends each line with its ending replaced by `eol`, including a last line
/// without an ending, then sends ProducerFinished naming itself.
#[test]
fn console_reader_prompts_before_each_read_and_sends_lines_with_eol() {
    let prompts = SharedBuf::default();
    let reader = ConsoleReader::new()
        .reader(Cursor::new("one\ntwo\r\nthree"))
        .prompt("? ")
        .prompt_to(prompts.clone())
        .eol("|")
        .build();
    let out = attach::<String>(&reader);
    run_all(&[&reader, &out.component]);

    assert_eq!(out.data(), ["one|", "two|", "three|"]);
    assert_eq!(prompts.text(), "? ? ? ? ");
    let signals = out.signals();
    assert_eq!(signals.len(), 1);
    assert!(matches!(signals[0], Signal::ProducerFinished { caller: Some(c), .. } if c == reader.id()), "{signals:?}");
    assert!(reader.is_threaded());
}

/// By default ConsoleReader prompts `">>> "` and ends each line with `"\n"`.
#[test]
fn console_reader_defaults_to_the_python_prompt_and_a_newline() {
    let prompts = SharedBuf::default();
    let reader = ConsoleReader::new().reader(Cursor::new("hello\n")).prompt_to(prompts.clone()).build();
    let out = attach::<String>(&reader);
    run_all(&[&reader, &out.component]);
    assert_eq!(out.data(), ["hello\n"]);
    assert_eq!(prompts.text(), ">>> >>> ");
}

/// With `no_prompt`, ConsoleReader writes nothing before reading; bytes that are not UTF-8
/// come through as U+FFFD.
#[test]
fn console_reader_without_a_prompt_writes_nothing_and_replaces_bad_utf8() {
    let prompts = SharedBuf::default();
    let reader =
        ConsoleReader::new().reader(Cursor::new(b"caf\xe9\n".to_vec())).no_prompt().prompt_to(prompts.clone()).build();
    let out = attach::<String>(&reader);
    run_all(&[&reader, &out.component]);
    assert_eq!(out.data(), ["caf\u{fffd}\n"]);
    assert_eq!(prompts.text(), "");
}

/// A ShutdownMicroprocess stops ConsoleReader promptly even while its read is blocked
/// (nobody is typing), and is forwarded.
#[test]
fn console_reader_stops_promptly_on_shutdown_while_a_read_is_blocked() {
    let (keyboard, console) = typed_console();
    let reader = ConsoleReader::new().reader(console).no_prompt().build();
    let bg = Scheduler::new().background();
    let h = bg.handle::<(), String>(&reader).unwrap();

    keyboard.send(b"first\n".to_vec()).unwrap();
    assert_eq!(h.get_timeout(LIMIT).as_deref(), Some("first\n"));
    // Its helper is now blocked reading the next line.
    h.put_control(Signal::ShutdownMicroprocess);
    let forwarded = h.get_signal_timeout(LIMIT);
    assert!(matches!(forwarded, Some(Signal::ShutdownMicroprocess)), "{forwarded:?}");
    assert!(wait_finished(&reader), "ConsoleReader kept running");
    drop(h);
    bg.join();
    // Typing after the shutdown reaches nobody; the helper ends after this read.
    let _ = keyboard.send(b"too late\n".to_vec());
}

/// A ProducerFinished on ConsoleReader's control is forwarded and it stops; signals that are
/// not terminal are forwarded and it carries on reading.
#[test]
fn console_reader_forwards_signals_and_stops_on_producer_finished() {
    let (keyboard, console) = typed_console();
    let reader = ConsoleReader::new().reader(console).no_prompt().eol("").build();
    let bg = Scheduler::new().background();
    let h = bg.handle::<(), String>(&reader).unwrap();

    h.put_control(Signal::Status("still here".into()));
    assert!(matches!(h.get_signal_timeout(LIMIT), Some(Signal::Status(s)) if s == "still here"));
    keyboard.send(b"more\n".to_vec()).unwrap();
    assert_eq!(h.get_timeout(LIMIT).as_deref(), Some("more"));

    h.put_control(Signal::ProducerFinished { caller: Some(ComponentId(7)), message: None });
    let forwarded = h.get_signal_timeout(LIMIT);
    assert!(matches!(forwarded, Some(Signal::ProducerFinished { caller: Some(ComponentId(7)), .. })), "{forwarded:?}");
    assert!(wait_finished(&reader));
    drop(h);
    bg.join();
    drop(keyboard);
}

/// When reading fails, ConsoleReader reports the error as ErrorInformation, then sends
/// ProducerFinished and ends.
#[test]
fn console_reader_reports_a_read_error_then_finishes() {
    let reader = ConsoleReader::new().reader(std::io::BufReader::new(FailingReader)).no_prompt().build();
    let out = attach::<String>(&reader);
    run_all(&[&reader, &out.component]);
    let signals = out.signals();
    assert_eq!(out.signal_names(), ["errorInformation", "producerFinished"]);
    assert!(
        matches!(&signals[0], Signal::ErrorInformation { message, .. } if message.contains("the terminal went away")),
        "{signals:?}"
    );
    assert!(out.data().is_empty());
}

/// ConsoleEchoer writes `tag` then each message with Display, adding no line ending, and
/// flushes each.
#[test]
fn console_echoer_writes_tag_and_display_of_each_message() {
    let screen = SharedBuf::default();
    let echo = ConsoleEchoer::<String>::new().tag("> ").writer(screen.clone()).build();
    put(&echo, ["hello\n", "world\n"].map(String::from));
    step_all(&[&echo]);
    assert_eq!(screen.text(), "> hello\n> world\n");
}

/// In debug mode ConsoleEchoer writes `{:?}` (Kamaelia's `use_repr`).
#[test]
fn console_echoer_in_debug_mode_writes_the_debug_format() {
    let screen = SharedBuf::default();
    let echo = ConsoleEchoer::<(u8, &'static str)>::debug().writer(screen.clone()).build();
    put(&echo, [(1u8, "a"), (2, "b\n")]);
    step_all(&[&echo]);
    assert_eq!(screen.text(), r#"(1, "a")(2, "b\n")"#);
}

/// As a forwarder, ConsoleEchoer also sends each message on, after writing it; otherwise
/// it sends nothing on.
#[test]
fn console_echoer_forwards_messages_only_in_forwarder_mode() {
    let screen = SharedBuf::default();
    let forwarding = ConsoleEchoer::<u32>::new().forwarder(true).writer(screen.clone()).build();
    let quiet = ConsoleEchoer::<u32>::new().writer(screen.clone()).build();
    let out_f = attach::<u32>(&forwarding);
    let out_q = attach::<u32>(&quiet);
    put(&forwarding, [1u32, 2]);
    put(&quiet, [3u32]);
    put_control(&forwarding, Signal::producer_finished());
    put_control(&quiet, Signal::producer_finished());
    step_all(&[&forwarding, &quiet, &out_f.component, &out_q.component]);
    assert_eq!(out_f.data(), [1, 2]);
    assert_eq!(out_q.data(), Vec::<u32>::new());
    assert_eq!(screen.text(), "123");
}

/// ConsoleEchoer passes on a signal that is not terminal and carries on writing
/// (Kamaelia's stops on any control message: quirk 8, fixed).
#[test]
fn console_echoer_carries_on_after_a_signal_that_is_not_terminal() {
    let screen = SharedBuf::default();
    let echo = ConsoleEchoer::<&str>::new().writer(screen.clone()).build();
    let out = attach::<&str>(&echo);
    put_control(&echo, Signal::Status("tick".into()));
    let sched = step_all(&[&echo, &out.component]);
    assert!(!echo.is_finished());
    assert_eq!(out.signal_names(), ["status"]);
    put(&echo, ["after"]);
    sched.run_until_idle();
    assert_eq!(screen.text(), "after");
}

/// On ProducerFinished, ConsoleEchoer writes what is queued, forwards the signal and stops;
/// on ShutdownMicroprocess it forwards it and stops without writing what is queued.
#[test]
fn console_echoer_drains_on_producer_finished_and_stops_at_once_on_shutdown() {
    let drained = SharedBuf::default();
    let finishing = ConsoleEchoer::<&str>::new().writer(drained.clone()).build();
    let out_f = attach::<&str>(&finishing);
    put(&finishing, ["a", "b"]);
    put_control(&finishing, Signal::producer_finished());

    let untouched = SharedBuf::default();
    let stopping = ConsoleEchoer::<&str>::new().writer(untouched.clone()).build();
    let out_s = attach::<&str>(&stopping);
    put(&stopping, ["a", "b"]);
    put_control(&stopping, Signal::ShutdownMicroprocess);

    step_all(&[&finishing, &stopping, &out_f.component, &out_s.component]);
    assert_eq!(drained.text(), "ab");
    assert_eq!(out_f.signal_names(), ["producerFinished"]);
    assert_eq!(untouched.text(), "");
    assert_eq!(out_s.signal_names(), ["shutdownMicroprocess"]);
    assert_eq!(queued(&stopping, "inbox"), 2);
    assert!(finishing.is_finished() && stopping.is_finished());
}

/// Writing into a broken pipe ends ConsoleEchoer cleanly: ErrorInformation naming the
/// error on signal, no panic.
#[test]
fn console_echoer_ends_cleanly_with_error_information_on_a_broken_pipe() {
    let echo = ConsoleEchoer::<&str>::new().writer(BrokenPipe).build();
    let out = common::collector_until::<&str>(|_| false);
    link((&echo, "signal"), (&out.component, "control")).unwrap();
    put(&echo, ["lost\n", "also lost\n"]);
    let sched = step_all(&[&echo, &out.component]);
    assert!(echo.is_finished());
    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
    let signals = out.signals();
    assert_eq!(signals.len(), 1);
    assert!(
        matches!(&signals[0], Signal::ErrorInformation { caller: Some(c), message } if *c == echo.id() && message.to_lowercase().contains("broken pipe")),
        "{signals:?}"
    );
}

/// A reader feeding an echoer: lines flow through, the reader's ProducerFinished travels
/// on (reader.signal -> echoer.control -> echoer.signal), and everything ends.
#[test]
fn reader_to_echoer_chain_carries_lines_then_the_readers_producer_finished() {
    let screen = SharedBuf::default();
    let reader = ConsoleReader::new().reader(Cursor::new("a\nb\n")).no_prompt().build();
    let echo = ConsoleEchoer::<String>::new().tag("echo: ").forwarder(true).writer(screen.clone()).build();
    link((&reader, "outbox"), (&echo, "inbox")).unwrap();
    link((&reader, "signal"), (&echo, "control")).unwrap();
    let out = attach::<String>(&echo);
    run_all(&[&reader, &echo, &out.component]);
    assert_eq!(screen.text(), "echo: a\necho: b\n");
    assert_eq!(out.data(), ["a\n", "b\n"]);
    let signals = out.signals();
    assert!(
        matches!(signals[..], [Signal::ProducerFinished { caller: Some(c), .. }] if c == reader.id()),
        "{signals:?}"
    );
}

/// In a snapshot ConsoleReader shows as threaded with `()` in and `String` out; ConsoleEchoer
/// with its message type both ways.
#[test]
fn console_components_show_their_boxes_and_types_in_a_snapshot() {
    let (keyboard, console) = typed_console();
    let reader = ConsoleReader::new().reader(console).no_prompt().build();
    let echo = ConsoleEchoer::<i64>::new().writer(SharedBuf::default()).build();
    let sched = Scheduler::new();
    sched.activate(&reader).unwrap();
    sched.activate(&echo).unwrap();
    sched.run_until_idle();

    assert_boxes(&sched, &reader, &standard_boxes::<(), String>());
    assert_boxes(&sched, &echo, &standard_boxes::<i64, i64>());
    let snap = sched.snapshot();
    let info = snap.components.iter().find(|i| i.id == reader.id()).unwrap();
    assert!(info.threaded);
    assert_eq!(info.boxes[2].direction, Direction::Outbox);

    drop(keyboard);
    put_control(&echo, Signal::ShutdownMicroprocess);
    let sched = common::run_within_limit(sched);
    assert_eq!(sched.live(), 0);
}
