//! Backplane, PublishTo and SubscribeTo: named publish/subscribe on a plug splitter.
//!
//! A [`Backplane`] owns a [`PlugSplitter`] and registers it in its scheduler's
//! [`Services`](axon_core::Services) under two names: `Backplane_I_<name>` (the splitter's
//! `inbox`, where publishers deliver) and `Backplane_O_<name>` (its `configuration` inbox,
//! where subscribers register). [`PublishTo`] links its inbox straight into the splitter;
//! [`SubscribeTo`] asks the splitter to link one of its dynamic outboxes straight to the
//! subscriber's `outbox`. So a message costs one hop from publisher to splitter and one hop
//! from splitter to whatever consumes the subscriber, however many components sit between.
//!
//! Delivery goes through real linkages (visible in a [`Snapshot`](axon_core::Snapshot)):
//! each sink gets its own outbox on the splitter, and each message is cloned once per sink.
//! Kamaelia's PlugSplitter hands every sink the *same* object, with a documented caveat
//! about mutable payloads; in Rust every subscriber owns its copy, so the caveat is moot.
//!
//! A subscriber that cannot keep up is handled by the [`SubscriberPolicy`] of its
//! subscription, and what it loses is counted in a [`DropCounter`].

use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use axon_core::{
    Component, ComponentBuilder, ControlWatch, Ctx, Full, Inbox, Linkage, Next, Outbox, Signal, SignalPolicy, pause,
    yield_now,
};

/// The service name under which backplane `name` offers its splitter's `inbox`.
pub fn backplane_inbox_service(name: &str) -> String {
    format!("Backplane_I_{name}")
}

/// The service name under which backplane `name` offers its splitter's `configuration` inbox.
pub fn backplane_config_service(name: &str) -> String {
    format!("Backplane_O_{name}")
}

/// What a splitter does when a subscriber's inbox is full (a slow subscriber), chosen per
/// subscription.
///
/// For the bounded policies, `buffer` is how many messages the splitter holds for the
/// subscriber while its inbox (the final destination of the splitter's link: for a
/// [`SubscribeTo`], the inbox its `outbox` is linked to) is full. So a subscriber that stops
/// reading is offered, in all, its inbox's capacity plus `buffer` messages before the policy
/// acts. A subscriber whose inbox is unbounded is never slow in this sense.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SubscriberPolicy {
    /// Nothing is lost: the splitter waits for space (holding the one message that did not
    /// fit), taking no new messages meanwhile, so its own inbox fills and publishers' sends
    /// wait (backpressure). The splitter still serves its `control` and `configuration`
    /// inboxes while it waits, so a stalled subscriber can be removed or the backplane shut
    /// down.
    #[default]
    Lossless,
    /// Hold up to `buffer` messages; when that is full too, drop the new message and count it.
    DropNewest {
        /// Messages held for the subscriber while its inbox is full.
        buffer: usize,
    },
    /// Hold up to `buffer` messages; when that is full too, drop the oldest one held, keep
    /// the new one, and count the drop (with `buffer == 0` the new one is dropped: nothing
    /// older is held).
    DropOldest {
        /// Messages held for the subscriber while its inbox is full.
        buffer: usize,
    },
    /// Hold up to `buffer` messages; when that is full too, remove the subscriber: its
    /// control receives [`Signal::ErrorInformation`] saying why, then
    /// [`Signal::ShutdownMicroprocess`] (so a [`SubscribeTo`] passes both on and stops). The
    /// held messages and the one that did not fit are counted as dropped.
    Disconnect {
        /// Messages held for the subscriber while its inbox is full.
        buffer: usize,
    },
}

/// A shared count of the messages a subscription lost to its [`SubscriberPolicy`]
/// (dropped, or held when it was disconnected). Cheap to clone; every clone reads the same
/// count. Get one from [`SubscribeTo::dropped`], or make one for a
/// [`SplitterConfig::AddSink`].
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicU64>);

impl DropCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Messages dropped so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    fn add(&self, n: usize) {
        self.0.fetch_add(n as u64, Ordering::SeqCst);
    }
}

impl fmt::Debug for DropCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DropCounter").field(&self.get()).finish()
    }
}

