//! Crash test: run `yingda-store-crashtest` as a child, SIGKILL it at random points, reopen
//! the database and check that everything the child acknowledged is there and intact.
//!
//! The delays come from a seeded RNG; set `YINGDA_CRASH_SEED` to replay a failure (the
//! seed is printed). Rounds accumulate in one database, so later rounds also check that
//! recovery after a kill does not lose records acknowledged in earlier rounds. For a soak
//! run, raise the round count with `YINGDA_CRASH_ROUNDS` (default 8, about 2.5 s).
//!
//! What this proves: records survive the process dying at any instant (sled's buffers in
//! memory are lost, the page cache is not). Power loss additionally relies on the fsync in
//! sled's `flush()`, which a process kill cannot exercise.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use yingda_store::verify::{check_synthetic, parse_acknowledged, verify_acknowledged};
use yingda_store::{CallId, SledStore, Store};

const DEFAULT_ROUNDS: usize = 8;
const WRITER_THREADS: &str = "2";

/// `config <thread> <id>` lines on complete lines of the child's output.
fn acknowledged_config(output: &str) -> Vec<(String, CallId)> {
    let complete = output.rfind('\n').map_or("", |i| &output[..i]);
    complete
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next()? == "config").then_some(())?;
            let thread = w.next()?.to_owned();
            let id = w.next()?.parse().ok()?;
            Some((thread, id))
        })
        .collect()
}

#[test]
fn acknowledged_records_survive_sigkill_at_random_points() {
    let seed = std::env::var("YINGDA_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0FCD_u64);
    println!("YINGDA_CRASH_SEED={seed}");
    let rounds = std::env::var("YINGDA_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    let mut rng = fastrand::Rng::with_seed(seed);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store");

    let mut acked: Vec<CallId> = Vec::new();
    let mut acked_config: BTreeMap<String, CallId> = BTreeMap::new();
    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_yingda-store-crashtest"))
            .arg(&db)
            .arg(WRITER_THREADS)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn crash-test helper");
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut out = String::new();
            stdout.read_to_string(&mut out).map(|_| out)
        });
        // Kill points range from during sled's recovery to well into the write loop.
        let delay = rng.u64(0..=400);
        std::thread::sleep(Duration::from_millis(delay));
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("round {round}: helper exited by itself ({status}): {err}");
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let out = reader.join().unwrap().unwrap();

        let new_ids = parse_acknowledged(&out);
        println!(
            "round {round}: killed after {delay} ms, {} acknowledged",
            new_ids.len()
        );
        acked.extend(new_ids);
        for (thread, id) in acknowledged_config(&out) {
            acked_config.insert(thread, id);
        }

        let store = SledStore::open(&db)
            .unwrap_or_else(|e| panic!("round {round}: reopen after kill failed: {e}"));
        let report = verify_acknowledged(&store, &acked, &check_synthetic).unwrap();
        assert!(report.is_ok(), "round {round}: {report}");
        assert!(store.cdr_count().unwrap() >= acked.len());
        for (thread, id) in &acked_config {
            let key = format!("crashtest/thread-{thread}");
            let stored = store
                .get_config(&key)
                .unwrap()
                .unwrap_or_else(|| panic!("round {round}: acknowledged config {key} missing"));
            let stored: CallId = String::from_utf8(stored).unwrap().parse().unwrap();
            // A later write may have landed without being acknowledged, never an older one.
            assert!(
                stored >= *id,
                "round {round}: {key} is {stored}, acknowledged {id}"
            );
        }
    }
    assert!(
        acked.len() >= 20,
        "only {} records acknowledged in {rounds} rounds: the test proved little",
        acked.len()
    );
    let mut sorted = acked.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), acked.len(), "a call id was handed out twice");
}
