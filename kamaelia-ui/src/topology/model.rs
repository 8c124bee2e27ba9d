//! The topology model: nodes and links as the visualiser protocol's commands build them
//! (reference §1.15), kept apart per sending system, with JSON and DOT exports.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

/// Which system a node belongs to: each introspecting system (each TCP connection to a
/// visualiser) has its own namespace of node ids, so two systems that both call a node `"5"`
/// never collide.
pub type SourceId = u64;

/// A node's full name: its system and its id within that system.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeKey {
    /// The system it came from.
    pub source: SourceId,
    /// Its id, as the system sent it.
    pub id: String,
}

impl NodeKey {
    /// A key.
    pub fn new(source: SourceId, id: impl Into<String>) -> Self {
        NodeKey { source, id: id.into() }
    }
}

impl fmt::Display for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.id)
    }
}

/// What a node stands for (the protocol's particle type).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A component (`component`).
    Component,
    /// An inbox (`inbox`).
    Inbox,
    /// An outbox (`outbox`).
    Outbox,
    /// Any other type name (a plain topology, not an Axon system): drawn as a plain node.
    Other(String),
}

impl NodeKind {
    /// The kind a protocol type name means.
    pub fn parse(s: &str) -> NodeKind {
        match s {
            "component" => NodeKind::Component,
            "inbox" => NodeKind::Inbox,
            "outbox" => NodeKind::Outbox,
            other => NodeKind::Other(other.to_string()),
        }
    }

    /// Its protocol type name.
    pub fn as_str(&self) -> &str {
        match self {
            NodeKind::Component => "component",
            NodeKind::Inbox => "inbox",
            NodeKind::Outbox => "outbox",
            NodeKind::Other(s) => s,
        }
    }

    /// True for an inbox or an outbox.
    pub fn is_box(&self) -> bool {
        matches!(self, NodeKind::Inbox | NodeKind::Outbox)
    }
}

/// Where a new node should appear (the protocol's position spec).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PositionSpec {
    /// Wherever the layout likes (`randompos`, `auto` or `random`).
    Auto,
    /// At this point (`x,y`).
    At(i32, i32),
}

impl PositionSpec {
    /// Parses `randompos`, `auto`, `random` (any case) or `x,y` (integers, optionally signed).
    pub fn parse(s: &str) -> Option<PositionSpec> {
        let lower = s.to_ascii_lowercase();
        if matches!(lower.as_str(), "randompos" | "auto" | "random") {
            return Some(PositionSpec::Auto);
        }
        let (x, y) = s.split_once(',')?;
        Some(PositionSpec::At(x.parse().ok()?, y.parse().ok()?))
    }
}

impl fmt::Display for PositionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PositionSpec::Auto => f.write_str("randompos"),
            PositionSpec::At(x, y) => write!(f, "{x},{y}"),
        }
    }
}

/// One node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Its label (a component's name, a box's name).
    pub name: String,
    /// What it stands for.
    pub kind: NodeKind,
    /// Where it asked to appear.
    pub position: PositionSpec,
}

/// One command of the visualiser protocol, parsed from its tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `ADD NODE id name posSpec type`: adds a node (or replaces the name and type of an
    /// existing one, keeping its links and place).
    AddNode {
        /// Its id.
        id: String,
        /// Its label.
        name: String,
        /// Where it should appear.
        position: PositionSpec,
        /// What it stands for.
        kind: NodeKind,
    },
    /// `DEL NODE id`: removes a node and every link to or from it.
    DelNode {
        /// Its id.
        id: String,
    },
    /// `ADD LINK from to`: links two existing nodes.
    AddLink {
        /// One end.
        from: String,
        /// The other end.
        to: String,
    },
    /// `DEL LINK from to`: removes a link.
    DelLink {
        /// One end.
        from: String,
        /// The other end.
        to: String,
    },
    /// `DEL ALL`: removes every node and link (of the system that sent it).
    DelAll,
    /// `UPDATE_NAME NODE id name`: relabels a node.
    UpdateName {
        /// Its id.
        id: String,
        /// Its new label.
        name: String,
    },
    /// `FREEZE ALL`: the layout stops moving nodes.
    Freeze,
    /// `UNFREEZE ALL`: the layout moves nodes again.
    Unfreeze,
}

