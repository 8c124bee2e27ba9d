//! The seed systems rebuilt from the real chassis and components: the slideshow Graphline, a
//! PAR stopped by TimedShutdown, the bulletin board's Seq of stages sharing state, a
//! Backplane with subscribers coming and going, a feedback ring that ends itself, and the
//! transcode job's Find -> Sort -> Grep -> Balancer -> workers shape.

use std::io::Write;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use axon_core::stm::Store;
use axon_core::{
    Component, ComponentBuilder, ControlWatch, Inbox, Next, Outbox, Scheduler, Signal, SignalPolicy, link,
};
use kamaelia_chassis::{Backplane, Graphline, Par, Pipeline, PublishTo, Seq, SubscribeTo};
use kamaelia_util::{
    Balancer, Chooser, Clock, DataSource, PureTransformer, Sort, TimedShutdown, TriggeredSource, TwoWaySplitter,
};

// ---------------------------------------------------------------------------------------------
// The slideshow: buttons -> Chooser -> display.

const SLIDES: [&str; 4] = ["title", "intro", "demo", "questions"];

/// The slideshow Graphline: four buttons (stand-ins for the UI's Button, which sends its
/// command string when clicked: here a `TriggeredSource` answering each `()` with it) all
/// feeding a text Chooser over [`SLIDES`], which feeds a display recording what it shows.
/// The graphline surfaces each button's inbox as one of its own (`next`, `prev`, `first`,
/// `last`), so clicking a button is delivering `()` there.
fn slideshow(looping: bool) -> (Component, Record<String>) {
    let (display, shown) = recorder::<String>();
    let chooser = Chooser::new(SLIDES.map(String::from).to_vec()).looping(looping).build_text();
    let mut g = Graphline::builder()
        .component("CHOOSER", chooser)
        .component("DISPLAY", display)
        .link(("CHOOSER", "outbox"), ("DISPLAY", "inbox"))
        .link(("CHOOSER", "signal"), ("DISPLAY", "control"));
    for (button, click) in [("NEXT", "next"), ("PREV", "prev"), ("FIRST", "first"), ("LAST", "last")] {
        g = g
            .component(button, TriggeredSource::<()>::new(button.to_string()))
            .link((button, "outbox"), ("CHOOSER", "inbox"))
            .link(("self", click), (button, "inbox"));
    }
    (g.build().expect("the slideshow is wired correctly"), shown)
}

/// Clicks each button in turn, letting the system settle after each click, and checks the
/// slides shown so far (`None`: the click shows nothing).
fn click_through(sched: &Scheduler, show: &Component, shown: &Record<String>, clicks: &[(&str, Option<&str>)]) {
    let mut expected = shown.items();
    for (button, slide) in clicks {
        show.inbox_ref::<()>(button).unwrap().try_send(()).unwrap();
        sched.run_until_idle();
        expected.extend(slide.map(String::from));
        assert_eq!(shown.items(), expected, "after clicking {button}");
    }
}

/// The slideshow shows the first slide at once, then one slide per click; NEXT at the last
/// slide and PREV at the first show nothing (no looping); a ShutdownMicroprocess on the
/// graphline's control stops every part of it.
#[test]
fn the_slideshow_steps_through_the_slides_and_stops_at_the_ends() {
    let (show, shown) = slideshow(false);
    let sched = Scheduler::new();
    sched.activate(&show).unwrap();
    sched.run_until_idle();
    assert_eq!(shown.items(), ["title"]);
    click_through(
        &sched,
        &show,
        &shown,
        &[
            ("prev", None),
            ("next", Some("intro")),
            ("next", Some("demo")),
            ("next", Some("questions")),
            ("next", None),
            ("first", Some("title")),
            ("prev", None),
            ("last", Some("questions")),
            ("prev", Some("demo")),
            ("first", Some("title")),
            ("first", Some("title")),
        ],
    );

    show.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    sched.run_until_idle();
    assert!(show.is_finished());
    assert_eq!(sched.live(), 0);
    assert_eq!(shown.signal_names(), ["shutdownMicroprocess"]);
}

