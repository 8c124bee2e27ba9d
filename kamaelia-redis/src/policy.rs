//! The slow-subscriber policies across processes, and how a publisher enforces them: the
//! stream's keys, the registry of subscribers' policies, and the check a publish bridge runs
//! every so often (lag per group, waiting, jumping ahead, removal, trimming).
//!
//! Redis 7.0 has no ACKED trim policy and no per-group lag limit, so this is our code: each
//! subscribing group registers its policy in a hash beside the stream; a publisher reads
//! `XINFO GROUPS` (each group's last delivered id and lag) and acts on what it finds.

use std::collections::HashMap;

use redis::{Connection, RedisResult, Value};
use serde::{Deserialize, Serialize};

use crate::endpoint::{StreamId, fields, int, range_entries, string};

/// The stream a backplane named `name` lives in.
pub fn backplane_stream(name: &str) -> String {
    format!("kamaelia:backplane:{name}")
}

/// The hash of subscribing groups and their policies (group -> JSON [`RemotePolicy`]).
pub(crate) fn registry_key(name: &str) -> String {
    format!("kamaelia:backplane:{name}:groups")
}

/// The hash of groups removed by their policy (group -> why).
pub(crate) fn removed_key(name: &str) -> String {
    format!("kamaelia:backplane:{name}:removed")
}

/// The dead-letter stream: entries that were not ours or did not decode, with the reason.
pub fn backplane_dead_letters(name: &str) -> String {
    format!("kamaelia:backplane:{name}:dead")
}

/// What happens when a subscribing process falls behind, the same on every host. `bound` is
/// the number of entries the group may have left unread (its lag) before the policy acts.
///
/// The names mean what the local [`SubscriberPolicy`](kamaelia_chassis::SubscriberPolicy)s
/// mean: Lossless is backpressure, DropOldest keeps the newest, Disconnect removes the slow
/// one and says why.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "snake_case")]
pub enum RemotePolicy {
    /// Nothing is lost: publishers wait while this group lags more than `bound` entries, and
    /// the stream is trimmed only below what it has read and acknowledged.
    Lossless {
        /// Unread entries allowed before publishers wait.
        bound: u64,
    },
    /// A group more than `bound` behind jumps ahead to the newest `bound` entries; what it
    /// skipped is reported by its subscriber as an exact gap per origin.
    DropOldest {
        /// Unread entries kept.
        bound: u64,
    },
    /// A group more than `bound` behind is removed; its subscriber reports why and stops.
    Disconnect {
        /// Unread entries allowed before removal.
        bound: u64,
    },
}

impl RemotePolicy {
    /// The default bound of every policy.
    pub const DEFAULT_BOUND: u64 = 10_000;

    fn bound(self) -> u64 {
        match self {
            RemotePolicy::Lossless { bound }
            | RemotePolicy::DropOldest { bound }
            | RemotePolicy::Disconnect { bound } => bound,
        }
    }
}

impl Default for RemotePolicy {
    fn default() -> Self {
        RemotePolicy::Lossless { bound: Self::DEFAULT_BOUND }
    }
}

/// One consumer group as `XINFO GROUPS` shows it.
#[derive(Debug)]
pub(crate) struct GroupInfo {
    pub(crate) name: String,
    pub(crate) last_delivered: StreamId,
    pub(crate) lag: Option<u64>,
    pub(crate) pending: u64,
}

