//! Introspection: a snapshot of a running system (components, boxes, links) and its exports:
//! Axon's Introspector text protocol (so the original AxonVisualiser can draw a Rust system),
//! JSON, Graphviz DOT; and deadlock detection.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::fmt::{self, Write as _};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::component::{Component, ComponentCore, ComponentState};

use crate::linkage::LinkKind;
use crate::postoffice::Direction;
use crate::scheduler::SchedulerHandle;
use crate::{ComponentId, lock};

/// A box, named by its owner and its name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BoxAddr {
    /// The owning component.
    pub component: ComponentId,
    /// The box's name.
    pub name: String,
}

/// One box, as seen in a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoxInfo {
    /// Its name.
    pub name: String,
    /// Inbox or outbox.
    pub direction: Direction,
    /// The Rust type of its messages.
    pub msg_type: String,
    /// Messages waiting in its own queue (for an unlinked outbox: kept until it is linked).
    pub len: usize,
    /// Its capacity (`None`: unbounded).
    pub capacity: Option<usize>,
    /// Messages ever stored in its own queue.
    pub through: u64,
}

/// One component, as seen in a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentInfo {
    /// Its id.
    pub id: ComponentId,
    /// Its name.
    pub name: String,
    /// Its parent, if it was added as a child.
    pub parent: Option<ComponentId>,
    /// Where it is in its life.
    pub state: ComponentState,
    /// True if it runs on its own thread.
    pub threaded: bool,
    /// Its boxes, in declaration order.
    pub boxes: Vec<BoxInfo>,
    /// The full box it is waiting to send into, if any.
    pub waiting_for: Option<BoxAddr>,
}

/// One link, as seen in a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LinkInfo {
    /// Where it starts.
    pub source: BoxAddr,
    /// Where it leads.
    pub sink: BoxAddr,
    /// Which kind of link.
    pub kind: LinkKind,
}

/// A picture of a system at one moment: every component a scheduler runs, plus every
/// component reachable from them through links (as Axon's Introspector shows components that
/// are linked but not scheduled).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Components, by id.
    pub components: Vec<ComponentInfo>,
    /// Links, sorted.
    pub links: Vec<LinkInfo>,
}

/// A cycle of components each waiting to send into a full box owned by the next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlock {
    /// `(component name, the box it waits on)` in cycle order.
    pub cycle: Vec<(String, BoxAddr)>,
}

impl fmt::Display for Deadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadlock:")?;
        for (i, (name, addr)) in self.cycle.iter().enumerate() {
            let next = &self.cycle[(i + 1) % self.cycle.len()].0;
            write!(f, " {name} waits to send into {next}.{} (full);", addr.name)?;
        }
        Ok(())
    }
}

impl SchedulerHandle {
    /// A snapshot of this scheduler's system.
    pub fn snapshot(&self) -> Snapshot {
        snapshot_of(self.components())
    }

    /// Cycles of components blocked sending into each other's full boxes.
    pub fn detect_deadlocks(&self) -> Vec<Deadlock> {
        self.snapshot().deadlocks()
    }
}

fn info_of(core: &ComponentCore) -> (ComponentInfo, Vec<LinkInfo>, Vec<Arc<ComponentCore>>) {
    let mut boxes = Vec::new();
    let mut links = Vec::new();
    let mut neighbours = Vec::new();
    for node in core.boxes() {
        let st = node.stats();
        boxes.push(BoxInfo {
            name: node.name().to_string(),
            direction: node.direction(),
            msg_type: node.msg_type_name().to_string(),
            len: st.len,
            capacity: st.capacity,
            through: st.through,
        });
        if let Some((owner, name, dir)) = st.target {
            let kind = match (node.direction(), dir) {
                (Direction::Inbox, _) => LinkKind::InboxPassthrough,
                (Direction::Outbox, Direction::Inbox) => LinkKind::Normal,
                (Direction::Outbox, Direction::Outbox) => LinkKind::OutboxPassthrough,
            };
            links.push(LinkInfo {
                source: BoxAddr { component: core.id, name: node.name().to_string() },
                sink: BoxAddr { component: owner, name: name.to_string() },
                kind,
            });
        }
        for s in node.sources_dyn() {
            if let Some(c) = s.owner().core.upgrade() {
                neighbours.push(c);
            }
        }
        if let Some(t) = node.target_owner() {
            neighbours.push(t);
        }
    }
    let info = ComponentInfo {
        id: core.id,
        name: core.name().to_string(),
        parent: core.parent().map(|p| p.id),
        state: core.state(),
        threaded: core.is_threaded(),
        boxes,
        waiting_for: lock(&core.waiting_for).as_ref().map(|w| BoxAddr { component: w.0, name: w.1.to_string() }),
    };
    (info, links, neighbours)
}

