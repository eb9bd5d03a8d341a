//! [`Recognizer`] on Whisper: open transcription, digit strings, and grammar mode, where
//! the allowed phrases of a prompt are scored by the decoder in one batch.
//!
//! Grammar mode, step by step:
//! 1. Greedy transcript `H` with the plain prompt. The grammar's phrases are *not* put in
//!    the decoder's text prompt: Whisper base then copies prompt phrases into the
//!    transcript that were never said ("我想看牙科，妇产" for "我想看牙科").
//! 2. For each phrase, the span of `H` that sounds closest to it ([`crate::fuzzy`]: pinyin
//!    syllables for Mandarin, so the homophones Whisper writes — 压科 for 牙科 — match;
//!    words for English), so carrier words around it do not matter. The phrases most like
//!    something in `H` become candidates, each in two forms: the phrase alone, and `H` with
//!    that span replaced by the phrase.
//! 3. The decoder scores every candidate and `H` itself in one batched pass (log-probability
//!    of the whole transcript given the audio). Per option the best form counts; a softmax
//!    over options gives how clearly one option beats the others (`clarity`), the per-token
//!    gap to `H` how far the audio is from the option at all (`fit`), and the phonetic
//!    similarity of the best span how much of the phrase was heard. Options are ranked by
//!    log-probability per √token plus 4 × similarity (a plain sum favours short phrases);
//!    the confidence is the cube root of clarity × fit × similarity, and below the
//!    request's threshold (default 0.5) the answer is no-match. Weights and threshold were
//!    tuned on the IVR test set (`benches/asr_ivr.rs`, which prints the sweep), where 0.5
//!    gave no false accept on out-of-grammar speech.
//!
//! Digit mode decodes with only digit tokens allowed (digits, separators, 零一幺二两…九,
//! `one`…`nine`, `oh`, `double`, `triple`) and reads the result with
//! [`numbers::digits_in`], which drops carrier words around the digits.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::{DecodeOptions, Decoded, Encoded, Lang, Whisper, WhisperError};
use crate::fuzzy;
use crate::grammar::Grammar;
use crate::mel::MelFrontEnd;
use crate::numbers;
use crate::pinyin::Lexicon;
use crate::recognizer::{AsrError, Mode, Recognition, Recognizer, Request, Utterance};

/// Shortest utterance recognised: 0.1 s of line audio.
pub const MIN_SAMPLES: usize = 800;
/// Longest utterance recognised: 30 s of line audio (the encoder's window); later audio is
/// ignored.
pub const MAX_SAMPLES: usize = 30 * 8000;
/// Most phrases scored on their own per grammar request.
pub const MAX_CANDIDATE_PHRASES: usize = 12;
/// Phrases per transcript scored in context (span replaced, transcript cut after it).
const PHRASES_PER_HYPOTHESIS: usize = 4;
/// Weight of phonetic similarity (0…1) against the length-normalised log-probability when
/// options are ranked.
const SIMILARITY_WEIGHT: f32 = 4.0;
/// Most text tokens of phrase list put into the decoder prompt.
const MAX_PROMPT_PHRASE_TOKENS: usize = 96;
/// "No speech" above this with a weak transcript means silence or noise.
const NO_SPEECH_THRESHOLD: f32 = 0.6;
/// Mean log-probability under which a transcript counts as weak.
const WEAK_LOGPROB: f32 = -1.0;

struct Inner {
    model: Whisper,
    mel: MelFrontEnd,
    /// Pinyin readings for matching Mandarin phrases by sound.
    lexicon: Option<Lexicon>,
    /// Tokens a digit string may be written with, per language (zh, en), built on first use.
    digit_tokens: [OnceLock<Vec<bool>>; 2],
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
    /// Verifies and loads the installed `whisper-base` model, and the `zh-lexicon` model
    /// when it is installed and intact (without it Mandarin phrases are matched by
    /// character, which misses the homophones Whisper writes; recognition still works, so a
    /// broken lexicon never costs the box its recogniser).
    pub fn load(models_dir: impl AsRef<Path>) -> Result<Self, WhisperError> {
        let models_dir = models_dir.as_ref();
        let lexicon = Lexicon::load(models_dir).ok();
        Ok(Self::from_model(Whisper::load(models_dir)?, lexicon))
    }

    /// Wraps a loaded model and, optionally, the pinyin lexicon.
    pub fn from_model(model: Whisper, lexicon: Option<Lexicon>) -> Self {
        Self {
            inner: Arc::new(Inner {
                model,
                mel: MelFrontEnd::new(),
                lexicon,
                digit_tokens: [OnceLock::new(), OnceLock::new()],
            }),
        }
    }