/// With looping, PREV at the first slide shows the last, and NEXT at the last shows the first.
#[test]
fn the_looping_slideshow_wraps_round_at_both_ends() {
    let (show, shown) = slideshow(true);
    let sched = Scheduler::new();
    sched.activate(&show).unwrap();
    sched.run_until_idle();
    assert_eq!(shown.items(), ["title"]);
    click_through(
        &sched,
        &show,
        &shown,
        &[
            ("prev", Some("questions")),
            ("next", Some("title")),
            ("next", Some("intro")),
            ("last", Some("questions")),
            ("next", Some("title")),
            ("prev", Some("questions")),
            ("prev", Some("demo")),
        ],
    );
    show.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    sched.run_until_idle();
    assert_eq!(sched.live(), 0);
}

/// A scripted remote (a DataSource of button presses) drives the slideshow to its end by
/// itself: the remote's ProducerFinished reaches the Chooser, which carries out the presses
/// it holds and passes it on to the display, and the run returns.
#[test]
fn a_scripted_remote_drives_the_slideshow_and_the_run_ends_by_itself() {
    let presses = ["NEXT", "NEXT", "PREV", "LAST", "NEXT", "FIRST", "PREV", "SAME"];
    let (display, shown) = recorder::<String>();
    let show = Graphline::builder()
        .component("REMOTE", DataSource::new(presses.map(String::from)))
        .component("CHOOSER", Chooser::new(SLIDES.map(String::from).to_vec()).build_text())
        .component("DISPLAY", display)
        .link(("REMOTE", "outbox"), ("CHOOSER", "inbox"))
        .link(("REMOTE", "signal"), ("CHOOSER", "control"))
        .link(("CHOOSER", "outbox"), ("DISPLAY", "inbox"))
        .link(("CHOOSER", "signal"), ("DISPLAY", "control"))
        .build()
        .unwrap();
    let sched = Scheduler::new();
    sched.activate(&show).unwrap();
    let sched = run_within_limit(sched);
    assert_eq!(shown.items(), ["title", "intro", "demo", "intro", "questions", "title", "title"]);
    assert_eq!(shown.signal_names(), ["producerFinished"]);
    assert!(show.is_finished());
    assert_eq!(sched.live(), 0);
}

// ---------------------------------------------------------------------------------------------
// PAR of endless sources, stopped by TimedShutdown.

