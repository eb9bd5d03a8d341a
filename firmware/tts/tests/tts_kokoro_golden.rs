//! Kokoro under tract against onnxruntime, on the golden data of
//! `tools/models/kokoro_golden.py` (`tests/data/kokoro/`).
//!
//! Two references, because the original int8 graph cannot be matched sample for sample by
//! anything but onnxruntime itself (it re-quantises every activation at run time, so one
//! float ulp on its input moves its own audio to 19-21 dB SNR; see the script):
//! * the CONVERTED graphs run by onnxruntime: the runner must give the same durations and
//!   the same waveform (SNR ≥ 30 dB; measured ~43-46 dB);
//! * the ORIGINAL int8 graph: durations within a frame (a pre-rounding value near .5 may
//!   round the other way) and the same spectrum frame by frame (band-energy distance
//!   ≤ 3 dB; a different style row of the same voice is ~11 dB); the waveform SNR is
//!   printed for the record only.
//!
//! Needs the installed, converted model (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models,
//! `tools/models/install.py --only kokoro-82m`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use yingda_dsp::{g711, wav, Law};
use yingda_speech::models::Manifest;
use yingda_tts::kokoro::{Kokoro, Segment, SAMPLES_PER_FRAME};

fn models_dir() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
}

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kokoro")
}

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    phonemes: String,
    voice: String,
    speed: f32,
    tokens: Vec<i64>,
    original: Reference,
    converted: Reference,
}

#[derive(serde::Deserialize)]
struct Reference {
    durations: Vec<usize>,
    samples: usize,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(data().join("cases.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn read_wav(name: &str) -> Vec<i16> {
    let w = wav::parse(&std::fs::read(data().join(name)).unwrap()).unwrap();
    assert_eq!(w.rate, 24_000, "{name}");
    w.samples
}

/// One runner per mode for all tests of this file (loading takes seconds).
fn exact() -> &'static Kokoro {
    static K: OnceLock<Kokoro> = OnceLock::new();
    K.get_or_init(|| {
        let dir = models_dir();
        let m = Manifest::load(dir.join("kokoro-82m/manifest.toml"))
            .and_then(|m| m.verify(&dir))
            .unwrap_or_else(|e| panic!("{e}\n(run tools/models/install.py --only kokoro-82m)"));
        let f = |n: &str| {
            m.file(n)
                .unwrap_or_else(|| panic!("{n} not in the manifest: conversion not done"))
                .to_path_buf()
        };
        Kokoro::from_files_exact(
            &m.dir,
            &f("kokoro-text.onnx"),
            &f("kokoro-audio.onnx"),
            &f("vocab.json"),
        )
        .unwrap()
    })
}

fn bucketed() -> &'static Kokoro {
    static K: OnceLock<Kokoro> = OnceLock::new();
    K.get_or_init(|| {
        let k = Kokoro::load(models_dir())
            .unwrap_or_else(|e| panic!("{e}\n(run tools/models/install.py --only kokoro-82m)"));
        k.warm_up().unwrap();
        k
    })
}

