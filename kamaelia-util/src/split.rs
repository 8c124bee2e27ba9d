//! Fanout, Router, ConditionalSplitter, TwoWaySplitter and the N-way Balancer.

use std::marker::PhantomData;

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Outbox, Signal};

/// Sends `msg` to every outbox in `outs`, in order (clones for all but the last), each send
/// waiting for room; a shutdown while one waits stops it, and the rest are not sent.
async fn send_all<T: Clone + Send + 'static>(
    watch: &mut ControlWatch,
    outs: &[&Outbox<T>],
    msg: T,
) -> Result<(), Signal> {
    let Some((last, rest)) = outs.split_last() else { return Ok(()) };
    for out in rest {
        watch.send(out, msg.clone()).await?;
    }
    watch.send(last, msg).await.map_err(Signal::from)
}

/// Box names a component's extra outboxes may not take: its inboxes and its `signal`.
const RESERVED: [&str; 3] = ["inbox", "control", "signal"];

fn check_outbox_name(kind: &str, name: &str) {
    assert!(!RESERVED.contains(&name), "{kind}: an outbox may not be named {name:?} (that box is taken)");
}

/// Fanout: copies every message to `outbox` and to each of a list of named outboxes
/// (Kamaelia's `Kamaelia.Util.Fanout.Fanout(boxnames)`).
///
/// Boxes:
/// - `inbox: T`: messages to copy.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: a copy of every message.
/// - `signal: Signal`: signals passed on.
/// - one outbox per name given, `T`: a copy of every message.
///
/// Each message is sent to `outbox` first, then to the named outboxes in the order given,
/// each send waiting while its destination is full (backpressure). `T: Clone`: one clone per
/// extra destination. A name given twice, or `"outbox"`, is the same box and gets one copy.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): on
/// `ProducerFinished` it copies what is already in `inbox` first; a shutdown abandons a copy
/// waiting for room, and the copies not yet sent.
///
/// Differs from Kamaelia: the original copies data to *every* outbox, `signal` included
/// (reference §1.16 quirk 6); here data never goes to `signal`.
pub struct Fanout<T>(PhantomData<fn() -> T>);

// The type names the component, as Kamaelia's class does; `new` builds it.
#[allow(clippy::new_ret_no_self)]
impl<T: Clone + Send + 'static> Fanout<T> {
    /// Builds a Fanout copying to `outbox` and to each of `boxnames`.
    ///
    /// # Panics
    /// If a name is `inbox`, `control` or `signal`.
    pub fn new(boxnames: &[&str]) -> Component {
        let mut b = ComponentBuilder::new("Fanout");
        let std = b.standard::<T, T>();
        let mut extra: Vec<Outbox<T>> = Vec::new();
        let mut seen: Vec<&str> = vec!["outbox"];
        for &name in boxnames {
            check_outbox_name("Fanout", name);
            if !seen.contains(&name) {
                seen.push(name);
                extra.push(b.outbox::<T>(name.to_string()));
            }
        }
        b.run(move |_ctx| async move {
            let mut watch = ControlWatch::new(std.control, std.signal);
            let mut outs: Vec<&Outbox<T>> = vec![&std.outbox];
            outs.extend(&extra);
            let end = loop {
                match watch.next(&std.inbox).await {
                    Next::Data(msg) => {
                        if let Err(s) = send_all(&mut watch, &outs, msg).await {
                            break s;
                        }
                    }
                    Next::Other(s) => watch.emit(s).await,
                    Next::End(s) => break s,
                }
            };
            watch.finish(end).await;
        })
    }
}

/// A Router rule: true if a message should go to the rule's outbox.
pub type RouterRule<T> = Box<dyn Fn(&T) -> bool + Send + 'static>;

