//! China call-progress tones (YD/T 1277 / GB 3380 practice: 450 Hz): generator with cadence,
//! cadence-checking detector, busy detection for FXO disconnect, and an outbound-call
//! progress classifier (silence, ringback, busy, congestion, voice = answered).
//!
//! The detector looks at 20 ms blocks: a block is *tone* when a Goertzel bin at 425, 450 or
//! 475 Hz holds
//! most of its energy. Runs of tone/no-tone blocks are matched against the cadences with a
//! configurable tolerance (plus one block either side for edge quantisation). Speech and DTMF
//! rarely put most of their energy in a 100 Hz band around 450 Hz for long, and never with a
//! tone cadence, so they are not reported.
//!
//! Nothing allocates after construction; bad configuration is an error, never a panic.

use crate::goertzel::{dbm0_to_amplitude, dbm0_to_mean_square, energy, BlockBuf, GoertzelBank};
use crate::osc::{phase_step, Phase};

/// China call-progress tone frequency, Hz.
pub const TONE_HZ: f32 = 450.0;
/// Detector block, samples (20 ms).
pub const BLOCK: usize = 160;
const BLOCK_MS: u32 = 20;

/// A China call-progress tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChinaTone {
    /// 450 Hz continuous.
    Dial,
    /// 450 Hz, 350 ms on / 350 ms off.
    Busy,
    /// 450 Hz, 700 ms on / 700 ms off.
    Congestion,
    /// 450 Hz, 1 s on / 4 s off.
    Ringback,
}

impl ChinaTone {
    /// (on, off) in ms; off = 0 for continuous.
    pub fn cadence_ms(self) -> (u32, u32) {
        match self {
            ChinaTone::Dial => (0, 0),
            ChinaTone::Busy => (350, 350),
            ChinaTone::Congestion => (700, 700),
            ChinaTone::Ringback => (1000, 4000),
        }
    }
}

const CADENCED: [ChinaTone; 3] = [ChinaTone::Busy, ChinaTone::Congestion, ChinaTone::Ringback];

/// Errors from tone configuration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ToneError {
    /// A configuration value is outside its meaningful range.
    #[error("tone parameter {name} = {value} out of range {min}..={max}")]
    OutOfRange {
        /// Parameter name.
        name: &'static str,
        /// Offending value.
        value: f32,
        /// Smallest accepted value.
        min: f32,
        /// Largest accepted value.
        max: f32,
    },
}

fn check(name: &'static str, value: f32, min: f32, max: f32) -> Result<(), ToneError> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ToneError::OutOfRange {
            name,
            value,
            min,
            max,
        })
    }
}

/// Generates one China tone with its cadence, starting with the "on" part.
#[derive(Debug, Clone)]
pub struct ToneGen {
    on: u32,
    off: u32,
    pos: u32,
    amp: f32,
    phase: Phase,
    step: f32,
}

impl ToneGen {
    /// Generator for `tone` at `level_dbm0` (China exchanges send about −10 dBm0).
    ///
    /// # Errors
    /// [`ToneError::OutOfRange`] for a level outside −60…0 dBm0.
    pub fn new(tone: ChinaTone, level_dbm0: f32) -> Result<Self, ToneError> {
        check("level_dbm0", level_dbm0, -60.0, 0.0)?;
        let (on, off) = tone.cadence_ms();
        Ok(Self {
            on: crate::ms_to_samples(on) as u32,
            off: crate::ms_to_samples(off) as u32,
            pos: 0,
            amp: dbm0_to_amplitude(level_dbm0),
            phase: Phase::default(),
            step: phase_step(TONE_HZ),
        })
    }

    /// Fill `out` with the next samples.
    pub fn tx(&mut self, out: &mut [i16]) {
        for o in out.iter_mut() {
            let sounding = self.off == 0 || self.pos < self.on;
            // The phase runs on through the "off" part, as a tone generator's would.
            let v = self.phase.sin_then_advance(self.step);
            *o = if sounding {
                (self.amp * v).round() as i16
            } else {
                0
            };
            if self.off != 0 {
                self.pos = (self.pos + 1) % (self.on + self.off);
            }
        }
    }
}

