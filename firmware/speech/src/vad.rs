//! Voice activity detection on line audio: is the caller speaking in this 20 ms frame?
//!
//! The [`Vad`] trait is what the endpointer ([`crate::endpoint`]) and barge-in sit on. It takes
//! the line engine's frame as it comes off the card — 8 kHz, 16-bit linear, [`FRAME_SAMPLES`]
//! samples — and answers with a [`VadFrame`]: a speech probability and a thresholded decision.
//! Model-based detectors (Silero under tract, later) implement the same trait and do their own
//! resampling and re-blocking inside, as [`EarshotVad`] does.
//!
//! [`EarshotVad`] runs the `earshot` network (pure Rust, weights compiled in, no ONNX). It is
//! the fallback that is always there; there is deliberately no energy/zero-crossing detector:
//! on a telephone line noise, tones and echo defeat level rules, and earshot is cheap enough.
//!
//! What this module must never do: allocate per frame, panic on any frame (a wrong length is
//! an error), or keep audio beyond the few milliseconds of filter and block state it needs.

use earshot::Detector;
use yingda_dsp::goertzel::{energy, GoertzelBank};
use yingda_dsp::resample::{Upsampler, GROUP_DELAY_16K};

/// Samples in one line frame (20 ms at 8 kHz).
pub const FRAME_SAMPLES: usize = 160;
/// Duration of one line frame, ms.
pub const FRAME_MS: u32 = 20;

/// earshot's frame: 256 samples (16 ms) at 16 kHz.
const EARSHOT_BLOCK: usize = 256;
/// One line frame after 8 → 16 kHz conversion.
const UP_SAMPLES: usize = 2 * FRAME_SAMPLES;

/// Frequencies the tone gate looks at: the eight DTMF tones and the China call-progress tone.
const GATE_HZ: [f32; 9] = [
    697.0, 770.0, 852.0, 941.0, 1209.0, 1336.0, 1477.0, 1633.0, 450.0,
];
/// A frame is a tone when its two strongest gate bins hold at least this share of its energy.
/// Measured through A-law: DTMF and 450 Hz frames 0.95–1.04 (0.51 for a frame the tone fills
/// half of); espeak-ng speech in English and Mandarin at most 0.73.
const TONE_SHARE: f32 = 0.85;
/// Frames below this mean square (about −60 dBm0) are never called tones.
const TONE_FLOOR_MS: f32 = 1.0;
/// After a tone, speech stays off until the network's score has decayed below the release
/// threshold (it stays high for 60–300 ms after a tone, longer in noise), but for no longer
/// than this many frames (400 ms), so a caller who talks straight after a key press is heard.
const TONE_TAIL_MAX_FRAMES: u32 = 20;

/// Keeps pure tones (DTMF keys, busy/dial/ringback tone) from counting as speech.
///
/// earshot scores a 450 Hz tone or a DTMF digit 0.5–0.85, as high as speech. For the IVR they
/// must not be: a key press during a prompt is barge-in by the DTMF detector, and a digit
/// string must not open an utterance that hides it; busy tone means the far end has gone and
/// the call-progress detector ends the call; neither may keep an utterance from ending.
#[derive(Debug, Clone)]
struct ToneGate {
    bank: GoertzelBank<9>,
    /// Frames since the last tone frame, while its tail is still gated.
    tail: Option<u32>,
}

impl ToneGate {
    fn new() -> Self {
        Self {
            bank: GoertzelBank::new(GATE_HZ, FRAME_SAMPLES),
            tail: None,
        }
    }

    fn is_tone(&self, frame: &[i16]) -> bool {
        let e = energy(frame);
        if e < TONE_FLOOR_MS * FRAME_SAMPLES as f32 {
            return false;
        }
        let (mut a, mut b) = (0.0f32, 0.0f32);
        for bin in self.bank.run(frame) {
            let t = bin.tone_energy(FRAME_SAMPLES);
            if t > a {
                b = a;
                a = t;
            } else if t > b {
                b = t;
            }
        }
        a + b >= TONE_SHARE * e
    }

    /// Must this frame's decision be "no speech"? `probability` is the network's score for
    /// it, `release` the detector's release threshold.
    fn gated(&mut self, frame: &[i16], probability: f32, release: f32) -> bool {
        if self.is_tone(frame) {
            self.tail = Some(0);
            return true;
        }
        let Some(n) = self.tail else {
            return false;
        };
        let n = n + 1;
        self.tail = if probability < release || n >= TONE_TAIL_MAX_FRAMES {
            None
        } else {
            Some(n)
        };
        true
    }
}

