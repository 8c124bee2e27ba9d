//! The debug console's command language: parsing a line and answering it from the live
//! system (a [`SchedulerHandle`]'s snapshot and component handles).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axon_core::{
    BoxAddr, Component, ComponentId, ComponentInfo, ComponentState, Ctx, Direction, LinkKind, Linkage, SchedulerHandle,
    Signal, Snapshot, link, unlink,
};
use serde_json::Value;

use super::registry::Registry;
use super::send::{self, SENDABLE, SIGNALS, short_type};

/// The default `stats` sampling interval.
pub const STATS_DEFAULT: Duration = Duration::from_millis(1000);
/// The shortest and longest `stats` sampling intervals, in milliseconds.
pub const STATS_RANGE_MS: (u64, u64) = (10, 60_000);

/// What the console's sessions share: the spawn registry, the links made from the console
/// (so `unlink` can remove them), and the console's own component (spawned components
/// become its children).
pub(crate) struct Shared {
    pub(crate) registry: Registry,
    pub(crate) links: Mutex<Vec<Linkage>>,
    pub(crate) root: Ctx,
    pub(crate) token: Option<String>,
}

impl Shared {
    fn links(&self) -> std::sync::MutexGuard<'_, Vec<Linkage>> {
        // A panic while holding this lock leaves a Vec of linkages: still consistent.
        self.links.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a command line asks the session to do.
#[derive(Debug)]
pub(crate) enum Step {
    /// Answer with this text (`Err`: an error, written `error: ...`).
    Answer(Result<String, String>),
    /// Sample through-counts now and after this long, then answer with [`stats`].
    Stats(Duration),
    /// Say goodbye and close the connection.
    Quit,
    /// Nothing (an empty line).
    Nothing,
}

/// The `help` text.
pub(crate) fn help(registry: &Registry) -> String {
    let mut out = String::from(
        "commands (ID: a component's number, or a unique prefix of its name; answers end with an empty line):\n\
         \x20 ls                         the component tree: id, name, state\n\
         \x20 show ID                    a component: boxes (type, length/capacity, messages through), links in and out\n\
         \x20 links                      every link\n\
         \x20 send ID BOX JSON           deliver a message into an inbox (types below); never waits: a full inbox is an error\n\
         \x20 link ID.BOX ID.BOX         link an outbox to an inbox (or a passthrough: inbox->inbox, outbox->outbox)\n\
         \x20 unlink ID.BOX              remove the link out of a box, whoever made it\n\
         \x20 wake ID                    wake a component, as a delivery would\n\
         \x20 pause ID                   not supported: Axon components pause themselves\n\
         \x20 shutdown ID                send shutdownMicroprocess into its control inbox\n\
         \x20 spawn NAME [{JSON}] [BOX=ID.BOX ...]  make and start a component, linking its boxes first\n\
         \x20 stats [MS]                 messages per second into each box, sampled over MS milliseconds (default 1000)\n\
         \x20 dot                        the system as a Graphviz graph\n\
         \x20 help                       this text\n\
         \x20 quit                       close this connection\n",
    );
    let _ = writeln!(out, "send makes: {SENDABLE}");
    let _ = writeln!(out, "  bytes: a JSON string (sent as UTF-8) or an array of numbers 0-255");
    let _ = writeln!(out, "  signals: {SIGNALS}");
    out.push_str("spawn knows:\n");
    for (name, usage) in registry.usages() {
        let _ = writeln!(out, "  {name} {usage}");
    }
    out
}

/// Parses and runs one command line.
pub(crate) fn execute(shared: &Shared, sched: &SchedulerHandle, line: &str) -> Step {
    let line = line.trim();
    let (cmd, rest) = match line.split_once(char::is_whitespace) {
        Some((c, r)) => (c, r.trim()),
        None => (line, ""),
    };
    let answer = |r: Result<String, String>| Step::Answer(r);
    match cmd {
        "" => Step::Nothing,
        "help" | "?" => answer(Ok(help(&shared.registry))),
        "quit" | "exit" => Step::Quit,
        "ls" => answer(no_args(rest, "ls").map(|()| ls(&sched.snapshot()))),
        "links" => answer(no_args(rest, "links").map(|()| links(&sched.snapshot()))),
        "dot" => answer(no_args(rest, "dot").map(|()| sched.snapshot().to_dot())),
        "show" => answer(one_arg(rest, "show ID").and_then(|r| show(sched, r))),
        "wake" => answer(one_arg(rest, "wake ID").and_then(|r| wake(sched, r))),
        "pause" => answer(one_arg(rest, "pause ID").and_then(|r| {
            let c = component(sched, r)?;
            Err(format!(
                "not supported: Axon components pause themselves (a body pauses while it waits for its inboxes), so \
                 {} {} cannot be paused from outside; `wake ID` wakes one, `shutdown ID` stops one",
                c.id(),
                c.name()
            ))
        })),
        "shutdown" => answer(one_arg(rest, "shutdown ID").and_then(|r| shutdown(sched, r))),
        "send" => answer(send_cmd(sched, rest)),
        "link" => answer(link_cmd(shared, sched, rest)),
        "unlink" => answer(one_arg(rest, "unlink ID.BOX").and_then(|r| unlink_cmd(shared, sched, r))),
        "spawn" => answer(spawn(shared, sched, rest)),
        "stats" => match stats_interval(rest) {
            Ok(d) => Step::Stats(d),
            Err(e) => answer(Err(e)),
        },
        other => answer(Err(format!("unknown command {other:?} (try help)"))),
    }
}

fn no_args(rest: &str, usage: &str) -> Result<(), String> {
    if rest.is_empty() { Ok(()) } else { Err(format!("usage: {usage} (no arguments)")) }
}

fn one_arg<'a>(rest: &'a str, usage: &str) -> Result<&'a str, String> {
    let mut words = rest.split_whitespace();
    match (words.next(), words.next()) {
        (Some(w), None) => Ok(w),
        _ => Err(format!("usage: {usage}")),
    }
}

