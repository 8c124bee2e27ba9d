//! The postoffice: box storage and the linkages between boxes, with chains collapsed.
//!
//! Every box, inbox or outbox, is a [`Node`]: a queue of its own plus at most one outgoing
//! link (`target`) and any number of incoming ones (`sources`). A send goes to the *final*
//! node of the chain starting at the sending box; that node's queue is where the message is
//! stored. An unlinked inbox is its own final node (ordinary delivery); so is an unlinked
//! outbox, which is how an unlinked outbox keeps its messages until it is linked (Axon
//! discards them).
//!
//! Invariants (all changed only while [`TOPOLOGY`] is held):
//! - `target.is_some() == resolved.is_some()`, and a node with a target has an empty queue:
//!   linking moves the queue forward, in order, to the new final node.
//! - Following targets never loops: a link that would close a cycle is refused.
//! - After every link operation, each node's `resolved` is its true final node. Between the
//!   steps of one operation a node's `resolved` may briefly name a node that has itself just
//!   become a forwarder; a sender that meets such a node simply follows it (see [`Node::push`]).
//!   So a send costs the same whatever the chain length: normally one hop.
//! - Lock order is upstream before downstream. Senders lock their own box and then its final
//!   node; link operations lock a source and then its final node. No path locks
//!   downstream-then-upstream, so there is no lock-order deadlock.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::task::Waker;

use crate::ComponentId;
use crate::loom::parking_lot::Mutex;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::scheduler::Task;

/// Serialises structural changes (link, unlink) across the whole process. They are rare;
/// sends and receives never take this lock.
#[cfg(not(loom))]
static TOPOLOGY: Mutex<()> = Mutex::new(());

// Under loom a lock must be made inside each model execution: a lazy static is, afresh.
#[cfg(loom)]
::loom::lazy_static! {
    static ref TOPOLOGY: Mutex<()> = Mutex::new(());
}

/// Which way a box faces.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Messages arrive here.
    Inbox,
    /// Messages leave from here.
    Outbox,
}

/// A box's name: declared names are usually literals, so they cost no allocation.
pub(crate) type Name = Cow<'static, str>;

/// Unbounded capacity.
const UNBOUNDED: usize = usize::MAX;

pub(crate) struct Node<T> {
    pub(crate) name: Name,
    pub(crate) dir: Direction,
    /// Mirrors `!inner.buf.is_empty()`, written under the lock, read without it: a receive
    /// from an empty box (the common case for `control`, checked before every message) then
    /// takes no lock. A push racing with that read is not lost: it wakes the owner after.
    nonempty: AtomicBool,
    pub(crate) owner: Arc<Task>,
    inner: Mutex<NodeInner<T>>,
}

struct NodeInner<T> {
    buf: VecDeque<T>,
    /// Applies only while this node is a final node (Axon: a limit mid-chain is inert).
    capacity: usize,
    /// The final node sends go to; `None` means this node is final.
    resolved: Option<Arc<Node<T>>>,
    /// Messages ever stored in this node's own queue.
    through: u64,
    /// Rarely used, so kept out of line to keep idle boxes small.
    links: Option<Box<Links<T>>>,
}

/// The parts of a box that most boxes never use, kept out of line so an idle box stays small.
struct Links<T> {
    /// Senders waiting for space in this node's queue.
    space_waiters: Vec<Waker>,
    target: Option<Arc<Node<T>>>,
    /// Identifies the current outgoing link, so a stale [`crate::Linkage`] handle (one whose
    /// link was removed and remade between the same boxes) cannot remove the new one.
    link_id: u64,
    sources: Vec<Weak<Node<T>>>,
}

/// A send refused because the final node is full. Carries the message back, and where it
/// was refused (for deadlock reports).
pub(crate) struct Refused<T> {
    pub(crate) msg: T,
    pub(crate) at: (ComponentId, Name),
}

