//! The symbols of Kokoro-82M v1.0's token vocabulary (`vocab.json` of the kokoro-82m
//! model), the only characters the front end may emit.
//!
//! Kokoro silently drops every character of its input that is not in the vocabulary; the
//! front end drops them first, so what it reports is exactly what the model reads, and its
//! token count is the number of characters. The list is checked against the installed
//! `vocab.json` by `tests/tts_zh_vocab.rs`.

/// Every symbol of the vocabulary, sorted by code point (114 symbols, one char each).
pub const SYMBOLS: [char; 114] = [
    ' ', '!', '"', '(', ')', ',', '.', ':', ';', '?', 'A', 'I', 'O', 'Q', 'S', 'T', 'W', 'Y', 'a',
    'b', 'c', 'd', 'e', 'f', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u',
    'v', 'w', 'x', 'y', 'z', '\u{e6}', '\u{e7}', '\u{f0}', '\u{f8}', '\u{14b}', '\u{153}',
    '\u{250}', '\u{251}', '\u{252}', '\u{254}', '\u{255}', '\u{256}', '\u{259}', '\u{25a}',
    '\u{25b}', '\u{25c}', '\u{25f}', '\u{261}', '\u{263}', '\u{264}', '\u{265}', '\u{268}',
    '\u{26a}', '\u{26f}', '\u{270}', '\u{272}', '\u{273}', '\u{274}', '\u{278}', '\u{279}',
    '\u{27b}', '\u{27d}', '\u{27e}', '\u{281}', '\u{282}', '\u{283}', '\u{288}', '\u{28a}',
    '\u{28b}', '\u{28c}', '\u{28e}', '\u{292}', '\u{294}', '\u{29d}', '\u{2a3}', '\u{2a4}',
    '\u{2a5}', '\u{2a6}', '\u{2a7}', '\u{2a8}', '\u{2b0}', '\u{2b2}', '\u{2c8}', '\u{2cc}',
    '\u{2d0}', '\u{303}', '\u{3b2}', '\u{3b8}', '\u{3c7}', '\u{1d4a}', '\u{1d5d}', '\u{1d7b}',
    '\u{2014}', '\u{201c}', '\u{201d}', '\u{2026}', '\u{2192}', '\u{2193}', '\u{2197}', '\u{2198}',
    '\u{ab67}',
];

/// Whether Kokoro v1.0 has a token for `c`.
pub fn is_symbol(c: char) -> bool {
    SYMBOLS.binary_search(&c).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_unique() {
        assert!(SYMBOLS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn mandarin_symbols_are_in() {
        for c in "ꭧʰʨʦɕʂɻɨɚɤəɛɥʊŋ→↗↓↘ ,.!?:;“”()".chars() {
            assert!(is_symbol(c), "{c}");
        }
        for c in "g˥˩˧\u{32f}\u{329}¥#%\n".chars() {
            assert!(!is_symbol(c), "{c:?}");
        }
    }
}
