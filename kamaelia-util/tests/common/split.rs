//! Helpers shared by the tuple, chooser, splitter, sort, framing, introspector and contract
//! tests (included by path, as `common_split`): probes that catch what a component sends,
//! delivering straight into a component's boxes, small sources and sinks, and a component's
//! boxes as a snapshot shows them.
#![allow(dead_code)]

use std::any::type_name;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use axon_core::{
    Component, ComponentBuilder, ControlWatch, Direction, Inbox, LinkOptions, Next, Scheduler, SchedulerHandle, Signal,
    SignalPolicy, link, link_with,
};

/// Far longer than any of these systems needs; only reached if `run` hangs.
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

/// Runs `sched` on another thread and hands it back once `run` returns, failing the test if
/// it has not returned within [`LIMIT`].
pub(crate) fn run_within_limit(sched: Scheduler) -> Scheduler {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        sched.run();
        let _ = tx.send(sched);
    });
    rx.recv_timeout(LIMIT).expect("Scheduler::run did not return: the system did not shut down")
}

/// A scheduler with `components` activated, in order.
pub(crate) fn scheduler_with(components: &[&Component]) -> Scheduler {
    let sched = Scheduler::new();
    for c in components {
        sched.activate(c).expect("activate");
    }
    sched
}

/// A component that is never activated: the test reads its `inbox` and `control` directly.
/// Taking from a probe frees space exactly as a consumer would (a waiting sender is woken).
pub(crate) struct Probe<T> {
    pub(crate) component: Component,
    pub(crate) inbox: Inbox<T>,
    pub(crate) control: Inbox<Signal>,
}

impl<T: Send + 'static> Probe<T> {
    /// Everything that arrived, oldest first.
    pub(crate) fn take(&self) -> Vec<T> {
        self.inbox.drain().collect()
    }

    /// How many messages are waiting.
    pub(crate) fn len(&self) -> usize {
        self.inbox.len()
    }

    /// The signals that arrived, by Axon name.
    pub(crate) fn signal_names(&self) -> Vec<&'static str> {
        self.control.drain().map(|s| s.axon_name()).collect()
    }

    /// The signals that arrived.
    pub(crate) fn signals(&self) -> Vec<Signal> {
        self.control.drain().collect()
    }
}

fn new_probe<T: Send + 'static>(capacity: Option<usize>) -> Probe<T> {
    let mut b = ComponentBuilder::new("Probe");
    let inbox = match capacity {
        Some(n) => b.inbox_with_capacity::<T>("inbox", n),
        None => b.inbox::<T>("inbox"),
    };
    let control = b.control();
    let component = b.run(|_ctx| async {});
    Probe { component, inbox, control }
}

/// A probe on `from`'s outbox `outbox`, its `control` on `from`'s outbox `signal` (if given).
pub(crate) fn attach<T: Send + 'static>(from: &Component, outbox: &str, signal: Option<&str>) -> Probe<T> {
    let p = new_probe::<T>(None);
    link((from, outbox), (&p.component, "inbox")).expect("link data outbox to probe");
    if let Some(sig) = signal {
        link((from, sig), (&p.component, "control")).expect("link signal outbox to probe");
    }
    p
}

/// As [`attach`], with the probe's inbox holding at most `capacity` messages: a stalled consumer.
pub(crate) fn attach_bounded<T: Send + 'static>(
    from: &Component,
    outbox: &str,
    signal: Option<&str>,
    capacity: usize,
) -> Probe<T> {
    let p = new_probe::<T>(None);
    link_with((from, outbox), (&p.component, "inbox"), LinkOptions::capacity(capacity)).expect("link to probe");
    if let Some(sig) = signal {
        link((from, sig), (&p.component, "control")).expect("link signal outbox to probe");
    }
    p
}

/// Delivers `items` into `c`'s `inbox` (which must have room).
pub(crate) fn put<T: Send + 'static>(c: &Component, items: impl IntoIterator<Item = T>) {
    let inbox = c.inbox_ref::<T>("inbox").expect("inbox");
    for item in items {
        inbox.try_send(item).expect("room in the inbox");
    }
}

