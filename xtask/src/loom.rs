//! `cargo xtask loom`: axon-core's model tests under loom, which explores every interleaving
//! of the threads in each model (up to a bound on preemptions).
//!
//! It runs `RUSTFLAGS="--cfg loom" cargo test -p axon-core --release --lib loom_model` in
//! its own target directory (`target/loom`, so the normal build is not thrown away), with
//! debug assertions on (the task state's invariants are `debug_assert!`s) and
//! `LOOM_MAX_PREEMPTIONS=3` unless set (0.5 s of models; 5 takes about 9 s).

use std::process::{Command, ExitCode};
use std::time::Instant;

use crate::bench::workspace_root;
use crate::cargo;

const USAGE: &str = "usage: cargo xtask loom [--preemptions N] [FILTER]

Runs axon-core's loom model tests (the `loom_model` modules of postoffice.rs, task.rs and
park.rs; FILTER narrows them, e.g. `park::`) with RUSTFLAGS=\"--cfg loom\" in target/loom.
  --preemptions N   loom's preemption bound (default: $LOOM_MAX_PREEMPTIONS, else 3)";

pub(crate) fn main(args: &[String]) -> ExitCode {
    let mut preemptions = std::env::var("LOOM_MAX_PREEMPTIONS").unwrap_or_else(|_| "3".to_string());
    let mut filter = "loom_model".to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--preemptions" => match it.next() {
                Some(n) if n.parse::<usize>().is_ok() => preemptions = n.clone(),
                _ => {
                    eprintln!("xtask loom: --preemptions needs a number\n\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            f if !f.starts_with('-') => filter = f.to_string(),
            other => {
                eprintln!("xtask loom: unknown option {other:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let root = workspace_root();
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(flags) if !flags.trim().is_empty() => format!("{flags} --cfg loom"),
        _ => "--cfg loom".to_string(),
    };
    let mut cmd = Command::new(cargo());
    cmd.current_dir(&root)
        .args(["test", "-p", "axon-core", "--release", "--lib", "--", &filter])
        .env("RUSTFLAGS", rustflags)
        .env("CARGO_TARGET_DIR", root.join("target").join("loom"))
        .env("CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS", "true")
        .env("LOOM_MAX_PREEMPTIONS", &preemptions);
    eprintln!(
        "xtask loom: RUSTFLAGS=\"--cfg loom\" LOOM_MAX_PREEMPTIONS={preemptions} \
         cargo test -p axon-core --release --lib -- {filter}"
    );
    let start = Instant::now();
    let status = cmd.status();
    let took = start.elapsed().as_secs_f64();
    match status {
        Ok(s) if s.success() => {
            eprintln!("xtask loom: every model passed in {took:.1} s (build included)");
            ExitCode::SUCCESS
        }
        Ok(s) => {
            eprintln!("xtask loom: failed ({s}) after {took:.1} s");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("xtask loom: could not run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}
