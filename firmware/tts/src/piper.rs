//! Piper `en_US-joe-medium` (VITS, 22.05 kHz) under tract: phoneme ids in, audio out.
//!
//! The graphs are the two halves `tools/models/convert_piper.py` cuts from the shipped
//! `en_US-joe-medium.onnx` (its module doc lists the rewrites and why):
//!
//! - part A, `piper_a.onnx`: ids [1,T], their count, scales and the duration noise →
//!   `m_p`, `logs_p` [1,192,T] and `durations` [1,1,T] (frames per id). Padding T up to a
//!   bucket is exact, so there is one optimised plan per bucket in [`ID_BUCKETS`].
//! - between the parts, here: column t of `m_p`/`logs_p` is repeated `durations[t]` times and
//!   the prior noise added, `z_p = m + eps * exp(logs) * noise_scale` (what the original did
//!   with a one-hot MatMul and a RandomNormalLike).
//! - part B, `piper_b.onnx`: `z_p`, `y_mask` [1,·,F] → audio [F*256]. It has only
//!   convolutions (receptive field 44 frames each way), and the converter masks the decoder,
//!   so it runs on windows of [`WINDOWS`] frames with [`CONTEXT`] frames of context on each
//!   side: two plans serve any length, and the first audio is ready after the first (short)
//!   window instead of after the whole utterance.
//!
//! Both noises come from one seeded generator ([`PiperOptions::seed`]): the same ids and
//! options always give the same samples, and the test compares them with onnxruntime on the
//! original graph fed the same noise (`tools/models/piper_golden.py` has the same
//! generator).
//!
//! The ids are taken as given: framed by the voice's convention (`^`, then each phoneme's ids
//! followed by the pad `_`, then `$`), as the English front end (`crate::en`) produces them.
//!
//! What this module must never do: panic on any input or file, call or link espeak-ng, or
//! compile a plan during a call once [`Piper::warm_up`] has run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::Deserialize;
use tract_onnx::prelude::*;
use yingda_speech::models::{Manifest, ModelError, VerifiedModel};

/// Name of the model (its directory under the models dir).
pub const MODEL_NAME: &str = "piper-joe";
/// Part A of the converted graph: ids → alignment.
pub const PART_A_FILE: &str = "piper_a.onnx";
/// Part B of the converted graph: frames → audio.
pub const PART_B_FILE: &str = "piper_b.onnx";
/// The voice's config (phoneme map, sample rate, default scales).
pub const CONFIG_FILE: &str = "en_US-joe-medium.onnx.json";
/// Audio samples per frame of part B.
pub const HOP: usize = 256;
/// Channels of `m_p`, `logs_p` and `z_p`.
const HIDDEN: usize = 192;
/// Id-count buckets of part A: a call with n ids runs the plan of the smallest bucket ≥ n.
/// Part A is a small share of a call, and every plan holds its own packed weights (~30 MB),
/// so the buckets are few and coarse (ten finer buckets measured 200 MB more resident for
/// ~10% less time).
pub const ID_BUCKETS: [usize; 4] = [64, 128, 256, 512];
/// Most ids one call takes (about 50 words); split longer text by sentence.
pub const MAX_IDS: usize = ID_BUCKETS[ID_BUCKETS.len() - 1];
/// Frames of audio each part-B plan produces per run: a short first window (0.74 s of audio)
/// so audio starts early, then long ones, each computed (~0.2 s) well before the previous
/// has played. Each size is a plan of ~35 MB.
pub const WINDOWS: [usize; 2] = [64, 256];
/// Frames of context on each side of a window. The theoretical receptive field is 44 frames
/// (flows 32, decoder 12); beyond 32 the influence is below f32 rounding (measured max
/// 1.2e-7 against the whole utterance in one run).
pub const CONTEXT: usize = 32;
/// Longest audio one call may produce (durations are predicted; absurd scales must fail, not
/// allocate gigabytes).
pub const MAX_SECONDS: usize = 60;

