//! Whisper base under tract: encoder on the trimmed utterance, decoder with a key/value
//! cache, greedy decoding with guards, and batched scoring of candidate transcripts.
//!
//! The graphs are the ones `tools/models/convert_whisper.py` writes (see its contract):
//! `encoder.onnx` maps a `[1, 80, T]` log-mel to per-layer cross-attention keys and values
//! `[6, 1, T/2, 512]`; `decoder.onnx` maps `tokens [B, N]`, `offset`, the self-attention
//! cache `[6, B, P, 512]` and the cross keys/values `[6, 1|B, S, 512]` to logits
//! `[B, N, 51865]` and the grown cache. Plans are compiled once at load with symbolic
//! lengths, so no call waits on compilation.
//!
//! This module never panics on audio or text, and holds no audio beyond one call.

pub mod recognizer;
pub mod tokenizer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::mel::LogMel;
use crate::models::{Manifest, ModelError};
pub use tokenizer::{Tokenizer, TokenizerError};

/// Layers, model width and vocabulary of Whisper base.
pub const LAYERS: usize = 6;
/// Model width.
pub const D_MODEL: usize = 512;
/// Vocabulary size (text, special and timestamp tokens).
pub const VOCAB: usize = 51865;
/// Longest token sequence the decoder's position table covers.
pub const MAX_POSITIONS: usize = 448;
/// Longest mel input (30 s).
pub const MAX_FRAMES: usize = 3000;

/// Why Whisper could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WhisperError {
    /// A model file is missing, truncated or corrupt (the message names it).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// No `whisper-base/manifest.toml` under the models directory.
    #[error("whisper-base is not installed in {} (no manifest.toml): run tools/models/install.py", dir.display())]
    NotInstalled {
        /// The models directory searched.
        dir: PathBuf,
    },
    /// The manifest verified but lacks a file the runtime needs (conversion not done).
    #[error("{}: missing; run tools/models/install.py to install and convert whisper-base", file.display())]
    NotConverted {
        /// The file expected.
        file: PathBuf,
    },
    /// The tokenizer could not be read.
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    /// tract rejected a graph at load.
    #[error("{}: cannot load: {message}", file.display())]
    Load {
        /// The graph file.
        file: PathBuf,
        /// tract's message.
        message: String,
    },
    /// A graph does not have the inputs/outputs of the converter's contract.
    #[error("{}: {message}", file.display())]
    Contract {
        /// The graph file.
        file: PathBuf,
        /// What differs.
        message: String,
    },
    /// Inference failed (shape mismatch, allocation).
    #[error("whisper {stage}: {message}")]
    Run {
        /// `encoder` or `decoder`.
        stage: &'static str,
        /// tract's message.
        message: String,
    },
    /// The utterance is too short or too long for the encoder.
    #[error("utterance of {frames} mel frames; the encoder takes 2..={max}")]
    Length {
        /// Frames given.
        frames: usize,
        /// Most frames.
        max: usize,
    },
    /// A token sequence does not fit the decoder's 448 positions.
    #[error("{tokens} tokens exceed the decoder's {max} positions")]
    TooManyTokens {
        /// Tokens needed.
        tokens: usize,
        /// Positions available.
        max: usize,
    },
}

fn run_err(stage: &'static str) -> impl Fn(TractError) -> WhisperError {
    move |e| WhisperError::Run {
        stage,
        message: format!("{e:#}"),
    }
}

/// Ids of Whisper's special tokens, looked up by name in the tokenizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Specials {
    /// `<|endoftext|>`.
    pub eot: u32,
    /// `<|startoftranscript|>`.
    pub sot: u32,
    /// `<|startofprev|>`: text before it conditions the decoder (our Simplified prompt).
    pub prev: u32,
    /// `<|transcribe|>`.
    pub transcribe: u32,
    /// `<|notimestamps|>`.
    pub no_timestamps: u32,
    /// `<|nocaptions|>` / `<|nospeech|>`: its probability after `sot` says "no speech".
    pub no_speech: u32,
    /// `<|zh|>`.
    pub zh: u32,
    /// `<|en|>`.
    pub en: u32,
    /// First timestamp token; it and everything above are suppressed.
    pub timestamp_begin: u32,
}