/// A message for a [`PlugSplitter`]'s `configuration` inbox: add or remove a sink
/// (Kamaelia's `addsink`/`removesink`).
#[derive(Clone, Debug)]
pub enum SplitterConfig {
    /// Start copying to `sink`: the splitter adds an outbox of its own, links it to
    /// `(sink, data_box)` and, if `control_box` is given, adds a signal outbox linked to
    /// `(sink, control_box)`. `data_box` may be an inbox (messages are delivered into it) or
    /// an outbox (messages come out of it, as if `sink` had sent them: how [`SubscribeTo`]
    /// works). If a link cannot be made (no such box, another message type) the sink is
    /// not added and [`Signal::ErrorInformation`] says why: on `control_box` if that is an
    /// inbox, else on the splitter's `signal`.
    AddSink {
        /// The subscribing component.
        sink: Component,
        /// Where the copies go.
        data_box: String,
        /// Where control signals go, if anywhere.
        control_box: Option<String>,
        /// What to do when the sink is slow.
        policy: SubscriberPolicy,
        /// Counts what this sink loses to its policy.
        dropped: DropCounter,
    },
    /// Stop copying to `(sink, data_box)`. Messages held for it are discarded; unknown
    /// sinks are ignored (a sink may already have been removed by a shutdown or a
    /// disconnection).
    RemoveSink {
        /// The component.
        sink: Component,
        /// The box given when it was added.
        data_box: String,
    },
}

impl SplitterConfig {
    /// Adds `sink`'s `data_box` (and `control_box`) as a lossless sink with a fresh counter.
    pub fn add_sink(sink: &Component, data_box: &str, control_box: Option<&str>) -> Self {
        SplitterConfig::AddSink {
            sink: sink.clone(),
            data_box: data_box.to_string(),
            control_box: control_box.map(str::to_string),
            policy: SubscriberPolicy::Lossless,
            dropped: DropCounter::new(),
        }
    }

    /// Removes `sink`'s `data_box`.
    pub fn remove_sink(sink: &Component, data_box: &str) -> Self {
        SplitterConfig::RemoveSink { sink: sink.clone(), data_box: data_box.to_string() }
    }
}

/// How many messages a splitter takes from its inbox per turn before letting others run.
const BATCH: usize = 64;

/// A splitter with dynamic sinks (Kamaelia's `PlugSplitter`, without a source child):
/// each message on `inbox` is cloned to every registered sink, each control signal to every
/// sink's control.
///
/// Boxes:
/// - `inbox: T`: messages to copy. Bounded ([`PlugSplitter::DEFAULT_CAPACITY`] unless set
///   with [`inbox_capacity`](Self::inbox_capacity)), so a lossless subscriber that stalls
///   the splitter makes publishers wait.
/// - `control: Signal`: copied to every sink's control and to `signal`.
/// - `configuration: SplitterConfig`: add and remove sinks.
/// - `signal: Signal` (out): the control signals it received.
/// - one outbox `outbox_<sink name>: T` per sink, and `signal_<sink name>: Signal` per sink
///   with a control box, added and removed at run time and linked to the sink.
///
/// Sinks are served in the order they were added; each message goes to every sink before
/// the next is taken, so every sink sees the messages in the order the splitter received
/// them. A message taken while there are no sinks goes nowhere (as in Kamaelia: a backplane
/// without subscribers has no one to deliver to). A slow sink is handled by its
/// [`SubscriberPolicy`]; while any lossless sink waits for space the splitter takes no new
/// messages, but it keeps serving `control` and `configuration`.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)), every signal
/// also copied to the sinks (policy `Deliver`: the splitter acts on each), and never held up
/// by a stalled sink. On `ProducerFinished` it takes every message already in its inbox,
/// waits until each sink has been given what is held for it, sends each sink the signal as
/// soon as that sink is up to date (and removes it), then passes the signal on out of
/// `signal` and stops. On `ShutdownMicroprocess` (or `Shutdown`) it discards what it holds,
/// sends the signal to every sink and out of `signal`, and stops at once. Any other signal
/// goes to every sink and out of `signal`; copying it to a sink whose control is full waits
/// for room, but a shutdown arriving meanwhile is acted on at once.
///
/// Differs from Kamaelia: no `outbox` copy and no source child (the Backplane never used
/// either); each sink gets its own clone; slow sinks follow a policy instead of the
/// sender's `noSpaceInBox` handling.
#[must_use = "a builder does nothing until `build` is called"]
pub struct PlugSplitter<T> {
    capacity: Option<usize>,
    _t: PhantomData<fn() -> T>,
}