impl<T> NodeInner<T> {
    fn links_mut(&mut self) -> &mut Links<T> {
        self.links.get_or_insert_with(|| {
            Box::new(Links { space_waiters: Vec::new(), target: None, link_id: 0, sources: Vec::new() })
        })
    }
    fn target(&self) -> Option<&Arc<Node<T>>> {
        self.links.as_ref().and_then(|l| l.target.as_ref())
    }
    fn take_waiters(&mut self) -> Vec<Waker> {
        self.links.as_mut().map(|l| std::mem::take(&mut l.space_waiters)).unwrap_or_default()
    }
    fn has_waiters(&self) -> bool {
        self.links.as_ref().is_some_and(|l| !l.space_waiters.is_empty())
    }
}

fn wake_all(waiters: Vec<Waker>) {
    for w in waiters {
        w.wake();
    }
}

impl<T: Send + 'static> Node<T> {
    pub(crate) fn new(name: Name, dir: Direction, owner: Arc<Task>, capacity: Option<usize>) -> Self {
        Node {
            name,
            dir,
            nonempty: AtomicBool::new(false),
            owner,
            inner: Mutex::new(NodeInner {
                buf: VecDeque::new(),
                capacity: capacity.unwrap_or(UNBOUNDED),
                resolved: None,
                through: 0,
                links: None,
            }),
        }
    }

    /// Stores `msg` in this node's own queue if there is room; the caller holds its lock and
    /// has checked that this node is final. Registers `waker` for space if there is none.
    fn store(&self, g: &mut NodeInner<T>, msg: T, waker: Option<&Waker>) -> Result<(), Refused<T>> {
        if g.buf.len() >= g.capacity {
            if let Some(w) = waker {
                let waiters = &mut g.links_mut().space_waiters;
                if !waiters.iter().any(|x| x.will_wake(w)) {
                    waiters.push(w.clone());
                }
            }
            return Err(Refused { msg, at: (self.owner.id, self.name.clone()) });
        }
        g.buf.push_back(msg);
        self.nonempty.store(true, Ordering::Release);
        g.through += 1;
        Ok(())
    }

    /// Delivers `msg` along the chain that starts at this node.
    ///
    /// Wakes the final inbox's owner on success (only the final destination is woken). When
    /// the final node is full, hands the message back and, if given a waker, registers it to
    /// be woken when space appears (a receive, a capacity change, or a relink).
    pub(crate) fn push(&self, msg: T, waker: Option<&Waker>) -> Result<(), Refused<T>> {
        let mut g = self.inner.lock();
        let next = match g.resolved.as_ref() {
            None => {
                self.store(&mut g, msg, waker)?;
                drop(g);
                if self.dir == Direction::Inbox {
                    self.owner.wake();
                }
                return Ok(());
            }
            Some(first) => {
                // The common case: one hop, holding our own lock so no relink can slip
                // between reading `resolved` and storing.
                let mut g1 = first.inner.lock();
                if g1.resolved.is_none() {
                    first.store(&mut g1, msg, waker)?;
                    drop(g1);
                    if first.dir == Direction::Inbox {
                        first.owner.wake();
                    }
                    return Ok(());
                }
                // `first` became a forwarder in the middle of a relink: follow it.
                g1.resolved.clone()
            }
        };
        drop(g);
        let mut node = next.expect("a forwarder always has a resolved node");
        loop {
            let mut gn = node.inner.lock();
            match gn.resolved.clone() {
                None => {
                    node.store(&mut gn, msg, waker)?;
                    drop(gn);
                    if node.dir == Direction::Inbox {
                        node.owner.wake();
                    }
                    return Ok(());
                }
                Some(n) => {
                    drop(gn);
                    node = n;
                }
            }
        }
    }

    /// Called by a receive about to wait on this (empty) box: only the owner is woken by a
    /// delivery, so a wait by any other component would never end. Fails loudly instead,
    /// naming both (an `Inbox` is `Send`, so it can be moved into another body by mistake).
    pub(crate) fn check_owner_waits(&self) {
        if let Some(waiter) = crate::task::polling() {
            if waiter != self.owner.id {
                let owner =
                    self.owner.core.upgrade().map_or_else(|| self.owner.id.to_string(), |c| c.name().to_string());
                panic!(
                    "inbox {:?} of component {owner} is awaited by another component (id {waiter}): a delivery \
                     wakes only the component that declared the box, so this wait would never end; \
                     link the box to an inbox of the waiting component instead of moving the Inbox",
                    &*self.name
                );
            }
        }
    }

    /// Takes the oldest message in this node's own queue, waking senders waiting for space.
    pub(crate) fn pop(&self) -> Option<T> {
        if !self.nonempty.load(Ordering::Acquire) {
            return None;
        }
        let mut g = self.inner.lock();
        let msg = g.buf.pop_front()?;
        if g.buf.is_empty() {
            self.nonempty.store(false, Ordering::Release);
        }
        if !g.has_waiters() {
            return Some(msg);
        }
        let waiters = g.take_waiters();
        drop(g);
        wake_all(waiters);
        Some(msg)
    }

    /// Messages in this node's own queue (Axon's `dataReady`, which counts local storage only).
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().buf.len()
    }

    /// Messages waiting where a send from this node would land: the final node's queue.
    pub(crate) fn final_len(&self) -> usize {
        let g = self.inner.lock();
        match g.resolved.as_ref() {
            None => g.buf.len(),
            Some(f) => f.len(),
        }
    }

    pub(crate) fn is_linked(&self) -> bool {
        self.inner.lock().resolved.is_some()
    }

    /// Removes and returns everything in this node's own queue.
    pub(crate) fn drain_all(&self) -> Vec<T> {
        let mut g = self.inner.lock();
        let out: Vec<T> = g.buf.drain(..).collect();
        self.nonempty.store(false, Ordering::Release);
        let waiters = g.take_waiters();
        drop(g);
        wake_all(waiters);
        out
    }

    fn final_node(node: &Arc<Node<T>>) -> Arc<Node<T>> {
        let mut cur = node.clone();
        loop {
            let next = cur.inner.lock().target().cloned();
            match next {
                Some(n) => cur = n,
                None => return cur,
            }
        }
    }

    /// Every node upstream of `node` (its sources, their sources, ...), alive ones only.
    fn upstream(node: &Arc<Node<T>>) -> Vec<Arc<Node<T>>> {
        let mut out = Vec::new();
        let mut stack = vec![node.clone()];
        while let Some(n) = stack.pop() {
            let g = n.inner.lock();
            if let Some(l) = g.links.as_ref() {
                for s in l.sources.iter().filter_map(Weak::upgrade) {
                    out.push(s.clone());
                    stack.push(s);
                }
            }
        }
        out
    }

    /// Links `src -> dst` and returns the new link's id. The caller holds [`TOPOLOGY`].
    fn link_locked(src: &Arc<Node<T>>, dst: &Arc<Node<T>>) -> Result<u64, LinkFault> {
        if let Some(t) = src.inner.lock().target() {
            let owner = t.owner.core.upgrade().map_or_else(|| t.owner.id.to_string(), |c| c.name().to_string());
            return Err(LinkFault::AlreadyLinked { existing: format!("{owner}.{}", t.name) });
        }
        // A link that would close a loop of targets would make sends chase their own tail.
        let mut cur = Some(dst.clone());
        while let Some(n) = cur {
            if Arc::ptr_eq(&n, src) {
                return Err(LinkFault::Cycle);
            }
            cur = n.inner.lock().target().cloned();
        }
        let fin = Self::final_node(dst);
        let link_id = crate::component::next_id();
        let (moved, waiters) = {
            let mut gs = src.inner.lock();
            let mut gf = fin.inner.lock();
            let moved = gs.buf.len();
            // Moved messages are never refused: a destination may briefly exceed its
            // capacity rather than lose or strand them; senders wait until it drains.
            let buf = std::mem::take(&mut gs.buf);
            src.nonempty.store(false, Ordering::Release);
            gf.through += moved as u64;
            gf.buf.extend(buf);
            if moved > 0 {
                fin.nonempty.store(true, Ordering::Release);
            }
            gs.resolved = Some(fin.clone());
            let links = gs.links_mut();
            links.target = Some(dst.clone());
            links.link_id = link_id;
            (moved, gs.take_waiters())
        };
        dst.inner.lock().links_mut().sources.push(Arc::downgrade(src));
        for u in Self::upstream(src) {
            u.inner.lock().resolved = Some(fin.clone());
        }
        // Senders that were waiting for space in `src` now send to `fin`: let them retry.
        wake_all(waiters);
        if moved > 0 && fin.dir == Direction::Inbox {
            fin.owner.wake();
        }
        Ok(link_id)
    }

    /// Removes `src`'s outgoing link, if any. The caller holds [`TOPOLOGY`].
    /// Messages already delivered stay where they are.
    fn unlink_locked(src: &Arc<Node<T>>) {
        let dst = {
            let mut g = src.inner.lock();
            g.resolved = None;
            match g.links.as_mut().and_then(|l| l.target.take()) {
                Some(d) => d,
                None => return,
            }
        };
        {
            let mut gd = dst.inner.lock();
            if let Some(l) = gd.links.as_mut() {
                l.sources.retain(|w| w.upgrade().is_some_and(|s| !Arc::ptr_eq(&s, src)));
            }
        }
        for u in Self::upstream(src) {
            u.inner.lock().resolved = Some(src.clone());
        }
        // Senders upstream that waited for space at the old destination now send to `src`.
        let fin = Self::final_node(&dst);
        let waiters = fin.inner.lock().take_waiters();
        wake_all(waiters);
    }

    /// Removes every link into or out of this node. The caller holds [`TOPOLOGY`].
    fn isolate_locked(node: &Arc<Node<T>>) {
        Self::unlink_locked(node);
        let sources: Vec<Arc<Node<T>>> = node
            .inner
            .lock()
            .links
            .as_ref()
            .map(|l| l.sources.iter().filter_map(Weak::upgrade).collect())
            .unwrap_or_default();
        for s in sources {
            Self::unlink_locked(&s);
        }
    }
}

