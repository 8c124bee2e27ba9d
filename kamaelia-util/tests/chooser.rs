//! Chooser steps a cursor through a list on command and sends the chosen item;
//! ForwardIteratingChooser steps forwards through any iterator and ends when it runs out.

#[path = "common/split.rs"]
mod common_split;

use axon_core::Signal;
use common_split::*;
use kamaelia_util::{Chooser, ChooserCommand, ForwardIteratingChooser};

use ChooserCommand::{First, Last, Next, Prev, Same};

fn slides() -> Vec<String> {
    ["a.png", "b.png", "c.png"].map(String::from).to_vec()
}

/// Runs a chooser over `slides()` and returns what it sent at start and after each command.
fn answers(looping: bool, commands: &[ChooserCommand]) -> Vec<Vec<String>> {
    let chooser = Chooser::new(slides()).looping(looping).build();
    let out = attach::<String>(&chooser, "outbox", None);
    let sched = scheduler_with(&[&chooser]);
    sched.run_until_idle();
    let mut sent = vec![out.take()];
    for &cmd in commands {
        put(&chooser, [cmd]);
        sched.run_until_idle();
        sent.push(out.take());
    }
    sent
}

#[test]
fn chooser_sends_the_first_item_on_start() {
    assert_eq!(answers(false, &[]), [vec!["a.png"]]);
}

#[test]
fn chooser_commands_move_the_cursor_and_send_the_item_under_it() {
    let sent = answers(false, &[Next, Next, Same, Prev, Last, First]);
    assert_eq!(sent, [["a.png"], ["b.png"], ["c.png"], ["c.png"], ["b.png"], ["c.png"], ["a.png"]]);
}

#[test]
fn chooser_sends_nothing_when_stepping_past_either_end_and_stays_there() {
    let sent = answers(false, &[Prev, Last, Next, Prev]);
    let none: Vec<String> = vec![];
    assert_eq!(sent, [vec!["a.png".to_string()], none.clone(), vec!["c.png".to_string()], none, vec!["b.png".into()]]);
}

#[test]
fn chooser_looping_wraps_round_at_both_ends() {
    let sent = answers(true, &[Prev, Next, Next, Next]);
    assert_eq!(sent, [["a.png"], ["c.png"], ["a.png"], ["b.png"], ["c.png"]]);
}

#[test]
fn chooser_with_no_items_never_sends_anything() {
    let chooser = Chooser::<u32>::new(vec![]).looping(true).build();
    let out = attach::<u32>(&chooser, "outbox", None);
    let sched = scheduler_with(&[&chooser]);
    put(&chooser, [Same, Next, Prev, First, Last]);
    sched.run_until_idle();
    assert!(out.take().is_empty());
}

#[test]
fn chooser_built_for_text_takes_kamaelias_command_strings_and_ignores_others() {
    let chooser = Chooser::new(slides()).build_text();
    let out = attach::<String>(&chooser, "outbox", None);
    let sched = scheduler_with(&[&chooser]);
    put(&chooser, ["NEXT", "next", "BOGUS", "LAST", "PREV"].map(String::from));
    sched.run_until_idle();
    assert_eq!(out.take(), ["a.png", "b.png", "c.png", "b.png"]);
}

#[test]
fn chooser_command_strings_parse_and_print_as_kamaelia_spells_them() {
    for cmd in [Same, Next, Prev, First, Last] {
        assert_eq!(cmd.to_string().parse::<ChooserCommand>(), Ok(cmd));
    }
    assert_eq!("NEXT".parse::<ChooserCommand>(), Ok(Next));
    let err = "next".parse::<ChooserCommand>().unwrap_err();
    assert_eq!(err.to_string(), "unknown chooser command \"next\" (expected SAME, NEXT, PREV, FIRST or LAST)");
}

