//! Linkages: making and removing links between components' boxes by name, with the message
//! types checked once, here, rather than on every send.

use std::fmt;
use std::sync::Arc;

use crate::component::Component;
use crate::postoffice::{AnyNode, Direction, LinkFault};

/// The three kinds of Axon link, named by what they join.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// outbox -> inbox: an ordinary wire (Axon passthrough 0).
    Normal,
    /// inbox -> inbox: a parent forwards its inbox to a child (Axon passthrough 1).
    InboxPassthrough,
    /// outbox -> outbox: a child's outbox surfaces as its parent's (Axon passthrough 2).
    OutboxPassthrough,
}

impl LinkKind {
    /// Axon's `passthrough` number.
    pub fn passthrough(self) -> u8 {
        match self {
            LinkKind::Normal => 0,
            LinkKind::InboxPassthrough => 1,
            LinkKind::OutboxPassthrough => 2,
        }
    }
}

/// Options for a link.
#[derive(Copy, Clone, Debug, Default)]
#[non_exhaustive]
pub struct LinkOptions {
    /// Sets the sink box's capacity (Axon's `pipewidth`; `synchronous` is `Some(1)`).
    pub capacity: Option<usize>,
}

impl LinkOptions {
    /// Options with the sink box's capacity set.
    pub fn capacity(n: usize) -> Self {
        LinkOptions { capacity: Some(n) }
    }
}

/// One end of a linkage: the box. Its component is reached through the box's owner, which
/// holds it weakly, so a linkage (kept in a chassis's postoffice) never keeps its own
/// chassis alive.
#[derive(Clone)]
pub(crate) struct End {
    pub(crate) node: Arc<dyn AnyNode>,
}

impl End {
    fn component(&self) -> Option<Component> {
        self.node.owner().core.upgrade().map(Component::from_core)
    }

    fn component_name(&self) -> String {
        self.component().map_or_else(|| format!("component {}", self.node.owner().id), |c| c.name().to_string())
    }
}

/// A link that was made: a handle to remove it with (Axon's `linkage`).
#[derive(Clone)]
pub struct Linkage {
    inner: Arc<(End, End, LinkKind)>,
    /// The link's identity in the postoffice (see `postoffice::Links::link_id`).
    id: u64,
}

impl PartialEq for Linkage {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Linkage {
    /// The source component and box name.
    pub fn source(&self) -> Option<(Component, String)> {
        Some((self.inner.0.component()?, self.inner.0.node.name().to_string()))
    }

    /// The sink component and box name.
    pub fn sink(&self) -> Option<(Component, String)> {
        Some((self.inner.1.component()?, self.inner.1.node.name().to_string()))
    }

    /// What kind of link it is.
    pub fn kind(&self) -> LinkKind {
        self.inner.2
    }

    pub(crate) fn involves(&self, c: &Component) -> bool {
        let is = |e: &End| std::ptr::eq(e.node.owner().core.as_ptr(), Arc::as_ptr(c.core()));
        is(&self.inner.0) || is(&self.inner.1)
    }
}

impl fmt::Debug for Linkage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Linkage {
    /// Axon's format: `Link( source:[name,box], sink:[name,box] )`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, d, _) = &*self.inner;
        write!(
            f,
            "Link( source:[{},{}], sink:[{},{}] )",
            s.component_name(),
            s.node.name(),
            d.component_name(),
            d.node.name()
        )
    }
}

/// Why a link could not be made. Names both components, both boxes and, for a type
/// mismatch, both message types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkError {
    kind: LinkErrorKind,
}

/// The kinds of [`LinkError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkErrorKind {
    /// The component has no box of that name.
    NoSuchBox {
        /// The component's name.
        component: String,
        /// The box name asked for.
        name: String,
    },
    /// The box exists but is an outbox where an inbox was needed.
    NotAnInbox {
        /// The component's name.
        component: String,
        /// The box name.
        name: String,
    },
    /// The boxes carry different message types.
    TypeMismatch {
        /// `component.box` of the source.
        source: String,
        /// Its message type.
        source_type: String,
        /// `component.box` of the sink.
        sink: String,
        /// Its message type.
        sink_type: String,
    },
    /// An inbox cannot feed an outbox.
    WrongDirection {
        /// `component.box` of the source.
        source: String,
        /// `component.box` of the sink.
        sink: String,
    },
    /// The source box already has its one outgoing link (Axon's
    /// `BoxAlreadyLinkedToDestination`).
    AlreadyLinked {
        /// `component.box` of the source.
        source: String,
        /// `component.box` it is linked to now.
        existing: String,
        /// `component.box` that was asked for.
        sink: String,
    },
    /// The link would make messages loop forever between passthrough boxes.
    Cycle {
        /// `component.box` of the source.
        source: String,
        /// `component.box` of the sink.
        sink: String,
    },
}