/// Why a link could not be made, before the names are attached (see [`crate::LinkError`]).
#[derive(Debug)]
pub(crate) enum LinkFault {
    AlreadyLinked { existing: String },
    Cycle,
    TypeMismatch,
}

/// A snapshot of one box's counters, for introspection.
pub(crate) struct NodeStats {
    pub(crate) len: usize,
    pub(crate) capacity: Option<usize>,
    pub(crate) through: u64,
    pub(crate) target: Option<(ComponentId, Name, Direction)>,
}

/// A box with its message type erased, so chassis can link boxes by name.
pub(crate) trait AnyNode: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn direction(&self) -> Direction;
    fn owner(&self) -> &Arc<Task>;
    fn msg_type_id(&self) -> TypeId;
    fn msg_type_name(&self) -> &'static str;
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
    /// Links `self -> dst`, returning the link's id; `dst` must carry the same message type.
    /// `capacity`, if given, is set on `dst` once the link is made.
    fn link_dyn(self: Arc<Self>, dst: Arc<dyn AnyNode>, capacity: Option<usize>) -> Result<u64, LinkFault>;
    /// Removes this node's outgoing link if it is still link `link_id`; true if it did.
    fn unlink_if(self: Arc<Self>, link_id: u64) -> bool;
    /// Removes this node's outgoing link, whoever made it; true if there was one.
    fn unlink_out(self: Arc<Self>) -> bool;
    /// Removes every link into or out of this node.
    fn isolate_dyn(self: Arc<Self>);
    fn stats(&self) -> NodeStats;
    fn set_capacity(&self, capacity: Option<usize>);
    fn sources_dyn(&self) -> Vec<Arc<dyn AnyNode>>;
    /// A new, empty, unlinked node carrying the same message type.
    fn new_like(&self, name: Name, dir: Direction, owner: Arc<Task>) -> Arc<dyn AnyNode>;
    /// The component owning this node's link target, if linked.
    fn target_owner(&self) -> Option<Arc<crate::component::ComponentCore>>;
}

