//! Line echo canceller: removes the echo of what we send (prompts) from what comes back from
//! the 2-wire hybrid, so a played prompt does not look like the caller barging in.
//!
//! Three parts, as in ITU-T G.168 cancellers:
//!
//! 1. **Adaptive FIR (NLMS)** over the reference (what we sent), `taps` long (128 = 16 ms
//!    tail, up to [`MAX_TAPS`]). Coefficients and history are `f32`; the history is stored
//!    twice so the newest `taps` samples are always one contiguous slice, and the dot
//!    product and update run over fixed 8-wide chunks that compilers vectorise on both
//!    x86-64 and ARM64 without intrinsics. The reference energy is kept exactly in integer
//!    arithmetic (the reference is integer), so it never drifts.
//! 2. **Double-talk detector**: a Geigel detector — if the returned signal exceeds half
//!    (-6 dB, the hybrid's minimum loss) of the largest reference sample in the tail
//!    window, the near end is talking — and adaptation freezes for a hangover (30 ms) so
//!    near-end speech cannot drag the filter away from the echo path. Once the filter has
//!    converged (ERLE >= 18 dB over about 2 s) the Geigel test is applied to the *residual*
//!    instead, and an energy test (returned power more than 1.8 dB above the predicted echo)
//!    is added: the plain Geigel test misses the quieter half of near-end speech and fires
//!    on loud echo from paths with little loss. If the path changes, double talk is
//!    flagged nearly all the time; after 4 s of that the converged state clears and the
//!    plain Geigel test takes over again, so the canceller cannot lock itself out. Adaptation also stops when the reference is quiet.
//! 3. **Non-linear processor**: while the far end (our prompt) is active within the tail
//!    window and no double talk is detected, the residual is replaced by comfort noise at
//!    the measured background level (or attenuated, or left alone; see [`Nlp`]).
//!
//! Buffers are allocated once in [`EchoCanceller::new`]; processing allocates nothing and
//! never panics (mismatched slice lengths are an error).

/// Longest supported tail, in taps (128 ms).
pub const MAX_TAPS: usize = 1024;
/// Shortest supported tail, in taps.
pub const MIN_TAPS: usize = 16;
/// Block size for the running maximum of the reference.
const MAX_BLOCK: usize = 16;
/// Far end counts as active when a reference sample in the tail window reaches this
/// (about -45 dBm0 peak).
const FAR_ACTIVE_PEAK: f32 = 130.0;
/// Far-end-active samples per lock-out check (4 s).
const LOCKOUT_WINDOW: u32 = 32_000;
/// Regularisation of the NLMS step, per tap: a reference at about -55 dBm0.
const NLMS_EPS_PER_TAP: f32 = 40.0 * 40.0;

/// What the non-linear processor does to the residual while only the far end talks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nlp {
    /// Pass the linear canceller's output unchanged (for measuring ERLE).
    Off,
    /// Multiply the residual by this factor (e.g. 0.03 for -30 dB).
    Attenuate(f32),
    /// Replace the residual by white noise at the background level measured while the far
    /// end was silent.
    ComfortNoise,
}

/// Canceller settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EchoConfig {
    /// Filter length in samples (tail = taps / 8 ms); [`MIN_TAPS`]..=[`MAX_TAPS`].
    pub taps: usize,
    /// NLMS step size, 0 < step <= 1 (0.5 converges fast and stays stable on speech).
    pub step: f32,
    /// Geigel threshold: double talk when |input| > this × max |reference| (0.5 = 6 dB).
    pub geigel: f32,
    /// Samples adaptation stays frozen after double talk ends.
    pub hangover: u32,
    /// Residual echo treatment.
    pub nlp: Nlp,
}

impl Default for EchoConfig {
    fn default() -> Self {
        Self {
            taps: 128,
            step: 0.5,
            geigel: 0.5,
            hangover: 240,
            nlp: Nlp::ComfortNoise,
        }
    }
}

/// Errors from configuring or driving the canceller.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EchoError {
    /// `taps` is outside [`MIN_TAPS`]..=[`MAX_TAPS`].
    #[error("{0} taps outside {MIN_TAPS}..={MAX_TAPS}")]
    Taps(usize),
    /// The step size is not in (0, 1].
    #[error("step {0} outside (0, 1]")]
    Step(f32),
    /// The Geigel threshold is not in (0, 1].
    #[error("Geigel threshold {0} outside (0, 1]")]
    Geigel(f32),
    /// The NLP attenuation factor is not in [0, 1].
    #[error("NLP attenuation {0} outside [0, 1]")]
    Attenuation(f32),
    /// Reference, input and output slices differ in length.
    #[error("slice lengths differ: reference {reference}, input {input}, output {output}")]
    Length {
        /// Reference samples given.
        reference: usize,
        /// Input samples given.
        input: usize,
        /// Output room given.
        output: usize,
    },
}