impl LinkError {
    /// What went wrong.
    pub fn kind(&self) -> &LinkErrorKind {
        &self.kind
    }

    pub(crate) fn no_such_box(c: &Component, name: &str) -> Self {
        LinkError { kind: LinkErrorKind::NoSuchBox { component: c.name().into(), name: name.into() } }
    }

    pub(crate) fn not_an_inbox(c: &Component, name: &str) -> Self {
        LinkError { kind: LinkErrorKind::NotAnInbox { component: c.name().into(), name: name.into() } }
    }

    pub(crate) fn wrong_type<T>(c: &Component, name: &str, actual: &str) -> Self {
        LinkError {
            kind: LinkErrorKind::TypeMismatch {
                source: "(caller)".into(),
                source_type: std::any::type_name::<T>().into(),
                sink: format!("{}.{name}", c.name()),
                sink_type: actual.into(),
            },
        }
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            LinkErrorKind::NoSuchBox { component, name } => {
                write!(f, "component {component} has no box named {name:?}")
            }
            LinkErrorKind::NotAnInbox { component, name } => {
                write!(f, "{component}.{name} is an outbox, not an inbox")
            }
            LinkErrorKind::TypeMismatch { source, source_type, sink, sink_type } => write!(
                f,
                "cannot link {source} to {sink}: {source} carries {source_type} but {sink} carries {sink_type}"
            ),
            LinkErrorKind::WrongDirection { source, sink } => {
                write!(f, "cannot link {source} to {sink}: an inbox cannot feed an outbox")
            }
            LinkErrorKind::AlreadyLinked { source, existing, sink } => write!(
                f,
                "cannot link {source} to {sink}: {source} is already linked to {existing} (a box has one outgoing link)"
            ),
            LinkErrorKind::Cycle { source, sink } => {
                write!(f, "cannot link {source} to {sink}: it would close a loop of passthrough links")
            }
        }
    }
}

impl std::error::Error for LinkError {}

impl From<LinkErrorKind> for LinkError {
    /// For code above axon-core that finds a linking mistake itself (a chassis checking a
    /// child's boxes before linking) and reports it in the same terms.
    fn from(kind: LinkErrorKind) -> Self {
        LinkError { kind }
    }
}

fn find(c: &Component, name: &str) -> Result<Arc<dyn AnyNode>, LinkError> {
    c.core().find_box(name).ok_or_else(|| LinkError::no_such_box(c, name))
}

/// Links `from` to `to`, both given as (component, box name). The link is not recorded in
/// any component's postoffice; use [`Ctx::link`](crate::Ctx::link) from inside a component.
pub fn link(from: (&Component, &str), to: (&Component, &str)) -> Result<Linkage, LinkError> {
    link_with(from, to, LinkOptions::default())
}

/// [`link`] with options.
pub fn link_with(from: (&Component, &str), to: (&Component, &str), options: LinkOptions) -> Result<Linkage, LinkError> {
    let src = find(from.0, from.1)?;
    let dst = find(to.0, to.1)?;
    let sname = || format!("{}.{}", from.0.name(), from.1);
    let dname = || format!("{}.{}", to.0.name(), to.1);
    let kind = match (src.direction(), dst.direction()) {
        (Direction::Outbox, Direction::Inbox) => LinkKind::Normal,
        (Direction::Inbox, Direction::Inbox) => LinkKind::InboxPassthrough,
        (Direction::Outbox, Direction::Outbox) => LinkKind::OutboxPassthrough,
        (Direction::Inbox, Direction::Outbox) => {
            return Err(LinkError { kind: LinkErrorKind::WrongDirection { source: sname(), sink: dname() } });
        }
    };
    if src.msg_type_id() != dst.msg_type_id() {
        return Err(LinkError {
            kind: LinkErrorKind::TypeMismatch {
                source: sname(),
                source_type: src.msg_type_name().into(),
                sink: dname(),
                sink_type: dst.msg_type_name().into(),
            },
        });
    }
    let id = src.clone().link_dyn(dst.clone(), options.capacity).map_err(|fault| LinkError {
        kind: match fault {
            LinkFault::AlreadyLinked { existing } => {
                LinkErrorKind::AlreadyLinked { source: sname(), existing, sink: dname() }
            }
            LinkFault::Cycle => LinkErrorKind::Cycle { source: sname(), sink: dname() },
            LinkFault::TypeMismatch => LinkErrorKind::TypeMismatch {
                source: sname(),
                source_type: src.msg_type_name().into(),
                sink: dname(),
                sink_type: dst.msg_type_name().into(),
            },
        },
    })?;
    Ok(Linkage { inner: Arc::new((End { node: src }, End { node: dst }, kind)), id })
}

/// Removes a linkage. Messages already delivered stay where they are; a no-op if the link
/// is already gone (or the source box was relinked elsewhere since).
pub fn unlink(l: &Linkage) {
    l.inner.0.node.clone().unlink_if(l.id);
}
