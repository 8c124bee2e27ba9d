//! ChassisError: linking mistakes found when a chassis is built, naming the culprit.

use std::fmt;

use axon_core::LinkError;

/// A mistake in how a chassis was put together, reported when it is built (never a panic
/// deep inside a running system).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChassisError {
    /// The chassis was given no children, and it needs at least one.
    NoChildren {
        /// Which chassis (`Pipeline`, `Seq` ...).
        chassis: String,
    },
    /// A linkage names a component the chassis does not have (only `"self"` and `""` mean
    /// the chassis itself).
    UnknownComponent {
        /// The chassis's name.
        chassis: String,
        /// The name used.
        name: String,
    },
    /// Two children were given the same name.
    DuplicateName {
        /// The chassis's name.
        chassis: String,
        /// The repeated name.
        name: String,
    },
    /// A link could not be made: an unknown box, a type mismatch, a box already linked.
    Link {
        /// The chassis's name.
        chassis: String,
        /// What went wrong, naming both components, boxes and types.
        error: LinkError,
    },
    /// Anything else about the configuration.
    Invalid {
        /// The chassis's name.
        chassis: String,
        /// What is wrong.
        reason: String,
    },
}

impl ChassisError {
    /// Wraps a [`LinkError`] met while building `chassis`.
    pub fn link(chassis: &str, error: LinkError) -> Self {
        ChassisError::Link { chassis: chassis.to_string(), error }
    }
}

impl fmt::Display for ChassisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChassisError::NoChildren { chassis } => write!(f, "{chassis}: needs at least one child"),
            ChassisError::UnknownComponent { chassis, name } => {
                write!(
                    f,
                    "{chassis}: a linkage names {name:?}, which is not one of its components (use \"self\" for the chassis itself)"
                )
            }
            ChassisError::DuplicateName { chassis, name } => {
                write!(f, "{chassis}: two children are named {name:?}")
            }
            ChassisError::Link { chassis, error } => write!(f, "{chassis}: {error}"),
            ChassisError::Invalid { chassis, reason } => write!(f, "{chassis}: {reason}"),
        }
    }
}

impl std::error::Error for ChassisError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ChassisError::Link { error, .. } => Some(error),
            _ => None,
        }
    }
}
