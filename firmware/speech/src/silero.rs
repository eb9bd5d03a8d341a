//! Silero VAD v6 under tract on 8 kHz line audio, behind the [`Vad`] trait.
//!
//! The network is `silero_vad_8k.onnx`, which `tools/models/convert_silero.py` makes from the
//! `silero_vad.onnx` of PyPI silero-vad 6.2.3 (its 8 kHz branch, `If` nodes folded, fixed
//! shapes). It is loaded only from a verified install ([`SileroModel::load`]), so a missing,
//! truncated or altered file is an error naming the file, never something tract is given.
//!
//! [`SileroModel`] is the optimised tract plan, built once (tens of ms) and shared by every
//! call; [`SileroVad`] is one call's detector: the plan's run state, the LSTM state and the
//! re-blocking buffer.
//!
//! What this module must never do: panic on any frame or file, allocate per frame beyond the
//! tensors tract itself produces, or keep more audio than one 36 ms model window.

use std::path::{Path, PathBuf};

use tract_onnx::prelude::*;

use crate::models::{Manifest, ModelError, VerifiedModel};
use crate::vad::{EarshotVadConfig, Vad, VadError, VadFrame, FRAME_SAMPLES};

/// Name of the model (its directory under the models dir).
pub const MODEL_NAME: &str = "silero-vad";
/// The converted graph the detector runs.
pub const MODEL_FILE: &str = "silero_vad_8k.onnx";
/// Samples the network judges per run at 8 kHz (32 ms).
pub const CHUNK_SAMPLES: usize = 256;
/// Samples of the previous chunk prepended to each chunk, as silero-vad's own wrapper does
/// for v5/v6 models at 8 kHz.
pub const CONTEXT_SAMPLES: usize = 32;
/// One network input: context then chunk.
const WINDOW: usize = CONTEXT_SAMPLES + CHUNK_SAMPLES;
/// LSTM state: [h, c] × batch 1 × 128.
const STATE_SHAPE: [usize; 3] = [2, 1, 128];
/// i16 → float as silero-vad feeds the network (`int16 / 32768`).
const SCALE: f32 = 1.0 / 32768.0;

