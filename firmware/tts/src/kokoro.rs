//! Kokoro-82M v1.0 under tract: phoneme symbols (misaki format) in, 24 kHz mono audio out.
//!
//! Runs the two graphs `tools/models/convert_kokoro.py` writes from the int8 ONNX export:
//! the text part (tokens, style, speed → frames per token and per-token features) and the
//! audio part (frame-rate features, style → audio). Between them this module builds the
//! alignment the original graph made with data-dependent shapes: each token's feature column
//! is repeated for as many frames as the duration predictor gave it (600 samples a frame).
//!
//! Plans. tract runs a plan compiled for a fixed length ~2.7x faster than one compiled for
//! any length, and compiling one takes ~0.5-0.7 s, so:
//! * the text part has one plan for any token count (it is ~5% of the work);
//! * the audio part has a cache of plans for a ladder of frame counts ([`BUCKETS`]). An
//!   utterance is padded up to a bucket and the padding's samples dropped. The converted
//!   graph takes the real frame count as an input and keeps the padding out of every
//!   instance norm, convolution and the backward LSTM pass, so padded and exact-length
//!   audio agree to ~55 dB SNR: bucketing costs compute, not quality. A call uses the
//!   smallest ready plan that fits and builds the ideal one in the background for next
//!   time; it compiles only when no ready plan is big enough. [`Kokoro::warm_up`] builds
//!   the common buckets ahead.
//! * utterances longer than the largest bucket, and [`Kokoro::synthesize_streaming`], are
//!   cut at pauses into segments the audio part runs one by one. A segment's pitch and
//!   energy are then normalised over that segment alone, so its audio differs from the
//!   whole-utterance synthesis (about as much as another take); the first audio comes
//!   after the first clause instead of the whole utterance.
//!
//! The runner is shared between threads (`Kokoro` is `Clone`, plans are `Arc`s tract runs
//! from any thread). Bad input — an unknown symbol, too many tokens, a missing or corrupt
//! model file — is an error naming what is wrong; nothing here panics on input, downloads,
//! or repairs files (that is `tools/models/install.py`'s job).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use tract_onnx::prelude::*;
use yingda_speech::models::{Manifest, ModelError, VerifiedModel};

/// Output sample rate.
pub const SAMPLE_RATE_HZ: u32 = 24_000;
/// Most phoneme tokens one call takes (the model's context is 512 with the two pads);
/// callers split longer text by sentence.
pub const MAX_TOKENS: usize = 510;
/// Audio samples per alignment frame.
pub const SAMPLES_PER_FRAME: usize = 600;
/// Frame counts the audio part is compiled for (40 frames a second).
pub const BUCKETS: &[usize] = &[32, 48, 64, 96, 128, 192, 256];
/// Buckets [`Kokoro::warm_up`] builds: short prompts, a sentence, a long sentence.
pub const WARM_BUCKETS: &[usize] = &[64, 128, 256];
/// Audio plans kept at once (each holds ~150-200 MB of packed weights and scratch).
pub const MAX_PLANS: usize = 4;
/// Name of the model directory under the models dir.
pub const MODEL_NAME: &str = "kokoro-82m";

const STYLE_DIM: usize = 256;
const STYLE_ROWS: usize = 510;
const PROSODY_DIM: usize = 640;
const TEXT_DIM: usize = 512;
const TEXT_GRAPH: &str = "kokoro-text.onnx";
const AUDIO_GRAPH: &str = "kokoro-audio.onnx";
const VOCAB: &str = "vocab.json";
/// Token ids after which a segment may end: , . ! ? ; : — … and quotes/brackets.
const PAUSE_TOKENS: &[i64] = &[1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15];
/// The space token: a segment may end here when a clause is too long.
const SPACE_TOKEN: i64 = 16;
/// Frames of the neighbouring segments a split segment runs with (1.2 s): with 48 the
/// band-energy distance of a split utterance to the whole one falls from 8.2 to 1.6 dB.
const CONTEXT_FRAMES: usize = 48;