/// Detector settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneDetectorConfig {
    /// Cadence tolerance, percent of each nominal on/off time (one 20 ms block is allowed on
    /// top for edge quantisation). Default 20.
    pub tolerance_pct: f32,
    /// Weakest tone detected, dBm0. Default −40.
    pub min_level_dbm0: f32,
    /// Busy cycles before busy is reported (like Asterisk's `busycount`). Default 4.
    pub busy_count: u32,
    /// Congestion cycles before it is reported. Default 2.
    pub congestion_count: u32,
    /// Ringback cycles before it is reported. Default 1.
    pub ringback_count: u32,
    /// Continuous tone needed to report dial tone, ms. Default 1500; never less than the
    /// longest ringback "on" within tolerance, whatever is configured.
    pub dial_min_ms: u32,
}

impl Default for ToneDetectorConfig {
    fn default() -> Self {
        Self {
            tolerance_pct: 20.0,
            min_level_dbm0: -40.0,
            busy_count: 4,
            congestion_count: 2,
            ringback_count: 1,
            dial_min_ms: 1500,
        }
    }
}

/// A tone recognised or finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToneEvent {
    /// `tone` is recognised (after its configured number of cycles).
    Detected {
        /// The tone.
        tone: ChinaTone,
        /// Sample index where its first counted cycle began.
        start: u64,
        /// Cadence cycles seen so far (0 for dial tone).
        cycles: u32,
    },
    /// A recognised tone stopped or broke its cadence.
    Ended {
        /// The tone.
        tone: ChinaTone,
        /// Sample index where it began.
        start: u64,
        /// Sample index just past its last "on" part.
        end: u64,
        /// Cadence cycles seen in all.
        cycles: u32,
    },
}

#[derive(Debug, Clone, Copy)]
struct Current {
    tone: ChinaTone,
    start: u64,
    end: u64,
    cycles: u32,
    reported: bool,
}

/// Streaming call-progress tone detector.
#[derive(Debug, Clone)]
pub struct ToneDetector {
    cfg: ToneDetectorConfig,
    bank: GoertzelBank<3>,
    block: BlockBuf<BLOCK>,
    threshold: f32,
    /// Accepted "on" and "off" lengths in blocks per [`CADENCED`] tone, from the tolerance.
    on_range: [(u32, u32); 3],
    off_range: [(u32, u32); 3],
    /// Longest "on" any cadence accepts, in blocks.
    on_max: u32,
    /// Current run: tone or not, length in blocks, start sample.
    on: bool,
    run: u32,
    run_start: u64,
    /// Last completed "on" segment: start, end, candidate tones (bit per CADENCED index).
    last_on: Option<(u64, u64)>,
    cands: u8,
    counted: bool,
    current: Option<Current>,
    /// Per-block classification of the last block, for [`CallProgress`].
    last_block: BlockKind,
}

/// What one 20 ms block looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Tone,
    Quiet,
    Other,
}

impl ToneDetector {
    /// A detector with [`ToneDetectorConfig::default`].
    pub fn new() -> Self {
        Self::build(ToneDetectorConfig::default())
    }

    /// A detector with explicit settings.
    ///
    /// # Errors
    /// [`ToneError::OutOfRange`] for tolerance outside 5…30 % (above 30 % busy and
    /// congestion overlap), level outside −60…0 dBm0, counts outside 1…100, or dial time
    /// outside 200…10 000 ms.
    pub fn with_config(cfg: ToneDetectorConfig) -> Result<Self, ToneError> {
        check("tolerance_pct", cfg.tolerance_pct, 5.0, 30.0)?;
        check("min_level_dbm0", cfg.min_level_dbm0, -60.0, 0.0)?;
        for (n, v) in [
            ("busy_count", cfg.busy_count),
            ("congestion_count", cfg.congestion_count),
            ("ringback_count", cfg.ringback_count),
        ] {
            check(n, v as f32, 1.0, 100.0)?;
        }
        check("dial_min_ms", cfg.dial_min_ms as f32, 200.0, 10_000.0)?;
        Ok(Self::build(cfg))
    }

