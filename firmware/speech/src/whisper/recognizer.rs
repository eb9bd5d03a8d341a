//! [`Recognizer`] on Whisper: open transcription, digit strings, and grammar mode, where
//! the allowed phrases of a prompt are scored by the decoder in one batch.
//!
//! Grammar mode, step by step:
//! 1. Greedy transcript `H`, with the prompt's phrases in the decoder's text prompt (Whisper
//!    spells words it has just "seen" the way they were written).
//! 2. For each phrase, the span of `H` closest to it in characters (approximate substring
//!    match, so carrier words around it do not matter) → the phrases most like something
//!    in `H` become candidates, each in two forms: the phrase alone, and `H` with that span
//!    replaced by the phrase.
//! 3. The decoder scores every candidate and `H` itself in one batched pass (log-probability
//!    of the whole transcript given the audio). Per option the best form counts; a softmax
//!    over options gives how clearly one option beats the others, and the per-token gap to
//!    `H` says how far the audio is from the option at all. Their product is the confidence;
//!    below the request's threshold the answer is no-match.

use std::path::Path;
use std::sync::Arc;

use super::{DecodeOptions, Decoded, Encoded, Lang, Whisper, WhisperError};
use crate::grammar::Grammar;
use crate::mel::MelFrontEnd;
use crate::numbers;
use crate::recognizer::{AsrError, Mode, Recognition, Recognizer, Request, Utterance};

/// Shortest utterance recognised: 0.1 s of line audio.
pub const MIN_SAMPLES: usize = 800;
/// Longest utterance recognised: 30 s of line audio (the encoder's window); later audio is
/// ignored.
pub const MAX_SAMPLES: usize = 30 * 8000;
/// Most candidate phrases scored per grammar request.
pub const MAX_CANDIDATE_PHRASES: usize = 6;
/// Most text tokens of phrase list put into the decoder prompt.
const MAX_PROMPT_PHRASE_TOKENS: usize = 96;
/// "No speech" above this with a weak transcript means silence or noise.
const NO_SPEECH_THRESHOLD: f32 = 0.6;
/// Mean log-probability under which a transcript counts as weak.
const WEAK_LOGPROB: f32 = -1.0;

struct Inner {
    model: Whisper,
    mel: MelFrontEnd,
}

/// Whisper base as the box's recogniser; cheap to clone, shared by all calls.
#[derive(Clone)]
pub struct WhisperRecognizer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for WhisperRecognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperRecognizer").finish_non_exhaustive()
    }
}

const LANGS: [Lang; 2] = [Lang::Zh, Lang::En];

impl WhisperRecognizer {
    /// Verifies and loads the installed `whisper-base` model.
    pub fn load(models_dir: impl AsRef<Path>) -> Result<Self, WhisperError> {
        Ok(Self::from_model(Whisper::load(models_dir)?))
    }

    /// Wraps a loaded model.
    pub fn from_model(model: Whisper) -> Self {
        Self {
            inner: Arc::new(Inner {
                model,
                mel: MelFrontEnd::new(),
            }),
        }
    }

    /// The model.
    pub fn model(&self) -> &Whisper {
        &self.inner.model
    }

    /// The whole pipeline on one utterance of 8 kHz line audio.
    pub fn run(&self, audio: &[i16], request: &Request) -> Result<Recognition, AsrError> {
        if audio.len() < MIN_SAMPLES {
            return Err(AsrError::TooShort {
                samples: audio.len(),
            });
        }
        let audio = &audio[..audio.len().min(MAX_SAMPLES)];
        let m = &self.inner.model;
        let mel = self.inner.mel.from_line_8k(audio)?;
        let enc = m.encode(&mel)?;
        let lang = match request.lang {
            Some(l) => l,
            None => m.detect_language(&enc, &LANGS)?[0].0,
        };
        let grammar = match &request.mode {
            Mode::Grammar(g) => Some(g.as_ref()),
            _ => None,
        };
        let prompt = self.prompt(lang, grammar);
        let opts = DecodeOptions {
            // About 12 tokens per second of speech covers fast Mandarin; plus slack.
            max_tokens: (16 + enc.frames * 12 / 100).min(160),
            ..DecodeOptions::default()
        };
        let decoded = m.decode_greedy(&enc, &prompt, &opts)?;
        let text = decoded.text.trim().to_owned();
        let silent = decoded.no_speech_prob > NO_SPEECH_THRESHOLD
            && decoded.avg_logprob < WEAK_LOGPROB
            || text.is_empty();
        let base = Recognition {
            text: if silent { String::new() } else { text },
            confidence: if silent {
                0.0
            } else {
                decoded.avg_logprob.exp().clamp(0.0, 1.0)
            },
            label: None,
            digits: None,
            lang,
            no_speech_prob: decoded.no_speech_prob,
        };
        if silent {
            return Ok(base);
        }
        match &request.mode {
            Mode::Open => Ok(base),
            Mode::Digits { id_check_char } => {
                let digits = if *id_check_char {
                    numbers::id_digits(&base.text)
                } else {
                    numbers::digits(&base.text)
                };
                Ok(Recognition {
                    digits: digits.ok(),
                    ..base
                })
            }
            Mode::Grammar(g) => {
                let (label, confidence) = self.pick(&enc, &prompt, lang, &decoded, g)?;
                let label = (confidence >= request.min_confidence)
                    .then_some(label)
                    .flatten();
                Ok(Recognition {
                    label,
                    confidence,
                    ..base
                })
            }
        }
    }

