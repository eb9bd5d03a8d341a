//! Word → phonemes from misaki's American lexicons, with misaki 0.9.4's lookup rules.
//!
//! The data (`us_gold.json`, `us_silver.json`, Apache-2.0) is installed by the `en-lexicon`
//! model manifest and read as shipped. The rules below re-state what misaki's `Lexicon` class
//! does, so that Kokoro (trained on misaki's output) hears what it was trained on:
//! gold before silver; capitalised and lowercase variants of every entry; part-of-speech keyed
//! entries; words in capitals spelled letter by letter unless the lexicon has them; `-s`,
//! `-ed`, `-ing` built on a known stem; number words; the few function words whose reading
//! depends on the next word (`the`, `to`, `a`, `in`).
//!
//! Stress values follow misaki: `None` leaves the lexicon's marks, `< -1` removes them, `-1`
//! and `-0.5` demote, `0.5` (capitalised word) and `2` (word in capitals) add stress to
//! unstressed entries.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::Deserialize;

use super::numbers;
use super::EnError;

pub(crate) const PRIMARY: char = 'ˈ';
pub(crate) const SECONDARY: char = 'ˌ';

/// misaki's `VOWELS`: symbols a stress mark may stand before.
pub(crate) fn is_vowel(c: char) -> bool {
    "AIOQWYaiuæɑɒɔəɛɜɪʊʌᵻ".contains(c)
}

/// misaki's `CONSONANTS`.
pub(crate) fn is_consonant(c: char) -> bool {
    "bdfhjklmnpstvwzðŋɡɹɾʃʒʤʧθ".contains(c)
}

/// Symbols standing for two sounds, weighted twice when compounds are re-stressed.
fn is_diphthong(c: char) -> bool {
    "AIOQWYʤʧ".contains(c)
}

/// misaki's `stress_weight`.
pub(crate) fn stress_weight(ps: &str) -> usize {
    ps.chars()
        .map(|c| if is_diphthong(c) { 2 } else { 1 })
        .sum()
}

/// The reading context misaki passes from right to left (`TokenContext`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ctx {
    /// Whether the next word starts with a vowel; `None` before punctuation or at the end.
    pub(crate) future_vowel: Option<bool>,
    /// Whether the next word is "to".
    pub(crate) future_to: bool,
}

#[derive(Debug, Clone)]
enum Entry {
    Word(Box<str>),
    /// Readings by part of speech (`DEFAULT`, `NOUN`, `VERB`, `ADJ`, `VBD`, `None`, …);
    /// a key with no reading means "spell it" for words in capitals.
    Tagged(TaggedReadings),
}

/// (part-of-speech key, reading) pairs, sorted by key.
type TaggedReadings = Box<[(Box<str>, Option<Box<str>>)]>;

#[derive(Deserialize)]
#[serde(untagged)]
enum RawEntry {
    Word(String),
    Tagged(HashMap<String, Option<String>>),
}

/// A phoneme string with misaki's rating (4 gold, 3 silver or rule-made).
pub(crate) type Found = Option<(String, u8)>;

/// misaki's two US lexicons.
#[derive(Debug)]
pub(crate) struct Lexicon {
    golds: HashMap<String, Entry>,
    silvers: HashMap<String, Entry>,
}

fn py_lower(s: &str) -> String {
    s.to_lowercase()
}

fn py_upper(s: &str) -> String {
    s.to_uppercase()
}

fn is_lower(s: &str) -> bool {
    s == py_lower(s)
}

fn is_upper(s: &str) -> bool {
    s == py_upper(s)
}