/// Why the Silero model could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SileroError {
    /// The manifest could not be read, or a file of the install is missing, has the wrong
    /// size or a wrong sha256 (the inner error names the file). Repair with
    /// `tools/models/install.py --only silero-vad`.
    #[error("silero-vad model not usable (run tools/models/install.py --only silero-vad): {0}")]
    Model(#[from] ModelError),
    /// The install verified, but its manifest lists no converted graph (conversion not done).
    #[error("{}: lists no {MODEL_FILE}; the install predates the 8 kHz conversion (run tools/models/install.py --only silero-vad)", dir.display())]
    NotConverted {
        /// The model directory.
        dir: PathBuf,
    },
    /// tract could not read, type or optimise the graph.
    #[error("{}: tract cannot load the graph: {message}", file.display())]
    Load {
        /// The graph file.
        file: PathBuf,
        /// tract's error chain.
        message: String,
    },
    /// The graph loaded but does not take and give what this detector feeds and reads
    /// (`input` [1, 288], `state` [2, 1, 128] → probability [1, 1], state [2, 1, 128]).
    #[error("{}: unexpected graph interface: {message}", file.display())]
    Interface {
        /// The graph file.
        file: PathBuf,
        /// What differs.
        message: String,
    },
    /// The thresholds are invalid.
    #[error(transparent)]
    Config(#[from] VadError),
}

/// The optimised Silero plan: build once, then [`SileroVad::new`] per call.
///
/// Cheap to clone (an `Arc`); `Send + Sync`.
#[derive(Debug, Clone)]
pub struct SileroModel {
    plan: Arc<TypedRunnableModel>,
    file: PathBuf,
}

impl SileroModel {
    /// Verifies `<models_dir>/silero-vad/` against its `manifest.toml` (every file's size and
    /// sha256, the converted graph included) and builds the plan.
    ///
    /// # Errors
    /// [`SileroError::Model`] for an unreadable manifest or a missing/wrong-size/corrupt
    /// file, [`SileroError::NotConverted`] when the manifest lists no converted graph, and
    /// [`SileroError::Load`] / [`SileroError::Interface`] as [`SileroModel::from_onnx_file`].
    pub fn load(models_dir: impl AsRef<Path>) -> Result<Self, SileroError> {
        let models_dir = models_dir.as_ref();
        let manifest = Manifest::load(models_dir.join(MODEL_NAME).join("manifest.toml"))?;
        Self::from_verified(&manifest.verify(models_dir)?)
    }

    /// Builds the plan from an install that already passed [`Manifest::verify`].
    ///
    /// # Errors
    /// [`SileroError::NotConverted`] when the verified files do not include the converted
    /// graph; otherwise as [`SileroModel::from_onnx_file`].
    pub fn from_verified(model: &VerifiedModel) -> Result<Self, SileroError> {
        let file = model
            .file(MODEL_FILE)
            .ok_or_else(|| SileroError::NotConverted {
                dir: model.dir.clone(),
            })?;
        Self::from_onnx_file(file)
    }

    /// Builds the plan from a graph file **without verifying it** (benchmarks, tests and
    /// tools; the daemon uses [`SileroModel::load`]).
    ///
    /// # Errors
    /// [`SileroError::Load`] when tract cannot read or optimise the file;
    /// [`SileroError::Interface`] when its inputs and outputs are not Silero's at 8 kHz.
    pub fn from_onnx_file(file: impl AsRef<Path>) -> Result<Self, SileroError> {
        let file = file.as_ref();
        let load = |e: TractError| SileroError::Load {
            file: file.to_path_buf(),
            message: format!("{e:#}"),
        };
        let typed = tract_onnx::onnx()
            .model_for_path(file)
            .and_then(|m| {
                m.with_input_fact(0, f32::fact([1, WINDOW]).into())?
                    .with_input_fact(1, f32::fact(STATE_SHAPE).into())?
                    .into_typed()
            })
            .map_err(load)?;
        check_interface(&typed).map_err(|message| SileroError::Interface {
            file: file.to_path_buf(),
            message,
        })?;
        let plan = typed
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(load)?;
        Ok(Self {
            plan,
            file: file.to_path_buf(),
        })
    }
}

/// Two inputs and two outputs of the shapes the detector uses, all f32.
fn check_interface(model: &TypedModel) -> Result<(), String> {
    let shape_of = |outlet: OutletId| -> Result<Vec<usize>, String> {
        let fact = model.outlet_fact(outlet).map_err(|e| format!("{e:#}"))?;
        if fact.datum_type != f32::datum_type() {
            return Err(format!("{outlet:?} is {:?}, f32 expected", fact.datum_type));
        }
        fact.shape
            .as_concrete()
            .map(<[usize]>::to_vec)
            .ok_or_else(|| format!("{outlet:?} has symbolic shape {:?}", fact.shape))
    };
    let want_in: [&[usize]; 2] = [&[1, WINDOW], &STATE_SHAPE];
    let want_out: [&[usize]; 2] = [&[1, 1], &STATE_SHAPE];
    for (what, outlets, want) in [
        ("inputs", &model.inputs, want_in),
        ("outputs", &model.outputs, want_out),
    ] {
        let got = outlets
            .iter()
            .map(|o| shape_of(*o))
            .collect::<Result<Vec<_>, _>>()?;
        if got.len() != want.len() || got.iter().zip(want).any(|(g, w)| g.as_slice() != w) {
            return Err(format!("{what} have shapes {got:?}, {want:?} expected"));
        }
    }
    Ok(())
}

/// [`SileroVad`] thresholds. Same rules as [`EarshotVadConfig`]; different defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SileroVadConfig {
    /// Probability at or above which a frame starts speech. Default 0.5 (silero-vad's
    /// `threshold`).
    pub onset: f32,
    /// Probability below which speech ends; between the two the previous decision holds.
    /// Default 0.35 (silero-vad's `neg_threshold`, onset − 0.15).
    pub release: f32,
}

