//! [`ComponentCore`]: what a [`Component`] handle points at (name, boxes, relations, the
//! task cell the scheduler runs, and how the component ended).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use super::{Component, ComponentState, Ctx, ThreadCtx, next_id};
use crate::linkage::{self, Linkage};
use crate::lock;
use crate::postoffice::{AnyNode, Name};
use crate::scheduler::Task;
use crate::task::RunState;

pub(super) const OUTCOME_NONE: u8 = 0;
const OUTCOME_FINISHED: u8 = 1;
const OUTCOME_PANICKED: u8 = 2;

pub(super) type ThreadBody = Box<dyn FnOnce(ThreadCtx) + Send + 'static>;
pub(super) type ActivateHook = Box<dyn FnOnce(&Ctx) -> Result<(), String> + Send + 'static>;

pub(crate) struct ComponentCore {
    pub(crate) id: crate::ComponentId,
    /// What kind of component it is; the name is `<kind>_<id>` unless given.
    pub(super) kind: Cow<'static, str>,
    /// Made on first use: most components are never asked their name.
    pub(super) name: OnceLock<Box<str>>,
    pub(crate) task: Arc<Task>,
    /// Declared boxes, in declaration order.
    pub(super) boxes: Mutex<Vec<Arc<dyn AnyNode>>>,
    /// Parent, children and postoffice: out of line, as most components have none.
    pub(super) rel: Mutex<Option<Box<Relations>>>,
    pub(super) thread_body: Mutex<Option<ThreadBody>>,
    /// The box this component is waiting to send into (for deadlock reports).
    pub(crate) waiting_for: Mutex<Option<Box<(crate::ComponentId, Name)>>>,
    /// Its slot in its scheduler's registry of live components (see `scheduler::Registry`).
    pub(crate) slot: AtomicUsize,
    pub(super) outcome: AtomicU8,
    pub(super) threaded: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
pub(super) struct Relations {
    pub(super) parent: Option<Weak<ComponentCore>>,
    pub(super) children: Vec<Component>,
    /// Links this component made (Axon's postoffice): removed when it ends.
    pub(super) postoffice: Vec<Linkage>,
    /// Run by `activate`, before the body is queued (see
    /// [`ComponentBuilder::on_activate`](crate::ComponentBuilder::on_activate)).
    pub(super) on_activate: Option<ActivateHook>,
}

impl ComponentCore {
    pub(crate) fn name(&self) -> &str {
        self.name.get_or_init(|| format!("{}_{}", self.kind, self.id).into())
    }

    /// Runs `f` on its relations, creating them on first use.
    pub(super) fn rel<R>(&self, f: impl FnOnce(&mut Relations) -> R) -> R {
        f(lock(&self.rel).get_or_insert_with(Box::default))
    }

    pub(crate) fn find_box(&self, name: &str) -> Option<Arc<dyn AnyNode>> {
        lock(&self.boxes).iter().find(|b| b.name() == name).cloned()
    }

    pub(crate) fn boxes(&self) -> Vec<Arc<dyn AnyNode>> {
        lock(&self.boxes).clone()
    }

    pub(super) fn add_node(&self, node: Arc<dyn AnyNode>) {
        lock(&self.boxes).push(node);
    }

    pub(super) fn unique_name(&self, base: &str) -> String {
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
        let result = hook(&Ctx::of(self));
        if result.is_err() {
            self.task.transition_to_done();
            let body = self.task.take_body();
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
        match self.task.run_state() {
            RunState::Created => ComponentState::Created,
            RunState::Idle => ComponentState::Paused,
            RunState::Scheduled => ComponentState::Runnable,
            RunState::Running => ComponentState::Running,
            // A threaded component counts as paused while blocked in `ThreadCtx::pause`.
            RunState::Blocked => ComponentState::Paused,
            // DONE but on_finish not yet run: report it as finishing.
            RunState::Done => ComponentState::Finished,
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
        let body = self.task.take_body();
        drop(body);
    }
}
