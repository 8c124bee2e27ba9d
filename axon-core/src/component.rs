//! Components: building one (declare boxes, give a body), handles to one, and the context a
//! body uses to reach its own component (children, links, dynamic boxes).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::boxes::{Inbox, Outbox};
use crate::linkage::{self, LinkError, LinkOptions, Linkage};
use crate::park::Parker;
use crate::postoffice::{AnyNode, Direction, Name, Node};
use crate::scheduler::{ActivateError, SchedulerHandle};
use crate::services::Services;
use crate::task::{self, TaskCell};
use crate::{Signal, lock};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One process-wide counter for every id, as Axon's `idGen`.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A component's process-wide unique number (Axon's `id`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ComponentId(pub u64);

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a component is in its life.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentState {
    /// Built, not activated.
    Created,
    /// Queued to run.
    Runnable,
    /// Being run now (or, for a threaded component, its thread is busy).
    Running,
    /// Waiting for a wake: a delivery, a collection, a timer, a child's end.
    Paused,
    /// Its body returned.
    Finished,
    /// Its body panicked; its links were removed.
    Panicked,
}

const OUTCOME_NONE: u8 = 0;
const OUTCOME_FINISHED: u8 = 1;
const OUTCOME_PANICKED: u8 = 2;

type ThreadBody = Box<dyn FnOnce(ThreadCtx) + Send + 'static>;
type ActivateHook = Box<dyn FnOnce(&Ctx) -> Result<(), String> + Send + 'static>;

pub(crate) struct ComponentCore {
    pub(crate) id: crate::ComponentId,
    /// What kind of component it is; the name is `<kind>_<id>` unless given.
    kind: Cow<'static, str>,
    /// Made on first use: most components are never asked their name.
    name: OnceLock<Box<str>>,
    pub(crate) task: Arc<TaskCell>,
    /// Declared boxes, in declaration order.
    boxes: Mutex<Vec<Arc<dyn AnyNode>>>,
    /// Parent, children and postoffice: out of line, as most components have none.
    rel: Mutex<Option<Box<Relations>>>,
    thread_body: Mutex<Option<ThreadBody>>,
    /// The box this component is waiting to send into (for deadlock reports).
    pub(crate) waiting_for: Mutex<Option<Box<(crate::ComponentId, Name)>>>,
    /// Its slot in its scheduler's registry of live components (see `scheduler::Registry`).
    pub(crate) slot: AtomicUsize,
    outcome: AtomicU8,
    threaded: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Relations {
    parent: Option<Weak<ComponentCore>>,
    children: Vec<Component>,
    /// Links this component made (Axon's postoffice): removed when it ends.
    postoffice: Vec<Linkage>,
    /// Run by `activate`, before the body is queued (see [`ComponentBuilder::on_activate`]).
    on_activate: Option<ActivateHook>,
}

impl ComponentCore {
    pub(crate) fn name(&self) -> &str {
        self.name.get_or_init(|| format!("{}_{}", self.kind, self.id).into())
    }

    /// Runs `f` on its relations, creating them on first use.
    fn rel<R>(&self, f: impl FnOnce(&mut Relations) -> R) -> R {
        f(lock(&self.rel).get_or_insert_with(Box::default))
    }

    pub(crate) fn find_box(&self, name: &str) -> Option<Arc<dyn AnyNode>> {
        lock(&self.boxes).iter().find(|b| b.name() == name).cloned()
    }

    pub(crate) fn boxes(&self) -> Vec<Arc<dyn AnyNode>> {
        lock(&self.boxes).clone()
    }

    fn add_node(&self, node: Arc<dyn AnyNode>) {
        lock(&self.boxes).push(node);
    }

    fn unique_name(&self, base: &str) -> String {
        let boxes = lock(&self.boxes);
        let taken = |n: &str| boxes.iter().any(|b| b.name() == n);
        if !taken(base) {
            return base.to_string();
        }
        loop {
            let candidate = format!("{base}{}", next_id());
            if !taken(&candidate) {
                return candidate;
            }
        }
    }

    pub(crate) fn is_threaded(&self) -> bool {
        self.threaded.load(Ordering::Relaxed)
    }

    /// Runs the activation hook, if any; on refusal the component ends without running.
    pub(crate) fn run_activate_hook(self: &Arc<Self>) -> Result<(), String> {
        let hook = lock(&self.rel).as_mut().and_then(|r| r.on_activate.take());
        let Some(hook) = hook else { return Ok(()) };
        let result = hook(&Ctx { core: Arc::downgrade(self) });
        if result.is_err() {
            self.task.set_state(task::DONE);
            let body = self.task.take_future();
            drop(body);
            drop(self.take_thread_body());
            self.on_finish(false);
        }
        result
    }

    pub(crate) fn take_thread_body(&self) -> Option<ThreadBody> {
        lock(&self.thread_body).take()
    }

    pub(crate) fn record_link(&self, l: Linkage) {
        self.rel(|r| r.postoffice.push(l));
    }

    pub(crate) fn state(&self) -> ComponentState {
        match self.outcome.load(Ordering::Acquire) {
            OUTCOME_FINISHED => return ComponentState::Finished,
            OUTCOME_PANICKED => return ComponentState::Panicked,
            _ => {}
        }
        match self.task.state() & !task::NOTIFIED {
            task::CREATED => ComponentState::Created,
            task::IDLE => ComponentState::Paused,
            task::SCHEDULED => ComponentState::Runnable,
            task::RUNNING if self.threaded.load(Ordering::Relaxed) => {
                // A threaded component counts as paused while blocked in a box call.
                if self.task.state() & task::NOTIFIED != 0 { ComponentState::Paused } else { ComponentState::Running }
            }
            task::RUNNING => ComponentState::Running,
            // DONE but on_finish not yet run: report it as finishing.
            _ => ComponentState::Finished,
        }
    }

    pub(crate) fn parent(&self) -> Option<Arc<ComponentCore>> {
        lock(&self.rel).as_ref().and_then(|r| r.parent.as_ref()).and_then(Weak::upgrade)
    }

    /// Called once the body has ended.
    pub(crate) fn on_finish(&self, panicked: bool) {
        if panicked {
            // A panicked component's boxes may be mid-conversation; cut every link so
            // upstream senders buffer (nothing is lost) instead of feeding a dead inbox.
            for b in self.boxes() {
                b.isolate_dyn();
            }
        }
        let (links, parent) =
            self.rel(|rel| (std::mem::take(&mut rel.postoffice), rel.parent.as_ref().and_then(Weak::upgrade)));
        for l in links {
            linkage::unlink(&l);
        }
        self.outcome.store(if panicked { OUTCOME_PANICKED } else { OUTCOME_FINISHED }, Ordering::Release);
        if let Some(p) = parent {
            p.task.wake();
        }
    }
}

impl Drop for ComponentCore {
    fn drop(&mut self) {
        // A component that never ran still owns its body, which owns its boxes, which point
        // at the task cell: drop the body to break that cycle.
        let body = self.task.take_future();
        drop(body);
    }
}

/// A handle to a component: link its boxes by name, activate it, look at it.
///
/// Cheap to clone. Kamaelia's chassis (Pipeline, Graphline ...) take these.
#[derive(Clone)]
pub struct Component {
    core: Arc<ComponentCore>,
}

impl fmt::Debug for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Component").field("name", &self.core.name()).field("state", &self.state()).finish()
    }
}

