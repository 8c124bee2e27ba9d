//! `bulletin-board`: a multi-user bulletin board over telnet, its users and messages in an
//! SQLite file. Try it with `telnet 127.0.0.1 1700` (or `nc`) in two terminals.
//!
//! Exit status: 0 after Ctrl-C (every connection closed, the database closed cleanly); 2
//! when the database cannot be opened (missing directory, not a database, locked by another
//! process) or the port cannot be listened on, with a message on stderr; 1 for other
//! failures. A second Ctrl-C exits at once with 130.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use apps::bulletin::{BulletinBoard, DEFAULT_DB, DEFAULT_PORT};
use clap::Parser;

/// A multi-user bulletin board: log in, list, read, post and delete messages; users who are
/// connected get a notice when a message for them arrives.
#[derive(Parser, Debug)]
#[command(name = "bulletin-board", version)]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// The port to listen on (0: any free port; the one chosen is printed).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// The SQLite file holding users and messages (created if missing).
    #[arg(long, value_name = "FILE", default_value = DEFAULT_DB)]
    db: PathBuf,
    /// At most this many clients at once; one more is told the board is full and closed.
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    #[command(flatten)]
    debug: apps::appflags::DebugFlags,
}

/// An environment the board cannot run in (its database, its port).
const EXIT_ENVIRONMENT: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    let board = match BulletinBoard::new(&args.db)
        .bind(args.bind)
        .port(args.port)
        .max_connections(args.max_connections)
        .listen()
    {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "bulletin-board: {e}");
            return ExitCode::from(EXIT_ENVIRONMENT);
        }
    };
    match run(&args, board) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "bulletin-board: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args, board: apps::bulletin::Board) -> anyhow::Result<()> {
    let sched = kamaelia_net::scheduler()?;
    board.activate(&sched)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Bulletin board running on port {}", board.local_addr.port())?;
    out.flush()?;
    drop(out);
    let _ = writeln!(std::io::stderr().lock(), "bulletin-board: keeping the board in {}", args.db.display());
    let extras = args.debug.start("bulletin-board", &sched, &board.components())?;
    let top = [board.components(), extras.components()].concat();
    apps::shutdown::run_until_interrupted(&sched, &top)
}
