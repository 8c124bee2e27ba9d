//! UnixProcess children never outlive their program (issue #17, item 3): with
//! `die_with_parent` the whole process group dies within a second of a `kill -9` of the
//! program; without it the group survives, and `kill_leftover` ends it from its pid file.
//!
//! The program is this test binary itself, run again in a "parent" role (an environment
//! variable says which): it starts a UnixProcess (a shell with a background `sleep`), says
//! the pids on stdout, and waits to be killed.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use axon_core::Scheduler;
use kamaelia_file::{Leftover, UnixProcess, kill_leftover};

/// A generous bound for anything that should take milliseconds.
const LIMIT: Duration = Duration::from_secs(20);

/// Set (to a directory) when this binary runs as the parent: `DIR/pid` is the pid file,
/// `DIR/bg` gets the background sleep's pid.
const ROLE: &str = "KAMAELIA_ORPHANS_PARENT_DIR";
/// Set to `1` for `die_with_parent(true)`.
const GUARD: &str = "KAMAELIA_ORPHANS_GUARD";

/// The parent role: never returns (it is killed).
fn parent(dir: &Path) -> ! {
    let guard = std::env::var(GUARD).is_ok_and(|v| v == "1");
    let sched = Scheduler::new();
    let p = UnixProcess::shell(r#"sleep 1000 & echo $! > "$1"; wait"#)
        .arg(dir.join("bg"))
        .die_with_parent(guard)
        .pid_file(dir.join("pid"))
        .build();
    sched.activate(&p).expect("activate");
    let _bg = sched.background();
    let read = |name: &str| {
        fs::read_to_string(dir.join(name))
            .ok()
            .filter(|t| t.ends_with('\n'))
            .map(|t| t.split_whitespace().next().and_then(|p| p.parse::<u32>().ok()).expect("a pid first"))
    };
    let deadline = Instant::now() + LIMIT;
    let pids = loop {
        if let (Some(leader), Some(bg)) = (read("pid"), read("bg")) {
            break (leader, bg);
        }
        assert!(Instant::now() < deadline, "the process never wrote its pids");
        // Polling files another process writes, with a deadline.
        thread::sleep(Duration::from_millis(2));
    };
    println!("pids {} {}", pids.0, pids.1);
    loop {
        thread::park();
    }
}

/// Runs this binary as the parent (test `name`), guarded or not; returns it and the pids of
/// the process group's leader (the shell) and of its background sleep.
fn start_parent(name: &str, dir: &Path, guard: bool) -> (Child, u32, u32) {
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args([name, "--exact", "--nocapture", "--test-threads", "1"])
        .env(ROLE, dir)
        .env(GUARD, if guard { "1" } else { "0" })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the parent");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            // libtest's `test NAME ... ` comes first, on the same line.
            if let Some((_, p)) = line.split_once("pids ") {
                let _ = tx.send(p.to_string());
            }
        }
    });
    let pids = match rx.recv_timeout(LIMIT) {
        Ok(p) => p,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the parent did not say the pids: {e}");
        }
    };
    let (a, b) = pids.split_once(' ').expect("two pids");
    (child, a.parse().unwrap(), b.parse().unwrap())
}

/// True while `pid` runs (a zombie has ended).
fn alive(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
}

/// Waits up to `within` for every one of `pids` to end.
fn all_end_within(pids: &[u32], within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if !pids.iter().any(|&p| alive(p)) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        // Polling other processes' ends (not our children: nothing to wait on), with a deadline.
        thread::sleep(Duration::from_millis(2));
    }
}

fn kill_9(parent: &mut Child) {
    parent.kill().expect("kill -9 the parent");
    parent.wait().expect("reap the parent");
}

/// Kills the processes if a test failed with them running.
struct Cleanup(Vec<u32>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for &p in &self.0 {
            if alive(p) {
                let _ = Command::new("kill").args(["-KILL", &p.to_string()]).status();
            }
        }
    }
}

#[test]
fn with_die_with_parent_the_whole_group_dies_within_a_second_of_a_kill_9_of_the_program() {
    if let Some(dir) = std::env::var_os(ROLE) {
        parent(&PathBuf::from(dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut parent, leader, bg) = start_parent(
        "with_die_with_parent_the_whole_group_dies_within_a_second_of_a_kill_9_of_the_program",
        dir.path(),
        true,
    );
    let _cleanup = Cleanup(vec![leader, bg]);
    assert!(alive(leader) && alive(bg));
    kill_9(&mut parent);
    assert!(
        all_end_within(&[leader, bg], Duration::from_secs(1)),
        "the process group outlived a kill -9 of its program"
    );
}

#[test]
fn without_it_the_group_survives_and_kill_leftover_ends_it_from_its_pid_file() {
    if let Some(dir) = std::env::var_os(ROLE) {
        parent(&PathBuf::from(dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut parent, leader, bg) =
        start_parent("without_it_the_group_survives_and_kill_leftover_ends_it_from_its_pid_file", dir.path(), false);
    let _cleanup = Cleanup(vec![leader, bg]);
    kill_9(&mut parent);
    // Unguarded, the group is left running (what `die_with_parent` is for).
    assert!(!all_end_within(&[leader, bg], Duration::from_millis(300)), "it died without a guard?");
    let pid_file = dir.path().join("pid");
    assert_eq!(kill_leftover(&pid_file).unwrap(), Leftover::Killed(leader));
    assert!(all_end_within(&[leader, bg], LIMIT), "kill_leftover left the group running");
    assert!(!pid_file.exists(), "the pid file is removed");
    assert_eq!(kill_leftover(&pid_file).unwrap(), Leftover::NoFile);
}

/// A pid file naming a process that has ended (or whose pid is now another process's, or
/// that cannot be read as one) kills nothing and is removed.
#[test]
fn kill_leftover_kills_nothing_for_a_process_that_is_not_the_one_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pid");
    let mut other = Command::new("sleep").arg("1000").spawn().expect("sleep");
    // The right pid, the wrong start time: a reused pid.
    fs::write(
        &path,
        format!("{} 1 {}\n", other.id(), fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap().trim()),
    )
    .unwrap();
    assert_eq!(kill_leftover(&path).unwrap(), Leftover::Gone);
    assert!(alive(other.id()), "a process that is not the one recorded is left alone");
    assert!(!path.exists());
    fs::write(&path, "not a pid file\n").unwrap();
    assert_eq!(kill_leftover(&path).unwrap(), Leftover::Gone);
    other.kill().unwrap();
    other.wait().unwrap();
}

/// A guarded process that ends by itself is dealt with as before (its exit reported), and
/// its pid file is removed.
#[test]
fn a_guarded_process_that_ends_by_itself_removes_its_pid_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pid");
    let sched = Scheduler::new();
    let p = UnixProcess::program("true").die_with_parent(true).pid_file(&path).build();
    let bg = sched.background();
    let h = bg.handle::<Vec<u8>, Vec<u8>>(&p).unwrap();
    let end = h.get_signal_timeout(LIMIT).expect("it ends");
    assert!(end.is_producer_finished(), "{end}");
    assert!(!path.exists(), "the pid file is removed once the process has ended");
}