/// Router: sends each message to every outbox whose rule it matches (Kamaelia's
/// `Kamaelia.Apps.Whiteboard.Routers.Router(*(rule, outboxname))`).
///
/// Boxes:
/// - `inbox: T`: messages to route.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: messages that match no rule (and those matching a rule that names
///   `outbox`).
/// - `signal: Signal`: `ProducerFinished` from the Router itself; signals passed on.
/// - one outbox per distinct name in the rules, `T`.
///
/// Rules are tried in order; a message goes to each outbox with at least one matching rule,
/// once per outbox, in the order the outboxes were first named (one clone per extra copy,
/// so `T: Clone`). Each send waits while its destination is full (backpressure).
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)), except that on
/// `ProducerFinished`, once what is queued is routed, it sends its own `ProducerFinished` in
/// place of the one received (as the original does).
///
/// Differs from Kamaelia: the original discards a message that matches no rule; here it goes
/// out of `outbox`, so nothing is dropped silently (link `outbox` to a `NullSink` to discard).
/// The original also answers a shutdown with its own `producerFinished`; here a shutdown is
/// passed on as a shutdown, so it keeps cascading as one.
pub struct Router<T>(PhantomData<fn() -> T>);

// The type names the component, as Kamaelia's class does; `new` builds it.
#[allow(clippy::new_ret_no_self)]
impl<T: Clone + Send + 'static> Router<T> {
    /// Builds a Router from `(rule, outbox name)` pairs. See [`Router::builder`] for a form
    /// that boxes the closures for you.
    ///
    /// # Panics
    /// If an outbox is named `inbox`, `control` or `signal`.
    pub fn new(rules: Vec<(RouterRule<T>, &str)>) -> Component {
        rules.into_iter().fold(Router::builder(), |b, (rule, name)| b.boxed_route(name, rule)).build()
    }

    /// A builder adding one rule at a time.
    pub fn builder() -> RouterBuilder<T> {
        RouterBuilder { rules: Vec::new() }
    }
}

/// Builds a [`Router`] one rule at a time.
#[must_use = "a builder does nothing until `build` is called"]
pub struct RouterBuilder<T> {
    rules: Vec<(RouterRule<T>, String)>,
}

impl<T: Clone + Send + 'static> RouterBuilder<T> {
    /// Adds a rule: messages for which `rule` is true go to the outbox `name`.
    ///
    /// # Panics
    /// If `name` is `inbox`, `control` or `signal`.
    pub fn route(self, name: &str, rule: impl Fn(&T) -> bool + Send + 'static) -> Self {
        self.boxed_route(name, Box::new(rule))
    }

    fn boxed_route(mut self, name: &str, rule: RouterRule<T>) -> Self {
        check_outbox_name("Router", name);
        self.rules.push((rule, name.to_string()));
        self
    }

    /// Builds the Router.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("Router");
        let std = b.standard::<T, T>();
        // Outboxes in the order first named; index 0 is the standard `outbox`.
        let mut names: Vec<String> = vec!["outbox".to_string()];
        let mut outs: Vec<Option<Outbox<T>>> = vec![None];
        let mut rules: Vec<(RouterRule<T>, usize)> = Vec::new();
        for (rule, name) in self.rules {
            let idx = match names.iter().position(|n| *n == name) {
                Some(i) => i,
                None => {
                    outs.push(Some(b.outbox::<T>(name.clone())));
                    names.push(name);
                    names.len() - 1
                }
            };
            rules.push((rule, idx));
        }
        b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(std.control, std.signal);
            let all: Vec<&Outbox<T>> = outs.iter().map(|o| o.as_ref().unwrap_or(&std.outbox)).collect();
            let end = loop {
                match watch.next(&std.inbox).await {
                    Next::Data(msg) => {
                        let mut hit = vec![false; all.len()];
                        for (rule, idx) in &rules {
                            if rule(&msg) {
                                hit[*idx] = true;
                            }
                        }
                        if !hit.contains(&true) {
                            hit[0] = true;
                        }
                        let dests: Vec<&Outbox<T>> =
                            all.iter().zip(&hit).filter(|(_, h)| **h).map(|(o, _)| *o).collect();
                        if let Err(s) = send_all(&mut watch, &dests, msg).await {
                            break s;
                        }
                    }
                    Next::Other(s) => watch.emit(s).await,
                    Next::End(s) if s.is_producer_finished() => break Signal::producer_finished_by(ctx.id()),
                    Next::End(s) => break s,
                }
            };
            watch.finish(end).await;
        })
    }
}

