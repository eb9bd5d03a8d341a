//! Approximate phrase search in transcripts, by sound for Mandarin and by spelling for
//! English: where in "我想看压科" is something that sounds like 牙科, and how far is it?
//!
//! A text becomes a sequence of [`Unit`]s: each Han character one pinyin syllable (read
//! with the [`Lexicon`]; without one, the character itself), each run of letters or digits
//! one word; spaces and punctuation only separate. [`closest_span`] then finds the span of
//! the transcript with the smallest weighted edit distance to the phrase (Sellers'
//! approximate substring matching: carrier words before and after cost nothing), where
//! substituting one unit for another costs how different they sound or are spelled
//! ([`Unit::distance`]) and inserting or deleting one costs 1.
//!
//! Nothing here panics on any text; work is `O(phrase × transcript)`.

use crate::grammar::fold_width;
use crate::pinyin::{Lexicon, Syllable};

/// One unit of a text, with where it is in that text (byte offsets).
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// What it is.
    pub kind: UnitKind,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just after it.
    pub end: usize,
}

/// The comparable content of a [`Unit`].
#[derive(Debug, Clone, PartialEq)]
pub enum UnitKind {
    /// A Han character read as pinyin.
    Syllable(Syllable),
    /// A Han character without a reading (no lexicon, or a rare character).
    Char(char),
    /// A lower-cased run of letters or digits.
    Word(String),
}

impl Unit {
    /// How different two units are, 0 … 1.
    pub fn distance(&self, other: &Unit) -> f32 {
        match (&self.kind, &other.kind) {
            (UnitKind::Syllable(a), UnitKind::Syllable(b)) => a.distance(b),
            (UnitKind::Char(a), UnitKind::Char(b)) if a == b => 0.0,
            (UnitKind::Word(a), UnitKind::Word(b)) => word_distance(a, b),
            _ => 1.0,
        }
    }
}

