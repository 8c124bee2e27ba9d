//! Components: building one (declare boxes, give a body), handles to one, and the context a
//! body uses to reach its own component (children, links, dynamic boxes).
//!
//! [`Component`] (the handle), ids and states are here; the shared core behind a handle is
//! in `core`, [`ComponentBuilder`] in `builder`, [`Ctx`] and [`ThreadCtx`] in `ctx`.

mod builder;
mod core;
mod ctx;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use builder::{ComponentBuilder, StandardBoxes};
pub(crate) use core::ComponentCore;
pub use ctx::{Ctx, ThreadCtx};

use crate::linkage::LinkError;
use crate::postoffice::{Direction, Node};
use crate::scheduler::SchedulerHandle;

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
    /// are. A [`Linkage`](crate::Linkage) handle from that link becomes stale (unlinking it is a no-op).
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
        self.core.task.scheduler().map(|s| SchedulerHandle { shared: s.clone() })
    }

    /// Wakes it, as a delivery would (Axon's `unpause`). Ignored before activation and after
    /// it finished.
    pub fn wake(&self) {
        self.core.task.wake();
    }
}