impl PartialEq for Component {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.core, &other.core)
    }
}

impl Eq for Component {}

impl Component {
    pub(crate) fn from_core(core: Arc<ComponentCore>) -> Self {
        Component { core }
    }

    pub(crate) fn core(&self) -> &Arc<ComponentCore> {
        &self.core
    }

    /// Its unique id.
    pub fn id(&self) -> crate::ComponentId {
        self.core.id
    }

    /// Its name, `<Kind>_<id>` unless built with [`ComponentBuilder::named`].
    pub fn name(&self) -> &str {
        self.core.name()
    }

    /// Where it is in its life.
    pub fn state(&self) -> ComponentState {
        self.core.state()
    }

    /// True once its body has ended (normally or by panic).
    pub fn is_finished(&self) -> bool {
        matches!(self.state(), ComponentState::Finished | ComponentState::Panicked)
    }

    /// True if it runs on its own OS thread.
    pub fn is_threaded(&self) -> bool {
        self.core.is_threaded()
    }

    /// Names of its inboxes, in declaration order.
    pub fn inbox_names(&self) -> Vec<String> {
        self.box_names(Direction::Inbox)
    }

    /// Names of its outboxes, in declaration order.
    pub fn outbox_names(&self) -> Vec<String> {
        self.box_names(Direction::Outbox)
    }

    fn box_names(&self, dir: Direction) -> Vec<String> {
        self.core.boxes().iter().filter(|b| b.direction() == dir).map(|b| b.name().to_string()).collect()
    }