    /// Whether Mandarin phrases are matched by sound (the `zh-lexicon` model is loaded).
    pub fn has_lexicon(&self) -> bool {
        self.inner.lexicon.is_some()
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
        let prompt = m.prompt(lang);
        let opts = DecodeOptions {
            // About 12 tokens per second of speech covers fast Mandarin; plus slack.
            max_tokens: (16 + enc.frames * 12 / 100).min(160),
            ..DecodeOptions::default()
        };
        // Digit mode decodes with nothing but digit tokens allowed: free decoding writes
        // "For 567" for "four five six seven", 要 for 幺, or the prompt back. Forced tokens
        // are less probable, so its weak-transcript bar is lower.
        let (allowed, weak) = match request.mode {
            Mode::Digits { .. } => (Some(self.digit_tokens(lang)), 2.0 * WEAK_LOGPROB),
            _ => (None, WEAK_LOGPROB),
        };
        let decoded = m.decode_greedy_within(&enc, &prompt, &opts, allowed)?;
        let text = decoded.text.trim().to_owned();
        let no_speech = decoded.no_speech_prob > NO_SPEECH_THRESHOLD && decoded.avg_logprob < weak;
        let silent = no_speech || text.is_empty();
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
        match &request.mode {
            // Grammar mode scores the phrases even when the plain transcript is empty:
            // Whisper base often ends at once on a short word it did not expect.
            Mode::Grammar(g) => {
                let primed = m.decode_greedy(&enc, &self.phrase_prompt(lang, g), &opts)?;
                let (label, confidence) =
                    self.pick(&enc, &prompt, lang, &[&decoded, &primed], g)?;
                let label = (confidence >= request.min_confidence)
                    .then_some(label)
                    .flatten();
                let text = if base.text.is_empty() {
                    primed.text.trim().to_owned()
                } else {
                    base.text.clone()
                };
                Ok(Recognition {
                    text,
                    label,
                    confidence,
                    ..base
                })
            }
            _ if silent => Ok(base),
            Mode::Open => Ok(base),
            Mode::Digits { id_check_char } => {
                let digits = if *id_check_char {
                    numbers::id_digits_in(&base.text)
                } else {
                    numbers::digits_in(&base.text)
                };
                Ok(Recognition {
                    digits: digits.ok(),
                    ..base
                })
            }
        }
    }

    /// The text tokens a spoken digit string can be written with in `lang`: digits,
    /// separators and, for Mandarin, 零〇一幺二两三…九; for English the digit words, `oh`,
    /// `double` and `triple`.
    fn digit_tokens(&self, lang: Lang) -> &[bool] {
        let slot = usize::from(lang == Lang::En);
        self.inner.digit_tokens[slot].get_or_init(|| {
            let m = &self.inner.model;
            let tok = m.tokenizer();
            (0..m.specials().eot)
                .map(|t| digit_token(&tok.decode(&[t]), lang))
                .collect()
        })
    }