impl<T: Send + 'static> AnyNode for Node<T> {
    fn name(&self) -> &str {
        &self.name
    }
    fn direction(&self) -> Direction {
        self.dir
    }
    fn owner(&self) -> &Arc<Task> {
        &self.owner
    }
    fn msg_type_id(&self) -> TypeId {
        TypeId::of::<T>()
    }
    fn msg_type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
    fn link_dyn(self: Arc<Self>, dst: Arc<dyn AnyNode>, capacity: Option<usize>) -> Result<u64, LinkFault> {
        let dst = dst.into_any().downcast::<Node<T>>().map_err(|_| LinkFault::TypeMismatch)?;
        let _t = TOPOLOGY.lock();
        let id = Self::link_locked(&self, &dst)?;
        if capacity.is_some() {
            dst.set_capacity(capacity);
        }
        Ok(id)
    }
    fn unlink_if(self: Arc<Self>, link_id: u64) -> bool {
        let _t = TOPOLOGY.lock();
        let current = self.inner.lock().links.as_ref().is_some_and(|l| l.target.is_some() && l.link_id == link_id);
        if current {
            Self::unlink_locked(&self);
        }
        current
    }
    fn unlink_out(self: Arc<Self>) -> bool {
        let _t = TOPOLOGY.lock();
        let linked = self.inner.lock().target().is_some();
        if linked {
            Self::unlink_locked(&self);
        }
        linked
    }
    fn isolate_dyn(self: Arc<Self>) {
        let _t = TOPOLOGY.lock();
        Self::isolate_locked(&self);
    }
    fn stats(&self) -> NodeStats {
        let g = self.inner.lock();
        NodeStats {
            len: g.buf.len(),
            capacity: (g.capacity != UNBOUNDED).then_some(g.capacity),
            through: g.through,
            target: g.target().map(|t| (t.owner.id, t.name.clone(), t.dir)),
        }
    }
    fn set_capacity(&self, capacity: Option<usize>) {
        let mut g = self.inner.lock();
        g.capacity = capacity.unwrap_or(UNBOUNDED);
        let waiters = g.take_waiters();
        drop(g);
        wake_all(waiters);
    }
    fn sources_dyn(&self) -> Vec<Arc<dyn AnyNode>> {
        let g = self.inner.lock();
        g.links
            .as_ref()
            .map(|l| l.sources.iter().filter_map(Weak::upgrade).map(|s| s as Arc<dyn AnyNode>).collect())
            .unwrap_or_default()
    }
    fn new_like(&self, name: Name, dir: Direction, owner: Arc<Task>) -> Arc<dyn AnyNode> {
        Arc::new(Node::<T>::new(name, dir, owner, None))
    }
    fn target_owner(&self) -> Option<Arc<crate::component::ComponentCore>> {
        self.inner.lock().target().and_then(|t| t.owner.core.upgrade())
    }
}