    /// One of its boxes, as a snapshot would show it: direction, message type, queue length,
    /// capacity, messages through.
    pub fn box_info(&self, name: &str) -> Option<crate::BoxInfo> {
        let node = self.core.find_box(name)?;
        let st = node.stats();
        Some(crate::BoxInfo {
            name: name.to_string(),
            direction: node.direction(),
            msg_type: node.msg_type_name().to_string(),
            len: st.len,
            capacity: st.capacity,
            through: st.through,
        })
    }

    /// True if it has a box of this name (either direction).
    pub fn has_box(&self, name: &str) -> bool {
        self.core.find_box(name).is_some()
    }

    /// Sets the capacity of one of its boxes (`None`: unbounded). A capacity applies while the
    /// box is the final destination of its chain (Axon: a limit mid-chain is inert).
    pub fn set_box_capacity(&self, name: &str, capacity: Option<usize>) -> Result<(), LinkError> {
        let node = self.core.find_box(name).ok_or_else(|| LinkError::no_such_box(self, name))?;
        node.set_capacity(capacity);
        Ok(())
    }

    /// Removes the outgoing link of one of its boxes, whoever made it (a debug console's
    /// `unlink`); returns whether there was one. Messages already delivered stay where they
    /// are. A [`Linkage`] handle from that link becomes stale (unlinking it is a no-op).
    pub fn unlink_box(&self, name: &str) -> Result<bool, LinkError> {
        let node = self.core.find_box(name).ok_or_else(|| LinkError::no_such_box(self, name))?;
        Ok(node.unlink_out())
    }

    /// A typed reference to one of its inboxes, for delivering to it directly (Axon's
    /// `_deliver`, and how hackysack players kick the sack) or from outside a component.
    pub fn inbox_ref<T: Send + 'static>(&self, name: &str) -> Result<crate::InboxRef<T>, LinkError> {
        let node = self.core.find_box(name).ok_or_else(|| LinkError::no_such_box(self, name))?;
        if node.direction() != Direction::Inbox {
            return Err(LinkError::not_an_inbox(self, name));
        }
        match node.clone().into_any().downcast::<Node<T>>() {
            Ok(n) => Ok(crate::InboxRef::new(n)),
            Err(_) => Err(LinkError::wrong_type::<T>(self, name, node.msg_type_name())),
        }
    }

    /// Its parent, once added as a child.
    pub fn parent(&self) -> Option<Component> {
        self.core.parent().map(Component::from_core)
    }

    /// Its children.
    pub fn children(&self) -> Vec<Component> {
        self.core.rel(|r| r.children.clone())
    }

    /// The scheduler it was activated on.
    pub fn scheduler(&self) -> Option<SchedulerHandle> {
        self.core.task.sched.get().map(|s| SchedulerHandle { shared: s.clone() })
    }

    /// Wakes it, as a delivery would (Axon's `unpause`). Ignored before activation and after
    /// it finished.
    pub fn wake(&self) {
        self.core.task.wake();
    }
}

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
            task: Arc::new(TaskCell::new(id, weak.clone())),
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
        Ctx { core: Arc::downgrade(&self.core) }
    }

    /// Sets a hook run synchronously by `activate`, with the scheduler known, before the
    /// body first runs: the place to register a service (a Backplane registers its name
    /// here, so any component activated after it finds it). If the hook returns an error the
    /// component is not started: it ends at once and `activate` returns
    /// [`ActivateError::Refused`] with the reason.
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
        let model = like.0.core.find_box(like.1).ok_or_else(|| LinkError::no_such_box(like.0, like.1))?;
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
        *self.core.task.future.lock() = Some(crate::task::Body { future: Box::pin(fut), waker: None });
        Component { core: self.core }
    }

    /// A component with boxes but no body, driven from outside by ordinary threads
    /// (a [`Handle`](crate::Handle)): deliveries into it unpark those threads.
    pub(crate) fn external(self) -> Component {
        let _ = self.core.task.parker.set(Parker::new());
        Component { core: self.core }
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
        Component { core: self.core }
    }
}

/// What a component's body uses to reach its own component: children, linkages, dynamic
/// boxes, services. Cheap to clone.
#[derive(Clone)]
pub struct Ctx {
    core: Weak<ComponentCore>,
}