/// A language the recogniser is asked for or found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Mandarin, written in Simplified characters.
    Zh,
    /// English.
    En,
}

impl Lang {
    /// `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

/// Text put before `<|startoftranscript|>` so that Mandarin comes out in Simplified
/// characters (without it Whisper often writes Traditional ones).
pub const SIMPLIFIED_PROMPT: &str = "以下是普通话的句子。";

/// Limits of one greedy decode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeOptions {
    /// Hard cap on generated tokens.
    pub max_tokens: usize,
    /// Stop when the last `n`-gram (2 ≤ n ≤ this) has just been produced this many times in
    /// a row; the repeats are cut.
    pub max_repeats: usize,
    /// Longest n-gram the repetition guard looks at.
    pub max_ngram: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            max_tokens: 96,
            max_repeats: 3,
            max_ngram: 48,
        }
    }
}

/// The encoder's output for one utterance; decoding and scoring reuse it.
#[derive(Debug, Clone)]
pub struct Encoded {
    cross_k: TValue,
    cross_v: TValue,
    /// Mel frames encoded.
    pub frames: usize,
}

impl Encoded {
    /// The cross-attention keys, `[6, 1, frames/2, 512]` row-major.
    pub fn cross_k(&self) -> Result<&[f32], WhisperError> {
        f32s(&self.cross_k)
    }

    /// The cross-attention values, `[6, 1, frames/2, 512]` row-major.
    pub fn cross_v(&self) -> Result<&[f32], WhisperError> {
        f32s(&self.cross_v)
    }
}

/// Result of a greedy decode.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Generated text tokens (no prompt, no end token, repeats cut).
    pub tokens: Vec<u32>,
    /// Their text.
    pub text: String,
    /// Mean log-probability of the generated tokens and the end token.
    pub avg_logprob: f32,
    /// Probability of "no speech" at the start of the transcript.
    pub no_speech_prob: f32,
    /// Why decoding stopped.
    pub stop: Stop,
}

/// Why a greedy decode ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The model produced the end token.
    End,
    /// [`DecodeOptions::max_tokens`] reached.
    TokenCap,
    /// The repetition guard fired.
    Repetition,
}

/// The self-attention cache of a decoder state.
#[derive(Debug, Clone)]
struct Cache {
    k: TValue,
    v: TValue,
    len: usize,
}

/// Whisper base: compiled encoder and decoder plans plus the tokenizer.
#[derive(Debug)]
pub struct Whisper {
    encoder: Arc<TypedSimplePlan>,
    decoder: Arc<TypedSimplePlan>,
    /// Decoder input positions in the graph for: tokens, offset, self_k, self_v, cross_k,
    /// cross_v.
    dec_in: [usize; 6],
    /// Decoder output positions for: logits, self_k_out, self_v_out.
    dec_out: [usize; 3],
    /// Encoder output positions for: cross_k, cross_v.
    enc_out: [usize; 2],
    tokenizer: Tokenizer,
    specials: Specials,
    /// Suppressed at every step (from config.json `suppress_ids`).
    suppress: Vec<u32>,
    /// Suppressed at the first step only (`suppress_ids_begin`: blank and end).
    suppress_begin: Vec<u32>,
    /// Tokens of [`SIMPLIFIED_PROMPT`].
    simplified: Vec<u32>,
}

fn io_positions(
    names: &[String],
    wanted: &[&str],
    file: &Path,
    what: &str,
) -> Result<Vec<usize>, WhisperError> {
    wanted
        .iter()
        .map(|w| {
            names
                .iter()
                .position(|n| n == w)
                .ok_or_else(|| WhisperError::Contract {
                    file: file.to_path_buf(),
                    message: format!("no {what} named `{w}` (has {names:?})"),
                })
        })
        .collect()
}

/// A compiled plan with the positions of the named inputs and outputs.
type LoadedPlan = (Arc<TypedSimplePlan>, Vec<usize>, Vec<usize>);

