//! Time-based components: TimedShutdown, MessageRateLimit, byte-rate request controls, OnDemandLimit.
// Kamaelia's constructors are `MessageRateLimit(mps, buffer)`, `OnDemandLimit()`: `Type::new`
// keeps the names a reader of the original expects; the product is a `Component`, not `Self`.
#![allow(clippy::new_ret_no_self)]

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axon_core::{
    Component, ComponentBuilder, ComponentId, ControlWatch, Inbox, Outbox, Signal, Sleep, pause, sleep_until, yield_now,
};

/// Waits until `deadline` or until anything wakes the component (a delivery into any of its
/// inboxes, a collection, an explicit wake), whichever comes first. Returns at once if the
/// deadline has passed. The caller looks again at its boxes and the clock afterwards.
pub(crate) async fn sleep_until_or_woken(deadline: Instant) {
    SleepOrWoken { sleep: sleep_until(deadline), polled: false }.await
}

/// The future behind [`sleep_until_or_woken`]: ready when its timer is due, or at the first
/// poll after the one that registered the timer. A component is polled again only when
/// woken, so that second poll means "something happened".
struct SleepOrWoken {
    sleep: Sleep,
    polled: bool,
}

impl Future for SleepOrWoken {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Pin::new(&mut self.sleep).poll(cx).is_ready() || self.polled {
            return Poll::Ready(());
        }
        self.polled = true;
        Poll::Pending
    }
}

/// `t + secs`, or `None` if that is not representable (an interval so long it never ends).
fn after(t: Instant, secs: f64) -> Option<Instant> {
    Duration::try_from_secs_f64(secs).ok().and_then(|d| t.checked_add(d))
}

/// Why a rate-controlling component could not be built.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RateConfigError {
    /// A rate (messages, units or chunks per second) that is not a finite number above zero.
    NotPositive {
        /// Which setting.
        what: &'static str,
        /// The value given.
        value: f64,
    },
    /// Both a chunk size and a chunk rate were given; give one (the other follows from the
    /// rate).
    ChunkSizeAndChunkRate,
    /// The chunk size, given or worked out as rate / chunk rate, is below 1 unit.
    ChunkTooSmall(f64),
}

impl fmt::Display for RateConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateConfigError::NotPositive { what, value } => {
                write!(f, "{what} must be a finite number above zero, not {value}")
            }
            RateConfigError::ChunkSizeAndChunkRate => f.write_str("give a chunk size or a chunk rate, not both"),
            RateConfigError::ChunkTooSmall(size) => {
                write!(f, "the chunk size ({size}) is below 1: give a larger chunk size or a smaller chunk rate")
            }
        }
    }
}

impl std::error::Error for RateConfigError {}

fn positive(what: &'static str, value: f64) -> Result<f64, RateConfigError> {
    if value.is_finite() && value > 0.0 { Ok(value) } else { Err(RateConfigError::NotPositive { what, value }) }
}

/// Sends `ShutdownMicroprocess` out of `signal` once its time to live has passed, then ends:
/// wire it to the `control` of a chassis (a `Par`, a `Graphline`) to bound how long a system
/// runs. From Kamaelia's examples (`timedShutdown`, with a `TTL` attribute).
///
/// The time is counted from when the component starts running, on the scheduler's timers
/// (no thread).
///
/// Boxes:
/// - `inbox: ()`: unused.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: ()`: unused.
/// - `signal: Signal`: `ShutdownMicroprocess` when the time is up; signals passed on.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)); it holds
/// nothing, so any terminal signal arriving before the time is up (a `ProducerFinished`
/// too) is passed on in place of its own, and it ends.
///
/// Differs from Kamaelia: the example is a threaded component that sleeps and cannot be
/// stopped early.
#[derive(Debug)]
pub struct TimedShutdown;