fn snapshot_of(roots: Vec<Component>) -> Snapshot {
    let mut seen: HashSet<ComponentId> = HashSet::new();
    let mut queue: VecDeque<Arc<ComponentCore>> = roots.iter().map(|c| c.core().clone()).collect();
    let mut components = BTreeMap::new();
    let mut links = BTreeSet::new();
    while let Some(core) = queue.pop_front() {
        if !seen.insert(core.id) {
            continue;
        }
        let (info, ls, neighbours) = info_of(&core);
        queue.extend(neighbours);
        components.insert(info.id, info);
        links.extend(ls);
    }
    // A box can outlive its component (a Handle's inbox, say, still linked from a live
    // outbox): a link to or from a component that is gone names nothing the snapshot shows,
    // so it is left out rather than exported dangling.
    let links = links
        .into_iter()
        .filter(|l| components.contains_key(&l.source.component) && components.contains_key(&l.sink.component))
        .collect();
    Snapshot { components: components.into_values().collect(), links }
}

/// Python's `repr` of a string, as Axon's Introspector prints box names inside node ids.
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Quotes a token for the visualiser's tokeniser (`lines_to_tokenlists`): double quotes,
/// with backslash escapes for quotes and backslashes inside, control characters as spaces.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        // The protocol is line-based: a newline (or any control character) inside a name
        // would split a command, so it becomes a space.
        out.push(if ch.is_control() { ' ' } else { ch });
    }
    out.push('"');
    out
}

fn box_node_id(component: ComponentId, dir: Direction, name: &str) -> String {
    let d = match dir {
        Direction::Inbox => 'i',
        Direction::Outbox => 'o',
    };
    format!("({component}, '{d}', {})", py_repr(name))
}

