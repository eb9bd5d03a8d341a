//! Our reading of words misaki's lexicons do not have. Written here, permissively licensed;
//! espeak-ng (misaki's own fallback, GPL-3) is never called.
//!
//! In order:
//! 1. words in capitals: spelled letter by letter (misaki's own rule, reached here for
//!    capitals mixed with other characters);
//! 2. Hanyu Pinyin (names of people, places and brands in Chinese IVR prompts: "Yingda",
//!    "Zhang", "Xiaoming"): each syllable mapped to its nearest English phonemes, stress on
//!    the first syllable;
//! 3. `-ied`/`-ies`/`-ier`/`-iest` of a known `-y` word ("verified" from "verify");
//! 4. two known words joined ("cashback", "overdrawn", "Mastercard"), compound stress;
//! 5. simple letter-to-sound rules (English spelling patterns, stress on the first vowel).
//!
//! The output uses only misaki's American symbols, so it is always in Kokoro's vocabulary.

use super::lexicon::{apply_stress, Lexicon};

/// A reading for a word the lexicon rules could not read; `None` when it has no letters.
pub(crate) fn fallback(word: &str, lex: &Lexicon) -> Option<String> {
    let letters: String = word.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    if letters.is_empty() {
        return None;
    }
    if letters.len() > 1 && letters.chars().all(|c| c.is_ascii_uppercase()) {
        if let Some((ps, _)) = lex.get_nnp(&letters) {
            return Some(ps);
        }
    }
    let lower = letters.to_ascii_lowercase();
    if let Some(ps) = pinyin(&lower) {
        return Some(ps);
    }
    if let Some(ps) = y_inflection(&lower, lex) {
        return Some(ps);
    }
    if let Some(ps) = compound(&lower, lex) {
        return Some(ps);
    }
    Some(letter_to_sound(&lower))
}

fn known(word: &str, lex: &Lexicon) -> Option<String> {
    lex.lookup(word, "", None, None).map(|f| f.0)
}

fn y_inflection(w: &str, lex: &Lexicon) -> Option<String> {
    for (end, add) in [("ied", "d"), ("ies", "z"), ("iest", "əst"), ("ier", "əɹ")] {
        if let Some(stem) = w.strip_suffix(end) {
            if stem.len() >= 2 {
                if let Some(ps) = known(&format!("{stem}y"), lex) {
                    return Some(format!("{ps}{add}"));
                }
            }
        }
    }
    None
}

fn compound(w: &str, lex: &Lexicon) -> Option<String> {
    let n = w.len();
    if !(6..=40).contains(&n) {
        return None;
    }
    // Prefer the longest first part.
    for cut in (3..=n - 3).rev() {
        let (a, b) = w.split_at(cut);
        if !lex.in_any(a) || !lex.in_any(b) {
            continue;
        }
        let (Some(pa), Some(pb)) = (known(a, lex), known(b, lex)) else {
            continue;
        };
        let pa = apply_stress(&pa, Some(2.0));
        let pb = apply_stress(&pb, Some(-1.0));
        return Some(format!("{pa}{pb}"));
    }
    None
}

const INITIALS: [&str; 23] = [
    "zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r",
    "z", "c", "s", "y", "w",
];

/// Written pinyin finals, longest first where one is a prefix of another.
const FINALS: [&str; 33] = [
    "iang", "iong", "uang", "ang", "eng", "ing", "ong", "iao", "ian", "uai", "uan", "ai", "ao",
    "an", "ei", "en", "er", "ia", "ie", "in", "iu", "ou", "ua", "ue", "ui", "un", "uo", "a", "e",
    "i", "o", "u", "v",
];

fn initial_ps(ini: &str) -> &'static str {
    match ini {
        "zh" | "j" => "ʤ",
        "ch" | "q" => "ʧ",
        "sh" | "x" => "ʃ",
        "b" => "b",
        "p" => "p",
        "m" => "m",
        "f" => "f",
        "d" => "d",
        "t" => "t",
        "n" => "n",
        "l" => "l",
        "g" => "ɡ",
        "k" => "k",
        "h" => "h",
        "r" => "ɹ",
        "z" => "z",
        "c" => "ts",
        "s" => "s",
        _ => "",
    }
}

fn final_ps(fin: &str) -> &'static str {
    match fin {
        "a" => "ɑ",
        "o" => "ɔ",
        "e" => "ə",
        "i" => "i",
        "u" | "v" => "u",
        "ai" => "I",
        "ei" => "A",
        "ao" => "W",
        "ou" => "O",
        "an" => "ɑn",
        "en" => "ən",
        "ang" => "ɑŋ",
        "eng" => "əŋ",
        "ong" => "ʊŋ",
        "er" => "ɑɹ",
        "ia" => "jɑ",
        "ie" => "jɛ",
        "iao" => "jW",
        "iu" => "jO",
        "ian" => "jɛn",
        "in" => "ɪn",
        "iang" => "jɑŋ",
        "ing" => "ɪŋ",
        "iong" => "jʊŋ",
        "ua" => "wɑ",
        "uo" => "wɔ",
        "uai" => "wI",
        "ui" => "wA",
        "uan" => "wɑn",
        "un" => "wən",
        "uang" => "wɑŋ",
        "ue" => "wɛ",
        _ => "",
    }
}