    fn build(cfg: ToneDetectorConfig) -> Self {
        let range = |ms| range_blocks(ms, cfg.tolerance_pct);
        let on_range = CADENCED.map(|t| range(t.cadence_ms().0));
        let off_range = CADENCED.map(|t| range(t.cadence_ms().1));
        Self {
            cfg,
            bank: GoertzelBank::new([TONE_HZ - 25.0, TONE_HZ, TONE_HZ + 25.0], BLOCK),
            block: BlockBuf::new(),
            threshold: dbm0_to_mean_square(cfg.min_level_dbm0) * BLOCK as f32,
            on_range,
            off_range,
            on_max: on_range.iter().map(|&(_, hi)| hi).max().unwrap_or(0),
            on: false,
            run: 0,
            run_start: 0,
            last_on: None,
            cands: 0,
            counted: false,
            current: None,
            last_block: BlockKind::Quiet,
        }
    }

    /// The tone currently recognised, if any.
    pub fn current(&self) -> Option<ChinaTone> {
        self.current.filter(|c| c.reported).map(|c| c.tone)
    }

    /// Process `samples`, calling `on_event` for each recognised or finished tone.
    pub fn rx<F: FnMut(ToneEvent)>(&mut self, samples: &[i16], mut on_event: F) {
        self.rx_blocks(samples, &mut |e, _| {
            if let Some(e) = e {
                on_event(e);
            }
        });
    }

    /// Like `rx`, also reporting each finished block's kind (for [`CallProgress`]).
    fn rx_blocks<F: FnMut(Option<ToneEvent>, BlockKind)>(
        &mut self,
        mut samples: &[i16],
        f: &mut F,
    ) {
        while !samples.is_empty() {
            if self.block.take(&mut samples) {
                self.process_block(f);
                self.block.next();
                f(None, self.last_block);
            }
        }
    }

    fn required(&self, t: ChinaTone) -> u32 {
        match t {
            ChinaTone::Busy => self.cfg.busy_count,
            ChinaTone::Congestion => self.cfg.congestion_count,
            ChinaTone::Ringback => self.cfg.ringback_count,
            ChinaTone::Dial => 1,
        }
    }

    fn end_current<F: FnMut(Option<ToneEvent>, BlockKind)>(&mut self, f: &mut F) {
        if let Some(c) = self.current.take() {
            if c.reported {
                f(
                    Some(ToneEvent::Ended {
                        tone: c.tone,
                        start: c.start,
                        end: c.end,
                        cycles: c.cycles,
                    }),
                    self.last_block,
                );
            }
        }
    }

    fn count_cycle<F: FnMut(Option<ToneEvent>, BlockKind)>(&mut self, t: ChinaTone, f: &mut F) {
        let Some((on_start, on_end)) = self.last_on else {
            return;
        };
        self.counted = true;
        match self.current.as_mut() {
            Some(c) if c.tone == t => {
                c.cycles += 1;
                c.end = on_end;
            }
            _ => {
                self.end_current(f);
                self.current = Some(Current {
                    tone: t,
                    start: on_start,
                    end: on_end,
                    cycles: 1,
                    reported: false,
                });
            }
        }
        let need = self.required(t);
        if let Some(c) = self.current.as_mut() {
            if !c.reported && c.cycles >= need {
                c.reported = true;
                let e = ToneEvent::Detected {
                    tone: c.tone,
                    start: c.start,
                    cycles: c.cycles,
                };
                f(Some(e), self.last_block);
            }
        }
    }

