//! `yingda-diag tts --lang zh|en --voice V --out OUT.wav "text"`: the contract (8 kHz
//! 16-bit mono PCM WAV; `--json` fields), round trips through the box's recogniser
//! (`yingda-diag asr`, grammar mode for Mandarin, open mode for English), and every bad
//! input as a clear error on stderr with exit code 2, nothing on stdout and nothing at OUT.
//! Needs the installed models (tools/models/install.py).

mod common;

use std::path::{Path, PathBuf};

use common::{diag, file, Run};
use serde_json::Value;

fn models_dir() -> PathBuf {
    yingda_speech::models::models_dir_from_env()
}

fn tts(lang: &str, voice: &str, out: &Path, text: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "tts",
        "--lang",
        lang,
        "--voice",
        voice,
        "--out",
        out.to_str().expect("utf-8"),
        text,
    ];
    args.extend_from_slice(extra);
    diag(&args)
}

/// Synthesises into `dir/name` with `--json`; checks the run and the JSON line.
fn tts_ok(dir: &Path, name: &str, lang: &str, voice: &str, text: &str) -> (PathBuf, Value) {
    let out = dir.join(name);
    let r = tts(lang, voice, &out, text, &["--json"]);
    assert_eq!(r.code, Some(0), "{r:?}\n(run tools/models/install.py?)");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line: {r:?}");
    let v: Value = serde_json::from_str(lines[0]).expect("JSON");
    assert_eq!(v["out"], out.to_str().unwrap(), "{v}");
    assert_eq!(v["voice"], voice, "{v}");
    assert_eq!(v["lang"], lang, "{v}");
    for f in ["ms", "first_audio_ms", "seconds"] {
        assert!(v[f].as_f64().expect(f) > 0.0, "{f}: {v}");
    }
    assert!(v["first_audio_ms"].as_f64() <= v["ms"].as_f64(), "{v}");
    (out, v)
}

/// Checks the header byte by byte (8 kHz, 16-bit, mono, PCM) and the audio; returns it.
fn check_wav(path: &Path, v: &Value, min_s: f64, max_s: f64) -> Vec<i16> {
    let bytes = std::fs::read(path).expect("OUT written");
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(&bytes[8..16], b"WAVEfmt ");
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    assert_eq!(u16_at(20), 1, "PCM format tag");
    assert_eq!(u16_at(22), 1, "mono");
    assert_eq!(u32_at(24), 8000, "8 kHz");
    assert_eq!(u16_at(34), 16, "16 bits");
    let w = yingda_dsp::wav::parse(&bytes).expect("valid WAV");
    let x = w.samples;
    assert_eq!(v["samples"].as_u64(), Some(x.len() as u64), "{v}");
    let secs = x.len() as f64 / 8000.0;
    assert!((v["seconds"].as_f64().unwrap() - secs).abs() < 1e-6, "{v}");
    assert!((min_s..=max_s).contains(&secs), "{secs:.2} s");
    let rms = (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    assert!(rms > 300.0, "rms {rms:.0}: silent?");
    assert!(
        x.iter().any(|&s| s.unsigned_abs() > 3000),
        "no speech-level peaks"
    );
    x
}

fn asr(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["asr", path.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let r = diag(&args);
    assert_eq!(r.code, Some(0), "{r:?}");
    serde_json::from_str(r.stdout.trim()).expect("JSON")
}

#[test]
fn mandarin_prompt_is_an_8_khz_wav_the_recogniser_matches() {
    let dir = tempfile::tempdir().unwrap();
    let (out, v) = tts_ok(dir.path(), "zh.wav", "zh", "zf_xiaoxiao", "我想挂口腔科");
    check_wav(&out, &v, 1.0, 5.0);
    let g = file(
        "dept.txt",
        "口腔科: 口腔科 | 牙科\n眼科: 眼科\n儿科: 儿科 | 小儿科\n".as_bytes(),
    );
    let a = asr(
        &out,
        &["--lang", "zh", "--grammar", g.path.to_str().unwrap()],
    );
    assert_eq!(a["match"], "口腔科", "{a}");
}

#[test]
fn english_prompts_on_both_engines_are_heard_in_open_mode() {
    let dir = tempfile::tempdir().unwrap();
    for voice in ["joe", "af_heart"] {
        let (out, v) = tts_ok(
            dir.path(),
            &format!("{voice}.wav"),
            "en",
            voice,
            "I would like to book an appointment with the dentist.",
        );
        check_wav(&out, &v, 1.5, 6.0);
        let a = asr(&out, &["--lang", "en"]);
        let text = a["text"].as_str().unwrap().to_lowercase();
        for word in ["appointment", "dentist"] {
            assert!(text.contains(word), "{voice}: {word} not in {text:?}");
        }
    }
}

#[test]
fn text_output_for_people_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.wav");
    let r = tts("en", "joe", &out, "Goodbye.", &[]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.contains("p.wav") && r.stdout.contains("8 kHz"),
        "{r:?}"
    );
    assert!(out.exists());
}

/// Runs a failing `tts` into `dir/out.wav` (which may hold `before`); checks exit code 2,
/// nothing on stdout, OUT unchanged and no temporary files; returns stderr.
fn fails(
    dir: &Path,
    lang: &str,
    voice: &str,
    text: &str,
    extra: &[&str],
    before: Option<&[u8]>,
) -> String {
    let out = dir.join("out.wav");
    if let Some(b) = before {
        std::fs::write(&out, b).unwrap();
    }
    let r = tts(lang, voice, &out, text, extra);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
    assert!(r.stderr.starts_with("yingda-diag: "), "{r:?}");
    match before {
        Some(b) => assert_eq!(std::fs::read(&out).unwrap(), b, "OUT changed"),
        None => assert!(!out.exists(), "partial OUT left: {r:?}"),
    }
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains(".tmp")),
        "left behind: {names:?}"
    );
    r.stderr
}

