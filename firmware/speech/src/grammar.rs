//! Menu grammars: the file format flows and `yingda-diag asr --grammar FILE` share, the text
//! normalisation used for matching, and the matcher that turns a transcript into an option.
//!
//! # File format (a contract: flows and tools depend on it)
//!
//! UTF-8 text, one option per line:
//!
//! ```text
//! # department menu
//! 口腔科: 口腔科 | 牙科 | dentistry
//! yes: yes | yeah | correct | 是 | 对   # trailing comments are allowed
//! ```
//!
//! - `label: phrase | synonym | …`. The label is the text before the first `:` (or the
//!   full-width `：` a Chinese input method types); phrases are separated by `|` (or `｜`).
//!   Labels and phrases are trimmed; a label may not contain `|`.
//! - `#` starts a comment that runs to the end of the line, so phrases cannot contain `#`.
//!   Blank lines are ignored. A leading UTF-8 byte-order mark and `\r\n` line ends are
//!   accepted (Windows editors write both).
//! - Labels are unique and compared exactly. Phrases are compared after [`normalise`]: the
//!   same phrase may not appear twice in a file, under one label or two, because the
//!   matcher could never tell which option the caller meant.
//! - Limits: [`MAX_FILE_BYTES`], [`MAX_LINE_CHARS`], [`MAX_OPTIONS`], [`MAX_PHRASES`].
//!
//! The parser stops at the first problem and says where it is (1-based line and character
//! column) and what is wrong.
//!
//! # Matching
//!
//! [`Grammar::match_text`] runs on recogniser transcripts, which wrap the phrase in carrier
//! words ("我想看牙科", "dentistry please", "呃 我要挂号"). The rules:
//!
//! 1. Transcript and phrases are [`normalise`]d.
//! 2. A phrase matches if it occurs anywhere in the transcript. Where the phrase starts or
//!    ends with a letter or digit of a space-separated script (Latin, digits), the
//!    neighbouring transcript character must not be one, so `yes` does not match inside
//!    `yesterday`. Chinese characters need no boundary.
//! 3. Of all matching phrases the longest (in characters, after normalisation) wins, so
//!    `不是` (no) beats the `是` (yes) it contains.
//! 4. If the longest matching phrases belong to different labels the answer is `None`:
//!    the caller should be asked again rather than routed on a guess.
//!
//! This module never panics on any file or transcript, reads no clock and does no I/O.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// Largest grammar file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 256 * 1024;
/// Longest line accepted, in characters (comments included).
pub const MAX_LINE_CHARS: usize = 1000;
/// Most options (labelled lines) in one grammar.
pub const MAX_OPTIONS: usize = 256;
/// Most phrases under one label.
pub const MAX_PHRASES: usize = 64;

