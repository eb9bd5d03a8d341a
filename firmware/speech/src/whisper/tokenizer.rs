//! Whisper's byte-level BPE tokenizer (GPT-2 scheme), read from the model's `tokenizer.json`.
//!
//! Encoding is needed for grammar mode (each allowed phrase becomes the token sequence the
//! decoder scores) and for the Simplified-Chinese text prompt; decoding turns the decoder's
//! output back into text. Special tokens (`<|zh|>`, `<|endoftext|>`…) are looked up by name
//! and never produced by [`Tokenizer::encode`].
//!
//! Merging follows `tiktoken`, which Whisper itself uses: the rank of a merge is the id of
//! the merged token, so the `merges` list of `tokenizer.json` is not needed (and the copy
//! shipped with the CTranslate2 model lacks GPT-2's first merge, `Ġ t`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why `tokenizer.json` could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenizerError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Read {
        /// The tokenizer file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not the byte-level BPE JSON we expect.
    #[error("{}: not a byte-level BPE tokenizer.json: {reason}", file.display())]
    Format {
        /// The tokenizer file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Deserialize)]
struct Json {
    model: JsonModel,
    added_tokens: Vec<JsonAdded>,
}

#[derive(Deserialize)]
struct JsonModel {
    #[serde(rename = "type")]
    kind: String,
    vocab: HashMap<String, u32>,
}

#[derive(Deserialize)]
struct JsonAdded {
    id: u32,
    content: String,
}

/// Byte-level BPE encoder/decoder.
#[derive(Debug)]
pub struct Tokenizer {
    /// Token text (in the byte-to-unicode alphabet) → id.
    vocab: HashMap<String, u32>,
    /// id → token text; special tokens included.
    tokens: Vec<Option<String>>,
    /// Ids of special tokens (never emitted as text).
    special: HashMap<String, u32>,
    /// Tokens at or above this id are special and never merged into.
    first_special: u32,
    /// byte → the printable char GPT-2 uses for it.
    byte_char: [char; 256],
    /// printable char → byte.
    char_byte: HashMap<char, u8>,
}

/// GPT-2's reversible byte ↔ printable-character table: printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100 onwards, in byte order.
fn byte_table() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..=255u8 {
        let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        table[b as usize] = if printable {
            char::from(b)
        } else {
            let c = char::from_u32(next).unwrap_or('\u{FFFD}');
            next += 1;
            c
        };
    }
    table
}

impl Tokenizer {
    /// Reads a Hugging Face `tokenizer.json` holding a byte-level BPE model.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, TokenizerError> {
        let file = path.as_ref();
        let bytes = std::fs::read(file).map_err(|source| TokenizerError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        Self::from_json(&bytes, file)
    }

    /// Parses tokenizer JSON; `file` is used in error messages only.
    pub fn from_json(bytes: &[u8], file: &Path) -> Result<Self, TokenizerError> {
        let format = |reason: String| TokenizerError::Format {
            file: file.to_path_buf(),
            reason,
        };
        let json: Json = serde_json::from_slice(bytes).map_err(|e| format(e.to_string()))?;
        if json.model.kind != "BPE" {
            return Err(format(format!("model type is {:?}", json.model.kind)));
        }
        let max_id = json
            .model
            .vocab
            .values()
            .chain(json.added_tokens.iter().map(|t| &t.id))
            .copied()
            .max()
            .ok_or_else(|| format("empty vocabulary".into()))?;
        let mut tokens = vec![None; max_id as usize + 1];
        for (text, &id) in &json.model.vocab {
            tokens[id as usize] = Some(text.clone());
        }
        let mut special = HashMap::new();
        let first_special = json
            .added_tokens
            .iter()
            .map(|t| t.id)
            .min()
            .unwrap_or(u32::MAX);
        for t in json.added_tokens {
            tokens[t.id as usize] = Some(t.content.clone());
            special.insert(t.content, t.id);
        }
        let byte_char = byte_table();
        let char_byte = byte_char
            .iter()
            .enumerate()
            .map(|(b, &c)| (c, b as u8))
            .collect();
        Ok(Self {
            vocab: json.model.vocab,
            tokens,
            special,
            first_special,
            byte_char,
            char_byte,
        })
    }

