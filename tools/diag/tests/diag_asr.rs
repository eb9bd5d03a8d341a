//! `yingda-diag asr FILE.wav --lang zh|en [--grammar FILE] --json`: the contract (fields
//! `text`, `confidence`, `match`, `ms`), grammar matching with carrier words on espeak-ng
//! speech, null for out-of-grammar speech, digit mode, and every bad input as a clear error on stderr with exit code 2 and nothing on
//! stdout. Needs the installed whisper-base model (tools/models/install.py).

mod common;

use common::{diag, file, wav, Run};
use serde_json::Value;
use yingda_dsp::wav::Encoding;
use yingda_dsp::Law;

fn models_dir() -> String {
    yingda_speech::models::models_dir_from_env()
        .to_str()
        .expect("utf-8 models dir")
        .to_owned()
}

fn asr_json(path: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec!["asr", path.to_str().expect("utf-8"), "--json"];
    args.extend_from_slice(extra);
    let r = diag(&args);
    assert_eq!(
        r.code,
        Some(0),
        "{r:?}\n(is whisper-base installed? run tools/models/install.py)"
    );
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line: {r:?}");
    serde_json::from_str(lines[0]).expect("JSON")
}

fn assert_contract(v: &Value) {
    assert!(v["text"].is_string(), "{v}");
    let c = v["confidence"].as_f64().expect("confidence");
    assert!((0.0..=1.0).contains(&c), "{v}");
    assert!(v["match"].is_string() || v["match"].is_null(), "{v}");
    assert!(v["ms"].as_f64().expect("ms") > 0.0, "{v}");
}

const DEPT_ZH: &str = "口腔科: 口腔科 | 牙科\n妇产科: 妇产科\n儿科: 儿科 | 小儿科\n眼科: 眼科\n";
const YESNO_EN: &str = "yes: yes | yeah | correct\nno: no | wrong | cancel\n";

#[test]
fn grammar_mode_finds_the_department_inside_carrier_words() {
    let speech = yingda_testpeers::espeak_8k("cmn-latn-pinyin", "wo3 xiang3 kan4 ya2 ke1");
    let audio = wav(&speech, Encoding::G711(Law::Alaw));
    let g = file("dept.txt", DEPT_ZH.as_bytes());
    let v = asr_json(
        &audio.path,
        &[
            "--lang",
            "zh",
            "--grammar",
            g.path.to_str().unwrap(),
            "--models-dir",
            &models_dir(),
        ],
    );
    assert_contract(&v);
    assert_eq!(v["match"], "口腔科", "{v}");
    assert_eq!(v["lang"], "zh");
}

#[test]
fn grammar_mode_in_english() {
    let speech = yingda_testpeers::espeak_8k("en-us", "no, cancel that");
    let audio = wav(&speech, Encoding::Pcm16);
    let g = file("yesno.txt", YESNO_EN.as_bytes());
    let v = asr_json(
        &audio.path,
        &["--lang", "en", "--grammar", g.path.to_str().unwrap()],
    );
    assert_contract(&v);
    assert_eq!(v["match"], "no", "{v}");
}

/// Recognises `audio` against the Mandarin department grammar and expects no match.
fn assert_no_department(audio: &common::Capture) {
    let g = file("dept.txt", DEPT_ZH.as_bytes());
    let v = asr_json(
        &audio.path,
        &["--lang", "zh", "--grammar", g.path.to_str().unwrap()],
    );
    assert_contract(&v);
    assert!(v["match"].is_null(), "{v}");
}

#[test]
fn out_of_grammar_speech_gives_null_match() {
    let speech =
        yingda_testpeers::espeak_8k("cmn-latn-pinyin", "jin1 tian1 tian1 qi4 zen3 me5 yang4");
    assert_no_department(&wav(&speech, Encoding::G711(Law::Alaw)));
}

#[test]
fn digit_mode_reads_the_digits() {
    let speech = yingda_testpeers::espeak_8k("en-us", "three one four one five nine");
    let audio = wav(&speech, Encoding::Pcm16);
    let v = asr_json(&audio.path, &["--lang", "en", "--digits"]);
    assert_contract(&v);
    assert!(v["match"].is_null(), "{v}");
    assert_eq!(v["digits"], "314159", "{v}");
}

#[test]
fn open_mode_transcribes_and_has_no_match() {
    let speech = yingda_testpeers::espeak_8k("en-us", "I would like to check my balance");
    let audio = wav(&speech, Encoding::G711(Law::Ulaw));
    let v = asr_json(&audio.path, &["--lang", "en"]);
    assert_contract(&v);
    assert!(v["match"].is_null(), "{v}");
    let text = v["text"].as_str().unwrap().to_lowercase();
    assert!(text.contains("check my"), "{v}");
    // Whisper's habit of repeating the sentence is cut by the repetition guard.
    assert_eq!(text.matches("check my").count(), 1, "{v}");
}

#[test]
fn silence_gives_empty_text_and_no_match() {
    assert_no_department(&wav(&vec![0i16; 16_000], Encoding::Pcm16));
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
fn errors_bad_inputs_are_named() {
    let audio = wav(&vec![0i16; 8000], Encoding::Pcm16);
    let p = audio.path.to_str().unwrap();
    // A grammar with a syntax error: its line is named.
    let bad = file("bad.txt", "yes: yes\nno yes\n".as_bytes());
    let r = diag(&[
        "asr",
        p,
        "--lang",
        "zh",
        "--grammar",
        bad.path.to_str().unwrap(),
        "--json",
    ]);
    assert_fails(&r, "bad.txt");
    assert!(r.stderr.contains("line 2"), "{r:?}");
    // Missing capture.
    let r = diag(&["asr", "/nonexistent/x.wav", "--lang", "zh", "--json"]);
    assert_fails(&r, "/nonexistent/x.wav");
    // 16 kHz capture.
    let wide = file(
        "wide.wav",
        &yingda_dsp::wav::write(16_000, Encoding::Pcm16, &[0; 16_000]),
    );
    let r = diag(&["asr", wide.path.to_str().unwrap(), "--lang", "en", "--json"]);
    assert_fails(&r, "16000 Hz");
    // No model installed there: the error says what to run.
    let empty = tempfile::tempdir().unwrap();
    let r = diag(&[
        "asr",
        p,
        "--lang",
        "en",
        "--models-dir",
        empty.path().to_str().unwrap(),
    ]);
    assert_fails(&r, "tools/models/install.py");
    // A capture too short to hold speech.
    let short = wav(&[0i16; 100], Encoding::Pcm16);
    let r = diag(&[
        "asr",
        short.path.to_str().unwrap(),
        "--lang",
        "en",
        "--json",
    ]);
    assert_fails(&r, "too short");
    // Unknown language.
    let r = diag(&["asr", p, "--lang", "fr", "--json"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stdout.is_empty());
}
