//! The Selector: one mio `Poll` per scheduler, which is the scheduler's idle wait, so socket
//! readiness wakes components on the scheduler thread with no thread hop and an idle server
//! uses no CPU (Kamaelia's `Selector` service, without its polling loop).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axon_core::{Ctx, Park, Scheduler, SchedulerBuilder};
use mio::event::Source;
use mio::{Events, Interest, Token};
use parking_lot::Mutex;

/// The name under which a scheduler's Selector is kept in its services registry.
pub const SELECTOR_SERVICE: &str = "kamaelia_net.selector";

const WAKE_TOKEN: Token = Token(usize::MAX);

/// Readiness bits, low byte of [`IoState::readiness`]; the rest counts events, so a clear
/// that raced with a new event can be told from one that did not.
pub(crate) const READABLE: usize = 1;
pub(crate) const WRITABLE: usize = 2;
const FLAGS: usize = 0xff;
const GEN_ONE: usize = 0x100;

/// The readiness of one registered source, shared by the selector and the component using it.
#[derive(Default)]
pub(crate) struct IoState {
    readiness: AtomicUsize,
    waiters: Mutex<Vec<Waker>>,
}

impl IoState {
    fn set(&self, bits: usize) {
        let _ = self.readiness.fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
            Some(((cur & !FLAGS).wrapping_add(GEN_ONE)) | (cur & FLAGS) | bits)
        });
        let waiters = std::mem::take(&mut *self.waiters.lock());
        for w in waiters {
            w.wake();
        }
    }
}

#[derive(Default)]
struct Slots {
    states: Vec<Option<Arc<IoState>>>,
    free: Vec<usize>,
}

struct Inner {
    poll: Mutex<mio::Poll>,
    events: Mutex<Events>,
    registry: mio::Registry,
    waker: mio::Waker,
    slots: Mutex<Slots>,
}

/// A handle to a selector (cheap to clone). See the module docs.
#[derive(Clone)]
pub struct Selector {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Selector").finish_non_exhaustive()
    }
}

/// A single-thread scheduler whose idle wait is a new [`Selector`], registered in its services
/// so every network component on it finds it. The preferred way to run a networked system.
pub fn scheduler() -> io::Result<Scheduler> {
    scheduler_with(Scheduler::builder())
}

/// As [`scheduler`], from a builder with other settings (a multi-thread builder ignores the
/// park, and its components then get a selector thread of their own on first use).
pub fn scheduler_with(builder: SchedulerBuilder) -> io::Result<Scheduler> {
    let selector = Selector::new()?;
    let sched = builder.park(Arc::new(selector.clone())).build();
    sched.services().track_value(SELECTOR_SERVICE, selector).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(sched)
}

