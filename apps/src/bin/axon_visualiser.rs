//! `axon-visualiser`: shows the components, boxes and links of running systems as they
//! change. Start it, then run any app with `--introspect 127.0.0.1:1500` (or a Python
//! Kamaelia system with `Pipeline(Introspector(), TCPClient("127.0.0.1", 1500))`).
//!
//! In the window: drag a node to move it (press on it, release where it should go), drag the
//! background to pan, `+`/`-` zoom, `f` fits everything in again. Without a display, `--json`
//! prints the topology as one JSON line per change and `--dot FILE` keeps FILE a Graphviz
//! graph of it.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use apps::visualiser::{DEFAULT_PORT, Output, Visualiser};
use clap::Parser;

/// The AxonVisualiser: a server for the topology protocol Axon's Introspector speaks (one
/// connection per system), showing what it receives in a window.
#[derive(Parser, Debug)]
#[command(name = "axon-visualiser", version)]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// The port to listen on (0: any free port). The first line of output says which:
    /// `Axon visualiser listening on port N`, on stdout (on stderr with --json).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// No window: keep FILE a Graphviz DOT graph of the topology, rewritten on each change.
    #[arg(long, value_name = "FILE")]
    dot: Option<PathBuf>,
    /// No window: print the topology on stdout as one JSON line per change.
    #[arg(long)]
    json: bool,
    /// The window's size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1024x768", value_parser = parse_size)]
    size: (usize, usize),
    /// Also show the visualiser's own topology (as system 0).
    #[arg(long)]
    navelgaze: bool,
    #[command(flatten)]
    debug: apps::appflags::DebugFlags,
}

fn parse_size(s: &str) -> Result<(usize, usize), String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(|| format!("expected WIDTHxHEIGHT, got {s:?}"))?;
    match (w.parse::<usize>(), h.parse::<usize>()) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => Err(format!("expected WIDTHxHEIGHT (two positive numbers), got {s:?}")),
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let headless = args.json || args.dot.is_some();
    let output = if headless {
        let json: Option<apps::visualiser::SharedWriter> =
            if args.json { Some(Arc::new(Mutex::new(std::io::stdout()))) } else { None };
        Output::Headless { json, dot: args.dot.clone() }
    } else {
        if std::env::var_os("DISPLAY").is_none() {
            bail!("no display: $DISPLAY is not set (use --json or --dot FILE to run without one)");
        }
        Output::Window { size: args.size, display: None }
    };
    let sched = kamaelia_net::scheduler().context("cannot start the scheduler")?;
    let system = Visualiser::new()
        .bind(args.bind)
        .port(args.port)
        .output(output)
        .navelgaze(args.navelgaze)
        .listen()
        .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
    system.activate(&sched)?;
    let extras = args.debug.start("axon-visualiser", &sched, &system.components())?;
    let top = [system.components(), extras.components()].concat();
    // The handler first: whoever reads the banner may signal at once.
    apps::shutdown::shut_down_on_signals(&top)?;
    let banner = format!("Axon visualiser listening on port {}", system.local_addr.port());
    if args.json {
        eprintln!("{banner}");
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{banner}")?;
        out.flush()?;
    }
    sched.run();
    if system.outcome.failed() {
        std::process::exit(1);
    }
    Ok(())
}
