//! [`Contract`]: checks a component against the shutdown contract, as every family's
//! conformance test does (and as a third-party component's own test can).

use std::fmt;

use crate::{Component, ComponentBuilder, Inbox, LinkOptions, Scheduler, Signal, SignalPolicy, link, link_with};

/// Runs a component through the three situations the contract covers, on a step-mode
/// scheduler, and says what went wrong:
///
/// 1. **Drain**: messages already in `inbox`, then `ProducerFinished` on `control`: every
///    message is consumed, the component finishes, and `ProducerFinished` is the last thing
///    out of `signal`.
/// 2. **Shutdown while blocked**: with `outbox` linked to a full box of capacity 1, messages
///    go in until the component waits to send; a `ShutdownMicroprocess` then ends it within
///    one scheduler turn, and it is passed on.
/// 3. **Other signals**: a `Status` on `control` is passed on out of `signal` (policy
///    [`Forward`](SignalPolicy::Forward)) or not ([`Ignore`](SignalPolicy::Ignore)), and the
///    component carries on.
///
/// Works for components run by the scheduler (async bodies) whose standard boxes carry `I`
/// in; threaded components and those driven by timers or I/O are tested on their own.
///
/// ```
/// use axon_core::{ComponentBuilder, conformance::Contract};
///
/// Contract::new("Doubler", || {
///     let mut b = ComponentBuilder::new("Doubler");
///     let io = b.standard::<u32, u32>();
///     b.run(|_ctx| io.transform(|n| Some(2 * n)))
/// })
/// .sample(|i| i as u32)
/// .check()
/// .unwrap();
/// ```
pub struct Contract<I> {
    name: String,
    make: Box<dyn Fn() -> Component>,
    sample: Option<Box<dyn Fn(usize) -> I>>,
    policy: SignalPolicy,
    blocks: bool,
}

impl<I> fmt::Debug for Contract<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contract").field("name", &self.name).field("policy", &self.policy).finish_non_exhaustive()
    }
}