impl Selector {
    /// A new selector. Something must drive it: install it as a scheduler's park
    /// ([`scheduler`]) or give it a thread ([`Selector::spawn_thread`]).
    pub fn new() -> io::Result<Self> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        Ok(Selector {
            inner: Arc::new(Inner {
                poll: Mutex::new(poll),
                events: Mutex::new(Events::with_capacity(1024)),
                registry,
                waker,
                slots: Mutex::new(Slots::default()),
            }),
        })
    }

    /// A selector driven by a thread of its own, for schedulers whose idle wait is not a
    /// selector (the multi-thread scheduler). The thread ends soon after the last handle is dropped.
    pub fn spawn_thread() -> io::Result<Self> {
        let selector = Self::new()?;
        let weak = Arc::downgrade(&selector.inner);
        std::thread::Builder::new().name("kamaelia-selector".into()).spawn(move || {
            while let Some(inner) = weak.upgrade() {
                Selector { inner }.poll_once(Some(Duration::from_millis(250)));
            }
        })?;
        Ok(selector)
    }

    /// The selector of the scheduler `ctx`'s component runs on: the one registered by
    /// [`scheduler`], or else one with its own thread, made and registered on first use.
    pub fn of(ctx: &Ctx) -> io::Result<Selector> {
        let services = ctx.services();
        if let Ok(s) = services.retrieve_value::<Selector>(SELECTOR_SERVICE) {
            return Ok(s);
        }
        let s = Selector::spawn_thread()?;
        match services.track_value(SELECTOR_SERVICE, s.clone()) {
            Ok(()) => Ok(s),
            // Another component made one first: use that.
            Err(_) => {
                services.retrieve_value::<Selector>(SELECTOR_SERVICE).map_err(|e| io::Error::other(e.to_string()))
            }
        }
    }

    /// Registers a source for readable and writable readiness.
    pub(crate) fn register(&self, source: &mut impl Source) -> io::Result<Registration> {
        let state = Arc::new(IoState::default());
        let token = {
            let mut slots = self.inner.slots.lock();
            let i = slots.free.pop().unwrap_or_else(|| {
                slots.states.push(None);
                slots.states.len() - 1
            });
            slots.states[i] = Some(state.clone());
            i
        };
        if let Err(e) = self.inner.registry.register(source, Token(token), Interest::READABLE | Interest::WRITABLE) {
            self.free(token);
            return Err(e);
        }
        Ok(Registration { selector: self.clone(), token, state })
    }

    fn free(&self, token: usize) {
        let mut slots = self.inner.slots.lock();
        if let Some(slot) = slots.states.get_mut(token) {
            *slot = None;
            slots.free.push(token);
        }
    }

    /// Waits for events (at most `timeout`) and wakes the components waiting on them.
    fn poll_once(&self, timeout: Option<Duration>) {
        let mut poll = self.inner.poll.lock();
        let mut events = self.inner.events.lock();
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                eprintln!("kamaelia-net: selector poll failed: {e}");
            }
            return;
        }
        for ev in events.iter() {
            if ev.token() == WAKE_TOKEN {
                continue;
            }
            let state = self.inner.slots.lock().states.get(ev.token().0).cloned().flatten();
            let Some(state) = state else { continue };
            let mut bits = 0;
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                bits |= READABLE;
            }
            if ev.is_writable() || ev.is_write_closed() || ev.is_error() {
                bits |= WRITABLE;
            }
            state.set(bits);
        }
    }
}

impl Park for Selector {
    fn park(&self, timeout: Option<Duration>) {
        self.poll_once(timeout);
    }

    fn unpark(&self) {
        if let Err(e) = self.inner.waker.wake() {
            eprintln!("kamaelia-net: could not wake the selector: {e}");
        }
    }
}

/// A source's registration with a selector: its readiness, and waiting for it.
/// Deregistered when dropped (the owner drops or deregisters the source first).
pub(crate) struct Registration {
    selector: Selector,
    token: usize,
    state: Arc<IoState>,
}

/// A readiness snapshot; pass it back to [`Registration::clear`].
#[derive(Copy, Clone, Debug)]
pub(crate) struct Ready(usize);

impl Registration {
    pub(crate) fn ready(&self) -> Ready {
        Ready(self.state.readiness.load(Ordering::Acquire))
    }

    /// Forgets readiness `bits` seen in `seen` (after an operation hit WouldBlock), unless an
    /// event arrived since: then the readiness stays, so the retry is not lost.
    pub(crate) fn clear(&self, seen: Ready, bits: usize) {
        let _ = self.state.readiness.compare_exchange(seen.0, seen.0 & !bits, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Waits until one of `bits` is ready or the component is woken by anything else
    /// (a delivery, a timer): the socket component's "pause".
    pub(crate) fn wait(&self, bits: usize) -> WaitIo<'_> {
        WaitIo { reg: self, bits, polled: false }
    }

    pub(crate) fn deregister(self, source: &mut impl Source) {
        let _ = self.selector.inner.registry.deregister(source);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.selector.free(self.token);
    }
}

/// The future returned by [`Registration::wait`].
pub(crate) struct WaitIo<'a> {
    reg: &'a Registration,
    bits: usize,
    polled: bool,
}

impl std::future::Future for WaitIo<'_> {
    type Output = Ready;
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Ready> {
        let ready = self.reg.ready();
        if ready.0 & self.bits != 0 || self.polled {
            return Poll::Ready(ready);
        }
        self.polled = true;
        {
            let mut w = self.reg.state.waiters.lock();
            if !w.iter().any(|x| x.will_wake(cx.waker())) {
                w.push(cx.waker().clone());
            }
        }
        // An event between the check and the registration would otherwise be missed.
        let ready = self.reg.ready();
        if ready.0 & self.bits != 0 { Poll::Ready(ready) } else { Poll::Pending }
    }
}