    /// The decoder prompt: for grammar mode the phrases go into the text prompt.
    fn prompt(&self, lang: Lang, grammar: Option<&Grammar>) -> Vec<u32> {
        let m = &self.inner.model;
        let base = m.prompt(lang);
        let Some(g) = grammar else { return base };
        let s = m.specials();
        let sot_at = base.iter().position(|&t| t == s.sot).unwrap_or(0);
        let phrases: Vec<&str> = g
            .options
            .iter()
            .flat_map(|o| o.phrases.iter().map(String::as_str))
            .collect();
        let text = match lang {
            Lang::Zh => format!("{}{}。", super::SIMPLIFIED_PROMPT, phrases.join("，")),
            Lang::En => format!(" {}.", phrases.join(", ")),
        };
        let mut tokens = m.tokenizer().encode(&text);
        tokens.truncate(MAX_PROMPT_PHRASE_TOKENS);
        let mut p = vec![s.prev];
        p.extend(tokens);
        p.extend_from_slice(&base[sot_at..]);
        p
    }

    /// Grammar mode steps 2 and 3 (module docs): the best label and its confidence.
    fn pick(
        &self,
        enc: &Encoded,
        prompt: &[u32],
        lang: Lang,
        decoded: &Decoded,
        grammar: &Grammar,
    ) -> Result<(Option<String>, f32), AsrError> {
        let m = &self.inner.model;
        let tok = m.tokenizer();
        let hyp: Vec<char> = decoded.text.chars().collect();
        let hyp_lower: Vec<char> = hyp.iter().map(|c| lower(*c)).collect();
        // Every phrase with its closest span in the transcript.
        let mut near: Vec<(f32, usize, &str, usize, usize)> = Vec::new();
        for (oi, option) in grammar.options.iter().enumerate() {
            for phrase in &option.phrases {
                let p: Vec<char> = phrase.trim().chars().map(lower).collect();
                if p.is_empty() {
                    continue;
                }
                let (dist, start, end) = closest_span(&p, &hyp_lower);
                let similarity = 1.0 - dist as f32 / p.len() as f32;
                near.push((similarity, oi, phrase.trim(), start, end));
            }
        }
        near.sort_by(|a, b| b.0.total_cmp(&a.0));
        near.truncate(MAX_CANDIDATE_PHRASES);
        let lead = if lang == Lang::En { " " } else { "" };
        let mut candidates: Vec<Vec<u32>> = vec![decoded.tokens.clone()];
        let mut owner: Vec<Option<usize>> = vec![None];
        for &(_, oi, phrase, start, end) in &near {
            let alone = tok.encode(&format!("{lead}{phrase}"));
            let mut replaced: String = hyp[..start].iter().collect();
            replaced.push_str(phrase);
            replaced.extend(&hyp[end..]);
            let replaced = if lang == Lang::En && !replaced.starts_with(' ') {
                format!(" {replaced}")
            } else {
                replaced
            };
            for c in [alone, tok.encode(&replaced)] {
                if !candidates.contains(&c) {
                    candidates.push(c);
                    owner.push(Some(oi));
                }
            }
        }
        let scores = m.score(enc, prompt, &candidates)?;
        let hyp_score = scores[0];
        let mut best_per_option: Vec<Option<(f32, usize)>> = vec![None; grammar.options.len()];
        for (i, (&s, o)) in scores.iter().zip(&owner).enumerate() {
            if let Some(oi) = *o {
                if best_per_option[oi].is_none_or(|(b, _)| s > b) {
                    best_per_option[oi] = Some((s, i));
                }
            }
        }
        let scored: Vec<(usize, f32, usize)> = best_per_option
            .iter()
            .enumerate()
            .filter_map(|(oi, b)| b.map(|(s, i)| (oi, s, i)))
            .collect();
        let Some(&(best_oi, best_s, best_i)) = scored.iter().max_by(|a, b| a.1.total_cmp(&b.1))
        else {
            return Ok((None, 0.0));
        };
        let norm: f32 = scored.iter().map(|(_, s, _)| (s - best_s).exp()).sum();
        let clarity = 1.0 / norm;
        let per_token_gap = (best_s - hyp_score) / candidates[best_i].len().max(1) as f32;
        let fit = (0.5 * per_token_gap.min(0.0)).exp();
        let label = grammar.options[best_oi].label.clone();
        let mut confidence = clarity * fit;
        // The transcript already names the option outright: trust it as far as the
        // decoder's preference between options goes.
        if grammar.match_text(&decoded.text).map(|x| x.label) == Some(label.as_str()) {
            confidence = confidence.max(clarity);
        }
        Ok((Some(label), confidence.clamp(0.0, 1.0)))
    }
}