    fn process_block<F: FnMut(Option<ToneEvent>, BlockKind)>(&mut self, f: &mut F) {
        let buf_start = self.block.start;
        let total = energy(&self.block.buf);
        // Three bins cover 450 ± 25 Hz: a 160-sample bin alone loses 2.4 dB at 20 Hz off.
        let tone = self
            .bank
            .run(&self.block.buf)
            .iter()
            .map(|b| b.tone_energy(BLOCK))
            .fold(0.0, f32::max);
        let quiet = total < self.threshold;
        let is_tone = !quiet && tone >= self.threshold && tone >= 0.7 * total;
        self.last_block = if is_tone {
            BlockKind::Tone
        } else if quiet {
            BlockKind::Quiet
        } else {
            BlockKind::Other
        };
        let block_end = buf_start + BLOCK as u64;
        if is_tone != self.on {
            // Segment boundary.
            if self.on {
                // An "on" segment ended.
                if self.current.is_some_and(|c| c.tone == ChinaTone::Dial) {
                    if let Some(c) = self.current.as_mut() {
                        c.end = buf_start;
                    }
                    self.end_current(f);
                }
                self.last_on = Some((self.run_start, buf_start));
                self.cands = 0;
                for (i, &(lo, hi)) in self.on_range.iter().enumerate() {
                    if (lo..=hi).contains(&self.run) {
                        self.cands |= 1 << i;
                    }
                }
                self.counted = false;
                if self.cands == 0 {
                    self.end_current(f);
                    self.last_on = None;
                }
            } else if self.last_on.is_some() {
                // An "off" segment ended: does it complete a cycle?
                if !self.counted {
                    let fit = (0..CADENCED.len()).find(|&i| {
                        let (lo, hi) = self.off_range[i];
                        self.cands & (1 << i) != 0 && (lo..=hi).contains(&self.run)
                    });
                    match fit {
                        Some(i) => self.count_cycle(CADENCED[i], f),
                        None => self.end_current(f),
                    }
                }
                self.last_on = None;
            }
            self.on = is_tone;
            self.run = 1;
            self.run_start = buf_start;
        } else {
            self.run = self.run.saturating_add(1);
        }
        if self.on {
            if self.run == self.on_max + 1 {
                // Too long for any cadence: whatever cadence ran has broken.
                if self.current.is_some_and(|c| c.tone != ChinaTone::Dial) {
                    self.end_current(f);
                }
            }
            if self.run > self.on_max
                && self.run.saturating_mul(BLOCK_MS) >= self.cfg.dial_min_ms
                && self.current.is_none()
            {
                self.current = Some(Current {
                    tone: ChinaTone::Dial,
                    start: self.run_start,
                    end: block_end,
                    cycles: 0,
                    reported: true,
                });
                f(
                    Some(ToneEvent::Detected {
                        tone: ChinaTone::Dial,
                        start: self.run_start,
                        cycles: 0,
                    }),
                    self.last_block,
                );
            }
        } else if self.last_on.is_some() {
            // During "off": drop candidates whose off time is exceeded; count early when
            // only one remains and its minimum off time has passed (ringback, 4 s off).
            for (i, &(_, hi)) in self.off_range.iter().enumerate() {
                if self.run > hi {
                    self.cands &= !(1 << i);
                }
            }
            if self.cands == 0 {
                if !self.counted {
                    self.end_current(f);
                }
                // Silence after the last cycle: the tone has stopped.
                self.end_current(f);
                self.last_on = None;
            } else if !self.counted && self.cands.count_ones() == 1 {
                let i = self.cands.trailing_zeros() as usize;
                let (lo, _) = self.off_range[i];
                if self.run >= lo {
                    self.count_cycle(CADENCED[i], f);
                }
            }
        }
    }
}

/// Lengths in blocks accepted for a nominal `nominal_ms`: ± `tolerance_pct`, widened by
/// one block either side for edge quantisation.
fn range_blocks(nominal_ms: u32, tolerance_pct: f32) -> (u32, u32) {
    let tol = nominal_ms as f32 * tolerance_pct / 100.0;
    let lo = ((nominal_ms as f32 - tol) / BLOCK_MS as f32).floor() as u32;
    let hi = ((nominal_ms as f32 + tol) / BLOCK_MS as f32).ceil() as u32;
    (lo.saturating_sub(1), hi + 1)
}

impl Default for ToneDetector {
    fn default() -> Self {
        Self::new()
    }
}

/// What an outbound call is hearing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing above the level threshold for the silence timeout.
    Silence,
    /// Ringback tone: the far end is ringing.
    Ringback,
    /// Busy tone.
    Busy,
    /// Congestion tone.
    Congestion,
    /// Dial tone (the line was not seized by the far end yet, or the call failed).
    Dial,
    /// Speech or other non-tone signal: answered.
    Voice,
}

/// Outbound call-progress classifier: run it on the line after dialling.
#[derive(Debug, Clone)]
pub struct CallProgress {
    det: ToneDetector,
    history: u32,
    quiet_blocks: u32,
    silence_blocks: u32,
    last: Option<Progress>,
}

/// Non-tone blocks among the last 25 (500 ms) needed to report voice.
pub const VOICE_BLOCKS: u32 = 15;

