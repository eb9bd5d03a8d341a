//! Polyphase 24 kHz / 22.05 kHz -> 8 kHz resampler quality: passband gain within 0.1 dB over
//! 300..3400 Hz, everything that folds into 300..3400 Hz rejected by >= 50 dB, streaming in
//! any slice sizes equal to one call, and named errors for bad rates and short outputs.

mod common;

use std::f64::consts::PI;

use common::amplitude;

use yingda_dsp::polyphase::{Polyphase, PolyphaseError};

fn tone(hz: f64, rate: f64, n: usize, amp: f64) -> Vec<f32> {
    (0..n)
        .map(|i| (amp * (2.0 * PI * hz * i as f64 / rate).sin()) as f32)
        .collect()
}

fn resample(from: u32, x: &[f32]) -> Vec<i16> {
    let mut r = Polyphase::new(from, 8000).expect("supported ratio");
    let mut out = vec![0i16; r.output_len(x.len())];
    let n = r.process_f32(x, &mut out).expect("room");
    assert_eq!(n, out.len());
    out
}

const IN_BAND: [f64; 7] = [300.0, 700.0, 1000.0, 1700.0, 2500.0, 3000.0, 3400.0];
const RATES: [u32; 2] = [24_000, 22_050];
/// 0.3 of full scale, as in the other DSP tests (10000 / 32768).
const AMP: f64 = 0.305;

#[test]
fn ratios_reduce_as_documented() {
    assert_eq!(Polyphase::new(24_000, 8000).unwrap().ratio(), (1, 3));
    assert_eq!(Polyphase::new(22_050, 8000).unwrap().ratio(), (160, 441));
}

#[test]
fn output_length_follows_the_ratio() {
    for from in RATES {
        let x = tone(1000.0, f64::from(from), from as usize, AMP);
        let y = resample(from, &x);
        assert_eq!(y.len(), 8000, "{from} Hz: one second in, {} out", y.len());
    }
}

#[test]
fn in_band_tones_pass_within_a_tenth_of_a_db() {
    for from in RATES {
        for hz in IN_BAND {
            let y = resample(from, &tone(hz, f64::from(from), from as usize, AMP));
            let gain = 20.0 * (amplitude(&y[400..], hz, 8000.0) / (AMP * 32768.0)).log10();
            assert!(
                gain.abs() <= 0.1,
                "{from} Hz input, {hz} Hz: gain {gain:.3} dB"
            );
        }
    }
}

#[test]
fn everything_folding_into_the_band_is_rejected_by_50_db() {
    for from in RATES {
        let fin = f64::from(from);
        for hz in IN_BAND {
            // Sources above 4 kHz that fold onto `hz` at 8 kHz, below the input Nyquist.
            for src in [8000.0 - hz, 8000.0 + hz, 16000.0 - hz, 16000.0 + hz] {
                if src >= fin / 2.0 {
                    continue;
                }
                let y = resample(from, &tone(src, fin, from as usize, AMP));
                let alias = amplitude(&y[400..], hz, 8000.0);
                let rej = 20.0 * (AMP * 32768.0 / alias.max(1e-9)).log10();
                assert!(
                    rej >= 50.0,
                    "{from} Hz: {src} Hz folds onto {hz} Hz only {rej:.1} dB down"
                );
            }
        }
    }
}

#[test]
fn delay_is_as_documented() {
    for from in RATES {
        let r = Polyphase::new(from, 8000).unwrap();
        // An impulse comes out peaking at the documented delay.
        let mut x = vec![0.0f32; from as usize / 10];
        x[0] = 0.9;
        let y = resample(from, &x);
        let peak = (0..y.len()).max_by_key(|&i| y[i]).unwrap();
        assert!(
            (peak as f64 - r.delay()).abs() <= 1.0,
            "{from} Hz: peak at {peak}, documented {:.2}",
            r.delay()
        );
    }
}

#[test]
fn streaming_in_odd_slices_equals_one_call() {
    for from in RATES {
        let x: Vec<f32> = (0..7001)
            .map(|i| (((i * 7919) % 20001) as f32 - 10000.0) / 32768.0)
            .collect();
        let whole = resample(from, &x);
        for chunk in [1, 13, 441, 1000] {
            let mut r = Polyphase::new(from, 8000).unwrap();
            let mut parts = Vec::new();
            let mut buf = vec![0i16; 512];
            for c in x.chunks(chunk) {
                let n = r.process_f32(c, &mut buf).expect("room");
                parts.extend_from_slice(&buf[..n]);
            }
            assert_eq!(parts, whole, "{from} Hz in chunks of {chunk}");
        }
        // i16 input agrees with the f32 path on exactly representable samples.
        let xi: Vec<i16> = x.iter().map(|&v| (v * 32768.0) as i16).collect();
        let mut r = Polyphase::new(from, 8000).unwrap();
        let mut out = vec![0i16; r.output_len(xi.len())];
        r.process(&xi, &mut out).unwrap();
        assert_eq!(out, whole);
        // reset() starts over.
        r.reset();
        assert_eq!(r.process_f32_vec(&x), whole);
    }
}

#[test]
fn bad_rates_and_short_outputs_are_named_errors() {
    assert_eq!(
        Polyphase::new(0, 8000).unwrap_err(),
        PolyphaseError::ZeroRate {
            from_hz: 0,
            to_hz: 8000
        }
    );
    assert_eq!(
        Polyphase::new(24_000, 0).unwrap_err(),
        PolyphaseError::ZeroRate {
            from_hz: 24_000,
            to_hz: 0
        }
    );
    let e = Polyphase::new(44_101, 8000).unwrap_err();
    assert!(
        matches!(e, PolyphaseError::RatioTooFine { up: 8000, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("44101 Hz -> 8000 Hz"), "{e}");

    let mut r = Polyphase::new(24_000, 8000).unwrap();
    assert_eq!(
        r.process_f32(&[0.1; 9], &mut [0; 2]),
        Err(PolyphaseError::OutputTooSmall { need: 3, got: 2 })
    );
    // Nothing was consumed: the same call with room gives the first-call output.
    let mut fresh = Polyphase::new(24_000, 8000).unwrap();
    assert_eq!(
        r.process_f32_vec(&[0.1; 9]),
        fresh.process_f32_vec(&[0.1; 9])
    );
    // NaN and infinities are silence, not a panic.
    let y = Polyphase::new(24_000, 8000).unwrap().process_f32_vec(&[
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.0,
        0.0,
        0.0,
    ]);
    assert_eq!(y, vec![0, 0]);
}
