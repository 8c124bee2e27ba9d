//! Kamaelia file and process components: Follow, Grep, Printer, Find, DirectoryWatcher, UnixProcess.
//!
//! Not built yet: this crate is filled by the kamaelia-file issue.