fn capitalize(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(f) => f
            .to_uppercase()
            .chain(cs.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

pub(crate) fn is_alpha(s: &str) -> bool {
    !s.is_empty() && s.chars().all(char::is_alphabetic)
}

/// Everything after the first character.
fn tail(s: &str) -> &str {
    let mut cs = s.chars();
    cs.next();
    cs.as_str()
}

fn is_lexicon_char(c: char) -> bool {
    c == '\'' || c == '-' || c.is_ascii_alphabetic()
}

pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parent_tag(tag: &str) -> &str {
    if tag.starts_with("VB") {
        "VERB"
    } else if tag.starts_with("NN") {
        "NOUN"
    } else if tag.starts_with("ADV") || tag.starts_with("RB") {
        "ADV"
    } else if tag.starts_with("ADJ") || tag.starts_with("JJ") {
        "ADJ"
    } else {
        tag
    }
}

/// misaki's `apply_stress`.
pub(crate) fn apply_stress(ps: &str, stress: Option<f32>) -> String {
    let Some(s) = stress else {
        return ps.to_string();
    };
    let has_p = ps.contains(PRIMARY);
    let has_s = ps.contains(SECONDARY);
    let restress = |mark: char| -> String {
        // Put the mark before the first vowel.
        let mut out = String::with_capacity(ps.len() + 2);
        let mut placed = false;
        for c in ps.chars() {
            if !placed && is_vowel(c) {
                out.push(mark);
                placed = true;
            }
            out.push(c);
        }
        out
    };
    if s < -1.0 {
        ps.chars()
            .filter(|&c| c != PRIMARY && c != SECONDARY)
            .collect()
    } else if s == -1.0 || ((s == 0.0 || s == -0.5) && has_p) {
        ps.chars()
            .filter(|&c| c != SECONDARY)
            .map(|c| if c == PRIMARY { SECONDARY } else { c })
            .collect()
    } else if (s == 0.0 || s == 0.5 || s == 1.0) && !has_p && !has_s {
        if !ps.chars().any(is_vowel) {
            return ps.to_string();
        }
        restress(SECONDARY)
    } else if s >= 1.0 && !has_p && has_s {
        ps.replace(SECONDARY, &PRIMARY.to_string())
    } else if s > 1.0 && !has_p && !has_s {
        if !ps.chars().any(is_vowel) {
            return ps.to_string();
        }
        restress(PRIMARY)
    } else {
        ps.to_string()
    }
}

const SYMBOLS: [(&str, &str); 4] = [("%", "percent"), ("&", "and"), ("+", "plus"), ("@", "at")];

fn symbol_word(word: &str) -> Option<&'static str> {
    SYMBOLS.iter().find(|(s, _)| *s == word).map(|(_, w)| *w)
}

/// Currency symbols misaki reads, with their unit and hundredth.
pub(crate) fn currency_units(c: char) -> Option<(&'static str, &'static str)> {
    match c {
        '$' => Some(("dollar", "cent")),
        '£' => Some(("pound", "pence")),
        '€' => Some(("euro", "cent")),
        _ => None,
    }
}

fn load_json(path: &Path) -> Result<HashMap<String, Entry>, EnError> {
    let file = File::open(path).map_err(|source| EnError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let raw: HashMap<String, RawEntry> =
        serde_json::from_reader(BufReader::new(file)).map_err(|e| EnError::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let mut d = HashMap::with_capacity(raw.len() * 2);
    for (k, v) in raw {
        let entry = match v {
            RawEntry::Word(s) => Entry::Word(s.into()),
            RawEntry::Tagged(m) => {
                if !m.contains_key("DEFAULT") {
                    return Err(EnError::Format {
                        path: path.to_path_buf(),
                        message: format!("entry {k:?} has no DEFAULT reading"),
                    });
                }
                let mut v: Vec<(Box<str>, Option<Box<str>>)> = m
                    .into_iter()
                    .map(|(t, p)| (t.into(), p.map(Into::into)))
                    .collect();
                v.sort();
                Entry::Tagged(v.into())
            }
        };
        d.insert(k, entry);
    }
    // misaki's grow_dictionary: add "Word" for "word" and "word" for "Word".
    let mut extra = Vec::new();
    for (k, v) in &d {
        if k.chars().count() < 2 {
            continue;
        }
        if is_lower(k) {
            let c = capitalize(k);
            if &c != k && !d.contains_key(&c) {
                extra.push((c, v.clone()));
            }
        } else if *k == capitalize(&py_lower(k)) {
            let l = py_lower(k);
            if !d.contains_key(&l) {
                extra.push((l, v.clone()));
            }
        }
    }
    for (k, v) in extra {
        d.entry(k).or_insert(v);
    }
    Ok(d)
}

impl Lexicon {
    /// Reads `us_gold.json` and `us_silver.json` from `dir`.
    pub(crate) fn load(dir: &Path) -> Result<Self, EnError> {
        Ok(Self {
            golds: load_json(&dir.join("us_gold.json"))?,
            silvers: load_json(&dir.join("us_silver.json"))?,
        })
    }

    pub(crate) fn in_gold(&self, word: &str) -> bool {
        self.golds.contains_key(word)
    }

    pub(crate) fn in_any(&self, word: &str) -> bool {
        self.golds.contains_key(word) || self.silvers.contains_key(word)
    }

    fn gold_word(&self, word: &str) -> &str {
        match self.golds.get(word) {
            Some(Entry::Word(s)) => s,
            _ => "",
        }
    }

    fn gold_tagged(&self, word: &str, tag: &str) -> String {
        match self.golds.get(word) {
            Some(Entry::Tagged(m)) => m
                .iter()
                .find(|(t, _)| &**t == tag)
                .and_then(|(_, p)| p.as_deref())
                .unwrap_or_default()
                .to_string(),
            Some(Entry::Word(s)) => s.to_string(),
            None => String::new(),
        }
    }

    /// Spelled letter by letter, primary stress on the last letter (misaki's `get_NNP`).
    pub(crate) fn get_nnp(&self, word: &str) -> Found {
        let mut ps = String::new();
        for c in word.chars().filter(|c| c.is_alphabetic()) {
            let up: String = c.to_uppercase().collect();
            match self.golds.get(&up) {
                Some(Entry::Word(s)) => ps.push_str(s),
                _ => return None,
            }
        }
        let ps = apply_stress(&ps, Some(0.0));
        let ps = match ps.rfind(SECONDARY) {
            Some(i) => format!("{}{}{}", &ps[..i], PRIMARY, &ps[i + SECONDARY.len_utf8()..]),
            None => ps,
        };
        Some((ps, 3))
    }

    fn special_case(&self, word: &str, tag: &str, stress: Option<f32>, ctx: &Ctx) -> Found {
        if let Some(w) = symbol_word(word) {
            return self.lookup(w, "", None, Some(ctx));
        }
        let stripped = word.trim_matches('.');
        if stripped.contains('.')
            && is_alpha(&word.replace('.', ""))
            && word
                .split('.')
                .map(|p| p.chars().count())
                .max()
                .unwrap_or(0)
                < 3
        {
            return self.get_nnp(word);
        }
        match word {
            "a" | "A" => {
                let ps = if tag == "DT" { "ɐ" } else { "ˈA" };
                return Some((ps.into(), 4));
            }
            "am" | "Am" | "AM" => {
                if tag.starts_with("NN") {
                    return self.get_nnp(word);
                } else if ctx.future_vowel.is_none()
                    || word != "am"
                    || stress.is_some_and(|s| s > 0.0)
                {
                    return Some((self.gold_word("am").into(), 4));
                }
                return Some(("ɐm".into(), 4));
            }
            "an" | "An" | "AN" => {
                if word == "AN" && tag.starts_with("NN") {
                    return self.get_nnp(word);
                }
                return Some(("ɐn".into(), 4));
            }
            "I" if tag == "PRP" => return Some(("ˌI".into(), 4)),
            "by" | "By" | "BY" if parent_tag(tag) == "ADV" => return Some(("bˈI".into(), 4)),
            _ => {}
        }
        if word == "to" || word == "To" || (word == "TO" && (tag == "TO" || tag == "IN")) {
            let ps = match ctx.future_vowel {
                None => self.gold_word("to").to_string(),
                Some(false) => "tə".into(),
                Some(true) => "tʊ".into(),
            };
            return Some((ps, 4));
        }
        if word == "in" || word == "In" || (word == "IN" && tag != "NNP") {
            let s = if ctx.future_vowel.is_none() || tag != "IN" {
                "ˈ"
            } else {
                ""
            };
            return Some((format!("{s}ɪn"), 4));
        }
        if word == "the" || word == "The" || (word == "THE" && tag == "DT") {
            let ps = if ctx.future_vowel == Some(true) {
                "ði"
            } else {
                "ðə"
            };
            return Some((ps.into(), 4));
        }
        if tag == "IN" && matches!(py_lower(word).as_str(), "vs" | "vs.") {
            return self.lookup("versus", "", None, Some(ctx));
        }
        if matches!(word, "used" | "Used" | "USED") {
            let key = if (tag == "VBD" || tag == "JJ") && ctx.future_to {
                "VBD"
            } else {
                "DEFAULT"
            };
            return Some((self.gold_tagged("used", key), 4));
        }
        None
    }

    fn is_known(&self, word: &str) -> bool {
        if self.golds.contains_key(word)
            || symbol_word(word).is_some()
            || self.silvers.contains_key(word)
        {
            return true;
        }
        if !is_alpha(word) || !word.chars().all(is_lexicon_char) {
            return false;
        }
        if word.chars().count() == 1 {
            return true;
        }
        if is_upper(word) && self.golds.contains_key(&py_lower(word)) {
            return true;
        }
        let t = tail(word);
        t == py_upper(t)
    }

    /// misaki's `lookup`: gold, then silver, then spelling.
    pub(crate) fn lookup(
        &self,
        word: &str,
        tag: &str,
        stress: Option<f32>,
        ctx: Option<&Ctx>,
    ) -> Found {
        let mut word = word.to_string();
        let mut is_nnp = false;
        if is_upper(&word) && !self.golds.contains_key(&word) {
            word = py_lower(&word);
            is_nnp = tag == "NNP";
        }
        let mut entry = self.golds.get(&word);
        let mut rating = 4;
        if entry.is_none() && !is_nnp {
            entry = self.silvers.get(&word);
            rating = 3;
        }
        let ps: Option<&str> = match entry {
            None => None,
            Some(Entry::Word(s)) => Some(s),
            Some(Entry::Tagged(m)) => {
                let has = |k: &str| m.iter().any(|(t, _)| &**t == k);
                let key = if ctx.is_some_and(|c| c.future_vowel.is_none()) && has("None") {
                    "None"
                } else if !has(tag) {
                    parent_tag(tag)
                } else {
                    tag
                };
                match m.iter().find(|(t, _)| &**t == key) {
                    Some((_, p)) => p.as_deref(),
                    None => m
                        .iter()
                        .find(|(t, _)| &**t == "DEFAULT")
                        .and_then(|(_, p)| p.as_deref()),
                }
            }
        };
        match ps {
            Some(p) if !is_nnp || p.contains(PRIMARY) => Some((apply_stress(p, stress), rating)),
            _ => self.get_nnp(&word),
        }
    }

    fn suffix_s(stem: &str) -> Option<String> {
        let last = stem.chars().last()?;
        Some(if "ptkfθ".contains(last) {
            format!("{stem}s")
        } else if "szʃʒʧʤ".contains(last) {
            format!("{stem}ᵻz")
        } else {
            format!("{stem}z")
        })
    }

    pub(crate) fn stem_s(
        &self,
        word: &str,
        tag: &str,
        stress: Option<f32>,
        ctx: Option<&Ctx>,
    ) -> Found {
        let n = word.chars().count();
        if n < 3 || !word.ends_with('s') {
            return None;
        }
        let stem = if !word.ends_with("ss") && self.is_known(&word[..word.len() - 1]) {
            word[..word.len() - 1].to_string()
        } else if (word.ends_with("'s")
            || (n > 4 && word.ends_with("es") && !word.ends_with("ies")))
            && self.is_known(&word[..word.len() - 2])
        {
            word[..word.len() - 2].to_string()
        } else if n > 4
            && word.ends_with("ies")
            && self.is_known(&format!("{}y", &word[..word.len() - 3]))
        {
            format!("{}y", &word[..word.len() - 3])
        } else {
            return None;
        };
        let (ps, rating) = self.lookup(&stem, tag, stress, ctx)?;
        Some((Self::suffix_s(&ps)?, rating))
    }

    fn suffix_ed(stem: &str) -> Option<String> {
        let cs: Vec<char> = stem.chars().collect();
        let last = *cs.last()?;
        Some(if "pkfθʃsʧ".contains(last) {
            format!("{stem}t")
        } else if last == 'd' {
            format!("{stem}ᵻd")
        } else if last != 't' {
            format!("{stem}d")
        } else if cs.len() < 2 {
            format!("{stem}ɪd")
        } else if "AIOWYiuæɑəɛɪɹʊʌ".contains(cs[cs.len() - 2]) {
            format!("{}ɾᵻd", &stem[..stem.len() - 1])
        } else {
            format!("{stem}ᵻd")
        })
    }

    fn stem_ed(&self, word: &str, tag: &str, stress: Option<f32>, ctx: Option<&Ctx>) -> Found {
        let n = word.chars().count();
        if n < 4 || !word.ends_with('d') {
            return None;
        }
        let stem = if !word.ends_with("dd") && self.is_known(&word[..word.len() - 1]) {
            &word[..word.len() - 1]
        } else if n > 4
            && word.ends_with("ed")
            && !word.ends_with("eed")
            && self.is_known(&word[..word.len() - 2])
        {
            &word[..word.len() - 2]
        } else {
            return None;
        };
        let (ps, rating) = self.lookup(stem, tag, stress, ctx)?;
        Some((Self::suffix_ed(&ps)?, rating))
    }

    fn suffix_ing(stem: &str) -> Option<String> {
        let cs: Vec<char> = stem.chars().collect();
        if cs.is_empty() {
            return None;
        }
        let n = cs.len();
        Some(
            if n > 1 && cs[n - 1] == 't' && "AIOWYiuæɑəɛɪɹʊʌ".contains(cs[n - 2]) {
                format!("{}ɾɪŋ", &stem[..stem.len() - 1])
            } else {
                format!("{stem}ɪŋ")
            },
        )
    }

    fn stem_ing(&self, word: &str, tag: &str, stress: Option<f32>, ctx: Option<&Ctx>) -> Found {
        let n = word.chars().count();
        if n < 5 || !word.ends_with("ing") {
            return None;
        }
        let base = &word[..word.len() - 3];
        let stem = if n > 5 && self.is_known(base) {
            base.to_string()
        } else if self.is_known(&format!("{base}e")) {
            format!("{base}e")
        } else if n > 5 && doubled_before_ing(word) && self.is_known(&word[..word.len() - 4]) {
            word[..word.len() - 4].to_string()
        } else {
            return None;
        };
        let (ps, rating) = self.lookup(&stem, tag, stress, ctx)?;
        Some((Self::suffix_ing(&ps)?, rating))
    }

    /// misaki's `get_word`.
    fn get_word(&self, word: &str, tag: &str, stress: Option<f32>, ctx: &Ctx) -> Found {
        if let Some(f) = self.special_case(word, tag, stress, ctx) {
            return Some(f);
        }
        let wl = py_lower(word);
        let mut word = word.to_string();
        if word.chars().count() > 1
            && is_alpha(&word.replace('\'', ""))
            && word != wl
            && (tag != "NNP" || word.chars().count() > 7)
            && !self.in_any(&word)
            && (is_upper(&word) || tail(&word) == py_lower(tail(&word)))
            && (self.in_any(&wl)
                || self.stem_s(&wl, tag, stress, Some(ctx)).is_some()
                || self.stem_ed(&wl, tag, stress, Some(ctx)).is_some()
                || self.stem_ing(&wl, tag, stress, Some(ctx)).is_some())
        {
            word = wl;
        }
        if self.is_known(&word) {
            return self.lookup(&word, tag, stress, Some(ctx));
        }
        if let Some(base) = word.strip_suffix("s'") {
            let w = format!("{base}'s");
            if self.is_known(&w) {
                return self.lookup(&w, tag, stress, Some(ctx));
            }
        }
        if let Some(base) = word.strip_suffix('\'') {
            if self.is_known(base) {
                return self.lookup(base, tag, stress, Some(ctx));
            }
        }
        if let Some(f) = self.stem_s(&word, tag, stress, Some(ctx)) {
            return Some(f);
        }
        if let Some(f) = self.stem_ed(&word, tag, stress, Some(ctx)) {
            return Some(f);
        }
        self.stem_ing(&word, tag, Some(stress.unwrap_or(0.5)), Some(ctx))
    }

    fn append_currency(&self, ps: String, currency: Option<char>) -> String {
        let Some((unit, _)) = currency.and_then(currency_units) else {
            return ps;
        };
        match self.stem_s(&format!("{unit}s"), "", None, None) {
            Some((c, _)) => format!("{ps} {c}"),
            None => ps,
        }
    }

    /// misaki's `Lexicon.__call__` for one (possibly merged) token.
    pub(crate) fn word(
        &self,
        text: &str,
        tag: &str,
        currency: Option<char>,
        is_head: bool,
        ctx: &Ctx,
    ) -> Found {
        let word: String = text
            .chars()
            .map(|c| if c == '‘' || c == '’' { '\'' } else { c })
            .collect();
        let stress = if is_lower(&word) {
            None
        } else if is_upper(&word) {
            Some(2.0)
        } else {
            Some(0.5)
        };
        if let Some((ps, r)) = self.get_word(&word, tag, stress, ctx) {
            return Some((self.append_currency(ps, currency), r));
        }
        if numbers::is_number(&word, is_head) {
            return numbers::get_number(self, &word, currency, is_head);
        }
        None
    }
}

/// `([bcdgklmnprstvxz])\1ing$|cking$`
fn doubled_before_ing(word: &str) -> bool {
    if word.ends_with("cking") {
        return true;
    }
    let b = word.as_bytes();
    let n = b.len();
    n >= 5 && b[n - 4] == b[n - 5] && b"bcdgklmnprstvxz".contains(&b[n - 4])
}

/// misaki's `_s`, for number words ("1990s").
pub(crate) fn suffix_s(stem: &str) -> Option<String> {
    Lexicon::suffix_s(stem)
}

/// misaki's `_ed`.
pub(crate) fn suffix_ed(stem: &str) -> Option<String> {
    Lexicon::suffix_ed(stem)
}

/// misaki's `_ing`.
pub(crate) fn suffix_ing(stem: &str) -> Option<String> {
    Lexicon::suffix_ing(stem)
}