impl<T: Clone + Send + 'static> Default for PlugSplitter<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Send + 'static> PlugSplitter<T> {
    /// The default capacity of a splitter's `inbox`.
    pub const DEFAULT_CAPACITY: usize = 64;

    /// A splitter with the default inbox capacity.
    pub fn new() -> Self {
        PlugSplitter { capacity: Some(Self::DEFAULT_CAPACITY), _t: PhantomData }
    }

    /// Sets the capacity of its `inbox` (`None`: unbounded, so publishers never wait and a
    /// stalled lossless sink lets the inbox grow without limit).
    pub fn inbox_capacity(mut self, capacity: Option<usize>) -> Self {
        self.capacity = capacity;
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("PlugSplitter");
        let inbox = match self.capacity {
            Some(n) => b.inbox_with_capacity::<T>("inbox", n),
            None => b.inbox::<T>("inbox"),
        };
        let control = b.control();
        let configuration = b.inbox::<SplitterConfig>("configuration");
        let signal = b.signal();
        b.run(move |ctx| run_splitter(ctx, inbox, control, configuration, signal))
    }
}

/// One registered sink, as the splitter holds it.
struct Sink<T> {
    component: Component,
    data_box: String,
    outbox: Outbox<T>,
    control: Option<Outbox<Signal>>,
    links: Vec<Linkage>,
    policy: SubscriberPolicy,
    dropped: DropCounter,
    /// Messages that did not fit in the sink's inbox yet, oldest first. A waker is
    /// registered for space at the sink whenever this is non-empty at the end of a turn.
    held: VecDeque<T>,
    /// Set when a `Disconnect` sink overflowed: it is removed at the end of the turn.
    overflowed: bool,
}

impl<T: Clone + Send + 'static> Sink<T> {
    /// True if this sink stops the splitter taking new messages.
    fn blocks_input(&self) -> bool {
        self.policy == SubscriberPolicy::Lossless && !self.held.is_empty()
    }

    /// Moves held messages into the sink while there is room; if it is still full,
    /// registers the splitter to be woken when space appears. True if nothing is held.
    fn flush(&mut self, cx: &mut Context<'_>) -> bool {
        while let Some(head) = self.held.pop_front() {
            let Err(Full(head)) = self.outbox.try_send(head) else { continue };
            // `try_send` registers no waker, and a `Sending` future keeps its message when
            // dropped unsent, so the waker is registered by polling a send of a copy once.
            // If that copy goes through after all, it was delivered: drop the original.
            let mut probe = self.outbox.send(head.clone());
            if Pin::new(&mut probe).poll(cx).is_ready() {
                continue;
            }
            self.held.push_front(head);
            return false;
        }
        true
    }

    /// Offers one message to the sink, following its policy when the sink is full.
    fn offer(&mut self, item: T, cx: &mut Context<'_>) {
        if self.overflowed {
            return;
        }
        let item = if self.held.is_empty() {
            match self.outbox.try_send(item) {
                Ok(()) => return,
                Err(Full(item)) => item,
            }
        } else {
            item
        };
        let limit = match self.policy {
            SubscriberPolicy::Lossless => usize::MAX,
            SubscriberPolicy::DropNewest { buffer }
            | SubscriberPolicy::DropOldest { buffer }
            | SubscriberPolicy::Disconnect { buffer } => buffer,
        };
        if self.held.len() < limit {
            self.held.push_back(item);
        } else {
            match self.policy {
                SubscriberPolicy::DropOldest { buffer } if buffer > 0 => {
                    self.held.pop_front();
                    self.held.push_back(item);
                    self.dropped.add(1);
                }
                SubscriberPolicy::Disconnect { .. } => {
                    self.dropped.add(self.held.len() + 1);
                    self.held.clear();
                    self.overflowed = true;
                    return;
                }
                _ => self.dropped.add(1),
            }
        }
        if self.held.len() == 1 {
            // It just became full: register for space (or deliver, if space appeared).
            self.flush(cx);
        }
    }
}

/// A new sink's outboxes on the splitter, and their links.
struct SinkBoxes<T> {
    outbox: Outbox<T>,
    control: Option<Outbox<Signal>>,
    links: Vec<Linkage>,
}

/// The splitter's state while it runs.
struct Splitter<T> {
    ctx: Ctx,
    me: Component,
    sinks: Vec<Sink<T>>,
    /// Its `control` and `signal` (policy `Deliver`: every signal is copied to the sinks).
    watch: ControlWatch,
    /// A shutdown that arrived while a sink was being told something: acted on before
    /// anything else.
    stop: Option<Signal>,
}