impl Ctx {
    fn core(&self) -> Arc<ComponentCore> {
        // The scheduler holds a running component, so this only fails if a Ctx escapes its
        // body and outlives the component.
        self.core.upgrade().expect("Ctx used after its component was dropped")
    }

    /// Its component's id.
    pub fn id(&self) -> crate::ComponentId {
        self.core().id
    }

    /// Its component's name.
    pub fn name(&self) -> String {
        self.core().name().to_string()
    }

    /// A handle to its own component (for linking its own boxes to children).
    pub fn component(&self) -> Component {
        Component::from_core(self.core())
    }

    /// The scheduler it runs on.
    pub fn scheduler(&self) -> SchedulerHandle {
        self.component().scheduler().expect("a running component has a scheduler")
    }

    /// The scheduler's services registry.
    pub fn services(&self) -> Services {
        self.scheduler().services().clone()
    }

    /// Links two boxes by name and records the linkage as this component's, so it is removed
    /// when this component ends (Axon's postoffice). The kind of link follows from the boxes:
    /// outbox -> inbox, inbox -> inbox (passthrough: forward a parent's inbox to a child) or
    /// outbox -> outbox (passthrough: surface a child's outbox as the parent's).
    pub fn link(&self, from: (&Component, &str), to: (&Component, &str)) -> Result<Linkage, LinkError> {
        self.link_with(from, to, LinkOptions::default())
    }

    /// [`link`](Self::link) with options (a capacity for the sink box: Axon's `pipewidth`).
    pub fn link_with(
        &self,
        from: (&Component, &str),
        to: (&Component, &str),
        options: LinkOptions,
    ) -> Result<Linkage, LinkError> {
        let l = linkage::link_with(from, to, options)?;
        self.core().record_link(l.clone());
        Ok(l)
    }

    /// Removes a linkage (a no-op if it is already gone).
    pub fn unlink(&self, l: &Linkage) {
        linkage::unlink(l);
        self.core().rel(|r| r.postoffice.retain(|x| x != l));
    }

    /// Removes every linkage this component made that involves `other`.
    pub fn unlink_component(&self, other: &Component) {
        let gone: Vec<Linkage> = self.core().rel(|rel| {
            let (gone, keep) = std::mem::take(&mut rel.postoffice).into_iter().partition(|l| l.involves(other));
            rel.postoffice = keep;
            gone
        });
        for l in &gone {
            linkage::unlink(l);
        }
    }

    /// Adopts `child`: this component is woken when the child ends (Axon's `addChildren`).
    /// It does not activate the child.
    pub fn add_child(&self, child: &Component) {
        let core = self.core();
        child.core.rel(|r| r.parent = Some(Arc::downgrade(&core)));
        core.rel(|rel| {
            if !rel.children.contains(child) {
                rel.children.push(child.clone());
            }
        });
    }

    /// Forgets a child and removes every linkage this component made involving it.
    pub fn remove_child(&self, child: &Component) {
        let core = self.core();
        core.rel(|r| r.children.retain(|c| c != child));
        child.core.rel(|rel| {
            if rel.parent.as_ref().is_some_and(|p| std::ptr::eq(p.as_ptr(), Arc::as_ptr(&core))) {
                rel.parent = None;
            }
        });
        self.unlink_component(child);
    }

    /// Its children.
    pub fn children(&self) -> Vec<Component> {
        self.core().rel(|r| r.children.clone())
    }

    /// Activates a component on this component's scheduler (Axon's `newComponent`).
    pub fn activate(&self, c: &Component) -> Result<(), ActivateError> {
        self.scheduler().activate(c)
    }

    /// [`add_child`](Self::add_child), then [`activate`](Self::activate).
    pub fn spawn(&self, child: &Component) -> Result<(), ActivateError> {
        self.add_child(child);
        self.activate(child)
    }

    /// Forgets every finished child (unlinking it); true when none are left (Axon's
    /// `childrenDone`, which every chassis uses).
    pub fn children_done(&self) -> bool {
        for c in self.children() {
            if c.is_finished() {
                self.remove_child(&c);
            }
        }
        self.children().is_empty()
    }

    /// Waits until every child has finished (see [`children_done`](Self::children_done)).
    pub async fn wait_for_children(&self) {
        while !self.children_done() {
            crate::pause().await;
        }
    }