/// Whether initial + written final is a pinyin syllable (a strict subset: enough to tell
/// Chinese names from English words the lexicon lacks).
fn valid_syllable(ini: &str, fin: &str, first: bool) -> bool {
    let i_final = fin.starts_with('i');
    let u_final = fin.starts_with('u');
    match ini {
        "" => {
            first
                && matches!(
                    fin,
                    "a" | "o"
                        | "e"
                        | "ai"
                        | "ei"
                        | "ao"
                        | "ou"
                        | "an"
                        | "en"
                        | "ang"
                        | "eng"
                        | "er"
                )
        }
        "j" | "q" | "x" => i_final || matches!(fin, "u" | "ue" | "un" | "uan"),
        "y" => matches!(
            fin,
            "i" | "a"
                | "e"
                | "ao"
                | "ou"
                | "an"
                | "in"
                | "ang"
                | "ing"
                | "ong"
                | "u"
                | "ue"
                | "un"
                | "uan"
        ),
        "w" => matches!(
            fin,
            "u" | "a" | "o" | "ai" | "ei" | "an" | "en" | "ang" | "eng"
        ),
        "zh" | "ch" | "sh" | "r" | "z" | "c" | "s" | "g" | "k" | "h" => {
            fin != "v" && fin != "er" && (!i_final || fin == "i")
        }
        "b" | "p" | "m" => fin != "v" && fin != "er" && (!u_final || fin == "u") && fin != "ong",
        "f" => matches!(
            fin,
            "a" | "o" | "u" | "ei" | "ou" | "an" | "en" | "ang" | "eng"
        ),
        _ => fin != "er",
    }
}

fn syllable_ps(ini: &str, fin: &str) -> String {
    let jqxy = matches!(ini, "j" | "q" | "x" | "y");
    match (ini, fin) {
        ("y", "i") => return "ji".into(),
        ("y", "in") => return "jɪn".into(),
        ("y", "ing") => return "jɪŋ".into(),
        ("y", "u") => return "ju".into(),
        ("y", "ue") => return "jwɛ".into(),
        ("y", "un") => return "jɪn".into(),
        ("y", "uan") => return "jwɛn".into(),
        ("y", f) => return format!("j{}", final_ps(f)),
        ("w", "u") => return "u".into(),
        ("w", f) => return format!("w{}", final_ps(f).trim_start_matches('w')),
        ("zh" | "ch" | "sh" | "r", "i") => return format!("{}ɜɹ", initial_ps(ini)),
        ("z" | "c" | "s", "i") => return format!("{}ə", initial_ps(ini)),
        (_, "un") if jqxy => return format!("{}ɪn", initial_ps(ini)),
        (_, "uan") if jqxy => return format!("{}wɛn", initial_ps(ini)),
        ("b" | "p" | "m" | "f", "o") => return format!("{}wɔ", initial_ps(ini)),
        _ => {}
    }
    format!("{}{}", initial_ps(ini), final_ps(fin))
}

fn split_pinyin(w: &str, first: bool, out: &mut Vec<(&'static str, &'static str)>) -> bool {
    if w.is_empty() {
        return !out.is_empty();
    }
    if out.len() >= 4 {
        return false;
    }
    let ini = INITIALS
        .iter()
        .find(|i| w.starts_with(*i))
        .copied()
        .unwrap_or("");
    let rest = &w[ini.len()..];
    for fin in FINALS {
        if let Some(after) = rest.strip_prefix(fin) {
            if !valid_syllable(ini, fin, first) {
                continue;
            }
            out.push((ini, fin));
            if split_pinyin(after, false, out) {
                return true;
            }
            out.pop();
        }
    }
    false
}

/// Hanyu Pinyin without tone marks → phonemes, primary stress on the first syllable.
fn pinyin(w: &str) -> Option<String> {
    let mut sylls = Vec::new();
    if !split_pinyin(w, true, &mut sylls) {
        return None;
    }
    let mut out = String::new();
    for (k, (ini, fin)) in sylls.iter().enumerate() {
        let ps = syllable_ps(ini, fin);
        out.push_str(&apply_stress(&ps, Some(if k == 0 { 2.0 } else { 0.5 })));
    }
    Some(out)
}