impl<T: Clone + Send + 'static> Splitter<T> {
    fn input_blocked(&self) -> bool {
        self.sinks.iter().any(Sink::blocks_input)
    }

    /// One synchronous turn: flush what is held, then take up to [`BATCH`] messages and
    /// offer each to every sink. Returns how many messages it took.
    fn turn(&mut self, inbox: &Inbox<T>, cx: &mut Context<'_>) -> usize {
        for s in &mut self.sinks {
            s.flush(cx);
        }
        let mut taken = 0;
        while taken < BATCH && !self.input_blocked() {
            let Some(item) = inbox.try_recv() else { break };
            taken += 1;
            if let Some((last, rest)) = self.sinks.split_last_mut() {
                for s in rest {
                    s.offer(item.clone(), cx);
                }
                last.offer(item, cx);
            }
        }
        taken
    }

    /// Unlinks a sink and removes its outboxes. Messages left in them (there are some only
    /// if the sink's box was unlinked under us, e.g. by its panic) are discarded with it.
    fn detach(&self, sink: Sink<T>) {
        for l in &sink.links {
            self.ctx.unlink(l);
        }
        drop(self.ctx.delete_outbox(sink.outbox));
        if let Some(c) = sink.control {
            drop(self.ctx.delete_outbox(c));
        }
    }

    /// Copies a non-terminal signal to every sink's control and out of `signal`.
    async fn broadcast(&mut self, sig: Signal) {
        // By index: an iterator over the sinks held across the await would need `T: Sync`.
        for i in 0..self.sinks.len() {
            tell(&mut self.watch, &mut self.stop, self.sinks[i].control.as_ref(), sig.clone()).await;
        }
        self.watch.emit(sig).await;
    }

    /// Removes sinks whose component has ended (a subscriber that panicked never says
    /// goodbye, and its boxes were unlinked, so copies would pile up here).
    fn prune(&mut self) {
        let (gone, keep): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.sinks).into_iter().partition(|s| s.component.is_finished());
        self.sinks = keep;
        for s in gone {
            self.detach(s);
        }
    }

    /// Removes `Disconnect` sinks that overflowed this turn, telling each why.
    async fn disconnect_overflowed(&mut self) {
        if !self.sinks.iter().any(|s| s.overflowed) {
            return;
        }
        let (gone, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.sinks).into_iter().partition(|s| s.overflowed);
        self.sinks = keep;
        for s in gone {
            let buffer = match s.policy {
                SubscriberPolicy::Disconnect { buffer } => buffer,
                _ => 0,
            };
            let message = format!(
                "{}: disconnected subscriber {}: its inbox and the {buffer} messages held for it were full \
                 ({} messages dropped in all)",
                self.me.name(),
                s.component.name(),
                s.dropped.get()
            );
            let error = Signal::ErrorInformation { caller: Some(self.me.id()), message };
            tell(&mut self.watch, &mut self.stop, s.control.as_ref(), error).await;
            tell(&mut self.watch, &mut self.stop, s.control.as_ref(), Signal::ShutdownMicroprocess).await;
            self.detach(s);
        }
    }

    /// Reports a configuration error to the sink's control inbox if it has one, else on
    /// the splitter's own `signal`.
    async fn report(&mut self, sink: &Component, control_box: Option<&str>, message: String) {
        let sig = Signal::ErrorInformation { caller: Some(self.me.id()), message };
        if let Some(r) = control_box.and_then(|c| sink.inbox_ref::<Signal>(c).ok()) {
            if let Err(i) = self.watch.deliver(&r, sig).await {
                self.stop.get_or_insert(i.signal);
            }
        } else {
            self.watch.emit(sig).await;
        }
    }

    async fn configure(&mut self, cfg: SplitterConfig) {
        match cfg {
            SplitterConfig::AddSink { sink, data_box, control_box, policy, dropped } => {
                if sink.is_finished() {
                    return;
                }
                if self.sinks.iter().any(|s| s.component == sink && s.data_box == data_box) {
                    let message = format!("{}: {}.{data_box} is already one of its sinks", self.me.name(), sink.name());
                    self.report(&sink, control_box.as_deref(), message).await;
                    return;
                }
                let outboxes = self.attach(&sink, &data_box, control_box.as_deref());
                match outboxes {
                    Ok(SinkBoxes { outbox, control, links }) => self.sinks.push(Sink {
                        component: sink,
                        data_box,
                        outbox,
                        control,
                        links,
                        policy,
                        dropped,
                        held: VecDeque::new(),
                        overflowed: false,
                    }),
                    Err(message) => self.report(&sink, control_box.as_deref(), message).await,
                }
            }
            SplitterConfig::RemoveSink { sink, data_box } => {
                if let Some(i) = self.sinks.iter().position(|s| s.component == sink && s.data_box == data_box) {
                    let s = self.sinks.remove(i);
                    self.detach(s);
                }
            }
        }
    }

    /// Adds the outboxes for a new sink and links them; undoes everything on failure.
    fn attach(&self, sink: &Component, data_box: &str, control_box: Option<&str>) -> Result<SinkBoxes<T>, String> {
        let outbox = self.ctx.add_outbox::<T>(&format!("outbox_{}", sink.name()));
        let data_link = match self.ctx.link((&self.me, outbox.name()), (sink, data_box)) {
            Ok(l) => l,
            Err(e) => {
                drop(self.ctx.delete_outbox(outbox));
                return Err(format!("{}: cannot add sink: {e}", self.me.name()));
            }
        };
        let Some(control_box) = control_box else {
            return Ok(SinkBoxes { outbox, control: None, links: vec![data_link] });
        };
        let control = self.ctx.add_outbox::<Signal>(&format!("signal_{}", sink.name()));
        match self.ctx.link((&self.me, control.name()), (sink, control_box)) {
            Ok(l) => Ok(SinkBoxes { outbox, control: Some(control), links: vec![data_link, l] }),
            Err(e) => {
                self.ctx.unlink(&data_link);
                drop(self.ctx.delete_outbox(outbox));
                drop(self.ctx.delete_outbox(control));
                Err(format!("{}: cannot add sink: {e}", self.me.name()))
            }
        }
    }

    /// Sends `sig` to every sink that holds nothing, and removes it. True when no sink is left.
    async fn finish_up_to_date(&mut self, sig: &Signal) -> bool {
        let (done, keep): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.sinks).into_iter().partition(|s| s.held.is_empty());
        self.sinks = keep;
        for s in done {
            tell(&mut self.watch, &mut self.stop, s.control.as_ref(), sig.clone()).await;
            self.detach(s);
        }
        self.sinks.is_empty()
    }

    /// Stops at once: held messages are discarded, every sink is told (waiting for room in
    /// its control: the splitter is ending, so nothing else waits on it), then `sig` is
    /// passed on.
    async fn shutdown(mut self, sig: Signal) {
        for s in std::mem::take(&mut self.sinks) {
            if let Some(c) = &s.control {
                c.send(sig.clone()).await;
            }
            self.detach(s);
        }
        self.watch.finish(sig).await;
    }
}