fn stats_interval(rest: &str) -> Result<Duration, String> {
    if rest.is_empty() {
        return Ok(STATS_DEFAULT);
    }
    let (lo, hi) = STATS_RANGE_MS;
    match rest.parse::<u64>() {
        Ok(ms) if (lo..=hi).contains(&ms) => Ok(Duration::from_millis(ms)),
        _ => Err(format!("usage: stats [MS] (MS: milliseconds, {lo} to {hi})")),
    }
}

/// A state as the console prints it (`paused`, `running` ...).
fn state_name(s: ComponentState) -> String {
    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_else(|| format!("{s:?}"))
}

fn kind_name(k: LinkKind) -> &'static str {
    match k {
        LinkKind::Normal => "normal",
        LinkKind::InboxPassthrough => "inbox passthrough",
        LinkKind::OutboxPassthrough => "outbox passthrough",
    }
}

/// Every component reachable from the scheduler's: those it runs and their children.
fn all_components(sched: &SchedulerHandle) -> Vec<Component> {
    let mut seen = HashSet::new();
    let mut queue: VecDeque<Component> = sched.components().into();
    let mut out = Vec::new();
    while let Some(c) = queue.pop_front() {
        if seen.insert(c.id()) {
            queue.extend(c.children());
            out.push(c);
        }
    }
    out
}

/// Finds a component by number, exact name, or unique name prefix.
fn component(sched: &SchedulerHandle, r: &str) -> Result<Component, String> {
    let all = all_components(sched);
    if let Ok(n) = r.parse::<u64>() {
        return all
            .into_iter()
            .find(|c| c.id() == ComponentId(n))
            .ok_or_else(|| format!("no running component has id {n} (ls lists them)"));
    }
    if let Some(c) = all.iter().find(|c| c.name() == r) {
        return Ok(c.clone());
    }
    let matches: Vec<&Component> = all.iter().filter(|c| c.name().starts_with(r)).collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!("no running component has id or name {r:?} (ls lists them)")),
        many => {
            let names: Vec<String> = many.iter().take(8).map(|c| format!("{} {}", c.id(), c.name())).collect();
            Err(format!(
                "{r:?} is ambiguous: it starts {} names ({}{}); use the id",
                many.len(),
                names.join(", "),
                if many.len() > 8 { ", ..." } else { "" }
            ))
        }
    }
}

/// Splits `ID.BOX` (at its first dot) and finds the component.
fn box_ref(sched: &SchedulerHandle, r: &str) -> Result<(Component, String), String> {
    let (c, b) = r
        .split_once('.')
        .filter(|(c, b)| !c.is_empty() && !b.is_empty())
        .ok_or_else(|| format!("expected ID.BOX (a component and one of its boxes, e.g. 12.inbox), got {r:?}"))?;
    let c = component(sched, c)?;
    if !c.has_box(b) {
        return Err(send::no_such_box(&c, b));
    }
    Ok((c, b.to_string()))
}

