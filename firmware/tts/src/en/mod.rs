//! English text front end: prompt text → phonemes for Kokoro-82M (misaki's symbols) and
//! phoneme ids for Piper (`en_US-joe-medium`, espeak-ng's symbols).
//!
//! Kokoro's English voices were trained on the output of misaki 0.9.4's G2P, so this module
//! re-states misaki's rules in Rust over misaki's own lexicons (`en-lexicon` model, Apache-2.0)
//! and matches misaki on IVR prompts (see `tests/tts_en_golden.rs` for the rate and the known
//! differences). Pieces:
//!
//! - [`normalize`]: IVR readings misaki lacks (yuan, phone/card numbers digit by digit,
//!   times with a.m./p.m., ordinal dates, `#`/`*` keys);
//! - `g2p`: spaCy-like tokens, a few part-of-speech guesses, misaki's word assembly;
//! - `lexicon`, `numbers`: misaki's lookup and number rules;
//! - `oov`: our own reading of unknown words (pinyin names, compounds, letter-to-sound);
//! - [`piper`]: misaki symbols → espeak-ng IPA → Piper ids.
//!
//! It must never call or link espeak-ng (GPL-3), never panic on any input, and never emit a
//! symbol outside Kokoro's `vocab.json`.

mod g2p;
mod lexicon;
pub mod normalize;
mod numbers;
mod oov;
pub mod piper;

use std::io;
use std::path::{Path, PathBuf};

pub use piper::PiperPhonemeMap;

/// Most Kokoro tokens (phoneme symbols) in one [`Sentence`]; the model takes 510 per call.
pub const MAX_KOKORO_TOKENS: usize = 500;

/// Longest text [`EnFrontEnd::phonemize`] accepts, in bytes (about 40 minutes of speech).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Errors of the English front end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnError {
    /// A data file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A data file is not in the expected format.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The text is longer than [`MAX_TEXT_BYTES`].
    #[error("text of {bytes} bytes is longer than the {max} bytes the front end reads")]
    TooLong {
        /// Length of the text given.
        bytes: usize,
        /// The limit.
        max: usize,
    },
}

/// One piece of speech: at most [`MAX_KOKORO_TOKENS`] phoneme symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// The text this piece speaks (as given, or the reading of a split part).
    pub text: String,
    /// misaki/Kokoro phoneme symbols; every one is in Kokoro's `vocab.json`.
    pub phonemes: String,
}

/// Reading choices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnOptions {
    /// Read "55" in digit strings as "double five" (and "555" as "triple five").
    pub double_digits: bool,
}

/// The English front end; loads the lexicons once and is then read-only (`Sync`).
#[derive(Debug)]
pub struct EnFrontEnd {
    lexicon: lexicon::Lexicon,
    options: EnOptions,
}

/// Kokoro symbols this front end can produce (misaki's US set, `T` for the flap, `ɐ`,
/// punctuation and space). Anything else is dropped before it reaches the model.
pub const KOKORO_SYMBOLS: &str = "AIOWYbdfhijklmnpstuvwzæðŋɑɔəɛɜɡɪɹɾʃʊʌʒʤʧˈˌθᵊᵻʔTɐ;:,.!?—…\"“”() ";

impl EnFrontEnd {
    /// Loads `us_gold.json` and `us_silver.json` from `lexicon_dir` (the installed
    /// `en-lexicon` model, e.g. `/var/lib/yingda/models/en-lexicon`).
    pub fn load(lexicon_dir: &Path) -> Result<Self, EnError> {
        Ok(Self {
            lexicon: lexicon::Lexicon::load(lexicon_dir)?,
            options: EnOptions::default(),
        })
    }

    /// The same front end with other reading choices.
    #[must_use]
    pub fn with_options(mut self, options: EnOptions) -> Self {
        self.options = options;
        self
    }

    /// The current reading choices.
    pub fn options(&self) -> EnOptions {
        self.options
    }

    /// The IVR reading of one sentence, before phonemization (for tests and logs).
    pub fn normalize(&self, sentence: &str) -> String {
        normalize::normalize(&clean(sentence), self.options.double_digits)
    }

