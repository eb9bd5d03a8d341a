//! Crash test at daemon level: run `yingda` on the simulated card with demo calls back to
//! back (time sped up), SIGKILL it at random points, and check that every CDR whose write
//! the daemon logged is in the database and that the database opens.
//!
//! `YINGDA_CRASH_ROUNDS` (default 5) and `YINGDA_CRASH_SEED` replay or lengthen a run.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use yingda_store::verify::verify_acknowledged;
use yingda_store::{CallId, SledStore};

fn config(dir: &std::path::Path) -> String {
    format!(
        r#"
[speech]
enabled = false

[system]
data_dir = "{}"
log_level = "info"

[[span]]
name = "sim0"
backend = "sim"
ports = 2

[span.sim]
pacing = "fast"
demo_call = true
demo_repeat_s = 0
cid_format = "dtmf"

[[channels]]
channel = "1-2"
span = "sim0"
cidsignalling = "dtmf"
cidstart = "dtmf"
busycount = 3
"#,
        dir.display()
    )
}

/// Call ids from log lines `... cdr written call=c-000000000001 ...`.
fn written_ids(log: &str) -> Vec<CallId> {
    let complete = &log[..log.rfind('\n').map_or(0, |i| i + 1)];
    complete
        .lines()
        .filter(|l| l.contains("cdr written"))
        .filter_map(|l| {
            l.split("call=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

#[test]
fn every_logged_cdr_survives_sigkill() {
    let rounds: u32 = std::env::var("YINGDA_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let seed: u64 = std::env::var("YINGDA_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261122);
    let mut rng = fastrand::Rng::with_seed(seed);
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("yingda.toml");
    std::fs::write(&cfg_path, config(&dir.path().join("data"))).unwrap();
    let mut acknowledged: Vec<CallId> = Vec::new();
    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_yingda"))
            .args(["--config"])
            .arg(&cfg_path)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let delay = 800 + rng.u64(0..3200);
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let log = reader.join().unwrap();
        let ids = written_ids(&log);
        eprintln!(
            "round {round}: killed after {delay} ms, {} CDRs acknowledged",
            ids.len()
        );
        acknowledged.extend(ids);

        let store = SledStore::open(dir.path().join("data/yingda.db"))
            .expect("database opens after SIGKILL");
        let report = verify_acknowledged(&store, &acknowledged, &|cdr| {
            if cdr.caller.as_deref() == Some("13800138000") && cdr.answer_ms.is_some() {
                Ok(())
            } else {
                Err(format!("unexpected record {cdr:?}"))
            }
        })
        .unwrap();
        assert!(report.is_ok(), "seed {seed} round {round}: {report}");
    }
    assert!(
        !acknowledged.is_empty(),
        "no call completed in {rounds} rounds: the test proved nothing"
    );
}
