//! Files the tool cannot decode: exit code 2, a message on stderr naming the problem (and
//! how to fix it where there is a fix), nothing on stdout so a script reading JSON lines
//! never sees half a result.

mod common;

use common::{diag, file, samples, silence, Run};
use yingda_dsp::wav::{self, Encoding};

fn decode(path: &std::path::Path) -> Run {
    diag(&["decode", path.to_str().expect("utf-8 path"), "--json"])
}

fn assert_fails(r: &Run, needle: &str) {
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stdout.is_empty(), "stdout must be empty: {r:?}");
    assert!(
        r.stderr.contains(needle),
        "stderr should mention {needle:?}: {r:?}"
    );
}

#[test]
fn errors_16khz_file_names_the_rate() {
    let c = file(
        "wide.wav",
        &wav::write(16_000, Encoding::Pcm16, &silence(500)),
    );
    let r = decode(&c.path);
    assert_fails(&r, "16000 Hz");
    assert!(r.stderr.contains("8000"), "{r:?}");
}

#[test]
fn errors_stereo_file_names_the_channels() {
    // A valid stereo 16-bit header: channels at byte 22, byte rate 28, block align 32.
    let mut w = wav::write(8000, Encoding::Pcm16, &vec![0; samples(500)]);
    w[22..24].copy_from_slice(&2u16.to_le_bytes());
    w[28..32].copy_from_slice(&32_000u32.to_le_bytes());
    w[32..34].copy_from_slice(&4u16.to_le_bytes());
    let c = file("stereo.wav", &w);
    let r = decode(&c.path);
    assert_fails(&r, "2 channels");
    assert!(r.stderr.contains("mono"), "{r:?}");
}

#[test]
fn errors_non_wav_file() {
    let c = file("notes.wav", b"ID3\x03\x00 this is an mp3, not a wav");
    assert_fails(&decode(&c.path), "not a WAV file");
}

#[test]
fn errors_unsupported_encoding() {
    let mut w = wav::write(8000, Encoding::Pcm16, &silence(100));
    w[20] = 3; // IEEE float
    w[34] = 32;
    let c = file("float.wav", &w);
    assert_fails(&decode(&c.path), "unsupported WAV encoding");
}

#[test]
fn errors_missing_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("no-such-capture.wav");
    let r = decode(&path);
    assert_fails(&r, "no-such-capture.wav");
    assert!(r.stderr.contains("cannot read"), "{r:?}");
}

#[test]
fn errors_plain_text_mode_fails_the_same_way() {
    let c = file(
        "wide.wav",
        &wav::write(16_000, Encoding::Pcm16, &silence(100)),
    );
    let r = diag(&["decode", c.path.to_str().expect("utf-8 path")]);
    assert_fails(&r, "16000 Hz");
}

#[test]
fn errors_writing_results_fail_the_run_but_a_closed_pipe_does_not() {
    let mut x = silence(200);
    x.extend(common::spandsp_dtmf("123", 80, 80, 100));
    let cap = common::wav(&x, Encoding::Pcm16);
    // A full disk: the results could not be written, so the run must not claim success.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yingda-diag"))
        .args(["decode", cap.path.to_str().unwrap(), "--json"])
        .stdout(std::fs::File::create("/dev/full").expect("/dev/full"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("writing the results failed"),
        "{out:?}"
    );
    // A reader that stops early (`| head -1`) is fine.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_yingda-diag"))
        .args(["decode", cap.path.to_str().unwrap(), "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    assert!(child.wait().unwrap().success());
}
