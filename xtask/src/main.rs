//! `cargo xtask`: the project's automation. `ci` runs exactly what `.ci/run` runs; `bench`
//! runs our system side by side with its peers and writes a report; `loom` model-checks
//! axon-core's concurrency; `transcode` runs the transcode-and-upload batch job
//! (`apps::transcode`).

mod bench;
mod loom;
mod transcode;
mod transcode_distributed;

use std::process::{Command, ExitCode};

/// One step of CI: a description and the program and arguments it runs (`cargo` means the
/// cargo running xtask). `.ci/run` installs what these need, then runs exactly these.
const CI_STEPS: &[(&str, &str, &[&str])] = &[
    ("tests (README's test command)", "cargo", &["test", "--workspace"]),
    ("formatting", "cargo", &["fmt", "--all", "--check"]),
    ("lints", "cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
    (
        "benchmarks, quick mode (each workload tiny, results checked)",
        "cargo",
        &["run", "--quiet", "--package", "xtask", "--", "bench", "--quick"],
    ),
    (
        "a real window under Xvfb: a line typed into the chat client reaches another client \
         (screenshot in target/ci-artifacts/)",
        "bash",
        &[".ci/xvfb-check.sh"],
    ),
];

pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

fn ci() -> ExitCode {
    for (what, program, args) in CI_STEPS {
        let program = if *program == "cargo" { cargo() } else { program.to_string() };
        eprintln!("xtask ci: {what}: {program} {}", args.join(" "));
        match Command::new(&program).args(*args).status() {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("xtask ci: {what} failed ({s})");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("xtask ci: could not run {program}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    eprintln!("xtask ci: all steps passed");
    ExitCode::SUCCESS
}

const USAGE: &str = "usage: cargo xtask <command>

commands:
  ci      run what CI runs: the tests, cargo fmt --check, cargo clippy -D warnings,
          the benchmarks' quick mode, and the chat client's window check under Xvfb
  bench   run the benchmarks side by side with the peers and write docs/benchmarks/<date>.md
          (`cargo xtask bench --help` for options)
  loom    model-check axon-core's concurrency (postoffice, task cell, parkers) with loom
          (`cargo xtask loom --help` for options)
  transcode  transcode videos with ffmpeg and upload them, stoppable and resumable
          (`cargo xtask transcode --help` for options)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench::main(&args[1..]),
        Some("loom") => loom::main(&args[1..]),
        Some("transcode") => transcode::main(&args[1..]),
        Some(bench::CHILD) => bench::child_main(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("xtask: unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