/// The visualiser's view: nodes `(id, label, kind)` and links `(from, to)`.
type Topology = (BTreeMap<String, (String, &'static str)>, BTreeSet<(String, String)>);

impl Snapshot {
    fn direction_of(&self, addr: &BoxAddr) -> Direction {
        self.components
            .iter()
            .find(|c| c.id == addr.component)
            .and_then(|c| c.boxes.iter().find(|b| b.name == addr.name))
            .map_or(Direction::Inbox, |b| b.direction)
    }

    fn topology(&self) -> Topology {
        let mut nodes = BTreeMap::new();
        let mut links = BTreeSet::new();
        for c in &self.components {
            let cid = c.id.to_string();
            nodes.insert(cid.clone(), (c.name.clone(), "component"));
            for b in &c.boxes {
                let bid = box_node_id(c.id, b.direction, &b.name);
                let kind = match b.direction {
                    Direction::Inbox => "inbox",
                    Direction::Outbox => "outbox",
                };
                nodes.insert(bid.clone(), (b.name.clone(), kind));
                links.insert((cid.clone(), bid));
            }
        }
        for l in &self.links {
            let from = box_node_id(l.source.component, self.direction_of(&l.source), &l.source.name);
            let to = box_node_id(l.sink.component, self.direction_of(&l.sink), &l.sink.name);
            links.insert((from, to));
        }
        (nodes, links)
    }

    /// The whole system in Axon's Introspector protocol: `DEL ALL`, then `ADD NODE` and
    /// `ADD LINK` lines, each ending in a newline.
    pub fn to_introspector(&self) -> String {
        let mut out = String::from("DEL ALL\n");
        out.push_str(&self.introspector_diff(&Snapshot::default()));
        out
    }

    /// What changed since `previous`, in Axon's Introspector protocol and order: every
    /// `DEL LINK`, then `DEL NODE`, then `ADD NODE`, then `ADD LINK`. Empty if nothing changed.
    pub fn introspector_diff(&self, previous: &Snapshot) -> String {
        let (old_nodes, old_links) = previous.topology();
        let (new_nodes, new_links) = self.topology();
        let mut out = String::new();
        for (a, b) in old_links.difference(&new_links) {
            let _ = writeln!(out, "DEL LINK {} {}", quote(a), quote(b));
        }
        for id in old_nodes.keys().filter(|k| !new_nodes.contains_key(*k)) {
            let _ = writeln!(out, "DEL NODE {}", quote(id));
        }
        for (id, (label, kind)) in &new_nodes {
            if old_nodes.get(id) != Some(&(label.clone(), kind)) {
                if old_nodes.contains_key(id) {
                    let _ = writeln!(out, "DEL NODE {}", quote(id));
                }
                let _ = writeln!(out, "ADD NODE {} {} randompos {kind}", quote(id), quote(label));
            }
        }
        for (a, b) in new_links.difference(&old_links) {
            let _ = writeln!(out, "ADD LINK {} {}", quote(a), quote(b));
        }
        out
    }

    /// The snapshot as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a snapshot always serialises")
    }

    /// The snapshot as a Graphviz DOT graph: one cluster per component holding its boxes
    /// (with length/capacity and messages through), one edge per link.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph axon {\n  rankdir=LR;\n  node [fontsize=10];\n");
        let dot_id = |c: ComponentId, dir: Direction, n: &str| {
            quote(&format!("{c}:{}:{n}", if dir == Direction::Inbox { "i" } else { "o" }))
        };
        for c in &self.components {
            let state = serde_json::to_value(c.state).ok().and_then(|v| v.as_str().map(String::from));
            let _ = writeln!(out, "  subgraph {} {{", quote(&format!("cluster_{}", c.id)));
            let _ = writeln!(out, "    label={};", quote(&format!("{} ({})", c.name, state.unwrap_or_default())));
            for b in &c.boxes {
                let cap = b.capacity.map_or_else(|| "inf".to_string(), |n| n.to_string());
                let shape = if b.direction == Direction::Inbox { "invhouse" } else { "house" };
                let label = format!("{}\\n{}/{} through {}", b.name, b.len, cap, b.through);
                let _ = writeln!(
                    out,
                    "    {} [label=\"{}\", shape={shape}];",
                    dot_id(c.id, b.direction, &b.name),
                    label.replace('"', "\\\"")
                );
            }
            out.push_str("  }\n");
        }
        for l in &self.links {
            let style = if l.kind == LinkKind::Normal { "solid" } else { "dashed" };
            let _ = writeln!(
                out,
                "  {} -> {} [style={style}];",
                dot_id(l.source.component, self.direction_of(&l.source), &l.source.name),
                dot_id(l.sink.component, self.direction_of(&l.sink), &l.sink.name)
            );
        }
        out.push_str("}\n");
        out
    }

    /// Cycles of components each waiting to send into a full box owned by the next one.
    pub fn deadlocks(&self) -> Vec<Deadlock> {
        let waits: BTreeMap<ComponentId, &BoxAddr> = self
            .components
            .iter()
            .filter(|c| c.state == ComponentState::Paused || c.threaded)
            .filter_map(|c| c.waiting_for.as_ref().map(|w| (c.id, w)))
            .collect();
        let name = |id: ComponentId| {
            self.components.iter().find(|c| c.id == id).map_or_else(|| id.to_string(), |c| c.name.clone())
        };
        let mut reported: HashSet<ComponentId> = HashSet::new();
        let mut out = Vec::new();
        for &start in waits.keys() {
            let mut path: Vec<ComponentId> = Vec::new();
            let mut cur = start;
            while let Some(w) = waits.get(&cur) {
                if let Some(pos) = path.iter().position(|&p| p == cur) {
                    let cycle = &path[pos..];
                    if cycle.iter().all(|c| !reported.contains(c)) {
                        reported.extend(cycle.iter().copied());
                        let mut ids: Vec<ComponentId> = cycle.to_vec();
                        let min = ids.iter().enumerate().min_by_key(|(_, id)| **id).map_or(0, |(i, _)| i);
                        ids.rotate_left(min);
                        out.push(Deadlock { cycle: ids.iter().map(|id| (name(*id), waits[id].clone())).collect() });
                    }
                    break;
                }
                path.push(cur);
                cur = w.component;
            }
        }
        out
    }
}