    /// The id of a special token such as `<|zh|>` or `<|endoftext|>`.
    pub fn special(&self, name: &str) -> Option<u32> {
        self.special.get(name).copied()
    }

    /// Whether `id` is a special (non-text) token.
    pub fn is_special(&self, id: u32) -> bool {
        self.tokens
            .get(id as usize)
            .and_then(Option::as_ref)
            .is_some_and(|t| self.special.get(t) == Some(&id))
    }

    /// Number of token ids known (text and special).
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the vocabulary is empty (never true for a loaded tokenizer).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Text → token ids. Never produces special tokens; every input encodes (unknown
    /// characters fall back to their UTF-8 bytes, which all have tokens).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        for piece in pre_tokenize(text) {
            let mapped: String = piece.bytes().map(|b| self.byte_char[b as usize]).collect();
            self.bpe(&mapped, &mut out);
        }
        out
    }

    fn bpe(&self, word: &str, out: &mut Vec<u32>) {
        let rank = |s: &str| {
            self.vocab
                .get(s)
                .copied()
                .filter(|&id| id < self.first_special)
        };
        if let Some(id) = rank(word) {
            out.push(id);
            return;
        }
        let mut parts: Vec<String> = word.chars().map(String::from).collect();
        let mut joined = String::new();
        while parts.len() > 1 {
            let best = parts
                .windows(2)
                .enumerate()
                .filter_map(|(i, w)| {
                    joined.clear();
                    joined.push_str(&w[0]);
                    joined.push_str(&w[1]);
                    rank(&joined).map(|r| (r, i))
                })
                .min();
            let Some((_, i)) = best else { break };
            let right = parts.remove(i + 1);
            parts[i].push_str(&right);
        }
        for p in parts {
            match self.vocab.get(&p) {
                Some(&id) => out.push(id),
                // Every single byte-char is in a byte-level vocabulary; a malformed file
                // missing one loses that character rather than failing the whole phrase.
                None => {
                    for c in p.chars() {
                        if let Some(&id) = self.vocab.get(c.encode_utf8(&mut [0; 4]) as &str) {
                            out.push(id);
                        }
                    }
                }
            }
        }
    }

    /// Token ids → text. Special tokens and unknown ids are left out; a multi-byte
    /// character cut by the end of the sequence becomes U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::new();
        for &id in ids {
            if self.is_special(id) {
                continue;
            }
            if let Some(Some(text)) = self.tokens.get(id as usize) {
                bytes.extend(text.chars().filter_map(|c| self.char_byte.get(&c).copied()));
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Contractions GPT-2's pre-tokenizer splits off (case-sensitive, as in the original).
const CONTRACTIONS: [&str; 7] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    Number,
    Space,
    Other,
}

fn class(c: char) -> Class {
    if c.is_alphabetic() {
        Class::Letter
    } else if c.is_numeric() {
        Class::Number
    } else if c.is_whitespace() {
        Class::Space
    } else {
        Class::Other
    }
}

/// Splits text the way GPT-2's regex does:
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
pub(crate) fn pre_tokenize(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut pieces = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = chars[i].0;
        let rest = &text[start..];
        if let Some(c) = CONTRACTIONS.iter().find(|c| rest.starts_with(*c)) {
            pieces.push(&text[start..start + c.len()]);
            i += c.chars().count();
            continue;
        }
        let (c0, k0) = (chars[i].1, class(chars[i].1));
        // ` ?X+`: an optional single space, then a run of one class.
        let (run_start, run_class) = if c0 == ' ' {
            match chars.get(i + 1).map(|&(_, c)| class(c)) {
                Some(k) if k != Class::Space => (i + 1, k),
                _ => (i, Class::Space),
            }
        } else {
            (i, k0)
        };
        if run_class != Class::Space {
            let mut j = run_start;
            while j < chars.len() && class(chars[j].1) == run_class {
                j += 1;
            }
            pieces.push(&text[start..end_of(j)]);
            i = j;
            continue;
        }
        // Whitespace: `\s+(?!\S)` keeps the last space for the next word when one follows.
        let mut j = i;
        while j < chars.len() && class(chars[j].1) == Class::Space {
            j += 1;
        }
        if j < chars.len() && j - i > 1 {
            j -= 1;
        }
        pieces.push(&text[start..end_of(j)]);
        i = j;
    }
    pieces
}
