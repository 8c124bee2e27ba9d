//! The services registry (Axon's CoordinatingAssistantTracker): named services, each a
//! component's inbox, and named tracked values.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::component::Component;
use crate::lock;

/// Why a registry call failed; the variants keep Axon's exception names.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServiceError {
    /// `registerService` with a name already taken.
    ServiceAlreadyExists(String),
    /// The component has no inbox of that name.
    BadInbox {
        /// The service name.
        service: String,
        /// The component.
        component: String,
        /// The missing inbox.
        inbox: String,
    },
    /// `retrieveService` of an unknown name (Axon raises a bare `KeyError`).
    UnknownService(String),
    /// `deRegisterService` of an unknown name.
    MultipleServiceDeletion(String),
    /// `trackValue` of a name already tracked.
    NamespaceClash(String),
    /// `updateValue`/`retrieveValue` of a name never tracked.
    AccessToUndeclaredTrackedVariable(String),
    /// `retrieveValue` asked for a different type than was tracked.
    WrongValueType {
        /// The value's name.
        name: String,
        /// The type asked for.
        wanted: &'static str,
    },
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::ServiceAlreadyExists(n) => write!(f, "service {n:?} already exists"),
            ServiceError::BadInbox { service, component, inbox } => {
                write!(f, "cannot register service {service:?}: {component} has no inbox {inbox:?}")
            }
            ServiceError::UnknownService(n) => write!(f, "no service named {n:?}"),
            ServiceError::MultipleServiceDeletion(n) => {
                write!(f, "cannot deregister service {n:?}: it is not registered")
            }
            ServiceError::NamespaceClash(n) => write!(f, "value {n:?} is already tracked"),
            ServiceError::AccessToUndeclaredTrackedVariable(n) => {
                write!(f, "value {n:?} is not tracked")
            }
            ServiceError::WrongValueType { name, wanted } => {
                write!(f, "value {name:?} is not a {wanted}")
            }
        }
    }
}

impl std::error::Error for ServiceError {}

#[derive(Default)]
struct Inner {
    services: HashMap<String, (Component, String)>,
    values: HashMap<String, Arc<dyn Any + Send + Sync>>,
}

/// A registry of named services and tracked values. One per scheduler (so independent
/// systems in one process, tests above all, do not collide); cheap to clone.
#[derive(Clone, Default)]
pub struct Services {
    inner: Arc<Mutex<Inner>>,
}

impl fmt::Debug for Services {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Services").field("services", &self.services_registered()).finish()
    }
}

impl Services {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `name` as `component`'s `inbox` (Axon's `registerService`).
    pub fn register(&self, name: &str, component: &Component, inbox: &str) -> Result<(), ServiceError> {
        if !component.inbox_names().iter().any(|n| n == inbox) {
            return Err(ServiceError::BadInbox {
                service: name.into(),
                component: component.name().into(),
                inbox: inbox.into(),
            });
        }
        let mut g = lock(&self.inner);
        if g.services.contains_key(name) {
            return Err(ServiceError::ServiceAlreadyExists(name.into()));
        }
        g.services.insert(name.into(), (component.clone(), inbox.into()));
        Ok(())
    }

    /// The component and inbox registered as `name` (Axon's `retrieveService`).
    pub fn retrieve(&self, name: &str) -> Result<(Component, String), ServiceError> {
        lock(&self.inner).services.get(name).cloned().ok_or_else(|| ServiceError::UnknownService(name.into()))
    }

    /// Removes a service (Axon's `deRegisterService`).
    pub fn deregister(&self, name: &str) -> Result<(), ServiceError> {
        lock(&self.inner)
            .services
            .remove(name)
            .map(drop)
            .ok_or_else(|| ServiceError::MultipleServiceDeletion(name.into()))
    }

    /// Names of every registered service, sorted.
    pub fn services_registered(&self) -> Vec<String> {
        let mut v: Vec<String> = lock(&self.inner).services.keys().cloned().collect();
        v.sort();
        v
    }

    /// Starts tracking a named value (Axon's `trackValue`).
    pub fn track_value<V: Any + Send + Sync>(&self, name: &str, value: V) -> Result<(), ServiceError> {
        let mut g = lock(&self.inner);
        if g.values.contains_key(name) {
            return Err(ServiceError::NamespaceClash(name.into()));
        }
        g.values.insert(name.into(), Arc::new(value));
        Ok(())
    }

    /// Replaces a tracked value (Axon's `updateValue`).
    pub fn update_value<V: Any + Send + Sync>(&self, name: &str, value: V) -> Result<(), ServiceError> {
        let mut g = lock(&self.inner);
        match g.values.get_mut(name) {
            Some(slot) => {
                *slot = Arc::new(value);
                Ok(())
            }
            None => Err(ServiceError::AccessToUndeclaredTrackedVariable(name.into())),
        }
    }

    /// A tracked value (Axon's `retrieveValue`).
    pub fn retrieve_value<V: Any + Send + Sync + Clone>(&self, name: &str) -> Result<V, ServiceError> {
        let g = lock(&self.inner);
        let v = g.values.get(name).ok_or_else(|| ServiceError::AccessToUndeclaredTrackedVariable(name.into()))?;
        v.downcast_ref::<V>()
            .cloned()
            .ok_or_else(|| ServiceError::WrongValueType { name: name.into(), wanted: std::any::type_name::<V>() })
    }

    /// Names of every tracked value, sorted (Axon's `informationItemsLogged`).
    pub fn values_tracked(&self) -> Vec<String> {
        let mut v: Vec<String> = lock(&self.inner).values.keys().cloned().collect();
        v.sort();
        v
    }

    /// Forgets everything (Axon's `zap`).
    pub fn clear(&self) {
        let old = std::mem::take(&mut *lock(&self.inner));
        drop(old);
    }
}
