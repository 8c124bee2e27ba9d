//! [`ComponentBuilder`]: declare a component's boxes, then give it a body (async, threaded,
//! or none for a handle); and [`StandardBoxes`].

use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::core::{ComponentCore, OUTCOME_NONE};
use super::{Component, Ctx, ThreadCtx, next_id};
use crate::Signal;
use crate::boxes::{Inbox, Outbox};
use crate::linkage::LinkError;
use crate::lock;
use crate::park::Parker;
use crate::postoffice::{Direction, Name, Node};
use crate::scheduler::Task;

/// Declares a component's boxes, then gives it a body.
///
/// ```
/// use axon_core::ComponentBuilder;
///
/// fn doubler() -> axon_core::Component {
///     let mut b = ComponentBuilder::new("Doubler");
///     let io = b.standard::<i64, i64>();
///     b.run(|_ctx| io.transform(|x| Some(2 * x)))
/// }
/// # let d = doubler();
/// # assert_eq!(d.inbox_names(), ["inbox", "control"]);
/// ```
pub struct ComponentBuilder {
    core: Arc<ComponentCore>,
}

/// The four standard boxes: `inbox`, `control`, `outbox`, `signal`.
pub struct StandardBoxes<I, O> {
    /// Data in.
    pub inbox: Inbox<I>,
    /// Signals in.
    pub control: Inbox<Signal>,
    /// Data out.
    pub outbox: Outbox<O>,
    /// Signals out.
    pub signal: Outbox<Signal>,
}

impl ComponentBuilder {
    /// A component of this kind, named `<kind>_<id>` (as Axon names `__main__.Src_5`).
    pub fn new(kind: impl Into<Cow<'static, str>>) -> Self {
        Self::with_kind(kind.into(), None)
    }

    /// A component with exactly this name.
    pub fn named(name: impl Into<Cow<'static, str>>) -> Self {
        let name: Cow<'static, str> = name.into();
        Self::with_kind(Cow::Borrowed(""), Some(name.into_owned().into()))
    }

    fn with_kind(kind: Cow<'static, str>, name: Option<Box<str>>) -> Self {
        let id = crate::ComponentId(next_id());
        let core = Arc::new_cyclic(|weak| ComponentCore {
            id,
            kind,
            name: name.map(OnceLock::from).unwrap_or_default(),
            task: Arc::new(Task::new(id, weak.clone())),
            boxes: Mutex::new(Vec::new()),
            rel: Mutex::new(None),
            thread_body: Mutex::new(None),
            waiting_for: Mutex::new(None),
            slot: AtomicUsize::new(usize::MAX),
            outcome: AtomicU8::new(OUTCOME_NONE),
            threaded: std::sync::atomic::AtomicBool::new(false),
        });
        ComponentBuilder { core }
    }

    /// Its id.
    pub fn id(&self) -> crate::ComponentId {
        self.core.id
    }

    /// Its name.
    pub fn name(&self) -> &str {
        self.core.name()
    }

