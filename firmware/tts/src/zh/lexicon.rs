//! Pinyin readings of characters and phrases: the `zh-lexicon.txt` table that
//! `tools/models/convert_zh_lexicon.py` makes from pypinyin's MIT dictionaries.
//!
//! A word (one jieba token) is read the way `pypinyin.lazy_pinyin` reads it: cut by forward
//! maximum matching against the phrase table, each piece read from the phrase table when it
//! is a phrase, else character by character (first reading). The phrase table is what
//! settles polyphones: 银行 hang2, 行长 hang2 zhang3, 重庆 chong2, 便宜 pian2 yi5.
//!
//! Memory: keys live in one string, readings in one `u16` array, both in sorted order, so
//! prefix and exact lookups are binary searches; about 3 MB for 42 k characters and 47 k
//! phrases. Loading parses the 1.8 MB table once and never touches the network.

use std::collections::HashMap;
use std::path::Path;

use super::{ipa, ZhError};

/// First line of a table this loader understands.
const FORMAT: &str = "# yingda-zh-lexicon 1";

/// Character and phrase readings, with each distinct syllable's Kokoro symbols.
#[derive(Debug)]
pub(crate) struct Lexicon {
    /// Kokoro symbols of each interned syllable.
    symbols: Vec<Box<str>>,
    /// First reading of each character.
    chars: HashMap<char, u16>,
    /// Phrase keys, concatenated in sorted order.
    keys: String,
    /// End (byte offset in `keys`) of each phrase key.
    key_ends: Vec<u32>,
    /// Syllables of every phrase, concatenated in the same order.
    readings: Vec<u16>,
    /// End (index in `readings`) of each phrase's syllables.
    reading_ends: Vec<u32>,
}

/// Interns tone3 syllables while the table is read.
#[derive(Default)]
struct Interner {
    ids: HashMap<Box<str>, u16>,
    symbols: Vec<Box<str>>,
}

impl Interner {
    fn id(&mut self, tone3: &str) -> Result<u16, String> {
        if let Some(&id) = self.ids.get(tone3) {
            return Ok(id);
        }
        let symbols =
            ipa::syllable(tone3).ok_or_else(|| format!("not a pinyin syllable: {tone3:?}"))?;
        let id = u16::try_from(self.symbols.len())
            .map_err(|_| "more than 65535 syllables".to_owned())?;
        self.symbols.push(symbols.into_boxed_str());
        self.ids.insert(tone3.into(), id);
        Ok(id)
    }
}

impl Lexicon {
    /// Reads `zh-lexicon.txt`. Errors name the file and line.
    pub(crate) fn load(path: &Path) -> Result<Self, ZhError> {
        let text = std::fs::read_to_string(path).map_err(|source| ZhError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|(line, reason)| ZhError::Lexicon {
            file: path.to_path_buf(),
            line,
            reason,
        })
    }