impl CallProgress {
    /// Classifier reporting silence after `silence_ms` of quiet, with `det` for tones.
    ///
    /// # Errors
    /// [`ToneError::OutOfRange`] for a silence time outside 1…60 s.
    pub fn new(det: ToneDetector, silence_ms: u32) -> Result<Self, ToneError> {
        check("silence_ms", silence_ms as f32, 1000.0, 60_000.0)?;
        Ok(Self {
            det,
            history: 0,
            quiet_blocks: 0,
            silence_blocks: silence_ms / BLOCK_MS,
            last: None,
        })
    }

    /// The latest classification.
    pub fn state(&self) -> Option<Progress> {
        self.last
    }

    /// Process `samples`; `on_change` gets each new classification with the sample index at
    /// which it was made.
    pub fn rx<F: FnMut(Progress, u64)>(&mut self, samples: &[i16], mut on_change: F) {
        let Self {
            det,
            history,
            quiet_blocks,
            silence_blocks,
            last,
        } = self;
        let mut emit = |p: Progress, at: u64, last: &mut Option<Progress>| {
            if *last != Some(p) {
                *last = Some(p);
                on_change(p, at);
            }
        };
        let mut pending: Option<ToneEvent> = None;
        let mut blocks_done = det.block.start;
        det.rx_blocks(samples, &mut |e, kind| match e {
            Some(ev) => pending = Some(ev),
            None => {
                blocks_done += BLOCK as u64;
                let at = blocks_done;
                if let Some(ToneEvent::Detected { tone, .. }) = pending.take() {
                    let p = match tone {
                        ChinaTone::Dial => Progress::Dial,
                        ChinaTone::Busy => Progress::Busy,
                        ChinaTone::Congestion => Progress::Congestion,
                        ChinaTone::Ringback => Progress::Ringback,
                    };
                    *history = 0;
                    emit(p, at, last);
                }
                *history = (*history << 1) | u32::from(kind == BlockKind::Other);
                if kind == BlockKind::Quiet {
                    *quiet_blocks = quiet_blocks.saturating_add(1);
                } else {
                    *quiet_blocks = 0;
                }
                if (*history & 0x01FF_FFFF).count_ones() >= VOICE_BLOCKS {
                    emit(Progress::Voice, at, last);
                } else if *quiet_blocks >= *silence_blocks && last.is_none() {
                    emit(Progress::Silence, at, last);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(x: &[i16]) -> Vec<ToneEvent> {
        let mut d = ToneDetector::new();
        let mut ev = Vec::new();
        d.rx(x, |e| ev.push(e));
        d.rx(&vec![0; 8000 * 6], |e| ev.push(e));
        ev
    }

    fn gen(t: ChinaTone, secs: usize) -> Vec<i16> {
        let mut g = ToneGen::new(t, -10.0).unwrap();
        let mut x = vec![0; 8000 * secs];
        g.tx(&mut x);
        x
    }

    #[test]
    fn own_generator_round_trip() {
        for (t, secs, cycles) in [
            (ChinaTone::Busy, 7, 10),
            (ChinaTone::Congestion, 7, 5),
            (ChinaTone::Ringback, 15, 3),
        ] {
            let ev = run(&gen(t, secs));
            assert!(
                matches!(ev[0], ToneEvent::Detected { tone, .. } if tone == t),
                "{t:?}: {ev:?}"
            );
            assert!(
                matches!(ev.last(), Some(ToneEvent::Ended { tone, cycles: c, .. }) if *tone == t && *c == cycles),
                "{t:?}: {ev:?}"
            );
        }
        let ev = run(&gen(ChinaTone::Dial, 3));
        assert!(matches!(
            ev[..],
            [
                ToneEvent::Detected {
                    tone: ChinaTone::Dial,
                    start: 0,
                    ..
                },
                ToneEvent::Ended {
                    tone: ChinaTone::Dial,
                    end: 24000,
                    ..
                }
            ]
        ));
    }

    #[test]
    fn bad_config_is_error() {
        let cfg = ToneDetectorConfig {
            tolerance_pct: 50.0,
            ..ToneDetectorConfig::default()
        };
        assert!(ToneDetector::with_config(cfg).is_err());
        assert!(ToneGen::new(ChinaTone::Busy, 10.0).is_err());
        assert!(CallProgress::new(ToneDetector::new(), 0).is_err());
    }
}