    fn declare<T: Send + 'static>(&self, name: Name, dir: Direction, capacity: Option<usize>) -> Arc<Node<T>> {
        assert!(
            self.core.find_box(&name).is_none(),
            "component {} declares a box named {name:?} twice",
            self.core.name()
        );
        let node = Arc::new(Node::new(name, dir, self.core.task.clone(), capacity));
        self.core.add_node(node.clone());
        node
    }

    /// Declares an unbounded inbox.
    ///
    /// # Panics
    /// If the component already has a box of this name.
    pub fn inbox<T: Send + 'static>(&mut self, name: impl Into<Name>) -> Inbox<T> {
        Inbox::new(self.declare(name.into(), Direction::Inbox, None))
    }

    /// Declares an inbox that holds at most `capacity` messages.
    ///
    /// # Panics
    /// If the component already has a box of this name.
    pub fn inbox_with_capacity<T: Send + 'static>(&mut self, name: impl Into<Name>, capacity: usize) -> Inbox<T> {
        Inbox::new(self.declare(name.into(), Direction::Inbox, Some(capacity)))
    }

    /// Declares an outbox. While unlinked it keeps what is sent (unbounded).
    ///
    /// # Panics
    /// If the component already has a box of this name.
    pub fn outbox<T: Send + 'static>(&mut self, name: impl Into<Name>) -> Outbox<T> {
        Outbox::new(self.declare(name.into(), Direction::Outbox, None))
    }

    /// Declares an outbox that, while unlinked, keeps at most `capacity` messages (a send
    /// then waits until it is linked).
    ///
    /// # Panics
    /// If the component already has a box of this name.
    pub fn outbox_with_capacity<T: Send + 'static>(&mut self, name: impl Into<Name>, capacity: usize) -> Outbox<T> {
        Outbox::new(self.declare(name.into(), Direction::Outbox, Some(capacity)))
    }

    /// Declares the standard `control` inbox.
    pub fn control(&mut self) -> Inbox<Signal> {
        self.inbox("control")
    }

    /// Declares the standard `signal` outbox.
    pub fn signal(&mut self) -> Outbox<Signal> {
        self.outbox("signal")
    }

    /// Declares the four standard boxes, in Axon's order: `inbox`, `control`, `outbox`, `signal`.
    pub fn standard<I: Send + 'static, O: Send + 'static>(&mut self) -> StandardBoxes<I, O> {
        StandardBoxes {
            inbox: self.inbox("inbox"),
            control: self.control(),
            outbox: self.outbox("outbox"),
            signal: self.signal(),
        }
    }

    /// The context the body will get, available while building: a chassis adopts and
    /// links its children here, so linking mistakes are reported when it is built.
    /// (Activating children needs a scheduler, so that waits for the body.)
    pub fn ctx(&self) -> Ctx {
        Ctx::of(&self.core)
    }

    /// Sets a hook run synchronously by `activate`, with the scheduler known, before the
    /// body first runs: the place to register a service (a Backplane registers its name
    /// here, so any component activated after it finds it). If the hook returns an error the
    /// component is not started: it ends at once and `activate` returns
    /// [`ActivateError::Refused`](crate::ActivateError::Refused) with the reason.
    pub fn on_activate(&mut self, hook: impl FnOnce(&Ctx) -> Result<(), String> + Send + 'static) {
        self.core.rel(|r| r.on_activate = Some(Box::new(hook)));
    }

    /// Declares a box carrying the same message type as `like`'s box of that name, for
    /// chassis whose boxes pass straight through to a child's (a Pipeline's `inbox` is its
    /// first child's). `dir` is the new box's direction; its name must be free.
    pub fn declare_like(
        &mut self,
        name: impl Into<Name>,
        dir: Direction,
        like: (&Component, &str),
    ) -> Result<(), LinkError> {
        let name = name.into();
        let model = like.0.core().find_box(like.1).ok_or_else(|| LinkError::no_such_box(like.0, like.1))?;
        assert!(
            self.core.find_box(&name).is_none(),
            "component {} declares a box named {name:?} twice",
            self.core.name()
        );
        self.core.add_node(model.new_like(name, dir, self.core.task.clone()));
        Ok(())
    }

    /// Gives the component an async body and returns it, ready to link and activate.
    /// The body starts running when the component is activated.
    pub fn run<F, Fut>(self, body: F) -> Component
    where
        F: FnOnce(Ctx) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let fut = body(self.ctx());
        self.core.task.set_body(Box::pin(fut));
        Component::from_core(self.core)
    }

    /// A component with boxes but no body, driven from outside by ordinary threads
    /// (a [`Handle`](crate::Handle)): deliveries into it unpark those threads.
    pub(crate) fn external(self) -> Component {
        let _ = self.core.task.parker.set(Parker::new());
        Component::from_core(self.core)
    }

    /// Gives the component a blocking body that runs on its own OS thread (Axon's
    /// threadedcomponent) and returns it. The body uses the same boxes, with the blocking
    /// calls ([`Inbox::recv_blocking`], [`Outbox::send_blocking`], [`ThreadCtx::pause`]).
    pub fn run_threaded<F>(self, body: F) -> Component
    where
        F: FnOnce(ThreadCtx) + Send + 'static,
    {
        let _ = self.core.task.parker.set(Parker::new());
        self.core.threaded.store(true, Ordering::Relaxed);
        *lock(&self.core.thread_body) = Some(Box::new(body));
        Component::from_core(self.core)
    }
}
