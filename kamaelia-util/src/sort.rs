//! Sort: collects until ProducerFinished, then emits in order.

use std::marker::PhantomData;

use axon_core::{Component, ComponentBuilder, ControlWatch, Next};

/// Sort: collects every message until the stream ends, then sends them all in order (the
/// `Sort` of Kamaelia's transcoding example, `Find -> Grep -> Sort -> Balancer -> ...`).
///
/// The sort is stable: messages that compare equal (or have equal keys) keep their arrival
/// order. Built with [`Sort::new`] it orders by `T: Ord`; with [`Sort::by_key`] by a key.
///
/// Boxes:
/// - `inbox: T`: the messages to sort.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: T`: the same messages, in order, after `ProducerFinished`.
/// - `signal: Signal`: the terminal signal, passed on.
///
/// Shutdown: on `ProducerFinished` it takes what is already in `inbox`, sorts everything,
/// sends it all (each send waiting while the destination is full), then passes the signal on
/// and stops. On `ShutdownMicroprocess` (or `Shutdown`) it passes it on and stops at once
/// without sending what it holds, also while it is sending the sorted messages. Other signals
/// are ignored.
///
/// Differs from Kamaelia: the example's Sort ends on *any* control message, and answers a
/// `shutdownMicroprocess` by sending the sorted data anyway.
pub struct Sort<T>(PhantomData<fn() -> T>);

// The type names the component, as Kamaelia's class does; `new` builds it.
#[allow(clippy::new_ret_no_self)]
impl<T: Ord + Send + 'static> Sort<T> {
    /// A Sort ordering messages by `T: Ord`.
    pub fn new() -> Component {
        build(|held: &mut Vec<T>| held.sort())
    }
}

impl<T: Send + 'static> Sort<T> {
    /// A Sort ordering messages by the key `key` gives each.
    pub fn by_key<K: Ord>(key: impl Fn(&T) -> K + Send + 'static) -> Component {
        build(move |held: &mut Vec<T>| held.sort_by_key(|m| key(m)))
    }
}

fn build<T: Send + 'static>(sort: impl FnOnce(&mut Vec<T>) + Send + 'static) -> Component {
    let mut b = ComponentBuilder::new("Sort");
    let std = b.standard::<T, T>();
    b.run(move |_ctx| async move {
        let mut watch = ControlWatch::legacy(std.control);
        let mut held = Vec::new();
        let mut end = loop {
            match watch.next(&std.inbox).await {
                Next::Data(msg) => held.push(msg),
                Next::Other(_) => {}
                Next::End(s) => break s,
            }
        };
        if end.is_producer_finished() {
            sort(&mut held);
            for msg in held {
                // A shutdown that arrives while the batch goes out (delivered from another
                // thread, or while a send waited for space) stops it before the next message.
                if let Some(s) = watch.check() {
                    end = s;
                    break;
                }
                if let Err(stop) = watch.send(&std.outbox, msg).await {
                    end = stop.signal;
                    break;
                }
            }
        }
        std.signal.send(end).await;
    })
}