/// Sends `sig` to a sink's control outbox, if it has one, waiting for room; a shutdown
/// arriving meanwhile abandons it and is kept in `stop` (where a shutdown is already kept,
/// nothing more is told: the splitter is about to stop).
async fn tell(watch: &mut ControlWatch, stop: &mut Option<Signal>, control: Option<&Outbox<Signal>>, sig: Signal) {
    let Some(c) = control.filter(|_| stop.is_none()) else { return };
    if let Err(i) = watch.send(c, sig).await {
        *stop = Some(i.signal);
    }
}

async fn run_splitter<T: Clone + Send + 'static>(
    ctx: Ctx,
    inbox: Inbox<T>,
    control: Inbox<Signal>,
    configuration: Inbox<SplitterConfig>,
    signal: Outbox<Signal>,
) {
    let me = ctx.component();
    let watch = ControlWatch::new(control, signal).with_policy(SignalPolicy::Deliver);
    let mut s = Splitter { ctx, me, sinks: Vec::new(), watch, stop: None };
    let mut finishing: Option<Signal> = None;
    loop {
        // Control first, every turn: neither a stalled sink nor a busy inbox delays a shutdown.
        while s.stop.is_none() {
            match s.watch.try_signal() {
                None => break,
                Some(sig) if sig.is_shutdown() => s.stop = Some(sig),
                Some(sig) if sig.is_producer_finished() => {
                    finishing.get_or_insert(sig);
                }
                Some(sig) => s.broadcast(sig).await,
            }
        }
        if let Some(sig) = s.stop.take() {
            return s.shutdown(sig).await;
        }
        while let Some(cfg) = configuration.try_recv() {
            s.configure(cfg).await;
        }
        s.prune();
        let taken = poll_fn(|cx| Poll::Ready(s.turn(&inbox, cx))).await;
        s.disconnect_overflowed().await;
        if let Some(sig) = &finishing {
            // Everything received before the signal has been taken: tell each sink as soon
            // as it is up to date, and stop when all have been told.
            if inbox.is_empty() && !s.input_blocked() && s.finish_up_to_date(sig).await && s.stop.is_none() {
                return s.watch.finish(sig.clone()).await;
            }
        }
        if s.stop.is_some() {
            // A shutdown came while a sink was being told something: act on it first.
            continue;
        }
        if taken == BATCH {
            yield_now().await;
        } else {
            pause().await;
        }
    }
}

