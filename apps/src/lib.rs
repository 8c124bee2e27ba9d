//! Applications composed from the workspace crates; the binaries live in `src/bin/`.
