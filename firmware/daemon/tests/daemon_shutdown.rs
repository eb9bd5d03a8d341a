//! Graceful shutdown: SIGTERM in the middle of a call lets the call finish (its CDR is
//! written with the real cause, not "shutdown"), then the daemon exits cleanly. A bad
//! configuration starts nothing and names file, line and field.

mod common;

use std::process::Command;

use common::{demo_config, Daemon};
use nix::sys::signal::Signal;

fn config(data: &std::path::Path, grace_s: u32) -> String {
    demo_config(data, "[speech]\nenabled = false", grace_s)
}

/// Start the daemon, SIGTERM it once the demo call is answered, return its log and status.
fn run_and_terminate(grace_s: u32) -> (Vec<String>, std::process::ExitStatus) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("yingda.toml");
    std::fs::write(&cfg, config(&dir.path().join("data"), grace_s)).unwrap();
    let mut daemon = Daemon::start(&cfg, &[]);
    assert!(daemon.wait_for(" answered"), "{}", daemon.text());
    daemon.signal(Signal::SIGTERM);
    let (status, log) = daemon.wait();
    (log, status)
}

#[test]
fn sigterm_lets_the_call_in_progress_finish() {
    let (log, status) = run_and_terminate(60);
    let all = log.join("\n");
    assert!(status.success(), "exit {status:?}\n{all}");
    let shutdown = log
        .iter()
        .position(|l| l.contains("shutdown requested"))
        .expect(&all);
    let written = log
        .iter()
        .position(|l| l.contains("cdr written"))
        .expect(&all);
    assert!(
        written > shutdown,
        "the call finished after the request:\n{all}"
    );
    assert!(log[written].contains("far_end_busy_tone"), "{all}");
    assert!(log.last().unwrap().contains("yingda stopped"), "{all}");
}

#[test]
fn calls_still_up_after_the_grace_period_are_recorded_as_shutdown() {
    let (log, status) = run_and_terminate(0);
    let all = log.join("\n");
    assert!(status.success(), "exit {status:?}\n{all}");
    assert!(
        log.iter()
            .any(|l| l.contains("cdr written") && l.contains("shutdown")),
        "{all}"
    );
}

#[test]
fn bad_config_starts_nothing_and_names_file_line_field() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    let text = config(&dir.path().join("data"), 5).replace("busycount = 3", "busycount = 99");
    std::fs::write(&cfg, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_yingda"))
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:23: channels[0].busycount"), "{err}");
    assert!(
        !dir.path().join("data").exists(),
        "nothing was started or created"
    );
}