/// A named publish/subscribe hub (Kamaelia's `Backplane(name)`): publishers
/// ([`PublishTo`]) deliver into it, and every subscriber ([`SubscribeTo`]) gets a copy of
/// each message.
///
/// It holds a [`PlugSplitter`] as its child and, when activated, registers the services
/// `Backplane_I_<name>` (the splitter's `inbox`) and `Backplane_O_<name>` (the splitter's
/// `configuration`) in its scheduler's registry; it deregisters them when it ends.
/// Registries are per scheduler, so two schedulers may each have a backplane of the same
/// name.
///
/// Boxes:
/// - `inbox: T`: passes through to the splitter's inbox (publishing without a `PublishTo`).
/// - `control: Signal`: passes through to the splitter's control, so `ProducerFinished` or
///   `ShutdownMicroprocess` sent here reaches every subscriber, which then stop.
/// - `signal: Signal` (out): the splitter's `signal` passes through to it.
///
/// Shutdown: as its splitter's (see [`PlugSplitter`]), its `control` and `signal` being the
/// splitter's; it ends when the splitter has ended.
/// Publishers never shut it down.
///
/// Differs from Kamaelia: it registers its names when *activated*, not when constructed, so
/// it must be activated before a `PublishTo`/`SubscribeTo` naming it first runs (activating
/// them together, or from one chassis, is enough). A name already registered on the
/// scheduler makes activation fail with `ActivateError::Refused`, naming the backplane and
/// the name (Kamaelia meant to raise `ServiceAlreadyExists` there but hits a `NameError`,
/// reference §1.16-10).
pub struct Backplane<T> {
    _t: PhantomData<fn() -> T>,
}

impl<T: Clone + Send + 'static> Backplane<T> {
    /// A backplane whose splitter's inbox holds [`PlugSplitter::DEFAULT_CAPACITY`] messages.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>) -> Component {
        Self::with_capacity(name, Some(PlugSplitter::<T>::DEFAULT_CAPACITY))
    }

    /// A backplane whose splitter's inbox holds `capacity` messages (`None`: unbounded, so
    /// publishers never wait).
    pub fn with_capacity(name: impl Into<String>, capacity: Option<usize>) -> Component {
        let name: String = name.into();
        let splitter = PlugSplitter::<T>::new().inbox_capacity(capacity).build();
        let mut b = ComponentBuilder::new("Backplane");
        let _inbox = b.inbox::<T>("inbox");
        let _control = b.control();
        let signal = b.signal();
        let ctx = b.ctx();
        let me = ctx.component();
        ctx.add_child(&splitter);
        // Infallible: the boxes were just declared with matching types and are unlinked.
        for (from, to) in [
            ((&me, "inbox"), (&splitter, "inbox")),
            ((&me, "control"), (&splitter, "control")),
            ((&splitter, "signal"), (&me, "signal")),
        ] {
            ctx.link(from, to).expect("a backplane's passthroughs to its own splitter always link");
        }
        drop(me);
        let (in_service, config_service) = (backplane_inbox_service(&name), backplane_config_service(&name));
        let hook_splitter = splitter.clone();
        let (hook_in, hook_config) = (in_service.clone(), config_service.clone());
        b.on_activate(move |ctx| {
            let services = ctx.services();
            let taken = |service: &str| {
                format!(
                    "backplane {name:?} ({}): the name is already in use on this scheduler \
                     (service {service:?} is registered)",
                    ctx.name()
                )
            };
            services.register(&hook_in, &hook_splitter, "inbox").map_err(|_| taken(&hook_in))?;
            if services.register(&hook_config, &hook_splitter, "configuration").is_err() {
                // Ours, just registered: cannot be missing.
                let _ = services.deregister(&hook_in);
                return Err(taken(&hook_config));
            }
            Ok(())
        });
        b.run(move |ctx| async move {
            if let Err(e) = ctx.activate(&splitter) {
                // Only if someone activated the splitter themselves: reported, not a panic.
                let message = format!("{}: cannot start its splitter: {e}", ctx.name());
                signal.send(Signal::ErrorInformation { caller: Some(ctx.id()), message }).await;
            }
            ctx.wait_for_children().await;
            let services = ctx.services();
            for service in [&in_service, &config_service] {
                if services.retrieve(service).is_ok_and(|(c, _)| c == splitter) {
                    let _ = services.deregister(service);
                }
            }
        })
    }
}