/// What the canceller decided on the last sample (for tests and diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EchoState {
    /// The far end was active within the tail window.
    pub far_active: bool,
    /// Double talk (or its hangover) was in force.
    pub double_talk: bool,
    /// The filter adapted on this sample.
    pub adapting: bool,
    /// The NLP replaced or attenuated the output.
    pub nlp_active: bool,
}

/// NLMS line echo canceller with Geigel double-talk detection and an NLP.
#[derive(Debug, Clone)]
pub struct EchoCanceller {
    cfg: EchoConfig,
    taps: usize,
    /// Coefficients, newest-sample-last to match the history slice.
    h: Vec<f32>,
    /// Reference history, doubled: `x[pos..pos + taps]` is the window, oldest first.
    x: Vec<f32>,
    pos: usize,
    /// Exact sum of squares of the window (the reference is integer).
    energy: i64,
    /// Maxima of |reference| per block of `MAX_BLOCK` samples, a ring over the tail.
    block_max: Vec<i32>,
    block_idx: usize,
    block_fill: usize,
    cur_block_max: i32,
    window_max: i32,
    hangover: u32,
    /// Short-term powers (4 ms) of input, predicted echo.
    pd: f32,
    py: f32,
    /// Long-term powers (2 s) of input and residual while the far end is active.
    pd_long: f32,
    pe_long: f32,
    /// Far-end-active samples and double-talk samples in the current lock-out window.
    far_count: u32,
    dt_count: u32,
    noise_power: f32,
    short_power: f32,
    rng: u32,
    state: EchoState,
}