fn load_plan(
    file: &Path,
    inputs: &[&str],
    outputs: &[&str],
    one_utterance: &[&str],
) -> Result<LoadedPlan, WhisperError> {
    let load = |e: TractError| WhisperError::Load {
        file: file.to_path_buf(),
        message: format!("{e:#}"),
    };
    let mut model = tract_onnx::onnx().model_for_path(file).map_err(load)?;
    // The cross-attention inputs carry one utterance, broadcast over the batch: fixing their
    // batch dimension to 1 spares tract unifying `B` with `broadcast(B, C)`, which it cannot.
    let names: Vec<String> = model
        .input_outlets()
        .map_err(load)?
        .iter()
        .map(|o| model.node(o.node).name.clone())
        .collect();
    let s = model.sym("S");
    for name in one_utterance {
        let Some(i) = names.iter().position(|n| n == name) else {
            continue;
        };
        let shape: TVec<TDim> = tvec![
            (LAYERS as i64).to_dim(),
            1.to_dim(),
            s.to_dim(),
            (D_MODEL as i64).to_dim()
        ];
        model
            .set_input_fact(i, f32::fact(shape).into())
            .map_err(load)?;
    }
    let typed = model.into_optimized().map_err(load)?;
    let in_names: Vec<String> = typed
        .input_outlets()
        .map_err(load)?
        .iter()
        .map(|o| typed.node(o.node).name.clone())
        .collect();
    let out_names: Vec<String> = typed
        .output_outlets()
        .map_err(load)?
        .iter()
        .map(|o| {
            typed
                .outlet_label(*o)
                .unwrap_or(&typed.node(o.node).name)
                .to_owned()
        })
        .collect();
    let ins = io_positions(&in_names, inputs, file, "input")?;
    let outs = io_positions(&out_names, outputs, file, "output")?;
    let plan = typed.into_runnable().map_err(load)?;
    Ok((plan, ins, outs))
}

#[derive(serde::Deserialize)]
struct Config {
    #[serde(default)]
    suppress_ids: Vec<u32>,
    #[serde(default)]
    suppress_ids_begin: Vec<u32>,
}

impl Whisper {
    /// Verifies the installed `whisper-base` model under `models_dir` (sha256 of every file,
    /// converted graphs included) and compiles its plans.
    pub fn load(models_dir: impl AsRef<Path>) -> Result<Self, WhisperError> {
        let models_dir = models_dir.as_ref();
        let manifest_path = models_dir.join("whisper-base").join("manifest.toml");
        if !manifest_path.exists() {
            return Err(WhisperError::NotInstalled {
                dir: models_dir.to_path_buf(),
            });
        }
        let manifest = Manifest::load(manifest_path)?;
        let verified = manifest.verify(models_dir)?;
        let need = |name: &str| {
            verified
                .file(name)
                .map(Path::to_path_buf)
                .ok_or_else(|| WhisperError::NotConverted {
                    file: verified.dir.join(name),
                })
        };
        Self::from_files(
            &need("encoder.onnx")?,
            &need("decoder.onnx")?,
            &need("tokenizer.json")?,
            &need("config.json")?,
        )
    }

