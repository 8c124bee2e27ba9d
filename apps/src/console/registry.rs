//! The components the debug console's `spawn` can make: a name, a one-line usage, and a
//! constructor taking a JSON configuration.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axon_core::Component;
use kamaelia_util::{Clock, ConsoleEchoer, DataSource, NullSink, PassThrough};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Makes a component from its JSON configuration, or says why it cannot.
pub type Constructor = Arc<dyn Fn(Value) -> Result<Component, String> + Send + Sync>;

/// A registry of constructible components, by name, for the console's `spawn NAME JSON`.
///
/// [`Registry::standard`] (also the default) holds:
///
/// | name | configuration | makes |
/// |---|---|---|
/// | `DataSource` | `{"items": [..], "type": T}` | a [`DataSource`] of the items |
/// | `Clock` | `{"interval_ms": N}` | a [`Clock`] ticking (`u64`) every N ms |
/// | `ConsoleEchoer` | `{"type": T, "tag": ".."}` | a [`ConsoleEchoer`] on the app's stdout |
/// | `PassThrough` | `{"type": T}` | a [`PassThrough`] |
/// | `NullSink` | `{"type": T}` | a [`NullSink`] |
///
/// `T` is the message type, `"string"` (`String`, the default), `"bytes"` (`Vec<u8>`; a
/// DataSource's items are then strings, sent as their UTF-8 bytes), `"json"`
/// (`serde_json::Value`) or `"u64"` (ConsoleEchoer: `"string"`, `"json"` or `"u64"`, the
/// Display types). Unknown configuration fields are errors.
///
/// Apps add their own with [`register`](Registry::register).
#[derive(Clone)]
pub struct Registry {
    entries: BTreeMap<String, (String, Constructor)>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").field("names", &self.entries.keys().collect::<Vec<_>>()).finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::standard()
    }
}

/// The message types a spawned component can carry.
#[derive(Copy, Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum MsgType {
    #[default]
    String,
    Bytes,
    Json,
    U64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataSourceConfig {
    items: Vec<Value>,
    #[serde(default, rename = "type")]
    msg_type: MsgType,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockConfig {
    interval_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EchoerConfig {
    #[serde(default, rename = "type")]
    msg_type: MsgType,
    #[serde(default)]
    tag: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypedConfig {
    #[serde(default, rename = "type")]
    msg_type: MsgType,
}

/// Reads a configuration; `null` counts as `{}`.
fn config<C: DeserializeOwned>(v: Value) -> Result<C, String> {
    let v = if v.is_null() { Value::Object(serde_json::Map::new()) } else { v };
    serde_json::from_value(v).map_err(|e| format!("bad configuration: {e}"))
}

fn strings(items: Vec<Value>) -> Result<Vec<String>, String> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::String(s) => Ok(s),
            other => Err(format!("item {i} is {other}, not a string (use \"type\": \"json\" for any JSON)")),
        })
        .collect()
}

fn data_source(v: Value) -> Result<Component, String> {
    let c: DataSourceConfig = config(v)?;
    Ok(match c.msg_type {
        MsgType::String => DataSource::new(strings(c.items)?),
        MsgType::Bytes => DataSource::new(strings(c.items)?.into_iter().map(String::into_bytes).collect::<Vec<_>>()),
        MsgType::Json => DataSource::new(c.items),
        MsgType::U64 => {
            let ns = c
                .items
                .iter()
                .enumerate()
                .map(|(i, v)| v.as_u64().ok_or_else(|| format!("item {i} is {v}, not a u64")))
                .collect::<Result<Vec<u64>, String>>()?;
            DataSource::new(ns)
        }
    })
}

fn clock(v: Value) -> Result<Component, String> {
    let c: ClockConfig = config(v)?;
    if c.interval_ms == 0 {
        return Err("bad configuration: interval_ms must be at least 1".into());
    }
    Ok(Clock::new(Duration::from_millis(c.interval_ms)))
}

fn echoer(v: Value) -> Result<Component, String> {
    let c: EchoerConfig = config(v)?;
    Ok(match c.msg_type {
        MsgType::String => ConsoleEchoer::<String>::new().tag(c.tag).build(),
        MsgType::Json => ConsoleEchoer::<Value>::new().tag(c.tag).build(),
        MsgType::U64 => ConsoleEchoer::<u64>::new().tag(c.tag).build(),
        MsgType::Bytes => return Err("bad configuration: a ConsoleEchoer cannot print bytes (use \"string\")".into()),
    })
}

fn pass_through(v: Value) -> Result<Component, String> {
    let c: TypedConfig = config(v)?;
    Ok(match c.msg_type {
        MsgType::String => PassThrough::<String>::new(),
        MsgType::Bytes => PassThrough::<Vec<u8>>::new(),
        MsgType::Json => PassThrough::<Value>::new(),
        MsgType::U64 => PassThrough::<u64>::new(),
    })
}

fn null_sink(v: Value) -> Result<Component, String> {
    let c: TypedConfig = config(v)?;
    Ok(match c.msg_type {
        MsgType::String => NullSink::<String>::new(),
        MsgType::Bytes => NullSink::<Vec<u8>>::new(),
        MsgType::Json => NullSink::<Value>::new(),
        MsgType::U64 => NullSink::<u64>::new(),
    })
}

impl Registry {
    /// A registry with nothing in it.
    pub fn empty() -> Self {
        Registry { entries: BTreeMap::new() }
    }

    /// The standard components (see the type's docs).
    pub fn standard() -> Self {
        let mut r = Self::empty();
        r.register(
            "DataSource",
            r#"{"items": [..], "type": "string"|"bytes"|"json"|"u64"}: sends the items, then ProducerFinished"#,
            data_source,
        );
        r.register("Clock", r#"{"interval_ms": N}: sends a u64 tick every N ms"#, clock);
        r.register(
            "ConsoleEchoer",
            r#"{"type": "string"|"json"|"u64", "tag": ".."}: prints what it receives on the app's stdout"#,
            echoer,
        );
        r.register("PassThrough", r#"{"type": "string"|"bytes"|"json"|"u64"}: forwards inbox to outbox"#, pass_through);
        r.register("NullSink", r#"{"type": "string"|"bytes"|"json"|"u64"}: discards what it receives"#, null_sink);
        r
    }

    /// Adds (or replaces) a constructible component: `usage` is shown by `help spawn`.
    pub fn register(
        &mut self,
        name: impl Into<String>,
        usage: impl Into<String>,
        make: impl Fn(Value) -> Result<Component, String> + Send + Sync + 'static,
    ) -> &mut Self {
        self.entries.insert(name.into(), (usage.into(), Arc::new(make)));
        self
    }

    /// Makes the component `name` from `config`.
    ///
    /// # Errors
    /// An unknown name (the message lists the known ones) or a configuration its constructor
    /// refuses.
    pub fn build(&self, name: &str, config: Value) -> Result<Component, String> {
        match self.entries.get(name) {
            Some((_, make)) => make(config),
            None => Err(format!("no component named {name:?} can be spawned (known: {})", self.names().join(", "))),
        }
    }

    /// The names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.entries.keys().map(String::as_str).collect()
    }

    /// `(name, usage)` pairs, sorted by name.
    pub fn usages(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, (u, _))| (n.as_str(), u.as_str()))
    }
}
