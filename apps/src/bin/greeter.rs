//! `greeter`: answers each line `L` a client sends with `hello L`. Try it with
//! `nc 127.0.0.1 1601`.

use std::io::Write;
use std::net::IpAddr;

use anyhow::Context;
use apps::greeter::{DEFAULT_PORT, Greeter};
use clap::Parser;

/// A greeter: answers each line L with "hello L".
#[derive(Parser, Debug)]
#[command(name = "greeter", version)]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// The port to listen on (0: any free port; the one chosen is printed).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    #[command(flatten)]
    debug: apps::appflags::DebugFlags,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let sched = kamaelia_net::scheduler().context("cannot start the scheduler")?;
    let greeter = Greeter::new()
        .bind(args.bind)
        .port(args.port)
        .listen()
        .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
    greeter.activate(&sched)?;
    let extras = args.debug.start("greeter", &sched, &greeter.components())?;
    let top = [greeter.components(), extras.components()].concat();
    // The handler first: whoever reads the banner may signal at once.
    apps::shutdown::shut_down_on_signals(&top)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Greeter running on port {}", greeter.local_addr.port())?;
    out.flush()?;
    drop(out);
    sched.run();
    Ok(())
}