    /// Loads from explicit paths, without manifest checks (tools and tests of variants).
    pub fn from_files(
        encoder: &Path,
        decoder: &Path,
        tokenizer: &Path,
        config: &Path,
    ) -> Result<Self, WhisperError> {
        let tokenizer = Tokenizer::load(tokenizer)?;
        let special = |name: &str| {
            tokenizer
                .special(name)
                .ok_or_else(|| WhisperError::Contract {
                    file: PathBuf::from("tokenizer.json"),
                    message: format!("no special token {name}"),
                })
        };
        let no_speech = tokenizer
            .special("<|nospeech|>")
            .or_else(|| tokenizer.special("<|nocaptions|>"))
            .ok_or_else(|| WhisperError::Contract {
                file: PathBuf::from("tokenizer.json"),
                message: "no <|nospeech|> or <|nocaptions|> token".into(),
            })?;
        let no_timestamps = special("<|notimestamps|>")?;
        let specials = Specials {
            eot: special("<|endoftext|>")?,
            sot: special("<|startoftranscript|>")?,
            prev: special("<|startofprev|>")?,
            transcribe: special("<|transcribe|>")?,
            no_timestamps,
            no_speech,
            zh: special("<|zh|>")?,
            en: special("<|en|>")?,
            timestamp_begin: no_timestamps + 1,
        };
        let config_text = std::fs::read(config).map_err(|e| {
            WhisperError::Model(ModelError::Io {
                file: config.to_path_buf(),
                source: e,
            })
        })?;
        let cfg: Config =
            serde_json::from_slice(&config_text).map_err(|e| WhisperError::Contract {
                file: config.to_path_buf(),
                message: e.to_string(),
            })?;
        let (encoder, _, enc_out) = load_plan(encoder, &["mel"], &["cross_k", "cross_v"], &[])?;
        let (decoder, dec_in, dec_out) = load_plan(
            decoder,
            &["tokens", "offset", "self_k", "self_v", "cross_k", "cross_v"],
            &["logits", "self_k_out", "self_v_out"],
            &["cross_k", "cross_v"],
        )?;
        let simplified = tokenizer.encode(SIMPLIFIED_PROMPT);
        Ok(Self {
            encoder,
            decoder,
            dec_in: [
                dec_in[0], dec_in[1], dec_in[2], dec_in[3], dec_in[4], dec_in[5],
            ],
            dec_out: [dec_out[0], dec_out[1], dec_out[2]],
            enc_out: [enc_out[0], enc_out[1]],
            tokenizer,
            specials,
            suppress: cfg.suppress_ids,
            suppress_begin: cfg.suppress_ids_begin,
            simplified,
        })
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Special token ids.
    pub fn specials(&self) -> &Specials {
        &self.specials
    }

    /// The decoder prompt for transcribing `lang` without timestamps; Mandarin gets the
    /// Simplified-Chinese text prompt first.
    pub fn prompt(&self, lang: Lang) -> Vec<u32> {
        let s = &self.specials;
        let mut p = Vec::with_capacity(self.simplified.len() + 5);
        if lang == Lang::Zh {
            p.push(s.prev);
            p.extend_from_slice(&self.simplified);
        }
        let lang_token = match lang {
            Lang::Zh => s.zh,
            Lang::En => s.en,
        };
        p.extend_from_slice(&[s.sot, lang_token, s.transcribe, s.no_timestamps]);
        p
    }

    /// Runs the encoder on a log-mel spectrogram. An odd frame count drops the last frame.
    pub fn encode(&self, mel: &LogMel) -> Result<Encoded, WhisperError> {
        let frames = mel.frames().min(MAX_FRAMES) & !1;
        if frames < 2 || mel.frames() > MAX_FRAMES {
            return Err(WhisperError::Length {
                frames: mel.frames(),
                max: MAX_FRAMES,
            });
        }
        let mut data = Vec::with_capacity(80 * frames);
        for band in 0..80 {
            let row = mel.band(band).unwrap_or(&[]);
            data.extend_from_slice(&row[..frames.min(row.len())]);
        }
        let input = Tensor::from_shape(&[1, 80, frames], &data).map_err(run_err("encoder"))?;
        let mut out = self
            .encoder
            .run(tvec!(input.into()))
            .map_err(run_err("encoder"))?;
        let cross_v = out.swap_remove(self.enc_out[1].max(self.enc_out[0]));
        let cross_k = out.swap_remove(self.enc_out[1].min(self.enc_out[0]));
        let (cross_k, cross_v) = if self.enc_out[0] < self.enc_out[1] {
            (cross_k, cross_v)
        } else {
            (cross_v, cross_k)
        };
        Ok(Encoded {
            cross_k,
            cross_v,
            frames,
        })
    }

    fn empty_cache(batch: usize) -> Result<Cache, WhisperError> {
        let zero = Tensor::zero::<f32>(&[LAYERS, batch, 0, D_MODEL]).map_err(run_err("decoder"))?;
        Ok(Cache {
            k: zero.clone().into(),
            v: zero.into(),
            len: 0,
        })
    }

    /// One decoder pass: `tokens` is `[batch, n]` row-major. Returns logits `[batch, n, V]`
    /// and the grown cache.
    fn step(
        &self,
        enc: &Encoded,
        tokens: &[i64],
        batch: usize,
        cache: &Cache,
    ) -> Result<(Tensor, Cache), WhisperError> {
        let n = tokens.len() / batch.max(1);
        if cache.len + n > MAX_POSITIONS {
            return Err(WhisperError::TooManyTokens {
                tokens: cache.len + n,
                max: MAX_POSITIONS,
            });
        }
        let toks = Tensor::from_shape(&[batch, n], tokens).map_err(run_err("decoder"))?;
        let offset = tensor0(cache.len as i64);
        let mut inputs: TVec<Option<TValue>> = tvec![None, None, None, None, None, None];
        inputs[self.dec_in[0]] = Some(toks.into());
        inputs[self.dec_in[1]] = Some(offset.into());
        inputs[self.dec_in[2]] = Some(cache.k.clone());
        inputs[self.dec_in[3]] = Some(cache.v.clone());
        inputs[self.dec_in[4]] = Some(enc.cross_k.clone());
        inputs[self.dec_in[5]] = Some(enc.cross_v.clone());
        let inputs = inputs.into_iter().flatten().collect();
        let out = self.decoder.run(inputs).map_err(run_err("decoder"))?;
        let logits = out[self.dec_out[0]].clone().into_tensor();
        let cache = Cache {
            k: out[self.dec_out[1]].clone(),
            v: out[self.dec_out[2]].clone(),
            len: cache.len + n,
        };
        Ok((logits, cache))
    }

    /// Raw logits (no suppression) for the token after `prompt`.
    pub fn next_logits(&self, enc: &Encoded, prompt: &[u32]) -> Result<Vec<f32>, WhisperError> {
        let p: Vec<i64> = prompt.iter().map(|&t| i64::from(t)).collect();
        let (logits, _) = self.step(enc, &p, 1, &Self::empty_cache(1)?)?;
        let rows = f32s(&logits)?;
        Ok(rows[rows.len() - VOCAB..].to_vec())
    }

    /// Greedy decoding after `prompt` (e.g. [`Self::prompt`]), with Whisper's token
    /// suppression, a token cap and a repetition guard.
    pub fn decode_greedy(
        &self,
        enc: &Encoded,
        prompt: &[u32],
        opts: &DecodeOptions,
    ) -> Result<Decoded, WhisperError> {
        self.decode_greedy_within(enc, prompt, opts, None)
    }

    /// [`Self::decode_greedy`] restricted to the text tokens `allowed` marks (indexed by
    /// token id; ids past its end are not allowed); the end token is always allowed.
    pub fn decode_greedy_within(
        &self,
        enc: &Encoded,
        prompt: &[u32],
        opts: &DecodeOptions,
        allowed: Option<&[bool]>,
    ) -> Result<Decoded, WhisperError> {
        let s = self.specials;
        let sot_at = prompt.iter().position(|&t| t == s.sot);
        let prompt_i64: Vec<i64> = prompt.iter().map(|&t| i64::from(t)).collect();
        let (logits, mut cache) = self.step(enc, &prompt_i64, 1, &Self::empty_cache(1)?)?;
        let rows = f32s(&logits)?;
        let no_speech_prob = match sot_at {
            Some(i) => softmax_prob(&rows[i * VOCAB..(i + 1) * VOCAB], s.no_speech as usize),
            None => 0.0,
        };
        let mut last = rows[(prompt.len() - 1) * VOCAB..prompt.len() * VOCAB].to_vec();
        let mut tokens: Vec<u32> = Vec::new();
        let mut logprob_sum = 0.0f64;
        let mut stop = Stop::TokenCap;
        let budget = opts.max_tokens.min(MAX_POSITIONS - prompt.len());
        for step in 0..=budget {
            self.suppress_in(&mut last, step == 0);
            if let Some(allowed) = allowed {
                for (t, x) in last.iter_mut().enumerate().take(s.eot as usize) {
                    if !allowed.get(t).copied().unwrap_or(false) {
                        *x = f32::NEG_INFINITY;
                    }
                }
            }
            let (next, lp) = argmax_logprob(&last);
            logprob_sum += f64::from(lp);
            if next as u32 == s.eot {
                stop = Stop::End;
                break;
            }
            if step == budget {
                break;
            }
            tokens.push(next as u32);
            if let Some(cut) = repetition(&tokens, opts) {
                tokens.truncate(cut);
                stop = Stop::Repetition;
                break;
            }
            let (logits, grown) = self.step(enc, &[next as i64], 1, &cache)?;
            cache = grown;
            last = f32s(&logits)?.to_vec();
        }
        let n = tokens.len() + usize::from(stop == Stop::End);
        Ok(Decoded {
            text: self.tokenizer.decode(&tokens),
            tokens,
            avg_logprob: (logprob_sum / n.max(1) as f64) as f32,
            no_speech_prob,
            stop,
        })
    }

    fn suppress_in(&self, logits: &mut [f32], first: bool) {
        let s = self.specials;
        for t in self
            .suppress
            .iter()
            .chain(if first { &self.suppress_begin[..] } else { &[] })
        {
            if let Some(x) = logits.get_mut(*t as usize) {
                *x = f32::NEG_INFINITY;
            }
        }
        // Special tokens (except the end token) and timestamps never appear in text.
        for x in logits.iter_mut().skip(s.eot as usize + 1) {
            *x = f32::NEG_INFINITY;
        }
    }

    /// Log-probability of each candidate continuation (its tokens, then the end token)
    /// after `prompt`, scored in one batched decoder pass on top of the prompt's cache.
    /// Candidates may differ in length; each score is the sum over its own tokens.
    pub fn score(
        &self,
        enc: &Encoded,
        prompt: &[u32],
        candidates: &[Vec<u32>],
    ) -> Result<Vec<f32>, WhisperError> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let b = candidates.len();
        let prompt_i64: Vec<i64> = prompt.iter().map(|&t| i64::from(t)).collect();
        let (logits, cache) = self.step(enc, &prompt_i64, 1, &Self::empty_cache(1)?)?;
        let rows = f32s(&logits)?;
        let first = &rows[(prompt.len() - 1) * VOCAB..prompt.len() * VOCAB];
        let first_norm = log_sum_exp(first);
        // Each candidate's sequence is its tokens + eot; the decoder sees all but the last
        // (the first token is predicted by the prompt's final row).
        let seqs: Vec<Vec<u32>> = candidates
            .iter()
            .map(|c| c.iter().copied().chain([self.specials.eot]).collect())
            .collect();
        let n = seqs.iter().map(|s| s.len() - 1).max().unwrap_or(0);
        let mut scores: Vec<f64> = seqs
            .iter()
            .map(|s| f64::from(first[s[0] as usize] - first_norm))
            .collect();
        if n == 0 {
            return Ok(scores.into_iter().map(|x| x as f32).collect());
        }
        let mut toks = vec![i64::from(self.specials.eot); b * n];
        for (i, s) in seqs.iter().enumerate() {
            for (j, &t) in s[..s.len() - 1].iter().enumerate() {
                toks[i * n + j] = i64::from(t);
            }
        }
        let tile = |t: &TValue| -> Result<TValue, WhisperError> {
            let view = t.to_plain_array_view::<f32>().map_err(run_err("decoder"))?;
            let views: Vec<_> = (0..b).map(|_| view.view()).collect();
            let tiled =
                tract_ndarray::concatenate(tract_ndarray::Axis(1), &views).map_err(|e| {
                    WhisperError::Run {
                        stage: "decoder",
                        message: e.to_string(),
                    }
                })?;
            Ok(tiled.into_tensor().into())
        };
        let batch_cache = Cache {
            k: tile(&cache.k)?,
            v: tile(&cache.v)?,
            len: cache.len,
        };
        let (logits, _) = self.step(enc, &toks, b, &batch_cache)?;
        let all = f32s(&logits)?;
        for (i, s) in seqs.iter().enumerate() {
            for j in 0..s.len() - 1 {
                let row = &all[(i * n + j) * VOCAB..(i * n + j + 1) * VOCAB];
                let next = s[j + 1] as usize;
                scores[i] += f64::from(row[next] - log_sum_exp(row));
            }
        }
        Ok(scores.into_iter().map(|x| x as f32).collect())
    }

