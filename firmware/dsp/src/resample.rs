//! 8 kHz <-> 16 kHz conversion for speech models, by a 63-tap half-band FIR in polyphase
//! form.
//!
//! The filter is a Kaiser-windowed (β = 7) half-band low-pass at 4 kHz (16 kHz rate):
//! passband 0..3.4 kHz flat within ±0.01 dB, stopband from 4.6 kHz down by more than 60 dB.
//! Every other tap of a half-band filter is zero, so upsampling costs 32 multiplies per
//! input sample (one polyphase branch is a pure delay) and downsampling 33 per output.
//!
//! **Group delay**: 31 samples at 16 kHz (1.9375 ms) in either direction: an upsampled
//! signal lags the input by 31 output samples; a downsampled one by 15.5 output samples.
//! An 8 → 16 → 8 round trip is delayed by exactly 31 samples at 8 kHz.
//!
//! Streaming with any slice lengths gives the same output as one call over the whole
//! signal; nothing allocates and nothing panics (a too-small output is an error).

use core::f32::consts::PI;

/// Filter length.
const TAPS: usize = 63;
/// Non-zero taps off centre (those at odd offsets from the centre).
const HALF: usize = TAPS.div_ceil(2);
/// Kaiser window β (about 70 dB sidelobes).
const BETA: f32 = 7.0;

/// Group delay of both directions, in 16 kHz samples.
pub const GROUP_DELAY_16K: usize = (TAPS - 1) / 2;

/// Errors from the resamplers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResampleError {
    /// The output slice cannot hold the samples the input produces.
    #[error("output holds {got} samples, {need} needed")]
    OutputTooSmall {
        /// Samples the input produces.
        need: usize,
        /// Room given.
        got: usize,
    },
}

/// Zeroth-order modified Bessel function of the first kind (series; converges fast for
/// the arguments a Kaiser window uses).
fn bessel_i0(x: f32) -> f32 {
    let mut sum = 1.0f32;
    let mut term = 1.0f32;
    let q = x * x / 4.0;
    for k in 1..40 {
        term *= q / (k * k) as f32;
        sum += term;
        if term < sum * 1e-9 {
            break;
        }
    }
    sum
}

/// The non-zero off-centre taps `h[2j]`, j = 0..HALF (index into the full filter), for a
/// half-band filter whose centre tap is 0.5.
fn design() -> [f32; HALF] {
    let mid = GROUP_DELAY_16K as f32;
    let mut h = [0.0f32; HALF];
    let i0b = bessel_i0(BETA);
    for (j, c) in h.iter_mut().enumerate() {
        let n = (2 * j) as f32;
        let t = n - mid; // odd offset: never zero
        let sinc = (PI * t / 2.0).sin() / (PI * t);
        let r = t / mid;
        let w = bessel_i0(BETA * (1.0 - r * r).max(0.0).sqrt()) / i0b;
        *c = sinc * w;
    }
    // Exact unity DC gain: the off-centre taps must sum to 0.5.
    let s: f32 = h.iter().sum();
    for c in &mut h {
        *c *= 0.5 / s;
    }
    h
}

fn to_i16(v: f32) -> i16 {
    v.round().clamp(-32768.0, 32767.0) as i16
}

/// Streaming 8 kHz → 16 kHz interpolator.
#[derive(Debug, Clone)]
pub struct Upsampler {
    h: [f32; HALF],
    /// Input history doubled so the newest `HALF` samples are contiguous.
    hist: [f32; 2 * HALF],
    pos: usize,
}

impl Default for Upsampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Upsampler {
    /// A new interpolator with silent history.
    pub fn new() -> Self {
        Self {
            h: design(),
            hist: [0.0; 2 * HALF],
            pos: 0,
        }
    }

