//! Software transactional memory (`axon_core::stm`, Axon.STM): checkout, commit, conflicts, all-or-nothing, busy retries.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use axon_core::stm::{StmError, Store};
use axon_core::{ComponentBuilder, Scheduler, yield_now};

/// Long enough that a correct implementation never hits it; short enough that a broken one fails.
const GENEROUS: Duration = Duration::from_secs(10);

/// Checking out a key never seen gives version 0 and no value, and creates the key.
#[test]
fn usevar_of_an_unknown_key_gives_version_zero_and_no_value() {
    let store: Store<i32> = Store::new();
    let v = store.usevar("fresh").unwrap();
    assert_eq!(v.key(), "fresh");
    assert_eq!(v.version(), 0);
    assert_eq!(v.get(), None);
    assert_eq!(store.keys().unwrap(), ["fresh"]);
}

/// After a commit, a new checkout sees the committed value at version 1, and so does the
/// copy that committed.
#[test]
fn commit_then_checkout_sees_the_new_value_at_version_one() {
    let store: Store<i32> = Store::new();
    let mut v = store.usevar("x").unwrap();
    v.set(42);
    v.commit().unwrap();
    assert_eq!(v.version(), 1);

    let again = store.usevar("x").unwrap();
    assert_eq!(again.get(), Some(&42));
    assert_eq!(again.version(), 1);
}

/// A copy checked out before someone else's commit is stale: its commit fails with
/// ConcurrentUpdate naming the key, and the other commit's value stands.
#[test]
fn stale_copy_commit_fails_with_concurrent_update_naming_the_key() {
    let store: Store<String> = Store::new();
    let mut first = store.usevar("greeting").unwrap();
    let mut stale = store.usevar("greeting").unwrap();

    first.set("hello".into());
    first.commit().unwrap();

    stale.set("goodbye".into());
    let err = stale.commit().unwrap_err();
    assert_eq!(err, StmError::ConcurrentUpdate { key: "greeting".into() });
    assert!(err.to_string().contains("greeting"), "{err}");

    let now = store.usevar("greeting").unwrap();
    assert_eq!(now.get().map(String::as_str), Some("hello"));
    assert_eq!(now.version(), 1);
}

/// A copy can commit, change and commit again: its version moves on with each commit, so
/// its own commit does not make it stale.
#[test]
fn a_copy_commits_twice_in_a_row() {
    let store: Store<i32> = Store::new();
    let mut v = store.usevar("n").unwrap();
    v.set(1);
    v.commit().unwrap();
    v.set(2);
    v.commit().unwrap();
    assert_eq!(v.version(), 2);

    let seen = store.usevar("n").unwrap();
    assert_eq!(seen.get(), Some(&2));
    assert_eq!(seen.version(), 2);
}

/// `using` checks out several keys; its commit writes every one of them when none changed
/// meanwhile.
#[test]
fn using_commits_every_key_together() {
    let store: Store<i32> = Store::new();
    let mut c = store.using(&["a", "b", "c"]).unwrap();
    assert_eq!(c.get("a"), None);
    c.set("a", 1);
    c.set("b", 2);
    c.set("c", 3);
    c.commit().unwrap();

    for (key, value) in [("a", 1), ("b", 2), ("c", 3)] {
        let v = store.usevar(key).unwrap();
        assert_eq!(v.get(), Some(&value), "{key}");
        assert_eq!(v.version(), 1, "{key}");
    }
}

