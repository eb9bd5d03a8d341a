//! Mandarin text front end for the Kokoro-82M v1.0 voices (zf_*, zm_*): prompt text in,
//! one phoneme string per sentence out, in the symbols misaki's Chinese G2P writes.
//!
//! Kokoro v1.0 was trained on misaki 0.9.4's *legacy* Chinese G2P: `KPipeline(lang_code="z",
//! repo_id="hexgrad/Kokoro-82M")` builds `misaki.zh.ZHG2P(version=None)`; the `"1.1"`
//! front end (bopomofo-like symbols, tone sandhi, erhua) belongs to Kokoro-82M-v1.1-zh, and
//! its symbols are not even in v1.0's vocabulary. So this module reproduces the legacy path:
//!
//! 1. [`normalize`]: IVR readings misaki gets wrong on the phone line (phone numbers digit
//!    by digit, clock times, ISO dates, money, thousands separators, letters, `#`/`*` keys);
//! 2. [`cn2an`]: every other number the way misaki reads it (`cn2an.transform(…, "an2cn")`);
//! 3. [`g2p`]: misaki's punctuation mapping, jieba segmentation (`jieba-rs` with Python
//!    jieba's dictionary), pinyin from pypinyin's phrase and character tables
//!    ([`lexicon`], installed as the `zh-lexicon` model), pinyin to Kokoro symbols
//!    ([`ipa`]) with tone arrows → ↗ ↓ ↘;
//! 4. symbols outside Kokoro's vocabulary dropped, as Kokoro itself would.
//!
//! Text is first cut into sentences at 。！？；!?; and line breaks; a sentence longer than
//! [`ZhOptions::max_tokens`] Kokoro tokens is cut again at commas, spaces, then between
//! characters, so every [`Sentence`] fits one Kokoro call.
//!
//! This module never panics on input and never touches the network; loading reads one
//! file. No tone sandhi is applied (see [`g2p`]): the model learnt from citation tones.

pub mod cn2an;
mod g2p;
mod ipa;
mod lexicon;
mod normalize;
mod polyphones;
pub mod vocab;

use std::io;
use std::path::{Path, PathBuf};

use jieba_rs::Jieba;
use yingda_speech::models::VerifiedModel;

use lexicon::Lexicon;
use normalize::Rules;

/// Name of the converted table in the `zh-lexicon` model directory.
pub const LEXICON_FILE: &str = "zh-lexicon.txt";

/// Kokoro takes at most 510 tokens per call (plus its two pad tokens).
pub const KOKORO_MAX_TOKENS: usize = 510;

/// Longest text [`ZhFrontEnd::phonemize`] accepts in one call, in characters (about an
/// hour of speech); longer text is an error rather than minutes of work.
pub const MAX_TEXT_CHARS: usize = 200_000;

/// Why the front end could not load or could not take a text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZhError {
    /// The lexicon table could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        /// The table's path.
        file: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// The lexicon table is not one this front end understands (wrong format or damaged).
    #[error("{}:{line}: {reason}", file.display())]
    Lexicon {
        /// The table's path.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong there.
        reason: String,
    },
    /// The verified model has no converted table (its conversion is not done).
    #[error("model {model}: {LEXICON_FILE} is not among its verified files")]
    NotConverted {
        /// The model's name.
        model: String,
    },
    /// The text is longer than [`MAX_TEXT_CHARS`].
    #[error("text of {chars} characters is longer than the {max} one call takes")]
    TextTooLong {
        /// Characters in the text.
        chars: usize,
        /// The limit.
        max: usize,
    },
}

/// The Kokoro symbols of one pinyin syllable in tone3 form (`zhong1` → `ꭧʊ→ŋ`, `de5` →
/// `tɤ`, `lve4` → `lɥe↘`), as misaki writes them; `None` when it is not Mandarin pinyin.
pub fn pinyin_symbols(tone3: &str) -> Option<String> {
    ipa::syllable(tone3)
}

/// The text as it will be read, without a lexicon: IVR rules, then misaki's number
/// reading (`2026-11-22` → 二零二六年十一月二十二日, `请按1` → 请按一).
pub fn normalize(text: &str, options: &ZhOptions) -> String {
    let rules = Rules {
        yao_in_phone_numbers: options.yao_in_phone_numbers,
        yao_in_digit_strings: options.yao_in_digit_strings,
        money_yuan_jiao_fen: options.money_yuan_jiao_fen,
        liang: options.liang,
        spell_letters: options.spell_letters,
    };
    cn2an::transform(&rules.apply(text), options.liang)
}

