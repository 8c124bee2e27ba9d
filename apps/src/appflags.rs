//! The debugging flags every app accepts, `--console PORT [--console-token TOKEN]` and
//! `--introspect HOST:PORT`, and what starts them next to the app's own components.
//!
//! ```no_run
//! use clap::Parser;
//!
//! #[derive(Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     debug: apps::appflags::DebugFlags,
//! }
//!
//! # fn main() -> anyhow::Result<()> {
//! let args = Args::parse();
//! let sched = kamaelia_net::scheduler()?;
//! let app: Vec<axon_core::Component> = Vec::new(); // the app's top-level components, activated
//! let extras = args.debug.start("my-app", &sched, &app)?;
//! let mut top = app.clone();
//! top.extend(extras.components());
//! apps::shutdown::run_until_interrupted(&sched, &top)?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use axon_core::{
    Component, ComponentBuilder, ControlWatch, Ctx, InboxRef, Next, SchedulerHandle, Signal, pause, pause_until,
};
use kamaelia_chassis::{ChassisError, Pipeline};
use kamaelia_net::{CONNECT_TIMEOUT, CONNECTION_REFUSED, PEER_CLOSED, TcpClient};
use kamaelia_util::{Introspector, PureTransformer};

use crate::console::DebugConsole;

/// Where `--introspect` sends the topology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Parses `--introspect`'s `HOST:PORT` (`[v6-address]:PORT` for an IPv6 address).
///
/// # Errors
/// No port, a bad port, or an empty host.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let (host, port) = s.rsplit_once(':').ok_or_else(|| format!("expected HOST:PORT, got {s:?}"))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if host.is_empty() {
        return Err(format!("expected HOST:PORT, got {s:?} (no host)"));
    }
    let port = port.parse::<u16>().map_err(|_| format!("expected HOST:PORT, got {s:?} (bad port)"))?;
    Ok(Target { host: host.to_string(), port })
}

/// Parses `--console`'s value: a port, or `127.0.0.1:PORT` / `localhost:PORT`. Any other
/// address is refused: the console listens on 127.0.0.1 only.
///
/// # Errors
/// A bad port, or an address other than the loopback one.
pub fn parse_console(s: &str) -> Result<u16, String> {
    let port = match s.rsplit_once(':') {
        None => s,
        Some(("127.0.0.1" | "localhost", port)) => port,
        Some((host, _)) => {
            return Err(format!(
                "the debug console listens on 127.0.0.1 only (it can change the running system), not on {host}"
            ));
        }
    };
    port.parse::<u16>().map_err(|_| format!("expected a port number, got {port:?}"))
}

/// The debugging flags, to `#[command(flatten)]` into an app's arguments.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct DebugFlags {
    /// Serve a debug console on 127.0.0.1:PORT (0: any free port), a command language over
    /// the running system (`nc 127.0.0.1 PORT`, then `help`). It can inspect and change
    /// everything: it listens on 127.0.0.1 only, and says so on stderr with its port.
    #[arg(long, value_name = "PORT", value_parser = parse_console)]
    pub console: Option<u16>,
    /// Require this token as the first line of every console connection.
    #[arg(long, value_name = "TOKEN", requires = "console")]
    pub console_token: Option<String>,
    /// Stream this app's topology to an AxonVisualiser (`axon-visualiser`, or the original)
    /// listening on HOST:PORT; one not listening yet is tried again, and again after it
    /// goes away (waiting 0.2 s, doubling up to 2 s).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_target)]
    pub introspect: Option<Target>,
}

/// What [`DebugFlags::start`] started.
#[derive(Debug, Default)]
pub struct Extras {
    components: Vec<Component>,
    console: Option<SocketAddr>,
}

impl Extras {
    /// The debugging components (the console, the introspector's pipeline), to shut down with
    /// the app's own (as [`run_until_interrupted`](crate::shutdown::run_until_interrupted)'s
    /// `top`). They also shut themselves down once the app's components have all ended.
    pub fn components(&self) -> Vec<Component> {
        self.components.clone()
    }

    /// Where the console listens, with `--console`.
    pub fn console_addr(&self) -> Option<SocketAddr> {
        self.console
    }
}