/// If any one key of a `using` checkout was changed by someone else, its commit fails with
/// ConcurrentUpdate naming that key and writes nothing at all.
#[test]
fn using_commits_nothing_when_one_key_is_stale() {
    let store: Store<i32> = Store::new();
    let mut seed = store.using(&["a", "b", "c"]).unwrap();
    seed.set("a", 10);
    seed.set("b", 20);
    seed.set("c", 30);
    seed.commit().unwrap();

    let mut c = store.using(&["a", "b", "c"]).unwrap();
    let mut other = store.usevar("b").unwrap();
    other.set(21);
    other.commit().unwrap();

    c.set("a", 11);
    c.set("b", 22);
    c.set("c", 33);
    assert_eq!(c.commit(), Err(StmError::ConcurrentUpdate { key: "b".into() }));

    let now = store.using(&["a", "b", "c"]).unwrap();
    assert_eq!(now.get("a"), Some(&10));
    assert_eq!(now.get("b"), Some(&21));
    assert_eq!(now.get("c"), Some(&30));
    assert_eq!(store.usevar("a").unwrap().version(), 1);
    assert_eq!(store.usevar("b").unwrap().version(), 2);
    assert_eq!(store.usevar("c").unwrap().version(), 1);
}

/// A value whose `clone` can be made to block, so a checkout can be held inside the store.
struct Gated {
    n: i32,
    gate: Arc<Gate>,
}

struct Gate {
    armed: AtomicBool,
    entered: Mutex<mpsc::Sender<()>>,
    release: Mutex<mpsc::Receiver<()>>,
}

impl Clone for Gated {
    fn clone(&self) -> Self {
        if self.gate.armed.swap(false, Ordering::SeqCst) {
            self.gate.entered.lock().unwrap().send(()).unwrap();
            self.gate.release.lock().unwrap().recv_timeout(GENEROUS).unwrap();
        }
        Gated { n: self.n, gate: self.gate.clone() }
    }
}

/// While another thread is inside the store (here: part-way through a checkout), every call
/// fails at once with BusyRetry instead of waiting; retried afterwards, it succeeds.
#[test]
fn calls_fail_with_busy_retry_while_another_thread_is_inside_the_store() {
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let gate = Arc::new(Gate {
        armed: AtomicBool::new(false),
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
    });
    let store: Store<Gated> = Store::new();
    let mut seed = store.usevar("k").unwrap();
    seed.set(Gated { n: 1, gate: gate.clone() });
    seed.commit().unwrap();
    let mut stale_writer = store.usevar("k").unwrap();

    gate.armed.store(true, Ordering::SeqCst);
    let holder = {
        let store = store.clone();
        thread::spawn(move || store.usevar("k").map(|v| v.get().map(|g| g.n)))
    };
    entered_rx.recv_timeout(GENEROUS).unwrap();

    // The holder is inside the store now.
    assert!(matches!(store.usevar("k"), Err(StmError::BusyRetry)));
    assert!(matches!(store.using(&["k", "j"]), Err(StmError::BusyRetry)));
    assert_eq!(store.keys(), Err(StmError::BusyRetry));
    stale_writer.set(Gated { n: 2, gate: gate.clone() });
    assert_eq!(stale_writer.commit(), Err(StmError::BusyRetry));

    release_tx.send(()).unwrap();
    assert_eq!(holder.join().unwrap(), Ok(Some(1)));

    // BusyRetry did not spoil the transaction: the same commit, retried, goes through.
    stale_writer.commit().unwrap();
    let v = store.usevar("k").unwrap();
    assert_eq!(v.get().map(|g| g.n), Some(2));
    assert_eq!(v.version(), 2);
}

/// Increments `key` once, redoing the transaction on ConcurrentUpdate and retrying the call
/// on BusyRetry.
fn increment(store: &Store<u64>, key: &str) {
    loop {
        let mut v = match store.usevar(key) {
            Ok(v) => v,
            Err(StmError::BusyRetry) => continue,
            Err(e) => panic!("checkout failed: {e}"),
        };
        v.set(v.get().copied().unwrap_or(0) + 1);
        loop {
            match v.commit() {
                Ok(()) => return,
                Err(StmError::BusyRetry) => continue,
                Err(StmError::ConcurrentUpdate { .. }) => break,
                Err(e) => panic!("commit failed: {e}"),
            }
        }
    }
}

