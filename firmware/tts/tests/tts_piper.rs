//! Piper `en_US-joe-medium` under tract against onnxruntime on the original graph.
//!
//! Needs the installed, converted model (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models, put
//! there by `tools/models/install.py --only piper-joe`); without it the tests fail saying so.
//!
//! Golden data (`tests/data/piper/`, made by `tools/models/piper_golden.py golden`): ids of
//! two sentences (espeak-ng IPA through the voice's phoneme_id_map, so this test never runs
//! espeak), the durations and the audio onnxruntime computed on the ORIGINAL graph fed the
//! same seeded noise as the runner. Limit: SNR ≥ 30 dB over the utterance (seen ~ 90 dB, the
//! i16 quantisation of the reference).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;
use yingda_tts::piper::{Piper, PiperError, PiperOptions, HOP, MAX_IDS, WINDOWS};

const MIN_SNR_DB: f64 = 30.0;

fn models_dir() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
}

/// One voice for every test in this file, so each plan compiles once.
fn piper() -> &'static Piper {
    static PIPER: OnceLock<Piper> = OnceLock::new();
    PIPER.get_or_init(|| {
        let dir = models_dir();
        Piper::load(&dir).unwrap_or_else(|e| {
            panic!(
                "{e}\n(models dir {}: run tools/models/install.py --only piper-joe)",
                dir.display()
            )
        })
    })
}

#[derive(Deserialize)]
struct Golden {
    seed: u64,
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
    sample_rate: u32,
    sentences: Vec<Sentence>,
}

#[derive(Deserialize)]
struct Sentence {
    name: String,
    ids: Vec<i64>,
    durations: Vec<u32>,
    samples: usize,
    audio: String,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/piper")
}

fn golden() -> Golden {
    let path = data_dir().join("golden.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn reference(s: &Sentence) -> Vec<f32> {
    let path = data_dir().join(&s.audio);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32767.0)
        .collect()
}

fn options(g: &Golden) -> PiperOptions {
    PiperOptions {
        noise_scale: g.noise_scale,
        length_scale: g.length_scale,
        noise_w: g.noise_w,
        seed: g.seed,
    }
}

/// The error of a call that must fail (without printing its audio if it did not).
fn fails(r: Result<Vec<f32>, PiperError>) -> PiperError {
    match r {
        Ok(audio) => panic!("synthesised {} samples instead of failing", audio.len()),
        Err(e) => e,
    }
}

fn snr_db(reference: &[f32], got: &[f32]) -> f64 {
    let signal: f64 = reference.iter().map(|&x| f64::from(x).powi(2)).sum();
    let noise: f64 = reference
        .iter()
        .zip(got)
        .map(|(&r, &g)| (f64::from(g) - f64::from(r)).powi(2))
        .sum();
    10.0 * (signal / noise.max(1e-30)).log10()
}

#[test]
fn matches_onnxruntime_on_the_original_graph() {
    let g = golden();
    let piper = piper();
    assert_eq!(piper.sample_rate(), g.sample_rate);
    for s in &g.sentences {
        let want = reference(s);
        assert_eq!(want.len(), s.samples);
        assert_eq!(
            s.samples,
            s.durations.iter().sum::<u32>() as usize * HOP,
            "{}: golden audio length is the durations' frames",
            s.name
        );
        let got = piper.synthesize_ids(&s.ids, &options(&g)).unwrap();
        assert_eq!(
            got.len(),
            want.len(),
            "{}: {} frames from tract, {} from onnxruntime (a duration differs)",
            s.name,
            got.len() / HOP,
            want.len() / HOP
        );
        let snr = snr_db(&want, &got);
        let max_err = want
            .iter()
            .zip(&got)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        eprintln!(
            "{}: {} ids, {:.2} s, SNR {snr:.1} dB, max |err| {max_err:.2e}",
            s.name,
            s.ids.len(),
            got.len() as f64 / f64::from(g.sample_rate)
        );
        assert!(snr >= MIN_SNR_DB, "{}: SNR {snr:.1} dB", s.name);
        assert!(got.iter().all(|x| x.is_finite() && x.abs() <= 1.0));
    }
}

#[test]
fn streaming_windows_concatenate_to_the_whole() {
    let g = golden();
    let s = g.sentences.iter().find(|s| s.name == "long").unwrap();
    let piper = piper();
    let whole = piper.synthesize_ids(&s.ids, &options(&g)).unwrap();
    let mut chunks = Vec::new();
    let n = piper
        .synthesize_ids_with(&s.ids, &options(&g), |c| chunks.push(c.to_vec()))
        .unwrap();
    assert_eq!(n, whole.len());
    assert_eq!(
        chunks[0].len(),
        WINDOWS[0] * HOP,
        "first audio is one short window"
    );
    assert!(chunks.len() > 2);
    assert_eq!(chunks.concat(), whole);
}