/// Looks up a backplane service, reporting a clear error if it is missing.
fn lookup(ctx: &Ctx, kind: &str, backplane: &str, service: &str) -> Result<(Component, String), String> {
    ctx.services().retrieve(service).map_err(|_| {
        format!(
            "{} ({kind}): no backplane named {backplane:?} on this scheduler (service {service:?} is not \
             registered; a Backplane must be activated before its publishers and subscribers start)",
            ctx.name()
        )
    })
}

/// Reports an error out of `signal` and tells those downstream to stop (the component then
/// ends).
async fn fail(ctx: &Ctx, watch: &mut ControlWatch, message: String) {
    watch.emit(Signal::ErrorInformation { caller: Some(ctx.id()), message }).await;
    watch.emit(Signal::ShutdownMicroprocess).await;
}

/// Publishes to the backplane `name` (Kamaelia's `PublishTo(destination, forwarder)`).
///
/// Boxes:
/// - `inbox: T`: messages to publish. Not a forwarder: when it starts, this inbox is linked
///   straight into the backplane's splitter (a passthrough, so publishing costs nothing per
///   message here, and a full backplane makes the sender wait). Forwarder: it copies each
///   message to the backplane and then to `outbox`.
/// - `control: Signal`: every signal is echoed out of `signal`.
/// - `outbox: T` (out): a forwarder's copies; unused otherwise.
/// - `signal: Signal` (out): the echoed signals.
/// - `_tobackplane: T` (out, forwarder only): linked to the splitter's inbox.
///
/// It looks the backplane up when it starts. If there is none (or it carries another
/// message type) it sends [`Signal::ErrorInformation`] naming the backplane, then
/// `ShutdownMicroprocess`, out of `signal` and stops; what was sent to it stays in its inbox.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): a
/// forwarder publishes what its inbox holds before a `ProducerFinished`, and a shutdown stops
/// it even while it waits for room in the backplane. It never shuts the backplane down.
#[must_use = "a builder does nothing until `build` is called"]
pub struct PublishTo<T> {
    name: String,
    forwarder: bool,
    _t: PhantomData<fn() -> T>,
}

impl<T: Clone + Send + 'static> PublishTo<T> {
    /// A publisher to backplane `name`, not a forwarder.
    pub fn new(name: impl Into<String>) -> Self {
        PublishTo { name: name.into(), forwarder: false, _t: PhantomData }
    }

    /// Also copies each message to its own `outbox`.
    pub fn forwarder(mut self, yes: bool) -> Self {
        self.forwarder = yes;
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let PublishTo { name, forwarder, .. } = self;
        let mut b = ComponentBuilder::new("PublishTo");
        let io = b.standard::<T, T>();
        let to_backplane = forwarder.then(|| b.outbox::<T>("_tobackplane"));
        b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            let service = backplane_inbox_service(&name);
            let (splitter, inbox_name) = match lookup(&ctx, "PublishTo", &name, &service) {
                Ok(found) => found,
                Err(message) => return fail(&ctx, &mut watch, message).await,
            };
            let me = ctx.component();
            let from = if forwarder { "_tobackplane" } else { "inbox" };
            if let Err(e) = ctx.link((&me, from), (&splitter, &inbox_name)) {
                let message = format!("{}: cannot publish to backplane {name:?}: {e}", ctx.name());
                return fail(&ctx, &mut watch, message).await;
            }
            drop(me);
            // Not a forwarder: the inbox passes straight through to the splitter, so no
            // message arrives here, and the loop only echoes signals.
            let end = loop {
                match watch.next(&io.inbox).await {
                    Next::Data(x) => {
                        if let Some(to_backplane) = &to_backplane {
                            if let Err(stop) = watch.send(to_backplane, x.clone()).await {
                                break stop.signal;
                            }
                        }
                        if let Err(stop) = watch.send(&io.outbox, x).await {
                            break stop.signal;
                        }
                    }
                    // Forwarded by the watch already.
                    Next::Other(_) => {}
                    Next::End(s) => break s,
                }
            };
            watch.finish(end).await;
        })
    }
}