    /// Adds an inbox at run time (Axon's AdaptiveCommsComponent `addInbox`). If the name is
    /// taken, a fresh number is appended; use [`Inbox::name`] for the name it got.
    pub fn add_inbox<T: Send + 'static>(&self, name: &str) -> Inbox<T> {
        Inbox::new(self.add_node(name, Direction::Inbox))
    }

    /// Adds an outbox at run time; as [`add_inbox`](Self::add_inbox).
    pub fn add_outbox<T: Send + 'static>(&self, name: &str) -> Outbox<T> {
        Outbox::new(self.add_node(name, Direction::Outbox))
    }

    /// Adds a box at run time carrying the same message type as `like`'s box of that name
    /// (see [`ComponentBuilder::declare_like`]); returns the name it got.
    pub fn add_box_like(&self, name: &str, dir: Direction, like: (&Component, &str)) -> Result<String, LinkError> {
        let model = like.0.core.find_box(like.1).ok_or_else(|| LinkError::no_such_box(like.0, like.1))?;
        let core = self.core();
        let unique = core.unique_name(name);
        core.add_node(model.new_like(unique.clone().into(), dir, core.task.clone()));
        Ok(unique)
    }

    /// Removes a box by name (unlinking it first); what it held is dropped. For boxes made
    /// with [`add_box_like`](Self::add_box_like); typed boxes are better removed with
    /// [`delete_inbox`](Self::delete_inbox), which returns their messages. True if it existed.
    pub fn delete_box(&self, name: &str) -> bool {
        let core = self.core();
        let Some(node) = core.find_box(name) else { return false };
        node.clone().isolate_dyn();
        lock(&core.boxes).retain(|b| !Arc::ptr_eq(b, &node));
        true
    }

    fn add_node<T: Send + 'static>(&self, name: &str, dir: Direction) -> Arc<Node<T>> {
        let core = self.core();
        let unique = core.unique_name(name);
        let node = Arc::new(Node::new(unique.into(), dir, core.task.clone(), None));
        core.add_node(node.clone());
        node
    }

    /// Removes a box added at run time (or declared), unlinking it first, and returns the
    /// messages it still held, so nothing is lost silently.
    pub fn delete_inbox<T: Send + 'static>(&self, inbox: Inbox<T>) -> Vec<T> {
        self.remove_node(inbox.node())
    }

    /// Removes an outbox, unlinking it first; returns what it still held (sent while unlinked).
    pub fn delete_outbox<T: Send + 'static>(&self, outbox: Outbox<T>) -> Vec<T> {
        self.remove_node(outbox.node())
    }

    fn remove_node<T: Send + 'static>(&self, node: &Arc<Node<T>>) -> Vec<T> {
        node.clone().isolate_dyn();
        let core = self.core();
        lock(&core.boxes).retain(|b| !std::ptr::addr_eq(Arc::as_ptr(b), Arc::as_ptr(node)));
        node.drain_all()
    }
}

/// The context of a threaded component's body: everything [`Ctx`] offers (through
/// `Deref`), plus blocking waits.
pub struct ThreadCtx {
    ctx: Ctx,
    parker: Arc<Parker>,
}

impl std::ops::Deref for ThreadCtx {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

impl ThreadCtx {
    pub(crate) fn new(core: &Arc<ComponentCore>) -> Self {
        let parker = core.task.parker.get().expect("threaded components have a parker").clone();
        ThreadCtx { ctx: Ctx { core: Arc::downgrade(core) }, parker }
    }

    /// Blocks until something wakes this component (a delivery into any of its inboxes, the
    /// collection of something it sent into a full box, a child's end, an explicit wake), or
    /// until `timeout`. Returns false on timeout. Axon's threaded `pause(timeout)`.
    ///
    /// A wake that happened since the last `pause` returned counts, so the usual loop
    /// (check inboxes; if empty, pause) never misses a delivery.
    pub fn pause(&self, timeout: Option<Duration>) -> bool {
        let core = self.ctx.core();
        // NOTIFIED on a threaded task marks "blocked" for introspection only.
        core.task.set_state(task::RUNNING | task::NOTIFIED);
        let seen = self.seen();
        let woke = self.parker.wait_past(seen, timeout.map(|t| Instant::now() + t));
        core.task.set_state(task::RUNNING);
        self.mark_seen();
        woke
    }

    fn seen(&self) -> u64 {
        LAST_SEEN.with(|c| c.get())
    }

    fn mark_seen(&self) {
        let g = self.parker.generation();
        LAST_SEEN.with(|c| c.set(g));
    }
}

thread_local! {
    /// The parker generation a threaded component's thread last returned from `pause` at.
    static LAST_SEEN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}