/// Readings the IVR normaliser chooses; `Default` is what our prompts want.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ZhOptions {
    /// Read 1 as 幺 in phone numbers (400-820-8820 → 四零零，八二零，八八二零 with 幺 where a
    /// 1 is). Default true.
    pub yao_in_phone_numbers: bool,
    /// Read 1 as 幺 in other digit strings: card, account and ID numbers, codes. Default
    /// false (一).
    pub yao_in_digit_strings: bool,
    /// Money in 元 as 十二元五角 (true, default) or as misaki reads it, 十二点五零元 (false).
    pub money_yuan_jiao_fen: bool,
    /// 两 for a bare 2 before a measure word (两个, 两点) and for a leading 二千/二万/二亿
    /// (true, default); false reads 二 everywhere, like misaki.
    pub liang: bool,
    /// Spell Latin letters with Chinese letter names (true, default); false passes them
    /// through as misaki does, and Kokoro keeps only the few capitals in its vocabulary.
    pub spell_letters: bool,
    /// Read the bank and hospital words misaki gets wrong with their IVR reading (还款
    /// huan2 kuan3, 支行 zhi1 hang2, 重置 chong2 zhi4, 朝阳 chao2 yang2; true, default);
    /// false reads them as misaki does.
    pub ivr_polyphones: bool,
    /// Most Kokoro tokens in one [`Sentence`] (default 500; at most [`KOKORO_MAX_TOKENS`]).
    pub max_tokens: usize,
}

impl Default for ZhOptions {
    fn default() -> Self {
        Self {
            yao_in_phone_numbers: true,
            yao_in_digit_strings: false,
            money_yuan_jiao_fen: true,
            liang: true,
            spell_letters: true,
            ivr_polyphones: true,
            max_tokens: 500,
        }
    }
}

/// One sentence of the input and its Kokoro symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// The sentence as written in the input, trimmed.
    pub text: String,
    /// Kokoro v1.0 symbols, each one token; never more than [`ZhOptions::max_tokens`].
    pub phonemes: String,
}

impl Sentence {
    /// Number of Kokoro tokens (every symbol is one token).
    pub fn tokens(&self) -> usize {
        self.phonemes.chars().count()
    }
}

/// Sizes of the loaded lexicon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexiconStats {
    /// Characters with a reading.
    pub characters: usize,
    /// Phrases with readings.
    pub phrases: usize,
    /// Approximate heap bytes of the pinyin tables (jieba's dictionary not included).
    pub heap_bytes: usize,
}

/// The loaded front end. Immutable after loading; `phonemize` takes `&self`, so one
/// instance serves every call.
#[derive(Debug)]
pub struct ZhFrontEnd {
    lexicon: Lexicon,
    jieba: Jieba,
    options: ZhOptions,
}

impl ZhFrontEnd {
    /// Loads `<lexicon_dir>/zh-lexicon.txt` (the converted `zh-lexicon` model) and jieba's
    /// built-in dictionary, with default options.
    pub fn load(lexicon_dir: impl AsRef<Path>) -> Result<Self, ZhError> {
        let lexicon = Lexicon::load(&lexicon_dir.as_ref().join(LEXICON_FILE))?;
        let mut jieba = Jieba::new();
        // Python jieba 0.42.1's dict.txt has one entry jieba-rs 0.11 lacks; adding it makes
        // the total frequency, and so every route score, the same as misaki's.
        jieba.add_word("B超", Some(3), Some("n"));
        Ok(Self {
            lexicon,
            jieba,
            options: ZhOptions::default(),
        })
    }

    /// Loads from a model that passed [`yingda_speech::models::Manifest::verify`].
    pub fn from_verified(model: &VerifiedModel) -> Result<Self, ZhError> {
        if model.file(LEXICON_FILE).is_none() {
            return Err(ZhError::NotConverted {
                model: model.name.clone(),
            });
        }
        Self::load(&model.dir)
    }

    /// The same front end with other options.
    pub fn with_options(mut self, options: ZhOptions) -> Self {
        self.options = options;
        self
    }

    /// The options in use.
    pub fn options(&self) -> &ZhOptions {
        &self.options
    }

    /// Sizes of the loaded pinyin tables.
    pub fn lexicon_stats(&self) -> LexiconStats {
        let (characters, phrases) = self.lexicon.counts();
        LexiconStats {
            characters,
            phrases,
            heap_bytes: self.lexicon.heap_bytes(),
        }
    }

    /// The text as it will be read (see [`normalize`]): what [`Self::phonemize`] segments
    /// and looks up; for logs and tests.
    pub fn normalize(&self, text: &str) -> String {
        normalize(text, &self.options)
    }

    /// Kokoro symbols of one piece of text, without sentence splitting.
    fn symbols(&self, text: &str) -> String {
        let mut out = String::new();
        g2p::phonemize(
            &self.normalize(text),
            &self.jieba,
            &self.lexicon,
            self.options.ivr_polyphones,
            &mut out,
        );
        out.trim().to_owned()
    }