/// Why the voice could not be loaded or a call could not be synthesised.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PiperError {
    /// The manifest could not be read, or a file of the install is missing, has the wrong
    /// size or a wrong sha256 (the inner error names the file).
    #[error("piper-joe model not usable (run tools/models/install.py --only piper-joe): {0}")]
    Model(#[from] ModelError),
    /// The install verified, but its manifest does not list this converted file.
    #[error("{}: the manifest lists no {file}; the install predates the tract conversion (run tools/models/install.py --only piper-joe)", dir.display())]
    NotConverted {
        /// The model directory.
        dir: PathBuf,
        /// The missing converted file.
        file: &'static str,
    },
    /// The voice config is unreadable or lacks a field.
    #[error("{}: {message}", file.display())]
    Config {
        /// The config file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// tract could not read, type or optimise a graph.
    #[error("{}: tract cannot load the graph: {message}", file.display())]
    Load {
        /// The graph file.
        file: PathBuf,
        /// tract's error chain.
        message: String,
    },
    /// A graph does not take or give what the runner feeds and reads.
    #[error("{}: unexpected graph interface: {message}", file.display())]
    Interface {
        /// The graph file.
        file: PathBuf,
        /// What differs.
        message: String,
    },
    /// No ids were given (not even the `^`/`$` framing).
    #[error("no phoneme ids to synthesise")]
    Empty,
    /// An id is not in the voice's phoneme map.
    #[error(
        "phoneme id {id} at position {position} is not in the voice's map (ids 0..{map_size})"
    )]
    UnknownId {
        /// The id.
        id: i64,
        /// Its index in the input.
        position: usize,
        /// Number of ids the map covers.
        map_size: i64,
    },
    /// More ids than one call takes.
    #[error("{count} phoneme ids, at most {max} per call: split the text by sentence")]
    TooManyIds {
        /// Ids given.
        count: usize,
        /// [`MAX_IDS`].
        max: usize,
    },
    /// The predicted durations add up to more audio than [`MAX_SECONDS`].
    #[error("predicted {frames} frames ({seconds:.1} s of audio), at most {max_frames}: check length_scale or split the text")]
    TooLong {
        /// Frames predicted (saturating).
        frames: u64,
        /// Seconds that would be.
        seconds: f64,
        /// Frames allowed.
        max_frames: usize,
    },
    /// An option is not a finite number in its range.
    #[error("option {name} = {value} is out of range ({range})")]
    Option {
        /// The option.
        name: &'static str,
        /// Its value.
        value: f32,
        /// The accepted range.
        range: &'static str,
    },
    /// tract failed while running a graph.
    #[error("{part}: run failed: {message}")]
    Run {
        /// Which graph.
        part: &'static str,
        /// tract's error chain.
        message: String,
    },
}

/// Per-call synthesis settings. [`Piper::default_options`] gives the voice's own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PiperOptions {
    /// Scale of the prior noise (expressiveness), ≥ 0. Voice default 0.667.
    pub noise_scale: f32,
    /// Duration multiplier (> 1 is slower), in (0, 10]. Voice default 1.
    pub length_scale: f32,
    /// Scale of the duration noise (rhythm variation), ≥ 0. Voice default 0.8.
    pub noise_w: f32,
    /// Seed of both noises: the same ids, options and seed give the same samples.
    pub seed: u64,
}