/// Why Kokoro could not load or synthesise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KokoroError {
    /// The model's manifest could not be read or a file failed verification (missing,
    /// wrong size, corrupt); the message names the file.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The manifest lists no converted graph of this name: the conversion has not run.
    #[error("{}: not converted (run tools/models/install.py)", file.display())]
    NotConverted {
        /// Where the file was expected.
        file: PathBuf,
    },
    /// tract rejected a graph, or it lacks the inputs and outputs of the converter's contract.
    #[error("{}: cannot load: {message}", file.display())]
    Load {
        /// The graph file.
        file: PathBuf,
        /// tract's message or what is missing.
        message: String,
    },
    /// `vocab.json` is unreadable or not a symbol → id map.
    #[error("{}: bad vocabulary: {message}", file.display())]
    Vocab {
        /// The vocabulary file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A voice name that is not a plain file name.
    #[error("voice name {name:?} is not a plain name (letters, digits, '_')")]
    VoiceName {
        /// The name given.
        name: String,
    },
    /// A voice file is missing, unreadable or not 510×256 f32.
    #[error("{}: bad voice: {message}", file.display())]
    Voice {
        /// The voice file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The phoneme string holds a symbol the model has no token for.
    #[error("phoneme symbol {symbol:?} (U+{:04X}) at character {position} is not in the Kokoro vocabulary", *symbol as u32)]
    UnknownSymbol {
        /// The symbol.
        symbol: char,
        /// Its index among the string's characters.
        position: usize,
    },
    /// More phoneme tokens than one call takes.
    #[error("{tokens} phoneme tokens, at most {max} per call: split the text by sentence")]
    TooManyTokens {
        /// Tokens in the string.
        tokens: usize,
        /// [`MAX_TOKENS`].
        max: usize,
    },
    /// The phoneme string is empty.
    #[error("empty phoneme string")]
    Empty,
    /// The speed factor is not a finite number in 0.25..=4.
    #[error("speed {speed} is outside 0.25..=4")]
    Speed {
        /// The speed given.
        speed: f32,
    },
    /// tract failed while running a plan.
    #[error("{stage}: {message}")]
    Run {
        /// `text`, `audio` or `compile`.
        stage: &'static str,
        /// tract's message.
        message: String,
    },
}

fn run_err(stage: &'static str) -> impl Fn(TractError) -> KokoroError {
    move |e| KokoroError::Run {
        stage,
        message: format!("{e:#}"),
    }
}

/// Phoneme symbol → token id, from `vocab.json` (`{"vocab": {"a": 43, ...}}`).
#[derive(Debug, Clone)]
pub struct Vocab {
    ids: HashMap<char, i64>,
}

impl Vocab {
    /// Reads `vocab.json`.
    pub fn load(file: &Path) -> Result<Self, KokoroError> {
        let text = std::fs::read_to_string(file).map_err(|e| KokoroError::Vocab {
            file: file.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::parse(&text).map_err(|message| KokoroError::Vocab {
            file: file.to_path_buf(),
            message,
        })
    }

    /// Parses the JSON text of `vocab.json`.
    pub fn parse(json: &str) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        struct File {
            vocab: HashMap<String, i64>,
        }
        let file: File = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut ids = HashMap::with_capacity(file.vocab.len());
        for (symbol, id) in file.vocab {
            let mut chars = symbol.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                return Err(format!("symbol {symbol:?} is not one character"));
            };
            if !(1..=255).contains(&id) {
                return Err(format!("symbol {symbol:?} has id {id}, outside 1..=255"));
            }
            ids.insert(c, id);
        }
        if ids.is_empty() {
            return Err("no symbols".into());
        }
        Ok(Self { ids })
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Always false for a parsed vocabulary.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id of one symbol.
    pub fn id(&self, symbol: char) -> Option<i64> {
        self.ids.get(&symbol).copied()
    }

    /// Token ids of a phoneme string, one per character, without the pad tokens.
    pub fn encode(&self, phonemes: &str) -> Result<Vec<i64>, KokoroError> {
        let ids = phonemes
            .chars()
            .enumerate()
            .map(|(position, symbol)| {
                self.id(symbol)
                    .ok_or(KokoroError::UnknownSymbol { symbol, position })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if ids.is_empty() {
            return Err(KokoroError::Empty);
        }
        if ids.len() > MAX_TOKENS {
            return Err(KokoroError::TooManyTokens {
                tokens: ids.len(),
                max: MAX_TOKENS,
            });
        }
        Ok(ids)
    }
}

/// A voice: 510 style vectors of 256 floats, one per phoneme-token count.
#[derive(Clone)]
pub struct Voice {
    name: String,
    pack: Arc<[f32]>,
}

impl fmt::Debug for Voice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Voice").field("name", &self.name).finish()
    }
}

impl Voice {
    /// Loads `voices/<name>.bin` from a Kokoro model directory.
    pub fn load(model_dir: &Path, name: &str) -> Result<Self, KokoroError> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(KokoroError::VoiceName {
                name: name.to_owned(),
            });
        }
        let file = model_dir.join("voices").join(format!("{name}.bin"));
        let bytes = std::fs::read(&file).map_err(|e| KokoroError::Voice {
            file: file.clone(),
            message: e.to_string(),
        })?;
        Self::from_bytes(name, &bytes).map_err(|message| KokoroError::Voice { file, message })
    }

    /// A voice from the bytes of its `.bin` file (510×256 little-endian f32).
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self, String> {
        let want = STYLE_ROWS * STYLE_DIM * 4;
        if bytes.len() != want {
            return Err(format!(
                "{} bytes, expected {want} (510×256 f32)",
                bytes.len()
            ));
        }
        let pack: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(i) = pack.iter().position(|x| !x.is_finite()) {
            return Err(format!("value {i} is not finite"));
        }
        Ok(Self {
            name: name.to_owned(),
            pack: pack.into(),
        })
    }

    /// The voice's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The style vector for an utterance of `tokens` phoneme tokens: row `tokens - 1`, as
    /// hexgrad/kokoro's pipeline takes `pack[len(phonemes) - 1]` (clamped to the table).
    pub fn style(&self, tokens: usize) -> &[f32] {
        let row = tokens.clamp(1, STYLE_ROWS) - 1;
        &self.pack[row * STYLE_DIM..(row + 1) * STYLE_DIM]
    }
}