impl DebugFlags {
    /// Starts what the flags ask for on `sched`, next to `app` (the app's top-level
    /// components, already activated): the console, whose warning (with its address) is
    /// printed on stderr when it starts; `Pipeline(Introspector, TcpClient(host, port))`;
    /// and, if either was started, a component named `name` that adopts `app` (so `ls`
    /// shows the app under its name) and, once they have all ended, shuts the extras down,
    /// so the scheduler's `run` still returns when the app is done.
    ///
    /// A topology stream that cannot connect, or that the visualiser closes, is reported on
    /// stderr (once, until it connects again) and tried again with backoff
    /// ([`RETRY_FIRST`] doubling up to [`RETRY_MAX`]), each time with a fresh Introspector
    /// (so the visualiser gets the whole topology); the app runs on meanwhile.
    ///
    /// # Errors
    /// The console's port cannot be listened on, or a component cannot be activated.
    pub fn start(&self, name: &str, sched: &SchedulerHandle, app: &[Component]) -> anyhow::Result<Extras> {
        let mut extras = Extras::default();
        if let Some(port) = self.console {
            let console = DebugConsole::new(port)
                .token(self.console_token.clone())
                .listen()
                .with_context(|| format!("cannot serve the debug console on 127.0.0.1:{port}"))?;
            extras.console = Some(console.local_addr);
            extras.components.push(console.component);
        }
        if let Some(target) = &self.introspect {
            // Checked once here, so a wiring mistake is an error now rather than at a retry.
            stream_pipeline(target).context("cannot build the introspector's pipeline")?;
            extras.components.push(introspect_link(target.clone()));
        }
        if extras.components.is_empty() {
            return Ok(extras);
        }
        let lifeline = lifeline(name, app, &extras.components);
        for c in extras.components.iter().chain([&lifeline]) {
            sched.activate(c)?;
        }
        Ok(extras)
    }
}

/// Adopts `app`; once every one has ended, sends `ShutdownMicroprocess` to each of `extras`.
fn lifeline(name: &str, app: &[Component], extras: &[Component]) -> Component {
    let b = ComponentBuilder::named(name.to_string());
    let ctx = b.ctx();
    for c in app {
        ctx.add_child(c);
    }
    let controls: Vec<InboxRef<Signal>> = extras.iter().filter_map(|c| c.inbox_ref::<Signal>("control").ok()).collect();
    b.run(move |ctx| async move {
        ctx.wait_for_children().await;
        for control in controls {
            // Control inboxes are unbounded: this never fails in practice, and a full one
            // has been told to stop already.
            let _ = control.try_send(Signal::ShutdownMicroprocess);
        }
    })
}

/// The wait before `--introspect`'s first retry; it doubles after each failed attempt.
pub const RETRY_FIRST: Duration = Duration::from_millis(200);

/// The longest wait between `--introspect`'s attempts.
pub const RETRY_MAX: Duration = Duration::from_secs(2);

/// One attempt at the topology stream: `Pipeline(Introspector, bytes, TcpClient)`.
fn stream_pipeline(target: &Target) -> Result<Component, ChassisError> {
    Pipeline::new([
        Introspector::new().build(),
        PureTransformer::new(|s: String| Some(s.into_bytes())),
        TcpClient::new(target.host.clone(), target.port).build(),
    ])
}

/// How an attempt ended.
enum Attempt {
    /// The stream ended by itself: `how` (the TcpClient's `ProducerFinished` message) and
    /// the details of an error, if one was reported.
    Ended { how: String, error: Option<String> },
    /// A terminal signal on our `control`: stop.
    Stopped(Signal),
}

