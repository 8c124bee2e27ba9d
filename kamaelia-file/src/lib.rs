//! Kamaelia's files and processes: [`Follow`] (tail -F), [`Grep`], [`Printer`], [`Find`],
//! [`ReadFile`], [`WriteFile`], [`DirectoryWatcher`], [`FileSlurper`], [`Mover`] and
//! [`UnixProcess`], composed like Unix pipes: `Pipeline(Follow(path), Grep(".*pants.*"), Printer())`.

mod find;
mod follow;
mod grep;
mod printer;
mod process;
mod readfile;
mod slurp;
mod watcher;
mod writefile;

pub use find::*;
pub use follow::*;
pub use grep::*;
pub use printer::*;
pub use process::*;
pub use readfile::*;
pub use slurp::*;
pub use watcher::*;
pub use writefile::*;