    /// Which of `langs` the utterance is in, with the probabilities of each (normalised
    /// over `langs` only).
    pub fn detect_language(
        &self,
        enc: &Encoded,
        langs: &[Lang],
    ) -> Result<Vec<(Lang, f32)>, WhisperError> {
        let (logits, _) = self.step(
            enc,
            &[i64::from(self.specials.sot)],
            1,
            &Self::empty_cache(1)?,
        )?;
        let row = f32s(&logits)?;
        let picked: Vec<f32> = langs
            .iter()
            .map(|l| match l {
                Lang::Zh => row[self.specials.zh as usize],
                Lang::En => row[self.specials.en as usize],
            })
            .collect();
        let norm = log_sum_exp(&picked);
        let mut out: Vec<(Lang, f32)> = langs
            .iter()
            .zip(picked)
            .map(|(&l, x)| (l, (x - norm).exp()))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(out)
    }
}

/// The values of a decoder output tensor.
fn f32s(t: &Tensor) -> Result<&[f32], WhisperError> {
    t.try_as_plain_ram()
        .and_then(|v| v.as_slice::<f32>())
        .map_err(run_err("decoder"))
}

fn log_sum_exp(xs: &[f32]) -> f32 {
    let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return max;
    }
    let sum: f32 = xs.iter().map(|x| (x - max).exp()).sum();
    max + sum.ln()
}