impl TimedShutdown {
    /// Sends `ShutdownMicroprocess` after `ttl`.
    pub fn new(ttl: Duration) -> Component {
        let mut b = ComponentBuilder::new("TimedShutdown");
        let io = b.standard::<(), ()>();
        b.run(move |_ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            let deadline = Instant::now().checked_add(ttl);
            let end = loop {
                if let Some(stop) = watch.check().or_else(|| watch.take_finished()) {
                    break stop;
                }
                match deadline {
                    Some(d) if Instant::now() >= d => break Signal::ShutdownMicroprocess,
                    Some(d) => sleep_until_or_woken(d).await,
                    // Too long to represent: it never fires.
                    None => pause().await,
                }
            };
            watch.finish(end).await;
        })
    }
}

/// Kamaelia's `MessageRateLimit`: buffers messages, then passes them on no faster than a
/// given rate.
///
/// It waits until `buffer` messages are queued in its inbox (or the inbox is full, if it has
/// a capacity below `buffer`, or `ProducerFinished` arrives), then sends the first at once
/// and each later one at least `1 / messages_per_second` after the previous send completed.
/// When the inbox runs dry it waits for more, and sends the next as soon as it comes and
/// the interval allows. The waits use the scheduler's timers: no thread, no busy waiting.
///
/// Boxes:
/// - `inbox: T`: messages (this inbox is the buffer).
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: the messages, in order, rate-limited.
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): a shutdown
/// leaves queued messages unsent, also while it waits out an interval or for room. On
/// `ProducerFinished` it starts sending if it had not, and sends what is queued (still at
/// the rate) before passing the signal on.
///
/// Differs from Kamaelia: the original spaces messages by `1 / (1.1 · rate)`, so it runs up
/// to 10% over the stated limit (here the limit holds); it busy-yields between messages
/// (here it sleeps on a timer); and a `producerFinished` before the buffer filled ended it
/// without sending what it held (here what it holds is sent).
#[derive(Debug)]
pub struct MessageRateLimit<T>(PhantomData<fn(T) -> T>);

impl<T: Send + 'static> MessageRateLimit<T> {
    /// A rate limit of `messages_per_second`, starting once `buffer` messages are queued
    /// (Kamaelia's default buffer is 60; 0 starts at once).
    ///
    /// # Errors
    /// [`RateConfigError::NotPositive`] if the rate is not a finite number above zero.
    pub fn new(messages_per_second: f64, buffer: usize) -> Result<Component, RateConfigError> {
        let mps = positive("messages_per_second", messages_per_second)?;
        let interval = 1.0 / mps;
        let mut b = ComponentBuilder::new("MessageRateLimit");
        let io = b.standard::<T, T>();
        Ok(b.run(move |_ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            // Filling the buffer.
            loop {
                if let Some(stop) = watch.check() {
                    return watch.finish(stop).await;
                }
                let queued = io.inbox.len();
                let full = io.inbox.capacity().is_some_and(|c| queued >= c);
                if watch.is_finishing() || queued >= buffer || full {
                    break;
                }
                pause().await;
            }
            // Sending, at most one message per interval.
            let mut last: Option<Instant> = None;
            let end = loop {
                if let Some(stop) = watch.check() {
                    break stop;
                }
                if io.inbox.is_empty() {
                    if let Some(finished) = watch.take_finished() {
                        break finished;
                    }
                    pause().await;
                    continue;
                }
                if let Some(due) = last.and_then(|t| after(t, interval)) {
                    if Instant::now() < due {
                        sleep_until_or_woken(due).await;
                        continue;
                    }
                }
                if let Some(item) = io.inbox.try_recv() {
                    if let Err(stop) = watch.send(&io.outbox, item).await {
                        break stop.signal;
                    }
                    last = Some(Instant::now());
                }
            };
            watch.finish(end).await;
        }))
    }
}

/// When requests are due: a grid of steps, each worth `chunksize` units, `timestep` apart.
///
/// Step `s` (from 0) is due at `anchor_time + (s - anchor_step) · timestep`. The units of
/// steps `a..b` are `⌊b · chunksize⌋ - ⌊a · chunksize⌋`, so rounding never accumulates: after
/// `n` steps exactly `⌊n · chunksize⌋` units have been requested.
struct Pacer {
    chunksize: f64,
    /// Seconds between steps at the current rate.
    timestep: f64,
    anchor_time: Instant,
    anchor_step: u64,
    /// The first step not yet requested.
    next_step: u64,
    /// While the rate is 0: the fraction of a step that remained when it stopped.
    paused: Option<f64>,
}

