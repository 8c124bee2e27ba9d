//! Stopping the job: the Stopper (stop requests and the `--until` deadline, broadcast to
//! the stages), the StopGate (which stops feeding the balancer), and the job's signal
//! handling ([`StopHandle::on_signals`](super::StopHandle::on_signals)).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axon_core::{
    Component, ComponentBuilder, ComponentId, ControlWatch, Inbox, Next, Outbox, Signal, SignalPolicy, pause,
    pause_until,
};
use chrono::{Local, NaiveTime, TimeDelta, Timelike};

use super::StopHandle;
use super::events::{Event, Job, JobControl, control_signal, job_control};
use crate::shutdown::{INTERRUPTED_TWICE, on_signals, say};

impl StopHandle {
    /// Installs the job's handler for SIGINT, SIGTERM and SIGHUP (all three alike, through
    /// the apps' shared [`on_signals`], so it cannot die on a closed stderr): the first
    /// [`stop`](Self::stop)s the job (running transcodes finish, no new ones start), the
    /// second [`abort`](Self::abort)s it (running transcodes and uploads end), a third exits
    /// at once with status 130. Each says so on stderr, prefixed with `who`.
    ///
    /// A process has one such handler: call this once, from `main`, before
    /// [`Transcode::run`](super::Transcode::run).
    ///
    /// # Errors
    /// The handler cannot be installed (one is already, or the system refused).
    pub fn on_signals(&self, who: &str) -> Result<(), ctrlc::Error> {
        let stop = self.clone();
        let who = who.to_string();
        on_signals(move |n| match n {
            1 => {
                say(format_args!(
                    "{who}: interrupted: running transcodes finish, no new ones start (interrupt again to abort them)"
                ));
                stop.stop();
            }
            2 => {
                say(format_args!(
                    "{who}: interrupted again: aborting running transcodes and uploads (again to exit at once)"
                ));
                stop.abort();
            }
            _ => std::process::exit(INTERRUPTED_TWICE),
        })
    }
}

/// The Stopper: hears stop requests (on `inbox`, from the job's `stop` box) and watches the
/// `--until` deadline, and tells every stage that needs to know, as a [`JobControl`] in a
/// `Notify` signal on each of its outboxes.
///
/// Boxes:
/// - `inbox: JobControl`: stop requests.
/// - `control: Signal`: shutdown signalling (the job's reporter ends it when the workers
///   are done).
/// - `outbox: ()`: unused.
/// - `signal: Signal`: signals passed on; the signal that ended it.
/// - `gate: Signal`: to the StopGate's `control`.
/// - `worker0` .. `worker{n-1}: Signal`: to each worker pipeline's `control`.
/// - `events: Event`: [`Event::StopRequested`], for the reporter.
///
/// Each kind of request is broadcast once: a second `Stop` changes nothing, an `Abort`
/// after a `Stop` escalates it.
///
/// Shutdown: the standard contract ([`ControlWatch`]): on `ProducerFinished` the requests
/// already in `inbox` are broadcast first.
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Stopper {
    workers: usize,
    until: Option<Instant>,
}

impl Stopper {
    /// A Stopper for `workers` worker pipelines.
    pub fn new(workers: usize) -> Self {
        Stopper { workers, until: None }
    }

    /// Asks for a stop at `deadline` (the `--until` time).
    pub fn until(mut self, deadline: Option<Instant>) -> Self {
        self.until = deadline;
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("Stopper");
        let inbox = b.inbox::<JobControl>("inbox");
        let control = b.control();
        b.outbox::<()>("outbox");
        let signal = b.signal();
        let mut outs: Vec<Outbox<Signal>> = vec![b.outbox::<Signal>("gate")];
        outs.extend((0..self.workers).map(|i| b.outbox::<Signal>(format!("worker{i}"))));
        let events = b.outbox::<Event>("events");
        let deadline = self.until;
        b.run(move |_ctx| async move {
            let mut watch = ControlWatch::new(control, signal);
            let end = broadcast(&mut watch, &inbox, &outs, &events, deadline).await;
            watch.finish(end).await;
        })
    }
}

