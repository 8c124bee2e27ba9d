//! Software transactional memory (Axon.STM): a versioned store for the rare state that
//! components must share. Check values out, change the copies, commit; a commit that lost
//! a race fails with [`StmError::ConcurrentUpdate`] and the transaction is redone.
//!
//! ```
//! use axon_core::stm::{Store, StmError};
//!
//! let store: Store<i32> = Store::new();
//! let mut a = store.usevar("counter").unwrap();
//! let mut b = store.usevar("counter").unwrap();
//! a.set(a.get().copied().unwrap_or(0) + 1);
//! a.commit().unwrap();
//! b.set(100);
//! assert_eq!(b.commit(), Err(StmError::ConcurrentUpdate { key: "counter".into() }));
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, TryLockError};

/// Why an STM call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StmError {
    /// Someone committed this key since it was checked out: redo the transaction.
    ConcurrentUpdate {
        /// The key that changed.
        key: String,
    },
    /// The store was busy (its lock is only ever tried, never waited on): retry the call;
    /// the transaction itself need not be redone.
    BusyRetry,
}

impl fmt::Display for StmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StmError::ConcurrentUpdate { key } => {
                write!(f, "concurrent update of {key:?}: redo the transaction")
            }
            StmError::BusyRetry => f.write_str("the store is busy: retry"),
        }
    }
}

impl std::error::Error for StmError {}

struct Slot<V> {
    version: u64,
    value: Option<V>,
}

/// A store of versioned values of one type, shared between components (cheap to clone).
pub struct Store<V> {
    inner: Arc<Mutex<HashMap<String, Slot<V>>>>,
}

impl<V> Clone for Store<V> {
    fn clone(&self) -> Self {
        Store { inner: self.inner.clone() }
    }
}

impl<V: Clone> Default for Store<V> {
    fn default() -> Self {
        Store { inner: Arc::new(Mutex::new(HashMap::new())) }
    }
}

impl<V: Clone> Store<V> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn try_lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Slot<V>>>, StmError> {
        match self.inner.try_lock() {
            Ok(g) => Ok(g),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(StmError::BusyRetry),
        }
    }

    fn checkout(map: &mut HashMap<String, Slot<V>>, key: &str) -> (u64, Option<V>) {
        let slot = map.entry(key.to_string()).or_insert(Slot { version: 0, value: None });
        (slot.version, slot.value.clone())
    }

    /// Checks out one value: a copy with its version. A key never seen is created with
    /// version 0 and no value (Axon's `usevar`).
    pub fn usevar(&self, key: &str) -> Result<Value<V>, StmError> {
        let mut g = self.try_lock()?;
        let (version, value) = Self::checkout(&mut g, key);
        Ok(Value { store: self.clone(), key: key.to_string(), version, value })
    }

    /// Checks out several values at once, consistently (Axon's `using`).
    pub fn using(&self, keys: &[&str]) -> Result<Collection<V>, StmError> {
        let mut g = self.try_lock()?;
        let values = keys
            .iter()
            .map(|k| {
                let (version, value) = Self::checkout(&mut g, k);
                (k.to_string(), (version, value))
            })
            .collect();
        Ok(Collection { store: self.clone(), values })
    }

    /// The keys in the store, sorted.
    pub fn keys(&self) -> Result<Vec<String>, StmError> {
        let g = self.try_lock()?;
        let mut v: Vec<String> = g.keys().cloned().collect();
        v.sort();
        Ok(v)
    }

    /// Commits every `(key, checked-out version, value)` or none: all versions are checked
    /// first, then all are written.
    fn commit_all(&self, items: &mut [(&str, &mut u64, &Option<V>)]) -> Result<(), StmError> {
        let mut g = self.try_lock()?;
        for (key, version, _) in items.iter() {
            if g.get(*key).is_some_and(|s| s.version > **version) {
                return Err(StmError::ConcurrentUpdate { key: key.to_string() });
            }
        }
        for (key, version, value) in items.iter_mut() {
            let slot = g.entry(key.to_string()).or_insert(Slot { version: 0, value: None });
            slot.version = **version + 1;
            slot.value = (*value).clone();
            **version += 1;
        }
        Ok(())
    }
}

/// A checked-out copy of one value.
pub struct Value<V> {
    store: Store<V>,
    key: String,
    version: u64,
    value: Option<V>,
}

impl<V: Clone> Value<V> {
    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The version checked out (or last committed through this copy).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The value (`None` for a key that was never set).
    pub fn get(&self) -> Option<&V> {
        self.value.as_ref()
    }

    /// Changes the local copy.
    pub fn set(&mut self, v: V) {
        self.value = Some(v);
    }

    /// Commits the local copy. On success the copy's version moves on too, so it can be
    /// changed and committed again.
    pub fn commit(&mut self) -> Result<(), StmError> {
        let store = self.store.clone();
        store.commit_all(&mut [(&self.key, &mut self.version, &self.value)])
    }
}

/// Several values checked out together; committed all or nothing.
pub struct Collection<V> {
    store: Store<V>,
    values: HashMap<String, (u64, Option<V>)>,
}

impl<V: Clone> Collection<V> {
    /// A value's local copy.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.values.get(key).and_then(|(_, v)| v.as_ref())
    }

    /// Changes a local copy (the key must have been checked out).
    ///
    /// # Panics
    /// If `key` was not part of the checkout.
    pub fn set(&mut self, key: &str, v: V) {
        let slot = self.values.get_mut(key).unwrap_or_else(|| panic!("{key:?} was not checked out"));
        slot.1 = Some(v);
    }

    /// Commits every value, or none if any was changed by someone else meanwhile.
    pub fn commit(&mut self) -> Result<(), StmError> {
        let store = self.store.clone();
        let mut items: Vec<(&str, &mut u64, &Option<V>)> =
            self.values.iter_mut().map(|(k, (ver, val))| (k.as_str(), ver, &*val)).collect();
        store.commit_all(&mut items)
    }
}