/// `IntrospectLink`: keeps a topology stream to `target` going. Each attempt is a child
/// [`stream_pipeline`] whose `signal` comes into `stream`; when it ends by itself (connect
/// refused, timed out, or the visualiser went away) the pipeline is shut down and, after a
/// wait ([`RETRY_FIRST`] doubling up to [`RETRY_MAX`]; back to [`RETRY_FIRST`] after a
/// stream that had connected), a new one is started. A failure is reported on stderr once,
/// until an attempt connects again.
///
/// Boxes: `control`, `signal` (standard); `stream: Signal` (private: the current attempt's
/// `signal`); `inbox`, `outbox` unused.
///
/// Shutdown: the standard contract ([`ControlWatch`]): either terminal signal, even during a
/// wait, shuts the current attempt down and ends once it has. Other signals are passed on.
fn introspect_link(target: Target) -> Component {
    let mut b = ComponentBuilder::new("IntrospectLink");
    let io = b.standard::<(), ()>();
    let stream = b.inbox::<Signal>("stream");
    b.run(move |ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal);
        let mut wait = RETRY_FIRST;
        let mut reported = false;
        let end = loop {
            let Ok(pipeline) = stream_pipeline(&target) else {
                // Built once already in `start`: cannot fail.
                break Signal::producer_finished();
            };
            let attempt = match ctx.link((&pipeline, "signal"), (&ctx.component(), "stream")) {
                Ok(_) => match ctx.spawn(&pipeline) {
                    Ok(()) => follow_attempt(&mut watch, &stream).await,
                    Err(e) => Attempt::Ended { how: format!("cannot start: {e}"), error: None },
                },
                Err(e) => Attempt::Ended { how: format!("cannot link: {e}"), error: None },
            };
            if let Ok(control) = pipeline.inbox_ref::<Signal>("control") {
                // Control inboxes are unbounded: this is never refused for room.
                let _ = control.try_send(Signal::ShutdownMicroprocess);
            }
            let stopped = wait_for_children(&ctx, &mut watch).await;
            ctx.remove_child(&pipeline);
            let (how, error) = match (attempt, stopped) {
                (Attempt::Stopped(end), _) | (_, Some(end)) => break end,
                (Attempt::Ended { how, error }, None) => (how, error),
            };
            let had_connected = how == PEER_CLOSED;
            if had_connected {
                wait = RETRY_FIRST;
                reported = false;
            }
            if !reported {
                // The usual two say all; anything else gets its details.
                let plain = how == CONNECTION_REFUSED || how == CONNECT_TIMEOUT;
                let detail = error.filter(|_| !plain).map(|e| format!(" ({e})")).unwrap_or_default();
                let what = if had_connected {
                    format!("the topology stream to {target} stopped: {how}")
                } else {
                    format!("cannot stream the topology to {target}: {how}{detail}")
                };
                note(format_args!("{what}; trying again until it listens (every {} s at most)", RETRY_MAX.as_secs()));
                reported = true;
            }
            if let Some(end) = sleep_watching(&mut watch, wait).await {
                break end;
            }
            wait = (wait * 2).min(RETRY_MAX);
        };
        watch.finish(end).await;
    })
}

/// Writes an `introspect:` line on stderr, ignoring a closed stderr.
fn note(text: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "introspect: {text}");
}

/// Follows one attempt's `signal` until it ends, or a terminal signal arrives on `control`.
async fn follow_attempt(watch: &mut ControlWatch, stream: &axon_core::Inbox<Signal>) -> Attempt {
    let mut error = None;
    loop {
        match watch.next(stream).await {
            Next::Data(Signal::ErrorInformation { message, .. }) => error = Some(message),
            Next::Data(Signal::ProducerFinished { message, .. }) => {
                return Attempt::Ended { how: message.unwrap_or_else(|| "ended".into()), error };
            }
            Next::Data(s) if s.is_shutdown() => return Attempt::Ended { how: "shut down".into(), error },
            Next::Data(_) | Next::Other(_) => {}
            Next::End(end) => return Attempt::Stopped(end),
        }
    }
}

/// Waits for every child to end (a child's end wakes its parent). Returns a shutdown that
/// arrived on `control` meanwhile (a `ProducerFinished` stays noted in `watch`).
async fn wait_for_children(ctx: &Ctx, watch: &mut ControlWatch) -> Option<Signal> {
    let mut stopped = None;
    while !ctx.children_done() {
        if let Some(end) = watch.check() {
            stopped.get_or_insert(end);
        }
        pause().await;
    }
    stopped
}

/// Waits `wait`, or less if a terminal signal arrives on `control` (returned then).
async fn sleep_watching(watch: &mut ControlWatch, wait: Duration) -> Option<Signal> {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(end) = watch.check() {
            return Some(end);
        }
        if let Some(end) = watch.take_finished() {
            return Some(end);
        }
        if Instant::now() >= deadline {
            return None;
        }
        pause_until(deadline).await;
    }
}
