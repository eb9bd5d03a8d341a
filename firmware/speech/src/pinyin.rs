//! Pinyin readings of Mandarin text, for matching what the recogniser wrote against a
//! grammar's phrases by sound rather than by character (Whisper base often writes a
//! homophone: 压科 for 牙科, 而科 for 儿科).
//!
//! The table is the installed `zh-lexicon` model (`zh-lexicon/zh-lexicon.txt`, made by
//! `tools/models/convert_zh_lexicon.py` from pypinyin's MIT dictionaries): lines
//! `c<TAB>char<TAB>syllable` and `p<TAB>phrase<TAB>syllables`, tone3 spelling (`ke1`, `lve4`,
//! neutral tone 5). Text is read by forward maximum matching against the phrase table, each
//! remaining character by its first reading, the way `pypinyin.lazy_pinyin` reads a word.
//! The text-to-speech front end has its own reader of the same file (with Kokoro symbols);
//! this one keeps only what matching needs and depends on nothing of it.
//!
//! This module does no I/O except [`Lexicon::load`] and never panics on any text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::models::{Manifest, ModelError};

/// First line of a table this reader understands.
const FORMAT: &str = "# yingda-zh-lexicon 1";
/// Longest phrase (characters) the table holds.
const MAX_PHRASE_CHARS: usize = 10;

/// Why the lexicon could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PinyinError {
    /// The manifest or a file failed verification (the message names it).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The table is not in the expected format.
    #[error("{}: line {line}: {reason}", file.display())]
    Format {
        /// The table.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// One syllable: initial, final (both without tone) and tone 1–5.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Syllable {
    /// `zh`, `b`, `y`, … or empty.
    pub initial: Box<str>,
    /// `iang`, `e`, `v` (ü), …
    pub final_: Box<str>,
    /// 1–4, 5 for neutral.
    pub tone: u8,
}

const INITIALS: [&str; 23] = [
    "zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r",
    "z", "c", "s", "y", "w",
];

impl Syllable {
    /// Parses a tone3 syllable (`xiang3`, `er5`, `lve4`); `None` if it is not one.
    pub fn parse(tone3: &str) -> Option<Self> {
        let (body, tone) = match tone3.as_bytes().last()? {
            d @ b'1'..=b'5' => (&tone3[..tone3.len() - 1], d - b'0'),
            _ => (tone3, 5),
        };
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
        let initial = INITIALS
            .iter()
            .find(|i| body.starts_with(**i) && body.len() > i.len())
            .copied()
            .unwrap_or("");
        Some(Self {
            initial: initial.into(),
            final_: body[initial.len()..].into(),
            tone,
        })
    }

    /// How different two syllables sound, 0 (same) … 1 (unrelated): a tone alone costs 0.1,
    /// a near pair (zh/z, n/l, an/ang, …) 0.35 per part, a different part 0.6.
    pub fn distance(&self, other: &Syllable) -> f32 {
        let initial = part_distance(&self.initial, &other.initial, SIMILAR_INITIALS);
        let final_ = part_distance(&self.final_, &other.final_, SIMILAR_FINALS);
        let tone = if self.tone == other.tone { 0.0 } else { 0.1 };
        (initial + final_ + tone).min(1.0)
    }
}

/// Initials callers and the recogniser confuse (southern accents, telephone band).
const SIMILAR_INITIALS: &[(&str, &str)] = &[
    ("z", "zh"),
    ("c", "ch"),
    ("s", "sh"),
    ("n", "l"),
    ("l", "r"),
    ("f", "h"),
    ("b", "p"),
    ("d", "t"),
    ("g", "k"),
    ("j", "q"),
    ("", "y"),
    ("", "w"),
];
/// Finals that differ only in the nasal or a glide.
const SIMILAR_FINALS: &[(&str, &str)] = &[
    ("an", "ang"),
    ("en", "eng"),
    ("in", "ing"),
    ("ian", "iang"),
    ("uan", "uang"),
    ("ong", "eng"),
    ("a", "ia"),
    ("e", "ie"),
    ("i", "v"),
    ("u", "v"),
    ("ui", "ei"),
    ("un", "en"),
];

fn part_distance(a: &str, b: &str, near: &[(&str, &str)]) -> f32 {
    if a == b {
        0.0
    } else if near
        .iter()
        .any(|&(x, y)| (x == a && y == b) || (x == b && y == a))
    {
        0.35
    } else {
        0.6
    }
}

/// The character and phrase readings of the installed `zh-lexicon` model.
#[derive(Debug, Default)]
pub struct Lexicon {
    /// Each distinct syllable once.
    syllables: Vec<Syllable>,
    /// First reading of each character.
    chars: HashMap<char, u16>,
    /// Readings of multi-character phrases.
    phrases: HashMap<Box<str>, Box<[u16]>>,
}

impl Lexicon {
    /// Verifies the installed `zh-lexicon` model under `models_dir` (sha256 of its files)
    /// and reads its table.
    pub fn load(models_dir: impl AsRef<Path>) -> Result<Self, PinyinError> {
        let models_dir = models_dir.as_ref();
        let manifest = Manifest::load(models_dir.join("zh-lexicon").join("manifest.toml"))?;
        let verified = manifest.verify(models_dir)?;
        let file = verified
            .file("zh-lexicon.txt")
            .map(Path::to_path_buf)
            .unwrap_or_else(|| verified.dir.join("zh-lexicon.txt"));
        let text = std::fs::read_to_string(&file).map_err(|source| {
            PinyinError::Model(ModelError::Io {
                file: file.clone(),
                source,
            })
        })?;
        Self::parse(&text).map_err(|(line, reason)| PinyinError::Format { file, line, reason })
    }