/// What [`Contract::check`] found wrong: one line per broken promise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    /// The component checked.
    pub component: String,
    /// Each failure, in words.
    pub failures: Vec<String>,
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} breaks the component contract:", self.component)?;
        for x in &self.failures {
            writeln!(f, "  - {x}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Breach {}

/// How many messages the blocking check offers before concluding the component never
/// blocks on its outbox.
const MAX_FEED: usize = 1000;

impl<I: Send + 'static> Contract<I> {
    /// The contract for the components `make` builds (a fresh one per check).
    pub fn new(name: impl Into<String>, make: impl Fn() -> Component + 'static) -> Self {
        Contract { name: name.into(), make: Box::new(make), sample: None, policy: SignalPolicy::Forward, blocks: true }
    }

    /// The `i`-th input message (a source whose `inbox` is unused gives none: skip this).
    #[must_use]
    pub fn sample(mut self, f: impl Fn(usize) -> I + 'static) -> Self {
        self.sample = Some(Box::new(f));
        self
    }

    /// The policy the component declares for other signals (default `Forward`).
    #[must_use]
    pub fn policy(mut self, policy: SignalPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The component does not emit for every input (a sink, or one that emits only at the
    /// end), so the "shutdown while blocked" check is skipped.
    #[must_use]
    pub fn never_blocks(mut self) -> Self {
        self.blocks = false;
        self
    }

    fn fresh(&self, cap: Option<usize>) -> Result<(Component, Probe), String> {
        let c = (self.make)();
        let probe = Probe::attach(&c, cap).map_err(|e| format!("cannot link its standard boxes: {e}"))?;
        Ok((c, probe))
    }

    /// Runs the checks; `Err` lists every broken promise.
    pub fn check(self) -> Result<(), Breach> {
        let mut failures = Vec::new();
        self.check_drain(&mut failures);
        if self.blocks && self.sample.is_some() {
            self.check_blocked_shutdown(&mut failures);
        }
        self.check_other_signal(&mut failures);
        if failures.is_empty() { Ok(()) } else { Err(Breach { component: self.name, failures }) }
    }

    fn check_drain(&self, failures: &mut Vec<String>) {
        let (c, probe) = match self.fresh(None) {
            Ok(x) => x,
            Err(e) => return failures.push(format!("drain: {e}")),
        };
        let sched = Scheduler::builder().report_panics(false).build();
        let n = if self.sample.is_some() { 3 } else { 0 };
        if let Some(sample) = &self.sample {
            let inbox = match c.inbox_ref::<I>("inbox") {
                Ok(r) => r,
                Err(e) => return failures.push(format!("drain: {e}")),
            };
            for i in 0..n {
                if inbox.try_send(sample(i)).is_err() {
                    return failures.push("drain: its inbox refused a message before it ran".into());
                }
            }
        }
        let control = match c.inbox_ref::<Signal>("control") {
            Ok(r) => r,
            Err(e) => return failures.push(format!("drain: {e}")),
        };
        let _ = control.try_send(Signal::producer_finished());
        if let Err(e) = sched.activate(&c) {
            return failures.push(format!("drain: could not activate: {e}"));
        }
        sched.run_until_idle();
        if !sched.panics().is_empty() {
            failures.push(format!("drain: it panicked: {}", sched.panics()[0].message));
        }
        if !c.is_finished() {
            failures.push(format!("drain: still {:?} after ProducerFinished with {n} messages waiting", c.state()));
        }
        let left = c.box_info("inbox").map_or(0, |b| b.len);
        if left > 0 {
            failures.push(format!("drain: {left} of {n} messages left unconsumed in its inbox"));
        }
        let signals = probe.signals();
        if !signals.last().is_some_and(Signal::is_producer_finished) {
            failures.push(format!("drain: ProducerFinished was not the last signal out (got {signals:?})"));
        }
    }

    fn check_blocked_shutdown(&self, failures: &mut Vec<String>) {
        let Some(sample) = &self.sample else { return };
        let (c, probe) = match self.fresh(Some(1)) {
            Ok(x) => x,
            Err(e) => return failures.push(format!("blocked shutdown: {e}")),
        };
        let sched = Scheduler::builder().report_panics(false).build();
        if let Err(e) = sched.activate(&c) {
            return failures.push(format!("blocked shutdown: could not activate: {e}"));
        }
        let Ok(inbox) = c.inbox_ref::<I>("inbox") else { return };
        let mut blocked = false;
        for i in 0..MAX_FEED {
            sched.run_until_idle();
            let waiting = sched.snapshot().components.iter().any(|ci| ci.id == c.id() && ci.waiting_for.is_some());
            if waiting {
                blocked = true;
                break;
            }
            if c.is_finished() {
                break;
            }
            let _ = inbox.try_send(sample(i));
        }
        if !blocked {
            return failures.push(format!(
                "blocked shutdown: never waited on its full outbox after {MAX_FEED} messages \
                 (if it emits only at the end, declare `never_blocks`)"
            ));
        }
        let before = probe.signals().len();
        let Ok(control) = c.inbox_ref::<Signal>("control") else { return };
        let _ = control.try_send(Signal::ShutdownMicroprocess);
        sched.step();
        if !c.is_finished() {
            failures.push(format!(
                "blocked shutdown: still {:?} one turn after ShutdownMicroprocess while waiting to send",
                c.state()
            ));
        }
        sched.run_until_idle();
        let signals = probe.signals();
        if !signals[before..].iter().any(Signal::is_shutdown) {
            failures.push(format!("blocked shutdown: ShutdownMicroprocess was not passed on (got {signals:?})"));
        }
        if c.is_finished() && sched.snapshot().components.iter().any(|ci| ci.id == c.id() && ci.waiting_for.is_some()) {
            failures.push("blocked shutdown: still recorded as waiting to send after it stopped".into());
        }
    }

    fn check_other_signal(&self, failures: &mut Vec<String>) {
        let (c, probe) = match self.fresh(None) {
            Ok(x) => x,
            Err(e) => return failures.push(format!("other signal: {e}")),
        };
        let sched = Scheduler::builder().report_panics(false).build();
        if let Err(e) = sched.activate(&c) {
            return failures.push(format!("other signal: could not activate: {e}"));
        }
        sched.run_until_idle();
        let Ok(control) = c.inbox_ref::<Signal>("control") else { return };
        let _ = control.try_send(Signal::Status("conformance".into()));
        sched.run_until_idle();
        let forwarded = probe.signals().iter().any(|s| matches!(s, Signal::Status(t) if t == "conformance"));
        match self.policy {
            SignalPolicy::Forward if !forwarded => failures.push("other signal: a Status was not passed on".into()),
            SignalPolicy::Ignore if forwarded => {
                failures.push("other signal: a Status was passed on by a component that ignores them".into());
            }
            _ => {}
        }
        if c.is_finished() {
            failures.push("other signal: a Status ended the component".into());
        }
    }
}

/// Boxes on the far side of the component under test: its `outbox` and `signal` land here.
struct Probe {
    _component: Component,
    signal: Inbox<Signal>,
    seen: std::cell::RefCell<Vec<Signal>>,
}

impl Probe {
    /// Links `c`'s `signal` here, and its `outbox` to an inbox of its own type with capacity
    /// `cap` (unbounded if `None`).
    fn attach(c: &Component, cap: Option<usize>) -> Result<Probe, crate::LinkError> {
        let mut b = ComponentBuilder::new("ContractProbe");
        let signal = b.inbox::<Signal>("signal");
        b.declare_like("outbox", crate::Direction::Inbox, (c, "outbox"))?;
        let component = b.external();
        link((c, "signal"), (&component, "signal"))?;
        let options = cap.map_or_else(LinkOptions::default, LinkOptions::capacity);
        link_with((c, "outbox"), (&component, "outbox"), options)?;
        Ok(Probe { _component: component, signal, seen: std::cell::RefCell::new(Vec::new()) })
    }

    /// Every signal out of the component so far.
    fn signals(&self) -> Vec<Signal> {
        let mut seen = self.seen.borrow_mut();
        seen.extend(std::iter::from_fn(|| self.signal.try_recv()));
        seen.clone()
    }
}