/// Why a grammar file was rejected. Lines and columns are 1-based; columns count characters,
/// not bytes.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrammarError {
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("grammar file is {bytes} bytes; the limit is {max}")]
    FileTooLarge {
        /// Size of the file.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes at this position are not UTF-8.
    #[error("line {line}, column {column}: not valid UTF-8 (save the file as UTF-8)")]
    BadUtf8 {
        /// Line of the first bad byte.
        line: usize,
        /// Column of the first bad byte.
        column: usize,
    },
    /// A line is longer than [`MAX_LINE_CHARS`].
    #[error("line {line}: {chars} characters long; the limit is {max}")]
    LineTooLong {
        /// The line.
        line: usize,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// A control character (other than tab) outside a comment.
    #[error("line {line}, column {column}: control character U+{code:04X}")]
    ControlCharacter {
        /// The line.
        line: usize,
        /// Column of the character.
        column: usize,
        /// Its code point.
        code: u32,
    },
    /// A non-blank, non-comment line without `:`.
    #[error("line {line}: no ':' between label and phrases (expected `label: phrase | synonym`)")]
    MissingColon {
        /// The line.
        line: usize,
    },
    /// Nothing but spaces before the `:`.
    #[error("line {line}: empty label before ':'")]
    EmptyLabel {
        /// The line.
        line: usize,
    },
    /// The label contains `|`, usually because the `:` is missing or misplaced.
    #[error("line {line}, column {column}: label contains '|' (is the ':' in the right place?)")]
    BarInLabel {
        /// The line.
        line: usize,
        /// Column of the `|`.
        column: usize,
    },
    /// Nothing after the `:`.
    #[error("line {line}: label {label:?} has no phrases after ':'")]
    NoPhrases {
        /// The line.
        line: usize,
        /// The label.
        label: String,
    },
    /// Nothing (or only spaces) between two separators, or after the last `|`.
    #[error("line {line}, column {column}: empty phrase")]
    EmptyPhrase {
        /// The line.
        line: usize,
        /// Column where the phrase should start.
        column: usize,
    },
    /// A phrase made only of punctuation, which normalises to nothing and could never match.
    #[error("line {line}, column {column}: phrase {phrase:?} has no letters or digits")]
    PhraseWithoutText {
        /// The line.
        line: usize,
        /// Column of the phrase.
        column: usize,
        /// The phrase as written.
        phrase: String,
    },
    /// A label defined twice.
    #[error("line {line}: label {label:?} is already defined on line {first_line}")]
    DuplicateLabel {
        /// The line with the second definition.
        line: usize,
        /// The label.
        label: String,
        /// The line with the first definition.
        first_line: usize,
    },
    /// The same phrase (after normalisation) under two different labels.
    #[error("line {line}, column {column}: phrase {phrase:?} is already a phrase of label {other_label:?} (line {other_line})")]
    PhraseUnderTwoLabels {
        /// The line of the second occurrence.
        line: usize,
        /// Its column.
        column: usize,
        /// The phrase as written the second time.
        phrase: String,
        /// The label that already has it.
        other_label: String,
        /// The line where that label has it.
        other_line: usize,
    },
    /// The same phrase (after normalisation) twice under one label.
    #[error("line {line}, column {column}: phrase {phrase:?} is listed twice for label {label:?}")]
    RepeatedPhrase {
        /// The line.
        line: usize,
        /// Column of the second occurrence.
        column: usize,
        /// The phrase as written the second time.
        phrase: String,
        /// The label.
        label: String,
    },
    /// More than [`MAX_OPTIONS`] options.
    #[error("line {line}: more than {max} options")]
    TooManyOptions {
        /// The line of the first option over the limit.
        line: usize,
        /// The limit.
        max: usize,
    },
    /// More than [`MAX_PHRASES`] phrases under one label.
    #[error("line {line}: label {label:?} has more than {max} phrases")]
    TooManyPhrases {
        /// The line.
        line: usize,
        /// The label.
        label: String,
        /// The limit.
        max: usize,
    },
    /// The file holds only blank lines and comments.
    #[error("grammar has no options")]
    NoOptions,
}

/// One menu option: the label the flow sees and the phrases that select it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrammarOption {
    /// What the flow receives, e.g. `口腔科` or `yes`.
    pub label: String,
    /// Phrases as written in the file (trimmed), in file order.
    pub phrases: Vec<String>,
}

/// A parsed grammar: options in file order.
///
/// A `Grammar` built by hand instead of by [`Grammar::parse`] skips the checks; the matcher
/// still never panics on it, and treats a phrase shared by two labels as ambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Grammar {
    /// The options.
    pub options: Vec<GrammarOption>,
}

/// What [`Grammar::match_text`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match<'g> {
    /// Label of the matched option.
    pub label: &'g str,
    /// The phrase that matched, as written in the grammar.
    pub phrase: &'g str,
    /// Share of the normalised transcript covered by the phrase, in (0, 1]; 1.0 means the
    /// caller said the phrase and nothing else. Flows may confirm low-scoring matches.
    pub score: f32,
}

/// Map full-width ASCII forms (U+FF01–U+FF5E) and the ideographic space to their ASCII
/// counterparts; everything else is returned unchanged.
pub fn fold_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Han, kana, Hangul and CJK symbols: scripts written without spaces between words.
fn is_unspaced_script(c: char) -> bool {
    matches!(u32::from(c),
        0x2E80..=0x9FFF      // radicals, CJK symbols, kana, Ext. A, unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // compatibility ideographs
        | 0x20000..=0x3FFFF) // Ext. B and later
}

/// A letter or digit of a script that separates words with spaces (Latin, digits, …).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_unspaced_script(c)
}

