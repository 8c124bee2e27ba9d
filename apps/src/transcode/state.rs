//! The job's state, kept in the file system: where sources, half-written and finished
//! outputs live, moves that never replace a file, and the restart recovery.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where everything lives, all under the source directory (so moves are renames):
///
/// ```text
/// SOURCE/talk.mp4                  a source waiting to be transcoded
/// SOURCE/transcoding/talk.avi      ffmpeg's output while it runs (half-written until it exits 0)
/// SOURCE/to_upload/talk.avi        a finished output waiting to be uploaded
/// SOURCE/encoded/talk.avi          an output that has been uploaded
/// SOURCE/done/talk.mp4             a source whose transcode succeeded
/// ```
///
/// Sources in subdirectories keep their relative path in every state directory.
#[derive(Clone, Debug)]
pub struct Layout {
    source: PathBuf,
}

/// The state directories, as their names appear under the source directory. The walk for
/// sources never enters them.
pub const STATE_DIRS: [&str; 4] = ["done", "to_upload", "encoded", "transcoding"];

impl Layout {
    /// The layout under `source`.
    pub fn new(source: impl Into<PathBuf>) -> Self {
        Layout { source: source.into() }
    }

    /// The source directory.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Sources whose transcode succeeded.
    pub fn done(&self) -> PathBuf {
        self.source.join("done")
    }

    /// Finished outputs waiting to be uploaded.
    pub fn to_upload(&self) -> PathBuf {
        self.source.join("to_upload")
    }

    /// Outputs that have been uploaded.
    pub fn encoded(&self) -> PathBuf {
        self.source.join("encoded")
    }

    /// Outputs being written by ffmpeg.
    pub fn transcoding(&self) -> PathBuf {
        self.source.join("transcoding")
    }

    /// Creates the state directories.
    ///
    /// # Errors
    /// The directory that could not be created, with why.
    pub fn create(&self) -> Result<(), (PathBuf, io::Error)> {
        for dir in [self.done(), self.to_upload(), self.encoded(), self.transcoding()] {
            fs::create_dir_all(&dir).map_err(|e| (dir.clone(), e))?;
        }
        Ok(())
    }
}

/// The output name for a source (relative path): the same path with `ext` as its extension.
pub(super) fn output_name(source: &Path, ext: &str) -> PathBuf {
    source.with_extension(ext)
}

/// Moves the file `from` to `to` (creating `to`'s directory), never replacing a file: if
/// `to` exists, `name-1.ext`, `name-2.ext`... is used instead. Returns where it went.
///
/// Both are under the source directory, so this is a rename. A hard link and an unlink make
/// the no-replace check and the move one step where the file system allows it.
///
/// # Errors
/// The I/O error, if the file could not be moved.
pub(super) fn move_no_clobber(from: &Path, to: &Path) -> io::Result<PathBuf> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    for n in 0u32.. {
        let candidate = if n == 0 { to.to_path_buf() } else { numbered(to, n) };
        match fs::hard_link(from, &candidate) {
            Ok(()) => {
                fs::remove_file(from)?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(e),
            // No hard links here (some file systems): check, then rename.
            Err(_) => {
                if candidate.exists() {
                    continue;
                }
                fs::rename(from, &candidate)?;
                return Ok(candidate);
            }
        }
    }
    Err(io::Error::other("no free name"))
}

/// `dir/name.ext` -> `dir/name-n.ext`.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let stem = path.file_stem().map(OsString::from).unwrap_or_default();
    let mut name = stem;
    name.push(format!("-{n}"));
    if let Some(ext) = path.extension() {
        name.push(".");
        name.push(ext);
    }
    path.with_file_name(name)
}

/// Every regular file under `dir`, as paths relative to it, sorted. A missing `dir` has none.
///
/// # Errors
/// A directory that cannot be read.
pub(super) fn files_under(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let entries = match fs::read_dir(dir.join(&rel)) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound && rel.as_os_str().is_empty() => return Ok(found),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = rel.join(entry.file_name());
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Restart recovery: removes the half-written outputs an interrupted run left in
/// `transcoding/` (their sources are still in place, so they are transcoded again). Empty
/// subdirectories are left. With `dry_run`, only says what it would do. Returns a note per
/// file.
///
/// # Errors
/// A file that could not be removed, or a directory that could not be read.
pub(super) fn recover(layout: &Layout, dry_run: bool) -> io::Result<Vec<String>> {
    let mut notes = super::transcoder::stop_leftovers(layout, dry_run)?;
    for rel in files_under(&layout.transcoding())? {
        if super::transcoder::is_pid_file(&rel) {
            continue;
        }
        let path = layout.transcoding().join(&rel);
        if dry_run {
            notes.push(format!("would remove the half-written output {}", path.display()));
        } else {
            fs::remove_file(&path)?;
            notes.push(format!(
                "removed the half-written output {} (its source will be transcoded again)",
                path.display()
            ));
        }
    }
    Ok(notes)
}
