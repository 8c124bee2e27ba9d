//! Stopping the job: the Stopper (stop requests and the `--until` deadline, broadcast to
//! the stages) and the StopGate (which stops feeding the balancer).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ComponentId, Inbox, Outbox, Signal, pause, pause_until};
use chrono::{Local, NaiveTime, TimeDelta};

use super::events::{Event, Job, JobControl, control_signal, job_control};

/// The Stopper: hears stop requests (on `inbox`, from the job's `stop` box) and watches the
/// `--until` deadline, and tells every stage that needs to know, as a [`JobControl`] in a
/// `Notify` signal on each of its outboxes.
///
/// Boxes:
/// - `inbox: JobControl`: stop requests.
/// - `control: Signal`: shutdown signalling (the job's reporter ends it when the workers
///   are done).
/// - `outbox: ()`: unused.
/// - `signal: Signal`: the terminal signal, passed on.
/// - `gate: Signal`: to the StopGate's `control`.
/// - `worker0` .. `worker{n-1}: Signal`: to each worker pipeline's `control`.
/// - `events: Event`: [`Event::StopRequested`], for the reporter.
///
/// Each kind of request is broadcast once: a second `Stop` changes nothing, an `Abort`
/// after a `Stop` escalates it.
///
/// Shutdown: any terminal signal on `control` ends it (passed on).
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
        let mut deadline = self.until;
        b.run(move |_ctx| async move {
            let mut sent: Vec<JobControl> = Vec::new();
            loop {
                let mut asked: Vec<(JobControl, &'static str)> = Vec::new();
                while let Some(s) = control.try_recv() {
                    if s.is_terminal() {
                        signal.send(s).await;
                        return;
                    }
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
                    events.send(Event::StopRequested { how, why }).await;
                    for out in &outs {
                        out.send(control_signal(how)).await;
                    }
                }
                match deadline {
                    Some(d) => {
                        pause_until(d).await;
                    }
                    None => pause().await,
                }
            }
        })
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
/// Shutdown: on `ProducerFinished` it hands out everything it holds, then passes the signal
/// on (or, after a stop, just ends: it already sent its own). On `ShutdownMicroprocess` (or
/// `Shutdown`) it passes it on and ends at once.
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
            gate(ctx.id(), inbox, control, outbox, signal, events).await;
            done.send(Signal::producer_finished_by(ctx.id())).await;
        })
    }
}

async fn gate(
    me: ComponentId,
    inbox: Inbox<Job>,
    control: Inbox<Signal>,
    outbox: Outbox<Job>,
    signal: Outbox<Signal>,
    events: Outbox<Event>,
) {
    let mut held: VecDeque<Job> = VecDeque::new();
    let mut stopped = false;
    let mut walk_done: Option<Signal> = None;
    loop {
        while let Some(s) = control.try_recv() {
            if job_control(&s).is_some() {
                if !stopped {
                    stopped = true;
                    for job in held.drain(..) {
                        events.send(Event::Left(job)).await;
                    }
                    signal.send(Signal::producer_finished_by(me)).await;
                }
            } else if s.is_shutdown() {
                signal.send(s).await;
                return;
            } else if s.is_producer_finished() {
                walk_done.get_or_insert(s);
            } else if !stopped {
                signal.send(s).await;
            }
        }
        while let Some(job) = inbox.try_recv() {
            events.send(Event::Found(job.clone())).await;
            if stopped {
                events.send(Event::Left(job)).await;
            } else {
                held.push_back(job);
            }
        }
        while let Some(job) = held.pop_front() {
            if let Err(full) = outbox.try_send_notify(job) {
                held.push_front(full.into_inner());
                break;
            }
        }
        if held.is_empty() && inbox.is_empty() {
            if let Some(end) = walk_done.take() {
                if !stopped {
                    signal.send(end).await;
                }
                return;
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
    let bad = || format!("--until wants a time of day as HH:MM (24-hour clock), not {s:?}");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m.to_string().len() > 2 || s.trim().len() > 5 {
        return Err(bad());
    }
    next_local_time(h, m).map_err(|_| bad())
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