/// Delivers `s` into `c`'s `control`.
pub(crate) fn put_control(c: &Component, s: Signal) {
    c.inbox_ref::<Signal>("control").expect("control").try_send(s).expect("room in control");
}

/// A source: sends `items`, then `end` on `signal`, and ends.
pub(crate) fn source<T: Send + 'static>(items: Vec<T>, end: Signal) -> Component {
    let mut b = ComponentBuilder::new("TestSource");
    let out = b.outbox::<T>("outbox");
    let sig = b.signal();
    b.run(move |_ctx| async move {
        for item in items {
            out.send(item).await;
        }
        sig.send(end).await;
    })
}

/// What a [`sink`] saw.
pub(crate) struct Seen<T> {
    pub(crate) data: Arc<Mutex<Vec<T>>>,
    pub(crate) signals: Arc<Mutex<Vec<Signal>>>,
}

impl<T: Clone> Seen<T> {
    pub(crate) fn data(&self) -> Vec<T> {
        self.data.lock().unwrap().clone()
    }

    pub(crate) fn signal_names(&self) -> Vec<&'static str> {
        self.signals.lock().unwrap().iter().map(Signal::axon_name).collect()
    }
}

/// A sink: records every message, and every signal; stops after a terminal one (having
/// taken what was already in its inbox).
pub(crate) fn sink<T: Send + 'static>() -> (Component, Seen<T>) {
    let data = Arc::new(Mutex::new(Vec::new()));
    let signals = Arc::new(Mutex::new(Vec::new()));
    let (d, s) = (data.clone(), signals.clone());
    let mut b = ComponentBuilder::new("TestSink");
    let inbox = b.inbox::<T>("inbox");
    let control = b.control();
    let signal = b.signal();
    let c = b.run(move |_ctx| async move {
        // Deliver: every signal is recorded here, none passed on.
        let mut watch = ControlWatch::new(control, signal).with_policy(SignalPolicy::Deliver);
        loop {
            match watch.next(&inbox).await {
                Next::Data(m) => d.lock().unwrap().push(m),
                Next::Other(sig) => s.lock().unwrap().push(sig),
                Next::End(sig) => {
                    s.lock().unwrap().push(sig);
                    break;
                }
            }
        }
        d.lock().unwrap().extend(inbox.drain());
        watch.close().await;
    });
    (c, Seen { data, signals })
}

/// Links `a`'s `outbox` and `signal` to `b`'s `inbox` and `control`, as a Pipeline would.
pub(crate) fn chain(a: &Component, b: &Component) {
    link((a, "outbox"), (b, "inbox")).expect("link outbox -> inbox");
    link((a, "signal"), (b, "control")).expect("link signal -> control");
}

/// `c`'s boxes as `snapshot()` shows them: (name, direction, message type), in order.
pub(crate) fn snapshot_boxes(sched: &SchedulerHandle, c: &Component) -> Vec<(String, Direction, String)> {
    let snap = sched.snapshot();
    let info = snap.components.iter().find(|i| i.id == c.id()).expect("the component is in the snapshot");
    info.boxes.iter().map(|b| (b.name.clone(), b.direction, b.msg_type.clone())).collect()
}

/// One expected box: name, direction and the Rust type it carries.
pub(crate) fn inbox_of<T>(name: &str) -> (String, Direction, String) {
    (name.to_string(), Direction::Inbox, type_name::<T>().to_string())
}

/// One expected outbox.
pub(crate) fn outbox_of<T>(name: &str) -> (String, Direction, String) {
    (name.to_string(), Direction::Outbox, type_name::<T>().to_string())
}

/// The four standard boxes carrying `I` in and `O` out.
pub(crate) fn standard_boxes<I, O>() -> Vec<(String, Direction, String)> {
    vec![inbox_of::<I>("inbox"), inbox_of::<Signal>("control"), outbox_of::<O>("outbox"), outbox_of::<Signal>("signal")]
}
