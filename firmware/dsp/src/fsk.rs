//! 1200 baud FSK for caller ID: ITU-T V.23 (1300/2100 Hz, used by ETSI and China) and
//! Bell 202 (1200/2200 Hz, Telcordia GR-30), asynchronous start/stop framing.
//!
//! This module moves bits and bytes only; message structure lives in [`crate::callerid`].
//!
//! # Receiver
//! Both standards are centred on 1700 Hz, so one demodulator serves both: the line signal is
//! mixed down by 1700 Hz, low-pass filtered (which also removes the mixing image and
//! out-of-band noise), and the sign of the phase step between consecutive baseband samples
//! gives the frequency relative to 1700 Hz. Because only the *sign* of the phase step
//! matters, the decision is independent of level and nearly independent of twist (different
//! mark and space amplitudes), unlike a mark-energy versus space-energy comparison.
//! A start/stop UART re-synchronises on every start-bit edge and samples each bit in its
//! middle. A byte is only hunted for after a run of mark bits (`MARK_MIN_BITS`), and a run
//! of alternating bits (channel seizure) is reported when seen.
//!
//! # Transmitter
//! Phase-continuous FSK from a phase accumulator; bit timing uses an exact rational
//! accumulator (8000 / 1200 = 20 / 3 samples per bit), so there is no drift.
//!
//! Nothing here allocates after construction or panics on any input signal.

use core::f32::consts::PI;

use crate::osc::{phase_step, Phase};

/// Line sample rate.
const FS: f32 = crate::RATE as f32;
/// Centre frequency shared by V.23 and Bell 202.
const CENTRE_HZ: f32 = 1700.0;
/// 1700 Hz repeats every 80 samples at 8 kHz (1700 / 8000 = 17 / 80).
const MIX_PERIOD: usize = 80;
/// Taps of the baseband low-pass filter.
const LPF_TAPS: usize = 11;
/// Cut-off of the baseband low-pass filter: passes ±500 Hz deviation plus the 1200 baud
/// modulation sidebands, rejects the mixing image at -3000..-3900 Hz. The filter is kept
/// short (1.6 bits): longer ones smear neighbouring bits together, which under 10 dB of
/// twist lets a loud mark bit swamp a quiet space bit.
const LPF_CUTOFF_HZ: f32 = 1300.0;
/// Samples averaged after the discriminator (a bit is 6.67 samples).
const DISC_AVG: usize = 3;
/// Samples per bit times three (8000 / 1200 = 20 / 3).
const BIT_THIRDS: u32 = 20;
/// Offsets in samples from a start-bit edge to the middle of bits 0 (start) ..= 9 (stop):
/// `round((i + 0.5) * 20 / 3)`.
const BIT_CENTRES: [u32; 10] = [3, 10, 17, 23, 30, 37, 43, 50, 57, 63];
/// Mark bits needed before the UART looks for a start bit. ETSI EN 300 659-1 sends
/// 180 ± 25 mark bits (80 ± 25 without seizure); Telcordia sends 180 (80 on call waiting).
pub const MARK_MIN_BITS: u32 = 40;
/// [`MARK_MIN_BITS`] in samples.
const MARK_MIN_SAMPLES: u32 = MARK_MIN_BITS * BIT_THIRDS / 3;
/// Consecutive one-bit-long runs that count as a channel seizure (the seizure is 300 bits).
pub const SEIZURE_MIN_BITS: u32 = 40;
/// Delay from the line to the receiver's decisions, in samples (filter group delays).
pub const RX_DELAY: u64 = (LPF_TAPS as u64 - 1) / 2 + 1;

/// Peak amplitude of a 0 dBm0 sine: a full-scale sine is +3.14 dBm0 (G.711 A-law, as in
/// spandsp), so this is `32767 * 10^(-3.14 / 20)`.
const ZERO_DBM0_AMPLITUDE: f32 = 22_826.5;

/// Peak amplitude of a sine wave at `dbm0` dBm0.
pub fn dbm0_to_amplitude(dbm0: f32) -> f32 {
    ZERO_DBM0_AMPLITUDE * 10f32.powf(dbm0 / 20.0)
}

/// Which modem carries the caller ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FskStandard {
    /// ITU-T V.23 forward channel: mark (1) 1300 Hz, space (0) 2100 Hz. ETSI EN 300 659 and
    /// China YDN 069.
    V23,
    /// Bell 202: mark (1) 1200 Hz, space (0) 2200 Hz. Telcordia GR-30 (North America).
    Bell202,
}