/// Errors from voice activity detectors.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VadError {
    /// A frame did not hold exactly [`FRAME_SAMPLES`] samples; the detector state is unchanged.
    #[error("frame holds {got} samples, {FRAME_SAMPLES} expected")]
    FrameLength {
        /// Samples given.
        got: usize,
    },
    /// A threshold is outside 0…1 (exclusive) or not a number.
    #[error("threshold {name} = {value} must lie strictly between 0 and 1")]
    Threshold {
        /// Field name.
        name: &'static str,
        /// Offending value.
        value: f32,
    },
    /// The release threshold is above the onset threshold (no hysteresis is possible).
    #[error("release threshold {release} is above onset threshold {onset}")]
    Hysteresis {
        /// Onset threshold.
        onset: f32,
        /// Release threshold.
        release: f32,
    },
}

/// The detector's answer for one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadFrame {
    /// Speech probability, 0…1.
    pub probability: f32,
    /// Decision: the caller is speaking. Applies the detector's thresholds with hysteresis
    /// and may overrule the probability (a detector that recognises a tone says no).
    pub speech: bool,
}

/// A voice activity detector for 8 kHz line audio in 20 ms frames.
///
/// Object-safe and `Send`, so a call can hold a `Box<dyn Vad>` chosen from configuration and
/// move between threads with it. One instance per call (per audio stream).
pub trait Vad: Send {
    /// Judge one frame of exactly [`FRAME_SAMPLES`] samples.
    ///
    /// # Errors
    /// [`VadError::FrameLength`] for any other length; nothing is consumed then.
    fn process(&mut self, frame: &[i16]) -> Result<VadFrame, VadError>;

    /// Forget all audio and state, as if newly built (new call, or new prompt turn).
    fn reset(&mut self);

    /// How far the decision lags the audio, in ms: a frame's decision describes audio that
    /// ended this long before the frame did. Subtract it from event times to place them in
    /// the audio.
    fn latency_ms(&self) -> u32;
}

/// [`EarshotVad`] thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarshotVadConfig {
    /// Probability at or above which a frame starts speech. Default 0.5 (earshot's own
    /// recommendation).
    pub onset: f32,
    /// Probability below which speech ends; between the two the previous decision holds.
    /// Default 0.35 (onset − 0.15, the hysteresis Silero's reference code uses).
    pub release: f32,
}

impl Default for EarshotVadConfig {
    fn default() -> Self {
        Self {
            onset: 0.6,
            release: 0.45,
        }
    }
}

impl EarshotVadConfig {
    /// Check the thresholds.
    ///
    /// # Errors
    /// [`VadError::Threshold`] for a value outside (0, 1) or NaN; [`VadError::Hysteresis`]
    /// if `release > onset`.
    pub fn validate(&self) -> Result<(), VadError> {
        for (name, value) in [("onset", self.onset), ("release", self.release)] {
            if !(value > 0.0 && value < 1.0) {
                return Err(VadError::Threshold { name, value });
            }
        }
        if self.release > self.onset {
            return Err(VadError::Hysteresis {
                onset: self.onset,
                release: self.release,
            });
        }
        Ok(())
    }
}

/// The `earshot` network on line audio.
///
/// Each 20 ms frame is upsampled to 16 kHz (320 samples, [`Upsampler`]) and cut into
/// earshot's 256-sample blocks; the remainder waits in a fixed buffer for the next frame.
/// 320 = 256 + 64, so every frame completes one block, and every fourth frame two (the
/// pattern repeats every 80 ms). The frame's probability is the highest block score that
/// completed in it, so a short onset is not averaged away.
///
/// **Tones**: earshot scores DTMF digits and the 450 Hz China tones as speech. A gate (nine
/// Goertzel bins on the 8 kHz frame) calls a frame a tone when two DTMF/450 Hz bins hold 85 %
/// of its energy. Tone frames, and the frames after them until the network's score has
/// decayed below `release` (at most 400 ms), are never speech (`speech = false`; the
/// probability stays the network's). So key presses and busy/dial/ringback tone neither
/// barge in nor open or prolong an utterance; speech over a tone still counts, because the
/// tone then no longer dominates the frame, and speech straight after a tone is heard at most
/// 400 ms late. The frame in which a tone starts (tone in half of
/// it) can still be called speech for that one frame; the endpointer's `min_speech_ms` ignores
/// that.
///
/// **Latency** (see [`EarshotVad::latency_ms`]): the upsampler delays audio by 1.94 ms, and
/// up to 12 ms of each frame (0, 4, 8 or 12 ms in turn) waits for the next block, so the
/// newest audio a decision has seen ended 2–14 ms before its frame did; 20 ms, one frame,
/// is the bound reported. On top of that the network needs speech to build up over a few
/// blocks before its score rises: measured on espeak-ng speech through A-law the first
/// speech decision comes 20–80 ms into a word (`tests/speech_vad_speech.rs` holds the
/// measurement); the endpointer's start rule adds its own delay after that.
///
/// The detector state is about 8 KiB and is boxed once at construction; [`Vad::process`]
/// allocates nothing.
pub struct EarshotVad {
    detector: Box<Detector>,
    up: Upsampler,
    /// Upsampled samples of a block not yet complete (the first `pending` are valid).
    block: [i16; EARSHOT_BLOCK],
    pending: usize,
    /// One frame after upsampling.
    scratch: [i16; UP_SAMPLES],
    cfg: EarshotVadConfig,
    speech: bool,
    gate: ToneGate,
}