fn names(snap: &Snapshot) -> BTreeMap<ComponentId, &str> {
    snap.components.iter().map(|c| (c.id, c.name.as_str())).collect()
}

fn addr(names: &BTreeMap<ComponentId, &str>, a: &BoxAddr) -> String {
    format!("{} {}.{}", a.component, names.get(&a.component).copied().unwrap_or("?"), a.name)
}

fn line_of(c: &ComponentInfo) -> String {
    let mut s = format!("{} {} {}", c.id, c.name, state_name(c.state));
    if c.threaded {
        s.push_str(" (threaded)");
    }
    if let Some(w) = &c.waiting_for {
        let _ = write!(s, " (waiting to send into {}.{})", w.component, w.name);
    }
    s
}

/// `ls`: the component tree, each child indented under its parent, by id.
pub(crate) fn ls(snap: &Snapshot) -> String {
    let ids: HashSet<ComponentId> = snap.components.iter().map(|c| c.id).collect();
    let mut children: BTreeMap<Option<ComponentId>, Vec<&ComponentInfo>> = BTreeMap::new();
    for c in &snap.components {
        let parent = c.parent.filter(|p| ids.contains(p) && *p != c.id);
        children.entry(parent).or_default().push(c);
    }
    let mut out = String::new();
    let mut stack: Vec<(usize, &ComponentInfo)> =
        children.get(&None).map(|v| v.iter().rev().map(|c| (0, *c)).collect()).unwrap_or_default();
    let mut shown = HashSet::new();
    while let Some((depth, c)) = stack.pop() {
        if !shown.insert(c.id) {
            continue;
        }
        let _ = writeln!(out, "{}{}", "  ".repeat(depth), line_of(c));
        if let Some(kids) = children.get(&Some(c.id)) {
            stack.extend(kids.iter().rev().map(|k| (depth + 1, *k)));
        }
    }
    // A parent cycle cannot happen, but nothing is left out if it did.
    for c in snap.components.iter().filter(|c| !shown.contains(&c.id)) {
        let _ = writeln!(out, "{}", line_of(c));
    }
    let _ = writeln!(out, "{} components", snap.components.len());
    out
}

/// `links`: every link, `source -> sink kind`.
pub(crate) fn links(snap: &Snapshot) -> String {
    let names = names(snap);
    let mut out = String::new();
    for l in &snap.links {
        let _ = writeln!(out, "{} -> {} ({})", addr(&names, &l.source), addr(&names, &l.sink), kind_name(l.kind));
    }
    let _ = writeln!(out, "{} links", snap.links.len());
    out
}

fn show(sched: &SchedulerHandle, r: &str) -> Result<String, String> {
    let c = component(sched, r)?;
    let snap = sched.snapshot();
    let names = names(&snap);
    let info = snap
        .components
        .iter()
        .find(|i| i.id == c.id())
        .cloned()
        .ok_or_else(|| format!("component {} {} is no longer running", c.id(), c.name()))?;
    let mut out = String::new();
    let _ = writeln!(out, "{}", line_of(&info));
    match c.parent() {
        Some(p) => {
            let _ = writeln!(out, "parent: {} {}", p.id(), p.name());
        }
        None => out.push_str("parent: none\n"),
    }
    let kids: Vec<String> = c.children().iter().map(|k| format!("{} {}", k.id(), k.name())).collect();
    let _ = writeln!(out, "children: {}", if kids.is_empty() { "none".to_string() } else { kids.join(", ") });
    out.push_str("boxes (name, direction, message type, length/capacity, messages through):\n");
    let rows: Vec<[String; 5]> = info
        .boxes
        .iter()
        .map(|b| {
            [
                b.name.clone(),
                if b.direction == Direction::Inbox { "in".into() } else { "out".into() },
                short_type(&b.msg_type),
                format!("{}/{}", b.len, b.capacity.map_or_else(|| "unbounded".to_string(), |n| n.to_string())),
                format!("through {}", b.through),
            ]
        })
        .collect();
    out.push_str(&table(&rows, "  "));
    out.push_str("links out:\n");
    let outgoing: Vec<_> = snap.links.iter().filter(|l| l.source.component == info.id).collect();
    for l in &outgoing {
        let _ = writeln!(out, "  {} -> {} ({})", l.source.name, addr(&names, &l.sink), kind_name(l.kind));
    }
    if outgoing.is_empty() {
        out.push_str("  none\n");
    }
    out.push_str("links in:\n");
    let incoming: Vec<_> = snap.links.iter().filter(|l| l.sink.component == info.id).collect();
    for l in &incoming {
        let _ = writeln!(out, "  {} -> {} ({})", addr(&names, &l.source), l.sink.name, kind_name(l.kind));
    }
    if incoming.is_empty() {
        out.push_str("  none\n");
    }
    Ok(out)
}