/// Model tests (`cargo xtask loom`): sends racing link and unlink, over every interleaving.
#[cfg(all(test, loom))]
mod loom_model {
    use std::sync::{Arc, Weak};

    use super::{AnyNode, Direction, Node};
    use crate::ComponentId;
    use crate::loom::{model, thread};
    use crate::scheduler::Task;

    /// A box of an unactivated component (its wakes do nothing).
    fn node(name: &'static str, dir: Direction) -> Arc<Node<u32>> {
        let owner = Arc::new(Task::new(ComponentId(1), Weak::new()));
        Arc::new(Node::new(name.into(), dir, owner, None))
    }

    /// A thread sending 1, 2 into `from`.
    fn sender(from: &Arc<Node<u32>>) -> thread::JoinHandle<()> {
        let from = from.clone();
        thread::spawn(move || {
            for m in 1..=2 {
                assert!(from.push(m, None).is_ok(), "an unbounded box refused a message");
            }
        })
    }

    fn link(from: &Arc<Node<u32>>, to: &Arc<Node<u32>>) {
        from.clone().link_dyn(to.clone(), None).expect("the link is valid");
    }

    /// (a) A send racing the link of its outbox: nothing lost or doubled, order kept.
    #[test]
    fn send_racing_link_keeps_every_message_in_order() {
        model(|| {
            let (outbox, inbox) = (node("outbox", Direction::Outbox), node("inbox", Direction::Inbox));
            let s = sender(&outbox);
            link(&outbox, &inbox);
            s.join().unwrap();
            assert_eq!(outbox.len(), 0, "a linked outbox kept messages");
            assert_eq!(inbox.drain_all(), [1, 2]);
        });
    }