impl core::fmt::Debug for EarshotVad {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EarshotVad")
            .field("pending", &self.pending)
            .field("cfg", &self.cfg)
            .field("speech", &self.speech)
            .finish_non_exhaustive()
    }
}

impl EarshotVad {
    /// A detector with [`EarshotVadConfig::default`].
    pub fn new() -> Self {
        Self::build(EarshotVadConfig::default())
    }

    /// A detector with explicit thresholds.
    ///
    /// # Errors
    /// As [`EarshotVadConfig::validate`].
    pub fn with_config(cfg: EarshotVadConfig) -> Result<Self, VadError> {
        cfg.validate()?;
        Ok(Self::build(cfg))
    }

    fn build(cfg: EarshotVadConfig) -> Self {
        Self {
            detector: Detector::default_boxed(),
            up: Upsampler::new(),
            block: [0; EARSHOT_BLOCK],
            pending: 0,
            scratch: [0; UP_SAMPLES],
            cfg,
            speech: false,
            gate: ToneGate::new(),
        }
    }

    /// The thresholds in use.
    pub fn config(&self) -> EarshotVadConfig {
        self.cfg
    }
}

impl Default for EarshotVad {
    fn default() -> Self {
        Self::new()
    }
}

impl Vad for EarshotVad {
    fn process(&mut self, frame: &[i16]) -> Result<VadFrame, VadError> {
        if frame.len() != FRAME_SAMPLES {
            return Err(VadError::FrameLength { got: frame.len() });
        }
        // The length is checked, so the scratch buffer always fits; map the impossible error
        // to the frame-length one rather than panicking.
        self.up
            .process(frame, &mut self.scratch)
            .map_err(|_| VadError::FrameLength { got: frame.len() })?;
        let mut best: Option<f32> = None;
        let mut rest: &[i16] = &self.scratch;
        while !rest.is_empty() {
            let take = (EARSHOT_BLOCK - self.pending).min(rest.len());
            let (head, tail) = rest.split_at(take);
            self.block[self.pending..self.pending + take].copy_from_slice(head);
            self.pending += take;
            rest = tail;
            if self.pending == EARSHOT_BLOCK {
                self.pending = 0;
                // earshot returns -1 only for a wrong block length, which cannot happen here;
                // clamp so a future change cannot leak an out-of-range probability.
                let p = self.detector.predict_i16(&self.block).clamp(0.0, 1.0);
                best = Some(best.map_or(p, |b: f32| b.max(p)));
            }
        }
        // 320 upsampled samples always complete at least one 256-sample block.
        let probability = best.unwrap_or(0.0);
        if self.gate.gated(frame, probability, self.cfg.release) {
            self.speech = false;
        } else if probability >= self.cfg.onset {
            self.speech = true;
        } else if probability < self.cfg.release {
            self.speech = false;
        }
        Ok(VadFrame {
            probability,
            speech: self.speech,
        })
    }

    fn reset(&mut self) {
        self.detector.reset();
        self.up = Upsampler::new();
        self.pending = 0;
        self.speech = false;
        self.gate.tail = None;
    }

    /// 20 ms: the upsampler's 1.94 ms group delay plus up to 12 ms of audio waiting for the
    /// next earshot block, rounded up to one frame. The network's own reaction time comes on
    /// top (see the type's docs).
    fn latency_ms(&self) -> u32 {
        const _: () = assert!(GROUP_DELAY_16K * 1000 / 16_000 + 12 <= FRAME_MS as usize);
        FRAME_MS
    }
}