/// Lays rows out in columns, each line starting with `indent`.
fn table<const N: usize>(rows: &[[String; N]], indent: &str) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::from(indent);
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

fn wake(sched: &SchedulerHandle, r: &str) -> Result<String, String> {
    let c = component(sched, r)?;
    let before = c.state();
    c.wake();
    Ok(format!("woke {} {} (it was {})", c.id(), c.name(), state_name(before)))
}

fn shutdown(sched: &SchedulerHandle, r: &str) -> Result<String, String> {
    let c = component(sched, r)?;
    let control =
        c.inbox_ref::<Signal>("control").map_err(|e| format!("cannot shut down {} {}: {e}", c.id(), c.name()))?;
    control
        .try_send(Signal::ShutdownMicroprocess)
        .map_err(|_| format!("{} {}.control is full: nothing was sent", c.id(), c.name()))?;
    Ok(format!("sent shutdownMicroprocess to {} {}.control", c.id(), c.name()))
}

fn send_cmd(sched: &SchedulerHandle, rest: &str) -> Result<String, String> {
    const USAGE: &str = "usage: send ID BOX JSON";
    let (r, rest) = rest.split_once(char::is_whitespace).ok_or(USAGE)?;
    let (b, json) = rest.trim_start().split_once(char::is_whitespace).ok_or(USAGE)?;
    let json: Value = serde_json::from_str(json.trim()).map_err(|e| format!("malformed JSON: {e}"))?;
    let c = component(sched, r)?;
    send::deliver(&c, b, &json)
}

fn describe(l: &Linkage) -> String {
    let end =
        |e: Option<(Component, String)>| e.map_or_else(|| "?".into(), |(c, b)| format!("{} {}.{b}", c.id(), c.name()));
    format!("{} -> {} ({})", end(l.source()), end(l.sink()), kind_name(l.kind()))
}

fn link_cmd(shared: &Shared, sched: &SchedulerHandle, rest: &str) -> Result<String, String> {
    let mut words = rest.split_whitespace();
    let (Some(from), Some(to), None) = (words.next(), words.next(), words.next()) else {
        return Err("usage: link ID.BOX ID.BOX".into());
    };
    let (src, sbox) = box_ref(sched, from)?;
    let (dst, dbox) = box_ref(sched, to)?;
    let l = link((&src, &sbox), (&dst, &dbox)).map_err(|e| e.to_string())?;
    let text = format!("linked {}", describe(&l));
    shared.links().push(l);
    Ok(text)
}

fn unlink_cmd(shared: &Shared, sched: &SchedulerHandle, r: &str) -> Result<String, String> {
    let (c, b) = box_ref(sched, r)?;
    let mut links = shared.links();
    // Forget links that are gone (an end finished and was dropped).
    links.retain(|l| l.source().is_some() && l.sink().is_some());
    let mine = links.iter().position(|l| l.source().is_some_and(|(s, name)| s == c && name == b));
    if let Some(i) = mine {
        let l = links.remove(i);
        let text = describe(&l);
        unlink(&l);
        return Ok(format!("unlinked {text}"));
    }
    drop(links);
    // A link someone else made (a chassis, a server): remove it through the box itself.
    let snap = sched.snapshot();
    let names = names(&snap);
    let text = snap
        .links
        .iter()
        .find(|l| l.source.component == c.id() && l.source.name == b)
        .map(|l| format!("{} -> {}", addr(&names, &l.source), addr(&names, &l.sink)));
    match (c.unlink_box(&b).map_err(|e| e.to_string())?, text) {
        (true, Some(text)) => Ok(format!("unlinked {text}")),
        (true, None) => Ok(format!("unlinked {} {}.{b}", c.id(), c.name())),
        (false, _) => Err(format!("{} {}.{b} has no link out", c.id(), c.name())),
    }
}