type Tagged = (&'static str, u64);

/// A source that never ends: `(tag, 0)`, `(tag, 1)`, ..., one per scheduler turn.
fn endless(tag: &'static str) -> Component {
    DataSource::new((0u64..).map(move |n| (tag, n)))
}

/// A clock whose ticks (1, 2, ...) are tagged.
fn tagged_clock(tag: &'static str, interval: Duration) -> Component {
    Pipeline::new([Clock::new(interval), PureTransformer::new(move |n: u64| Some((tag, n)))]).unwrap()
}

/// The numbers `tag` sent, in the order they were seen.
fn from_source(items: &[Tagged], tag: &str) -> Vec<u64> {
    items.iter().filter(|(t, _)| *t == tag).map(|(_, n)| *n).collect()
}

/// As in Kamaelia's PAR examples, `Pipeline(TimedShutdown, PAR(sources...), display)`: the
/// TimedShutdown's ShutdownMicroprocess reaches PAR's control, PAR passes it to every source
/// (a nested Pipeline too) and on to the display, everything stops and the run returns.
/// Each source's output seen before then is its own sequence from the start, in order and
/// without gaps.
#[test]
fn a_par_of_endless_sources_is_stopped_by_timed_shutdown_and_the_run_returns() {
    let ttl = Duration::from_millis(200);
    let sources = [endless("a"), endless("b"), tagged_clock("clock", Duration::from_millis(10))];
    let par = Par::new(sources.clone()).unwrap();
    let (display, seen) = recorder::<Tagged>();
    let system = Pipeline::new([TimedShutdown::new(ttl), par.clone(), display.clone()]).unwrap();
    let sched = Scheduler::new();
    sched.activate(&system).unwrap();
    let started = Instant::now();
    let sched = run_within_limit(sched);

    assert!(started.elapsed() >= ttl, "stopped after {:?}, before its time to live", started.elapsed());
    assert_eq!(sched.live(), 0);
    for c in [&system, &par, &display].into_iter().chain(&sources) {
        assert!(c.is_finished(), "{} is still running", c.name());
    }
    assert_eq!(seen.signal_names(), ["shutdownMicroprocess"]);
    let items = seen.items();
    for (tag, first) in [("a", 0), ("b", 0), ("clock", 1)] {
        let got = from_source(&items, tag);
        assert!(!got.is_empty(), "nothing was seen from {tag}");
        let expected: Vec<u64> = (first..first + got.len() as u64).collect();
        assert_eq!(got, expected, "{tag}'s output is out of order or has gaps");
    }
}

// ---------------------------------------------------------------------------------------------
// The bulletin board: a Seq of stages sharing a session.

/// The board's messages: (to, from, subject, body).
const MESSAGES: &[(&str, &str, &str, &str)] = &[
    ("alice", "bob", "lunch?", "Noodles at one?"),
    ("alice", "carol", "release", "The release is on Friday."),
    ("bob", "alice", "re: lunch?", "Yes please."),
];

/// A stage's boxes: its input, its output, and its control watched.
struct Stage {
    inbox: Inbox<String>,
    outbox: Outbox<String>,
    watch: ControlWatch,
}

impl Stage {
    fn new(b: &mut ComponentBuilder) -> Self {
        let io = b.standard::<String, String>();
        Stage { inbox: io.inbox, outbox: io.outbox, watch: ControlWatch::new(io.control, io.signal) }
    }

    /// Reads one line (without its line ending), or returns the terminal signal that ended
    /// the input.
    async fn read_line(&mut self) -> Result<String, Signal> {
        loop {
            match self.watch.next(&self.inbox).await {
                Next::Data(line) => return Ok(line.trim_end().to_string()),
                Next::Other(_) => {}
                Next::End(s) => return Err(s),
            }
        }
    }

    /// Writes `text`, or returns the shutdown that interrupted the wait for room.
    async fn write(&mut self, text: impl Into<String>) -> Result<(), Signal> {
        Ok(self.watch.send(&self.outbox, text.into()).await?)
    }

    /// Ends the stage, passing `end` on.
    async fn end(self, end: Signal) {
        self.watch.finish(end).await;
    }
}

/// The login stage: asks for a user name, stores it as `"user"` in the shared session, ends.
fn login(session: Store<String>) -> Component {
    let mut b = ComponentBuilder::new("Login");
    let mut stage = Stage::new(&mut b);
    b.run(move |ctx| async move {
        let run = async {
            stage.write("login: ").await?;
            let user = stage.read_line().await?;
            let mut var = session.usevar("user").expect("no other stage is using the session");
            var.set(user);
            var.commit().expect("no other stage is using the session");
            Ok(Signal::producer_finished_by(ctx.id()))
        };
        let end = run.await.unwrap_or_else(|s: Signal| s);
        stage.end(end).await;
    })
}

/// The message-reader stage: greets the user the login stage stored, lists their messages,
/// asks which to read (if there are any), shows it, says goodbye, ends.
fn message_reader(session: Store<String>) -> Component {
    let mut b = ComponentBuilder::new("MessageReader");
    let mut stage = Stage::new(&mut b);
    b.run(move |ctx| async move {
        let run = async {
            let var = session.usevar("user").expect("no other stage is using the session");
            let user = var.get().cloned().unwrap_or_default();
            let mine: Vec<_> = MESSAGES.iter().filter(|m| m.0 == user).collect();
            let plural = if mine.len() == 1 { "" } else { "s" };
            stage.write(format!("Welcome, {user}. You have {} message{plural}.\n", mine.len())).await?;
            for (i, (_, from, subject, _)) in mine.iter().enumerate() {
                stage.write(format!("  {}. {subject} (from {from})\n", i + 1)).await?;
            }
            if !mine.is_empty() {
                stage.write("read which? ").await?;
                let choice = stage.read_line().await?;
                let reply = match choice.parse::<usize>().ok().and_then(|n| mine.get(n.wrapping_sub(1))) {
                    Some((_, from, _, body)) => format!("From {from}: {body}\n"),
                    None => format!("There is no message {choice}.\n"),
                };
                stage.write(reply).await?;
            }
            stage.write(format!("Goodbye, {user}.\n")).await?;
            Ok(Signal::producer_finished_by(ctx.id()))
        };
        let end = run.await.unwrap_or_else(|s: Signal| s);
        stage.end(end).await;
    })
}

/// A scripted user at a terminal: whenever the board shows a prompt (text ending in `": "` or
/// `"? "`) it types the next line of `script`. It keeps the session as a terminal would show
/// it in `transcript`, and stops when the board's output ends.
fn scripted_user(script: &[&str], transcript: Arc<Mutex<String>>) -> Component {
    let mut script: Vec<String> = script.iter().rev().map(|s| format!("{s}\n")).collect();
    let mut b = ComponentBuilder::new("User");
    let io = b.standard::<String, String>();
    b.run(move |_| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Data(text) => {
                    transcript.lock().unwrap().push_str(&text);
                    if text.ends_with(": ") || text.ends_with("? ") {
                        if let Some(line) = script.pop() {
                            transcript.lock().unwrap().push_str(&line);
                            if let Err(stop) = watch.send(&io.outbox, line).await {
                                break stop.signal;
                            }
                        }
                    }
                }
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        watch.finish(end).await;
    })
}