impl PiperOptions {
    fn check(&self) -> Result<(), PiperError> {
        let bad = |name, value, range| PiperError::Option { name, value, range };
        if !(self.noise_scale.is_finite() && (0.0..=10.0).contains(&self.noise_scale)) {
            return Err(bad("noise_scale", self.noise_scale, "0 to 10"));
        }
        if !(self.length_scale.is_finite() && self.length_scale > 0.0 && self.length_scale <= 10.0)
        {
            return Err(bad(
                "length_scale",
                self.length_scale,
                "above 0, at most 10",
            ));
        }
        if !(self.noise_w.is_finite() && (0.0..=10.0).contains(&self.noise_w)) {
            return Err(bad("noise_w", self.noise_w, "0 to 10"));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct VoiceConfig {
    audio: AudioConfig,
    inference: InferenceConfig,
    phoneme_id_map: HashMap<String, Vec<i64>>,
}

#[derive(Deserialize)]
struct AudioConfig {
    sample_rate: u32,
}

#[derive(Deserialize)]
struct InferenceConfig {
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
}

/// Plans of one graph, compiled once per input length and shared by all calls.
///
/// Each plan holds its own packed copy of the weights (about 30 MB), so the caches are
/// small; once every plan is compiled ([`Piper::warm_up`]) the parsed graph is released.
#[derive(Debug)]
struct PlanCache {
    file: PathBuf,
    part: &'static str,
    model: Mutex<Option<InferenceModel>>,
    lengths: Vec<usize>,
    facts: fn(usize) -> [InferenceFact; 4],
    inputs: usize,
    plans: Vec<OnceLock<Result<Arc<TypedSimplePlan>, String>>>,
}

impl PlanCache {
    fn new(
        file: &Path,
        part: &'static str,
        lengths: &[usize],
        inputs: &[&str],
        outputs: &[&str],
        facts: fn(usize) -> [InferenceFact; 4],
    ) -> Result<Self, PiperError> {
        let model = tract_onnx::onnx()
            .model_for_path(file)
            .map_err(|e| PiperError::Load {
                file: file.to_path_buf(),
                message: format!("{e:#}"),
            })?;
        let names = |outlets: &[OutletId]| -> Vec<String> {
            outlets
                .iter()
                .map(|o| {
                    model
                        .outlet_label(*o)
                        .unwrap_or(&model.node(o.node).name)
                        .to_owned()
                })
                .collect()
        };
        let have_in = names(&model.inputs);
        let have_out = names(&model.outputs);
        if have_in != inputs || have_out != outputs {
            return Err(PiperError::Interface {
                file: file.to_path_buf(),
                message: format!(
                    "inputs {have_in:?} outputs {have_out:?}, expected {inputs:?} → {outputs:?}"
                ),
            });
        }
        Ok(Self {
            file: file.to_path_buf(),
            part,
            model: Mutex::new(Some(model)),
            lengths: lengths.to_vec(),
            facts,
            inputs: inputs.len(),
            plans: lengths.iter().map(|_| OnceLock::new()).collect(),
        })
    }

    /// The plan for `self.lengths[index]`, compiled on first use.
    fn plan(&self, index: usize) -> Result<&Arc<TypedSimplePlan>, PiperError> {
        let length = self.lengths[index];
        let compiled = self.plans[index].get_or_init(|| {
            let facts = (self.facts)(length);
            let template = self.model.lock().unwrap_or_else(PoisonError::into_inner);
            // Released only after every plan compiled, so this is unreachable.
            let mut model = template
                .as_ref()
                .ok_or("graph released before this plan was compiled")?
                .clone();
            drop(template);
            for (i, fact) in facts.into_iter().take(self.inputs).enumerate() {
                model = model
                    .with_input_fact(i, fact)
                    .map_err(|e| format!("{e:#}"))?;
            }
            model
                .into_optimized()
                .and_then(|m| m.into_runnable())
                .map_err(|e| format!("{e:#}"))
        });
        compiled.as_ref().map_err(|message| PiperError::Load {
            file: self.file.clone(),
            message: format!("{} plan for length {length}: {message}", self.part),
        })
    }

    fn compiled(&self) -> usize {
        self.plans.iter().filter(|p| p.get().is_some()).count()
    }

    /// Compiles every plan, then drops the parsed graph (its weights live on in the plans).
    fn compile_all(&self) -> Result<(), PiperError> {
        for i in 0..self.lengths.len() {
            self.plan(i)?;
        }
        *self.model.lock().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(())
    }
}

fn part_a_facts(n: usize) -> [InferenceFact; 4] {
    [
        InferenceFact::dt_shape(i64::datum_type(), tvec![1, n]),
        InferenceFact::dt_shape(i64::datum_type(), tvec![1]),
        InferenceFact::dt_shape(f32::datum_type(), tvec![3]),
        InferenceFact::dt_shape(f32::datum_type(), tvec![1, 2, n]),
    ]
}

fn part_b_facts(n: usize) -> [InferenceFact; 4] {
    [
        InferenceFact::dt_shape(f32::datum_type(), tvec![1, HIDDEN, n]),
        InferenceFact::dt_shape(f32::datum_type(), tvec![1, 1, n]),
        InferenceFact::default(),
        InferenceFact::default(),
    ]
}

/// The Piper voice: config and plan caches. `Send + Sync`; share one per process.
#[derive(Debug)]
pub struct Piper {
    sample_rate: u32,
    defaults: PiperOptions,
    map_size: i64,
    part_a: PlanCache,
    part_b: PlanCache,
}

impl Piper {
    /// Verifies the installed `piper-joe` model under `models_dir` (size and sha256 of every
    /// file, converted graphs included), then [`Piper::from_verified`].
    pub fn load(models_dir: impl AsRef<Path>) -> Result<Self, PiperError> {
        let models_dir = models_dir.as_ref();
        let manifest = Manifest::load(models_dir.join(MODEL_NAME).join("manifest.toml"))?;
        Self::from_verified(&manifest.verify(models_dir)?)
    }

    /// Reads the config and the two graphs of a verified install. Compiles nothing: call
    /// [`Piper::warm_up`] before the first call that must not wait.
    pub fn from_verified(model: &VerifiedModel) -> Result<Self, PiperError> {
        let need = |file: &'static str| {
            model
                .file(file)
                .map(Path::to_path_buf)
                .ok_or_else(|| PiperError::NotConverted {
                    dir: model.dir.clone(),
                    file,
                })
        };
        let config_path = need(CONFIG_FILE)?;
        let config_err = |message: String| PiperError::Config {
            file: config_path.clone(),
            message,
        };
        let text = std::fs::read(&config_path).map_err(|e| config_err(e.to_string()))?;
        let config: VoiceConfig =
            serde_json::from_slice(&text).map_err(|e| config_err(e.to_string()))?;
        if config.audio.sample_rate != model.sample_rate_hz {
            return Err(config_err(format!(
                "audio.sample_rate {} but the manifest says {}",
                config.audio.sample_rate, model.sample_rate_hz
            )));
        }
        let map_size = config
            .phoneme_id_map
            .values()
            .flatten()
            .copied()
            .max()
            .map_or(0, |m| m + 1);
        if map_size <= 0 {
            return Err(config_err("phoneme_id_map is empty".into()));
        }
        let defaults = PiperOptions {
            noise_scale: config.inference.noise_scale,
            length_scale: config.inference.length_scale,
            noise_w: config.inference.noise_w,
            seed: 0,
        };
        defaults
            .check()
            .map_err(|e| config_err(format!("inference defaults: {e}")))?;
        let part_a = PlanCache::new(
            &need(PART_A_FILE)?,
            "part A",
            &ID_BUCKETS,
            &["input", "input_lengths", "scales", "noise_w_eps"],
            &["m_p", "logs_p", "durations"],
            part_a_facts,
        )?;
        let sizes: Vec<usize> = WINDOWS.iter().map(|w| w + 2 * CONTEXT).collect();
        let part_b = PlanCache::new(
            &need(PART_B_FILE)?,
            "part B",
            &sizes,
            &["z_p", "y_mask"],
            &["audio"],
            part_b_facts,
        )?;
        Ok(Self {
            sample_rate: config.audio.sample_rate,
            defaults,
            map_size,
            part_a,
            part_b,
        })
    }

    /// Compiles every plan (all id buckets, all window sizes), so no call waits for one.
    /// Takes seconds; idempotent.
    pub fn warm_up(&self) -> Result<(), PiperError> {
        self.part_a.compile_all()?;
        self.part_b.compile_all()
    }

    /// Plans compiled so far (part A buckets + part B window sizes).
    pub fn compiled_plans(&self) -> usize {
        self.part_a.compiled() + self.part_b.compiled()
    }

    /// Output sample rate (22050).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Number of ids the voice's phoneme map covers; valid ids are `0..id_count()`.
    pub fn id_count(&self) -> i64 {
        self.map_size
    }

    /// The voice's own scales (from its config), seed 0.
    pub fn default_options(&self) -> PiperOptions {
        self.defaults
    }

    /// Synthesises framed phoneme ids into 22.05 kHz mono samples in [-1, 1].
    pub fn synthesize_ids(&self, ids: &[i64], opts: &PiperOptions) -> Result<Vec<f32>, PiperError> {
        let mut audio = Vec::new();
        self.synthesize_ids_with(ids, opts, |chunk| audio.extend_from_slice(chunk))?;
        Ok(audio)
    }

    /// As [`Piper::synthesize_ids`], handing the audio over window by window as soon as each
    /// is computed (the first after [`WINDOWS`]`[0]` frames). Returns the number of samples.
    pub fn synthesize_ids_with(
        &self,
        ids: &[i64],
        opts: &PiperOptions,
        mut on_audio: impl FnMut(&[f32]),
    ) -> Result<usize, PiperError> {
        self.check_ids(ids)?;
        opts.check()?;
        let mut noise = Noise::new(opts.seed);
        let a = self.run_part_a(ids, opts, &mut noise)?;
        let frames = frame_count(&a.durations)?;
        let z_p = expand(&a, frames, &mut noise, opts.noise_scale);
        let mut produced = 0;
        for (start, window) in schedule(frames) {
            let audio = self.run_part_b(&z_p, frames, start, window)?;
            let n = window.min(frames - start) * HOP;
            on_audio(&audio[CONTEXT * HOP..CONTEXT * HOP + n]);
            produced += n;
        }
        Ok(produced)
    }

    fn check_ids(&self, ids: &[i64]) -> Result<(), PiperError> {
        if ids.is_empty() {
            return Err(PiperError::Empty);
        }
        if ids.len() > MAX_IDS {
            return Err(PiperError::TooManyIds {
                count: ids.len(),
                max: MAX_IDS,
            });
        }
        if let Some((position, &id)) = ids
            .iter()
            .enumerate()
            .find(|(_, &id)| !(0..self.map_size).contains(&id))
        {
            return Err(PiperError::UnknownId {
                id,
                position,
                map_size: self.map_size,
            });
        }
        Ok(())
    }

    /// Part A at the smallest bucket that fits; returns m_p and logs_p as [192][T] rows and
    /// the T durations.
    fn run_part_a(
        &self,
        ids: &[i64],
        opts: &PiperOptions,
        noise: &mut Noise,
    ) -> Result<Alignment, PiperError> {
        let t = ids.len();
        let index = ID_BUCKETS
            .iter()
            .position(|&b| b >= t)
            .expect("checked against MAX_IDS");
        let n = ID_BUCKETS[index];
        let plan = self.part_a.plan(index)?;
        let mut input = vec![0i64; n];
        input[..t].copy_from_slice(ids);
        let eps = noise.frames(2, t);
        let mut eps_w = vec![0f32; 2 * n];
        for c in 0..2 {
            eps_w[c * n..c * n + t].copy_from_slice(&eps[c * t..(c + 1) * t]);
        }
        let run_err = |e: TractError| PiperError::Run {
            part: "part A",
            message: format!("{e:#}"),
        };
        let inputs = tvec![
            Tensor::from_shape(&[1, n], &input).map_err(run_err)?.into(),
            Tensor::from_shape(&[1], &[t as i64])
                .map_err(run_err)?
                .into(),
            Tensor::from_shape(&[3], &[opts.noise_scale, opts.length_scale, opts.noise_w])
                .map_err(run_err)?
                .into(),
            Tensor::from_shape(&[1, 2, n], &eps_w)
                .map_err(run_err)?
                .into(),
        ];
        let out = plan.run(inputs).map_err(run_err)?;
        let take = |i: usize, channels: usize| -> Result<Vec<f32>, PiperError> {
            let view = out[i].to_plain_array_view::<f32>().map_err(run_err)?;
            if view.shape() != [1, channels, n] {
                return Err(PiperError::Interface {
                    file: self.part_a.file.clone(),
                    message: format!(
                        "output {i} has shape {:?}, expected [1, {channels}, {n}]",
                        view.shape()
                    ),
                });
            }
            let mut rows = Vec::with_capacity(channels * t);
            for c in 0..channels {
                rows.extend((0..t).map(|j| view[[0, c, j]]));
            }
            Ok(rows)
        };
        Ok(Alignment {
            m_p: take(0, HIDDEN)?,
            logs_p: take(1, HIDDEN)?,
            durations: take(2, 1)?,
        })
    }

    /// Part B on frames `start - CONTEXT .. start + window + CONTEXT` of z_p (masked outside
    /// `0..frames`); returns the plan's whole output.
    fn run_part_b(
        &self,
        z_p: &[f32],
        frames: usize,
        start: usize,
        window: usize,
    ) -> Result<Vec<f32>, PiperError> {
        let index = WINDOWS
            .iter()
            .position(|&w| w == window)
            .expect("schedule picks listed windows");
        let size = window + 2 * CONTEXT;
        let plan = self.part_b.plan(index)?;
        // Window positions [lo, lo + size) in utterance frames; only 0..frames is real.
        let lo = start as isize - CONTEXT as isize;
        let first = lo.max(0) as usize;
        let last = (lo + size as isize).min(frames as isize) as usize;
        let offset = (first as isize - lo) as usize;
        let mut z = vec![0f32; HIDDEN * size];
        let mut mask = vec![0f32; size];
        for c in 0..HIDDEN {
            z[c * size + offset..c * size + offset + (last - first)]
                .copy_from_slice(&z_p[c * frames + first..c * frames + last]);
        }
        mask[offset..offset + (last - first)].fill(1.0);
        let run_err = |e: TractError| PiperError::Run {
            part: "part B",
            message: format!("{e:#}"),
        };
        let inputs = tvec![
            Tensor::from_shape(&[1, HIDDEN, size], &z)
                .map_err(run_err)?
                .into(),
            Tensor::from_shape(&[1, 1, size], &mask)
                .map_err(run_err)?
                .into(),
        ];
        let out = plan.run(inputs).map_err(run_err)?;
        let view = out[0].to_plain_array_view::<f32>().map_err(run_err)?;
        if view.len() != size * HOP {
            return Err(PiperError::Interface {
                file: self.part_b.file.clone(),
                message: format!(
                    "audio has {} samples for {size} frames, expected {}",
                    view.len(),
                    size * HOP
                ),
            });
        }
        Ok(view.iter().copied().collect())
    }
}

/// Part A's outputs for the real (unpadded) ids.
#[derive(Debug)]
struct Alignment {
    /// Prior means, [192][T] rows.
    m_p: Vec<f32>,
    /// Prior log standard deviations, [192][T] rows.
    logs_p: Vec<f32>,
    /// Frames per id (whole numbers, as f32).
    durations: Vec<f32>,
}

/// Total frames from part A's durations (at least 1, as the original's clamp).
fn frame_count(durations: &[f32]) -> Result<usize, PiperError> {
    let max_frames = MAX_SECONDS * 22050 / HOP;
    let mut total = 0u64;
    for &d in durations {
        // NaN and infinities saturate, so they fail the limit below.
        let d = if d.is_nan() {
            f32::INFINITY
        } else {
            d.max(0.0)
        };
        total = total.saturating_add(if d >= u64::MAX as f32 {
            u64::MAX
        } else {
            d as u64
        });
    }
    if total > max_frames as u64 {
        return Err(PiperError::TooLong {
            frames: total,
            seconds: total as f64 * HOP as f64 / 22050.0,
            max_frames,
        });
    }
    Ok((total as usize).max(1))
}

/// z_p as [192][frames] rows: each id's column repeated by its duration, plus the prior
/// noise in the original's order of operations, m + (eps * exp(logs)) * noise_scale.
fn expand(
    Alignment {
        m_p,
        logs_p,
        durations,
    }: &Alignment,
    frames: usize,
    noise: &mut Noise,
    noise_scale: f32,
) -> Vec<f32> {
    let t = durations.len();
    let mut column = Vec::with_capacity(frames);
    for (i, &d) in durations.iter().enumerate() {
        column.extend(std::iter::repeat_n(i, d.max(0.0) as usize));
    }
    let eps = noise.frames(HIDDEN, frames);
    let mut z = vec![0f32; HIDDEN * frames];
    for c in 0..HIDDEN {
        for (f, &i) in column.iter().enumerate() {
            let k = c * frames + f;
            z[k] = m_p[c * t + i] + (eps[k] * logs_p[c * t + i].exp()) * noise_scale;
        }
        // Frames past the durations (only when they sum to 0, clamped to 1) keep m = 0,
        // logs = 0, as the all-zero alignment gives.
        for f in column.len()..frames {
            let k = c * frames + f;
            z[k] = eps[k] * noise_scale;
        }
    }
    z
}

/// Windows (start frame, window size) covering `0..frames`: first a short one, then long
/// ones while more than two short ones' worth remains, short ones for the rest. A window of
/// w frames costs w + 2·[`CONTEXT`], so two short windows (2 × 128) are cheaper than a long
/// one (320) at the end.
fn schedule(frames: usize) -> Vec<(usize, usize)> {
    let [short, long] = WINDOWS;
    let mut out = Vec::new();
    let mut start = 0;
    while start < frames {
        let remaining = frames - start;
        let window = if out.is_empty() || remaining <= 2 * short {
            short
        } else {
            long
        };
        out.push((start, window));
        start += window;
    }
    out
}

/// Standard normal draws from a seed; the same sequence as `Noise` in
/// `tools/models/convert_piper.py`: splitmix64 words, (u1, u2) uniforms in (0, 1] from the
/// top 53 bits, Box-Muller in f64 giving r·cos then r·sin, rounded to f32.
#[derive(Debug)]
struct Noise {
    state: u64,
    spare: Option<f64>,
}

impl Noise {
    fn new(seed: u64) -> Self {
        Self {
            state: seed,
            spare: None,
        }
    }

    fn word(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        ((self.word() >> 11) as f64 + 1.0) * (1.0 / (1u64 << 53) as f64)
    }

    fn normal(&mut self) -> f32 {
        if let Some(s) = self.spare.take() {
            return s as f32;
        }
        let u1 = self.uniform();
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * theta.sin());
        (r * theta.cos()) as f32
    }

    /// `channels × frames` draws, frame-major, returned as [channels][frames] rows.
    fn frames(&mut self, channels: usize, frames: usize) -> Vec<f32> {
        let mut out = vec![0f32; channels * frames];
        for f in 0..frames {
            for c in 0..channels {
                out[c * frames + f] = self.normal();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_covers_every_frame_once_with_listed_windows() {
        for frames in 1..2000 {
            let s = schedule(frames);
            let mut next = 0;
            for &(start, window) in &s {
                assert_eq!(start, next);
                assert!(WINDOWS.contains(&window));
                next += window;
            }
            assert_eq!(s[0].1, WINDOWS[0], "audio starts after a short window");
            assert!(next >= frames && next - frames < WINDOWS[1]);
        }
        assert_eq!(schedule(10), vec![(0, 64)]);
        assert_eq!(schedule(145), vec![(0, 64), (64, 64), (128, 64)]);
        assert_eq!(schedule(454), vec![(0, 64), (64, 256), (320, 256)]);
        assert_eq!(schedule(500), vec![(0, 64), (64, 256), (320, 256)]);
        assert_eq!(schedule(330), vec![(0, 64), (64, 256), (320, 64)]);
    }

    #[test]
    fn noise_matches_the_python_generator() {
        // First draws of Noise(42).normal(4) in tools/models/convert_piper.py.
        let mut n = Noise::new(42);
        let got: Vec<f32> = (0..4).map(|_| n.normal()).collect();
        let want = [0.414_719_76, 0.652_681_23, -0.891_886_23, 1.326_833_6];
        assert_eq!(got, want);
    }

    #[test]
    fn frame_count_limits_and_clamps() {
        assert_eq!(frame_count(&[0.0, 0.0]).unwrap(), 1);
        assert_eq!(frame_count(&[3.0, 4.0]).unwrap(), 7);
        assert!(matches!(
            frame_count(&[f32::NAN]),
            Err(PiperError::TooLong { .. })
        ));
        assert!(matches!(
            frame_count(&[f32::INFINITY]),
            Err(PiperError::TooLong { .. })
        ));
        assert!(matches!(
            frame_count(&[1e9]),
            Err(PiperError::TooLong { .. })
        ));
    }
}