/// Normalise text for matching.
///
/// - Full-width forms become half-width ([`fold_width`]); letters are lower-cased.
/// - Every character that is not a letter or digit (ASCII and Chinese punctuation such as
///   `。，？！、`, symbols, whitespace, control characters) separates words and is dropped.
/// - One space is kept between two letters/digits of space-separated scripts (`yes please`);
///   next to a Chinese character it is dropped, because spaces carry no meaning in Chinese
///   and the recogniser inserts them inconsistently (`我 要 挂号` → `我要挂号`).
///
/// Traditional Chinese is not mapped to Simplified.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars().map(fold_width) {
        if !c.is_alphanumeric() {
            gap = true;
            continue;
        }
        if gap {
            if out.chars().next_back().is_some_and(is_word_char) && is_word_char(c) {
                out.push(' ');
            }
            gap = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Whether the normalised `phrase` occurs in the normalised `text` on word boundaries.
fn occurs(text: &str, phrase: &str) -> bool {
    let (Some(first), Some(last)) = (phrase.chars().next(), phrase.chars().next_back()) else {
        return false;
    };
    let mut from = 0;
    while let Some(off) = text.get(from..).and_then(|rest| rest.find(phrase)) {
        let start = from + off;
        let end = start + phrase.len();
        let before = text.get(..start).and_then(|s| s.chars().next_back());
        let after = text.get(end..).and_then(|s| s.chars().next());
        let left_ok = !(is_word_char(first) && before.is_some_and(is_word_char));
        let right_ok = !(is_word_char(last) && after.is_some_and(is_word_char));
        if left_ok && right_ok {
            return true;
        }
        let step = text
            .get(start..)
            .and_then(|s| s.chars().next())
            .map_or(1, char::len_utf8);
        from = start + step;
    }
    false
}

const BARS: [char; 2] = ['|', '｜'];
const COLONS: [char; 2] = [':', '：'];

/// 1-based character column of byte offset `byte` in `line`.
fn column(line: &str, byte: usize) -> usize {
    line.get(..byte).map_or(0, |s| s.chars().count()) + 1
}

impl Grammar {
    /// Parse a grammar file.
    ///
    /// # Errors
    /// The first problem found, as a [`GrammarError`] with its line and, where it helps,
    /// column.
    pub fn parse(bytes: &[u8]) -> Result<Grammar, GrammarError> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(GrammarError::FileTooLarge {
                bytes: bytes.len(),
                max: MAX_FILE_BYTES,
            });
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
                let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
                let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                let tail = good.get(line_start..).unwrap_or_default();
                let column = std::str::from_utf8(tail).map_or(1, |s| s.chars().count() + 1);
                return Err(GrammarError::BadUtf8 { line, column });
            }
        };
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);

        let mut options: Vec<GrammarOption> = Vec::new();
        let mut label_lines: HashMap<String, usize> = HashMap::new();
        // normalised phrase -> (option index, line)
        let mut seen: HashMap<String, (usize, usize)> = HashMap::new();

        for (index, raw) in text.split('\n').enumerate() {
            let line = index + 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let chars = raw.chars().count();
            if chars > MAX_LINE_CHARS {
                return Err(GrammarError::LineTooLong {
                    line,
                    chars,
                    max: MAX_LINE_CHARS,
                });
            }
            let content = raw.find('#').map_or(raw, |i| raw.get(..i).unwrap_or(raw));
            if let Some((i, c)) = content
                .char_indices()
                .find(|&(_, c)| c.is_control() && c != '\t')
            {
                return Err(GrammarError::ControlCharacter {
                    line,
                    column: column(content, i),
                    code: u32::from(c),
                });
            }
            if content.trim().is_empty() {
                continue;
            }
            let Some(colon) = content.find(COLONS) else {
                return Err(GrammarError::MissingColon { line });
            };
            let label_part = content.get(..colon).unwrap_or_default();
            let label = label_part.trim();
            if label.is_empty() {
                return Err(GrammarError::EmptyLabel { line });
            }
            if let Some(bar) = label_part.find(BARS) {
                return Err(GrammarError::BarInLabel {
                    line,
                    column: column(content, bar),
                });
            }
            if let Some(&first_line) = label_lines.get(label) {
                return Err(GrammarError::DuplicateLabel {
                    line,
                    label: label.to_owned(),
                    first_line,
                });
            }
            if options.len() == MAX_OPTIONS {
                return Err(GrammarError::TooManyOptions {
                    line,
                    max: MAX_OPTIONS,
                });
            }
            let colon_len = content
                .get(colon..)
                .and_then(|s| s.chars().next())
                .map_or(1, char::len_utf8);
            let after_colon = colon + colon_len;
            let rest = content.get(after_colon..).unwrap_or_default();
            if rest.trim().is_empty() {
                return Err(GrammarError::NoPhrases {
                    line,
                    label: label.to_owned(),
                });
            }
            let this = options.len();
            let mut phrases = Vec::new();
            // Byte ranges of the slots between separators, relative to `content`.
            let mut slots = Vec::new();
            let mut slot_start = after_colon;
            for (i, c) in rest.char_indices() {
                if BARS.contains(&c) {
                    slots.push((slot_start, after_colon + i));
                    slot_start = after_colon + i + c.len_utf8();
                }
            }
            slots.push((slot_start, content.len()));
            for (start, end) in slots {
                let slot = content.get(start..end).unwrap_or_default();
                let lead = slot.len() - slot.trim_start().len();
                let phrase = slot.trim();
                let col = column(content, start + lead);
                if phrase.is_empty() {
                    return Err(GrammarError::EmptyPhrase { line, column: col });
                }
                let norm = normalise(phrase);
                if norm.is_empty() {
                    return Err(GrammarError::PhraseWithoutText {
                        line,
                        column: col,
                        phrase: phrase.to_owned(),
                    });
                }
                if let Some(&(other, other_line)) = seen.get(&norm) {
                    return Err(if other == this {
                        GrammarError::RepeatedPhrase {
                            line,
                            column: col,
                            phrase: phrase.to_owned(),
                            label: label.to_owned(),
                        }
                    } else {
                        GrammarError::PhraseUnderTwoLabels {
                            line,
                            column: col,
                            phrase: phrase.to_owned(),
                            other_label: options
                                .get(other)
                                .map(|o| o.label.clone())
                                .unwrap_or_default(),
                            other_line,
                        }
                    });
                }
                if phrases.len() == MAX_PHRASES {
                    return Err(GrammarError::TooManyPhrases {
                        line,
                        label: label.to_owned(),
                        max: MAX_PHRASES,
                    });
                }
                seen.insert(norm, (this, line));
                phrases.push(phrase.to_owned());
            }
            label_lines.insert(label.to_owned(), line);
            options.push(GrammarOption {
                label: label.to_owned(),
                phrases,
            });
        }
        if options.is_empty() {
            return Err(GrammarError::NoOptions);
        }
        Ok(Grammar { options })
    }

    /// Find the option a transcript selects, by the rules in the [module docs](self).
    ///
    /// Returns `None` when no phrase occurs, or when the longest phrases that occur belong
    /// to different labels.
    pub fn match_text(&self, text: &str) -> Option<Match<'_>> {
        let text = normalise(text);
        let text_chars = text.chars().count();
        let mut best: Option<(usize, Match<'_>)> = None;
        let mut ambiguous = false;
        for option in &self.options {
            for phrase in &option.phrases {
                let norm = normalise(phrase);
                let len = norm.chars().count();
                if len == 0 || !occurs(&text, &norm) {
                    continue;
                }
                match &best {
                    Some((best_len, m)) if *best_len == len => {
                        if m.label != option.label {
                            ambiguous = true;
                        }
                    }
                    Some((best_len, _)) if *best_len > len => {}
                    _ => {
                        ambiguous = false;
                        // text_chars >= len > 0 because the phrase occurs in the text.
                        let score = len as f32 / text_chars.max(len) as f32;
                        best = Some((
                            len,
                            Match {
                                label: &option.label,
                                phrase,
                                score,
                            },
                        ));
                    }
                }
            }
        }
        if ambiguous {
            return None;
        }
        best.map(|(_, m)| m)
    }
}

impl FromStr for Grammar {
    type Err = GrammarError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Grammar::parse(s.as_bytes())
    }
}

/// Writes the grammar in the file format, one option per line; [`Grammar::parse`] reads it
/// back unchanged for any grammar it accepted.
impl fmt::Display for Grammar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for option in &self.options {
            write!(f, "{}: ", option.label)?;
            for (i, phrase) in option.phrases.iter().enumerate() {
                if i > 0 {
                    f.write_str(" | ")?;
                }
                f.write_str(phrase)?;
            }
            f.write_str("\n")?;
        }
        Ok(())
    }
}
