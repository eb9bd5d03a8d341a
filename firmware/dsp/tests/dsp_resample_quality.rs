//! 8 <-> 16 kHz resampler quality: passband gain within 0.1 dB over 300..3400 Hz,
//! image (up) and alias (down) rejection >= 50 dB, high round-trip SNR on speech, and
//! streaming in any slice sizes equal to one call.

mod common;

use std::f64::consts::PI;

use common::amplitude;

use yingda_dsp::resample::{Downsampler, ResampleError, Upsampler, GROUP_DELAY_16K};

fn tone(hz: f64, rate: f64, n: usize, amp: f64) -> Vec<i16> {
    (0..n)
        .map(|i| (amp * (2.0 * PI * hz * i as f64 / rate).sin()).round() as i16)
        .collect()
}

fn up(x: &[i16]) -> Vec<i16> {
    let mut u = Upsampler::new();
    let mut out = vec![0i16; 2 * x.len()];
    assert_eq!(u.process(x, &mut out), Ok(out.len()));
    out
}

fn down(x: &[i16]) -> Vec<i16> {
    let mut d = Downsampler::new();
    let mut out = vec![0i16; x.len() / 2];
    assert_eq!(d.process(x, &mut out), Ok(out.len()));
    out
}

const IN_BAND: [f64; 7] = [300.0, 700.0, 1000.0, 1700.0, 2500.0, 3000.0, 3400.0];

#[test]
fn upsampling_passes_in_band_tones_within_a_tenth_of_a_db() {
    for hz in IN_BAND {
        let y = up(&tone(hz, 8000.0, 8000, 10000.0));
        let gain = 20.0 * (amplitude(&y[400..], hz, 16000.0) / 10000.0).log10();
        assert!(gain.abs() <= 0.1, "{hz} Hz: gain {gain:.3} dB");
    }
}

#[test]
fn upsampling_rejects_images_by_50_db() {
    for hz in IN_BAND {
        let y = up(&tone(hz, 8000.0, 8000, 10000.0));
        let image = amplitude(&y[400..], 8000.0 - hz, 16000.0);
        let rej = 20.0 * (10000.0 / image.max(1e-9)).log10();
        eprintln!(
            "{hz} Hz: image at {} Hz rejected by {rej:.1} dB",
            8000.0 - hz
        );
        assert!(rej >= 50.0, "{hz} Hz: image only {rej:.1} dB down");
    }
}

#[test]
fn downsampling_passes_in_band_and_rejects_aliases_by_50_db() {
    for hz in IN_BAND {
        let y = down(&tone(hz, 16000.0, 16000, 10000.0));
        let gain = 20.0 * (amplitude(&y[200..], hz, 8000.0) / 10000.0).log10();
        assert!(gain.abs() <= 0.1, "{hz} Hz: gain {gain:.3} dB");
        // A 16 kHz tone at 8000 - hz would fold onto hz.
        let alias_src = 8000.0 - hz;
        let y = down(&tone(alias_src, 16000.0, 16000, 10000.0));
        let alias = amplitude(&y[200..], hz, 8000.0);
        let rej = 20.0 * (10000.0 / alias.max(1e-9)).log10();
        eprintln!("{alias_src} Hz: alias at {hz} Hz rejected by {rej:.1} dB");
        assert!(rej >= 50.0, "{alias_src} Hz aliases only {rej:.1} dB down");
    }
}

#[test]
fn round_trip_on_speech_has_high_snr_and_documented_delay() {
    let x = yingda_testpeers::espeak_8k("en", "Please hold while we connect your call.");
    let y = down(&up(&x));
    let delay = GROUP_DELAY_16K; // 31 samples at 8 kHz for the round trip
    let (mut sig, mut err) = (0.0, 0.0);
    for (i, &v) in y.iter().enumerate().skip(delay) {
        let want = f64::from(x[i - delay]);
        sig += want * want;
        err += (f64::from(v) - want).powi(2);
    }
    let snr = 10.0 * (sig / err).log10();
    eprintln!("8 -> 16 -> 8 kHz round trip SNR on speech: {snr:.1} dB");
    // Only content between 3.4 and 4 kHz (transition band) and i16 rounding is lost.
    assert!(snr >= 30.0, "round trip SNR {snr:.1} dB");
    // A band-limited signal (in-band tones) comes back nearly exactly.
    let mut t = tone(1000.0, 8000.0, 4000, 8000.0);
    for (a, b) in t.iter_mut().zip(tone(2900.0, 8000.0, 4000, 6000.0)) {
        *a = a.saturating_add(b);
    }
    let y = down(&up(&t));
    let (mut sig, mut err) = (0.0, 0.0);
    for (i, &v) in y.iter().enumerate().skip(200) {
        let want = f64::from(t[i - delay]);
        sig += want * want;
        err += (f64::from(v) - want).powi(2);
    }
    let snr = 10.0 * (sig / err).log10();
    eprintln!("round trip SNR on in-band tones: {snr:.1} dB");
    assert!(snr >= 50.0, "tone round trip SNR {snr:.1} dB");
}

#[test]
fn streaming_in_odd_slices_equals_one_call() {
    let x: Vec<i16> = (0..3001)
        .map(|i| ((i * 7919) % 20001 - 10000) as i16)
        .collect();
    let whole_up = up(&x);
    let mut u = Upsampler::new();
    let mut parts = Vec::new();
    let mut buf = [0i16; 64];
    for c in x.chunks(13) {
        let n = u.process(c, &mut buf).expect("room");
        parts.extend_from_slice(&buf[..n]);
    }
    assert_eq!(parts, whole_up);

    let whole_down = down(&whole_up);
    let mut d = Downsampler::new();
    let mut parts = Vec::new();
    for c in whole_up.chunks(7) {
        let n = d.process(c, &mut buf).expect("room");
        parts.extend_from_slice(&buf[..n]);
    }
    assert_eq!(parts, whole_down);
}

#[test]
fn short_output_is_an_error_not_a_panic() {
    let mut u = Upsampler::new();
    assert_eq!(
        u.process(&[1, 2, 3], &mut [0; 5]),
        Err(ResampleError::OutputTooSmall { need: 6, got: 5 })
    );
    let mut d = Downsampler::new();
    assert_eq!(
        d.process(&[1, 2, 3, 4], &mut [0; 1]),
        Err(ResampleError::OutputTooSmall { need: 2, got: 1 })
    );
}
