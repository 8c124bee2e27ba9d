//! Building a chassis: the checks a child must pass to be adopted, and the record of
//! adoptions and links that lets a failed build leave the children as they were given.

use axon_core::{Component, ComponentId, ComponentState, Ctx, Direction, LinkErrorKind, LinkOptions, Linkage};

use crate::ChassisError;

/// Checks that `child` can be adopted: never activated, not adopted by another chassis, and
/// not given twice (`seen` collects the ids so far).
pub(crate) fn check_fresh(chassis: &str, child: &Component, seen: &mut Vec<ComponentId>) -> Result<(), ChassisError> {
    let invalid = |why: &str| ChassisError::Invalid {
        chassis: chassis.to_string(),
        reason: format!("child {} {why}", child.name()),
    };
    if seen.contains(&child.id()) {
        return Err(invalid("is given twice"));
    }
    seen.push(child.id());
    if child.state() != ComponentState::Created {
        return Err(invalid("was already activated (a chassis activates its children itself)"));
    }
    if let Some(p) = child.parent() {
        return Err(invalid(&format!("already belongs to {}", p.name())));
    }
    Ok(())
}

/// Checks that `child` has a box `name` facing `dir`. A missing box, or an outbox where an
/// inbox is needed, is a [`ChassisError::Link`] in axon-core's own terms (as linking would
/// report it); an inbox where an outbox is needed has no such term and is
/// [`ChassisError::Invalid`].
pub(crate) fn require_box(chassis: &str, child: &Component, name: &str, dir: Direction) -> Result<(), ChassisError> {
    let (component, name) = (child.name().to_string(), name.to_string());
    let kind = match child.box_info(&name) {
        Some(info) if info.direction == dir => return Ok(()),
        None => LinkErrorKind::NoSuchBox { component, name },
        Some(_) if dir == Direction::Inbox => LinkErrorKind::NotAnInbox { component, name },
        Some(_) => {
            let reason = format!("child {component}'s box {name:?} is an inbox, where an outbox is needed");
            return Err(ChassisError::Invalid { chassis: chassis.to_string(), reason });
        }
    };
    Err(ChassisError::link(chassis, kind.into()))
}

/// "inbox" or "outbox", for messages.
pub(crate) fn dir_word(dir: Direction) -> &'static str {
    match dir {
        Direction::Inbox => "inbox",
        Direction::Outbox => "outbox",
    }
}

/// Checks that `child` has the four standard boxes, facing the right way.
pub(crate) fn require_standard(chassis: &str, child: &Component) -> Result<(), ChassisError> {
    require_box(chassis, child, "inbox", Direction::Inbox)?;
    require_box(chassis, child, "control", Direction::Inbox)?;
    require_box(chassis, child, "outbox", Direction::Outbox)?;
    require_box(chassis, child, "signal", Direction::Outbox)
}

/// The children adopted and links made while building a chassis, so a failed build can undo
/// them and leave the children as they were given.
pub(crate) struct Wiring {
    pub(crate) ctx: Ctx,
    chassis: String,
    adopted: Vec<Component>,
    links: Vec<Linkage>,
}

impl Wiring {
    pub(crate) fn new(ctx: Ctx) -> Self {
        let chassis = ctx.name();
        Wiring { ctx, chassis, adopted: Vec::new(), links: Vec::new() }
    }

    /// The chassis's name, for errors.
    pub(crate) fn chassis(&self) -> &str {
        &self.chassis
    }

    pub(crate) fn adopt(&mut self, child: &Component) {
        self.ctx.add_child(child);
        self.adopted.push(child.clone());
    }

    /// Links through the chassis's postoffice (so the link goes when the chassis ends).
    pub(crate) fn link(&mut self, from: (&Component, &str), to: (&Component, &str)) -> Result<Linkage, ChassisError> {
        self.link_with(from, to, LinkOptions::default())
    }

    /// [`link`](Self::link) with options (a capacity for the sink box).
    pub(crate) fn link_with(
        &mut self,
        from: (&Component, &str),
        to: (&Component, &str),
        options: LinkOptions,
    ) -> Result<Linkage, ChassisError> {
        let l = self.ctx.link_with(from, to, options).map_err(|e| ChassisError::link(&self.chassis, e))?;
        self.links.push(l.clone());
        Ok(l)
    }

    /// Removes every link made and disowns every child adopted.
    pub(crate) fn undo(self) {
        for l in &self.links {
            self.ctx.unlink(l);
        }
        for c in &self.adopted {
            self.ctx.remove_child(c);
        }
    }
}