/// What the text part says about an utterance.
#[derive(Debug, Clone)]
pub struct TextOutput {
    /// Token ids fed to the model, with the pad token 0 at both ends.
    pub tokens: Vec<i64>,
    /// Frames per token (same length as `tokens`).
    pub durations: Vec<usize>,
    /// Duration-predictor features, `[640][tokens]` row-major.
    prosody: Vec<f32>,
    /// Text-encoder features, `[512][tokens]` row-major.
    text: Vec<f32>,
}

impl TextOutput {
    /// Total frames.
    pub fn frames(&self) -> usize {
        self.durations.iter().sum()
    }
}

/// One run of the audio part: tokens `start..end` of the utterance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First token.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
    /// Frames of these tokens (the audio this segment yields).
    pub frames: usize,
    /// Frames of neighbouring tokens run before and after them for context, then dropped.
    pub context: (usize, usize),
    /// Frames of the plan that ran it (context and frames, padded).
    pub bucket: usize,
}

impl Segment {
    fn whole(tokens: usize, frames: usize) -> Self {
        Self {
            start: 0,
            end: tokens,
            frames,
            context: (0, 0),
            bucket: frames,
        }
    }

    /// Frames the audio part runs on: context, own frames, context.
    pub fn window(&self) -> usize {
        self.context.0 + self.frames + self.context.1
    }
}

type Plan = Arc<TypedRunnableModel>;

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    vocab: Vocab,
    text_plan: Plan,
    audio_file: PathBuf,
    /// The audio graph decluttered with a symbolic frame count, from which bucket plans are
    /// compiled.
    audio_model: TypedModel,
    frames_symbol: Symbol,
    exact: bool,
    plans: Mutex<PlanCache>,
}