impl Default for SileroVadConfig {
    fn default() -> Self {
        Self {
            onset: 0.5,
            release: 0.35,
        }
    }
}

impl SileroVadConfig {
    /// Check the thresholds (the rules of [`EarshotVadConfig::validate`]).
    ///
    /// # Errors
    /// [`VadError::Threshold`] for a value outside (0, 1) or NaN; [`VadError::Hysteresis`]
    /// if `release > onset`.
    pub fn validate(&self) -> Result<(), VadError> {
        EarshotVadConfig {
            onset: self.onset,
            release: self.release,
        }
        .validate()
    }
}

/// Silero VAD on line audio: one per call.
///
/// **Re-blocking**: the network judges 256-sample chunks (32 ms) with the last 32 samples
/// of the previous chunk in front. Line frames (160 samples) are copied into a fixed
/// 288-sample window; whenever 256 new samples are in, the network runs once and the window
/// keeps its last 32 samples as the next context. 8 frames (160 ms) make exactly 5 chunks:
/// five frames in eight complete a chunk, none completes two, and a frame that completes
/// none reports the latest chunk's probability again.
///
/// **Decisions** as [`crate::vad::EarshotVad`]'s: speech starts at `onset`, ends below
/// `release`, holds in between. **No tone gate**: unlike earshot, Silero does not score
/// DTMF digits or the 450 Hz busy/congestion/ringback tones as speech (at most 0.15 over
/// 6 s of each, against onset 0.5), nor white noise up to −30 dBm0 (at most 0.08), so
/// key presses and call-progress tones neither barge in nor open or prolong an utterance
/// (`tests/speech_vad_silero_speech.rs` holds the measurement and fails if that changes).
///
/// **Latency** ([`Vad::latency_ms`]): after a frame, 0 to 224 samples of it and the frame
/// before are still waiting for their chunk (multiples of 32 in turn, 112 on average), so
/// the newest audio a decision has seen ended 0–28 ms before the frame did; 28 ms is
/// reported. The network's own reaction to speech comes on top (see
/// `tests/speech_vad_silero_speech.rs` for measurements).
///
/// **Allocation**: the window, the input tensor and the LSTM state tensor are reused (the
/// state tensor tract returns becomes the next input without copying); per run only tract's
/// own intermediate and output tensors are allocated.
///
/// **Errors at run time**: the plan has fixed shapes and ran once at construction, so tract
/// failing later is not expected. If it does, the chunk scores 0, the network state is
/// cleared, and [`SileroVad::failures`] counts it, so the owner can switch to
/// [`crate::vad::EarshotVad`].
#[derive(Debug)]
pub struct SileroVad {
    state: TypedSimpleState,
    cfg: SileroVadConfig,
    /// Network input being filled: `CONTEXT_SAMPLES` of context, then `pending` new samples.
    window: [f32; WINDOW],
    pending: usize,
    /// Reused input tensors: [1, 288] and the LSTM state [2, 1, 128].
    input: Arc<Tensor>,
    lstm: Arc<Tensor>,
    probability: f32,
    speech: bool,
    failures: u64,
}

impl SileroVad {
    /// A detector with [`SileroVadConfig::default`].
    ///
    /// # Errors
    /// [`SileroError::Load`] if tract cannot start a run state or the first run fails.
    pub fn new(model: &SileroModel) -> Result<Self, SileroError> {
        Self::build(model, SileroVadConfig::default())
    }

    /// A detector with explicit thresholds.
    ///
    /// # Errors
    /// [`SileroError::Config`] for invalid thresholds; otherwise as [`SileroVad::new`].
    pub fn with_config(model: &SileroModel, cfg: SileroVadConfig) -> Result<Self, SileroError> {
        cfg.validate()?;
        Self::build(model, cfg)
    }