    /// Splits `text` into sentences and phonemises each. Sentences that have nothing to
    /// say (only punctuation, emoji, symbols) are left out; empty text gives no sentences.
    pub fn phonemize(&self, text: &str) -> Result<Vec<Sentence>, ZhError> {
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(ZhError::TextTooLong {
                chars,
                max: MAX_TEXT_CHARS,
            });
        }
        let max = self.options.max_tokens.clamp(1, KOKORO_MAX_TOKENS);
        let mut out = Vec::new();
        for span in sentences(text) {
            self.push_fitting(span, max, &mut out);
        }
        Ok(out)
    }

    /// Pushes `span` as one sentence if it fits, else cut in two at the best point near
    /// its middle, recursively.
    fn push_fitting(&self, span: &str, max: usize, out: &mut Vec<Sentence>) {
        let span = span.trim();
        if span.is_empty() {
            return;
        }
        let phonemes = self.symbols(span);
        let tokens = phonemes.chars().count();
        if tokens <= max {
            if phonemes.chars().any(|c| c.is_alphabetic()) {
                out.push(Sentence {
                    text: span.to_owned(),
                    phonemes,
                });
            }
            return;
        }
        match cut_point(span) {
            Some(at) => {
                let (left, right) = span.split_at(at);
                self.push_fitting(left, max, out);
                self.push_fitting(right, max, out);
            }
            None => {
                // One character reading longer than a Kokoro call: keep what fits.
                let phonemes: String = phonemes.chars().take(max).collect();
                let phonemes = phonemes.trim_end().to_owned();
                out.push(Sentence {
                    text: span.to_owned(),
                    phonemes,
                });
            }
        }
    }
}

/// Sentence terminators: the sentence ends after them (and after closing quotes).
fn ends_sentence(c: char) -> bool {
    matches!(
        c,
        '。' | '！' | '？' | '；' | '!' | '?' | ';' | '\n' | '\r' | '．'
    )
}

/// Closing quotes and brackets that belong to the sentence before them.
fn closes(c: char) -> bool {
    matches!(
        c,
        '”' | '’' | '"' | '\'' | '）' | ')' | '」' | '』' | '】' | '》' | '»'
    )
}

/// Byte spans of the sentences of `text`, terminators included.
fn sentences(text: &str) -> Vec<&str> {
    let mut spans = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if !ends_sentence(c) {
            continue;
        }
        while let Some(&(_, n)) = chars.peek() {
            if ends_sentence(n) || closes(n) {
                chars.next();
            } else {
                break;
            }
        }
        let end = chars.peek().map_or(text.len(), |&(i, _)| i);
        spans.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        spans.push(&text[start..]);
    }
    spans
}

/// Where to cut a sentence that is too long: after the clause punctuation nearest its
/// middle, else the space nearest it, else between characters not inside a number or
/// word of Latin letters, else the middle. `None` for a single character.
fn cut_point(span: &str) -> Option<usize> {
    let chars: Vec<(usize, char)> = span.char_indices().collect();
    if chars.len() < 2 {
        return None;
    }
    let middle = chars.len() / 2;
    let in_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | ',' | ':' | '-');
    let tiers: [&dyn Fn(usize) -> bool; 3] = [
        &|k| {
            let c = chars[k - 1].1;
            matches!(c, '，' | '、' | '：' | '…' | '—')
                || (matches!(c, ',' | ':')
                    && !(k >= 2 && chars[k - 2].1.is_ascii_digit() && chars[k].1.is_ascii_digit()))
        },
        &|k| chars[k - 1].1.is_whitespace(),
        &|k| !(in_word(chars[k - 1].1) && in_word(chars[k].1)),
    ];
    for tier in tiers {
        if let Some(k) = (1..chars.len())
            .filter(|&k| tier(k))
            .min_by_key(|&k| k.abs_diff(middle))
        {
            return Some(chars[k].0);
        }
    }
    Some(chars[middle].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_spans() {
        assert_eq!(
            sentences("您好。请按1！“谢谢。”再见"),
            ["您好。", "请按1！", "“谢谢。”", "再见"]
        );
        assert_eq!(sentences("a\n\nb"), ["a\n\n", "b"]);
        assert!(sentences("").is_empty());
    }

    #[test]
    fn cuts() {
        assert_eq!(cut_point("一"), None);
        let s = "您好，欢迎致电，请按一";
        let at = cut_point(s).unwrap();
        assert!(s[..at].ends_with('，'));
        // No clause punctuation: never inside a number.
        let s = "一二三4567八九十";
        let at = cut_point(s).unwrap();
        assert!(
            !s[..at].ends_with(|c: char| c.is_ascii_digit())
                || !s[at..].starts_with(|c: char| c.is_ascii_digit())
        );
    }
}