/// ConditionalSplitter: sends each message to `true` or `false` by a condition (Kamaelia's
/// `Kamaelia.Apps.Whiteboard.Routers.ConditionalSplitter`, whose overridable `condition`
/// method is the closure here).
///
/// Boxes:
/// - `inbox: T`: messages to split.
/// - `control: Signal`: shutdown signalling.
/// - `true: T`: messages for which the condition holds.
/// - `false: T`: the others.
/// - `signal: Signal`: signals passed on.
///
/// There is no `outbox`: every message leaves by `true` or `false`. Sends wait while the
/// destination is full (backpressure).
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): on
/// `ProducerFinished` it splits what is already in `inbox` first.
///
/// Differs from Kamaelia: the original has no `control`/`signal` and never stops.
pub struct ConditionalSplitter<T>(PhantomData<fn() -> T>);

// The type names the component, as Kamaelia's class does; `new` builds it.
#[allow(clippy::new_ret_no_self)]
impl<T: Send + 'static> ConditionalSplitter<T> {
    /// Builds a ConditionalSplitter on `condition`.
    pub fn new(condition: impl Fn(&T) -> bool + Send + 'static) -> Component {
        let mut b = ComponentBuilder::new("ConditionalSplitter");
        let inbox = b.inbox::<T>("inbox");
        let control = b.control();
        let yes = b.outbox::<T>("true");
        let no = b.outbox::<T>("false");
        let signal = b.signal();
        b.run(move |_ctx| async move {
            let mut watch = ControlWatch::new(control, signal);
            let end = loop {
                match watch.next(&inbox).await {
                    Next::Data(msg) => {
                        let out = if condition(&msg) { &yes } else { &no };
                        if let Err(stop) = watch.send(out, msg).await {
                            break stop.signal;
                        }
                    }
                    Next::Other(s) => watch.emit(s).await,
                    Next::End(s) => break s,
                }
            };
            watch.finish(end).await;
        })
    }
}

/// TwoWaySplitter: copies every message to two outboxes, with backpressure (Kamaelia's
/// `Kamaelia.Util.TwoWaySplitter`).
///
/// Boxes:
/// - `inbox: T`: messages to copy.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`, `outbox2: T`: a copy of every message each (`outbox` first).
/// - `signal: Signal`: signals passed on.
/// - `signal2: Signal`: the terminal signal again.
///
/// Each copy waits while its destination is full, so the slower consumer sets the pace.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): on
/// `ProducerFinished` it copies what is already in `inbox` first; a shutdown abandons a copy
/// waiting for room. The terminal signal goes out of `signal`, then `signal2`; other signals
/// out of `signal` only.
pub struct TwoWaySplitter<T>(PhantomData<fn() -> T>);

// The type names the component, as Kamaelia's class does; `new` builds it.
#[allow(clippy::new_ret_no_self)]
impl<T: Clone + Send + 'static> TwoWaySplitter<T> {
    /// Builds a TwoWaySplitter.
    pub fn new() -> Component {
        let mut b = ComponentBuilder::new("TwoWaySplitter");
        let inbox = b.inbox::<T>("inbox");
        let control = b.control();
        let out1 = b.outbox::<T>("outbox");
        let out2 = b.outbox::<T>("outbox2");
        let signal1 = b.signal();
        let signal2 = b.outbox::<Signal>("signal2");
        b.run(move |_ctx| async move {
            let mut watch = ControlWatch::new(control, signal1);
            let end = loop {
                match watch.next(&inbox).await {
                    Next::Data(msg) => {
                        if let Err(s) = send_all(&mut watch, &[&out1, &out2], msg).await {
                            break s;
                        }
                    }
                    Next::Other(s) => watch.emit(s).await,
                    Next::End(s) => break s,
                }
            };
            watch.finish(end.clone()).await;
            signal2.send(end).await;
        })
    }
}

