//! One measured run in a fresh process: `xtask __bench-child WORKLOAD SYSTEM NUMBERS...`
//! runs it and prints the result as one JSON line.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Duration;

use serde::Serialize;

use super::plan::{Size, System, Workload};
use super::{SpawnRun, bulletin, logfile, net_driver, ours, threads_peer, tokio_peer};

/// A system left running at the end of a spawn run, kept alive until the process exits.
pub(crate) type Live = Box<dyn std::any::Any>;

/// The hidden subcommand's name.
pub(crate) const CHILD: &str = "__bench-child";

/// This process's limit on open files (soft, hard), from /proc/self/limits.
fn open_files_limit() -> Option<(u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut values = line["Max open files".len()..]
        .split_whitespace()
        .map(|v| if v == "unlimited" { Some(u64::MAX) } else { v.parse().ok() });
    Some((values.next()??, values.next()??))
}

/// The command that runs `workload` on `system` (a Rust one) at `size` in a child process.
///
/// A run that holds many sockets (clients and server in one process) gets its soft limit on
/// open files raised first, through the shell's `ulimit -n`, if it is too low.
pub(crate) fn command(exe: &Path, workload: Workload, system: System, size: Size) -> Command {
    let sockets = match size {
        Size::Chat { clients, .. } => 2 * clients as u64,
        Size::Idle { connections, .. } => 2 * connections as u64,
        Size::Bulletin { users, .. } => 3 * users as u64,
        _ => 0,
    };
    let needed = sockets + 256;
    let mut cmd = match open_files_limit() {
        Some((soft, hard)) if sockets > 0 && soft < needed => {
            let mut cmd = Command::new("sh");
            cmd.arg("-c").arg(format!("ulimit -Sn {} && exec \"$0\" \"$@\"", needed.min(hard))).arg(exe);
            cmd
        }
        _ => Command::new(exe),
    };
    cmd.arg(CHILD).arg(workload.name()).arg(system.id()).args(size.args());
    cmd
}

/// The server of a networking workload on `system`, running in the background.
fn server(workload: Workload, system: System) -> Result<(SocketAddr, Live), String> {
    match (workload, system) {
        (Workload::Echo, System::Ours1) => ours::echo_server(),
        (Workload::Echo, System::TokioCt) => tokio_peer::echo_server(false),
        (Workload::Echo, System::TokioMt) => tokio_peer::echo_server(true),
        (_, System::Ours1) => ours::chat_server(),
        (_, System::TokioCt) => tokio_peer::chat_server(false),
        (_, System::TokioMt) => tokio_peer::chat_server(true),
        (w, s) => Err(format!("{} does not run {}", s.id(), w.name())),
    }
}

fn print<T: Serialize>(result: &T) {
    println!("{}", serde_json::to_string(result).expect("a run's result serialises"));
}