impl Pacer {
    fn new(chunksize: f64, rate: f64, now: Instant) -> Self {
        // Primed: step 0 is due at once, as Kamaelia's.
        Pacer { chunksize, timestep: chunksize / rate, anchor_time: now, anchor_step: 0, next_step: 0, paused: None }
    }

    fn deadline(&self, step: u64) -> Option<Instant> {
        if self.paused.is_some() {
            return None;
        }
        after(self.anchor_time, step.saturating_sub(self.anchor_step) as f64 * self.timestep)
    }

    fn is_due(&self, step: u64, now: Instant) -> bool {
        self.deadline(step).is_some_and(|d| d <= now)
    }

    /// The steps due by `now` and not yet requested; they count as requested from now on.
    fn take_due(&mut self, now: Instant) -> Range<u64> {
        let first = self.next_step;
        if !self.is_due(first, now) {
            return first..first;
        }
        // Estimate from the clock, then settle on exact deadlines either side.
        let elapsed = now.saturating_duration_since(self.anchor_time).as_secs_f64();
        let estimate = self.anchor_step.saturating_add((elapsed / self.timestep) as u64);
        let mut last = estimate.max(first);
        while self.is_due(last + 1, now) {
            last += 1;
        }
        while last > first && !self.is_due(last, now) {
            last -= 1;
        }
        self.next_step = last + 1;
        first..last + 1
    }

    /// Units requested by the steps `steps`.
    fn units(&self, steps: Range<u64>) -> usize {
        let through = |n: u64| floor_close(n as f64 * self.chunksize);
        usize::try_from(through(steps.end).saturating_sub(through(steps.start))).unwrap_or(usize::MAX)
    }

    /// Adopts a new rate at `now` without a glitch: the part of the current step still to
    /// run is kept as a fraction and stretched or shrunk to the new step length.
    fn set_rate(&mut self, rate: f64, now: Instant) {
        let remaining = match self.paused {
            Some(r) => r,
            None => match self.deadline(self.next_step) {
                Some(d) => (d.saturating_duration_since(now).as_secs_f64() / self.timestep).clamp(0.0, 1.0),
                None => 1.0,
            },
        };
        if rate == 0.0 {
            self.paused = Some(remaining);
            return;
        }
        self.paused = None;
        self.timestep = self.chunksize / rate;
        self.anchor_step = self.next_step;
        // A step too long to represent never comes (as a paused pacer).
        match after(now, remaining * self.timestep) {
            Some(t) => self.anchor_time = t,
            None => self.paused = Some(remaining),
        }
    }
}

/// `⌊x⌋`, taking a value within rounding error of an integer as that integer (so three
/// chunks of 100/3 make exactly 100).
fn floor_close(x: f64) -> u64 {
    let r = x.round();
    if (x - r).abs() <= 1e-9 * x.abs().max(1.0) { r as u64 } else { x.floor() as u64 }
}

/// Works out the chunk size from Kamaelia's options.
fn chunk_size(
    rate: f64,
    chunksize: Option<usize>,
    chunkrate: Option<f64>,
    default_chunkrate: Option<f64>,
) -> Result<f64, RateConfigError> {
    let size = match (chunksize, chunkrate) {
        (Some(_), Some(_)) => return Err(RateConfigError::ChunkSizeAndChunkRate),
        (Some(size), None) => size as f64,
        (None, Some(cr)) => rate / positive("chunkrate", cr)?,
        (None, None) => match default_chunkrate {
            Some(cr) => rate / cr,
            None => (rate / 1000.0).max(1.0),
        },
    };
    if size < 1.0 {
        return Err(RateConfigError::ChunkTooSmall(size));
    }
    Ok(size)
}