fn to_i16(x: &[f32]) -> Vec<i16> {
    x.iter()
        .map(|&v| (f64::from(v) * 32767.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

fn snr_db(reference: &[i16], got: &[i16]) -> f64 {
    let n = reference.len().min(got.len());
    let (mut s, mut e) = (0f64, 0f64);
    for (&r, &g) in reference[..n].iter().zip(&got[..n]) {
        s += f64::from(r).powi(2);
        e += (f64::from(r) - f64::from(g)).powi(2);
    }
    10.0 * (s / e.max(1e-30)).log10()
}

/// 10·log10 energy in 20 bands of 600 Hz per 600-sample frame (symmetric Hann), as
/// `convert_kokoro.py`'s checker computes it.
fn band_db(x: &[i16]) -> Vec<[f64; 20]> {
    const N: usize = SAMPLES_PER_FRAME;
    let window: Vec<f64> = (0..N)
        .map(|n| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / (N - 1) as f64).cos())
        .collect();
    let (cos, sin): (Vec<f64>, Vec<f64>) = (0..N)
        .map(|k| {
            let a = 2.0 * std::f64::consts::PI * k as f64 / N as f64;
            (a.cos(), a.sin())
        })
        .unzip();
    x.chunks_exact(N)
        .map(|frame| {
            let w: Vec<f64> = frame
                .iter()
                .zip(&window)
                .map(|(&s, &h)| f64::from(s) / 32768.0 * h)
                .collect();
            let mut bands = [0f64; 20];
            for bin in 1..=300 {
                let (mut re, mut im) = (0f64, 0f64);
                for (n, &v) in w.iter().enumerate() {
                    let i = (bin * n) % N;
                    re += v * cos[i];
                    im -= v * sin[i];
                }
                bands[(bin - 1) / 15] += re * re + im * im;
            }
            bands.map(|p| 10.0 * (p + 1e-9).log10())
        })
        .collect()
}

/// Mean |dB| band difference over frames within 40 dB of the loudest, frames paired token
/// by token, so one duration rounded the other way shifts nothing after it.
fn band_distance(a: &[i16], da: &[usize], b: &[i16], db: &[usize]) -> f64 {
    let (fa, fb) = (band_db(a), band_db(b));
    let (mut ca, mut cb) = (0, 0);
    let mut pairs = Vec::new();
    for (&x, &y) in da.iter().zip(db) {
        for k in 0..x.min(y) {
            if ca + k < fa.len() && cb + k < fb.len() {
                pairs.push((ca + k, cb + k));
            }
        }
        ca += x;
        cb += y;
    }
    let energy = |f: &[f64; 20]| 10.0 * f.iter().map(|d| 10f64.powf(d / 10.0)).sum::<f64>().log10();
    let loudest = pairs
        .iter()
        .map(|&(i, _)| energy(&fa[i]))
        .fold(f64::MIN, f64::max);
    let kept: Vec<_> = pairs
        .iter()
        .filter(|&&(i, _)| energy(&fa[i]) > loudest - 40.0)
        .collect();
    let total: f64 = kept
        .iter()
        .map(|&&(i, j)| {
            fa[i]
                .iter()
                .zip(&fb[j])
                .map(|(x, y)| (x - y).abs())
                .sum::<f64>()
        })
        .sum();
    total / (kept.len() * 20) as f64
}

fn mu_law(x: &[i16]) -> Vec<i16> {
    let mut v = x.to_vec();
    g711::round_trip(Law::Ulaw, &mut v);
    v
}

#[test]
fn exact_plans_match_onnxruntime_on_the_converted_graphs() {
    for case in cases() {
        let k = exact();
        let voice = k.voice(&case.voice).unwrap();
        let text = k.text(&case.phonemes, &voice, case.speed).unwrap();
        assert_eq!(text.tokens, case.tokens, "{}: token ids", case.name);
        assert_eq!(
            text.durations, case.converted.durations,
            "{}: durations",
            case.name
        );
        let audio = to_i16(&k.synthesize(&case.phonemes, &voice, case.speed).unwrap());
        assert_eq!(audio.len(), case.converted.samples, "{}", case.name);
        let reference = read_wav(&format!("{}.converted.wav", case.name));
        let snr = snr_db(&reference, &audio);
        eprintln!(
            "{}: tract vs onnxruntime, converted graphs: durations equal, SNR {snr:.1} dB",
            case.name
        );
        assert!(
            snr >= 30.0,
            "{}: SNR {snr:.1} dB against the converted graphs",
            case.name
        );
    }
}

#[test]
fn exact_plans_sound_like_onnxruntime_on_the_original_graph() {
    for case in cases() {
        let k = exact();
        let voice = k.voice(&case.voice).unwrap();
        let text = k.text(&case.phonemes, &voice, case.speed).unwrap();
        let (ours, theirs) = (&text.durations, &case.original.durations);
        assert_eq!(ours.len(), theirs.len());
        let differing: Vec<_> = ours.iter().zip(theirs).filter(|(a, b)| a != b).collect();
        assert!(
            differing.len() <= 2 && differing.iter().all(|(&a, &b)| a.abs_diff(b) == 1),
            "{}: durations {differing:?} differ from the original graph's",
            case.name
        );
        let audio = mu_law(&to_i16(
            &k.synthesize(&case.phonemes, &voice, case.speed).unwrap(),
        ));
        let reference = read_wav(&format!("{}.original.wav", case.name));
        assert_eq!(reference.len(), case.original.samples);
        let distance = band_distance(&reference, theirs, &audio, ours);
        eprintln!(
            "{}: tract vs onnxruntime, original int8 graph: {} of {} durations differ by 1 frame, \
             band distance {distance:.2} dB, waveform SNR {:.1} dB (not comparable, see module doc)",
            case.name,
            differing.len(),
            ours.len(),
            snr_db(&reference, &audio)
        );
        assert!(
            distance <= 3.0,
            "{}: band distance {distance:.2} dB",
            case.name
        );
    }
}

#[test]
fn bucketed_plans_give_the_exact_length_audio() {
    // The utterance is padded up to a precompiled length; the graph keeps the padding out
    // of norms, convolutions and the backward LSTM, so the audio is the exact-length one.
    for case in cases() {
        let k = bucketed();
        let voice = k.voice(&case.voice).unwrap();
        let audio = to_i16(&k.synthesize(&case.phonemes, &voice, case.speed).unwrap());
        assert_eq!(audio.len(), case.converted.samples, "{}", case.name);
        let frames = case.converted.samples / SAMPLES_PER_FRAME;
        assert!(
            k.ready_buckets().iter().any(|&b| b > frames),
            "{}: {frames} frames ran in a padded plan {:?}",
            case.name,
            k.ready_buckets()
        );
        let snr = snr_db(&read_wav(&format!("{}.converted.wav", case.name)), &audio);
        eprintln!(
            "{}: {frames} frames padded to a bucket vs onnxruntime exact length: SNR {snr:.1} dB",
            case.name
        );
        assert!(snr >= 30.0, "{}: SNR {snr:.1} dB", case.name);
    }
}

#[test]
fn streaming_segments_cover_the_utterance_and_sound_alike() {
    for case in cases() {
        let k = bucketed();
        let voice = k.voice(&case.voice).unwrap();
        let text = k.text(&case.phonemes, &voice, case.speed).unwrap();
        let mut chunks = Vec::new();
        let segments: Vec<Segment> = k
            .synthesize_streaming(&case.phonemes, &voice, case.speed, |c| {
                chunks.push(c.to_vec())
            })
            .unwrap();
        assert_eq!(chunks.len(), segments.len());
        assert_eq!(segments.first().map(|s| s.start), Some(0));
        assert_eq!(segments.last().map(|s| s.end), Some(text.tokens.len()));
        for (pair, c) in segments.windows(2).zip(&chunks) {
            assert_eq!(pair[0].end, pair[1].start);
            assert_eq!(c.len(), pair[0].frames * SAMPLES_PER_FRAME);
        }
        for s in &segments {
            assert!(s.bucket >= s.window(), "{s:?}");
        }
        let audio = to_i16(&chunks.concat());
        assert_eq!(
            audio.len(),
            text.frames() * SAMPLES_PER_FRAME,
            "{}",
            case.name
        );
        let reference = read_wav(&format!("{}.converted.wav", case.name));
        let distance = band_distance(
            &reference,
            &case.converted.durations,
            &audio,
            &text.durations,
        );
        eprintln!(
            "{}: streaming in {} segments (frames, context, bucket) {:?}: band distance to the \
             whole-utterance synthesis {distance:.2} dB",
            case.name,
            segments.len(),
            segments
                .iter()
                .map(|s| (s.frames, s.context, s.bucket))
                .collect::<Vec<_>>()
        );
        // Each segment's norms see only its own frames and 1.2 s of context: another take,
        // not the same waveform (a different style row of the voice is ~11 dB).
        assert!(
            distance <= 4.0,
            "{}: band distance {distance:.2} dB",
            case.name
        );
    }
}