#[test]
fn chooser_on_shutdown_stops_at_once_and_passes_it_on() {
    let chooser = Chooser::new(slides()).build();
    let out = attach::<String>(&chooser, "outbox", Some("signal"));
    let sched = scheduler_with(&[&chooser]);
    sched.run_until_idle();
    put(&chooser, [Next]);
    put_control(&chooser, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert_eq!(out.take(), ["a.png"], "the queued NEXT is not carried out");
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
    assert!(chooser.is_finished());
}

#[test]
fn chooser_on_producer_finished_carries_out_queued_commands_then_passes_it_on() {
    let chooser = Chooser::new(slides()).build();
    let out = attach::<String>(&chooser, "outbox", Some("signal"));
    let sched = scheduler_with(&[&chooser]);
    sched.run_until_idle();
    put(&chooser, [Next, Last]);
    put_control(&chooser, Signal::producer_finished());
    sched.run_until_idle();
    assert_eq!(out.take(), ["a.png", "b.png", "c.png"]);
    assert_eq!(out.signal_names(), ["producerFinished"]);
    assert!(chooser.is_finished());
}

#[test]
fn chooser_driven_by_a_command_source_ends_with_it_down_the_chain() {
    let commands = source(vec![Next, Next, Prev], Signal::producer_finished());
    let chooser = Chooser::new(slides()).build();
    let (sink, seen) = sink::<String>();
    chain(&commands, &chooser);
    chain(&chooser, &sink);
    let sched = run_within_limit(scheduler_with(&[&commands, &chooser, &sink]));
    assert_eq!(seen.data(), ["a.png", "b.png", "c.png", "b.png"]);
    assert_eq!(seen.signal_names(), ["producerFinished"]);
    assert_eq!(sched.live(), 0);
}

#[test]
fn chooser_shows_its_command_inbox_and_item_outbox_in_a_snapshot() {
    let chooser = Chooser::new(slides()).build();
    let text = Chooser::new(vec![1u8]).build_text();
    let sched = scheduler_with(&[&chooser, &text]);
    assert_eq!(snapshot_boxes(&sched, &chooser), standard_boxes::<ChooserCommand, String>());
    assert_eq!(snapshot_boxes(&sched, &text), standard_boxes::<String, u8>());
}

// ---------------------------------------------------------------------------------------
// ForwardIteratingChooser

#[test]
fn forward_iterating_chooser_sends_the_first_item_then_one_more_per_next() {
    let fic = ForwardIteratingChooser::new(1u32..);
    let out = attach::<u32>(&fic, "outbox", None);
    let sched = scheduler_with(&[&fic]);
    sched.run_until_idle();
    assert_eq!(out.take(), [1], "an endless iterator is fine");
    put(&fic, [Next, Same, Next, Prev, First, Last, Next]);
    sched.run_until_idle();
    assert_eq!(out.take(), [2, 2, 3, 4], "PREV, FIRST and LAST are ignored");
}

#[test]
fn forward_iterating_chooser_at_exhaustion_sends_its_own_producer_finished_and_ends() {
    let fic = ForwardIteratingChooser::new(vec!["x".to_string(), "y".to_string()]);
    let out = attach::<String>(&fic, "outbox", Some("signal"));
    let sched = scheduler_with(&[&fic]);
    put(&fic, [Next, Next]);
    sched.run_until_idle();
    assert_eq!(out.take(), ["x", "y"]);
    let signals = out.signals();
    assert_eq!(signals.len(), 1);
    assert!(
        matches!(signals[0], Signal::ProducerFinished { caller: Some(id), .. } if id == fic.id()),
        "{:?}",
        signals[0]
    );
    assert!(fic.is_finished());
}

#[test]
fn forward_iterating_chooser_over_nothing_sends_nothing_and_ends_at_the_first_next() {
    let fic = ForwardIteratingChooser::<u32>::new(Vec::new());
    let out = attach::<u32>(&fic, "outbox", Some("signal"));
    let sched = scheduler_with(&[&fic]);
    put(&fic, [Same]);
    sched.run_until_idle();
    assert!(out.take().is_empty());
    assert!(!fic.is_finished());
    put(&fic, [Next]);
    sched.run_until_idle();
    assert_eq!(out.signal_names(), ["producerFinished"]);
    assert!(fic.is_finished());
}

#[test]
fn forward_iterating_chooser_with_text_commands_takes_strings() {
    let fic = ForwardIteratingChooser::with_text_commands(["a", "b"]);
    let out = attach::<&str>(&fic, "outbox", None);
    let sched = scheduler_with(&[&fic]);
    put(&fic, ["SAME", "NEXT"].map(String::from));
    sched.run_until_idle();
    assert_eq!(out.take(), ["a", "a", "b"]);
}

#[test]
fn forward_iterating_chooser_on_shutdown_stops_at_once_and_passes_it_on() {
    let fic = ForwardIteratingChooser::new(0u32..);
    let out = attach::<u32>(&fic, "outbox", Some("signal"));
    let sched = scheduler_with(&[&fic]);
    sched.run_until_idle();
    put(&fic, [Next]);
    put_control(&fic, Signal::ShutdownMicroprocess);
    sched.run_until_idle();
    assert_eq!(out.take(), [0]);
    assert_eq!(out.signal_names(), ["shutdownMicroprocess"]);
    assert!(fic.is_finished());
}

#[test]
fn forward_iterating_chooser_passes_its_end_down_a_chain() {
    let commands = source(vec![Next, Next, Next], Signal::producer_finished());
    let fic = ForwardIteratingChooser::new(vec![10u32, 20]);
    let (sink, seen) = sink::<u32>();
    chain(&commands, &fic);
    chain(&fic, &sink);
    let sched = run_within_limit(scheduler_with(&[&commands, &fic, &sink]));
    assert_eq!(seen.data(), [10, 20]);
    assert_eq!(seen.signal_names(), ["producerFinished"]);
    assert_eq!(sched.live(), 0);
}

#[test]
fn forward_iterating_chooser_shows_its_boxes_in_a_snapshot() {
    let fic = ForwardIteratingChooser::new(vec![1.5f64]);
    let sched = scheduler_with(&[&fic]);
    assert_eq!(snapshot_boxes(&sched, &fic), standard_boxes::<ChooserCommand, f64>());
}
