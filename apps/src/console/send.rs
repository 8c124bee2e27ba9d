//! `send ID BOX JSON`: turning a JSON value into a message of an inbox's own type and
//! delivering it without waiting.

use std::sync::Arc;

use axon_core::{Component, Direction, Full, LinkErrorKind, Signal};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The message types `send` can make, as the console's help and errors name them.
pub const SENDABLE: &str = "String, Vec<u8>, Arc<[u8]>, serde_json::Value, Signal, bool, i32, i64, u32, u64, \
                            usize, f64, ()";

/// The outcome of one attempt: `None` if the inbox is not of this type.
type Attempt = Option<Result<(), String>>;

/// Delivers `json`, made into a message of the type of `c`'s inbox `name`, with
/// `try_send`: a full inbox is an error, never a wait. Returns what to tell the user.
pub fn deliver(c: &Component, name: &str, json: &Value) -> Result<String, String> {
    let info = c.box_info(name).ok_or_else(|| no_such_box(c, name))?;
    if info.direction == Direction::Outbox {
        return Err(format!(
            "{}.{name} is an outbox: send delivers into inboxes (its inboxes: {})",
            c.name(),
            c.inbox_names().join(", ")
        ));
    }
    let attempts: [&dyn Fn() -> Attempt; 13] = [
        &|| attempt::<String>(c, name, || string(json)),
        &|| attempt::<Vec<u8>>(c, name, || bytes(json)),
        &|| attempt::<Arc<[u8]>>(c, name, || bytes(json).map(Arc::from)),
        &|| attempt::<Value>(c, name, || Ok(json.clone())),
        &|| attempt::<Signal>(c, name, || signal(json)),
        &|| attempt::<bool>(c, name, || typed(json, "a boolean")),
        &|| attempt::<i32>(c, name, || typed(json, "an i32")),
        &|| attempt::<i64>(c, name, || typed(json, "an i64")),
        &|| attempt::<u32>(c, name, || typed(json, "a u32")),
        &|| attempt::<u64>(c, name, || typed(json, "a u64")),
        &|| attempt::<usize>(c, name, || typed(json, "a usize")),
        &|| attempt::<f64>(c, name, || typed(json, "an f64")),
        &|| attempt::<()>(c, name, || typed(json, "null (the unit type)")),
    ];
    for a in attempts {
        if let Some(result) = a() {
            return result.map(|()| format!("sent to {} {}.{name} ({})", c.id(), c.name(), short_type(&info.msg_type)));
        }
    }
    Err(format!(
        "cannot send into {}.{name}: its message type is {}, and the console can make only {SENDABLE}",
        c.name(),
        info.msg_type
    ))
}

/// The error for a box that does not exist, listing the ones that do.
pub fn no_such_box(c: &Component, name: &str) -> String {
    format!(
        "component {} {} has no box named {name:?} (inboxes: {}; outboxes: {})",
        c.id(),
        c.name(),
        c.inbox_names().join(", "),
        c.outbox_names().join(", ")
    )
}

fn attempt<T: Send + 'static>(c: &Component, name: &str, make: impl FnOnce() -> Result<T, String>) -> Attempt {
    let inbox = match c.inbox_ref::<T>(name) {
        Ok(r) => r,
        Err(e) if matches!(e.kind(), LinkErrorKind::TypeMismatch { .. }) => return None,
        Err(e) => return Some(Err(e.to_string())),
    };
    let msg = match make() {
        Ok(m) => m,
        Err(e) => return Some(Err(format!("cannot send into {}.{name} ({}): {e}", c.name(), short_type_of::<T>()))),
    };
    Some(inbox.try_send(msg).map_err(|Full(_)| {
        let info = c.box_info(name);
        let (len, cap) = info.map_or((0, None), |i| (i.len, i.capacity));
        format!(
            "{}.{name} is full ({len}/{}): nothing was sent (try again once it drains)",
            c.name(),
            cap.map_or_else(|| "unbounded".to_string(), |n| n.to_string())
        )
    }))
}

fn short_type_of<T>() -> String {
    short_type(std::any::type_name::<T>())
}

/// A Rust type name without its module paths: `alloc::vec::Vec<u8>` -> `Vec<u8>`.
pub fn short_type(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut word = String::new();
    let mut chars = full.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch.is_alphanumeric() || ch == '_' {
            word.push(ch);
        } else if ch == ':' && chars.peek() == Some(&':') {
            chars.next();
            word.clear();
        } else {
            out.push_str(&word);
            word.clear();
            out.push(ch);
        }
    }
    out.push_str(&word);
    out
}

fn string(json: &Value) -> Result<String, String> {
    match json {
        Value::String(s) => Ok(s.clone()),
        other => Err(format!("expected a JSON string, got {other}")),
    }
}

fn bytes(json: &Value) -> Result<Vec<u8>, String> {
    match json {
        Value::String(s) => Ok(s.clone().into_bytes()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_u64()
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or_else(|| format!("byte {i} is {v}, not a number from 0 to 255"))
            })
            .collect(),
        other => Err(format!("expected a JSON string (sent as UTF-8) or an array of bytes, got {other}")),
    }
}

fn typed<T: DeserializeOwned>(json: &Value, what: &str) -> Result<T, String> {
    serde_json::from_value(json.clone()).map_err(|_| format!("expected {what}, got {json}"))
}

/// The signals `send` understands, for errors and help.
pub const SIGNALS: &str = r#""shutdownMicroprocess", "shutdown", "producerFinished", {"producerFinished": "message"}, {"status": "text"}, {"errorInformation": "text"}"#;

/// Makes a [`Signal`] from its JSON form: a name (`"shutdownMicroprocess"`), or an object
/// with one key, the name, whose value is the message (`{"producerFinished": "done"}`,
/// `{"status": "ok"}`). Names are Axon's, matched ignoring case and underscores.
pub fn signal(json: &Value) -> Result<Signal, String> {
    let (name, arg) = match json {
        Value::String(s) => (s.as_str(), None),
        Value::Object(map) if map.len() == 1 => {
            let (k, v) = map.iter().next().ok_or("an empty object")?;
            (k.as_str(), Some(v))
        }
        other => return Err(format!("expected a signal ({SIGNALS}), got {other}")),
    };
    let text = |what: &str| -> Result<Option<String>, String> {
        match arg {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(format!("the {what} message must be a string or null, got {v}")),
        }
    };
    let key: String = name.chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect();
    match key.as_str() {
        "shutdownmicroprocess" if arg.is_none_or(Value::is_null) => Ok(Signal::ShutdownMicroprocess),
        "shutdown" if arg.is_none_or(Value::is_null) => Ok(Signal::Shutdown),
        "producerfinished" => Ok(Signal::ProducerFinished { caller: None, message: text("producerFinished")? }),
        "status" => Ok(Signal::Status(text("status")?.unwrap_or_default())),
        "errorinformation" => {
            Ok(Signal::ErrorInformation { caller: None, message: text("errorInformation")?.unwrap_or_default() })
        }
        "shutdownmicroprocess" | "shutdown" => Err(format!("{name} takes no message")),
        _ => Err(format!("unknown signal {name:?} (known: {SIGNALS})")),
    }
}
