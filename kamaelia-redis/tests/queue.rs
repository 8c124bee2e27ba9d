//! The distributed work queue with real worker processes on a real server: a worker
//! `kill -9`ed mid-job has its job redelivered after the lease and finished once; a job three
//! leases long is kept by heartbeats (delivered once); a job that always fails is
//! dead-lettered after max_deliveries with the reason; a `kill -9` of the server loses
//! nothing enqueued and redelivers nothing acknowledged; enqueueing is idempotent.

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use common::wait_for;
use kamaelia_redis::testing::RedisServer;
use kamaelia_redis::{Job, Queue};

/// The job every worker runs: skips a job whose done marker exists (a redelivery of finished
/// work), hangs on a job with a `hang-` file, works `WORK_SECS`, writes its output under a
/// temporary name and renames it, then the marker; logs each run and each skip.
const JOB: &str = r#"
set -e
cd "$TEST_DIR"
if [ -e "out/$KAMAELIA_JOB_PATH.done" ]; then echo "$KAMAELIA_JOB_ID" >> skips; exit 0; fi
if [ -e "hang-$KAMAELIA_JOB_PATH" ]; then echo "$KAMAELIA_JOB_ID" > started; sleep 60; fi
if [ -e "fail-$KAMAELIA_JOB_PATH" ]; then echo "$KAMAELIA_JOB_DELIVERY" >> attempts; echo "boom on delivery $KAMAELIA_JOB_DELIVERY" >&2; exit 1; fi
sleep "${WORK_SECS:-0}"
mkdir -p out/tmp
echo "$KAMAELIA_JOB_ID" > "out/tmp/$KAMAELIA_JOB_PATH.$$"
mv "out/tmp/$KAMAELIA_JOB_PATH.$$" "out/$KAMAELIA_JOB_PATH"
touch "out/$KAMAELIA_JOB_PATH.done"
echo "$KAMAELIA_JOB_ID $KAMAELIA_JOB_DELIVERY" >> runs
"#;