impl EchoCanceller {
    /// Build a canceller; this is the only place it allocates.
    ///
    /// # Errors
    /// An [`EchoError`] naming the first bad setting.
    pub fn new(cfg: EchoConfig) -> Result<Self, EchoError> {
        if !(MIN_TAPS..=MAX_TAPS).contains(&cfg.taps) {
            return Err(EchoError::Taps(cfg.taps));
        }
        if !(cfg.step > 0.0 && cfg.step <= 1.0) {
            return Err(EchoError::Step(cfg.step));
        }
        if !(cfg.geigel > 0.0 && cfg.geigel <= 1.0) {
            return Err(EchoError::Geigel(cfg.geigel));
        }
        if let Nlp::Attenuate(a) = cfg.nlp {
            if !(0.0..=1.0).contains(&a) {
                return Err(EchoError::Attenuation(a));
            }
        }
        // The dot product works on chunks of 8: pad the filter with zero taps.
        let taps = cfg.taps.div_ceil(8) * 8;
        Ok(Self {
            cfg,
            taps,
            h: vec![0.0; taps],
            x: vec![0.0; 2 * taps],
            pos: 0,
            energy: 0,
            block_max: vec![0; cfg.taps.div_ceil(MAX_BLOCK)],
            block_idx: 0,
            block_fill: 0,
            cur_block_max: 0,
            window_max: 0,
            hangover: 0,
            pd: 0.0,
            py: 0.0,
            pd_long: 0.0,
            pe_long: 0.0,
            far_count: 0,
            dt_count: 0,
            // Start the noise estimate at about -60 dBm0; it tracks down or up from here.
            noise_power: 25.0,
            short_power: 0.0,
            rng: 0x1234_5678,
            state: EchoState::default(),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &EchoConfig {
        &self.cfg
    }

    /// Decisions taken on the last sample processed.
    pub fn state(&self) -> EchoState {
        self.state
    }

    /// Current filter coefficients (the estimated echo path), oldest tap first: tap `k`
    /// from the end is the response at delay `k` samples.
    pub fn coefficients(&self) -> &[f32] {
        &self.h
    }

    /// Forget the echo path (e.g. at the start of a new call).
    pub fn reset(&mut self) {
        self.h.iter_mut().for_each(|c| *c = 0.0);
        self.x.iter_mut().for_each(|c| *c = 0.0);
        self.block_max.iter_mut().for_each(|c| *c = 0);
        self.energy = 0;
        self.cur_block_max = 0;
        self.window_max = 0;
        self.block_fill = 0;
        self.hangover = 0;
        self.pd = 0.0;
        self.py = 0.0;
        self.pd_long = 0.0;
        self.pe_long = 0.0;
        self.far_count = 0;
        self.dt_count = 0;
        self.state = EchoState::default();
    }

    /// Cancel echo: `reference` is what was sent to the line, `input` what came back at the
    /// same instants; `output` receives the cleaned input.
    ///
    /// # Errors
    /// [`EchoError::Length`] if the three slices differ in length (nothing is processed).
    pub fn process(
        &mut self,
        reference: &[i16],
        input: &[i16],
        output: &mut [i16],
    ) -> Result<(), EchoError> {
        if reference.len() != input.len() || output.len() != input.len() {
            return Err(EchoError::Length {
                reference: reference.len(),
                input: input.len(),
                output: output.len(),
            });
        }
        for ((&r, &d), o) in reference.iter().zip(input).zip(output.iter_mut()) {
            *o = self.sample(r, d);
        }
        Ok(())
    }

    /// Cancel echo on one sample.
    pub fn sample(&mut self, reference: i16, input: i16) -> i16 {
        self.push_reference(reference);
        let taps = self.taps;
        let win = &self.x[self.pos..self.pos + taps];
        let y = dot(&self.h, win);
        let d = f32::from(input);
        let e = d - y;

        // Double talk and far-end activity.
        let max_ref = self.window_max.max(self.cur_block_max) as f32;
        let far_active = max_ref >= FAR_ACTIVE_PEAK;
        self.pd += (d * d - self.pd) * (1.0 / 32.0);
        self.py += (y * y - self.py) * (1.0 / 32.0);
        let converged = self.pd_long > 63.0 * self.pe_long;
        let floor = FAR_ACTIVE_PEAK * self.cfg.geigel;
        let talk = if converged {
            (e.abs() > self.cfg.geigel * max_ref && e.abs() > floor)
                || (self.pd > 1.5 * self.py && self.pd > floor * floor)
        } else {
            d.abs() > self.cfg.geigel * max_ref && d.abs() > floor
        };
        if talk {
            self.hangover = self.cfg.hangover;
        } else {
            self.hangover = self.hangover.saturating_sub(1);
        }
        let double_talk = self.hangover > 0;
        let adapting = far_active && !double_talk;
        if adapting {
            self.pd_long += (d * d - self.pd_long) * (1.0 / 16384.0);
            self.pe_long += (e * e - self.pe_long) * (1.0 / 16384.0);
        }
        // Lock-out breaker: if the echo path changes after convergence, the residual looks
        // like near-end speech and would freeze adaptation for good. When double talk is
        // flagged for more than 80 % of a 4 s stretch of far-end activity, assume that and
        // start again from the plain Geigel test.
        if far_active {
            self.far_count += 1;
            self.dt_count += u32::from(double_talk);
            if self.far_count >= LOCKOUT_WINDOW {
                if converged && self.dt_count * 5 > self.far_count * 4 {
                    self.pd_long = 0.0;
                    self.pe_long = 0.0;
                }
                self.far_count = 0;
                self.dt_count = 0;
            }
        }
        if adapting {
            let norm = self.energy as f32 + NLMS_EPS_PER_TAP * self.cfg.taps as f32;
            // Once converged, a quarter step: undetectable near-end speech (quieter than the
            // echo) then disturbs the coefficients 4x less, at the price of slower tracking.
            let step = if converged {
                self.cfg.step * 0.25
            } else {
                self.cfg.step
            };
            let g = step * e / norm;
            let win = &self.x[self.pos..self.pos + taps];
            update(&mut self.h, win, g);
        }

        // Background level, measured on the residual while the far end is silent.
        self.short_power += (e * e - self.short_power) * (1.0 / 128.0);
        if !far_active {
            let rate = if self.short_power < self.noise_power {
                1.0 / 64.0
            } else {
                1.0 / 4096.0
            };
            self.noise_power += (self.short_power - self.noise_power) * rate;
        }

        let nlp_active = far_active && !double_talk && self.cfg.nlp != Nlp::Off;
        let out = if nlp_active {
            match self.cfg.nlp {
                Nlp::Off => e,
                Nlp::Attenuate(a) => e * a,
                Nlp::ComfortNoise => self.noise() * self.noise_power.sqrt(),
            }
        } else {
            e
        };
        self.state = EchoState {
            far_active,
            double_talk,
            adapting,
            nlp_active,
        };
        out.round().clamp(-32768.0, 32767.0) as i16
    }

    fn push_reference(&mut self, r: i16) {
        // The slot leaving the window is the oldest one, at `pos`.
        let old = self.x[self.pos];
        let old_i = old as i64;
        let new_i = i64::from(r);
        self.energy += new_i * new_i - old_i * old_i;
        let v = f32::from(r);
        self.x[self.pos] = v;
        self.x[self.pos + self.taps] = v;
        self.pos = (self.pos + 1) % self.taps;

        self.cur_block_max = self.cur_block_max.max(i32::from(r).abs());
        self.block_fill += 1;
        if self.block_fill == MAX_BLOCK {
            self.block_fill = 0;
            if let Some(slot) = self.block_max.get_mut(self.block_idx) {
                *slot = self.cur_block_max;
            }
            self.block_idx = (self.block_idx + 1) % self.block_max.len().max(1);
            self.cur_block_max = 0;
            self.window_max = self.block_max.iter().copied().max().unwrap_or(0);
        }
    }

    /// Uniform noise in [-√3, √3): unit variance.
    fn noise(&mut self) -> f32 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        (self.rng as f32 / u32::MAX as f32 - 0.5) * 2.0 * 3f32.sqrt()
    }
}

/// Dot product over equal-length slices whose length is a multiple of 8.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += ca[i] * cb[i];
        }
    }
    acc.iter().sum()
}

/// `h += g * x` over equal-length slices whose length is a multiple of 8.
fn update(h: &mut [f32], x: &[f32], g: f32) {
    for (ch, cx) in h.chunks_exact_mut(8).zip(x.chunks_exact(8)) {
        for i in 0..8 {
            ch[i] += g * cx[i];
        }
    }
}