    /// (a) A send into a chain racing a link at its far end: the chain's first box learns its
    /// new final node while the sender may still hold the old one (which has just become a
    /// forwarder, so the send follows it).
    #[test]
    fn send_racing_a_link_downstream_keeps_every_message_in_order() {
        model(|| {
            let outbox = node("outbox", Direction::Outbox);
            let passthrough = node("passthrough", Direction::Outbox);
            let inbox = node("inbox", Direction::Inbox);
            link(&outbox, &passthrough);
            let s = sender(&outbox);
            link(&passthrough, &inbox);
            s.join().unwrap();
            assert_eq!((outbox.len(), passthrough.len()), (0, 0), "a forwarder kept messages");
            assert_eq!(inbox.drain_all(), [1, 2]);
        });
    }

    /// (b) A send racing an unlink and a relink elsewhere: what was delivered before the
    /// unlink stays in the old inbox, the rest waits in the outbox and moves to the new
    /// one; nothing lost or doubled, order kept.
    #[test]
    fn send_racing_unlink_and_relink_keeps_every_message_once() {
        model(|| {
            let outbox = node("outbox", Direction::Outbox);
            let (old, new) = (node("old", Direction::Inbox), node("new", Direction::Inbox));
            link(&outbox, &old);
            let s = sender(&outbox);
            assert!(outbox.clone().unlink_out());
            link(&outbox, &new);
            s.join().unwrap();
            assert_eq!(outbox.len(), 0, "a linked outbox kept messages");
            let got: Vec<u32> = old.drain_all().into_iter().chain(new.drain_all()).collect();
            assert_eq!(got, [1, 2]);
        });
    }

    /// (b) The same with the unlink one hop downstream of the sender: the upstream box's
    /// final node moves back to the unlinked box, then on to the new inbox.
    #[test]
    fn send_racing_an_unlink_downstream_keeps_every_message_once() {
        model(|| {
            let outbox = node("outbox", Direction::Outbox);
            let passthrough = node("passthrough", Direction::Outbox);
            let (old, new) = (node("old", Direction::Inbox), node("new", Direction::Inbox));
            link(&outbox, &passthrough);
            link(&passthrough, &old);
            let s = sender(&outbox);
            assert!(passthrough.clone().unlink_out());
            link(&passthrough, &new);
            s.join().unwrap();
            assert_eq!((outbox.len(), passthrough.len()), (0, 0), "a forwarder kept messages");
            let got: Vec<u32> = old.drain_all().into_iter().chain(new.drain_all()).collect();
            assert_eq!(got, [1, 2]);
        });
    }
}