    /// Convert `input` (8 kHz) into `2 * input.len()` samples at the start of `output`;
    /// returns that count.
    ///
    /// # Errors
    /// [`ResampleError::OutputTooSmall`] (nothing is consumed) if `output` is too short.
    pub fn process(&mut self, input: &[i16], output: &mut [i16]) -> Result<usize, ResampleError> {
        let need = 2 * input.len();
        if output.len() < need {
            return Err(ResampleError::OutputTooSmall {
                need,
                got: output.len(),
            });
        }
        for (&x, out) in input.iter().zip(output.chunks_exact_mut(2)) {
            let v = f32::from(x);
            self.hist[self.pos] = v;
            self.hist[self.pos + HALF] = v;
            self.pos = (self.pos + 1) % HALF;
            // Window oldest-first: win[HALF - 1 - j] is x[k - j].
            let win = &self.hist[self.pos..self.pos + HALF];
            // y[2k] = 2 * sum_j h[2j] x[k - j]; y[2k + 1] = 2 * 0.5 * x[k - 15].
            let mut acc = 0.0f32;
            for (c, w) in self.h.iter().zip(win.iter().rev()) {
                acc += c * w;
            }
            out[0] = to_i16(2.0 * acc);
            out[1] = to_i16(win[HALF - 1 - (GROUP_DELAY_16K - 1) / 2]);
        }
        Ok(need)
    }
}

/// Streaming 16 kHz → 8 kHz decimator.
#[derive(Debug, Clone)]
pub struct Downsampler {
    h: [f32; HALF],
    /// Even-phase input history (doubled), feeding the non-zero taps.
    even: [f32; 2 * HALF],
    even_pos: usize,
    /// Odd-phase input history for the centre tap: a delay line of `HALF / 2` samples.
    odd: [f32; HALF / 2],
    odd_pos: usize,
    /// An even-phase sample is waiting for its odd partner.
    pending: bool,
}

impl Default for Downsampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Downsampler {
    /// A new decimator with silent history.
    pub fn new() -> Self {
        Self {
            h: design(),
            even: [0.0; 2 * HALF],
            even_pos: 0,
            odd: [0.0; HALF / 2],
            odd_pos: 0,
            pending: false,
        }
    }

    /// Samples the next call with `input_len` input samples will produce.
    pub fn output_len(&self, input_len: usize) -> usize {
        (input_len + usize::from(self.pending)) / 2
    }

    /// Convert `input` (16 kHz) into samples at the start of `output` (8 kHz); returns the
    /// count ([`Self::output_len`]). An odd trailing sample is kept for the next call.
    ///
    /// # Errors
    /// [`ResampleError::OutputTooSmall`] (nothing is consumed) if `output` is too short.
    pub fn process(&mut self, input: &[i16], output: &mut [i16]) -> Result<usize, ResampleError> {
        let need = self.output_len(input.len());
        if output.len() < need {
            return Err(ResampleError::OutputTooSmall {
                need,
                got: output.len(),
            });
        }
        let mut n = 0;
        for &x in input {
            let v = f32::from(x);
            if !self.pending {
                // v[2m]: feeds the non-zero taps.
                self.even[self.even_pos] = v;
                self.even[self.even_pos + HALF] = v;
                self.even_pos = (self.even_pos + 1) % HALF;
                self.pending = true;
            } else {
                // v[2m + 1]: completes output m. y[m] = sum_j h[2j] v[2m - 2j]
                // + 0.5 * v[2m - 31], and v[2m - 31] is the odd sample 16 pairs back.
                self.pending = false;
                let win = &self.even[self.even_pos..self.even_pos + HALF];
                let mut acc = 0.0f32;
                for (c, w) in self.h.iter().zip(win.iter().rev()) {
                    acc += c * w;
                }
                // The odd delay line holds v[2m - 1 - 2i] for i = 0..16, oldest at odd_pos.
                acc += 0.5 * self.odd[self.odd_pos];
                self.odd[self.odd_pos] = v;
                self.odd_pos = (self.odd_pos + 1) % self.odd.len();
                if let Some(o) = output.get_mut(n) {
                    *o = to_i16(acc);
                }
                n += 1;
            }
        }
        Ok(n)
    }
}