/// Quotes a token as the protocol's tokeniser reads it back.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A token as it is if the tokeniser reads it back unchanged, else quoted.
fn bare(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with(['"', '\''])
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\');
    if plain { s.to_string() } else { quote(s) }
}

impl fmt::Display for Command {
    /// The command as one protocol line, without its newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::AddNode { id, name, position, kind } => {
                write!(f, "ADD NODE {} {} {position} {}", quote(id), quote(name), bare(kind.as_str()))
            }
            Command::DelNode { id } => write!(f, "DEL NODE {}", quote(id)),
            Command::AddLink { from, to } => write!(f, "ADD LINK {} {}", quote(from), quote(to)),
            Command::DelLink { from, to } => write!(f, "DEL LINK {} {}", quote(from), quote(to)),
            Command::DelAll => f.write_str("DEL ALL"),
            Command::UpdateName { id, name } => write!(f, "UPDATE_NAME NODE {} {}", quote(id), quote(name)),
            Command::Freeze => f.write_str("FREEZE ALL"),
            Command::Unfreeze => f.write_str("UNFREEZE ALL"),
        }
    }
}

/// A command that could not be parsed or applied: the tokens and why. The model is left as
/// it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandError {
    /// The command's tokens.
    pub tokens: Vec<String>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad command {:?}: {}", self.tokens, self.reason)
    }
}

impl std::error::Error for CommandError {}

impl Command {
    /// Parses one command from its tokens (as `lines_to_tokenlists` splits a line). The
    /// first two tokens are matched without regard to case, as the original viewer does.
    ///
    /// # Errors
    /// An unknown command, or the wrong number of arguments, or a bad position spec.
    pub fn parse<S: AsRef<str>>(tokens: &[S]) -> Result<Command, CommandError> {
        let t: Vec<&str> = tokens.iter().map(AsRef::as_ref).collect();
        let fail = |reason: String| CommandError { tokens: t.iter().map(|s| s.to_string()).collect(), reason };
        if t.len() < 2 {
            return Err(fail("a command has at least two words (ADD NODE, DEL ALL ...)".into()));
        }
        let (verb, noun) = (t[0].to_ascii_uppercase(), t[1].to_ascii_uppercase());
        let want = |n: usize, usage: &str| {
            if t.len() == n {
                Ok(())
            } else {
                Err(fail(format!("expected `{usage}` ({n} words), got {} words", t.len())))
            }
        };
        let own = |i: usize| t[i].to_string();
        match (verb.as_str(), noun.as_str()) {
            ("ADD", "NODE") => {
                want(6, "ADD NODE id name posSpec type")?;
                let position = PositionSpec::parse(t[4])
                    .ok_or_else(|| fail(format!("bad position {:?}: expected randompos, auto or x,y", t[4])))?;
                Ok(Command::AddNode { id: own(2), name: own(3), position, kind: NodeKind::parse(t[5]) })
            }
            ("DEL", "NODE") => want(3, "DEL NODE id").map(|()| Command::DelNode { id: own(2) }),
            ("ADD", "LINK") => want(4, "ADD LINK from to").map(|()| Command::AddLink { from: own(2), to: own(3) }),
            ("DEL", "LINK") => want(4, "DEL LINK from to").map(|()| Command::DelLink { from: own(2), to: own(3) }),
            ("DEL", "ALL") => want(2, "DEL ALL").map(|()| Command::DelAll),
            ("UPDATE_NAME", "NODE") => {
                want(4, "UPDATE_NAME NODE id name").map(|()| Command::UpdateName { id: own(2), name: own(3) })
            }
            ("FREEZE", "ALL") => want(2, "FREEZE ALL").map(|()| Command::Freeze),
            ("UNFREEZE", "ALL") => want(2, "UNFREEZE ALL").map(|()| Command::Unfreeze),
            _ => Err(fail(format!(
                "unknown command {} {}: expected ADD NODE, DEL NODE, ADD LINK, DEL LINK, DEL ALL, \
                 UPDATE_NAME NODE, FREEZE ALL or UNFREEZE ALL",
                t[0], t[1]
            ))),
        }
    }
}

