//! Introspector: streams the topology of the system it runs in, as Axon's Introspector does,
//! in the text protocol the AxonVisualiser draws (reference §1.15).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use axon_core::{BoxAddr, Component, ComponentBuilder, ComponentId, ControlWatch, Next, Snapshot, pause_until};

/// How often an [`Introspector`] looks at its system by default: 100 ms.
pub const DEFAULT_INTROSPECT_INTERVAL: Duration = Duration::from_millis(100);

/// Builds an Introspector (Axon's `Axon.Introspector.Introspector`, re-exported by Kamaelia
/// as `Kamaelia.Util.Introspector`): `Introspector::new().build()`.
///
/// It sends the topology of the system it runs in, as text in Axon's visualiser protocol:
/// first `DEL ALL\n` (one message), then the whole topology (one message of `ADD NODE` and
/// `ADD LINK` lines), then, whenever the topology changed, one message with what changed
/// (every `DEL LINK`, then `DEL NODE`, then `ADD NODE`, then `ADD LINK`). Every line ends in
/// `\n`. The lines are [`Snapshot::introspector_diff`]'s: a component is the node
/// `ADD NODE "<id>" "<name>" randompos component`, each of its boxes the node
/// `ADD NODE "(<id>, 'i'|'o', '<box>')" "<box>" randompos inbox|outbox` linked from it, and
/// each link between boxes a link between their nodes. `Pipeline(Introspector,
/// PureTransformer(String::into_bytes), TcpClient(host, 1500))` shows a system in a remote
/// `axon-visualiser` (or the original AxonVisualiser); apps do this with `--introspect`.
///
/// What it looks at is the snapshot of its own scheduler ([`SchedulerHandle::snapshot`]:
/// every component the scheduler runs, and every component linked to one of them). Only the
/// topology counts (components, boxes, links, names): messages moving through boxes and
/// components changing state are not changes. Itself and whatever it is linked to are
/// included, as in Axon; [`include_self(false)`](Self::include_self) leaves itself (and its
/// links) out.
///
/// Names are made safe for the line protocol: a control character (a newline, say) in a
/// component or box name is sent as a space. A link is shown only if the components at both
/// ends are: a box can outlive its component (a [`Handle`](axon_core::Handle) keeps the
/// inboxes of a sink whose component is gone), and a link to a node never added would be
/// refused by the visualiser.
///
/// Configuration: [`interval`](Self::interval), how often it looks (default
/// [`DEFAULT_INTROSPECT_INTERVAL`], 100 ms); [`include_self`](Self::include_self) (default
/// true).
///
/// Boxes:
/// - `inbox: ()`: unused (as in Axon). Anything arriving there makes it look again at once.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: String`: the topology text.
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)); it holds
/// nothing to finish, so a `ProducerFinished` stops it at once too.
///
/// Differs from Axon: Axon's Introspector never pauses: it snapshots the whole system on
/// every scheduler cycle. This one looks on a timer (every `interval`, on the scheduler's own
/// timers: no thread and no CPU in between) and whenever it is woken, and sends only when
/// something changed. It also stops on `ProducerFinished` (Axon's ignores it), and passes
/// other signals on (Axon's ignores them).
///
/// [`SchedulerHandle::snapshot`]: axon_core::SchedulerHandle::snapshot
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Introspector {
    interval: Duration,
    include_self: bool,
}

impl Default for Introspector {
    fn default() -> Self {
        Self::new()
    }
}

impl Introspector {
    /// An Introspector with the defaults.
    pub fn new() -> Self {
        Introspector { interval: DEFAULT_INTROSPECT_INTERVAL, include_self: true }
    }

    /// How often it looks at the system (at least 1 ms).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Whether it shows itself and its own links (default true, as Axon's).
    pub fn include_self(mut self, yes: bool) -> Self {
        self.include_self = yes;
        self
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let Introspector { interval, include_self } = self;
        let mut b = ComponentBuilder::new("Introspector");
        let std = b.standard::<(), String>();
        b.run(move |ctx| async move {
            let me = ctx.id();
            let mut watch = ControlWatch::new(std.control, std.signal);
            let look = || {
                let mut snap = ctx.scheduler().snapshot();
                if !include_self {
                    leave_out(&mut snap, me);
                }
                make_safe(&mut snap);
                drop_dangling(&mut snap);
                snap
            };
            let mut shown = Snapshot::default();
            let mut first = true;
            let end = 'run: loop {
                // Signals first; anything on the unused `inbox` was only a nudge.
                while let Some(next) = watch.try_next(&std.inbox) {
                    match next {
                        Next::Data(()) => {}
                        Next::Other(s) => watch.emit(s).await,
                        Next::End(s) => break 'run s,
                    }
                }
                let snap = look();
                let diff = snap.introspector_diff(&shown);
                if first {
                    first = false;
                    if let Err(i) = watch.send(&std.outbox, "DEL ALL\n".to_string()).await {
                        break i.signal;
                    }
                }
                if !diff.is_empty() {
                    if let Err(i) = watch.send(&std.outbox, diff).await {
                        break i.signal;
                    }
                    shown = snap;
                }
                // Look again after `interval`, or sooner if woken (a signal, a nudge).
                let _woken = pause_until(Instant::now() + interval).await;
            };
            watch.finish(end).await;
        })
    }
}

/// Removes component `me`, and every link to or from it, from `snap`.
fn leave_out(snap: &mut Snapshot, me: ComponentId) {
    snap.components.retain(|c| c.id != me);
    snap.links.retain(|l| l.source.component != me && l.sink.component != me);
}

/// Removes links to or from a box that is not in `snap`: a box can outlive its component
/// (a `Handle` keeps the inboxes of a sink whose `Component` is gone), and a link to a node
/// that was never added is refused by the visualiser.
fn drop_dangling(snap: &mut Snapshot) {
    let boxes: HashSet<(ComponentId, &str)> =
        snap.components.iter().flat_map(|c| c.boxes.iter().map(move |b| (c.id, b.name.as_str()))).collect();
    let known = |a: &BoxAddr| boxes.contains(&(a.component, a.name.as_str()));
    snap.links.retain(|l| known(&l.source) && known(&l.sink));
}

/// Replaces control characters in every name with spaces: a newline inside a name would
/// break the line protocol (and Python's tokeniser cannot escape one).
fn make_safe(snap: &mut Snapshot) {
    fn safe(s: &mut String) {
        if s.chars().any(char::is_control) {
            *s = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        }
    }
    for c in &mut snap.components {
        safe(&mut c.name);
        for b in &mut c.boxes {
            safe(&mut b.name);
        }
    }
    for l in &mut snap.links {
        safe(&mut l.source.name);
        safe(&mut l.sink.name);
    }
}