    /// Parses the table; errors carry the 1-based line number.
    pub(crate) fn parse(text: &str) -> Result<Self, (usize, String)> {
        let mut interner = Interner::default();
        let mut lex = Lexicon {
            symbols: Vec::new(),
            chars: HashMap::new(),
            keys: String::new(),
            key_ends: Vec::new(),
            readings: Vec::new(),
            reading_ends: Vec::new(),
        };
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, first)) if first == FORMAT => {}
            _ => return Err((1, format!("first line is not {FORMAT:?}"))),
        }
        let mut last_key = String::new();
        for (i, line) in lines {
            let no = i + 1;
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let mut fields = line.split('\t');
            let (Some(kind), Some(key), Some(sylls), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err((no, "expected three tab-separated fields".into()));
            };
            let ids = sylls
                .split(' ')
                .map(|s| interner.id(s))
                .collect::<Result<Vec<u16>, String>>()
                .map_err(|e| (no, e))?;
            match kind {
                "c" => {
                    let mut it = key.chars();
                    let (Some(c), None, [id]) = (it.next(), it.next(), ids.as_slice()) else {
                        return Err((
                            no,
                            "a character record needs one character and one syllable".into(),
                        ));
                    };
                    if lex.chars.insert(c, *id).is_some() {
                        return Err((no, format!("character {c} listed twice")));
                    }
                }
                "p" => {
                    if key.chars().count() != ids.len() {
                        return Err((no, format!("phrase {key} has {} syllables", ids.len())));
                    }
                    if !lex.key_ends.is_empty() && key <= last_key.as_str() {
                        return Err((no, format!("phrase {key} is out of order or repeated")));
                    }
                    last_key.clear();
                    last_key.push_str(key);
                    lex.keys.push_str(key);
                    lex.key_ends
                        .push(offset(lex.keys.len()).map_err(|e| (no, e))?);
                    lex.readings.extend_from_slice(&ids);
                    lex.reading_ends
                        .push(offset(lex.readings.len()).map_err(|e| (no, e))?);
                }
                other => return Err((no, format!("unknown record kind {other:?}"))),
            }
        }
        if lex.chars.is_empty() {
            return Err((1, "no character readings".into()));
        }
        lex.symbols = interner.symbols;
        lex.keys.shrink_to_fit();
        lex.readings.shrink_to_fit();
        lex.key_ends.shrink_to_fit();
        lex.reading_ends.shrink_to_fit();
        lex.chars.shrink_to_fit();
        Ok(lex)
    }

    /// Number of characters with a reading and of phrases.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.chars.len(), self.key_ends.len())
    }

    /// Approximate heap bytes held by the tables.
    pub(crate) fn heap_bytes(&self) -> usize {
        let syllables: usize = self.symbols.iter().map(|s| s.len() + 16).sum();
        // hashbrown: one control byte plus the (char, u16) slot per bucket.
        let chars = self.chars.capacity() * (1 + std::mem::size_of::<(char, u16)>());
        syllables
            + chars
            + self.keys.capacity()
            + self.key_ends.capacity() * 4
            + self.readings.capacity() * 2
            + self.reading_ends.capacity() * 4
    }

    /// Kokoro symbols of syllable `id`.
    pub(crate) fn symbols(&self, id: u16) -> &str {
        &self.symbols[usize::from(id)]
    }

    fn key(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.key_ends[i - 1] as usize
        };
        &self.keys[start..self.key_ends[i] as usize]
    }

    fn phrase_readings(&self, i: usize) -> &[u16] {
        let start = if i == 0 {
            0
        } else {
            self.reading_ends[i - 1] as usize
        };
        &self.readings[start..self.reading_ends[i] as usize]
    }

    /// (whether some phrase starts with `s`, the phrase `s` itself if it is one).
    fn lookup(&self, s: &str) -> (bool, Option<usize>) {
        let (mut lo, mut hi) = (0, self.key_ends.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.key(mid) < s {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo == self.key_ends.len() {
            return (false, None);
        }
        let k = self.key(lo);
        (k.starts_with(s), (k == s).then_some(lo))
    }

    /// First reading of one character.
    pub(crate) fn char_reading(&self, c: char) -> Option<u16> {
        self.chars.get(&c).copied()
    }

    /// Appends the syllables of `word` (a run of Chinese characters) the way
    /// `lazy_pinyin` finds them: forward maximum matching over the phrase table, where a
    /// piece that is only a prefix of longer phrases falls back to its first character,
    /// and a tail that runs out while still a prefix is read character by character.
    /// Characters without any reading add nothing.
    pub(crate) fn word_readings(&self, word: &str, out: &mut Vec<u16>) {
        let bounds: Vec<usize> = word
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(word.len()))
            .collect();
        let n = bounds.len() - 1;
        let mut start = 0;
        while start < n {
            let mut longest: Option<(usize, usize)> = None;
            let mut ran_out = true;
            for end in start + 1..=n {
                let (is_prefix, phrase) = self.lookup(&word[bounds[start]..bounds[end]]);
                if !is_prefix {
                    ran_out = false;
                    break;
                }
                if let Some(p) = phrase {
                    longest = Some((end, p));
                }
            }
            match longest {
                Some((end, p)) => {
                    out.extend_from_slice(self.phrase_readings(p));
                    start = end;
                }
                None if ran_out => {
                    for c in word[bounds[start]..].chars() {
                        out.extend(self.char_reading(c));
                    }
                    start = n;
                }
                None => {
                    let c = word[bounds[start]..].chars().next().unwrap_or_default();
                    out.extend(self.char_reading(c));
                    start += 1;
                }
            }
        }
    }
}

