//! Find: walks a directory tree and emits the paths it finds.
