//! Tidy checks run by `cargo test`: every Rust file says what it holds, and the crate
//! dependency rules of ARCHITECTURE.md hold.

use std::fs;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if p.is_dir() {
            rust_files(&p, out);
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc_line() {
    let mut files = Vec::new();
    rust_files(&workspace_root(), &mut files);
    assert!(files.len() > 10, "found too few Rust files: {files:?}");
    let bad: Vec<_> = files.iter().filter(|f| !fs::read_to_string(f).unwrap_or_default().starts_with("//!")).collect();
    assert!(bad.is_empty(), "these files do not start with a `//!` line: {bad:?}");
}

/// The names in a manifest's `[dependencies]` table (not dev- or build-dependencies).
fn dependencies(krate: &str) -> Vec<String> {
    let manifest = fs::read_to_string(workspace_root().join(krate).join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("{krate}/Cargo.toml: {e}"));
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && !line.is_empty() && !line.starts_with('#') {
            if let Some(name) = line.split(['=', '.', ' ']).next() {
                out.push(name.trim().to_string());
            }
        }
    }
    out
}

const CRATES: &[&str] = &[
    "axon-core",
    "kamaelia-chassis",
    "kamaelia-util",
    "kamaelia-net",
    "kamaelia-file",
    "kamaelia-ui",
    "kamaelia-redis",
    "apps",
    "xtask",
];

#[test]
fn axon_core_depends_on_nothing_of_ours_and_no_runtime_or_io_crate() {
    let deps = dependencies("axon-core");
    for forbidden in [
        "kamaelia-chassis",
        "kamaelia-util",
        "kamaelia-net",
        "kamaelia-file",
        "kamaelia-ui",
        "tokio",
        "mio",
        "notify",
        "minifb",
    ] {
        assert!(!deps.iter().any(|d| d == forbidden), "axon-core must not depend on {forbidden}");
    }
}

#[test]
fn io_crates_stay_in_their_own_component_family() {
    for (dep, home) in
        [("mio", "kamaelia-net"), ("minifb", "kamaelia-ui"), ("notify", "kamaelia-file"), ("redis", "kamaelia-redis")]
    {
        for krate in CRATES {
            if *krate != home {
                assert!(
                    !dependencies(krate).iter().any(|d| d == dep),
                    "{krate} depends on {dep}, which belongs to {home} only"
                );
            }
        }
    }
}

#[test]
fn chassis_sits_below_the_other_component_families() {
    let deps = dependencies("kamaelia-chassis");
    for above in ["kamaelia-util", "kamaelia-net", "kamaelia-file", "kamaelia-ui"] {
        assert!(!deps.iter().any(|d| d == above), "kamaelia-chassis must not depend on {above}");
    }
}

/// Every `.rs` file under `dir` of `krate`, with its text.
fn sources_of(krate: &str, dir: &str) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&workspace_root().join(krate).join(dir), &mut files);
    files.into_iter().map(|f| (f.clone(), fs::read_to_string(&f).unwrap_or_default())).collect()
}

#[test]
fn every_dependency_is_used_by_its_crate() {
    for krate in CRATES {
        let sources = sources_of(krate, "src");
        for dep in dependencies(krate) {
            let path = dep.replace('-', "_");
            let used = sources.iter().any(|(_, text)| {
                text.contains(&format!("{path}::"))
                    || text.contains(&format!("use {path}"))
                    || text.contains(&format!("{path}!"))
            });
            assert!(
                used,
                "{krate} depends on {dep} but nothing in {krate}/src uses it: remove it from {krate}/Cargo.toml"
            );
        }
    }
}

#[test]
fn no_component_outside_axon_core_hand_rolls_a_control_loop() {
    for krate in CRATES.iter().filter(|k| **k != "axon-core") {
        for (file, text) in sources_of(krate, "src") {
            for (n, line) in text.lines().enumerate() {
                assert!(
                    !line.contains("control.try_recv()"),
                    "{}:{}: a hand-rolled look at `control`; use axon_core::ControlWatch or the Driver",
                    file.display(),
                    n + 1
                );
            }
        }
    }
}

#[test]
fn crate_roots_list_their_exports_without_globs() {
    for krate in CRATES {
        let lib = workspace_root().join(krate).join("src/lib.rs");
        let Ok(text) = fs::read_to_string(&lib) else { continue };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            assert!(
                !(line.starts_with("pub use") && line.ends_with("::*;")),
                "{}:{}: a glob re-export; list the exports (the crate root is a table of contents)",
                lib.display(),
                n + 1
            );
        }
    }
}