/// The body shared by the byte-rate request controls. `rates`: the inbox of new rates, for
/// the variable one.
async fn request_at_rate(
    id: ComponentId,
    mut pacer: Pacer,
    aggregate: bool,
    mut watch: ControlWatch,
    rates: Option<&Inbox<f64>>,
    outbox: &Outbox<usize>,
) {
    let end = 'run: loop {
        if let Some(stop) = watch.check() {
            break stop;
        }
        if let Some(rates) = rates {
            while let Some(rate) = rates.try_recv() {
                if rate.is_finite() && rate >= 0.0 {
                    pacer.set_rate(rate, Instant::now());
                } else {
                    let message = format!("ignored a rate that is not a finite number at or above zero: {rate}");
                    watch.emit(Signal::ErrorInformation { caller: Some(id), message }).await;
                }
            }
        }
        // It holds nothing: a ProducerFinished (once the rates queued are taken) ends it.
        if let Some(finished) = watch.take_finished() {
            break finished;
        }
        let due = pacer.take_due(Instant::now());
        if !due.is_empty() {
            if aggregate {
                if let Err(stop) = watch.send(outbox, pacer.units(due)).await {
                    break stop.signal;
                }
            } else {
                for step in due {
                    if let Err(stop) = watch.send(outbox, pacer.units(step..step + 1)).await {
                        break 'run stop.signal;
                    }
                }
            }
            // However short the step, others get a turn between batches.
            yield_now().await;
            continue;
        }
        match pacer.deadline(pacer.next_step) {
            Some(d) => sleep_until_or_woken(d).await,
            None => pause().await,
        }
    };
    watch.finish(end).await;
}

/// Kamaelia's `ByteRate_RequestControl`: emits requests ("send me n units") at a target
/// rate, to pace a source such as a prompted file reader.
///
/// The rate is in units per second (bytes, frames: any unit). Requests are for whole units
/// of about `chunksize` each, one every `chunksize / rate` seconds; the first is sent at
/// once. Give the chunk size directly, or a chunk rate (chunks per second, chunk size =
/// rate / chunk rate), or neither (chunk size = max(1, rate / 1000)). A fractional chunk
/// size is rounded per request with the error carried over: rate 100 at 3 chunks per second
/// requests 33, 33, 34, ..., and after `n` requests exactly `⌊n · rate / 3⌋` units have been
/// asked for. If it falls behind (a send held up by a full box), the missed requests follow
/// at once: one per chunk, or, with `allow_chunk_aggregation`, one request for them all.
/// Timing uses the scheduler's timers: no thread, no busy waiting.
///
/// Boxes:
/// - `inbox: ()`: unused.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: usize`: request sizes.
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)); it holds
/// nothing, so a `ProducerFinished` stops it at once too. A shutdown also stops it while a
/// request waits for room.
///
/// Differs from Kamaelia: the original polls the clock every scheduler turn (busy); with a
/// fractional chunk size it emits a stray 1-unit request where its documentation promises
/// 33, 33, 34 (here the documentation holds); and passing both a chunk size and a chunk
/// rate silently ignored the rate (here it is an error).
#[derive(Debug)]
pub struct ByteRateRequestControl;

impl ByteRateRequestControl {
    /// Requests `rate` units per second (Kamaelia's default is 100000).
    ///
    /// # Errors
    /// [`RateConfigError`] if the rate or chunk rate is not a finite number above zero, if
    /// both a chunk size and a chunk rate are given, or if the chunk size is below 1.
    pub fn new(
        rate: f64,
        chunksize: Option<usize>,
        chunkrate: Option<f64>,
        allow_chunk_aggregation: bool,
    ) -> Result<Component, RateConfigError> {
        let rate = positive("rate", rate)?;
        let size = chunk_size(rate, chunksize, chunkrate, None)?;
        let mut b = ComponentBuilder::new("ByteRateRequestControl");
        let io = b.standard::<(), usize>();
        Ok(b.run(move |ctx| async move {
            let pacer = Pacer::new(size, rate, Instant::now());
            let watch = ControlWatch::new(io.control, io.signal);
            request_at_rate(ctx.id(), pacer, allow_chunk_aggregation, watch, None, &io.outbox).await;
        }))
    }
}

