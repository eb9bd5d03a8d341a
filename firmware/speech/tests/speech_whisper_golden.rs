//! The tract runtime of Whisper against golden vectors from onnxruntime on the same converted
//! graphs (tools/models/whisper_golden.py): encoder output, first-step logits, and the whole
//! greedy transcript. Also the decoder's own consistency: a key/value-cached decode equals
//! one pass, batched scoring equals single scoring. Needs the installed, converted
//! whisper-base model (tools/models/install.py).

use std::path::PathBuf;
use std::sync::OnceLock;

use yingda_speech::mel::LogMel;
use yingda_speech::models::models_dir_from_env;
use yingda_speech::whisper::{DecodeOptions, Whisper};

fn model() -> &'static Whisper {
    static M: OnceLock<Whisper> = OnceLock::new();
    M.get_or_init(|| {
        Whisper::load(models_dir_from_env()).unwrap_or_else(|e| {
            panic!("{e}\n(run tools/models/install.py to install whisper-base)")
        })
    })
}

#[derive(serde::Deserialize)]
struct Golden {
    frames: usize,
    prompt: Vec<u32>,
    tokens: Vec<u32>,
    text: String,
    step0_top: Vec<(u32, f32)>,
    cross_k_first: Vec<f32>,
    cross_k_sum: f64,
    cross_v_sum: f64,
}

fn case(name: &str) -> (Golden, LogMel) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/whisper")
        .join(name);
    let g: Golden =
        serde_json::from_slice(&std::fs::read(dir.join("golden.json")).unwrap()).unwrap();
    let raw = std::fs::read(dir.join("mel.f32le")).unwrap();
    let data: Vec<f32> = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mel = LogMel::from_mel_major(g.frames, data).expect("80 x frames values");
    (g, mel)
}

fn check(name: &str) {
    let m = model();
    let (g, mel) = case(name);
    let enc = m.encode(&mel).unwrap();
    let k = enc.cross_k().unwrap();
    for (i, (a, b)) in k.iter().zip(&g.cross_k_first).enumerate() {
        assert!((a - b).abs() < 2e-3, "{name}: cross_k[{i}] {a} vs {b}");
    }
    let layer = k.len() / 6;
    let k_sum: f64 = k[..layer].iter().map(|&x| f64::from(x)).sum();
    let v = enc.cross_v().unwrap();
    let v_sum: f64 = v[5 * layer..].iter().map(|&x| f64::from(x)).sum();
    let tol = |x: f64| 1e-3 * x.abs().max(100.0);
    assert!(
        (k_sum - g.cross_k_sum).abs() < tol(g.cross_k_sum),
        "{name}: {k_sum} vs {}",
        g.cross_k_sum
    );
    assert!(
        (v_sum - g.cross_v_sum).abs() < tol(g.cross_v_sum),
        "{name}: {v_sum} vs {}",
        g.cross_v_sum
    );
    let logits = m.next_logits(&enc, &g.prompt).unwrap();
    for &(id, want) in &g.step0_top {
        let got = logits[id as usize];
        assert!(
            (got - want).abs() < 2e-2,
            "{name}: logit {id} {got} vs {want}"
        );
    }
    let d = m
        .decode_greedy(&enc, &g.prompt, &DecodeOptions::default())
        .unwrap();
    assert_eq!(d.tokens, g.tokens, "{name}: {:?} vs {:?}", d.text, g.text);
    // The reference strips the leading space Whisper puts before English words.
    assert_eq!(d.text.trim(), g.text);
}

#[test]
fn english_clip_matches_onnxruntime() {
    check("en_say_yes_or_no");
}

#[test]
fn mandarin_clip_matches_onnxruntime() {
    check("zh_check_balance");
}

#[test]
fn batched_scores_equal_single_scores_and_favour_the_transcript() {
    let m = model();
    let (g, mel) = case("en_say_yes_or_no");
    let enc = m.encode(&mel).unwrap();
    let tok = m.tokenizer();
    let cands = vec![
        g.tokens.clone(),
        tok.encode(" Banana split"),
        tok.encode(" No"),
    ];
    let batch = m.score(&enc, &g.prompt, &cands).unwrap();
    for (c, b) in cands.iter().zip(&batch) {
        let one = m.score(&enc, &g.prompt, std::slice::from_ref(c)).unwrap()[0];
        assert!((one - b).abs() < 1e-2, "{one} vs {b}");
    }
    assert!(batch[0] > batch[1], "{batch:?}");
}

#[test]
fn too_short_and_too_long_mels_are_errors() {
    let m = model();
    let one = LogMel::from_mel_major(1, vec![0.0; 80]).unwrap();
    assert!(m.encode(&one).unwrap_err().to_string().contains("2..=3000"));
    let long = LogMel::from_mel_major(3002, vec![0.0; 80 * 3002]).unwrap();
    assert!(m.encode(&long).is_err());
}

#[test]
fn a_corrupt_model_file_is_named_and_nothing_loads() {
    let dir = tempfile::tempdir().unwrap();
    let src = models_dir_from_env().join("whisper-base");
    let dst = dir.path().join("whisper-base");
    std::fs::create_dir(&dst).unwrap();
    for f in [
        "manifest.toml",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
        "LICENSE",
    ] {
        std::fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    for f in ["model.bin", "encoder.onnx", "decoder.onnx"] {
        std::os::unix::fs::symlink(src.join(f), dst.join(f)).unwrap();
    }
    // A truncated decoder: same name, wrong size.
    std::fs::remove_file(dst.join("decoder.onnx")).unwrap();
    std::fs::write(dst.join("decoder.onnx"), b"not a model").unwrap();
    let err = Whisper::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("decoder.onnx"), "{err}");
    let missing = tempfile::tempdir().unwrap();
    let err = Whisper::load(missing.path()).unwrap_err().to_string();
    assert!(err.contains("install.py"), "{err}");
}
