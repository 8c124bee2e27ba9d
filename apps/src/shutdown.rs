//! Signal handling shared by every app binary and the transcode job: SIGINT, SIGTERM and
//! SIGHUP, counted, with a handler that cannot die.
//!
//! What the signals do (every app): SIGINT (Ctrl-C), SIGTERM and SIGHUP are one and the same
//! request. The first asks the top-level components to shut down and lets them finish (a
//! server closes its connections, logwatch prints what was already appended), and the
//! process then exits 0; a second exits at once with status [`INTERRUPTED_TWICE`] (130).
//! SIGHUP is treated as SIGTERM because it means the terminal (or whatever started the
//! app) has gone away: there is nobody left to serve, and no configuration to reload.
//!
//! Why a helper: the handler runs on a thread of its own (the `ctrlc` crate's), and
//! everything it does must be unable to panic. A panicking handler kills that thread, and
//! every later signal is then lost: the process could only be stopped by SIGKILL. The
//! classic way to get there is `eprintln!` once stderr is a closed pipe (the terminal or the
//! parent went away): so [`say`] writes to stderr ignoring any failure, and
//! [`on_signals`] also catches a panic in the caller's step and keeps listening.

use std::fmt;
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use axon_core::{Component, InboxRef, Scheduler, Signal};

/// The exit status after a second Ctrl-C (128 + SIGINT, as a shell reports it).
pub const INTERRUPTED_TWICE: i32 = 130;

/// Writes one line on stderr, ignoring a failure (a closed stderr), where `eprintln!` would
/// panic. Usable anywhere, and the only way a signal step should speak.
pub fn say(line: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Installs the process's handler for SIGINT, SIGTERM and SIGHUP: `step(n)` runs for each
/// signal, `n` counting from 1, on the handler's thread.
///
/// `step` should only send messages (`InboxRef::send_blocking` into an unbounded control
/// inbox never waits), [`say`] things and perhaps `std::process::exit`. Should it panic all
/// the same, the panic is caught (and reported on stderr, failures ignored) and the next
/// signal still runs the next step.
///
/// A process has one such handler: call this once, from `main`.
///
/// # Errors
/// The handler cannot be installed (one is installed already, or the system refused).
pub fn on_signals(mut step: impl FnMut(usize) + Send + 'static) -> Result<(), ctrlc::Error> {
    let mut count = 0usize;
    ctrlc::set_handler(move || {
        count = count.saturating_add(1);
        if catch_unwind(AssertUnwindSafe(|| step(count))).is_err() {
            say(format_args!("the signal handler failed (signal {count}); the next signal still counts"));
        }
    })
}

/// Installs the signal handler ([`on_signals`]) for a system of top-level components `top`:
/// the first signal sends [`Signal::ShutdownMicroprocess`] to the `control` inbox of each of
/// them, in order; a second exits the process at once with status [`INTERRUPTED_TWICE`].
/// See the module docs for which signals.
///
/// Call it before saying the app is ready (its banner), so that a signal sent by whoever
/// read the banner cannot come before the handler (and end the process uncleanly), then
/// run the scheduler. A process has one such handler: call this once, from `main`.
///
/// # Errors
/// If one of `top` has no `Signal` control inbox, or the handler cannot be installed.
pub fn shut_down_on_signals(top: &[Component]) -> anyhow::Result<()> {
    let controls =
        top.iter().map(|c| c.inbox_ref::<Signal>("control")).collect::<Result<Vec<InboxRef<Signal>>, _>>()?;
    on_signals(move |n| {
        if n == 1 {
            say(format_args!("Shutting down (interrupt again to exit at once)"));
            for control in &controls {
                // Control inboxes are unbounded: this never waits.
                control.send_blocking(Signal::ShutdownMicroprocess);
            }
        } else {
            std::process::exit(INTERRUPTED_TWICE);
        }
    })?;
    Ok(())
}

/// [`shut_down_on_signals`]`(top)`, then runs `sched` until every component has ended.
///
/// # Errors
/// As [`shut_down_on_signals`].
pub fn run_until_interrupted(sched: &Scheduler, top: &[Component]) -> anyhow::Result<()> {
    shut_down_on_signals(top)?;
    sched.run();
    Ok(())
}