    /// The decoder prompt with the grammar's phrases as previous text: Whisper spells words
    /// it has just "seen" the way they were written, but also copies them into the
    /// transcript unsaid, so this transcript only proposes candidates (module docs).
    fn phrase_prompt(&self, lang: Lang, grammar: &Grammar) -> Vec<u32> {
        let m = &self.inner.model;
        let base = m.prompt(lang);
        let s = m.specials();
        let sot_at = base.iter().position(|&t| t == s.sot).unwrap_or(0);
        let phrases: Vec<&str> = grammar
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
        hyps: &[&Decoded],
        grammar: &Grammar,
    ) -> Result<(Option<String>, f32), AsrError> {
        let m = &self.inner.model;
        let tok = m.tokenizer();
        let lexicon = self.inner.lexicon.as_ref();
        let lead = if lang == Lang::En { " " } else { "" };
        let encode = |text: &str| {
            let text = text.trim();
            tok.encode(&format!("{lead}{text}"))
        };
        let mut candidates: Vec<Vec<u32>> = Vec::new();
        let mut add = |c: Vec<u32>| match candidates.iter().position(|x| *x == c) {
            Some(i) => i,
            None => {
                candidates.push(c);
                candidates.len() - 1
            }
        };
        let hyp_at: Vec<usize> = hyps.iter().map(|h| add(h.tokens.clone())).collect();
        // (candidate, option)
        let mut owned: Vec<(usize, usize)> = Vec::new();
        let mut alone: Vec<(f32, usize, &str)> = Vec::new();
        // Per option: how much of its best phrase any transcript holds.
        let mut heard = vec![0.0f32; grammar.options.len()];
        for hyp in hyps {
            let text = hyp.text.as_str();
            let units = fuzzy::units(text, lexicon);
            let mut near: Vec<(f32, usize, &str, std::ops::Range<usize>)> = Vec::new();
            for (oi, option) in grammar.options.iter().enumerate() {
                for phrase in &option.phrases {
                    let phrase = phrase.trim();
                    let (sim, bytes) = fuzzy::similarity(&fuzzy::units(phrase, lexicon), &units);
                    heard[oi] = heard[oi].max(sim);
                    near.push((sim, oi, phrase, bytes));
                }
            }
            near.sort_by(|a, b| b.0.total_cmp(&a.0));
            for (_, oi, phrase, bytes) in near.iter().take(PHRASES_PER_HYPOTHESIS) {
                // The transcript with the span replaced, and cut after it (a phrase that
                // Whisper copied from the prompt after the real one is then gone).
                let replaced = format!("{}{phrase}{}", &text[..bytes.start], &text[bytes.end..]);
                let cut = format!("{}{phrase}", &text[..bytes.start]);
                for form in [replaced, cut] {
                    let c = add(encode(&form));
                    owned.push((c, *oi));
                }
            }
            alone.extend(near.iter().map(|(sim, oi, phrase, _)| (*sim, *oi, *phrase)));
        }
        alone.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut seen = Vec::new();
        for (_, oi, phrase) in alone {
            if seen.len() == MAX_CANDIDATE_PHRASES {
                break;
            }
            if seen.contains(&phrase) {
                continue;
            }
            seen.push(phrase);
            let c = add(encode(phrase));
            owned.push((c, oi));
        }
        let scores = m.score(enc, prompt, &candidates)?;
        let hyp_score = hyp_at
            .iter()
            .map(|&i| scores[i])
            .fold(f32::NEG_INFINITY, f32::max);
        // Per option: its best form (score, candidate).
        let mut best: Vec<Option<(f32, usize)>> = vec![None; grammar.options.len()];
        for &(c, oi) in &owned {
            if best[oi].is_none_or(|(s, _)| scores[c] > s) {
                best[oi] = Some((scores[c], c));
            }
        }
        // Log-probability per square root of length (a plain sum favours short phrases)
        // plus the phonetic similarity: tuned on the IVR test set (benches/asr_ivr.rs).
        let combined = |oi: usize, (s, c): (f32, usize)| {
            s / (candidates[c].len().max(1) as f32).sqrt() + SIMILARITY_WEIGHT * heard[oi]
        };
        let ranked: Vec<(usize, f32, usize)> = best
            .iter()
            .enumerate()
            .filter_map(|(oi, b)| b.map(|b| (oi, combined(oi, b), b.1)))
            .collect();
        let Some(&(best_oi, best_comb, best_c)) = ranked.iter().max_by(|a, b| a.1.total_cmp(&b.1))
        else {
            return Ok((None, 0.0));
        };
        let norm: f32 = ranked.iter().map(|r| (r.1 - best_comb).exp()).sum();
        let clarity = 1.0 / norm;
        let per_token_gap = (scores[best_c] - hyp_score) / candidates[best_c].len().max(1) as f32;
        let fit = (0.5 * per_token_gap.min(0.0)).exp();
        let confidence = (clarity * fit * heard[best_oi]).cbrt();
        Ok((
            Some(grammar.options[best_oi].label.clone()),
            confidence.clamp(0.0, 1.0),
        ))
    }
}

/// Whether a token's text can be part of a written digit string in `lang`.
fn digit_token(text: &str, lang: Lang) -> bool {
    let core = text.trim();
    if core.is_empty() {
        return false;
    }
    let separator = |c: char| matches!(c, ',' | '-' | '，' | '、' | ' ');
    match lang {
        Lang::Zh => core
            .chars()
            .all(|c| c.is_ascii_digit() || separator(c) || numbers::han_digit(c).is_some()),
        Lang::En => {
            core.chars().all(|c| c.is_ascii_digit() || separator(c))
                || [
                    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                    "oh", "double", "triple",
                ]
                .iter()
                .any(|w| core.eq_ignore_ascii_case(w))
        }
    }
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
    use super::*;

    #[test]
    fn digit_tokens_are_digits_digit_words_and_separators() {
        for t in ["1", " 138", "-", ",", "一", "幺", "两", "零"] {
            assert!(digit_token(t, Lang::Zh), "{t:?}");
        }
        for t in [" one", "Double", " triple", " oh", "42", " zero"] {
            assert!(digit_token(t, Lang::En), "{t:?}");
        }
        for t in ["", " ", "要", "十", "号"] {
            assert!(!digit_token(t, Lang::Zh), "{t:?}");
        }
        for t in [" for", " to", "ten", "one two", "."] {
            assert!(!digit_token(t, Lang::En), "{t:?}");
        }
    }
}