/// Kamaelia's `VariableByteRate_RequestControl`: as [`ByteRateRequestControl`], with the
/// rate changeable while it runs by sending a new one to `inbox`.
///
/// The chunk size is fixed (given, or rate / chunk rate with a default chunk rate of 10,
/// as Kamaelia's); a new rate changes how often requests come. A new rate takes effect at
/// once, without a glitch: the part of the current step still to run keeps its proportion
/// and is rescaled to the new step length. A rate of 0 pauses the requests until a rate
/// above zero arrives.
///
/// Boxes:
/// - `inbox: f64`: new rates, in units per second. A rate that is negative or not finite
///   is ignored and reported as `ErrorInformation` on `signal`.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: usize`: request sizes.
/// - `signal: Signal`: signals passed on; error reports.
///
/// Shutdown: as [`ByteRateRequestControl`]; on `ProducerFinished` the rates already queued
/// are taken first.
#[derive(Debug)]
pub struct VariableByteRateRequestControl;

impl VariableByteRateRequestControl {
    /// Requests `rate` units per second to begin with.
    ///
    /// # Errors
    /// As [`ByteRateRequestControl::new`].
    pub fn new(
        rate: f64,
        chunksize: Option<usize>,
        chunkrate: Option<f64>,
        allow_chunk_aggregation: bool,
    ) -> Result<Component, RateConfigError> {
        let rate = positive("rate", rate)?;
        let size = chunk_size(rate, chunksize, chunkrate, Some(10.0))?;
        let mut b = ComponentBuilder::new("VariableByteRateRequestControl");
        let io = b.standard::<f64, usize>();
        Ok(b.run(move |ctx| async move {
            let pacer = Pacer::new(size, rate, Instant::now());
            let watch = ControlWatch::new(io.control, io.signal);
            request_at_rate(ctx.id(), pacer, allow_chunk_aggregation, watch, Some(&io.inbox), &io.outbox).await;
        }))
    }
}

/// Kamaelia's `OnDemandLimit`: holds messages and lets one through per request.
///
/// Every `"NEXT"` on `slidecontrol` asks for one message: it is sent at once if one is
/// queued, or else as soon as one arrives (outstanding requests are counted, so none is
/// lost). Other strings on `slidecontrol` are ignored. Messages come out in the order they
/// went in; they wait in `inbox` (so that inbox's capacity bounds what is held).
///
/// Boxes:
/// - `inbox: T`: messages to pass on, on demand.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: one message per request.
/// - `signal: Signal`: signals passed on.
/// - `slidecontrol: String`: `"NEXT"` requests.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)), but its
/// drain waits for demand: after `ProducerFinished` the messages held are still sent one
/// per request, and once none is held it passes the signal on and stops (at once if none
/// is held when the signal arrives). A shutdown leaves held messages unsent.
///
/// Differs from Kamaelia: the original ends on `producerFinished` at once, dropping what
/// it holds, and ignores `shutdownMicroprocess`. Its documentation says a "NEXT" with
/// nothing held is discarded, but its code keeps it for the next message; this follows the
/// code.
#[derive(Debug)]
pub struct OnDemandLimit<T>(PhantomData<fn(T) -> T>);

impl<T: Send + 'static> OnDemandLimit<T> {
    /// A limiter holding `T`s.
    pub fn new() -> Component {
        let mut b = ComponentBuilder::new("OnDemandLimit");
        let io = b.standard::<T, T>();
        let slidecontrol = b.inbox::<String>("slidecontrol");
        b.run(move |_ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            let mut requests = 0usize;
            let end = 'run: loop {
                if let Some(stop) = watch.check() {
                    break stop;
                }
                requests += slidecontrol.drain().filter(|r| r == "NEXT").count();
                while requests > 0 {
                    let Some(item) = io.inbox.try_recv() else { break };
                    if let Err(stop) = watch.send(&io.outbox, item).await {
                        break 'run stop.signal;
                    }
                    requests -= 1;
                }
                if io.inbox.is_empty() {
                    if let Some(finished) = watch.take_finished() {
                        break finished;
                    }
                }
                pause().await;
            };
            watch.finish(end).await;
        })
    }
}