/// Spelling distance of two words: character edits over the longer length, or 1 when
/// more than half the word differs (then they are different words, not a misspelling).
fn word_distance(a: &str, b: &str) -> f32 {
    if a == b {
        return 0.0;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let d = edit_distance(&a, &b) as f32 / a.len().max(b.len()).max(1) as f32;
    if d > 0.5 {
        1.0
    } else {
        d
    }
}

/// Levenshtein distance between two sequences (unit costs); also what the benchmark's
/// CER and WER count.
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn is_han(c: char) -> bool {
    matches!(u32::from(c), 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// Splits `text` into units (module docs); `lexicon` reads Han characters as pinyin.
pub fn units(text: &str, lexicon: Option<&Lexicon>) -> Vec<Unit> {
    let mut out = Vec::new();
    // Han characters are read together so that the lexicon's phrases settle polyphones.
    let mut han: Vec<(usize, char)> = Vec::new();
    let mut word: Option<(usize, String)> = None;
    let flush_han = |han: &mut Vec<(usize, char)>, out: &mut Vec<Unit>| {
        if han.is_empty() {
            return;
        }
        let chars: Vec<char> = han.iter().map(|&(_, c)| c).collect();
        let read = lexicon.map(|l| l.read(&chars));
        for (k, &(at, c)) in han.iter().enumerate() {
            let kind = match read.as_ref().and_then(|r| r.get(k).copied().flatten()) {
                Some(s) => UnitKind::Syllable(s.clone()),
                None => UnitKind::Char(c),
            };
            out.push(Unit {
                kind,
                start: at,
                end: at + c.len_utf8(),
            });
        }
        han.clear();
    };
    let flush_word = |word: &mut Option<(usize, String)>, end: usize, out: &mut Vec<Unit>| {
        if let Some((start, w)) = word.take() {
            out.push(Unit {
                kind: UnitKind::Word(w),
                start,
                end,
            });
        }
    };
    for (at, raw) in text.char_indices() {
        let c = fold_width(raw);
        if is_han(c) {
            flush_word(&mut word, at, &mut out);
            han.push((at, c));
        } else if c.is_alphanumeric() || (c == '\'' && word.is_some()) {
            flush_han(&mut han, &mut out);
            let w = word.get_or_insert_with(|| (at, String::new()));
            w.1.extend(c.to_lowercase());
        } else {
            flush_han(&mut han, &mut out);
            flush_word(&mut word, at, &mut out);
        }
    }
    flush_han(&mut han, &mut out);
    flush_word(&mut word, text.len(), &mut out);
    out
}

/// The span `[start, end)` (unit indices) of `text` closest to `pattern`, and its
/// weighted edit distance (module docs). An empty `text` costs the whole pattern.
pub fn closest_span(pattern: &[Unit], text: &[Unit]) -> (f32, usize, usize) {
    let n = text.len();
    // cost[j], start[j]: best alignment of the pattern prefix ending at text position j.
    let mut cost: Vec<f32> = vec![0.0; n + 1];
    let mut start: Vec<usize> = (0..=n).collect();
    for (i, p) in pattern.iter().enumerate() {
        let mut diag_cost = cost[0];
        let mut diag_start = start[0];
        cost[0] = (i + 1) as f32;
        start[0] = 0;
        for j in 1..=n {
            let (up_cost, up_start) = (cost[j], start[j]);
            let sub = diag_cost + p.distance(&text[j - 1]);
            let del = up_cost + 1.0;
            let ins = cost[j - 1] + 1.0;
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
    // The cheapest end; among equals the longest span (latest end).
    let mut best = (pattern.len() as f32, 0, 0);
    for (j, &c) in cost.iter().enumerate() {
        if c <= best.0 {
            best = (c, start[j], j);
        }
    }
    best
}

/// How well `phrase` occurs somewhere in `text`: 1 − distance / phrase units, in 0 … 1,
/// with the span's byte range in `text` (empty at 0 when nothing matches).
pub fn similarity(phrase: &[Unit], text: &[Unit]) -> (f32, std::ops::Range<usize>) {
    if phrase.is_empty() {
        return (0.0, 0..0);
    }
    let (dist, s, e) = closest_span(phrase, text);
    let bytes = if s < e {
        text[s].start..text[e - 1].end
    } else {
        let at = text.get(s).map_or(0, |u| u.start);
        at..at
    };
    ((1.0 - dist / phrase.len() as f32).max(0.0), bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "# yingda-zh-lexicon 1\nc\t我\two3\nc\t想\txiang3\nc\t看\tkan4\nc\t牙\tya2\nc\t压\tya1\nc\t科\tke1\nc\t眼\tyan3\nc\t儿\ter2\nc\t而\ter2\n";

    fn lex() -> Lexicon {
        Lexicon::parse(TABLE).unwrap()
    }

    #[test]
    fn a_homophone_inside_carrier_words_matches_fully() {
        let lex = lex();
        let text = units("我想看压科。", Some(&lex));
        let (sim, bytes) = similarity(&units("牙科", Some(&lex)), &text);
        assert!(sim > 0.9, "{sim}");
        assert_eq!(&"我想看压科。"[bytes], "压科");
        let (sim_eye, _) = similarity(&units("眼科", Some(&lex)), &text);
        assert!(sim_eye < sim, "{sim_eye} vs {sim}");
    }

    #[test]
    fn without_a_lexicon_characters_must_be_equal() {
        let text = units("我想看压科", None);
        let (sim, _) = similarity(&units("牙科", None), &text);
        assert!((sim - 0.5).abs() < 1e-6, "{sim}");
    }

    #[test]
    fn english_words_match_with_misspellings_and_case() {
        let text = units("Um, dentestry, please.", None);
        let (sim, bytes) = similarity(&units("dentistry", None), &text);
        assert!(sim > 0.85, "{sim}");
        assert_eq!(&"Um, dentestry, please."[bytes], "dentestry");
        let (sim, _) = similarity(&units("check my balance", None), &units("balance", None));
        assert!((sim - 1.0 / 3.0).abs() < 1e-6, "{sim}");
        assert_eq!(word_distance("yes", "no"), 1.0);
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
        assert_eq!(edit_distance::<u8>(b"", b"abc"), 3);
    }

    #[test]
    fn units_split_scripts_and_fold_full_width() {
        let u = units("我要ＡＢ 12，ok's", None);
        let kinds: Vec<&UnitKind> = u.iter().map(|u| &u.kind).collect();
        assert_eq!(
            kinds,
            [
                &UnitKind::Char('我'),
                &UnitKind::Char('要'),
                &UnitKind::Word("ab".into()),
                &UnitKind::Word("12".into()),
                &UnitKind::Word("ok's".into()),
            ]
        );
    }

    #[test]
    fn empty_inputs_do_not_match() {
        assert_eq!(similarity(&[], &units("abc", None)).0, 0.0);
        assert_eq!(similarity(&units("牙科", None), &[]).0, 0.0);
    }
}
