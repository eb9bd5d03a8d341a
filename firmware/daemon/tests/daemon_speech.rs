//! The speech service at start-up: with the model installed the recogniser becomes ready in
//! the background; with it missing or corrupt the box still answers (the demo call runs to
//! its CDR) and says that calls use DTMF. Loading never delays "ready: answering calls".

mod common;

use common::{demo_config, Daemon};
use nix::sys::signal::Signal;

fn run(speech: &str, wait_for: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("yingda.toml");
    std::fs::write(&cfg, demo_config(&dir.path().join("data"), speech, 30)).unwrap();
    let mut daemon = Daemon::start(&cfg, &[]);
    assert!(daemon.wait_for("cdr written"), "{}", daemon.text());
    // The speech line may come before or after the CDR: loading runs alongside the call.
    if !daemon.text().contains(wait_for) {
        assert!(daemon.wait_for(wait_for), "{}", daemon.text());
    }
    daemon.signal(Signal::SIGTERM);
    let (status, log) = daemon.wait();
    let all = log.join("\n");
    assert!(status.success(), "exit {status:?}\n{all}");
    let ready = log
        .iter()
        .position(|l| l.contains("ready: answering calls"))
        .expect(&all);
    let loading = log
        .iter()
        .position(|l| l.contains("speech: loading"))
        .expect(&all);
    assert!(ready < loading, "answering comes first:\n{all}");
    all
}

#[test]
fn a_missing_model_falls_back_to_dtmf_and_calls_go_on() {
    let empty = tempfile::tempdir().unwrap();
    let speech = format!("[speech]\nmodels_dir = \"{}\"", empty.path().display());
    let all = run(&speech, "speech unavailable");
    assert!(
        all.contains("calls use DTMF") && all.contains("install.py"),
        "{all}"
    );
    assert!(
        all.contains("far_end_busy_tone"),
        "the demo call completed:\n{all}"
    );
}

#[test]
fn a_corrupt_model_is_named_and_calls_go_on() {
    let src = yingda_speech::models::models_dir_from_env().join("whisper-base");
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("whisper-base");
    std::fs::create_dir(&dst).unwrap();
    for entry in std::fs::read_dir(&src).expect("whisper-base installed (tools/models/install.py)")
    {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), dst.join(entry.file_name())).unwrap();
    }
    std::fs::remove_file(dst.join("encoder.onnx")).unwrap();
    std::fs::write(dst.join("encoder.onnx"), b"\0\0\0\0").unwrap();
    let speech = format!("[speech]\nmodels_dir = \"{}\"", dir.path().display());
    let all = run(&speech, "speech unavailable");
    assert!(all.contains("encoder.onnx"), "{all}");
}

#[test]
fn an_installed_model_becomes_ready() {
    let speech = format!(
        "[speech]\nmodels_dir = \"{}\"",
        yingda_speech::models::models_dir_from_env().display()
    );
    let all = run(&speech, "whisper-base ready");
    assert!(!all.contains("speech unavailable"), "{all}");
}