/// How a [`Balancer`] picks the outbox for each message.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BalanceStrategy {
    /// `outbox0`, `outbox1`, ... in turn, waiting for the next one in turn if it is full.
    #[default]
    RoundRobin,
    /// The outbox whose destination holds the fewest waiting messages
    /// ([`Outbox::queued`]); ties go to the first in turn after the last one chosen.
    LeastLoaded,
}

/// Balancer: hands each message to exactly one of N outboxes, for N parallel workers
/// (Kamaelia's `TwoWayBalancer`, from the transcoding example, generalised to N ways).
///
/// The transcode batch job's shape is `Find -> Grep -> Sort -> Balancer -> N x
/// Pipeline(Transcoder, Uploader)`: link `outbox{i}` to worker `i`'s `inbox` and `signal{i}`
/// to its `control`.
///
/// Boxes:
/// - `inbox: T`: jobs.
/// - `control: Signal`: shutdown signalling.
/// - `outbox0` .. `outbox{n-1}: T`: one per worker; each job goes to exactly one.
/// - `signal: Signal`: signals passed on.
/// - `signal0` .. `signal{n-1}: Signal`: the terminal signal again, one per worker, so each
///   worker pipeline can be shut down.
///
/// There is no `outbox`: every job leaves by one of the numbered outboxes.
///
/// Configuration: the number of ways, and the [`BalanceStrategy`] (round robin by default).
/// Backpressure: if the chosen destination is full, the Balancer waits for it. Round robin
/// therefore goes at the pace of its slowest worker; least loaded picks a full destination
/// only when every other destination holds at least as many messages.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): on
/// `ProducerFinished` it hands out every job already in `inbox` first; a shutdown abandons a
/// send waiting for room and leaves queued jobs. The terminal signal goes out of `signal0` ..
/// `signal{n-1}`, then `signal`; other signals out of `signal` only.
///
/// Differs from Kamaelia: the original has two ways only, named `outbox1`/`outbox2` and
/// `signal1`/`signal2`, round robin without backpressure, and no `signal`.
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Balancer<T> {
    ways: usize,
    strategy: BalanceStrategy,
    _t: PhantomData<fn() -> T>,
}

impl<T: Send + 'static> Balancer<T> {
    /// A Balancer over `ways` outboxes, round robin.
    ///
    /// # Panics
    /// If `ways` is 0.
    pub fn new(ways: usize) -> Self {
        assert!(ways > 0, "Balancer: needs at least one way");
        Balancer { ways, strategy: BalanceStrategy::RoundRobin, _t: PhantomData }
    }

    /// Sets how each message's outbox is chosen.
    pub fn strategy(mut self, strategy: BalanceStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Builds the Balancer.
    pub fn build(self) -> Component {
        let Balancer { ways, strategy, .. } = self;
        let mut b = ComponentBuilder::new("Balancer");
        let inbox = b.inbox::<T>("inbox");
        let control = b.control();
        let outs: Vec<Outbox<T>> = (0..ways).map(|i| b.outbox::<T>(format!("outbox{i}"))).collect();
        let signal = b.signal();
        let signals: Vec<Outbox<Signal>> = (0..ways).map(|i| b.outbox::<Signal>(format!("signal{i}"))).collect();
        b.run(move |_ctx| async move {
            let mut watch = ControlWatch::new(control, signal);
            // The way chosen last; the next choice starts looking after it.
            let mut last = ways - 1;
            let end = loop {
                match watch.next(&inbox).await {
                    Next::Data(msg) => {
                        let start = (last + 1) % ways;
                        let choice = match strategy {
                            BalanceStrategy::RoundRobin => start,
                            BalanceStrategy::LeastLoaded => {
                                (0..ways).map(|k| (start + k) % ways).min_by_key(|&i| outs[i].queued()).unwrap_or(start)
                            }
                        };
                        last = choice;
                        if let Err(stop) = watch.send(&outs[choice], msg).await {
                            break stop.signal;
                        }
                    }
                    Next::Other(s) => watch.emit(s).await,
                    Next::End(s) => break s,
                }
            };
            for sig in &signals {
                sig.send(end.clone()).await;
            }
            watch.finish(end).await;
        })
    }
}
