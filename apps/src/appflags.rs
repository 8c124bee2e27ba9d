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

use anyhow::Context;
use axon_core::{Component, ComponentBuilder, ControlWatch, InboxRef, Next, SchedulerHandle, Signal, SignalPolicy};
use kamaelia_chassis::Pipeline;
use kamaelia_net::TcpClient;
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
    /// listening on HOST:PORT.
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
    /// stderr and stops; the app runs on.
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
        let mut reporter = None;
        if let Some(target) = &self.introspect {
            let pipeline = Pipeline::new([
                Introspector::new().build(),
                PureTransformer::new(|s: String| Some(s.into_bytes())),
                TcpClient::new(target.host.clone(), target.port).build(),
            ])
            .context("cannot build the introspector's pipeline")?;
            let r = stream_reporter(target.clone(), pipeline.inbox_ref::<Signal>("control")?);
            axon_core::link((&pipeline, "signal"), (&r, "control"))?;
            extras.components.push(pipeline);
            reporter = Some(r);
        }
        if extras.components.is_empty() {
            return Ok(extras);
        }
        let lifeline = lifeline(name, app, &extras.components);
        for c in extras.components.iter().chain(&reporter).chain([&lifeline]) {
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

/// Follows the topology stream's `signal`: reports a failure on stderr and, when the
/// connection ends by itself, stops the introspector (nothing would read what it sends).
///
/// Shutdown: the standard contract ([`ControlWatch`]). Policy [`SignalPolicy::Deliver`]: the
/// stream's signals are what it reads; it is their last reader, so they are not passed on.
fn stream_reporter(target: Target, pipeline_control: InboxRef<Signal>) -> Component {
    let mut b = ComponentBuilder::new("IntrospectReporter");
    let io = b.standard::<(), ()>();
    b.run(move |_ctx| async move {
        let mut watch = ControlWatch::new(io.control, io.signal).with_policy(SignalPolicy::Deliver);
        let end = loop {
            match watch.next(&io.inbox).await {
                Next::Other(Signal::ErrorInformation { message, .. }) => {
                    let _ = writeln!(std::io::stderr().lock(), "introspect: {message}");
                }
                Next::End(end) => {
                    if let Signal::ProducerFinished { message, .. } = &end {
                        let how = message.as_deref().unwrap_or("ended");
                        let _ = writeln!(
                            std::io::stderr().lock(),
                            "introspect: the topology stream to {target} stopped: {how}"
                        );
                        // Control inboxes are unbounded: this is never refused for room.
                        let _ = pipeline_control.try_send(Signal::ShutdownMicroprocess);
                    }
                    break end;
                }
                Next::Other(_) | Next::Data(()) => {}
            }
        };
        watch.finish(end).await;
    })
}
