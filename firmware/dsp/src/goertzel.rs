//! Goertzel filter banks and dBm0 level conversions shared by the tone detectors.
//!
//! A [`GoertzelBank`] evaluates `K` DFT bins over one block of samples. It is built for
//! throughput: the block is split into two halves that run as independent recurrences
//! (`2 × K` lanes updated side by side, which compilers turn into SIMD on x86-64 and
//! AArch64 alike), and the halves are joined with one complex rotation per bin at the end.
//! That hides the latency of the serial Goertzel recurrence, which otherwise bounds speed.
//!
//! [`BlockBuf`] (crate-private) gathers streamed samples into the detectors' blocks.
//!
//! Nothing here allocates or panics on any signal or slice length; all state is in fixed
//! arrays.

/// Power of a full-scale sine relative to 0 dBm0, in dB, as in spandsp's `telephony.h`
/// (`DBM0_MAX_SINE_POWER`). The brief quotes 3.17 dB (newer spandsp); the installed spandsp
/// that our tests compare against uses 3.14 dB — a 0.03 dB difference.
// A level in dB that happens to read like π, not an approximation of it.
#[allow(clippy::approx_constant)]
pub const DBM0_MAX_SINE_POWER_DB: f32 = 3.14;

/// Peak amplitude (16-bit linear) of a sine at `level_dbm0`.
pub fn dbm0_to_amplitude(level_dbm0: f32) -> f32 {
    32767.0 * 10f32.powf((level_dbm0 - DBM0_MAX_SINE_POWER_DB) / 20.0)
}

/// Level in dBm0 of a signal whose mean square (per sample, 16-bit linear units) is `ms`.
/// Returns `-inf` for silence.
pub fn mean_square_to_dbm0(ms: f32) -> f32 {
    // A sine of amplitude A has mean square A²/2.
    let full = 32767.0f32 * 32767.0 / 2.0;
    10.0 * (ms / full).log10() + DBM0_MAX_SINE_POWER_DB
}

/// Mean square per sample of a sine at `level_dbm0`.
pub fn dbm0_to_mean_square(level_dbm0: f32) -> f32 {
    let a = dbm0_to_amplitude(level_dbm0);
    a * a / 2.0
}

/// Result of one bin of a [`GoertzelBank`] block: the DFT value with its phase referred to
/// the block start (up to a constant per-bin factor, which cancels in ratios between blocks).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bin {
    /// Real part.
    pub re: f32,
    /// Imaginary part.
    pub im: f32,
}

impl Bin {
    /// Squared magnitude.
    #[inline]
    pub fn power(self) -> f32 {
        self.re * self.re + self.im * self.im
    }

    /// Energy over the block (sum of squares of the sinusoid this bin sees), for a block of
    /// `n` samples: `|X|² · 2 / n`. A sine of amplitude `A` at the bin frequency gives
    /// `n·A²/2`, the same as its sum of squares.
    #[inline]
    pub fn tone_energy(self, n: usize) -> f32 {
        self.power() * 2.0 / n as f32
    }

    /// `self · conj(other)`.
    #[inline]
    pub fn mul_conj(self, other: Bin) -> Bin {
        Bin {
            re: self.re * other.re + self.im * other.im,
            im: self.im * other.re - self.re * other.im,
        }
    }

    /// Complex product.
    #[inline]
    pub fn times(self, other: Bin) -> Bin {
        Bin {
            re: self.re * other.re - self.im * other.im,
            im: self.re * other.im + self.im * other.re,
        }
    }

    /// Argument in radians, in `(-π, π]`.
    #[inline]
    pub fn arg(self) -> f32 {
        self.im.atan2(self.re)
    }

    /// `e^{jθ}`.
    pub fn from_angle(theta: f32) -> Bin {
        Bin {
            re: theta.cos(),
            im: theta.sin(),
        }
    }
}

/// `K` Goertzel filters evaluated over blocks of exactly `n` samples (`n` even).
#[derive(Debug, Clone)]
pub struct GoertzelBank<const K: usize> {
    n: usize,
    /// `2 cos ω` per bin.
    coef: [f32; K],
    /// `cos ω`, `sin ω` per bin, to form the complex output.
    cos: [f32; K],
    sin: [f32; K],
    /// `e^{-jω n/2}` per bin: moves the second half's result to the block origin.
    half_shift: [Bin; K],
}

