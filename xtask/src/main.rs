//! `cargo xtask`: the project's automation. `test` sets up what the tests need and runs them
//! (README's test command); `ci` runs exactly what `.ci/run` runs; `bench` runs our system
//! side by side with its peers and writes a report; `loom` model-checks axon-core's
//! concurrency; `transcode` runs the release build of the `transcode` binary (apps).
//!
//! Every subcommand is a variant of [`Cmd`] with its own clap arguments; adding one is a
//! variant, its doc comment (the `--help` line) and a match arm in `main`.

mod bench;
mod loom;
mod provision;
mod transcode;
mod transcode_distributed;

use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

use provision::Need;

/// The project's automation: set up and run the tests, CI's checks, the benchmarks, and the
/// transcode job.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Set up what the tests need (Debian packages through apt when root, else the exact
    /// command; a Python venv under target/ from PyPI), then run `cargo test --workspace`.
    Test(provision::TestArgs),
    /// Run what CI runs: the set-up and the tests, cargo fmt --check, cargo clippy -D
    /// warnings, cargo package, the benchmarks' quick mode, and the window check under Xvfb.
    Ci(CiArgs),
    /// Run the benchmarks side by side with the peers and write `docs/benchmarks/<date>.md`.
    Bench(bench::Options),
    /// Transcode videos with ffmpeg and upload them, stoppable and resumable: builds the
    /// `transcode` binary in release and runs it with these arguments (`--help` for its own).
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Transcode {
        /// The transcode binary's arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
        args: Vec<String>,
    },
    /// Model-check axon-core's concurrency (postoffice, task cell, parkers) with loom, in
    /// target/loom (`cargo xtask loom --help` for its options).
    #[command(disable_help_flag = true)]
    Loom {
        /// `--preemptions N` and a test-name filter.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
        args: Vec<String>,
    },
    /// One measured benchmark run in a fresh process (used by `bench`).
    #[command(name = bench::CHILD, hide = true)]
    BenchChild {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// `cargo xtask ci`.
#[derive(clap::Args, Debug)]
struct CiArgs {
    /// Print every Debian package CI installs (the tests' and the window check's), one per
    /// line, and exit: `.ci/run` installs these.
    #[arg(long)]
    apt_packages: bool,
}

/// One step of CI: a description and the program and arguments it runs (`cargo` means the
/// cargo running xtask; `RUSTDOCFLAGS=-D warnings` is set for the docs step only). `.ci/run` installs the Debian packages, then `cargo xtask ci` sets
/// up the rest (as `cargo xtask test` does) and runs exactly these.
const CI_STEPS: &[(&str, &str, &[&str])] = &[
    ("tests (README's test command, `cargo xtask test`, after its set-up)", "cargo", &["test", "--workspace"]),
    ("formatting", "cargo", &["fmt", "--all", "--check"]),
    ("lints", "cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
    (
        "packaging: the library crates as crates.io would take them (apps and xtask are not published)",
        "cargo",
        &[
            "package",
            "--workspace",
            "--exclude",
            "apps",
            "--exclude",
            "xtask",
            "--no-verify",
            "--allow-dirty",
            "--quiet",
        ],
    ),
    (
        "docs: every crate's rustdoc, a broken intra-doc link or bad doc fails",
        "cargo",
        &["doc", "--no-deps", "--workspace", "--quiet"],
    ),
    (
        "model checks: axon-core's postoffice, task cell and parkers under loom",
        "cargo",
        &["run", "--quiet", "--package", "xtask", "--", "loom"],
    ),
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

fn ci(args: &CiArgs) -> ExitCode {
    let needs = [Need::Tests, Need::WindowCheck];
    if args.apt_packages {
        for p in provision::apt_packages(&needs) {
            println!("{p}");
        }
        return ExitCode::SUCCESS;
    }
    eprintln!("xtask ci: set-up (as `cargo xtask test`): Debian packages, the test venv");
    let env = match provision::provision(&needs) {
        Ok(env) => env,
        Err(e) => {
            eprintln!("xtask ci: {e}");
            return ExitCode::from(2);
        }
    };
    for (what, program, args) in CI_STEPS {
        let program = if *program == "cargo" { cargo() } else { program.to_string() };
        eprintln!("xtask ci: {what}: {program} {}", args.join(" "));
        let mut cmd = Command::new(&program);
        cmd.args(*args);
        env.apply(&mut cmd);
        if args.first() == Some(&"doc") {
            cmd.env("RUSTDOCFLAGS", "-D warnings");
        }
        match cmd.status() {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Test(args) => provision::main(args),
        Cmd::Ci(args) => ci(&args),
        Cmd::Bench(mut opts) => {
            // The arguments as given, for the report and for the optimised re-run.
            opts.args = std::env::args().skip_while(|a| a != "bench").skip(1).collect();
            bench::main(opts)
        }
        Cmd::Transcode { args } => transcode::main(&args),
        Cmd::Loom { args } => loom::main(&args),
        Cmd::BenchChild { args } => bench::child_main(&args),
    }
}