fn softmax_prob(row: &[f32], index: usize) -> f32 {
    row.get(index).map_or(0.0, |x| (x - log_sum_exp(row)).exp())
}

/// Index of the largest logit and its log-probability.
fn argmax_logprob(row: &[f32]) -> (usize, f32) {
    let (best, &x) = row
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap_or((0, &0.0));
    (best, x - log_sum_exp(row))
}

/// Where to cut `tokens` when its tail is one n-gram repeated `max_repeats` times.
///
/// A phrase of eight or more tokens is cut at its second occurrence.
/// A single token repeating is common in real speech ("8 8 8" in a number), so a run of
/// one token is only cut after three times as many repeats, and longer n-grams made of one
/// repeated token are left to that rule.
fn repetition(tokens: &[u32], opts: &DecodeOptions) -> Option<usize> {
    let reps = opts.max_repeats.max(2);
    for n in 1..=opts.max_ngram {
        // Whole phrases (8+ tokens) said twice in a row are Whisper's loop, not the caller.
        let needed = match n {
            1 => 3 * reps,
            2..=7 => reps,
            _ => 2,
        };
        if tokens.len() < n * needed {
            continue;
        }
        let tail = &tokens[tokens.len() - n..];
        if n > 1 && tail.iter().all(|t| *t == tail[0]) {
            continue;
        }
        let repeated = (1..needed).all(|r| {
            let at = tokens.len() - (r + 1) * n;
            &tokens[at..at + n] == tail
        });
        if repeated {
            return Some(tokens.len() - (needed - 1) * n);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetition_cuts_the_repeats_of_a_phrase() {
        let opts = DecodeOptions::default();
        let toks = [5, 1, 2, 3, 1, 2, 3, 1, 2, 3];
        assert_eq!(repetition(&toks, &opts), Some(4));
        assert_eq!(repetition(&[1, 2, 3, 4, 5], &opts), None);
        let sentence: Vec<u32> = (10..20).collect();
        let twice: Vec<u32> = sentence.iter().chain(&sentence).copied().collect();
        assert_eq!(repetition(&twice, &opts), Some(10));
    }

    #[test]
    fn repeated_single_digits_are_allowed_until_long_runs() {
        let opts = DecodeOptions::default();
        assert_eq!(repetition(&[8, 8, 8, 8], &opts), None);
        assert_eq!(repetition(&[8; 9], &opts), Some(1));
        assert_eq!(repetition(&[8; 6], &opts), None);
    }

    #[test]
    fn log_sum_exp_is_stable() {
        let v = [1000.0f32, 1000.0];
        assert!((log_sum_exp(&v) - (1000.0 + 2f32.ln())).abs() < 1e-3);
    }
}
