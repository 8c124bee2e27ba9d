//! Running a system until Ctrl-C: the first asks the top-level components to shut down and
//! lets them finish; a second exits at once.

use std::sync::atomic::{AtomicUsize, Ordering};

use axon_core::{Component, InboxRef, Scheduler, Signal};

/// The exit status after a second Ctrl-C (128 + SIGINT, as a shell reports it).
pub const INTERRUPTED_TWICE: i32 = 130;

/// Runs `sched` until every component has ended, with a Ctrl-C handler (SIGINT, and SIGTERM
/// and SIGHUP too) installed: the first signal sends [`Signal::ShutdownMicroprocess`] to the
/// `control` inbox of each of `top`, in order, and `run` returns once they (and everything
/// they started) have ended; a second signal exits the process at once with status
/// [`INTERRUPTED_TWICE`].
///
/// A process has one such handler: call this once, from `main`.
///
/// # Errors
/// If one of `top` has no `Signal` control inbox, or the handler cannot be installed.
pub fn run_until_interrupted(sched: &Scheduler, top: &[Component]) -> anyhow::Result<()> {
    let controls =
        top.iter().map(|c| c.inbox_ref::<Signal>("control")).collect::<Result<Vec<InboxRef<Signal>>, _>>()?;
    let presses = AtomicUsize::new(0);
    ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!("Shutting down (interrupt again to exit at once)");
            for control in &controls {
                // Control inboxes are unbounded: this never waits.
                control.send_blocking(Signal::ShutdownMicroprocess);
            }
        } else {
            std::process::exit(INTERRUPTED_TWICE);
        }
    })?;
    sched.run();
    Ok(())
}
