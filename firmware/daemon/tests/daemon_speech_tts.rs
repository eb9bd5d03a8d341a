//! The speech service's voices at start-up: with Kokoro and Piper installed both become
//! ready after the recogniser; with a voice model missing or corrupt the box still answers
//! (the demo call runs to its CDR), the recogniser is unaffected, and the log names the
//! model, the file and the installer. Loading never delays "ready: answering calls".

mod common;

use std::path::Path;

use common::{demo_config, Daemon};
use nix::sys::signal::Signal;

/// Runs the daemon on `models` until the demo call's CDR and every line in `wait_for`
/// are logged; returns the whole log after a clean stop.
fn run(models: &Path, wait_for: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("yingda.toml");
    let speech = format!("[speech]\nmodels_dir = \"{}\"", models.display());
    std::fs::write(&cfg, demo_config(&dir.path().join("data"), &speech, 30)).unwrap();
    let mut daemon = Daemon::start(&cfg, &[]);
    assert!(daemon.wait_for("cdr written"), "{}", daemon.text());
    for w in wait_for {
        if !daemon.text().contains(w) {
            assert!(daemon.wait_for(w), "{w}:\n{}", daemon.text());
        }
    }
    daemon.signal(Signal::SIGTERM);
    let (status, log) = daemon.wait();
    let all = log.join("\n");
    assert!(status.success(), "exit {status:?}\n{all}");
    let at = |what: &str| log.iter().position(|l| l.contains(what)).expect(&all);
    assert!(
        at("ready: answering calls") < at("speech: loading voices"),
        "{all}"
    );
    assert!(
        all.contains("far_end_busy_tone"),
        "the demo call completed:\n{all}"
    );
    all
}

/// A models dir of links to the installed models, without `leave_out`.
fn linked_models(leave_out: &str) -> tempfile::TempDir {
    let src = yingda_speech::models::models_dir_from_env();
    let dir = tempfile::tempdir().unwrap();
    for m in [
        "whisper-base",
        "kokoro-82m",
        "piper-joe",
        "en-lexicon",
        "zh-lexicon",
    ] {
        if m != leave_out {
            std::os::unix::fs::symlink(src.join(m), dir.path().join(m)).unwrap();
        }
    }
    dir
}

#[test]
fn missing_voice_models_leave_the_box_answering_and_are_named() {
    let models = linked_models("kokoro-82m");
    // Piper also unusable: its directory is there but empty.
    std::fs::remove_file(models.path().join("piper-joe")).unwrap();
    std::fs::create_dir(models.path().join("piper-joe")).unwrap();
    let all = run(
        models.path(),
        &["whisper-base ready", "speech: piper-joe unavailable"],
    );
    for model in ["kokoro-82m", "piper-joe"] {
        let line = all
            .lines()
            .find(|l| l.contains(&format!("speech: {model} unavailable")))
            .unwrap_or_else(|| panic!("{model} not reported:\n{all}"));
        assert!(
            line.contains(&format!("{model}/manifest.toml"))
                && line.contains("install.py")
                && line.contains("prompts use recordings"),
            "{line}"
        );
    }
    assert!(
        !all.contains("speech unavailable"),
        "whisper unaffected:\n{all}"
    );
    // The state per model is logged at shutdown, next to whisper's.
    let stopped = all
        .lines()
        .find(|l| l.contains("yingda stopped"))
        .expect(&all);
    assert!(
        stopped.contains("kokoro-82m") && stopped.contains("Unavailable"),
        "{stopped}"
    );
}

#[test]
fn a_corrupt_voice_file_is_named_and_the_other_voice_loads() {
    let models = linked_models("kokoro-82m");
    let src = yingda_speech::models::models_dir_from_env().join("kokoro-82m");
    let dst = models.path().join("kokoro-82m");
    std::fs::create_dir(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        if e.file_name() == "vocab.json" {
            let mut b = std::fs::read(e.path()).unwrap();
            b[20] ^= 1;
            std::fs::write(dst.join("vocab.json"), b).unwrap();
        } else {
            std::os::unix::fs::symlink(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
    let all = run(
        models.path(),
        &["speech: kokoro-82m unavailable", "speech: piper-joe ready"],
    );
    let line = all
        .lines()
        .find(|l| l.contains("speech: kokoro-82m unavailable"))
        .expect(&all);
    assert!(
        line.contains("vocab.json") && line.contains("sha256"),
        "{line}"
    );
}

#[test]
fn installed_voices_become_ready_after_the_recogniser() {
    let models = yingda_speech::models::models_dir_from_env();
    let all = run(
        &models,
        &["speech: kokoro-82m ready", "speech: piper-joe ready"],
    );
    assert!(!all.contains("unavailable"), "{all}");
    let stopped = all
        .lines()
        .find(|l| l.contains("yingda stopped"))
        .expect(&all);
    for m in ["whisper-base", "kokoro-82m", "piper-joe"] {
        assert!(stopped.contains(m), "{m} not in {stopped}");
    }
}
