//! Our phonemes (misaki's American symbols) → the espeak-ng IPA symbols Piper voices were
//! trained on → Piper phoneme ids.
//!
//! Piper's `en_US-joe-medium.onnx.json` maps single IPA characters to ids
//! (`phoneme_id_map`). The sequence a Piper voice takes is, as in piper-phonemize's
//! `phonemes_to_ids`: `^` (start), `_` (pad), then every phoneme followed by `_`, then `$`
//! (end) — `^ _ p1 _ p2 _ … pn _ $`.
//!
//! misaki's American set is close to espeak-ng's `en-us` output; the symbols that differ are
//! mapped as follows (espeak writes long vowels with `ː` and diphthongs as two letters):
//!
//! | misaki | espeak-ng | example |
//! |---|---|---|
//! | `A` `I` `O` `W` `Y` | `eɪ` `aɪ` `oʊ` `aʊ` `ɔɪ` | day, my, go, now, boy |
//! | `ʤ` `ʧ` | `dʒ` `tʃ` | job, chat |
//! | `ᵊ` (reduced schwa) | `ə` | button |
//! | `T` / `ɾ` (flap) | `ɾ` | water |
//! | `ʔ` | `ʔ` | |
//! | `ɜɹ` | `ɜː` | bird |
//! | `əɹ` not before a vowel | `ɚ` | enter |
//! | `ɑ` `ɔ` | `ɑː` `ɔː` | hot, call |
//! | `i` `u` in a stressed syllable | `iː` `uː` | see, two (unstressed: `i` `u`, happy) |
//! | `ˈ` `ˌ` | `ˈ` `ˌ` (same place: before the vowel) | |
//! | `—` `…` `“` `”` | `,` `...` `"` `"` | |
//!
//! Everything else (`b d f h j k l m n p s t v w z æ ð ŋ ɐ ə ɛ ɡ ɪ ɹ ʃ ʊ ʌ ʒ θ ᵻ`, space,
//! `, . ! ? ; : ( )`) is the same symbol. A symbol the voice's map lacks is left out, as
//! piper-phonemize leaves out missing phonemes.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::lexicon::{is_vowel, PRIMARY, SECONDARY};
use super::EnError;

/// A Piper voice's `phoneme_id_map`.
#[derive(Debug, Clone)]
pub struct PiperPhonemeMap {
    ids: HashMap<char, Vec<i64>>,
    num_symbols: Option<i64>,
}

#[derive(Deserialize)]
struct VoiceConfig {
    phoneme_id_map: HashMap<String, Vec<i64>>,
    num_symbols: Option<i64>,
}

impl PiperPhonemeMap {
    /// Reads the map from a voice's `.onnx.json`.
    pub fn load(onnx_json: &Path) -> Result<Self, EnError> {
        let text = std::fs::read_to_string(onnx_json).map_err(|source| EnError::Io {
            path: onnx_json.to_path_buf(),
            source,
        })?;
        Self::from_json(&text).map_err(|message| EnError::Format {
            path: onnx_json.to_path_buf(),
            message,
        })
    }

    /// Parses the JSON text of a voice config.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let cfg: VoiceConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut ids = HashMap::new();
        for (k, v) in cfg.phoneme_id_map {
            let mut cs = k.chars();
            let (Some(c), None) = (cs.next(), cs.next()) else {
                return Err(format!("phoneme {k:?} is not one character"));
            };
            if v.is_empty() {
                return Err(format!("phoneme {k:?} has no id"));
            }
            if let (Some(n), Some(bad)) = (
                cfg.num_symbols,
                v.iter()
                    .find(|&&id| id < 0 || id >= cfg.num_symbols.unwrap_or(i64::MAX)),
            ) {
                return Err(format!("phoneme {k:?} has id {bad}, outside 0..{n}"));
            }
            ids.insert(c, v);
        }
        for c in ['^', '$', '_'] {
            if !ids.contains_key(&c) {
                return Err(format!("phoneme_id_map has no {c:?}"));
            }
        }
        Ok(Self {
            ids,
            num_symbols: cfg.num_symbols,
        })
    }

    /// Ids of one symbol, if the voice has it.
    pub fn get(&self, symbol: char) -> Option<&[i64]> {
        self.ids.get(&symbol).map(Vec::as_slice)
    }

    /// The voice's `num_symbols` (every id is below it).
    pub fn num_symbols(&self) -> Option<i64> {
        self.num_symbols
    }

    /// `^ _ p1 _ … pn _ $` for an espeak-style phoneme string; unknown symbols left out.
    pub fn ids(&self, espeak: &str) -> Vec<i64> {
        let pad = &self.ids[&'_'];
        let mut out = Vec::with_capacity(espeak.chars().count() * 2 + 3);
        out.extend_from_slice(&self.ids[&'^']);
        out.extend_from_slice(pad);
        for c in espeak.chars() {
            if let Some(ids) = self.ids.get(&c) {
                out.extend_from_slice(ids);
                out.extend_from_slice(pad);
            }
        }
        out.extend_from_slice(&self.ids[&'$']);
        out
    }
}

/// misaki phonemes → espeak-ng style IPA (see the module table).
pub fn to_espeak(ps: &str) -> String {
    let cs: Vec<char> = ps.chars().collect();
    let mut out = String::with_capacity(ps.len() + 16);
    // Whether the current syllable carries a stress mark.
    let mut stressed = false;
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        let next = cs.get(i + 1).copied();
        let after = cs.get(i + 2).copied();
        match c {
            PRIMARY | SECONDARY => {
                stressed = true;
                out.push(c);
            }
            ' ' | ',' | '.' | '!' | '?' | ';' | ':' | '—' | '…' => stressed = false,
            _ => {}
        }
        match c {
            PRIMARY | SECONDARY => {}
            'A' => out.push_str("eɪ"),
            'I' => out.push_str("aɪ"),
            'O' => out.push_str("oʊ"),
            'W' => out.push_str("aʊ"),
            'Y' => out.push_str("ɔɪ"),
            'Q' => out.push_str("əʊ"),
            'ʤ' => out.push_str("dʒ"),
            'ʧ' => out.push_str("tʃ"),
            'ᵊ' => out.push('ə'),
            'T' | 'ɾ' => out.push('ɾ'),
            'ɜ' if next == Some('ɹ') => {
                out.push_str("ɜː");
                i += 1;
            }
            'ə' if next == Some('ɹ') && !after.is_some_and(is_vowel) => {
                out.push('ɚ');
                i += 1;
            }
            'ɑ' => out.push_str("ɑː"),
            'ɔ' => out.push_str("ɔː"),
            'i' if stressed => out.push_str("iː"),
            'u' if stressed => out.push_str("uː"),
            '—' => out.push(','),
            '…' => out.push_str("..."),
            '“' | '”' => out.push('"'),
            c => out.push(c),
        }
        if is_vowel(c) {
            stressed = false;
        }
        i += 1;
    }
    out
}
