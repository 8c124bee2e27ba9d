//! Kamaelia's files and processes, composed like Unix pipes:
//! `Pipeline(Follow(path), Grep(".*pants.*"), Printer())`.
//!
//! - Reading: [`Follow`] (`tail -F`, driven by change notifications), [`ReadFile`]
//!   (Kamaelia's ReadFileAdaptor: lines, blocks or a bit rate), [`FileSlurper`] (whole
//!   files, one per path), [`Find`] (a directory walk) and [`DirectoryWatcher`] (files as
//!   they finish being written).
//! - Filtering and writing: [`Grep`], [`Printer`] (stdout, stderr or any writer),
//!   [`WriteFile`] (optionally atomic) and [`Mover`].
//! - Processes: [`UnixProcess`], a command with stdin, stdout and stderr as boxes, and its
//!   [`ProcessExit`].
//! - Errors: [`FileError`] (one path, on an `error` outbox), [`FollowError`], [`GrepError`].
//!
//! Every component keeps the shutdown contract of axon-core's
//! [`Driver`](axon_core::Driver) and [`ControlWatch`](axon_core::ControlWatch):
//! `ProducerFinished` on `control` drains, then is passed on; `ShutdownMicroprocess` stops
//! it at once, even while it waits for room downstream; other signals are passed on (by
//! [`Follow`] once it has caught up with its file). Each component's doc says only what it
//! adds. Threaded components (those whose I/O may block) use the watch's blocking calls.
//!
//! ```
//! use axon_core::{ComponentBuilder, Scheduler, link};
//! use kamaelia_file::{Grep, Printer, ReadFile};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let (input, output) = (dir.path().join("app.log"), dir.path().join("pants.txt"));
//! std::fs::write(&input, "socks\nblue pants\nhat\nred pants\n").unwrap();
//!
//! let read = ReadFile::new(&input).build();
//! let grep = Grep::new("pants").unwrap().build();
//! // A component of one's own, on the driver: the whole shutdown contract comes with it.
//! let mut b = ComponentBuilder::new("Upper");
//! let io = b.standard::<String, String>();
//! let upper = b.run(|_ctx| io.transform(|line| Some(line.to_uppercase())));
//! let print = Printer::new().writer(std::fs::File::create(&output).unwrap()).build();
//!
//! // Each `outbox` into the next `inbox`, each `signal` into the next `control`: the
//! // ProducerFinished sent at the end of the file stops each in turn, after what it holds.
//! let chain = [&read, &grep, &upper, &print];
//! for pair in chain.windows(2) {
//!     link((pair[0], "outbox"), (pair[1], "inbox")).unwrap();
//!     link((pair[0], "signal"), (pair[1], "control")).unwrap();
//! }
//! let sched = Scheduler::new();
//! for c in chain {
//!     sched.activate(c).unwrap();
//! }
//! sched.run();
//! assert_eq!(std::fs::read_to_string(&output).unwrap(), "BLUE PANTS\nRED PANTS\n");
//! ```

mod find;
mod follow;
mod grep;
mod printer;
mod process;
mod readfile;
mod slurp;
mod watcher;
mod writefile;

pub use find::{FileError, Find, FindKind};
pub use follow::{FOLLOW_MAX_LINE, Follow, FollowError};
pub use grep::{Grep, GrepError};
pub use printer::{OUTPUT_CLOSED, Printer};
pub use process::{Leftover, ProcessExit, UnixProcess, kill_leftover};
pub use readfile::ReadFile;
pub use slurp::{FileSlurper, Mover};
pub use watcher::{DEFAULT_SETTLE, DirectoryWatcher};
pub use writefile::WriteFile;
