//! Helpers shared by the `axon-core` integration tests: running a scheduler with a time limit,
//! counting a body's polls, bare components with the standard boxes, and a collecting sink.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use axon_core::{Component, ComponentBuilder, Ctx, Scheduler, StandardBoxes};

/// Far longer than any of these systems needs; only reached if `run` hangs.
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

/// Runs `sched` on another thread and hands it back once `run` returns, failing the test if
/// `run` has not returned within [`LIMIT`].
pub(crate) fn run_within_limit(sched: Scheduler) -> Scheduler {
    run_within(sched, LIMIT)
}

/// Runs `sched` on another thread and hands it back once `run` returns, failing the test if
/// `run` has not returned within `limit`.
pub(crate) fn run_within(sched: Scheduler, limit: Duration) -> Scheduler {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        sched.run();
        let _ = tx.send(sched);
    });
    rx.recv_timeout(limit).expect("Scheduler::run did not return")
}

/// A body wrapped so that every poll of it is counted.
pub(crate) struct Counted<F> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

impl<F: Future<Output = ()>> Future for Counted<F> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

/// Gives `b` the body `body`, counting its polls in the returned counter.
pub(crate) fn run_counted<F, Fut>(b: ComponentBuilder, body: F) -> (Component, Arc<AtomicUsize>)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let c = b.run(move |ctx| Counted { inner: Box::pin(body(ctx)), polls: p });
    (c, polls)
}

/// A component of kind `kind` with the four standard boxes and a body that is never run:
/// linking and delivering need no scheduler.
pub(crate) fn standard_of<I: Send + 'static, O: Send + 'static>(
    kind: &'static str,
) -> (Component, StandardBoxes<I, O>) {
    let mut b = ComponentBuilder::new(kind);
    let boxes = b.standard::<I, O>();
    (b.run(|_ctx| async {}), boxes)
}

/// [`standard_of`] with every box carrying `u32`.
pub(crate) fn standard(kind: &'static str) -> (Component, StandardBoxes<u32, u32>) {
    standard_of::<u32, u32>(kind)
}

/// An async consumer of kind `kind` that collects `u32`s into `got` until a terminal signal,
/// then drains what is left.
pub(crate) fn collector(kind: &'static str, got: &Arc<Mutex<Vec<u32>>>) -> Component {
    let got = got.clone();
    let mut b = ComponentBuilder::new(kind);
    let std = b.standard::<u32, u32>();
    b.run(move |_ctx| async move {
        let mut driver = std.driver();
        driver.run(|n, _out| got.lock().unwrap().push(n)).await;
        got.lock().unwrap().extend(driver.inbox().drain());
    })
}
