//! Chinese text (numbers already in words) to Kokoro symbols, step for step as misaki's
//! legacy `ZHG2P` (`version=None`, the front end Kokoro-82M v1.0 was trained with):
//!
//! 1. Chinese punctuation to ASCII with a trailing space (`，` → `, `, `《` → ` “`), trimmed;
//! 2. the text cut into runs of CJK Unified Ideographs (U+4E00–U+9FFF) and runs of anything
//!    else; the other runs are copied as they are;
//! 3. each CJK run segmented with jieba (dictionary + HMM), words joined by one space;
//! 4. each word read with the pinyin lexicon ([`super::lexicon`]) and each syllable written
//!    with its Kokoro symbols, no space inside a word;
//! 5. whatever Kokoro has no token for dropped (Kokoro would drop it silently).
//!
//! No tone sandhi: misaki's legacy path has none (三声连读 and 一/不 changes appear only
//! where pypinyin's phrase table spells them, e.g. 一个 yi2 ge4), and Kokoro v1.0 learnt
//! its Mandarin from exactly these citation tones.

use jieba_rs::Jieba;

use super::lexicon::Lexicon;
use super::{ipa, polyphones, vocab};

/// misaki's punctuation mapping, then Python's `str.strip()`.
pub(crate) fn map_punctuation(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '、' | '，' => out.push_str(", "),
            '。' | '．' => out.push_str(". "),
            '！' => out.push_str("! "),
            '：' => out.push_str(": "),
            '；' => out.push_str("; "),
            '？' => out.push_str("? "),
            '«' | '《' | '「' | '【' => out.push_str(" “"),
            '»' | '》' | '」' | '】' => out.push_str("” "),
            '（' => out.push_str(" ("),
            '）' => out.push_str(") "),
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}

/// What misaki treats as Chinese: the CJK Unified Ideographs block.
pub(crate) fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// Python jieba's Han class ends at U+9FD5; later ideographs come out one per word.
fn jieba_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fd5}').contains(&c)
}

/// Appends the Kokoro symbols of `text` (normalised: no digits left to read) to `out`.
/// With `fix_polyphones`, words in [`polyphones`] are read with their IVR reading.
pub(crate) fn phonemize(
    text: &str,
    jieba: &Jieba,
    lexicon: &Lexicon,
    fix_polyphones: bool,
    out: &mut String,
) {
    let mapped = map_punctuation(text);
    let mut raw = String::with_capacity(mapped.len() * 3);
    let mut syllables = Vec::new();
    let mut rest = mapped.as_str();
    while let Some(first) = rest.chars().next() {
        let cjk = is_cjk(first);
        let len = rest
            .char_indices()
            .find(|&(_, c)| is_cjk(c) != cjk)
            .map_or(rest.len(), |(i, _)| i);
        let (run, tail) = rest.split_at(len);
        rest = tail;
        if !cjk {
            raw.push_str(run);
            continue;
        }
        let mut first_word = true;
        let mut word = |w: &str, raw: &mut String| {
            if !first_word {
                raw.push(' ');
            }
            first_word = false;
            if let Some(reading) = fix_polyphones.then(|| polyphones::lookup(w)).flatten() {
                for s in reading.split(' ').filter_map(ipa::syllable) {
                    raw.push_str(&s);
                }
                return;
            }
            syllables.clear();
            lexicon.word_readings(w, &mut syllables);
            for &s in &syllables {
                raw.push_str(lexicon.symbols(s));
            }
        };
        let mut han = run;
        while !han.is_empty() {
            let split = han
                .char_indices()
                .find(|&(_, c)| !jieba_han(c))
                .map_or(han.len(), |(i, _)| i);
            let (block, tail) = han.split_at(split);
            if !block.is_empty() {
                for token in jieba.cut(block, true) {
                    word(token.word, &mut raw);
                }
            }
            if let Some(c) = tail.chars().next() {
                word(&tail[..c.len_utf8()], &mut raw);
                han = &tail[c.len_utf8()..];
            } else {
                han = tail;
            }
        }
    }
    out.extend(raw.chars().filter(|&c| vocab::is_symbol(c)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_like_misaki() {
        assert_eq!(map_punctuation("您好，欢迎。"), "您好, 欢迎.");
        assert_eq!(map_punctuation("《规定》（试行）"), "“规定”  (试行)");
        assert_eq!(map_punctuation("  、 "), ",");
    }
}