fn spawn(shared: &Shared, sched: &SchedulerHandle, rest: &str) -> Result<String, String> {
    const USAGE: &str = "usage: spawn NAME [{JSON}] [BOX=ID.BOX ...]";
    let (name, rest) = match rest.split_once(char::is_whitespace) {
        Some((n, r)) => (n, r.trim_start()),
        None => (rest, ""),
    };
    if name.is_empty() {
        return Err(format!("{USAGE} (known: {})", shared.registry.names().join(", ")));
    }
    let (config, rest) = if rest.starts_with('{') {
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        let v = stream.next().ok_or(USAGE)?.map_err(|e| format!("malformed JSON: {e}"))?;
        (v, &rest[stream.byte_offset()..])
    } else {
        (Value::Null, rest)
    };
    let mut wiring = Vec::new();
    for spec in rest.split_whitespace() {
        let (own, target) = spec.split_once('=').ok_or_else(|| format!("{USAGE}: {spec:?} is not BOX=ID.BOX"))?;
        wiring.push((own.to_string(), box_ref(sched, target)?));
    }
    let c = shared.registry.build(name, config)?;
    let mut made: Vec<Linkage> = Vec::new();
    let mut report = String::new();
    for (own, (target, tbox)) in &wiring {
        let dir = c.box_info(own).map(|i| i.direction).ok_or_else(|| send::no_such_box(&c, own));
        let linked = dir.and_then(|d| {
            let r = match d {
                Direction::Outbox => link((&c, own), (target, tbox)),
                Direction::Inbox => link((target, tbox), (&c, own)),
            };
            r.map_err(|e| e.to_string())
        });
        match linked {
            Ok(l) => {
                let _ = writeln!(report, "linked {}", describe(&l));
                made.push(l);
            }
            Err(e) => {
                made.iter().for_each(unlink);
                return Err(format!("not spawned: {e}"));
            }
        }
    }
    if let Err(e) = shared.root.spawn(&c) {
        made.iter().for_each(unlink);
        return Err(format!("not spawned: {e}"));
    }
    shared.links().extend(made);
    Ok(format!("spawned {} {}\n{report}", c.id(), c.name()))
}

/// `stats`: messages per second into each box's own queue between two snapshots taken
/// `elapsed` apart, busiest first. A linked outbox forwards straight to its final
/// destination, so traffic shows on the inboxes (and on outboxes that are not linked).
pub(crate) fn stats(before: &Snapshot, after: &Snapshot, elapsed: Duration) -> String {
    let mut old: BTreeMap<(ComponentId, &str), u64> = BTreeMap::new();
    for c in &before.components {
        for b in &c.boxes {
            old.insert((c.id, b.name.as_str()), b.through);
        }
    }
    let secs = elapsed.as_secs_f64().max(1e-3);
    let mut rows: Vec<(f64, [String; 4])> = Vec::new();
    for c in &after.components {
        for b in &c.boxes {
            let was = old.get(&(c.id, b.name.as_str())).copied().unwrap_or(0);
            let delta = b.through.saturating_sub(was);
            if delta > 0 {
                // Precision loss only beyond 2^53 messages.
                #[allow(clippy::cast_precision_loss)]
                let rate = delta as f64 / secs;
                rows.push((
                    rate,
                    [
                        format!("{}.{}", c.id, b.name),
                        c.name.clone(),
                        format!("{rate:.1}/s"),
                        format!("({delta} in {} ms, through {})", elapsed.as_millis(), b.through),
                    ],
                ));
            }
        }
    }
    if rows.is_empty() {
        return format!("no messages moved in {} ms\n", elapsed.as_millis());
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let rows: Vec<[String; 4]> = rows.into_iter().map(|(_, r)| r).collect();
    format!("messages per second over {} ms:\n{}", elapsed.as_millis(), table(&rows, "  "))
}

/// The shared state behind a console, for [`super::DebugConsole`].
pub(crate) fn shared(registry: Registry, root: Ctx, token: Option<String>) -> Arc<Shared> {
    Arc::new(Shared { registry, links: Mutex::new(Vec::new()), root, token })
}