#[test]
fn bad_requests_exit_2_with_a_clear_message_and_no_out_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let e = fails(d, "zh", "bob", "你好", &[], None);
    assert!(e.contains("unknown voice \"bob\""), "{e}");
    for v in ["zf_xiaoxiao", "zm_yunxi", "af_heart", "joe"] {
        assert!(e.contains(v), "voice list lacks {v}: {e}");
    }
    let e = fails(d, "zh", "joe", "你好", &[], None);
    assert!(
        e.contains("voice joe speaks en, not zh") && e.contains("zf_xiaoxiao"),
        "{e}"
    );
    let e = fails(d, "en", "zm_yunxi", "hello", &[], None);
    assert!(e.contains("speaks zh, not en"), "{e}");
    for text in ["", "   ", "。！"] {
        let e = fails(d, "zh", "zf_xiaoxiao", text, &[], None);
        assert!(e.contains("text is empty"), "{text:?}: {e}");
    }
    // An existing OUT survives a failed run untouched.
    let e = fails(d, "en", "joe", "", &[], Some(b"keep me"));
    assert!(e.contains("text is empty"), "{e}");
}

#[test]
fn a_missing_model_names_the_file_and_the_installer() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let md = empty.path().to_str().unwrap();
    for (lang, voice, model) in [
        ("zh", "zf_xiaoxiao", "kokoro-82m"),
        ("en", "joe", "piper-joe"),
    ] {
        let e = fails(
            dir.path(),
            lang,
            voice,
            "hello",
            &["--models-dir", md],
            None,
        );
        assert!(e.contains(&format!("{model}/manifest.toml")), "{e}");
        assert!(e.contains("run tools/models/install.py"), "{e}");
    }
}

#[test]
fn a_corrupt_model_file_is_named() {
    // piper-joe with every file linked to the install except a damaged config.
    let models = tempfile::tempdir().unwrap();
    let src = models_dir().join("piper-joe");
    let dst = models.path().join("piper-joe");
    std::fs::create_dir(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "en_US-joe-medium.onnx.json" {
            let mut b = std::fs::read(e.path()).unwrap();
            b[10] ^= 1;
            std::fs::write(dst.join(&name), b).unwrap();
        } else {
            std::os::unix::fs::symlink(e.path(), dst.join(&name)).unwrap();
        }
    }
    std::os::unix::fs::symlink(
        models_dir().join("en-lexicon"),
        models.path().join("en-lexicon"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let md = models.path().to_str().unwrap();
    let e = fails(
        dir.path(),
        "en",
        "joe",
        "hello",
        &["--models-dir", md],
        None,
    );
    assert!(
        e.contains("en_US-joe-medium.onnx.json") && e.contains("sha256"),
        "{e}"
    );
    assert!(e.contains("install.py"), "{e}");
}

#[test]
fn an_unwritable_out_is_an_error_before_any_synthesis() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/out.wav");
    let r = tts("en", "joe", &missing, "hello", &[]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr.contains("no/such/dir/out.wav: cannot write"),
        "{r:?}"
    );
    assert!(r.stdout.is_empty());
    // A directory as OUT.
    let r = tts("en", "joe", dir.path(), "hello", &[]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("is a directory"), "{r:?}");
    assert!(dir.path().is_dir());
}