/// The groups of `key` (none if the stream does not exist).
pub(crate) fn groups(con: &mut Connection, key: &str) -> RedisResult<Vec<GroupInfo>> {
    let v: Value = match redis::cmd("XINFO").arg("GROUPS").arg(key).query(con) {
        Ok(v) => v,
        // No stream yet: no groups.
        Err(e) if e.code() == Some("ERR") && e.to_string().contains("no such key") => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let Value::Array(items) = v else { return Ok(Vec::new()) };
    Ok(items
        .into_iter()
        .filter_map(|g| {
            let f: HashMap<String, Value> = fields(g).into_iter().collect();
            Some(GroupInfo {
                name: string(f.get("name")?)?,
                last_delivered: StreamId::parse(&string(f.get("last-delivered-id")?)?)?,
                lag: f.get("lag").and_then(int).and_then(|l| u64::try_from(l).ok()),
                pending: f.get("pending").and_then(int).unwrap_or(0).max(0) as u64,
            })
        })
        .collect())
}

/// What a publisher learnt from one check.
#[derive(Debug, Default)]
pub(crate) struct Check {
    /// How many entries may be published before the next check (0: wait).
    pub(crate) slack: u64,
    /// Groups moved ahead (DropOldest) or removed (Disconnect) by this check.
    pub(crate) acted_on: Vec<String>,
}

/// Checks every group of backplane `name` against its policy and trims the stream. `every`
/// is the slack given when no lossless group limits it.
pub(crate) fn enforce(con: &mut Connection, name: &str, every: u64) -> RedisResult<Check> {
    let key = backplane_stream(name);
    let groups = groups(con, &key)?;
    let registry: Vec<(String, Value)> = fields(redis::cmd("HGETALL").arg(registry_key(name)).query(con)?);
    let policies: HashMap<String, RemotePolicy> = registry
        .into_iter()
        .filter_map(|(g, v)| Some((g, serde_json::from_slice(&crate::endpoint::bytes(v)).ok()?)))
        .collect();
    let mut check = Check { slack: every, acted_on: Vec::new() };
    // The lowest id some group still needs; everything below it can go.
    let mut keep_from: Option<StreamId> = None;
    let mut keep = |id: StreamId| keep_from = Some(keep_from.map_or(id, |k| k.min(id)));
    for g in &groups {
        // A group with no registered policy (being set up, or made by hand) is treated as
        // lossless with the default bound: the safe reading.
        let policy = policies.get(&g.name).copied().unwrap_or_default();
        let bound = policy.bound();
        let lag = match g.lag {
            Some(l) => l,
            None => unread_up_to(con, &key, g.last_delivered, bound + 1)?,
        };
        if !matches!(policy, RemotePolicy::Lossless { .. }) {
            // Look again before this group can be more than half its bound past it.
            check.slack = check.slack.min(bound.saturating_sub(lag).max(bound / 2).max(1));
        }
        match policy {
            RemotePolicy::Lossless { .. } => {
                check.slack = check.slack.min(bound.saturating_sub(lag));
                let mut from = g.last_delivered.next();
                if g.pending > 0 {
                    if let Some(first) = first_pending(con, &key, &g.name)? {
                        from = from.min(first);
                    }
                }
                keep(from);
            }
            RemotePolicy::DropOldest { .. } if lag > bound => {
                // Keep the newest `bound` entries for it: its last delivered id becomes the
                // entry just before them.
                let v: Value =
                    redis::cmd("XREVRANGE").arg(&key).arg("+").arg("-").arg("COUNT").arg(bound + 1).query(con)?;
                let newest = range_entries(v);
                let to = match newest.last().and_then(|(id, _)| StreamId::parse(id)) {
                    Some(id) if newest.len() as u64 == bound + 1 => id,
                    // bound 0 (or a stream shorter than we thought): to the end.
                    _ => newest.first().and_then(|(id, _)| StreamId::parse(id)).unwrap_or(g.last_delivered),
                };
                let to = to.max(g.last_delivered);
                redis::cmd("XGROUP").arg("SETID").arg(&key).arg(&g.name).arg(to.to_string()).query::<()>(con)?;
                check.acted_on.push(g.name.clone());
                keep(to.next());
            }
            RemotePolicy::Disconnect { .. } if lag > bound => {
                let why = format!(
                    "consumer group {:?} lagged {lag} entries behind backplane {name:?}, over its Disconnect bound of {bound}",
                    g.name
                );
                redis::pipe()
                    .atomic()
                    .cmd("HSET")
                    .arg(removed_key(name))
                    .arg(&g.name)
                    .arg(&why)
                    .ignore()
                    .cmd("HDEL")
                    .arg(registry_key(name))
                    .arg(&g.name)
                    .ignore()
                    .cmd("XGROUP")
                    .arg("DESTROY")
                    .arg(&key)
                    .arg(&g.name)
                    .ignore()
                    .query::<()>(con)?;
                check.acted_on.push(g.name.clone());
            }
            RemotePolicy::DropOldest { .. } | RemotePolicy::Disconnect { .. } => keep(g.last_delivered.next()),
        }
    }
    match keep_from {
        Some(id) => redis::cmd("XTRIM").arg(&key).arg("MINID").arg(id.to_string()).query::<()>(con)?,
        // Nobody subscribes: nobody will read what is there (a new group starts at the end).
        None if groups.is_empty() => redis::cmd("XTRIM").arg(&key).arg("MAXLEN").arg(0).query::<()>(con)?,
        None => {}
    }
    Ok(check)
}

/// How many entries follow `after`, counting at most `limit` (for a group whose lag Redis
/// cannot tell).
fn unread_up_to(con: &mut Connection, key: &str, after: StreamId, limit: u64) -> RedisResult<u64> {
    let v: Value =
        redis::cmd("XRANGE").arg(key).arg(format!("({after}")).arg("+").arg("COUNT").arg(limit).query(con)?;
    Ok(match v {
        Value::Array(a) => a.len() as u64,
        _ => 0,
    })
}

/// The oldest pending id of a group.
fn first_pending(con: &mut Connection, key: &str, group: &str) -> RedisResult<Option<StreamId>> {
    let v: Value = redis::cmd("XPENDING").arg(key).arg(group).query(con)?;
    let Value::Array(a) = v else { return Ok(None) };
    Ok(a.get(1).and_then(string).and_then(|s| StreamId::parse(&s)))
}