fn offset(n: usize) -> Result<u32, String> {
    u32::try_from(n).map_err(|_| "table larger than 4 GiB".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "# yingda-zh-lexicon 1\n# test\n\
        c\t银\tyin2\nc\t行\txing2\nc\t长\tchang2\nc\t大\tda4\nc\t中\tzhong1\nc\t国\tguo2\nc\t人\tren2\nc\t家\tjia1\n\
        p\t中国\tzhong1 guo2\np\t中国人民\tzhong1 guo2 ren2 min2\np\t大银行家\tda4 yin2 hang2 jia1\np\t行长\thang2 zhang3\np\t银行\tyin2 hang2\n";

    fn read(lex: &Lexicon, word: &str) -> Vec<String> {
        let mut ids = Vec::new();
        lex.word_readings(word, &mut ids);
        ids.iter().map(|&i| lex.symbols(i).to_owned()).collect()
    }

    #[test]
    fn phrases_settle_polyphones() {
        let lex = Lexicon::parse(TABLE).unwrap();
        assert_eq!(lex.counts(), (8, 5));
        assert_eq!(read(&lex, "银行"), ["i↗n", "xa↗ŋ"]);
        assert_eq!(read(&lex, "行"), ["ɕi↗ŋ"]);
        assert_eq!(read(&lex, "银行行长"), ["i↗n", "xa↗ŋ", "xa↗ŋ", "ꭧa↓ŋ"]);
        assert_eq!(read(&lex, "中国人"), ["ꭧʊ→ŋ", "kwo↗", "ɻə↗n"]);
    }

    #[test]
    fn a_tail_that_is_only_a_prefix_is_read_per_character() {
        let lex = Lexicon::parse(TABLE).unwrap();
        // 大银行 is a prefix of 大银行家 and no piece from 大 is a phrase, and the word ends
        // there: pypinyin reads it character by character, 行 as xing2, although 银行 is a
        // phrase.
        assert_eq!(read(&lex, "大银行"), ["ta↘", "i↗n", "ɕi↗ŋ"]);
        assert_eq!(read(&lex, "大银行家"), ["ta↘", "i↗n", "xa↗ŋ", "ʨja→"]);
        // 中国人 is a prefix of 中国人民: the longest phrase seen, 中国, is taken.
        assert_eq!(read(&lex, "中国人"), ["ꭧʊ→ŋ", "kwo↗", "ɻə↗n"]);
    }

    #[test]
    fn bad_tables_name_the_line() {
        assert_eq!(Lexicon::parse("").unwrap_err().0, 1);
        let bad = "# yingda-zh-lexicon 1\nc\t中\tzhong9\n";
        assert_eq!(Lexicon::parse(bad).unwrap_err().0, 2);
        let unsorted =
            "# yingda-zh-lexicon 1\nc\t中\tzhong1\np\t银行\tyin2 hang2\np\t中国\tzhong1 guo2\n";
        assert_eq!(Lexicon::parse(unsorted).unwrap_err().0, 4);
        let short = "# yingda-zh-lexicon 1\np\t中国\tzhong1\n";
        assert_eq!(Lexicon::parse(short).unwrap_err().0, 2);
    }
}
