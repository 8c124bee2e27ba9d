//! Sort: collects until ProducerFinished, then emits in order.

use std::marker::PhantomData;

use axon_core::{Component, ComponentBuilder};

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
/// - `signal: Signal`: signals passed on.
///
/// Shutdown: the standard contract ([`Driver`](axon_core::Driver)), with an end hook: on
/// `ProducerFinished` it takes what is already in `inbox`, sorts everything and sends it all
/// (each send waiting while the destination is full) before passing the signal on. A
/// shutdown drops what it holds, also while it is sending the sorted messages.
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
    let io = b.standard::<T, T>();
    b.run(move |_ctx| async move {
        let mut driver = io.driver();
        let mut held = Vec::new();
        let mut end = driver
            .run_map(|msg| {
                held.push(msg);
                None
            })
            .await;
        if end.is_producer_finished() {
            sort(&mut held);
            for msg in held {
                // A shutdown that arrives while the batch goes out (delivered from another
                // thread, or while a send waited for space) stops it before the next message.
                if let Some(s) = driver.watch().check() {
                    end = s;
                    break;
                }
                if let Err(stop) = driver.emit(msg).await {
                    end = stop.signal;
                    break;
                }
            }
        }
        driver.finish(end).await;
    })
}