/// Resident set size of this process now (VmRSS, from /proc/self/status), in bytes.
pub(crate) fn vm_rss_bytes() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// `xtask __bench-child ...`.
pub(crate) fn child_main(args: &[String]) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {CHILD}: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let workload = args.first().and_then(|w| Workload::from_name(w)).ok_or("expected a workload")?;
    let system = args.get(1).and_then(|s| System::from_id(s)).ok_or("expected a system")?;
    let nums: Vec<u64> =
        args[2..].iter().map(|a| a.parse().map_err(|_| format!("not a number: {a}"))).collect::<Result<_, _>>()?;
    let num = |i: usize| nums.get(i).copied().ok_or_else(|| format!("expected {} numbers", i + 1));
    match workload {
        Workload::Hackysack | Workload::HackysackKick => {
            let (players, turns) = (num(0)? as usize, num(1)?);
            if players < 2 {
                return Err("hackysack needs at least two players".into());
            }
            let r = match system {
                System::Ours1 => ours::hackysack(1, players, turns),
                System::Ours2 => ours::hackysack(2, players, turns),
                System::TokioCt => tokio_peer::hackysack(false, players, turns),
                System::TokioMt => tokio_peer::hackysack(true, players, turns),
                System::Threads => threads_peer::hackysack(players, turns)?,
                System::Axon => return Err("Axon runs as a Python script".into()),
                System::Grep => return Err("grep runs log-follow only".into()),
                System::RedisRaw => return Err("redis-raw runs redis-backplane only".into()),
            };
            print(&r);
        }
        Workload::Ring => {
            let (members, hops) = (num(0)? as usize, num(1)?);
            let r = match system {
                System::Ours1 => ours::ring(1, members, hops),
                System::Ours2 => ours::ring(2, members, hops),
                System::TokioCt => tokio_peer::ring(false, members, hops),
                System::TokioMt => tokio_peer::ring(true, members, hops),
                System::Threads => threads_peer::ring(members, hops)?,
                System::Axon => return Err("Axon runs as a Python script".into()),
                System::Grep => return Err("grep runs log-follow only".into()),
                System::RedisRaw => return Err("redis-raw runs redis-backplane only".into()),
            };
            print(&r);
        }
        Workload::Pipeline => {
            let (stages, messages) = (num(0)? as usize, num(1)?);
            let r = match system {
                System::Ours1 => ours::pipeline(1, stages, messages),
                System::Ours2 => ours::pipeline(2, stages, messages),
                System::TokioCt => tokio_peer::pipeline(false, stages, messages),
                System::TokioMt => tokio_peer::pipeline(true, stages, messages),
                System::Threads => threads_peer::pipeline(stages, messages)?,
                System::Axon => return Err("Axon runs as a Python script".into()),
                System::Grep => return Err("grep runs log-follow only".into()),
                System::RedisRaw => return Err("redis-raw runs redis-backplane only".into()),
            };
            print(&r);
        }
        Workload::Spawn => {
            let n = num(0)? as usize;
            // Each returns the live system with the figures: print, then leave without
            // tearing a million components down (exit runs no destructors).
            let (r, _live): (SpawnRun, Live) = match system {
                System::Ours1 => ours::spawn(1, n),
                System::Ours2 => ours::spawn(2, n),
                System::TokioCt => tokio_peer::spawn(false, n),
                System::TokioMt => tokio_peer::spawn(true, n),
                System::Threads => threads_peer::spawn(n)?,
                System::Axon => return Err("Axon runs as a Python script".into()),
                System::Grep => return Err("grep runs log-follow only".into()),
                System::RedisRaw => return Err("redis-raw runs redis-backplane only".into()),
            };
            print(&r);
            std::process::exit(0);
        }
        Workload::Chat | Workload::Echo | Workload::Idle => {
            let (addr, _live) = server(workload, system)?;
            let r = match workload {
                Workload::Chat => serde_json::to_value(net_driver::chat(addr, num(0)? as usize, num(1)?)?),
                Workload::Echo => serde_json::to_value(net_driver::echo(addr, num(0)?, num(1)? as usize)?),
                _ => serde_json::to_value(net_driver::idle(addr, num(0)? as usize, Duration::from_millis(num(1)?))?),
            }
            .map_err(|e| format!("cannot serialise the result: {e}"))?;
            print(&r);
            // The server is left running: leaving without tearing it down ends it.
            std::process::exit(0);
        }
        Workload::RedisBackplane => print(&super::redis::child(system, num(0)?, num(1)? as usize, num(2)?)?),
        Workload::Bulletin => {
            print(&bulletin::run(system, num(0)? as usize, num(1)?)?);
            // The server is left running: leaving without tearing it down ends it.
            std::process::exit(0);
        }
        Workload::LogFollow => {
            let path = logfile::path(num(0)?);
            if !path.exists() {
                return Err(format!("no log at {} (the harness makes it before the runs)", path.display()));
            }
            let r = match system {
                System::Ours1 => ours::log_follow(1, &path)?,
                System::Ours2 => ours::log_follow(2, &path)?,
                System::Grep => logfile::grep(&path)?,
                other => return Err(format!("{} does not run log-follow", other.id())),
            };
            print(&r);
        }
    }
    Ok(())
}