#[derive(Debug, Default)]
struct PlanCache {
    ready: HashMap<usize, Plan>,
    /// Buckets in least-recently-used order, most recent last.
    order: Vec<usize>,
    building: Vec<usize>,
}

/// The Kokoro synthesiser. Cheap to clone; every clone shares the plans.
#[derive(Debug, Clone)]
pub struct Kokoro {
    inner: Arc<Inner>,
}

fn lock(m: &Mutex<PlanCache>) -> MutexGuard<'_, PlanCache> {
    // A panic while holding the lock cannot leave the cache inconsistent (plain inserts).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn load_model(
    file: &Path,
    inputs: &[&str],
    outputs: &[&str],
) -> Result<InferenceModel, KokoroError> {
    let load = |message: String| KokoroError::Load {
        file: file.to_path_buf(),
        message,
    };
    let model = tract_onnx::onnx()
        .model_for_path(file)
        .map_err(|e| load(format!("{e:#}")))?;
    let in_names: Vec<String> = model
        .input_outlets()
        .map_err(|e| load(format!("{e:#}")))?
        .iter()
        .map(|o| model.node(o.node).name.clone())
        .collect();
    let out_names: Vec<String> = model
        .output_outlets()
        .map_err(|e| load(format!("{e:#}")))?
        .iter()
        .map(|o| {
            model
                .outlet_label(*o)
                .unwrap_or(&model.node(o.node).name)
                .to_owned()
        })
        .collect();
    if in_names != inputs || out_names != outputs {
        return Err(load(format!(
            "graph has inputs {in_names:?} and outputs {out_names:?}, expected {inputs:?} and {outputs:?}"
        )));
    }
    Ok(model)
}

impl Kokoro {
    /// Verifies the installed model under `models_dir` (size and sha256 of every file,
    /// converted graphs and voices included) and loads it.
    pub fn load(models_dir: impl AsRef<Path>) -> Result<Self, KokoroError> {
        let models_dir = models_dir.as_ref();
        let manifest = Manifest::load(models_dir.join(MODEL_NAME).join("manifest.toml"))?;
        let verified = manifest.verify(models_dir)?;
        Self::from_verified(&verified)
    }

    /// Loads a model [`Manifest::verify`] has checked.
    pub fn from_verified(model: &VerifiedModel) -> Result<Self, KokoroError> {
        let need = |name: &str| {
            model
                .file(name)
                .map(Path::to_path_buf)
                .ok_or_else(|| KokoroError::NotConverted {
                    file: model.dir.join(name),
                })
        };
        Self::from_files(
            &model.dir,
            &need(TEXT_GRAPH)?,
            &need(AUDIO_GRAPH)?,
            &need(VOCAB)?,
        )
    }

    /// Loads from explicit files without manifest checks (tests and tools). `dir` is where
    /// `voices/` is.
    pub fn from_files(
        dir: &Path,
        text: &Path,
        audio: &Path,
        vocab: &Path,
    ) -> Result<Self, KokoroError> {
        Self::build(dir, text, audio, vocab, false)
    }

    /// Like [`Kokoro::from_files`], but every utterance runs in one audio segment with a
    /// plan compiled for its exact frame count (slow: a compile per new length). For
    /// checking the runner against a reference, not for calls.
    pub fn from_files_exact(
        dir: &Path,
        text: &Path,
        audio: &Path,
        vocab: &Path,
    ) -> Result<Self, KokoroError> {
        Self::build(dir, text, audio, vocab, true)
    }