    fn build(model: &SileroModel, cfg: SileroVadConfig) -> Result<Self, SileroError> {
        let err = |e: TractError| SileroError::Load {
            file: model.file.clone(),
            message: format!("{e:#}"),
        };
        let mut vad = Self {
            state: model.plan.spawn().map_err(err)?,
            cfg,
            window: [0.0; WINDOW],
            pending: 0,
            input: Arc::new(Tensor::zero::<f32>(&[1, WINDOW]).map_err(err)?),
            lstm: Arc::new(Tensor::zero::<f32>(&STATE_SHAPE).map_err(err)?),
            probability: 0.0,
            speech: false,
            failures: 0,
        };
        // Prove the plan runs here, not on the first frame of a call.
        vad.infer().map_err(err)?;
        vad.reset();
        Ok(vad)
    }

    /// The thresholds in use.
    pub fn config(&self) -> SileroVadConfig {
        self.cfg
    }

    /// How many network runs have failed since construction (see the type's docs).
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// One network run on the window; updates the LSTM state, returns the probability.
    fn infer(&mut self) -> TractResult<f32> {
        // Unique after the previous run (tract drops its references when a run ends), so
        // make_mut does not copy.
        Arc::make_mut(&mut self.input)
            .try_as_plain_ram_mut()?
            .as_slice_mut::<f32>()?
            .copy_from_slice(&self.window);
        let mut out = self.state.run(tvec![
            TValue::from_const(Arc::clone(&self.input)),
            TValue::from_const(Arc::clone(&self.lstm)),
        ])?;
        let p = *out[0]
            .try_as_plain_ram()?
            .as_slice::<f32>()?
            .first()
            .ok_or_else(|| TractError::msg("empty probability"))?;
        let state = out
            .pop()
            .ok_or_else(|| TractError::msg("no state output"))?
            .into_arc_tensor();
        if state.shape() != STATE_SHAPE {
            return Err(TractError::msg(format!("state shape {:?}", state.shape())));
        }
        self.lstm = state;
        Ok(p.clamp(0.0, 1.0))
    }

    fn clear_network_state(&mut self) {
        if let Ok(mut view) = Arc::make_mut(&mut self.lstm).try_as_plain_ram_mut() {
            if let Ok(s) = view.as_slice_mut::<f32>() {
                s.fill(0.0);
            }
        }
    }
}

impl Vad for SileroVad {
    fn process(&mut self, frame: &[i16]) -> Result<VadFrame, VadError> {
        if frame.len() != FRAME_SAMPLES {
            return Err(VadError::FrameLength { got: frame.len() });
        }
        let mut rest = frame;
        while !rest.is_empty() {
            let take = (CHUNK_SAMPLES - self.pending).min(rest.len());
            let (head, tail) = rest.split_at(take);
            let at = CONTEXT_SAMPLES + self.pending;
            for (d, s) in self.window[at..at + take].iter_mut().zip(head) {
                *d = f32::from(*s) * SCALE;
            }
            self.pending += take;
            rest = tail;
            if self.pending == CHUNK_SAMPLES {
                self.pending = 0;
                self.probability = match self.infer() {
                    Ok(p) => p,
                    Err(_) => {
                        self.failures += 1;
                        self.clear_network_state();
                        0.0
                    }
                };
                self.window.copy_within(CHUNK_SAMPLES.., 0);
            }
        }
        let p = self.probability;
        if p >= self.cfg.onset {
            self.speech = true;
        } else if p < self.cfg.release {
            self.speech = false;
        }
        Ok(VadFrame {
            probability: p,
            speech: self.speech,
        })
    }

    fn reset(&mut self) {
        self.window = [0.0; WINDOW];
        self.pending = 0;
        self.clear_network_state();
        self.probability = 0.0;
        self.speech = false;
    }

    /// 28 ms: up to 224 samples wait for the next 256-sample chunk (see the type's docs).
    fn latency_ms(&self) -> u32 {
        const WAIT: usize = CHUNK_SAMPLES - gcd(CHUNK_SAMPLES, FRAME_SAMPLES);
        (WAIT * 1000 / yingda_dsp::RATE as usize) as u32
    }
}

const fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