/// What a system sends a visualiser, as the visualiser's connections pass it on: from system
/// `source`, one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologyMessage {
    /// Which system (connection) it came from.
    pub source: SourceId,
    /// What happened.
    pub event: TopologyEvent,
}

/// One event from a system sending its topology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopologyEvent {
    /// A command line, split into tokens.
    Command(Vec<String>),
    /// A line that could not be read (not UTF-8, too long, unbalanced quotes): why. Reported,
    /// and otherwise skipped.
    Error(String),
    /// The system went away (its connection closed): its nodes are removed.
    Closed,
}

/// The topology a visualiser shows: nodes and links, per system.
///
/// Commands are applied with [`apply`](Self::apply) (or [`apply_tokens`](Self::apply_tokens));
/// a command that does not make sense (a link to a node that does not exist, say) is refused
/// with a [`CommandError`] and changes nothing, so a viewer reports it and carries on.
/// [`generation`](Self::generation) counts changes, so a viewer can tell cheaply whether it
/// must redo its layout.
#[derive(Clone, Debug, Default)]
pub struct Topology {
    nodes: BTreeMap<NodeKey, Node>,
    links: BTreeSet<(NodeKey, NodeKey)>,
    frozen: bool,
    generation: u64,
}

impl Topology {
    /// An empty topology.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `tokens` and applies the command, for system `source`.
    ///
    /// # Errors
    /// As [`Command::parse`] and [`apply`](Self::apply).
    pub fn apply_tokens<S: AsRef<str>>(&mut self, source: SourceId, tokens: &[S]) -> Result<bool, CommandError> {
        let cmd = Command::parse(tokens)?;
        self.apply(source, &cmd)
    }

    /// Applies a command from system `source`; true if anything changed.
    ///
    /// # Errors
    /// `DEL NODE`, `UPDATE_NAME` or `ADD LINK` naming a node that does not exist, a link from
    /// a node to itself, or `DEL LINK` naming a link that does not exist.
    pub fn apply(&mut self, source: SourceId, cmd: &Command) -> Result<bool, CommandError> {
        let fail = |reason: String| CommandError { tokens: tokens_of(cmd), reason };
        let key = |id: &str| NodeKey::new(source, id);
        let changed = match cmd {
            Command::AddNode { id, name, position, kind } => {
                let node = Node { name: name.clone(), kind: kind.clone(), position: *position };
                let k = key(id);
                if self.nodes.get(&k) == Some(&node) {
                    false
                } else {
                    self.nodes.insert(k, node);
                    true
                }
            }
            Command::DelNode { id } => {
                let k = key(id);
                if self.nodes.remove(&k).is_none() {
                    return Err(fail(format!("no node {id:?}")));
                }
                self.links.retain(|(a, b)| *a != k && *b != k);
                true
            }
            Command::AddLink { from, to } => {
                for end in [from, to] {
                    if !self.nodes.contains_key(&key(end)) {
                        return Err(fail(format!("no node {end:?}")));
                    }
                }
                if from == to {
                    return Err(fail(format!("a link from node {from:?} to itself")));
                }
                self.links.insert((key(from), key(to)))
            }
            Command::DelLink { from, to } => {
                if !self.links.remove(&(key(from), key(to))) {
                    return Err(fail(format!("no link from {from:?} to {to:?}")));
                }
                true
            }
            Command::DelAll => self.remove_source(source),
            Command::UpdateName { id, name } => match self.nodes.get_mut(&key(id)) {
                None => return Err(fail(format!("no node {id:?}"))),
                Some(n) if n.name == *name => false,
                Some(n) => {
                    n.name.clone_from(name);
                    true
                }
            },
            Command::Freeze => !std::mem::replace(&mut self.frozen, true),
            Command::Unfreeze => std::mem::replace(&mut self.frozen, false),
        };
        if changed {
            self.generation += 1;
        }
        Ok(changed)
    }

    /// Removes every node and link of system `source`; true if there were any.
    pub fn remove_source(&mut self, source: SourceId) -> bool {
        let before = self.nodes.len();
        self.nodes.retain(|k, _| k.source != source);
        self.links.retain(|(a, _)| a.source != source);
        let changed = self.nodes.len() != before;
        if changed {
            self.generation += 1;
        }
        changed
    }