#[test]
fn same_seed_same_audio_other_seed_differs() {
    let g = golden();
    let s = &g.sentences[0];
    let piper = piper();
    let a = piper.synthesize_ids(&s.ids, &options(&g)).unwrap();
    let b = piper.synthesize_ids(&s.ids, &options(&g)).unwrap();
    assert_eq!(a, b);
    let other = PiperOptions {
        seed: g.seed + 1,
        ..options(&g)
    };
    let c = piper.synthesize_ids(&s.ids, &other).unwrap();
    assert_ne!(a, c);
}

#[test]
fn defaults_come_from_the_voice_config() {
    let o = piper().default_options();
    assert_eq!(
        (o.noise_scale, o.length_scale, o.noise_w, o.seed),
        (0.667, 1.0, 0.8, 0)
    );
    assert_eq!(piper().id_count(), 151);
}

#[test]
fn length_scale_stretches_the_audio() {
    let g = golden();
    let s = &g.sentences[0];
    let normal = piper().synthesize_ids(&s.ids, &options(&g)).unwrap();
    let slow = PiperOptions {
        length_scale: 1.5,
        ..options(&g)
    };
    let slow = piper().synthesize_ids(&s.ids, &slow).unwrap();
    let ratio = slow.len() as f64 / normal.len() as f64;
    assert!((1.3..1.7).contains(&ratio), "ratio {ratio}");
}

#[test]
fn shortest_input_gives_some_audio() {
    // ^ _ $ : framing only.
    let audio = piper()
        .synthesize_ids(&[1, 0, 2], &piper().default_options())
        .unwrap();
    assert!(!audio.is_empty() && audio.len() % HOP == 0);
}

#[test]
fn empty_ids_are_an_error() {
    let e = fails(piper().synthesize_ids(&[], &piper().default_options()));
    assert!(matches!(e, PiperError::Empty), "{e}");
}

#[test]
fn unknown_ids_are_an_error_naming_the_position() {
    let piper = piper();
    let size = piper.id_count();
    for (bad, at) in [(size, 3), (-1, 0), (i64::MAX, 2)] {
        let mut ids = vec![1, 0, 20, 0, 2];
        ids[at] = bad;
        let e = fails(piper.synthesize_ids(&ids, &piper.default_options()));
        match e {
            PiperError::UnknownId {
                id,
                position,
                map_size,
            } => assert_eq!((id, position, map_size), (bad, at, size)),
            other => panic!("{other}"),
        }
    }
}

#[test]
fn too_many_ids_are_an_error() {
    let ids: Vec<i64> = (0..=MAX_IDS)
        .map(|i| if i % 2 == 0 { 0 } else { 20 })
        .collect();
    let e = fails(piper().synthesize_ids(&ids, &piper().default_options()));
    assert!(
        matches!(e, PiperError::TooManyIds { count, max } if count == MAX_IDS + 1 && max == MAX_IDS),
        "{e}"
    );
}

#[test]
fn too_much_audio_is_an_error_not_an_allocation() {
    // The long sentence twice (474 ids), ten times slower: ~9000 frames, over 60 s.
    let g = golden();
    let s = g.sentences.iter().find(|s| s.name == "long").unwrap();
    let mut ids = s.ids[..s.ids.len() - 1].to_vec();
    ids.extend_from_slice(&s.ids[2..]);
    assert!(ids.len() <= MAX_IDS);
    let slow = PiperOptions {
        length_scale: 10.0,
        ..options(&g)
    };
    match piper().synthesize_ids(&ids, &slow) {
        Err(PiperError::TooLong {
            frames, max_frames, ..
        }) => assert!(frames > max_frames as u64),
        Err(e) => panic!("{e}"),
        Ok(audio) => panic!("{} s of audio", audio.len() / 22050),
    }
}

#[test]
fn out_of_range_options_are_errors() {
    let d = piper().default_options();
    for (o, name) in [
        (
            PiperOptions {
                noise_scale: f32::NAN,
                ..d
            },
            "noise_scale",
        ),
        (
            PiperOptions {
                length_scale: 0.0,
                ..d
            },
            "length_scale",
        ),
        (PiperOptions { noise_w: -1.0, ..d }, "noise_w"),
    ] {
        match fails(piper().synthesize_ids(&[1, 0, 2], &o)) {
            PiperError::Option { name: n, .. } => assert_eq!(n, name),
            other => panic!("{other}"),
        }
    }
}

#[test]
fn shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Piper>();
    let g = golden();
    let s = &g.sentences[0];
    let piper = piper();
    let alone = piper.synthesize_ids(&s.ids, &options(&g)).unwrap();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| piper.synthesize_ids(&s.ids, &options(&g)).unwrap()))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), alone);
        }
    });
}