    /// Text → sentences with Kokoro phonemes, split at sentence ends and so that no
    /// sentence has more than [`MAX_KOKORO_TOKENS`] symbols. Empty or unspeakable input
    /// gives an empty list.
    pub fn phonemize(&self, text: &str) -> Result<Vec<Sentence>, EnError> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(EnError::TooLong {
                bytes: text.len(),
                max: MAX_TEXT_BYTES,
            });
        }
        let cleaned = clean(text);
        let mut out = Vec::new();
        for sentence in split_sentences(&cleaned) {
            let reading = normalize::normalize(sentence, self.options.double_digits);
            self.phonemize_reading(sentence, &reading, &mut out);
        }
        Ok(out)
    }

    fn phonemize_reading(&self, text: &str, reading: &str, out: &mut Vec<Sentence>) {
        let mut pre = g2p::pretokenize(reading, &self.lexicon);
        g2p::tag(&mut pre);
        let ps = finish(&g2p::phonemize_tokens(&pre, &self.lexicon));
        if ps.is_empty() {
            return;
        }
        if ps.chars().count() <= MAX_KOKORO_TOKENS {
            out.push(Sentence {
                text: text.trim().to_string(),
                phonemes: ps,
            });
            return;
        }
        // Too long for one Kokoro call: phonemize word groups and pack them, cutting
        // after punctuation where possible.
        let mut pieces: Vec<(String, String)> = Vec::new();
        let mut start = 0;
        for i in 0..pre.len() {
            let end_of_group = pre[i].ws || i + 1 == pre.len();
            if end_of_group {
                let group = &pre[start..=i];
                let mut g = group.to_vec();
                if let Some(last) = g.last_mut() {
                    last.ws = false;
                }
                let text: String = g.iter().map(|t| t.text.as_str()).collect();
                let p = finish(&g2p::phonemize_tokens(&g, &self.lexicon));
                pieces.push((text, p));
                start = i + 1;
            }
        }
        pack(pieces, out);
    }

    /// Kokoro phonemes → Piper ids (`^ _ p _ … $`) through the espeak-style mapping of
    /// [`piper::to_espeak`].
    pub fn piper_ids(&self, phonemes: &str, map: &PiperPhonemeMap) -> Result<Vec<i64>, EnError> {
        Ok(map.ids(&piper::to_espeak(phonemes)))
    }
}

/// Packs word pieces into sentences of at most [`MAX_KOKORO_TOKENS`] symbols.
fn pack(pieces: Vec<(String, String)>, out: &mut Vec<Sentence>) {
    let mut text = String::new();
    let mut ps = String::new();
    let flush = |text: &mut String, ps: &mut String, out: &mut Vec<Sentence>| {
        let p = ps.trim().to_string();
        if !p.is_empty() {
            out.push(Sentence {
                text: text.trim().to_string(),
                phonemes: p,
            });
        }
        text.clear();
        ps.clear();
    };
    for (t, p) in pieces {
        // A single piece over the limit (a very long "word") is cut by symbols.
        let mut p = p;
        while p.chars().count() > MAX_KOKORO_TOKENS {
            flush(&mut text, &mut ps, out);
            let cut: String = p.chars().take(MAX_KOKORO_TOKENS).collect();
            p = p.chars().skip(MAX_KOKORO_TOKENS).collect();
            out.push(Sentence {
                text: t.clone(),
                phonemes: cut,
            });
        }
        let extra = usize::from(!ps.is_empty());
        if ps.chars().count() + extra + p.chars().count() > MAX_KOKORO_TOKENS {
            flush(&mut text, &mut ps, out);
        }
        if !ps.is_empty() && !p.is_empty() {
            ps.push(' ');
        }
        ps.push_str(&p);
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&t);
        // Prefer to cut after a clause once the piece is long.
        if ps.chars().count() > MAX_KOKORO_TOKENS * 3 / 4 && ps.ends_with([',', ';', ':', '—']) {
            flush(&mut text, &mut ps, out);
        }
    }
    flush(&mut text, &mut ps, out);
}