/// English letter-to-sound rules: spelling patterns → misaki phonemes.
pub(crate) fn letter_to_sound(w: &str) -> String {
    const RULES: &[(&str, &str)] = &[
        ("tion", "ʃən"),
        ("sion", "ʒən"),
        ("ough", "O"),
        ("augh", "ɔ"),
        ("eigh", "A"),
        ("igh", "I"),
        ("tch", "ʧ"),
        ("dge", "ʤ"),
        ("sch", "sk"),
        ("ph", "f"),
        ("sh", "ʃ"),
        ("ch", "ʧ"),
        ("th", "θ"),
        ("wh", "w"),
        ("ck", "k"),
        ("ng", "ŋ"),
        ("qu", "kw"),
        ("ee", "i"),
        ("ea", "i"),
        ("oo", "u"),
        ("ou", "W"),
        ("ow", "O"),
        ("ai", "A"),
        ("ay", "A"),
        ("oi", "Y"),
        ("oy", "Y"),
        ("au", "ɔ"),
        ("aw", "ɔ"),
        ("ew", "ju"),
        ("ie", "i"),
        ("ar", "ɑɹ"),
        ("or", "ɔɹ"),
        ("er", "əɹ"),
        ("ir", "ɜɹ"),
        ("ur", "ɜɹ"),
    ];
    let b = w.as_bytes();
    let n = b.len();
    let is_v = |c: u8| b"aeiou".contains(&c);
    let mut out = String::new();
    let mut i = 0;
    while i < n {
        if let Some((g, p)) = RULES.iter().find(|(g, _)| w[i..].starts_with(g)) {
            out.push_str(p);
            i += g.len();
            continue;
        }
        let c = b[i];
        let next = b.get(i + 1).copied();
        let after = b.get(i + 2).copied();
        // Vowel + consonant + final e: long vowel, silent e.
        let magic_e = next.is_some_and(|x| !is_v(x)) && after == Some(b'e') && i + 3 == n;
        if i > 0 && i + 1 == n && c == b'e' && out.chars().any(|ch| "AIOWYiuæɑɔəɛɪʊʌ".contains(ch))
        {
            break; // silent final e
        }
        if i > 0 && c == b[i - 1] && !is_v(c) {
            i += 1; // double consonant
            continue;
        }
        let p: &str = match c {
            b'a' => {
                if magic_e {
                    "A"
                } else {
                    "æ"
                }
            }
            b'e' => {
                if magic_e {
                    "i"
                } else {
                    "ɛ"
                }
            }
            b'i' => {
                if magic_e {
                    "I"
                } else {
                    "ɪ"
                }
            }
            b'o' => {
                if magic_e || i + 1 == n {
                    "O"
                } else {
                    "ɑ"
                }
            }
            b'u' => {
                if magic_e {
                    "ju"
                } else {
                    "ʌ"
                }
            }
            b'y' => {
                if i == 0 {
                    "j"
                } else if i + 1 == n {
                    "i"
                } else {
                    "ɪ"
                }
            }
            b'c' => {
                if next.is_some_and(|x| b"eiy".contains(&x)) {
                    "s"
                } else {
                    "k"
                }
            }
            b'g' => {
                if next.is_some_and(|x| b"eiy".contains(&x)) && i + 2 < n {
                    "ʤ"
                } else {
                    "ɡ"
                }
            }
            b'j' => "ʤ",
            b'r' => "ɹ",
            b'x' => {
                if i == 0 {
                    "z"
                } else {
                    "ks"
                }
            }
            b'q' => "k",
            b'b' => "b",
            b'd' => "d",
            b'f' => "f",
            b'h' => "h",
            b'k' => "k",
            b'l' => "l",
            b'm' => "m",
            b'n' => "n",
            b'p' => "p",
            b's' => "s",
            b't' => "t",
            b'v' => "v",
            b'w' => "w",
            b'z' => "z",
            _ => "",
        };
        out.push_str(p);
        i += 1;
    }
    apply_stress(&out, Some(2.0))
}

#[cfg(test)]
mod tests {
    use super::{letter_to_sound, pinyin};

    #[test]
    fn pinyin_names() {
        assert_eq!(pinyin("zhang").as_deref(), Some("ʤˈɑŋ"));
        assert_eq!(pinyin("yingda").as_deref(), Some("jˈɪŋdˌɑ"));
        assert_eq!(pinyin("wang").as_deref(), Some("wˈɑŋ"));
        assert_eq!(pinyin("xiaoming").as_deref(), Some("ʃjˈWmˌɪŋ"));
        assert_eq!(pinyin("chen").as_deref(), Some("ʧˈən"));
        assert!(pinyin("mastercard").is_none());
        assert!(pinyin("hospital").is_none());
    }

    #[test]
    fn letter_rules() {
        assert_eq!(letter_to_sound("blick"), "blˈɪk");
        assert_eq!(letter_to_sound("tate"), "tˈAt");
    }
}