/// Runs a bulletin board session for a user following `script`; returns the transcript, the
/// board's progress log and the session's final `"user"`.
fn bulletin_board_session(script: &[&str]) -> (String, String, Option<String>) {
    let session = Store::new();
    let log = SharedWriter::default();
    let board = Seq::builder()
        .progress("[board] login stage")
        .component(login(session.clone()))
        .progress("[board] reader stage")
        .component(message_reader(session.clone()))
        .output(log.clone())
        .build()
        .unwrap();
    let transcript = Arc::new(Mutex::new(String::new()));
    let system = Graphline::builder()
        .component("BOARD", board)
        .component("USER", scripted_user(script, transcript.clone()))
        .link(("BOARD", "outbox"), ("USER", "inbox"))
        .link(("BOARD", "signal"), ("USER", "control"))
        .link(("USER", "outbox"), ("BOARD", "inbox"))
        .build()
        .unwrap();
    let sched = Scheduler::new();
    sched.activate(&system).unwrap();
    let sched = run_within_limit(sched);
    assert_eq!(sched.live(), 0);
    let user = session.usevar("user").unwrap().get().cloned();
    let transcript = transcript.lock().unwrap().clone();
    (transcript, log.text(), user)
}

/// The bulletin board is a Seq of a login stage and a message-reader stage sharing an STM
/// session: the login stage reads the name from the shared input and stores it; the reader,
/// run after it, greets that user, lists their messages and shows the one asked for. The
/// user's second line reaches the second stage, and the session ends by itself.
#[test]
fn the_bulletin_board_logs_the_user_in_then_reads_their_messages() {
    let (transcript, log, user) = bulletin_board_session(&["alice", "2"]);
    assert_eq!(
        transcript,
        "login: alice\n\
         Welcome, alice. You have 2 messages.\n\
         \x20 1. lunch? (from bob)\n\
         \x20 2. release (from carol)\n\
         read which? 2\n\
         From carol: The release is on Friday.\n\
         Goodbye, alice.\n"
    );
    assert_eq!(log, "[board] login stage\n[board] reader stage\n");
    assert_eq!(user.as_deref(), Some("alice"));
}

/// The reader greets whoever the login stage stored: another user sees their own messages,
/// and a user with none is not asked which to read.
#[test]
fn the_message_reader_greets_whoever_the_login_stage_stored() {
    let (transcript, _, user) = bulletin_board_session(&["bob", "1"]);
    assert_eq!(
        transcript,
        "login: bob\n\
         Welcome, bob. You have 1 message.\n\
         \x20 1. re: lunch? (from alice)\n\
         read which? 1\n\
         From alice: Yes please.\n\
         Goodbye, bob.\n"
    );
    assert_eq!(user.as_deref(), Some("bob"));

    let (transcript, _, _) = bulletin_board_session(&["dave"]);
    assert_eq!(transcript, "login: dave\nWelcome, dave. You have 0 messages.\nGoodbye, dave.\n");
}

// ---------------------------------------------------------------------------------------------
// A Backplane with subscribers coming and going.