impl FskStandard {
    /// Mark (binary 1) frequency in Hz.
    pub const fn mark_hz(self) -> u32 {
        match self {
            Self::V23 => 1300,
            Self::Bell202 => 1200,
        }
    }

    /// Space (binary 0) frequency in Hz.
    pub const fn space_hz(self) -> u32 {
        match self {
            Self::V23 => 2100,
            Self::Bell202 => 2200,
        }
    }
}

/// Errors of FSK configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FskError {
    /// The transmit level is outside -60..=0 dBm0.
    #[error("transmit level {0} dBm0 outside -60..=0")]
    Level(i32),
    /// The carrier-detect threshold is outside -60..=0 dBm0.
    #[error("carrier-detect threshold {0} dBm0 outside -60..=0")]
    Threshold(i32),
}

/// What the receiver saw on the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FskEvent {
    /// Carrier appeared at this sample position.
    CarrierUp {
        /// Sample index (since construction) where the carrier was detected.
        at: u64,
    },
    /// At least [`SEIZURE_MIN_BITS`] alternating bits were seen.
    Seizure {
        /// Sample index where the alternation began.
        from: u64,
    },
    /// At least [`MARK_MIN_BITS`] mark bits were seen; the UART now hunts for start bits.
    Mark {
        /// Sample index where the mark run began.
        from: u64,
        /// Measured mark frequency in Hz (about 1300 for V.23, 1200 for Bell 202).
        mark_hz: u16,
    },
    /// A correctly framed byte.
    Byte {
        /// The data bits, LSB first on the line.
        value: u8,
        /// Sample index of the middle of its stop bit.
        at: u64,
    },
    /// A start bit was not followed by a stop bit (mark) where one was due.
    Framing {
        /// Sample index of the missing stop bit.
        at: u64,
    },
    /// The carrier dropped.
    CarrierDown {
        /// Sample index where it dropped.
        at: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Uart {
    /// Waiting for a long enough mark run.
    Hunt,
    /// Mark run seen (or between bytes); waiting for a mark-to-space edge.
    Armed,
    /// Inside a character; `since` samples after its start edge.
    InChar { since: u32, bits: u16 },
}

/// Streaming 1200 baud FSK receiver with start/stop framing (works for V.23 and Bell 202).
#[derive(Debug, Clone)]
pub struct FskRx {
    cos: [f32; MIX_PERIOD],
    sin: [f32; MIX_PERIOD],
    lpf: [f32; LPF_TAPS],
    /// Complex baseband history, doubled so the newest `LPF_TAPS` are contiguous.
    hist_re: [f32; 2 * LPF_TAPS],
    hist_im: [f32; 2 * LPF_TAPS],
    hist_pos: usize,
    mix_phase: usize,
    prev_re: f32,
    prev_im: f32,
    disc: [f32; DISC_AVG],
    disc_pos: usize,
    power: f32,
    on_threshold: f32,
    off_threshold: f32,
    carrier: bool,
    bit: bool,
    run: u32,
    /// Sums of Re and Im of z[n] * conj(z[n-1]) over the current run (frequency estimate).
    run_dot: f32,
    run_cross: f32,
    alt_runs: u32,
    alt_from: u64,
    seizure_reported: bool,
    uart: Uart,
    pos: u64,
}

impl Default for FskRx {
    fn default() -> Self {
        Self::new()
    }
}

impl FskRx {
    /// A receiver with the carrier detector at -40 dBm0: caller ID is sent at about
    /// -13 dBm0 and must be received down to -30 dBm0 or so.
    pub fn new() -> Self {
        Self::build(-40.0)
    }

    /// A receiver whose carrier detector switches on at `threshold_dbm0` (and off 3 dB
    /// lower).
    ///
    /// # Errors
    /// [`FskError::Threshold`] if the threshold is outside -60..=0 dBm0.
    pub fn with_threshold(threshold_dbm0: i32) -> Result<Self, FskError> {
        if !(-60..=0).contains(&threshold_dbm0) {
            return Err(FskError::Threshold(threshold_dbm0));
        }
        Ok(Self::build(threshold_dbm0 as f32))
    }

    fn build(threshold_dbm0: f32) -> Self {
        let mut cos = [0.0; MIX_PERIOD];
        let mut sin = [0.0; MIX_PERIOD];
        for n in 0..MIX_PERIOD {
            let ph = 2.0 * PI * CENTRE_HZ * n as f32 / FS;
            cos[n] = ph.cos();
            sin[n] = -ph.sin();
        }
        // Hamming-windowed sinc, unity gain at DC.
        let mut lpf = [0.0; LPF_TAPS];
        let mid = (LPF_TAPS - 1) as f32 / 2.0;
        let wc = 2.0 * LPF_CUTOFF_HZ / FS;
        let mut sum = 0.0;
        for (i, h) in lpf.iter_mut().enumerate() {
            let t = i as f32 - mid;
            let sinc = if t == 0.0 {
                wc
            } else {
                (PI * wc * t).sin() / (PI * t)
            };
            let w = 0.54 - 0.46 * (2.0 * PI * i as f32 / (LPF_TAPS - 1) as f32).cos();
            *h = sinc * w;
            sum += *h;
        }
        for h in &mut lpf {
            *h /= sum;
        }
        // A sine of amplitude A mixes down to a baseband phasor of magnitude A / 2.
        let a_on = dbm0_to_amplitude(threshold_dbm0) / 2.0;
        let a_off = dbm0_to_amplitude(threshold_dbm0 - 3.0) / 2.0;
        Self {
            cos,
            sin,
            lpf,
            hist_re: [0.0; 2 * LPF_TAPS],
            hist_im: [0.0; 2 * LPF_TAPS],
            hist_pos: 0,
            mix_phase: 0,
            prev_re: 0.0,
            prev_im: 0.0,
            disc: [0.0; DISC_AVG],
            disc_pos: 0,
            power: 0.0,
            on_threshold: a_on * a_on,
            off_threshold: a_off * a_off,
            carrier: false,
            bit: true,
            run: 0,
            run_dot: 0.0,
            run_cross: 0.0,
            alt_runs: 0,
            alt_from: 0,
            seizure_reported: false,
            uart: Uart::Hunt,
            pos: 0,
        }
    }

    /// Samples consumed since construction.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Whether the carrier detector is on.
    pub fn carrier(&self) -> bool {
        self.carrier
    }

    /// Demodulate `samples`, calling `on_event` for everything seen, in order.
    pub fn rx(&mut self, samples: &[i16], mut on_event: impl FnMut(FskEvent)) {
        for &s in samples {
            self.step(f32::from(s), &mut on_event);
            self.pos += 1;
        }
    }

    fn step(&mut self, x: f32, on_event: &mut impl FnMut(FskEvent)) {
        // Mix down and low-pass.
        let re_in = x * self.cos[self.mix_phase];
        let im_in = x * self.sin[self.mix_phase];
        self.mix_phase = (self.mix_phase + 1) % MIX_PERIOD;
        self.hist_re[self.hist_pos] = re_in;
        self.hist_re[self.hist_pos + LPF_TAPS] = re_in;
        self.hist_im[self.hist_pos] = im_in;
        self.hist_im[self.hist_pos + LPF_TAPS] = im_in;
        self.hist_pos = (self.hist_pos + 1) % LPF_TAPS;
        // Oldest sample first at hist_pos; taps are symmetric so order does not matter.
        let win_re = &self.hist_re[self.hist_pos..self.hist_pos + LPF_TAPS];
        let win_im = &self.hist_im[self.hist_pos..self.hist_pos + LPF_TAPS];
        let mut re = 0.0;
        let mut im = 0.0;
        for ((h, a), b) in self.lpf.iter().zip(win_re).zip(win_im) {
            re += h * a;
            im += h * b;
        }
        // Phase step sign: Im(z[n] * conj(z[n-1])), normalised to stay level independent.
        let cross = im * self.prev_re - re * self.prev_im;
        let dot = re * self.prev_re + im * self.prev_im;
        let mag = re * re + im * im;
        let norm = mag + self.prev_re * self.prev_re + self.prev_im * self.prev_im;
        self.prev_re = re;
        self.prev_im = im;
        let d = if norm > 1e-3 { 2.0 * cross / norm } else { 0.0 };
        self.disc[self.disc_pos] = d;
        self.disc_pos = (self.disc_pos + 1) % DISC_AVG;
        let avg: f32 = self.disc.iter().sum();

        // Carrier detect with hysteresis (about 4 ms time constant).
        self.power += (mag - self.power) * (1.0 / 32.0);
        let at = self.pos.saturating_sub(RX_DELAY);
        if !self.carrier && self.power > self.on_threshold {
            self.carrier = true;
            self.run = 0;
            self.alt_runs = 0;
            self.seizure_reported = false;
            self.uart = Uart::Hunt;
            on_event(FskEvent::CarrierUp { at });
        } else if self.carrier && self.power < self.off_threshold {
            self.carrier = false;
            self.uart = Uart::Hunt;
            on_event(FskEvent::CarrierDown { at });
            return;
        }
        if !self.carrier {
            return;
        }

        // Mark (the lower tone) turns the phasor clockwise.
        let bit = avg < 0.0;
        let edge = bit != self.bit;
        if edge {
            // Seizure: runs of one bit length (4..=10 samples) in a row.
            if (4..=10).contains(&self.run) {
                if self.alt_runs == 0 {
                    self.alt_from = at.saturating_sub(u64::from(self.run));
                }
                self.alt_runs = self.alt_runs.saturating_add(1);
                if self.alt_runs >= SEIZURE_MIN_BITS && !self.seizure_reported {
                    self.seizure_reported = true;
                    on_event(FskEvent::Seizure {
                        from: self.alt_from,
                    });
                }
            } else {
                self.alt_runs = 0;
            }
            self.run = 0;
            self.run_dot = 0.0;
            self.run_cross = 0.0;
            self.bit = bit;
        }
        self.run = self.run.saturating_add(1);
        self.run_dot += dot;
        self.run_cross += cross;

        if bit && self.run == MARK_MIN_SAMPLES && !matches!(self.uart, Uart::InChar { .. }) {
            self.uart = Uart::Armed;
            let step = self.run_cross.atan2(self.run_dot);
            let hz = CENTRE_HZ + step * FS / (2.0 * PI);
            on_event(FskEvent::Mark {
                from: at.saturating_sub(u64::from(self.run)),
                mark_hz: hz.clamp(0.0, 4000.0) as u16,
            });
        }
        match self.uart {
            Uart::Hunt => {}
            Uart::Armed => {
                if edge && !bit {
                    self.uart = Uart::InChar { since: 0, bits: 0 };
                }
            }
            Uart::InChar { since, bits } => {
                let since = since + 1;
                let mut bits = bits;
                if let Some(i) = BIT_CENTRES.iter().position(|&c| c == since) {
                    bits |= u16::from(bit) << i;
                    if i == 0 && bit {
                        // False start: the start bit did not last to its middle.
                        self.uart = Uart::Armed;
                        return;
                    }
                    if i == 9 {
                        if bit {
                            self.uart = Uart::Armed;
                            on_event(FskEvent::Byte {
                                value: (bits >> 1) as u8,
                                at,
                            });
                        } else {
                            self.uart = Uart::Hunt;
                            on_event(FskEvent::Framing { at });
                        }
                        return;
                    }
                }
                self.uart = Uart::InChar { since, bits };
            }
        }
    }
}

/// Phase-continuous 1200 baud FSK modulator. Bits are pulled from a caller-supplied source.
#[derive(Debug, Clone)]
pub struct FskTx {
    standard: FskStandard,
    amplitude: f32,
    /// Phase steps per sample of the mark and the space tone.
    mark_step: f32,
    space_step: f32,
    phase: Phase,
    /// Position within the current bit, in thirds of a sample.
    bit_thirds: u32,
    /// The bit being sent, `None` at a bit boundary.
    current: Option<bool>,
}

impl FskTx {
    /// A modulator sending at `level_dbm0` per tone (caller ID is usually -13 dBm0).
    ///
    /// # Errors
    /// [`FskError::Level`] if the level is outside -60..=0 dBm0.
    pub fn new(standard: FskStandard, level_dbm0: i32) -> Result<Self, FskError> {
        if !(-60..=0).contains(&level_dbm0) {
            return Err(FskError::Level(level_dbm0));
        }
        Ok(Self {
            standard,
            amplitude: dbm0_to_amplitude(level_dbm0 as f32),
            mark_step: phase_step(standard.mark_hz() as f32),
            space_step: phase_step(standard.space_hz() as f32),
            phase: Phase::default(),
            bit_thirds: 0,
            current: None,
        })
    }

    /// The standard being sent.
    pub fn standard(&self) -> FskStandard {
        self.standard
    }

    /// Fill `out` with modulated samples, calling `next_bit` at each bit boundary. When it
    /// returns `None` the signal stops; the number of samples written is returned.
    pub fn modulate(
        &mut self,
        out: &mut [i16],
        mut next_bit: impl FnMut() -> Option<bool>,
    ) -> usize {
        for (n, o) in out.iter_mut().enumerate() {
            let bit = match self.current {
                Some(b) => b,
                None => match next_bit() {
                    Some(b) => {
                        self.current = Some(b);
                        b
                    }
                    None => return n,
                },
            };
            let step = if bit { self.mark_step } else { self.space_step };
            *o = (self.amplitude * self.phase.sin_then_advance(step)).round() as i16;
            self.bit_thirds += 3;
            if self.bit_thirds >= BIT_THIRDS {
                self.bit_thirds -= BIT_THIRDS;
                self.current = None;
            }
        }
        out.len()
    }
}