/// The Stopper's loop: broadcasts each kind of request once; returns the signal to end with.
async fn broadcast(
    watch: &mut ControlWatch,
    inbox: &Inbox<JobControl>,
    outs: &[Outbox<Signal>],
    events: &Outbox<Event>,
    mut deadline: Option<Instant>,
) -> Signal {
    let mut sent: Vec<JobControl> = Vec::new();
    loop {
        let mut asked: Vec<(JobControl, &'static str)> = Vec::new();
        if let Some(s) = watch.check() {
            return s;
        }
        while let Some(c) = inbox.try_recv() {
            asked.push((c, "requested"));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            deadline = None;
            asked.push((JobControl::Stop, "--until reached"));
        }
        for (how, why) in asked {
            if sent.contains(&how) {
                continue;
            }
            sent.push(how);
            if let Err(stop) = watch.send(events, Event::StopRequested { how, why }).await {
                return stop.signal;
            }
            for out in outs {
                if let Err(stop) = watch.send(out, control_signal(how)).await {
                    return stop.signal;
                }
            }
        }
        // Finishing: the requests already read have been broadcast.
        if let Some(f) = watch.take_finished() {
            return f;
        }
        match deadline {
            Some(d) => {
                pause_until(d).await;
            }
            None => pause().await,
        }
    }
}

/// The StopGate: between the file walk and the balancer, it passes work on while the job
/// runs and stops passing it when a stop is asked for.
///
/// It takes everything the walk sends as it comes (reporting each job as
/// [`Event::Found`], so the reporter knows the total early), and hands it to the balancer
/// as the balancer has room. On a [`JobControl`] on `control` it reports the work not handed
/// out as [`Event::Left`] (it stays on disk for the next run) and sends `ProducerFinished`
/// on `signal` at once, so the workers finish what they have; it keeps reading (and
/// leaving) what the walk still sends, so the walk never waits on it, until the walk ends.
///
/// Boxes:
/// - `inbox: Job`: work from the walk.
/// - `control: Signal`: the walk's end, stop requests.
/// - `outbox: Job`: work for the balancer (give the balancer's inbox a small size, so work
///   waits here, where a stop can still leave it).
/// - `signal: Signal`: the terminal signal, passed on.
/// - `events: Event`: found and left work, for the reporter.
/// - `done: Signal`: `ProducerFinished` naming it, sent when it ends, after its last event
///   (the reporter waits for it, as a stopped gate may report left work after the workers
///   have ended).
///
/// Shutdown: the standard contract ([`ControlWatch`]): on `ProducerFinished` it first hands
/// out everything it holds (after a stop it then just ends: it already sent its own). Policy
/// [`SignalPolicy::Deliver`]: it acts on stop requests and does not pass them on (the
/// Stopper tells every worker itself); other signals are passed on until it has stopped.
#[derive(Debug)]
pub struct StopGate;

impl StopGate {
    /// Builds the component.
    #[allow(clippy::new_ret_no_self, reason = "a component type names its constructor, as Kamaelia's classes")]
    pub fn new() -> Component {
        let mut b = ComponentBuilder::new("StopGate");
        let inbox = b.inbox::<Job>("inbox");
        let control = b.control();
        let outbox = b.outbox::<Job>("outbox");
        let signal = b.signal();
        let events = b.outbox::<Event>("events");
        let done = b.outbox::<Signal>("done");
        b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(control, signal).with_policy(SignalPolicy::Deliver);
            match gate(ctx.id(), &mut watch, &inbox, &outbox, &events).await {
                Some(end) => watch.finish(end).await,
                None => watch.close().await,
            }
            done.send(Signal::producer_finished_by(ctx.id())).await;
        })
    }
}

/// The StopGate's loop; returns the signal to end with, `None` if it already sent its own.
async fn gate(
    me: ComponentId,
    watch: &mut ControlWatch,
    inbox: &Inbox<Job>,
    outbox: &Outbox<Job>,
    events: &Outbox<Event>,
) -> Option<Signal> {
    let mut held: VecDeque<Job> = VecDeque::new();
    let mut stopped = false;
    let mut walk_done: Option<Signal> = None;
    loop {
        while let Some(next) = watch.try_next(inbox) {
            match next {
                Next::Data(job) => {
                    if let Err(stop) = watch.send(events, Event::Found(job.clone())).await {
                        return Some(stop.signal);
                    }
                    if stopped {
                        if let Err(stop) = watch.send(events, Event::Left(job)).await {
                            return Some(stop.signal);
                        }
                    } else {
                        held.push_back(job);
                    }
                }
                Next::Other(s) if job_control(&s).is_some() => {
                    if !stopped {
                        stopped = true;
                        for job in held.drain(..) {
                            if let Err(stop) = watch.send(events, Event::Left(job)).await {
                                return Some(stop.signal);
                            }
                        }
                        watch.emit(Signal::producer_finished_by(me)).await;
                    }
                }
                // After its own `ProducerFinished` nothing more goes out of `signal`.
                Next::Other(s) => {
                    if !stopped {
                        watch.emit(s).await;
                    }
                }
                Next::End(s) if s.is_shutdown() => return Some(s),
                Next::End(s) => {
                    walk_done.get_or_insert(s);
                    break;
                }
            }
        }
        // Handed out only as the balancer has room: what waits here, a stop can still leave.
        while let Some(job) = held.pop_front() {
            if let Err(full) = outbox.try_send_notify(job) {
                held.push_front(full.into_inner());
                break;
            }
        }
        if held.is_empty() {
            if let Some(end) = walk_done.take() {
                return (!stopped).then_some(end);
            }
        }
        pause().await;
    }
}

/// The next time the local clock reads `hh:mm` (today if still ahead, else tomorrow), as
/// an `Instant`: what `--until HH:MM` means for a job started the evening before.
///
/// # Errors
/// An hour or minute out of range.
pub fn next_local_time(hh: u32, mm: u32) -> Result<Instant, String> {
    let at = NaiveTime::from_hms_opt(hh, mm, 0).ok_or_else(|| format!("{hh:02}:{mm:02} is not a time of day"))?;
    let now = Local::now();
    let mut wait = at.signed_duration_since(now.time());
    if wait <= TimeDelta::zero() {
        wait += TimeDelta::days(1);
    }
    let wait = wait.to_std().unwrap_or(Duration::ZERO);
    Ok(Instant::now() + wait)
}

/// Parses `HH:MM` (24-hour clock) into the next [`Instant`] it names.
///
/// # Errors
/// Anything that is not `HH:MM` with a valid hour and minute.
pub fn parse_until(s: &str) -> Result<Instant, String> {
    let at = NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|e| format!("--until wants a time of day as HH:MM (24-hour clock), not {s:?} ({e})"))?;
    next_local_time(at.hour(), at.minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_names_a_time_within_the_next_day() {
        let at = parse_until("07:30").unwrap();
        let wait = at.saturating_duration_since(Instant::now());
        assert!(wait <= Duration::from_secs(24 * 3600));
        assert!(parse_until("25:00").is_err());
        assert!(parse_until("7").is_err());
        assert!(parse_until("07:30:00").is_err());
    }
}