type Post = (&'static str, u32);

/// A subscriber to "NEWS" and the recorder it feeds.
fn news_subscriber() -> (Component, Component, Record<Post>) {
    let sub = SubscribeTo::<Post>::new("NEWS").build();
    let (sink, record) = recorder::<Post>();
    link((&sub, "outbox"), (&sink, "inbox")).unwrap();
    link((&sub, "signal"), (&sink, "control")).unwrap();
    (sub, sink, record)
}

/// Checks that `items` hold, from each publisher, exactly the posts numbered `numbers`, in
/// order.
fn assert_posts_per_publisher(items: &[Post], numbers: std::ops::RangeInclusive<u32>) {
    let expected: Vec<u32> = numbers.collect();
    for p in ["p1", "p2", "p3"] {
        let got: Vec<u32> = items.iter().filter(|(t, _)| *t == p).map(|(_, n)| *n).collect();
        assert_eq!(got, expected, "posts from {p}");
    }
}

/// Three publishers post to the backplane "NEWS" in two rounds. Between the rounds one
/// subscriber leaves (ShutdownMicroprocess on its control) and another joins. The subscribers
/// there all along see every post, in order per publisher (and in the same order as each
/// other); the one that left sees only the first round; the late one only the second. When
/// the backplane is finished every remaining subscriber is told and the system ends.
#[test]
fn backplane_subscribers_see_what_is_published_while_they_are_subscribed() {
    let backplane = Backplane::<Post>::new("NEWS");
    let publishers: Vec<(&'static str, Component)> =
        ["p1", "p2", "p3"].into_iter().map(|p| (p, PublishTo::<Post>::new("NEWS").build())).collect();
    let (sub_a, sink_a, all_a) = news_subscriber();
    let (sub_b, sink_b, all_b) = news_subscriber();
    let (leaver, leaver_sink, left) = news_subscriber();
    let sched = Scheduler::new();
    sched.activate(&backplane).unwrap();
    for c in publishers.iter().map(|(_, p)| p).chain([&sub_a, &sink_a, &sub_b, &sink_b, &leaver, &leaver_sink]) {
        sched.activate(c).unwrap();
    }
    sched.run_until_idle();
    let publish_round = |numbers: std::ops::RangeInclusive<u32>| {
        for n in numbers {
            for (tag, p) in &publishers {
                p.inbox_ref::<Post>("inbox").unwrap().try_send((tag, n)).unwrap();
            }
        }
        sched.run_until_idle();
    };

    publish_round(1..=3);
    leaver.inbox_ref::<Signal>("control").unwrap().try_send(Signal::ShutdownMicroprocess).unwrap();
    sched.run_until_idle();
    assert!(leaver.is_finished() && leaver_sink.is_finished());
    let (late, late_sink, late_record) = news_subscriber();
    sched.activate(&late).unwrap();
    sched.activate(&late_sink).unwrap();
    sched.run_until_idle();
    publish_round(4..=6);

    backplane.inbox_ref::<Signal>("control").unwrap().try_send(Signal::producer_finished()).unwrap();
    for (_, p) in &publishers {
        p.inbox_ref::<Signal>("control").unwrap().try_send(Signal::producer_finished()).unwrap();
    }
    let sched = run_within_limit(sched);
    assert_eq!(sched.live(), 0);

    for record in [&all_a, &all_b] {
        assert_posts_per_publisher(&record.items(), 1..=6);
        assert_eq!(record.signal_names(), ["producerFinished"]);
    }
    assert_eq!(all_a.items(), all_b.items(), "the two subscribers saw the posts in different orders");
    assert_posts_per_publisher(&left.items(), 1..=3);
    assert_eq!(left.signal_names(), ["shutdownMicroprocess"]);
    assert_eq!(leaver_sink.box_info("inbox").unwrap().len, 0, "posts reached the subscriber that left");
    assert_eq!(leaver.box_info("outbox").unwrap().len, 0, "posts were kept for the subscriber that left");
    assert_posts_per_publisher(&late_record.items(), 4..=6);
    assert_eq!(late_record.signal_names(), ["producerFinished"]);
}

// ---------------------------------------------------------------------------------------------
// A circular Pipeline that ends itself.

/// The ring's counter: passes on the first `rounds` values it receives. The next value to
/// arrive has been round the ring `rounds` times: instead of passing it on, the counter sends
/// ProducerFinished, which cascades round the ring stopping every stage, and ends.
fn round_counter(rounds: usize) -> Component {
    let mut b = ComponentBuilder::new("RoundCounter");
    let io = b.standard::<u64, u64>();
    b.run(move |ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let mut passed = 0;
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Data(v) if passed < rounds => {
                    passed += 1;
                    if let Err(stop) = watch.send(&io.outbox, v).await {
                        break stop.signal;
                    }
                }
                Next::Data(_) => break Signal::producer_finished_by(ctx.id()),
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        watch.finish(end).await;
    })
}

/// `Pipeline(RoundCounter(5), double, TwoWaySplitter, circular=True)`, seeded with 1 through
/// the pipeline's inbox and tapped at the splitter's second outbox: the tap sees exactly one
/// value per round, then the counter's own ProducerFinished, passed on by every stage after
/// it. Every stage ends and the run returns.
#[test]
fn a_circular_pipeline_goes_round_n_times_then_stops_itself() {
    let counter = round_counter(5);
    let double = PureTransformer::new(|n: u64| Some(2 * n));
    let splitter = TwoWaySplitter::<u64>::new();
    let ring = Pipeline::builder()
        .child(counter.clone())
        .child(double.clone())
        .child(splitter.clone())
        .circular(true)
        .build()
        .unwrap();
    let (tap, tapped) = recorder::<u64>();
    link((&splitter, "outbox2"), (&tap, "inbox")).unwrap();
    link((&splitter, "signal2"), (&tap, "control")).unwrap();
    ring.inbox_ref::<u64>("inbox").unwrap().try_send(1).unwrap();
    let sched = Scheduler::new();
    sched.activate(&ring).unwrap();
    sched.activate(&tap).unwrap();
    let sched = run_within_limit(sched);

    assert_eq!(tapped.items(), [2, 4, 8, 16, 32]);
    let signals = tapped.signals();
    assert!(
        matches!(signals.as_slice(), [Signal::ProducerFinished { caller: Some(id), .. }] if *id == counter.id()),
        "the tap should see the counter's ProducerFinished, saw {signals:?}"
    );
    for c in [&ring, &counter, &double, &splitter, &tap] {
        assert!(c.is_finished(), "{} is still running", c.name());
    }
    assert_eq!(sched.live(), 0);
}

// ---------------------------------------------------------------------------------------------
// The transcode job's shape: Find -> Sort -> Grep -> Balancer -> workers.

/// A worker: "transcodes" a file name, then "uploads" it, tagging it with the worker's number.
fn worker(i: usize) -> Component {
    Pipeline::new([
        PureTransformer::new(|f: String| Some(f.replace(".avi", ".mp4"))),
        PureTransformer::new(move |f: String| Some((i, f))),
    ])
    .unwrap()
}

/// `Graphline(FIND, SORT, GREP, BALANCER(3), WORKER0..2)` with the workers' outputs merged
/// into the graphline's outbox, in a Pipeline with a results sink. The sorted, filtered files
/// are dealt round robin: each is processed exactly once, by worker `k % 3` for the `k`-th.
/// The Find's ProducerFinished cascades through Sort, Grep and the Balancer to every worker;
/// when all have ended the graphline's own ProducerFinished ends the sink.
#[test]
fn find_sort_grep_and_balancer_feed_three_workers_each_file_exactly_once() {
    let found = [
        "talk.avi",
        "notes.txt",
        "keynote.avi",
        "draft-keynote.avi",
        "b-roll.avi",
        "intro.avi",
        "cover.png",
        "panel.avi",
        "demo.avi",
        "outro.avi",
        "draft-demo.avi",
        "q-and-a.avi",
        "lightning.avi",
    ];
    let mut g = Graphline::builder()
        .component("FIND", DataSource::new(found.map(String::from)))
        .component("SORT", Sort::<String>::new())
        .component(
            "GREP",
            PureTransformer::new(|f: String| (f.ends_with(".avi") && !f.starts_with("draft")).then_some(f)),
        )
        .component("BALANCER", Balancer::<String>::new(3).build())
        .link(("FIND", "outbox"), ("SORT", "inbox"))
        .link(("FIND", "signal"), ("SORT", "control"))
        .link(("SORT", "outbox"), ("GREP", "inbox"))
        .link(("SORT", "signal"), ("GREP", "control"))
        .link(("GREP", "outbox"), ("BALANCER", "inbox"))
        .link(("GREP", "signal"), ("BALANCER", "control"));
    let workers: Vec<Component> = (0..3).map(worker).collect();
    for (i, w) in workers.iter().enumerate() {
        let name = format!("WORKER{i}");
        g = g
            .component(name.clone(), w.clone())
            .link(("BALANCER", &format!("outbox{i}")), (&name, "inbox"))
            .link(("BALANCER", &format!("signal{i}")), (&name, "control"))
            .link((&name, "outbox"), ("self", "outbox"));
    }
    let job = g.build().unwrap();
    let (results, done) = recorder::<(usize, String)>();
    let system = Pipeline::new([job.clone(), results]).unwrap();
    let sched = Scheduler::new();
    sched.activate(&system).unwrap();
    let sched = run_within_limit(sched);

    let mut kept: Vec<&str> = found.into_iter().filter(|f| f.ends_with(".avi") && !f.starts_with("draft")).collect();
    kept.sort_unstable();
    let mut expected: Vec<(usize, String)> =
        kept.iter().enumerate().map(|(k, f)| (k % 3, f.replace(".avi", ".mp4"))).collect();
    expected.sort();
    let mut got = done.items();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(done.signal_names(), ["producerFinished"]);
    for w in &workers {
        assert!(w.is_finished(), "{} is still running", w.name());
    }
    assert!(job.is_finished());
    assert_eq!(sched.live(), 0);
}

// ---------------------------------------------------------------------------------------------
// Helpers: a recording sink, a bounded `run`, and a writer whose text can be read back.

/// Far longer than any of these systems needs; only reached if `run` hangs.
const LIMIT: Duration = Duration::from_secs(30);

/// Runs `sched` on another thread until `run` returns, failing the test after [`LIMIT`].
fn run_within_limit(sched: Scheduler) -> Scheduler {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        sched.run();
        let _ = tx.send(sched);
    });
    rx.recv_timeout(LIMIT).expect("Scheduler::run did not return: the system did not shut down")
}