impl<const K: usize> GoertzelBank<K> {
    /// Bins at `freqs_hz` (sample rate 8 kHz) over blocks of `n` samples. `n` must be even
    /// and non-zero; callers pass constants, and an odd `n` is rounded down.
    pub fn new(freqs_hz: [f32; K], n: usize) -> Self {
        let n = (n & !1).max(2);
        let mut coef = [0.0; K];
        let mut cos = [0.0; K];
        let mut sin = [0.0; K];
        let mut half_shift = [Bin::default(); K];
        for k in 0..K {
            let w = crate::osc::phase_step(freqs_hz[k]);
            coef[k] = 2.0 * w.cos();
            cos[k] = w.cos();
            sin[k] = w.sin();
            half_shift[k] = Bin::from_angle(-w * (n / 2) as f32);
        }
        Self {
            n,
            coef,
            cos,
            sin,
            half_shift,
        }
    }

    /// Block length in samples.
    pub fn block_len(&self) -> usize {
        self.n
    }

    /// Evaluate all bins over each half of `block` (which must hold exactly
    /// [`Self::block_len`] samples; a shorter slice is treated as zero-padded, a longer one
    /// truncated). Returns the two half results; [`Self::join`] combines two consecutive
    /// halves into the bin value of the window they span, so a caller can evaluate windows
    /// of `n` samples every `n/2` samples at the cost of one pass.
    pub fn run_halves(&self, block: &[i16]) -> ([Bin; K], [Bin; K]) {
        let h = self.n / 2;
        let (a, b) = block.split_at(block.len().min(h));
        let b = &b[..b.len().min(h)];
        let mut a1 = [0.0f32; K];
        let mut a2 = [0.0f32; K];
        let mut b1 = [0.0f32; K];
        let mut b2 = [0.0f32; K];
        let c = self.coef;
        // Both halves step together: 2·K independent recurrences per sample pair.
        for (&xa, &xb) in a.iter().zip(b) {
            let xa = f32::from(xa);
            let xb = f32::from(xb);
            for k in 0..K {
                let s = (xa - a2[k]) + c[k] * a1[k];
                a2[k] = a1[k];
                a1[k] = s;
                let s = (xb - b2[k]) + c[k] * b1[k];
                b2[k] = b1[k];
                b1[k] = s;
            }
        }
        // Tails and zero padding, only for short input.
        for &xa in a.iter().skip(b.len()) {
            let xa = f32::from(xa);
            for k in 0..K {
                let s = (xa - a2[k]) + c[k] * a1[k];
                a2[k] = a1[k];
                a1[k] = s;
            }
        }
        for _ in a.len()..h {
            for k in 0..K {
                let s = c[k] * a1[k] - a2[k];
                a2[k] = a1[k];
                a1[k] = s;
            }
        }
        for _ in b.len()..h {
            for k in 0..K {
                let s = c[k] * b1[k] - b2[k];
                b2[k] = b1[k];
                b1[k] = s;
            }
        }
        let mut ya = [Bin::default(); K];
        let mut yb = [Bin::default(); K];
        for k in 0..K {
            ya[k] = Bin {
                re: a1[k] - self.cos[k] * a2[k],
                im: self.sin[k] * a2[k],
            };
            yb[k] = Bin {
                re: b1[k] - self.cos[k] * b2[k],
                im: self.sin[k] * b2[k],
            };
        }
        (ya, yb)
    }

    /// Bin values of the `n`-sample window made of two consecutive halves.
    #[inline]
    pub fn join(&self, first: &[Bin; K], second: &[Bin; K]) -> [Bin; K] {
        let mut out = [Bin::default(); K];
        for k in 0..K {
            let s = second[k].times(self.half_shift[k]);
            out[k] = Bin {
                re: first[k].re + s.re,
                im: first[k].im + s.im,
            };
        }
        out
    }

    /// Evaluate all bins over `block` (see [`Self::run_halves`] for length handling).
    pub fn run(&self, block: &[i16]) -> [Bin; K] {
        let (a, b) = self.run_halves(block);
        self.join(&a, &b)
    }
}

/// Gathers samples arriving in slices of any length into whole blocks of `N`, for the
/// block-based detectors (DTMF, call-progress tones).
#[derive(Debug, Clone)]
pub(crate) struct BlockBuf<const N: usize> {
    /// The block being filled; whole once [`Self::take`] returns true.
    pub(crate) buf: [i16; N],
    fill: usize,
    /// Sample index (since creation) of `buf[0]`.
    pub(crate) start: u64,
}