/// Two threads hammering one counter, redoing on conflict and retrying when busy, lose no
/// increment: the final value equals the number of successful commits.
#[test]
fn concurrent_increments_with_retry_lose_nothing() {
    const THREADS: u64 = 2;
    const EACH: u64 = 1000;
    let store: Store<u64> = Store::new();
    let successes = AtomicUsize::new(0);

    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..EACH {
                    increment(&store, "counter");
                    successes.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });

    let v = store.usevar("counter").unwrap();
    assert_eq!(successes.load(Ordering::Relaxed) as u64, THREADS * EACH);
    assert_eq!(v.get(), Some(&(THREADS * EACH)));
    assert_eq!(v.version(), THREADS * EACH);
}

/// Dining philosophers on the multi-thread scheduler: each philosopher component takes both
/// its forks in one `using` transaction, eats, and puts them back. No fork is ever held by
/// two philosophers at once, everyone eats every meal, and every fork ends up free.
#[test]
fn dining_philosophers_share_forks_through_stm() {
    const PHILOSOPHERS: usize = 5;
    const MEALS: usize = 30;
    const FREE: usize = 0;

    let forks: Store<usize> = Store::new();
    let fork_names: Vec<String> = (0..PHILOSOPHERS).map(|i| format!("fork.{i}")).collect();
    // Outside the STM, to check it: true while some philosopher holds the fork.
    let in_hand: Arc<Vec<AtomicBool>> = Arc::new((0..PHILOSOPHERS).map(|_| AtomicBool::new(false)).collect());
    let violations = Arc::new(AtomicUsize::new(0));
    let meals: Arc<Vec<AtomicUsize>> = Arc::new((0..PHILOSOPHERS).map(|_| AtomicUsize::new(0)).collect());

    let sched = Scheduler::builder().threads(4).build();
    let mut diners = Vec::new();
    for me in 0..PHILOSOPHERS {
        let (left, right) = (me, (me + 1) % PHILOSOPHERS);
        let names = [fork_names[left].clone(), fork_names[right].clone()];
        let (forks, in_hand, violations, meals) = (forks.clone(), in_hand.clone(), violations.clone(), meals.clone());
        let b = ComponentBuilder::new("Philosopher");
        let diner = b.run(move |_ctx| async move {
            let keys = [names[0].as_str(), names[1].as_str()];
            let token = me + 1;
            for _ in 0..MEALS {
                // Take both forks, or neither.
                loop {
                    let Ok(mut c) = forks.using(&keys) else {
                        yield_now().await;
                        continue;
                    };
                    let free = keys.iter().all(|k| c.get(k).copied().unwrap_or(FREE) == FREE);
                    if free {
                        for k in keys {
                            c.set(k, token);
                        }
                        if c.commit().is_ok() {
                            break;
                        }
                    }
                    yield_now().await;
                }
                for f in [left, right] {
                    if in_hand[f].swap(true, Ordering::SeqCst) {
                        violations.fetch_add(1, Ordering::SeqCst);
                    }
                }
                meals[me].fetch_add(1, Ordering::SeqCst);
                yield_now().await;
                for f in [left, right] {
                    in_hand[f].store(false, Ordering::SeqCst);
                }
                // Put both back.
                loop {
                    match forks.using(&keys) {
                        Ok(mut c) => {
                            assert!(keys.iter().all(|k| c.get(k) == Some(&token)));
                            for k in keys {
                                c.set(k, FREE);
                            }
                            match c.commit() {
                                Ok(()) => break,
                                Err(StmError::BusyRetry) => {}
                                Err(e) => panic!("releasing held forks failed: {e}"),
                            }
                        }
                        Err(StmError::BusyRetry) => {}
                        Err(e) => panic!("{e}"),
                    }
                    yield_now().await;
                }
            }
        });
        diners.push(diner);
    }
    for d in &diners {
        sched.activate(d).unwrap();
    }
    sched.run();

    assert!(sched.panics().is_empty(), "{:?}", sched.panics());
    assert_eq!(violations.load(Ordering::SeqCst), 0);
    for (i, m) in meals.iter().enumerate() {
        assert_eq!(m.load(Ordering::SeqCst), MEALS, "philosopher {i}");
    }
    for name in &fork_names {
        assert_eq!(forks.usevar(name).unwrap().get(), Some(&FREE), "{name}");
    }
}
