//! The mel front end against golden vectors from Whisper's own recipe and filter asset
//! (`tests/data/mel/`, written by `tools/models/mel_golden.py`; see its README).
//!
//! Limits: filterbank within 1e-6 relative of Whisper's `mel_80`; log-mel within 1e-4
//! absolute of a float64 numpy reference (the normalised values span 2.0, so 1e-4 is
//! 0.0016 dB of mel power).

use std::path::PathBuf;
use std::sync::Arc;

use yingda_speech::mel::{Fit, LogMel, MelFrontEnd, MelStream, N_BINS, N_MELS};

const FILTER_REL_TOL: f32 = 1e-6;
const LOGMEL_ABS_TOL: f32 = 1e-4;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/mel")
}

fn read(name: &str) -> Vec<u8> {
    let path = data_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_f32(name: &str) -> Vec<f32> {
    read(name)
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn read_i16(name: &str) -> Vec<i16> {
    read(name)
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// One `[[case]]` of manifest.toml.
#[derive(Debug)]
struct Case {
    name: String,
    pad_or_trim: i64,
    file: String,
    shape: (usize, usize),
}

/// The few `key = value` forms manifest.toml uses (strings, integers, `[a, b]`).
fn manifest() -> (usize, (usize, usize), Vec<Case>) {
    let text = String::from_utf8(read("manifest.toml")).expect("utf-8 manifest");
    let mut section = String::new();
    let mut samples = 0;
    let mut filter_shape = (0, 0);
    let mut cases: Vec<Case> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.trim_matches(|c| c == '[' || c == ']').to_string();
            if line == "[[case]]" {
                cases.push(Case {
                    name: String::new(),
                    pad_or_trim: -1,
                    file: String::new(),
                    shape: (0, 0),
                });
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let string = value.trim_matches('"').to_string();
        let shape = || {
            let v: Vec<usize> = value
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(|s| s.trim().parse().expect("shape"))
                .collect();
            (v[0], v[1])
        };
        match (section.as_str(), key) {
            ("input", "samples") => samples = value.parse().expect("samples"),
            ("filters", "shape") => filter_shape = shape(),
            ("case", "name") => cases.last_mut().expect("case").name = string,
            ("case", "file") => cases.last_mut().expect("case").file = string,
            ("case", "pad_or_trim") => {
                cases.last_mut().expect("case").pad_or_trim = value.parse().expect("length")
            }
            ("case", "shape") => cases.last_mut().expect("case").shape = shape(),
            _ => {}
        }
    }
    (samples, filter_shape, cases)
}

fn fit_of(case: &Case) -> Fit {
    match usize::try_from(case.pad_or_trim) {
        Ok(samples) => Fit::PadOrTrim { samples },
        Err(_) => Fit::WHOLE,
    }
}

fn assert_close(case: &str, got: &LogMel, want: &[f32], shape: (usize, usize)) {
    assert_eq!((N_MELS, got.frames()), shape, "{case}: shape");
    assert_eq!(got.as_slice().len(), want.len(), "{case}: values");
    let mut worst = (0.0f32, 0, 0);
    for (i, (&g, &w)) in got.as_slice().iter().zip(want).enumerate() {
        let d = (g - w).abs();
        if d > worst.0 || d.is_nan() {
            worst = (d, i / shape.1, i % shape.1);
        }
    }
    eprintln!(
        "{case}: max |error| {:.2e} (band {}, frame {})",
        worst.0, worst.1, worst.2
    );
    assert!(
        worst.0 <= LOGMEL_ABS_TOL,
        "{case}: log-mel off by {} at band {}, frame {}",
        worst.0,
        worst.1,
        worst.2
    );
}

#[test]
fn filterbank_matches_whisper_mel_80_asset() {
    let (_, shape, _) = manifest();
    assert_eq!(shape, (N_MELS, N_BINS));
    let want = read_f32("mel_filters_80x201.f32");
    let front = MelFrontEnd::new();
    let got = front.filterbank();
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
        // Zeros must be zeros: the triangles' extent is part of the recipe.
        assert_eq!(
            g == 0.0,
            w == 0.0,
            "band {} bin {}: {g} vs {w}",
            i / N_BINS,
            i % N_BINS
        );
        assert!(
            (g - w).abs() <= FILTER_REL_TOL * w.abs(),
            "band {} bin {}: {g} vs {w}",
            i / N_BINS,
            i % N_BINS
        );
    }
}

#[test]
fn batch_matches_whisper_reference_for_i16_and_f32_input() {
    let (samples, _, cases) = manifest();
    let signal = read_i16("signal_i16.bin");
    assert_eq!(signal.len(), samples);
    let as_f32: Vec<f32> = signal.iter().map(|&s| f32::from(s) / 32768.0).collect();
    let front = MelFrontEnd::new();
    assert_eq!(cases.len(), 3, "trimmed, cut and padded cases");
    for case in &cases {
        let want = read_f32(&case.file);
        let fit = fit_of(case);
        let from_i16 = front.log_mel_fit(&signal, fit).expect("long enough");
        assert_close(&case.name, &from_i16, &want, case.shape);
        let from_f32 = front.log_mel_fit(&as_f32, fit).expect("long enough");
        assert_eq!(
            from_f32, from_i16,
            "{}: f32 and i16 paths differ",
            case.name
        );
    }
}

#[test]
fn stream_in_20ms_packets_matches_whisper_reference() {
    let (_, _, cases) = manifest();
    let signal = read_i16("signal_i16.bin");
    let front = Arc::new(MelFrontEnd::new());
    for case in &cases {
        let want = read_f32(&case.file);
        let mut stream = MelStream::new(Arc::clone(&front), fit_of(case));
        for packet in signal.chunks(320) {
            stream.push(packet);
        }
        let got = stream.finish().expect("long enough");
        assert_close(&format!("stream {}", case.name), &got, &want, case.shape);
    }
}