    /// Every node, sorted by key.
    pub fn nodes(&self) -> impl Iterator<Item = (&NodeKey, &Node)> {
        self.nodes.iter()
    }

    /// Every link, sorted.
    pub fn links(&self) -> impl Iterator<Item = &(NodeKey, NodeKey)> {
        self.links.iter()
    }

    /// One node.
    pub fn node(&self, key: &NodeKey) -> Option<&Node> {
        self.nodes.get(key)
    }

    /// True if there is a link from `a` to `b`.
    pub fn has_link(&self, a: &NodeKey, b: &NodeKey) -> bool {
        self.links.contains(&(a.clone(), b.clone()))
    }

    /// How many nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// How many links.
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// True with no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// True after `FREEZE ALL` (until `UNFREEZE ALL`).
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// A number that changes whenever the topology does.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The topology as one line of JSON (no newline):
    /// `{"nodes":[{"source":1,"id":"5","name":"Src_5","type":"component"},...],
    /// "links":[{"source":1,"from":"5","to":"(5, 'o', 'outbox')"},...]}`, nodes and links
    /// sorted (by source, then id).
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"nodes\":[");
        for (i, (k, n)) in self.nodes.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"source\":{},\"id\":{},\"name\":{},\"type\":{}}}",
                k.source,
                json_string(&k.id),
                json_string(&n.name),
                json_string(n.kind.as_str())
            );
        }
        out.push_str("],\"links\":[");
        for (i, (a, b)) in self.links.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"source\":{},\"from\":{},\"to\":{}}}",
                a.source,
                json_string(&a.id),
                json_string(&b.id)
            );
        }
        out.push_str("]}");
        out
    }

    /// The topology as a Graphviz DOT graph: node `"<source>:<id>"` labelled with its name
    /// (components as boxes, inboxes and outboxes as small house shapes), a component's
    /// links to its own boxes grey and undirected, other links directed (links between two
    /// inboxes or two outboxes, Axon's passthroughs, dashed).
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph topology {\n  rankdir=LR;\n  node [fontsize=10];\n");
        for (k, n) in &self.nodes {
            let shape = match n.kind {
                NodeKind::Component => "box",
                NodeKind::Inbox => "invhouse",
                NodeKind::Outbox => "house",
                NodeKind::Other(_) => "ellipse",
            };
            let _ = writeln!(out, "  {} [label={}, shape={shape}];", dot_string(&k.to_string()), dot_string(&n.name));
        }
        for (a, b) in &self.links {
            let kinds = (self.nodes.get(a).map(|n| &n.kind), self.nodes.get(b).map(|n| &n.kind));
            let style = match kinds {
                (Some(NodeKind::Component), Some(k)) | (Some(k), Some(NodeKind::Component)) if k.is_box() => {
                    "color=gray, arrowhead=none"
                }
                (Some(NodeKind::Inbox), Some(NodeKind::Inbox)) | (Some(NodeKind::Outbox), Some(NodeKind::Outbox)) => {
                    "style=dashed"
                }
                _ => "style=solid",
            };
            let _ = writeln!(out, "  {} -> {} [{style}];", dot_string(&a.to_string()), dot_string(&b.to_string()));
        }
        out.push_str("}\n");
        out
    }
}

/// A command's tokens, for error reports.
pub(crate) fn tokens_of(cmd: &Command) -> Vec<String> {
    match cmd {
        Command::AddNode { id, name, position, kind } => {
            vec!["ADD".into(), "NODE".into(), id.clone(), name.clone(), position.to_string(), kind.as_str().into()]
        }
        Command::DelNode { id } => vec!["DEL".into(), "NODE".into(), id.clone()],
        Command::AddLink { from, to } => vec!["ADD".into(), "LINK".into(), from.clone(), to.clone()],
        Command::DelLink { from, to } => vec!["DEL".into(), "LINK".into(), from.clone(), to.clone()],
        Command::DelAll => vec!["DEL".into(), "ALL".into()],
        Command::UpdateName { id, name } => vec!["UPDATE_NAME".into(), "NODE".into(), id.clone(), name.clone()],
        Command::Freeze => vec!["FREEZE".into(), "ALL".into()],
        Command::Unfreeze => vec!["UNFREEZE".into(), "ALL".into()],
    }
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A DOT quoted string.
fn dot_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
