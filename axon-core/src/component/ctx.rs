//! [`Ctx`], what a body uses to reach its own component (children, linkages, dynamic boxes,
//! services), and [`ThreadCtx`], the same for a threaded body plus its blocking wait.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::{Component, ComponentCore};
use crate::boxes::{Inbox, Outbox};
use crate::linkage::{self, LinkError, LinkOptions, Linkage};
use crate::lock;
use crate::park::Parker;
use crate::postoffice::{AnyNode, Direction, Node};
use crate::scheduler::{ActivateError, SchedulerHandle};
use crate::services::Services;

/// What a component's body uses to reach its own component: children, linkages, dynamic
/// boxes, services. Cheap to clone.
#[derive(Clone)]
pub struct Ctx {
    core: Weak<ComponentCore>,
}

impl Ctx {
    /// The context of `core`'s body.
    pub(super) fn of(core: &Arc<ComponentCore>) -> Self {
        Ctx { core: Arc::downgrade(core) }
    }

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
        child.core().rel(|r| r.parent = Some(Arc::downgrade(&core)));
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
        child.core().rel(|rel| {
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
    /// (see [`ComponentBuilder::declare_like`](crate::ComponentBuilder::declare_like)); returns the name it got.
    pub fn add_box_like(&self, name: &str, dir: Direction, like: (&Component, &str)) -> Result<String, LinkError> {
        let model = like.0.core().find_box(like.1).ok_or_else(|| LinkError::no_such_box(like.0, like.1))?;
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
        ThreadCtx { ctx: Ctx::of(core), parker }
    }

    /// Blocks until something wakes this component (a delivery into any of its inboxes, the
    /// collection of something it sent into a full box, a child's end, an explicit wake), or
    /// until `timeout`. Returns false on timeout. Axon's threaded `pause(timeout)`.
    ///
    /// A wake that happened since the last `pause` returned counts, so the usual loop
    /// (check inboxes; if empty, pause) never misses a delivery.
    pub fn pause(&self, timeout: Option<Duration>) -> bool {
        let core = self.ctx.core();
        core.task.transition_to_blocked();
        let seen = self.seen();
        let woke = self.parker.wait_past(seen, timeout.map(|t| Instant::now() + t));
        core.task.transition_to_unblocked();
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