    fn build(
        dir: &Path,
        text: &Path,
        audio: &Path,
        vocab: &Path,
        exact: bool,
    ) -> Result<Self, KokoroError> {
        let vocab = Vocab::load(vocab)?;
        fn load(file: &Path) -> impl Fn(TractError) -> KokoroError + '_ {
            move |e| KokoroError::Load {
                file: file.to_path_buf(),
                message: format!("{e:#}"),
            }
        }
        let mut text_model = load_model(
            text,
            &["tokens", "style", "speed"],
            &["durations", "prosody", "text"],
        )?;
        let tokens = text_model.symbols.sym("T");
        text_model
            .set_input_fact(0, i64::fact([TDim::from(1), tokens.to_dim()]).into())
            .map_err(load(text))?;
        text_model
            .set_input_fact(1, f32::fact([1, STYLE_DIM]).into())
            .map_err(load(text))?;
        text_model
            .set_input_fact(2, f32::fact([1]).into())
            .map_err(load(text))?;
        let text_plan = text_model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(load(text))?;

        let mut audio_model = load_model(
            audio,
            &[
                "prosody_aligned",
                "text_aligned",
                "style",
                "real_frames",
                "reversed_frames",
            ],
            &["audio"],
        )?;
        let frames = audio_model.symbols.sym("F");
        for (ix, dim) in [(0, PROSODY_DIM), (1, TEXT_DIM)] {
            audio_model
                .set_input_fact(
                    ix,
                    f32::fact([TDim::from(1), TDim::from(dim), frames.to_dim()]).into(),
                )
                .map_err(load(audio))?;
        }
        audio_model
            .set_input_fact(2, f32::fact([1, STYLE_DIM]).into())
            .map_err(load(audio))?;
        audio_model
            .set_input_fact(
                3,
                f32::fact([TDim::from(1), TDim::from(1), frames.to_dim()]).into(),
            )
            .map_err(load(audio))?;
        audio_model
            .set_input_fact(4, i64::fact([frames.to_dim()]).into())
            .map_err(load(audio))?;
        let audio_model = audio_model
            .into_typed()
            .and_then(|m| m.into_decluttered())
            .map_err(load(audio))?;
        Ok(Self {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                vocab,
                text_plan,
                audio_file: audio.to_path_buf(),
                audio_model,
                frames_symbol: frames,
                exact,
                plans: Mutex::new(PlanCache::default()),
            }),
        })
    }

    /// The phoneme vocabulary.
    pub fn vocab(&self) -> &Vocab {
        &self.inner.vocab
    }

    /// Loads `voices/<name>.bin` of this model.
    pub fn voice(&self, name: &str) -> Result<Voice, KokoroError> {
        Voice::load(&self.inner.dir, name)
    }

    /// Compiles the audio plans of [`WARM_BUCKETS`] (~0.5-0.7 s each) so that no call
    /// waits for a compilation. Call once at start-up, from any thread.
    pub fn warm_up(&self) -> Result<(), KokoroError> {
        self.warm_up_buckets(WARM_BUCKETS)
    }

    /// Compiles the audio plans for these frame counts (each rounded up to a bucket).
    pub fn warm_up_buckets(&self, frames: &[usize]) -> Result<(), KokoroError> {
        for &f in frames {
            let bucket = bucket_for(f).unwrap_or(BUCKETS[BUCKETS.len() - 1]);
            self.plan(bucket)?;
        }
        Ok(())
    }

    /// Frame counts whose plans are compiled, smallest first.
    pub fn ready_buckets(&self) -> Vec<usize> {
        let mut v: Vec<usize> = lock(&self.inner.plans).ready.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Compiles (or returns the cached) audio plan for exactly `frames` frames.
    fn plan(&self, frames: usize) -> Result<Plan, KokoroError> {
        if let Some(p) = self.cached(frames) {
            return Ok(p);
        }
        let plan = compile(&self.inner, frames)?;
        let mut cache = lock(&self.inner.plans);
        insert(&mut cache, frames, plan.clone());
        Ok(plan)
    }

    fn cached(&self, frames: usize) -> Option<Plan> {
        let mut cache = lock(&self.inner.plans);
        let plan = cache.ready.get(&frames).cloned()?;
        cache.order.retain(|&b| b != frames);
        cache.order.push(frames);
        Some(plan)
    }

    /// Builds the plan for `bucket` on another thread unless it is ready or being built.
    fn build_in_background(&self, bucket: usize) {
        {
            let mut cache = lock(&self.inner.plans);
            if cache.ready.contains_key(&bucket) || cache.building.contains(&bucket) {
                return;
            }
            cache.building.push(bucket);
        }
        let inner = self.inner.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("kokoro-plan-{bucket}"))
            .spawn(move || {
                let plan = compile(&inner, bucket);
                let mut cache = lock(&inner.plans);
                cache.building.retain(|&b| b != bucket);
                if let Ok(plan) = plan {
                    insert(&mut cache, bucket, plan);
                }
            });
        if spawned.is_err() {
            lock(&self.inner.plans).building.retain(|&b| b != bucket);
        }
    }

    /// Runs the text part: token ids (pads added), durations and per-token features.
    pub fn text(
        &self,
        phonemes: &str,
        voice: &Voice,
        speed: f32,
    ) -> Result<TextOutput, KokoroError> {
        if !(speed.is_finite() && (0.25..=4.0).contains(&speed)) {
            return Err(KokoroError::Speed { speed });
        }
        let ids = self.inner.vocab.encode(phonemes)?;
        let style = voice.style(ids.len());
        let mut tokens = Vec::with_capacity(ids.len() + 2);
        tokens.push(0);
        tokens.extend_from_slice(&ids);
        tokens.push(0);
        let n = tokens.len();
        let err = run_err("text");
        let inputs = tvec!(
            Tensor::from_shape(&[1, n], &tokens).map_err(&err)?.into(),
            Tensor::from_shape(&[1, STYLE_DIM], style)
                .map_err(&err)?
                .into(),
            Tensor::from_shape(&[1], &[speed]).map_err(&err)?.into(),
        );
        let out = self.inner.text_plan.run(inputs).map_err(&err)?;
        let durations = out[0].cast_to::<i64>().map_err(&err)?;
        let durations: Vec<usize> = durations
            .to_plain_array_view::<i64>()
            .map_err(&err)?
            .iter()
            .map(|&d| d.max(0) as usize)
            .collect();
        let features = |t: &TValue, dim: usize| -> Result<Vec<f32>, KokoroError> {
            let v = t.to_plain_array_view::<f32>().map_err(&err)?;
            if v.shape() != [1, dim, n] {
                return Err(KokoroError::Run {
                    stage: "text",
                    message: format!(
                        "features of shape {:?}, expected [1, {dim}, {n}]",
                        v.shape()
                    ),
                });
            }
            Ok(v.iter().copied().collect())
        };
        let prosody = features(&out[1], PROSODY_DIM)?;
        let text = features(&out[2], TEXT_DIM)?;
        if durations.len() != n {
            return Err(KokoroError::Run {
                stage: "text",
                message: format!("{} durations for {n} tokens", durations.len()),
            });
        }
        Ok(TextOutput {
            tokens,
            durations,
            prosody,
            text,
        })
    }

    /// Synthesises a phoneme string (misaki format, at most [`MAX_TOKENS`] symbols) at
    /// `speed` (1 = the voice's own pace) as 24 kHz mono samples in about -1..1.
    pub fn synthesize(
        &self,
        phonemes: &str,
        voice: &Voice,
        speed: f32,
    ) -> Result<Vec<f32>, KokoroError> {
        let mut audio = Vec::new();
        self.synthesize_with(phonemes, voice, speed, false, |chunk| {
            audio.extend_from_slice(chunk)
        })?;
        Ok(audio)
    }

    /// Like [`Kokoro::synthesize`], but hands audio to `sink` as each segment is ready, the
    /// first segment ending at the first pause, so playback can start early. Returns the
    /// segments that ran.
    pub fn synthesize_streaming(
        &self,
        phonemes: &str,
        voice: &Voice,
        speed: f32,
        sink: impl FnMut(&[f32]),
    ) -> Result<Vec<Segment>, KokoroError> {
        self.synthesize_with(phonemes, voice, speed, true, sink)
    }

    fn synthesize_with(
        &self,
        phonemes: &str,
        voice: &Voice,
        speed: f32,
        first_short: bool,
        mut sink: impl FnMut(&[f32]),
    ) -> Result<Vec<Segment>, KokoroError> {
        let text = self.text(phonemes, voice, speed)?;
        let style = voice.style(text.tokens.len() - 2);
        let segments = self.schedule(&text, first_short)?;
        for seg in &segments {
            let audio = self.run_segment(&text, style, *seg)?;
            sink(&audio);
        }
        Ok(segments)
    }

    /// Cuts the utterance into segments (one, unless streaming or longer than the largest
    /// bucket) and picks a plan for each.
    fn schedule(&self, text: &TextOutput, streaming: bool) -> Result<Vec<Segment>, KokoroError> {
        let total = text.frames();
        if self.inner.exact {
            return Ok(vec![Segment::whole(text.tokens.len(), total)]);
        }
        let largest = BUCKETS[BUCKETS.len() - 1];
        let mut segments = if streaming || total > largest {
            let mut segments = split(
                &text.tokens,
                &text.durations,
                largest - 2 * CONTEXT_FRAMES,
                streaming,
            );
            let mut before = 0;
            for seg in &mut segments {
                seg.context = (
                    before.min(CONTEXT_FRAMES),
                    (total - before - seg.frames).min(CONTEXT_FRAMES),
                );
                before += seg.frames;
            }
            segments
        } else {
            vec![Segment::whole(text.tokens.len(), total)]
        };
        for seg in &mut segments {
            seg.bucket = self.pick_bucket(seg.window())?;
        }
        Ok(segments)
    }

    /// The smallest ready plan that holds `frames` (building the ideal one in the background
    /// when it is bigger than needed); compiles only when no ready plan is big enough.
    fn pick_bucket(&self, frames: usize) -> Result<usize, KokoroError> {
        // A single token longer than every bucket (speed far below 1) gets its own size.
        let ideal = bucket_for(frames).unwrap_or_else(|| frames.div_ceil(32) * 32);
        let ready = self.ready_buckets().into_iter().find(|&b| b >= frames);
        match ready {
            Some(b) => {
                if b != ideal {
                    self.build_in_background(ideal);
                }
                Ok(b)
            }
            None => {
                self.plan(ideal)?;
                Ok(ideal)
            }
        }
    }

    fn run_segment(
        &self,
        text: &TextOutput,
        style: &[f32],
        seg: Segment,
    ) -> Result<Vec<f32>, KokoroError> {
        let plan = self.plan(seg.bucket)?;
        let n = text.tokens.len();
        // Frame -> token index over the window: token t repeated durations[t] times, from
        // `context.0` frames before the segment to `context.1` after; padding up to the
        // bucket repeats the last token (the graph masks it out anyway).
        let first_frame: usize = text.durations[..seg.start].iter().sum::<usize>() - seg.context.0;
        let mut index: Vec<usize> = text
            .durations
            .iter()
            .enumerate()
            .flat_map(|(t, &d)| std::iter::repeat_n(t, d))
            .skip(first_frame)
            .take(seg.window())
            .collect();
        let last = index.last().copied().unwrap_or(n - 1);
        index.resize(seg.bucket, last);
        let expand = |features: &[f32], dim: usize| -> Vec<f32> {
            let mut out = Vec::with_capacity(dim * index.len());
            for row in features.chunks_exact(n).take(dim) {
                out.extend(index.iter().map(|&t| row[t]));
            }
            out
        };
        let err = run_err("audio");
        let f = seg.bucket;
        // The graph keeps the padding out of its norms, convolutions and backward LSTM:
        // which frames are real, and the real ones in reverse order then the padding.
        let w = seg.window();
        let real: Vec<f32> = (0..f).map(|i| if i < w { 1.0 } else { 0.0 }).collect();
        let reversed: Vec<i64> = (0..w).rev().chain(w..f).map(|i| i as i64).collect();
        let inputs = tvec!(
            Tensor::from_shape(&[1, PROSODY_DIM, f], &expand(&text.prosody, PROSODY_DIM))
                .map_err(&err)?
                .into(),
            Tensor::from_shape(&[1, TEXT_DIM, f], &expand(&text.text, TEXT_DIM))
                .map_err(&err)?
                .into(),
            Tensor::from_shape(&[1, STYLE_DIM], style)
                .map_err(&err)?
                .into(),
            Tensor::from_shape(&[1, 1, f], &real).map_err(&err)?.into(),
            Tensor::from_shape(&[f], &reversed).map_err(&err)?.into(),
        );
        let out = plan.run(inputs).map_err(&err)?;
        let audio = out[0].to_plain_array_view::<f32>().map_err(&err)?;
        let skip = seg.context.0 * SAMPLES_PER_FRAME;
        let keep = seg.frames * SAMPLES_PER_FRAME;
        if audio.len() < skip + keep {
            return Err(KokoroError::Run {
                stage: "audio",
                message: format!("{} samples for {} frames", audio.len(), seg.window()),
            });
        }
        Ok(audio.iter().skip(skip).take(keep).copied().collect())
    }
}

