//! DirectoryWatcher: emits files that appear in a directory once they are fully written.
