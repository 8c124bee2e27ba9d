//! The transcode job's distributed mode on a real redis-server and real ffmpeg: enqueueing a
//! shared directory twice makes no duplicates (pattern and exclude applied); two "hosts"
//! working the queue until it is empty transcode and upload every source exactly once and
//! mark it done; a later worker finds nothing to redo; Redis unreachable is a clear error.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use apps::transcode::distributed::{QUEUE_DIR, WorkOptions, enqueue, status, work};
use kamaelia_redis::testing::RedisServer;

fn make_video(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=duration=1:size=64x36:rate=10")
        .args(["-f", "lavfi", "-i", "sine=duration=1", "-c:v", "mpeg4", "-c:a", "aac", "-shortest"])
        .arg(path)
        .output()
        .expect("run ffmpeg (apt-get install ffmpeg)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

#[test]
fn two_hosts_transcode_and_upload_every_source_once() {
    let server = RedisServer::start().unwrap();
    let queue = format!("{}/talks", server.url());
    let dir = tempfile::tempdir().unwrap();
    let (src, dest) = (dir.path().join("src"), dir.path().join("dest"));
    for name in ["a.mp4", "b.mp4", "sub/c.mp4", "skip/d.mp4"] {
        make_video(&src.join(name));
    }
    std::fs::write(src.join("notes.txt"), "not a video").unwrap();
    assert_eq!(enqueue(&src, None, Some("^skip/"), &queue).unwrap(), (3, 0));
    assert_eq!(enqueue(&src, None, Some("^skip/"), &queue).unwrap(), (0, 3), "no duplicates");
    assert_eq!(status(&queue).unwrap().0.waiting, 3);

    let hosts: Vec<_> = ["h1", "h2"]
        .into_iter()
        .map(|host| {
            let mut opts = WorkOptions::new(&src, &queue, dest.to_string_lossy());
            opts.host = host.into();
            opts.workers = 1;
            opts.until_empty = true;
            opts.lease = Duration::from_secs(10);
            std::thread::spawn(move || work(opts, &AtomicBool::new(false)).unwrap())
        })
        .collect();
    let summaries: Vec<_> = hosts.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(summaries.iter().map(|s| s.done).sum::<u64>(), 3, "{summaries:?}");
    assert!(summaries.iter().all(|s| s.failed == 0 && s.already_done == 0), "{summaries:?}");
    assert_eq!(files(&dest), ["a.avi", "b.avi", "sub/c.avi"]);
    assert_eq!(files(&src.join(QUEUE_DIR)), ["done/a.mp4.done", "done/b.mp4.done", "done/sub/c.mp4.done"]);
    let (s, dead) = status(&queue).unwrap();
    assert_eq!((s.waiting, s.in_progress.len(), s.done, s.dead, dead.len()), (0, 0, 3, 0, 0));

    // Another run finds nothing to do.
    let mut opts = WorkOptions::new(&src, &queue, dest.to_string_lossy());
    opts.until_empty = true;
    let again = work(opts, &AtomicBool::new(false)).unwrap();
    assert_eq!((again.done, again.already_done), (0, 0));
}

#[test]
fn an_unreachable_queue_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let queue = format!("redis://127.0.0.1:{port}/talks");
    let dir = tempfile::tempdir().unwrap();
    let e = enqueue(dir.path(), None, None, &queue).unwrap_err().to_string();
    assert!(e.contains(&format!("redis://127.0.0.1:{port}")) && e.contains("apt-get install redis-server"), "{e}");
    let e = work(WorkOptions::new(dir.path(), &queue, "out"), &AtomicBool::new(false)).unwrap_err().to_string();
    assert!(e.contains("cannot reach Redis"), "{e}");
    let e = enqueue(dir.path(), None, None, "redis://127.0.0.1:6379").unwrap_err().to_string();
    assert!(e.contains("no queue name"), "{e}");
}