/// What a [`recorder`] has seen: its data and its signals, in arrival order.
struct Record<T> {
    items: Arc<Mutex<Vec<T>>>,
    signals: Arc<Mutex<Vec<Signal>>>,
}

impl<T: Clone> Record<T> {
    /// The data received so far.
    fn items(&self) -> Vec<T> {
        self.items.lock().unwrap().clone()
    }

    /// The signals received so far.
    fn signals(&self) -> Vec<Signal> {
        self.signals.lock().unwrap().clone()
    }

    /// Axon's names of the signals received so far.
    fn signal_names(&self) -> Vec<&'static str> {
        self.signals().iter().map(Signal::axon_name).collect()
    }
}

/// A sink (the "display" of a seed system) recording what reaches its `inbox` and `control`.
/// It stops on a terminal signal, recording what is already queued first (it is the test's
/// eye: whatever reached it counts as seen), and passes the signal on.
fn recorder<T: Clone + Send + 'static>() -> (Component, Record<T>) {
    let (items, signals) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
    let record = Record { items: items.clone(), signals: signals.clone() };
    let mut b = ComponentBuilder::new("Recorder");
    let io = b.standard::<T, ()>();
    let sink = b.run(move |_| async move {
        // Delivered, to be recorded, then passed on as the default policy would.
        let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Data(v) => items.lock().unwrap().push(v),
                Next::Other(s) => {
                    signals.lock().unwrap().push(s.clone());
                    watch.emit(s).await;
                }
                Next::End(s) => break s,
            }
        };
        signals.lock().unwrap().push(end.clone());
        items.lock().unwrap().extend(io.inbox.drain());
        watch.finish(end).await;
    });
    (sink, record)
}

/// A writer whose bytes can be read back (for Seq's progress strings).
#[derive(Clone, Default)]
struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl SharedWriter {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
