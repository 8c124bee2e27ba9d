//! SimpleDetupler and Entuple.

use std::marker::PhantomData;

use axon_core::{Component, ComponentBuilder, Signal};

/// SimpleDetupler: sends one part of each message it receives (Kamaelia's
/// `Kamaelia.Util.Detuple.SimpleDetupler(index)`, which sends `item[index]`).
///
/// Python indexes any tuple or list by a number at run time; in Rust the part taken is fixed
/// by type, so there are three ways to build one:
/// - [`SimpleDetupler::new`]`(f)`: any projection `T -> U` (the general form; for a tuple of
///   any size write `|(_, b, _)| b`);
/// - [`SimpleDetupler::first`] and [`SimpleDetupler::second`]: index 0 or 1 of a pair `(A, B)`.
///
/// Boxes:
/// - `inbox: T`: the tuples.
/// - `control: Signal`: every signal received is passed on.
/// - `outbox: U`: the part taken from each.
/// - `signal: Signal`: every signal received on `control`.
///
/// Shutdown: the standard contract ([`Driver`](axon_core::Driver)): on `ProducerFinished` it
/// first processes what is already in `inbox`.
///
/// Differs from Kamaelia: the original also drains its inbox after `shutdownMicroprocess`,
/// and passes the signal on before draining (so the drained items reach a consumer that has
/// already been told to stop); here the drained items go first.
#[derive(Debug)]
pub struct SimpleDetupler {
    _private: (),
}

// The type names the component, as Kamaelia's class does; `new` builds it.
#[allow(clippy::new_ret_no_self)]
impl SimpleDetupler {
    /// A SimpleDetupler sending `f(item)` for each item.
    pub fn new<T, U>(f: impl Fn(T) -> U + Send + 'static) -> Component
    where
        T: Send + 'static,
        U: Send + 'static,
    {
        let mut b = ComponentBuilder::new("SimpleDetupler");
        let io = b.standard::<T, U>();
        b.run(|_ctx| io.transform(move |item| Some(f(item))))
    }

    /// A SimpleDetupler sending the first part of each pair (Kamaelia's `SimpleDetupler(0)`).
    pub fn first<A: Send + 'static, B: Send + 'static>() -> Component {
        SimpleDetupler::new(|(a, _): (A, B)| a)
    }

    /// A SimpleDetupler sending the second part of each pair (Kamaelia's `SimpleDetupler(1)`).
    pub fn second<A: Send + 'static, B: Send + 'static>() -> Component {
        SimpleDetupler::new(|(_, b): (A, B)| b)
    }
}

/// Entuple: wraps each message between a fixed prefix and postfix (Kamaelia's
/// `Kamaelia.Apps.Whiteboard.Entuple.Entuple(prefix, postfix)`).
///
/// Despite the name, the original sends a *list* (`prefix + [item] + postfix`), and so does
/// this one: a `Vec<T>`, since a Rust tuple's length is fixed by its type. Pair it with
/// [`SimpleDetupler::new`] to take an item back out.
///
/// Boxes:
/// - `inbox: T`: the items.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: Vec<T>`: `prefix ++ [item] ++ postfix` for each item.
/// - `signal: Signal`: `ProducerFinished` from the Entuple itself; signals passed on.
///
/// Configuration: the prefix and postfix (cloned for each item, so `T: Clone`).
///
/// Shutdown: the standard contract ([`Driver`](axon_core::Driver)), except that on
/// `ProducerFinished`, once what is queued is processed, it sends its own `ProducerFinished`
/// in place of the one received (as the original does).
///
/// Differs from Kamaelia: the original answers a shutdown with its own `producerFinished`;
/// here a shutdown is passed on as a shutdown, so it keeps cascading as one.
pub struct Entuple<T>(PhantomData<fn() -> T>);

// The type names the component, as Kamaelia's class does; `new` builds it.
#[allow(clippy::new_ret_no_self)]
impl<T: Clone + Send + 'static> Entuple<T> {
    /// An Entuple sending `prefix ++ [item] ++ postfix` for each item.
    pub fn new(prefix: Vec<T>, postfix: Vec<T>) -> Component {
        let mut b = ComponentBuilder::new("Entuple");
        let io = b.standard::<T, Vec<T>>();
        b.run(move |ctx| async move {
            let mut driver = io.driver();
            let end = driver
                .run_map(move |item| {
                    let mut out = Vec::with_capacity(prefix.len() + 1 + postfix.len());
                    out.extend_from_slice(&prefix);
                    out.push(item);
                    out.extend_from_slice(&postfix);
                    Some(out)
                })
                .await;
            let end = if end.is_producer_finished() { Signal::producer_finished_by(ctx.id()) } else { end };
            driver.finish(end).await;
        })
    }
}
