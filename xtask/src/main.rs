//! `cargo xtask`: the project's automation. `ci` runs exactly what `.ci/run` runs.

use std::process::{Command, ExitCode};

/// One step of CI: a description and a cargo command line.
const CI_STEPS: &[(&str, &[&str])] = &[
    ("tests (README's test command)", &["test", "--workspace"]),
    ("formatting", &["fmt", "--all", "--check"]),
    ("lints", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
];

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

fn ci() -> ExitCode {
    for (what, args) in CI_STEPS {
        eprintln!("xtask ci: {what}: cargo {}", args.join(" "));
        match Command::new(cargo()).args(*args).status() {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("xtask ci: {what} failed ({s})");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("xtask ci: could not run cargo: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    eprintln!("xtask ci: all steps passed");
    ExitCode::SUCCESS
}

const USAGE: &str = "usage: cargo xtask <command>

commands:
  ci      run what CI runs: the tests, cargo fmt --check, cargo clippy -D warnings";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
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