/// Keeps only Kokoro symbols, without runs of spaces or spaces at the ends.
fn finish(ps: &str) -> String {
    let mut out = String::with_capacity(ps.len());
    for c in ps.chars() {
        if !KOKORO_SYMBOLS.contains(c) {
            continue;
        }
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Maps what we can read onto ASCII and drops what we cannot (controls, emoji, CJK).
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = match c {
            // Full-width forms (common in Chinese input methods).
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(' '),
            '\u{3000}' => ' ',
            '。' => '.',
            '、' => ',',
            '￥' => '¥',
            c => c,
        };
        let mapped = match c {
            c if c.is_whitespace() => Some(' '),
            c if c.is_control() => continue,
            c if c.is_ascii() => Some(c),
            '¥' | '£' | '€' | '元' | '‘' | '’' | '“' | '”' | '—' | '–' | '…' => {
                Some(c)
            }
            c => fold_latin(c),
        };
        match mapped {
            Some(m) => out.push(m),
            None => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
        }
    }
    out
}

/// Accented Latin letters → their base letter; other scripts and symbols → None.
fn fold_latin(c: char) -> Option<char> {
    const FROM: &str = "àáâãäåāèéêëēìíîïīòóôõöōùúûüūýÿçñÀÁÂÃÄÅĀÈÉÊËĒÌÍÎÏĪÒÓÔÕÖŌÙÚÛÜŪÝÇÑ";
    const TO: &str = "aaaaaaaeeeeeiiiiioooooouuuuuyycnAAAAAAAEEEEEIIIIIOOOOOOUUUUUYCN";
    FROM.chars()
        .position(|f| f == c)
        .and_then(|i| TO.chars().nth(i))
}

/// Title abbreviations whose period does not end a sentence.
const TITLES: [&str; 10] = [
    "dr.", "mr.", "mrs.", "ms.", "st.", "no.", "vs.", "prof.", "jr.", "sr.",
];

/// Splits at `.`, `!`, `?`, `…` followed by a space, except after titles ("Dr. Wang") and
/// initials; "a.m." ends a sentence only when a capitalised word follows.
fn split_sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if !matches!(c, '.' | '!' | '?' | '…') {
            continue;
        }
        let end = i + c.len_utf8();
        // Include closing quotes/brackets and further end marks.
        let mut j = end;
        while j < bytes.len() && matches!(bytes[j], b'.' | b'!' | b'?' | b'"' | b'\'' | b')') {
            j += 1;
        }
        if j < bytes.len() && bytes[j] != b' ' {
            continue;
        }
        if c == '.' {
            let word_start = text[..i].rfind(' ').map_or(0, |k| k + 1);
            let word = text[word_start..end].to_lowercase();
            if TITLES.contains(&word.as_str()) {
                continue;
            }
            let core = &text[word_start..i];
            if core.chars().count() == 1 && core.chars().all(char::is_uppercase) {
                continue; // an initial
            }
            if core.contains('.') {
                // a.m. / U.S.: a sentence end only before a capital.
                let rest = text[j..].trim_start();
                if !rest.starts_with(char::is_uppercase) {
                    continue;
                }
            }
        }
        let s = text[start..j].trim();
        if !s.is_empty() {
            out.push(s);
        }
        start = j;
        while let Some(&(k, _)) = iter.peek() {
            if k < j {
                iter.next();
            } else {
                break;
            }
        }
    }
    let s = text[start..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{clean, finish, split_sentences};

    #[test]
    fn sentences() {
        assert_eq!(
            split_sentences("Thank you. Goodbye."),
            ["Thank you.", "Goodbye."]
        );
        assert_eq!(
            split_sentences("Dr. Wang is in. Bye!"),
            ["Dr. Wang is in.", "Bye!"]
        );
        assert_eq!(
            split_sentences("At 9 a.m. we open."),
            ["At 9 a.m. we open."]
        );
        assert_eq!(
            split_sentences("At 9 a.m. We open."),
            ["At 9 a.m.", "We open."]
        );
        assert_eq!(split_sentences("Pay $1.50 now"), ["Pay $1.50 now"]);
        assert!(split_sentences("   ").is_empty());
    }

    #[test]
    fn cleaning() {
        assert_eq!(clean("Ｐｒｅｓｓ　１"), "Press 1");
        assert_eq!(clean("a\u{0}b😀c\nd"), "ab c d");
        assert_eq!(clean("café"), "cafe");
        assert_eq!(finish("  ɑ  b🙂 x"), "ɑ b");
    }
}
