//! Helpers shared by the DSP tests (and, through `#[path]`, the benchmarks).
#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

use yingda_dsp::{g711, Law};

/// Power of a 0 dBm0 sine in A-law linear units (spandsp's reference, 3.14 dB below full scale).
pub const ZERO_DBM0_POWER: f64 = 22_826.5 * 22_826.5 / 2.0;

/// Mean power of `x` in dBm0.
pub fn power_dbm0(x: &[i16]) -> f64 {
    let p = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len().max(1) as f64;
    10.0 * (p / ZERO_DBM0_POWER + 1e-12).log10()
}

/// ERLE in dB over the 20 ms frames from `from` on where the reference is active.
pub fn erle(reference: &[i16], input: &[i16], output: &[i16], from: usize) -> f64 {
    let (mut pin, mut pout) = (0.0, 0.0);
    for ((r, d), e) in reference
        .chunks(160)
        .zip(input.chunks(160))
        .zip(output.chunks(160))
        .skip(from / 160)
    {
        if power_dbm0(r) > -35.0 {
            pin += d.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>();
            pout += e.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>();
        }
    }
    10.0 * (pin / pout.max(1.0)).log10()
}

/// spandsp `tone_gen` segments `f1,l1,f2,l2,d1,d2,d3,d4,total_ms` with noise at `noise`
/// dBm0, after an A-law round trip.
pub fn tone_gen(noise: f32, segments: &[String]) -> Vec<i16> {
    let exe = yingda_testpeers::build("spandsp_tone_gen", &[], &["-lspandsp"]);
    let mut args = vec![noise.to_string()];
    args.extend(segments.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut x = yingda_testpeers::i16_samples(&yingda_testpeers::run(&exe, &args));
    g711::round_trip(Law::Alaw, &mut x);
    x
}

/// Amplitude of the `hz` component, Hann-windowed (sidelobes far below -50 dB).
pub fn amplitude(x: &[i16], hz: f64, rate: f64) -> f64 {
    let n = x.len() as f64;
    let (mut re, mut im, mut wsum) = (0.0, 0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n).cos();
        let ph = 2.0 * std::f64::consts::PI * hz * i as f64 / rate;
        re += w * f64::from(v) * ph.cos();
        im += w * f64::from(v) * ph.sin();
        wsum += w;
    }
    2.0 * (re * re + im * im).sqrt() / wsum
}