struct Setup {
    server: RedisServer,
    url: String,
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(jobs: usize) -> Setup {
        let server = RedisServer::start().unwrap();
        let url = format!("{}/jobs", server.url());
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        for i in 0..jobs {
            std::fs::write(dir.path().join("src").join(format!("j{i}")), format!("job {i}")).unwrap();
        }
        let setup = Setup { server, url, dir };
        setup.enqueue();
        setup
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn enqueue(&self) -> usize {
        let mut q = Queue::connect(&self.url).unwrap();
        let src = self.path("src");
        let mut new = 0;
        for e in std::fs::read_dir(&src).unwrap() {
            let job = Job::for_file(&src, Path::new(&e.unwrap().file_name())).unwrap();
            new += usize::from(q.enqueue(&job).unwrap());
        }
        new
    }

    /// A worker process in its own process group (so `kill -9` takes its job's shell too).
    fn worker(&self, consumer: &str, extra: &[&str], env: &[(&str, &str)]) -> Child {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kamaelia-redis"));
        cmd.args(["work", &self.url, "--consumer", consumer, "--exec", JOB])
            .args(extra)
            .env("TEST_DIR", self.dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.process_group(0).spawn().expect("run a worker")
    }

    fn lines(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.path(name)).unwrap_or_default().lines().map(str::to_string).collect()
    }

    fn queue(&self) -> Queue {
        Queue::connect(&self.url).unwrap()
    }
}

fn kill9_group(child: &mut Child) {
    let status = Command::new("kill").args(["-9", "--", &format!("-{}", child.id())]).status().unwrap();
    assert!(status.success());
    let _ = child.wait();
}

fn finished_ok(mut child: Child) {
    let status = child.wait().unwrap();
    assert!(status.success(), "worker exited with {status}");
}

#[test]
fn enqueueing_the_same_directory_twice_makes_no_duplicates_and_a_changed_file_is_a_new_job() {
    let s = Setup::new(5);
    assert_eq!(s.enqueue(), 0);
    assert_eq!(s.queue().status().unwrap().waiting, 5);
    std::fs::write(s.path("src/j0"), "job 0, longer now").unwrap();
    assert_eq!(s.enqueue(), 1);
    assert_eq!(s.queue().status().unwrap().waiting, 6);
}

#[test]
fn a_worker_killed_mid_job_has_its_job_redelivered_after_the_lease_and_finished_once() {
    let s = Setup::new(3);
    std::fs::write(s.path("hang-j0"), "").unwrap();
    // Only j0 for the first worker: it takes jobs in order and hangs on the first.
    let mut a = s.worker("a", &["--lease", "1"], &[]);
    wait_for("worker a to start j0", || s.path("started").exists());
    kill9_group(&mut a);
    std::fs::remove_file(s.path("hang-j0")).unwrap();
    let status = s.queue().status().unwrap();
    assert_eq!(status.in_progress, [("a".to_string(), 1)], "the dead worker's job is pending");
    let b = s.worker("b", &["--lease", "1", "--until-empty"], &[]);
    finished_ok(b);
    let mut runs = s.lines("runs");
    runs.sort();
    assert_eq!(runs.len(), 3, "each job run once: {runs:?}");
    let j0 = runs.iter().find(|r| r.starts_with("j0:")).unwrap();
    assert!(j0.ends_with(" 2"), "j0 was delivered a second time: {j0}");
    assert!(s.lines("skips").is_empty());
    let status = s.queue().status().unwrap();
    assert_eq!((status.done, status.waiting, status.in_progress.len(), status.dead), (3, 0, 0, 0));
    assert_eq!(std::fs::read_dir(s.path("out/tmp")).unwrap().count(), 0, "nothing left in the temporary directory");
}

#[test]
fn a_job_three_leases_long_is_kept_by_heartbeats_and_delivered_once() {
    let s = Setup::new(1);
    let env = [("WORK_SECS", "3")];
    let a = s.worker("a", &["--lease", "1", "--until-empty"], &env);
    wait_for("the job to be taken", || !s.queue().status().unwrap().in_progress.is_empty());
    // Another worker, reclaiming every quarter lease, never gets it.
    let b = s.worker("b", &["--lease", "1", "--until-empty"], &env);
    finished_ok(a);
    finished_ok(b);
    assert_eq!(s.lines("runs").len(), 1);
    assert!(s.lines("runs")[0].ends_with(" 1"), "delivered once: {:?}", s.lines("runs"));
    assert_eq!(s.queue().status().unwrap().done, 1);
}

#[test]
fn a_job_that_always_fails_is_dead_lettered_after_max_deliveries_with_the_reason() {
    let s = Setup::new(2);
    std::fs::write(s.path("fail-j1"), "").unwrap();
    let w = s.worker("w", &["--lease", "0.4", "--max-deliveries", "3", "--until-empty"], &[]);
    finished_ok(w);
    assert_eq!(s.lines("attempts"), ["1", "2", "3"]);
    let mut q = s.queue();
    let dead = q.dead_letters().unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].0.starts_with("j1:"), "{dead:?}");
    assert!(dead[0].1.contains("delivered 4 times (max 3)") && dead[0].1.contains("boom on delivery 3"), "{dead:?}");
    let status = q.status().unwrap();
    assert_eq!((status.done, status.dead, status.waiting, status.in_progress.len()), (1, 1, 0, 0));
}

#[test]
fn a_kill_9_of_the_server_loses_nothing_enqueued_and_redelivers_nothing_acknowledged() {
    let mut s = Setup::new(30);
    let env = [("WORK_SECS", "0.05")];
    let a = s.worker("a", &["--lease", "10", "--until-empty"], &env);
    let b = s.worker("b", &["--lease", "10", "--until-empty"], &env);
    wait_for("some jobs done", || s.lines("runs").len() >= 6);
    s.server.kill9().unwrap();
    let before = s.lines("runs").len();
    s.server.restart().unwrap();
    finished_ok(a);
    finished_ok(b);
    let runs = s.lines("runs");
    assert!(before < 30, "the outage came mid-batch");
    let mut ids: Vec<&str> = runs.iter().map(|r| r.split(' ').next().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((runs.len(), ids.len()), (30, 30), "every job run exactly once: {runs:?}");
    assert!(s.lines("skips").is_empty(), "no finished job was handed out again: {:?}", s.lines("skips"));
    let status = s.queue().status().unwrap();
    assert_eq!((status.done, status.waiting, status.in_progress.len(), status.dead), (30, 0, 0, 0));
}
