//! SileroVad contract and golden vectors.
//!
//! Needs the installed model (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models, put there by
//! `tools/models/install.py --only silero-vad`); without it the tests fail saying so.
//!
//! Golden data (`tests/data/silero/`, made by `tools/models/silero_golden.py`): a 4.8 s
//! 8 kHz clip and the probability of each of its 150 chunks from onnxruntime on the
//! ORIGINAL shipped graph with sr = 8000. Limit 1e-4 per chunk (seen 1.0e-6).

use std::path::{Path, PathBuf};

use yingda_speech::models::ModelError;
use yingda_speech::silero::{
    SileroError, SileroModel, SileroVad, SileroVadConfig, CHUNK_SAMPLES, MODEL_FILE, MODEL_NAME,
};
use yingda_speech::vad::{Vad, VadError, VadFrame, FRAME_SAMPLES};

const GOLDEN_MAX_ERROR: f32 = 1e-4;

fn models_dir() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
}

fn model() -> SileroModel {
    let dir = models_dir();
    SileroModel::load(&dir).unwrap_or_else(|e| {
        panic!(
            "{e}\n(models dir {}: run tools/models/install.py --only silero-vad)",
            dir.display()
        )
    })
}

fn data(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/silero")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run(vad: &mut dyn Vad, samples: &[i16]) -> Vec<VadFrame> {
    samples
        .chunks_exact(FRAME_SAMPLES)
        .map(|f| vad.process(f).expect("160-sample frame"))
        .collect()
}

fn chirp(n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = i as f32 / 8000.0;
            let env = (std::f32::consts::PI * 3.0 * t).sin().abs();
            (8000.0 * env * (2.0 * std::f32::consts::PI * (200.0 + 300.0 * t) * t).sin()) as i16
        })
        .collect()
}

#[test]
fn matches_onnxruntime_on_the_original_graph() {
    let clip: Vec<i16> = data("clip_8k_i16.bin")
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let want: Vec<f32> = data("probs_f32.bin")
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(clip.len(), want.len() * CHUNK_SAMPLES);
    let got = run(&mut SileroVad::new(&model()).expect("detector"), &clip);
    // Chunk k is complete with sample (k + 1) * 256, inside frame ((k + 1) * 256 - 1) / 160;
    // that frame reports it. No frame completes two chunks.
    let mut worst = (0.0f32, 0);
    for (k, w) in want.iter().enumerate() {
        let frame = ((k + 1) * CHUNK_SAMPLES - 1) / FRAME_SAMPLES;
        let err = (got[frame].probability - w).abs();
        if err > worst.0 {
            worst = (err, k);
        }
    }
    println!(
        "max |tract - onnxruntime| = {:.2e} at chunk {} of {}",
        worst.0,
        worst.1,
        want.len()
    );
    assert!(
        worst.0 <= GOLDEN_MAX_ERROR,
        "chunk {}: {}",
        worst.1,
        worst.0
    );
    // Frames that complete no chunk repeat the latest probability.
    for (i, f) in got.iter().enumerate().skip(1) {
        let (start, end) = (i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES);
        if start / CHUNK_SAMPLES == end / CHUNK_SAMPLES {
            assert_eq!(f.probability, got[i - 1].probability, "frame {i}");
        }
    }
}

#[test]
fn wrong_frame_lengths_are_errors_and_change_nothing() {
    let m = model();
    let s = chirp(8000);
    let mut a = SileroVad::new(&m).expect("detector");
    let mut b = SileroVad::new(&m).expect("detector");
    for (i, f) in s.chunks_exact(FRAME_SAMPLES).enumerate() {
        for bad in [0, 1, 159, 161, 256, 320] {
            let junk = vec![1234i16; bad];
            assert_eq!(b.process(&junk), Err(VadError::FrameLength { got: bad }));
        }
        assert_eq!(a.process(f), b.process(f), "frame {i}");
    }
}

#[test]
fn reset_forgets_all_state() {
    let m = model();
    let s = chirp(16000);
    let mut fresh = SileroVad::new(&m).expect("detector");
    let first = run(&mut fresh, &s);
    assert!(
        first.iter().any(|f| f.probability > 0.05),
        "chirp scored as nothing"
    );
    let mut v = SileroVad::new(&m).expect("detector");
    // Leave speech-like LSTM state, a half-filled chunk and a non-zero context behind.
    run(&mut v, &s[..FRAME_SAMPLES * 7]);
    v.reset();
    assert_eq!(run(&mut v, &s), first);
    // And the state really matters: without the reset the same audio scores differently.
    let mut w = SileroVad::new(&m).expect("detector");
    run(&mut w, &s[..FRAME_SAMPLES * 7]);
    assert_ne!(run(&mut w, &s), first);
    assert_eq!(v.failures(), 0);
}

#[test]
fn silence_and_full_scale_junk_do_not_panic() {
    let mut v = SileroVad::new(&model()).expect("detector");
    for f in [
        [0i16; FRAME_SAMPLES],
        [i16::MAX; FRAME_SAMPLES],
        [i16::MIN; FRAME_SAMPLES],
    ] {
        for _ in 0..20 {
            let r = v.process(&f).expect("frame");
            assert!((0.0..=1.0).contains(&r.probability));
        }
    }
    v.reset();
    let r = run(&mut v, &[0; 8000]);
    assert!(r.iter().all(|d| !d.speech), "silence called speech");
    assert_eq!(v.failures(), 0);
}

