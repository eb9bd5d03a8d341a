//! Kokoro's bad inputs and bad installs are errors naming what is wrong, never panics:
//! unknown symbols, too many tokens, bad speed, voice names and files, missing, corrupt and
//! unloadable model files. Also: every installed voice loads, and utterances are cut at
//! pauses.
//!
//! The install tests need the installed, converted model (`$YINGDA_MODELS_DIR` or
//! /var/lib/yingda/models, `tools/models/install.py --only kokoro-82m`); they build model
//! directories of symlinks to it under the system temp dir.

use std::path::{Path, PathBuf};

use yingda_speech::models::{Manifest, ModelError};
use yingda_tts::kokoro::{
    split, Kokoro, KokoroError, Vocab, Voice, MAX_TOKENS, MODEL_NAME, SAMPLES_PER_FRAME,
};

fn models_dir() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
}

fn model_dir() -> PathBuf {
    models_dir().join(MODEL_NAME)
}

fn vocab() -> Vocab {
    Vocab::load(&model_dir().join("vocab.json"))
        .unwrap_or_else(|e| panic!("{e}\n(run tools/models/install.py --only kokoro-82m)"))
}

/// A scratch models dir removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("yingda-kokoro-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(MODEL_NAME).join("voices")).unwrap();
        Self(dir)
    }

    fn model(&self) -> PathBuf {
        self.0.join(MODEL_NAME)
    }

    /// Symlinks every file of the installed model, manifest included, except `skip`.
    fn link_all_but(&self, skip: &str) {
        let installed = model_dir();
        let m = Manifest::load(installed.join("manifest.toml")).unwrap();
        let conv: Vec<String> = m
            .conversion
            .iter()
            .flat_map(|c| c.outputs.iter().map(|o| o.path.clone()))
            .collect();
        let files = m
            .files
            .iter()
            .map(|f| f.path.clone())
            .chain(conv)
            .chain(["manifest.toml".to_owned()]);
        for f in files.filter(|f| f != skip) {
            std::os::unix::fs::symlink(installed.join(&f), self.model().join(&f)).unwrap();
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn unknown_symbol_is_named_with_its_position() {
    let err = vocab().encode("ni↗n😀xau").unwrap_err();
    assert!(
        matches!(
            err,
            KokoroError::UnknownSymbol {
                symbol: '😀',
                position: 4
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains('😀') && text.contains("U+1F600") && text.contains("character 4"),
        "{text}"
    );
}

#[test]
fn too_many_tokens_and_empty_strings_are_errors() {
    let v = vocab();
    assert_eq!(v.encode(&"a".repeat(MAX_TOKENS)).unwrap().len(), MAX_TOKENS);
    let err = v.encode(&"a".repeat(MAX_TOKENS + 1)).unwrap_err();
    assert!(
        matches!(
            err,
            KokoroError::TooManyTokens {
                tokens: 511,
                max: 510
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("split"), "{err}");
    assert!(matches!(v.encode(""), Err(KokoroError::Empty)));
}

#[test]
fn vocabulary_json_is_checked() {
    assert!(Vocab::parse(r#"{"vocab": {"a": 43, "b": 44}}"#).is_ok());
    for bad in [
        r#"{"vocab": {}}"#,
        r#"{"vocab": {"ab": 3}}"#,
        r#"{"vocab": {"a": 0}}"#,
        r#"{"vocab": {"a": 300}}"#,
        r#"{"tokens": {"a": 3}}"#,
        "not json",
    ] {
        assert!(Vocab::parse(bad).is_err(), "{bad}");
    }
    let err = Vocab::load(Path::new("/nonexistent/vocab.json")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/vocab.json"), "{err}");
}

#[test]
fn every_installed_voice_loads_and_picks_its_row_by_token_count() {
    let m = Manifest::load(model_dir().join("manifest.toml")).unwrap();
    let voices: Vec<_> = m
        .files
        .iter()
        .filter_map(|f| f.path.strip_prefix("voices/")?.strip_suffix(".bin"))
        .collect();
    assert!(voices.len() >= 13, "{voices:?}");
    for name in voices {
        let v = Voice::load(&model_dir(), name).unwrap();
        assert_eq!(v.name(), name);
        assert_eq!(v.style(1).len(), 256);
        // hexgrad/kokoro: pack[len(phonemes) - 1]; the table has 510 rows.
        let bytes = std::fs::read(model_dir().join(format!("voices/{name}.bin"))).unwrap();
        let row = |r: usize| -> Vec<f32> {
            bytes[r * 1024..(r + 1) * 1024]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        };
        assert_eq!(v.style(1), row(0).as_slice());
        assert_eq!(v.style(60), row(59).as_slice());
        assert_eq!(v.style(510), row(509).as_slice());
        assert_eq!(v.style(0), row(0).as_slice());
        assert_eq!(v.style(9999), row(509).as_slice());
    }
}

#[test]
fn bad_voice_names_and_files_are_errors() {
    for name in ["", "../vocab", "zf/xiaoxiao", "a b", "x.bin"] {
        let err = Voice::load(&model_dir(), name).unwrap_err();
        assert!(
            matches!(err, KokoroError::VoiceName { .. }),
            "{name:?}: {err:?}"
        );
    }
    let err = Voice::load(&model_dir(), "zz_nobody").unwrap_err();
    assert!(err.to_string().contains("voices/zz_nobody.bin"), "{err}");
    assert!(Voice::from_bytes("short", &[0u8; 1000])
        .unwrap_err()
        .contains("1000 bytes"));
    let mut nan = vec![0u8; 510 * 256 * 4];
    nan[400..404].copy_from_slice(&f32::NAN.to_le_bytes());
    assert!(Voice::from_bytes("nan", &nan)
        .unwrap_err()
        .contains("value 100"));
}

#[test]
fn missing_converted_graph_is_named() {
    let s = Scratch::new("missing");
    s.link_all_but("kokoro-audio.onnx");
    let err = Kokoro::load(&s.0).unwrap_err();
    assert!(
        matches!(err, KokoroError::Model(ModelError::Missing { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("kokoro-audio.onnx"), "{err}");
}

#[test]
fn corrupt_and_truncated_files_are_named() {
    let s = Scratch::new("corrupt");
    s.link_all_but("vocab.json");
    let mut bytes = std::fs::read(model_dir().join("vocab.json")).unwrap();
    bytes[100] ^= 0x20;
    std::fs::write(s.model().join("vocab.json"), &bytes).unwrap();
    let err = Kokoro::load(&s.0).unwrap_err();
    assert!(
        matches!(err, KokoroError::Model(ModelError::Corrupt { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("vocab.json"), "{err}");

    std::fs::write(s.model().join("vocab.json"), &bytes[..500]).unwrap();
    let err = Kokoro::load(&s.0).unwrap_err();
    assert!(
        matches!(err, KokoroError::Model(ModelError::WrongSize { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("vocab.json"), "{err}");
}

#[test]
fn unloadable_graph_is_named() {
    let s = Scratch::new("garbage");
    let garbage = s.model().join("kokoro-text.onnx");
    std::fs::write(&garbage, b"not an onnx graph").unwrap();
    let dir = model_dir();
    let err = Kokoro::from_files(
        &dir,
        &garbage,
        &dir.join("kokoro-audio.onnx"),
        &dir.join("vocab.json"),
    )
    .unwrap_err();
    assert!(matches!(err, KokoroError::Load { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&*garbage.to_string_lossy()),
        "{err}"
    );
    // The graphs swapped: loads as ONNX, fails the converter's contract.
    let err = Kokoro::from_files(
        &dir,
        &dir.join("kokoro-audio.onnx"),
        &dir.join("kokoro-text.onnx"),
        &dir.join("vocab.json"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("expected [\"tokens\""), "{err}");
}

#[test]
fn bad_speed_is_an_error() {
    let k = Kokoro::load(models_dir()).unwrap();
    let v = k.voice("af_heart").unwrap();
    for speed in [0.0, -1.0, f32::NAN, f32::INFINITY, 0.1, 5.0] {
        let err = k.synthesize("hˈA", &v, speed).unwrap_err();
        assert!(matches!(err, KokoroError::Speed { .. }), "{speed}: {err:?}");
    }
    let err = k.synthesize("hˈA\u{0}", &v, 1.0).unwrap_err();
    assert!(
        matches!(err, KokoroError::UnknownSymbol { position: 3, .. }),
        "{err:?}"
    );
    let audio = k.synthesize("hˈA", &v, 1.0).unwrap();
    assert!(!audio.is_empty() && audio.len() % SAMPLES_PER_FRAME == 0);
}

#[test]
fn utterances_are_cut_after_pauses() {
    // tokens: pad, a, ",", b, " ", c, ".", pad
    let tokens = [0, 43, 3, 44, 16, 45, 4, 0];
    let durations = [5, 10, 6, 10, 2, 10, 8, 5];
    let whole = split(&tokens, &durations, 1000, false);
    assert_eq!(whole.len(), 1);
    assert_eq!((whole[0].start, whole[0].end, whole[0].frames), (0, 8, 56));
    // Early audio: the first segment ends at the first pause.
    let first = split(&tokens, &durations, 1000, true);
    assert_eq!(
        first.iter().map(|s| (s.start, s.end)).collect::<Vec<_>>(),
        [(0, 3), (3, 8)]
    );
    // Too long: cut after the last pause that fits, else a space, else anywhere; the
    // final pad token never stands alone.
    let cut = split(&tokens, &durations, 30, false);
    assert_eq!(
        cut.iter().map(|s| (s.start, s.end)).collect::<Vec<_>>(),
        [(0, 3), (3, 5), (5, 8)]
    );
    for max in 1..60 {
        let segs = split(&tokens, &durations, max, max % 2 == 0);
        assert_eq!(segs.first().unwrap().start, 0);
        assert_eq!(segs.last().unwrap().end, tokens.len());
        assert!(segs.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(segs.iter().map(|s| s.frames).sum::<usize>(), 56);
        for s in &segs {
            assert!(s.frames <= max || s.end - s.start == 1, "{max}: {s:?}");
        }
    }
}