impl<const N: usize> BlockBuf<N> {
    pub(crate) const fn new() -> Self {
        Self {
            buf: [0; N],
            fill: 0,
            start: 0,
        }
    }

    /// Samples consumed since creation.
    pub(crate) fn position(&self) -> u64 {
        self.start + self.fill as u64
    }

    /// Move samples from the front of `samples` into the block until it is full or they
    /// run out; true when the block is full. Process `buf`, then call [`Self::next`].
    pub(crate) fn take(&mut self, samples: &mut &[i16]) -> bool {
        let (head, rest) = samples.split_at((N - self.fill).min(samples.len()));
        self.buf[self.fill..self.fill + head.len()].copy_from_slice(head);
        self.fill += head.len();
        *samples = rest;
        self.fill == N
    }

    /// Start the next block.
    pub(crate) fn next(&mut self) {
        self.fill = 0;
        self.start += N as u64;
    }
}

/// Sum of squares of `block`, exact in integer arithmetic.
pub fn energy(block: &[i16]) -> f32 {
    let mut acc: i64 = 0;
    for chunk in block.chunks(1024) {
        // 1024 · 32768² < 2^41: an i64 per chunk never overflows; i32 lanes would.
        let mut part: i64 = 0;
        for &x in chunk {
            let x = i32::from(x);
            part += i64::from(x * x);
        }
        acc += part;
    }
    acc as f32
}

#[cfg(test)]
mod tests {
    use core::f32::consts::PI;

    use super::*;

    fn sine(f: f32, amp: f32, phase: f32, n: usize, start: usize) -> Vec<i16> {
        (start..start + n)
            .map(|i| (amp * (2.0 * PI * f * i as f32 / 8000.0 + phase).sin()).round() as i16)
            .collect()
    }

    #[test]
    fn split_bank_matches_direct_dft() {
        let bank = GoertzelBank::new([697.0, 1209.0, 450.0], 102);
        let x = sine(700.0, 10000.0, 0.3, 102, 0);
        let out = bank.run(&x);
        for (k, f) in [697.0f32, 1209.0, 450.0].iter().enumerate() {
            let w = 2.0 * PI * f / 8000.0;
            let (mut re, mut im) = (0.0f64, 0.0f64);
            for (n, &s) in x.iter().enumerate() {
                re += f64::from(s) * f64::from(w * n as f32).cos();
                im -= f64::from(s) * f64::from(w * n as f32).sin();
            }
            let p_ref = (re * re + im * im) as f32;
            let p = out[k].power();
            assert!(
                (p - p_ref).abs() <= 1e-3 * p_ref.max(1.0),
                "bin {f}: {p} vs {p_ref}"
            );
        }
    }

    #[test]
    fn tone_energy_equals_sum_of_squares_on_bin() {
        let bank = GoertzelBank::new([1000.0], 160);
        let x = sine(1000.0, 8000.0, 1.0, 160, 0);
        let e = energy(&x);
        let t = bank.run(&x)[0].tone_energy(160);
        assert!((t / e - 1.0).abs() < 0.01, "{t} vs {e}");
    }

    #[test]
    fn consecutive_blocks_rotate_by_frequency() {
        let f = 941.0 * 1.01;
        let bank = GoertzelBank::new([941.0], 102);
        let x0 = bank.run(&sine(f, 9000.0, 0.0, 102, 0))[0];
        let x1 = bank.run(&sine(f, 9000.0, 0.0, 102, 102))[0];
        let rot = x1.mul_conj(x0).arg();
        let expect = 2.0 * PI * f * 102.0 / 8000.0;
        let diff = (rot - expect).rem_euclid(2.0 * PI);
        let diff = diff.min(2.0 * PI - diff);
        assert!(diff < 0.02, "rotation off by {diff}");
    }

    #[test]
    fn short_block_is_zero_padded() {
        let bank = GoertzelBank::new([1000.0], 100);
        let x = sine(1000.0, 8000.0, 0.0, 30, 0);
        let mut padded = x.clone();
        padded.resize(100, 0);
        let a = bank.run(&x)[0].power();
        let b = bank.run(&padded)[0].power();
        assert!((a - b).abs() <= 1e-3 * b);
    }

    #[test]
    fn dbm0_round_trip() {
        let ms = dbm0_to_mean_square(-13.0);
        assert!((mean_square_to_dbm0(ms) + 13.0).abs() < 1e-3);
        assert!((dbm0_to_amplitude(DBM0_MAX_SINE_POWER_DB) - 32767.0).abs() < 0.5);
    }
}