/// Lower-case a character to one character (multi-char lowercases keep their first).
fn lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// The span `[start, end)` of `text` with the smallest edit distance to `pattern`
/// (Sellers' approximate substring matching), and that distance.
fn closest_span(pattern: &[char], text: &[char]) -> (usize, usize, usize) {
    let n = text.len();
    // cost[j], start[j]: best alignment of the pattern prefix ending at text position j.
    let mut cost: Vec<usize> = vec![0; n + 1];
    let mut start: Vec<usize> = (0..=n).collect();
    for (i, &pc) in pattern.iter().enumerate() {
        let mut diag_cost = cost[0];
        let mut diag_start = start[0];
        cost[0] = i + 1;
        start[0] = 0;
        for j in 1..=n {
            let (up_cost, up_start) = (cost[j], start[j]);
            let sub = diag_cost + usize::from(text[j - 1] != pc);
            let del = up_cost + 1;
            let ins = cost[j - 1] + 1;
            let (c, s) = if sub <= del && sub <= ins {
                (sub, diag_start)
            } else if del <= ins {
                (del, up_start)
            } else {
                (ins, start[j - 1])
            };
            diag_cost = up_cost;
            diag_start = up_start;
            cost[j] = c;
            start[j] = s;
        }
    }
    let (end, &dist) = cost
        .iter()
        .enumerate()
        .min_by_key(|(j, c)| (**c, usize::MAX - j))
        .unwrap_or((0, &pattern.len()));
    (dist, start[end], end)
}

impl Recognizer for WhisperRecognizer {
    fn name(&self) -> &str {
        "whisper-base"
    }

    fn languages(&self) -> &[Lang] {
        &LANGS
    }

    fn start(&self, request: Request) -> Box<dyn Utterance> {
        Box::new(WhisperUtterance {
            rec: self.clone(),
            request,
            audio: Vec::new(),
            speculation: None,
        })
    }
}

/// One turn: audio so far and the result speculated at the last pause.
struct WhisperUtterance {
    rec: WhisperRecognizer,
    request: Request,
    audio: Vec<i16>,
    /// Result for the audio up to the pause, while the caller stays quiet.
    speculation: Option<(usize, Result<Recognition, String>)>,
}

impl Utterance for WhisperUtterance {
    fn push(&mut self, audio: &[i16]) {
        let room = MAX_SAMPLES.saturating_sub(self.audio.len());
        self.audio
            .extend_from_slice(&audio[..audio.len().min(room)]);
    }

    fn pause(&mut self) -> Result<(), AsrError> {
        if self.speculation.is_some() {
            return Ok(());
        }
        let upto = self.audio.len();
        let result = self.rec.run(&self.audio[..upto], &self.request);
        let stored = match &result {
            Ok(r) => Ok(r.clone()),
            Err(e) => Err(e.to_string()),
        };
        self.speculation = Some((upto, stored));
        result.map(|_| ())
    }

    fn resume(&mut self) {
        self.speculation = None;
    }

    fn finish(self: Box<Self>) -> Result<Recognition, AsrError> {
        match self.speculation {
            Some((_, Ok(r))) => Ok(r),
            // A failed speculation is retried on everything: the error may be "too short".
            _ => self.rec.run(&self.audio, &self.request),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::closest_span;

    fn span(p: &str, t: &str) -> (usize, usize, usize) {
        let p: Vec<char> = p.chars().collect();
        let t: Vec<char> = t.chars().collect();
        closest_span(&p, &t)
    }

    #[test]
    fn exact_phrase_inside_carrier_words() {
        assert_eq!(span("牙科", "我想看牙科"), (0, 3, 5));
        assert_eq!(span("dentistry", "dentistry please"), (0, 0, 9));
    }

    #[test]
    fn one_wrong_character_costs_one() {
        assert_eq!(span("牙科", "我想看呀科吧"), (1, 3, 5));
    }

    #[test]
    fn empty_text_costs_the_whole_pattern() {
        assert_eq!(span("牙科", ""), (2, 0, 0));
    }
}