    /// Parses the table; errors carry the 1-based line number.
    pub fn parse(text: &str) -> Result<Self, (usize, String)> {
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, first)) if first.trim_end() == FORMAT => {}
            _ => return Err((1, format!("first line must be {FORMAT:?}"))),
        }
        let mut lex = Lexicon::default();
        let mut ids: HashMap<String, u16> = HashMap::new();
        for (i, line) in lines {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut cols = line.split('\t');
            let (Some(kind), Some(key), Some(reading), None) =
                (cols.next(), cols.next(), cols.next(), cols.next())
            else {
                return Err((i + 1, "expected kind<TAB>text<TAB>reading".into()));
            };
            let mut syllables = Vec::new();
            for s in reading.split(' ') {
                let id = match ids.get(s) {
                    Some(&id) => id,
                    None => {
                        let syl = Syllable::parse(s)
                            .ok_or_else(|| (i + 1, format!("not a pinyin syllable: {s:?}")))?;
                        let id = u16::try_from(lex.syllables.len())
                            .map_err(|_| (i + 1, "more than 65535 syllables".to_owned()))?;
                        lex.syllables.push(syl);
                        ids.insert(s.to_owned(), id);
                        id
                    }
                };
                syllables.push(id);
            }
            match kind {
                "c" => {
                    let mut chars = key.chars();
                    let (Some(c), None, [id]) = (chars.next(), chars.next(), &syllables[..]) else {
                        return Err((
                            i + 1,
                            "a c line holds one character and one syllable".into(),
                        ));
                    };
                    lex.chars.insert(c, *id);
                }
                "p" => {
                    if key.chars().count() != syllables.len() {
                        return Err((i + 1, "one syllable per character expected".into()));
                    }
                    lex.phrases.insert(key.into(), syllables.into());
                }
                other => return Err((i + 1, format!("unknown line kind {other:?}"))),
            }
        }
        Ok(lex)
    }

    /// The reading of each character of `chars` that has one (`None` for the others).
    pub fn read(&self, chars: &[char]) -> Vec<Option<&Syllable>> {
        let mut out = Vec::with_capacity(chars.len());
        let mut i = 0;
        let mut key = String::new();
        while i < chars.len() {
            let longest = (2..=MAX_PHRASE_CHARS.min(chars.len() - i))
                .rev()
                .find_map(|n| {
                    key.clear();
                    key.extend(&chars[i..i + n]);
                    self.phrases.get(key.as_str())
                });
            match longest {
                Some(ids) => {
                    out.extend(ids.iter().map(|&id| self.syllables.get(usize::from(id))));
                    i += ids.len();
                }
                None => {
                    out.push(
                        self.chars
                            .get(&chars[i])
                            .and_then(|&id| self.syllables.get(usize::from(id))),
                    );
                    i += 1;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "# yingda-zh-lexicon 1\n# comment\nc\t牙\tya2\nc\t压\tya1\nc\t科\tke1\nc\t眼\tyan3\nc\t行\txing2\nc\t银\tyin2\np\t银行\tyin2 hang2\n";

    fn syl(s: &str) -> Syllable {
        Syllable::parse(s).unwrap()
    }

    #[test]
    fn syllables_split_into_initial_final_and_tone() {
        assert_eq!(
            syl("zhuang4"),
            Syllable {
                initial: "zh".into(),
                final_: "uang".into(),
                tone: 4
            }
        );
        assert_eq!(syl("er5").initial.as_ref(), "");
        assert_eq!(syl("a").tone, 5);
        assert!(Syllable::parse("ke9x").is_none());
        assert!(Syllable::parse("").is_none());
    }

    #[test]
    fn homophones_are_close_and_other_syllables_far() {
        assert!(syl("ya1").distance(&syl("ya2")) <= 0.1);
        assert!(syl("zhi1").distance(&syl("zi1")) < 0.5);
        assert!(syl("yan3").distance(&syl("ya2")) > 0.5);
        assert_eq!(syl("ke1").distance(&syl("ke1")), 0.0);
        assert_eq!(syl("xiang3").distance(&syl("bo1")), 1.0);
    }

    #[test]
    fn phrases_settle_polyphones() {
        let lex = Lexicon::parse(TABLE).unwrap();
        let text: Vec<char> = "银行压科x".chars().collect();
        let read: Vec<Option<String>> = lex
            .read(&text)
            .into_iter()
            .map(|s| s.map(|s| format!("{}{}{}", s.initial, s.final_, s.tone)))
            .collect();
        let want = ["yin2", "hang2", "ya1", "ke1"];
        for (got, want) in read.iter().zip(want) {
            assert_eq!(got.as_deref(), Some(want));
        }
        assert_eq!(read[4], None);
    }

    #[test]
    fn bad_tables_name_the_line() {
        assert_eq!(Lexicon::parse("c\t牙\tya2\n").unwrap_err().0, 1);
        let bad = "# yingda-zh-lexicon 1\nc\t牙\tya2\nc\t科\tk!\n";
        assert_eq!(Lexicon::parse(bad).unwrap_err().0, 3);
        let bad = "# yingda-zh-lexicon 1\np\t银行\tyin2\n";
        assert_eq!(Lexicon::parse(bad).unwrap_err().0, 2);
    }
}