/// Subscribes to the backplane `name` (Kamaelia's `SubscribeTo(source)`): every message
/// published there from the moment it registers comes out of its `outbox`.
///
/// When it starts it asks the backplane's splitter to add it as a sink with its policy
/// ([`SubscriberPolicy::Lossless`] unless set with [`policy`](Self::policy)); the splitter
/// links a dynamic outbox straight to this component's `outbox` (an outbox passthrough), so
/// the backplane's messages land directly in whatever that outbox is linked to, with no hop
/// through this component. The policy's "inbox is full" therefore means the inbox this
/// `outbox` leads to (or this `outbox` itself while it is unlinked: it then keeps everything).
/// It asks to be removed when it ends.
///
/// Boxes:
/// - `inbox: T`: passed on to `outbox` (as the `PassThrough` inside Kamaelia's SubscribeTo).
/// - `control: Signal`: its own control, and where the backplane's control signals arrive.
///   Every signal is passed on out of `signal`.
/// - `outbox: T` (out): the backplane's messages.
/// - `signal: Signal` (out): the passed-on signals.
///
/// A missing backplane, or one carrying another message type, is reported as for
/// [`PublishTo`]. What its policy made it lose is counted by [`dropped`](Self::dropped).
///
/// Shutdown: the standard contract ([`Driver`](axon_core::Driver)), whether the signal comes
/// from the backplane or its own control; it unsubscribes before passing the terminal signal
/// on.
#[must_use = "a builder does nothing until `build` is called"]
pub struct SubscribeTo<T> {
    name: String,
    policy: SubscriberPolicy,
    dropped: DropCounter,
    _t: PhantomData<fn() -> T>,
}

impl<T: Clone + Send + 'static> SubscribeTo<T> {
    /// A lossless subscriber to backplane `name`.
    pub fn new(name: impl Into<String>) -> Self {
        SubscribeTo {
            name: name.into(),
            policy: SubscriberPolicy::Lossless,
            dropped: DropCounter::new(),
            _t: PhantomData,
        }
    }

    /// Sets what happens when it cannot keep up.
    pub fn policy(mut self, policy: SubscriberPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// A handle on the count of messages its policy dropped (shared with the component).
    pub fn dropped(&self) -> DropCounter {
        self.dropped.clone()
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let SubscribeTo { name, policy, dropped, .. } = self;
        let mut b = ComponentBuilder::new("SubscribeTo");
        let io = b.standard::<T, T>();
        b.run(move |ctx| async move {
            let mut driver = io.driver();
            let found = lookup(&ctx, "SubscribeTo", &name, &backplane_inbox_service(&name)).and_then(|(s, inbox)| {
                // Check the message type here, so a mismatch is reported to this subscriber.
                s.inbox_ref::<T>(&inbox)
                    .map_err(|e| format!("{}: cannot subscribe to backplane {name:?}: {e}", ctx.name()))?;
                let (s, config) = lookup(&ctx, "SubscribeTo", &name, &backplane_config_service(&name))?;
                s.inbox_ref::<SplitterConfig>(&config)
                    .map_err(|e| format!("{}: cannot subscribe to backplane {name:?}: {e}", ctx.name()))
            });
            let config = match found {
                Ok(config) => config,
                Err(message) => return fail(&ctx, driver.watch(), message).await,
            };
            let me = ctx.component();
            let subscribe = SplitterConfig::AddSink {
                sink: me.clone(),
                data_box: "outbox".into(),
                control_box: Some("control".into()),
                policy,
                dropped,
            };
            if let Err(stop) = driver.watch().deliver(&config, subscribe).await {
                return driver.finish(stop.signal).await;
            }
            // Its own inbox passes on to its outbox; the backplane's messages come out of
            // the outbox without passing through here.
            let end = driver.run_map(Some).await;
            config.send(SplitterConfig::remove_sink(&me, "outbox")).await;
            driver.finish(end).await;
        })
    }
}