fn compile(inner: &Inner, frames: usize) -> Result<Plan, KokoroError> {
    let subs = HashMap::from([(inner.frames_symbol.clone(), TDim::Val(frames as i64))]);
    inner
        .audio_model
        .set_symbols(&subs)
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(|e| KokoroError::Load {
            file: inner.audio_file.clone(),
            message: format!("compiling for {frames} frames: {e:#}"),
        })
}

fn insert(cache: &mut PlanCache, frames: usize, plan: Plan) {
    cache.ready.insert(frames, plan);
    cache.order.retain(|&b| b != frames);
    cache.order.push(frames);
    while cache.order.len() > MAX_PLANS {
        let evict = cache.order.remove(0);
        cache.ready.remove(&evict);
    }
}

/// The smallest bucket holding `frames`, if any does.
pub fn bucket_for(frames: usize) -> Option<usize> {
    BUCKETS.iter().copied().find(|&b| b >= frames)
}

/// Cuts tokens into segments of at most `max_frames` frames, ending after a pause token
/// where possible, else after a space, else anywhere. With `first_short` the first segment
/// ends at the first pause (early audio); the rest are packed as long as they fit.
/// Segment buckets are left equal to their frames.
pub fn split(
    tokens: &[i64],
    durations: &[usize],
    max_frames: usize,
    first_short: bool,
) -> Vec<Segment> {
    let max_frames = max_frames.max(1);
    let n = tokens.len().min(durations.len());
    let mut segments = Vec::new();
    let mut start = 0;
    while start < n {
        let mut frames = 0;
        let mut end = start;
        let mut pause_cut = None;
        let mut previous_pause = None;
        let mut space_cut = None;
        while end < n && (end == start || frames + durations[end] <= max_frames) {
            frames += durations[end];
            end += 1;
            if PAUSE_TOKENS.contains(&tokens[end - 1]) {
                previous_pause = pause_cut;
                pause_cut = Some((end, frames));
                if first_short && segments.is_empty() && end + 1 < n {
                    break;
                }
            } else if tokens[end - 1] == SPACE_TOKEN {
                space_cut = Some((end, frames));
            }
        }
        if end < n {
            if let Some((e, f)) = pause_cut.or(space_cut) {
                end = e;
                frames = f;
            }
            // Cutting right before the final pad token would leave it (silence) to run alone.
            if end == n - 1 {
                if let Some((e, f)) = [space_cut, previous_pause]
                    .into_iter()
                    .flatten()
                    .filter(|&(e, _)| e < end)
                    .max()
                {
                    end = e;
                    frames = f;
                }
            }
        }
        // The final pad token joins the last segment when it fits.
        if n - end == 1 && frames + durations[end] <= max_frames {
            frames += durations[end];
            end += 1;
        }
        segments.push(Segment {
            start,
            end,
            frames,
            context: (0, 0),
            bucket: frames,
        });
        start = end;
    }
    segments
}