#[test]
fn thresholds_are_validated() {
    let m = model();
    assert_eq!(SileroVadConfig::default().validate(), Ok(()));
    for (onset, release) in [(0.0, 0.0), (1.0, 0.5), (f32::NAN, 0.3)] {
        assert!(
            matches!(
                SileroVad::with_config(&m, SileroVadConfig { onset, release }),
                Err(SileroError::Config(VadError::Threshold { .. }))
            ),
            "{onset} {release}"
        );
    }
    assert!(matches!(
        SileroVad::with_config(
            &m,
            SileroVadConfig {
                onset: 0.4,
                release: 0.5
            }
        ),
        Err(SileroError::Config(VadError::Hysteresis { .. }))
    ));
    let c = SileroVadConfig {
        onset: 0.7,
        release: 0.2,
    };
    assert_eq!(
        SileroVad::with_config(&m, c).map(|v| v.config()).ok(),
        Some(c)
    );
}

#[test]
fn is_an_object_safe_send_vad_with_28_ms_latency() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let m = model();
    assert_send_sync(&m);
    let v: Box<dyn Vad> = Box::new(SileroVad::new(&m).expect("detector"));
    assert_send(&v);
    // 224 of 256 samples can wait for the next chunk: 28 ms.
    assert_eq!(v.latency_ms(), 28);
}

/// A copy of the installed model directory to break things in.
fn scratch_install(tag: &str) -> (PathBuf, PathBuf) {
    let src = models_dir().join(MODEL_NAME);
    let root = std::env::temp_dir().join(format!("yingda-silero-{tag}-{}", std::process::id()));
    let dir = root.join(MODEL_NAME);
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    for e in std::fs::read_dir(&src).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run tools/models/install.py --only silero-vad)",
            src.display()
        )
    }) {
        let e = e.expect("dir entry");
        std::fs::copy(e.path(), dir.join(e.file_name())).expect("copy model file");
    }
    (root, dir)
}

#[test]
fn missing_model_file_is_the_missing_error() {
    let (root, dir) = scratch_install("missing");
    std::fs::remove_file(dir.join(MODEL_FILE)).expect("remove");
    let err = SileroModel::load(&root).expect_err("loaded without its graph");
    println!("{err}");
    assert!(
        matches!(&err, SileroError::Model(ModelError::Missing { file }) if file.ends_with(MODEL_FILE)),
        "{err:?}"
    );
    assert!(err.to_string().contains("install.py"), "{err}");
    // No models dir at all: the manifest is missing.
    let err = SileroModel::load(root.join("nowhere")).expect_err("loaded from nowhere");
    assert!(
        matches!(err, SileroError::Model(ModelError::ReadManifest { .. })),
        "{err:?}"
    );
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn corrupt_model_file_is_the_corrupt_error() {
    let (root, dir) = scratch_install("corrupt");
    let path = dir.join(MODEL_FILE);
    let mut bytes = std::fs::read(&path).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&path, &bytes).expect("write");
    let err = SileroModel::load(&root).expect_err("loaded a corrupt graph");
    println!("{err}");
    assert!(
        matches!(&err, SileroError::Model(ModelError::Corrupt { file, .. }) if file.ends_with(MODEL_FILE)),
        "{err:?}"
    );
    bytes.truncate(1000);
    std::fs::write(&path, &bytes).expect("write");
    assert!(matches!(
        SileroModel::load(&root),
        Err(SileroError::Model(ModelError::WrongSize { .. }))
    ));
    // The unverified path hands the truncated file to tract: a load error, not a panic.
    let err = SileroModel::from_onnx_file(&path).expect_err("tract loaded 1000 bytes");
    println!("{err}");
    assert!(matches!(err, SileroError::Load { .. }), "{err:?}");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn graphs_tract_cannot_use_are_load_or_interface_errors() {
    // The shipped graph: tract stops at its If nodes.
    let shipped = models_dir().join(MODEL_NAME).join("silero_vad.onnx");
    let err = SileroModel::from_onnx_file(&shipped).expect_err("loaded the If graph");
    println!("{err}");
    assert!(matches!(err, SileroError::Load { .. }), "{err:?}");
    // Valid ONNX with Silero's inputs, but `output` is [1, 288].
    let wrong = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/silero/wrong_outputs.onnx");
    let err = SileroModel::from_onnx_file(&wrong).expect_err("loaded a pass-through graph");
    println!("{err}");
    assert!(matches!(err, SileroError::Interface { .. }), "{err:?}");
}

#[test]
fn manifest_without_conversion_is_not_converted() {
    let (root, dir) = scratch_install("pending");
    let manifest = dir.join("manifest.toml");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let cut = text.find("[conversion]").expect("conversion section");
    std::fs::write(&manifest, &text[..cut]).expect("write");
    let err = SileroModel::load(&root).expect_err("loaded without conversion");
    assert!(matches!(err, SileroError::NotConverted { .. }), "{err:?}");
    let _ = std::fs::remove_dir_all(root);
}
