//! One pinyin syllable ("tone3": toneless spelling, `v` for ü, tone digit 1-5) to the
//! Kokoro v1.0 symbols misaki's legacy Chinese G2P writes for it.
//!
//! misaki maps pinyin to an IPA transcription (after Duanmu 2007 and Lin 2007, via the MIT
//! `pinyin-to-ipa` tables), keeps the first variant of each phoneme, then rewrites Chao tone
//! letters as arrows (˥ →, ˧˥ ↗, ˧˩˧ ↓, ˥˩ ↘, neutral nothing), the apical vowels ɻ̩ and ɹ̩
//! as ɨ, and drops the non-syllabic mark of diphthongs. The tables below write that end
//! result directly. The tone arrow follows the syllable's nucleus, before a nasal coda:
//! `zhong1` → `ꭧʊ→ŋ`, `xian4` → `ɕjɛ↘n`.
//!
//! Strict pinyin rules decide the final: `y`/`w` spellings are rewritten (`you` → `iou`,
//! `wei` → `uei`, `yu` → `ü`), `u` after j/q/x is `ü`, and the contractions `iu`, `ui`,
//! `un` are expanded. A spelling that is not a Mandarin syllable yields `None`.

/// The Kokoro symbols of one tone3 syllable, or `None` when it is not Mandarin pinyin.
pub(crate) fn syllable(tone3: &str) -> Option<String> {
    let (base, tone) = split_tone(tone3)?;
    let arrow = match tone {
        1 => "→",
        2 => "↗",
        3 => "↓",
        4 => "↘",
        _ => "",
    };
    let mut out = String::with_capacity(12);
    // Whole-syllable interjections and syllabic consonants come first: `o`, `m` and `n`
    // would otherwise be read as a final or an initial.
    let whole = match base {
        "io" => Some(("jɔ", "")),
        "ê" => Some(("ɛ", "")),
        "er" => Some(("ɚ", "")),
        "o" => Some(("ɔ", "")),
        "hm" => Some(("hm", "")),
        "hng" => Some(("hŋ", "")),
        "m" => Some(("m", "")),
        "n" => Some(("n", "")),
        "ng" => Some(("ŋ", "")),
        _ => None,
    };
    if let Some((nucleus, coda)) = whole {
        out.push_str(nucleus);
        out.push_str(arrow);
        out.push_str(coda);
        return Some(out);
    }
    let (initial, rest) = split_initial(base);
    let rest = rest.replace('v', "ü");
    let fin = strict_final(initial, &rest)?;
    let (nucleus, coda) = match (initial, fin.as_str()) {
        (Some("zh" | "ch" | "sh" | "r" | "z" | "c" | "s"), "i") => ("ɨ", ""),
        (_, f) => final_symbols(f)?,
    };
    if let Some(i) = initial {
        out.push_str(initial_symbols(i));
    }
    out.push_str(nucleus);
    out.push_str(arrow);
    out.push_str(coda);
    Some(out)
}

/// `"zhong1"` → `("zhong", 1)`; a missing or out-of-range digit is not tone3.
fn split_tone(tone3: &str) -> Option<(&str, u8)> {
    let last = tone3.chars().next_back()?;
    let tone = last.to_digit(10).filter(|d| (1..=5).contains(d))? as u8;
    let base = &tone3[..tone3.len() - 1];
    (!base.is_empty()).then_some((base, tone))
}

/// The strict initial (y and w are not initials) and the rest of the spelling.
fn split_initial(base: &str) -> (Option<&str>, &str) {
    for two in ["zh", "ch", "sh"] {
        if let Some(rest) = base.strip_prefix(two) {
            return (Some(two), rest);
        }
    }
    match base.chars().next() {
        Some('b' | 'p' | 'm' | 'f' | 'd' | 't' | 'n' | 'l' | 'g' | 'k' | 'h' | 'j' | 'q' | 'x')
        | Some('r' | 'z' | 'c' | 's') => (Some(&base[..1]), &base[1..]),
        _ => (None, base),
    }
}

/// The final as the pinyin scheme writes it without abbreviations.
fn strict_final(initial: Option<&str>, rest: &str) -> Option<String> {
    let fin = match initial {
        None => {
            if let Some(r) = rest.strip_prefix('y') {
                if let Some(after_u) = r.strip_prefix('u') {
                    format!("ü{after_u}")
                } else if r.starts_with('i') {
                    r.to_owned()
                } else {
                    with_glide('i', r)
                }
            } else if let Some(r) = rest.strip_prefix('w') {
                if r.starts_with('u') {
                    r.to_owned()
                } else {
                    with_glide('u', r)
                }
            } else {
                rest.to_owned()
            }
        }
        Some(i) => {
            let fin = match (i, rest.strip_prefix('u')) {
                ("j" | "q" | "x", Some(after_u)) => format!("ü{after_u}"),
                _ => rest.to_owned(),
            };
            match fin.as_str() {
                "iu" => "iou".to_owned(),
                "ui" => "uei".to_owned(),
                "un" => "uen".to_owned(),
                _ => fin,
            }
        }
    };
    final_symbols(&fin).map(|_| fin)
}

/// `ya` → `ia`, `wai` → `uai`; when the glide makes no final (`yai`, `yo`) it is dropped.
fn with_glide(glide: char, r: &str) -> String {
    let candidate = format!("{glide}{r}");
    if final_symbols(&candidate).is_some() {
        candidate
    } else {
        r.to_owned()
    }
}

fn initial_symbols(initial: &str) -> &'static str {
    match initial {
        "b" => "p",
        "p" => "pʰ",
        "m" => "m",
        "f" => "f",
        "d" => "t",
        "t" => "tʰ",
        "n" => "n",
        "l" => "l",
        "g" => "k",
        "k" => "kʰ",
        "h" => "x",
        "j" => "ʨ",
        "q" => "ʨʰ",
        "x" => "ɕ",
        "zh" => "ꭧ",
        "ch" => "ꭧʰ",
        "sh" => "ʂ",
        "r" => "ɻ",
        "z" => "ʦ",
        "c" => "ʦʰ",
        _ => "s",
    }
}

/// (symbols up to the tone, symbols after it) of a strict final.
fn final_symbols(fin: &str) -> Option<(&'static str, &'static str)> {
    Some(match fin {
        "a" => ("a", ""),
        "ai" => ("ai", ""),
        "an" => ("a", "n"),
        "ang" => ("a", "ŋ"),
        "ao" => ("au", ""),
        "e" => ("ɤ", ""),
        "ei" => ("ei", ""),
        "en" => ("ə", "n"),
        "eng" => ("ə", "ŋ"),
        "i" => ("i", ""),
        "ia" => ("ja", ""),
        "ian" => ("jɛ", "n"),
        "iang" => ("ja", "ŋ"),
        "iao" => ("jau", ""),
        "ie" => ("je", ""),
        "in" => ("i", "n"),
        "iou" => ("jou", ""),
        "ing" => ("i", "ŋ"),
        "iong" => ("jʊ", "ŋ"),
        "ong" => ("ʊ", "ŋ"),
        "ou" => ("ou", ""),
        "u" => ("u", ""),
        "uei" => ("wei", ""),
        "ua" => ("wa", ""),
        "uai" => ("wai", ""),
        "uan" => ("wa", "n"),
        "uen" => ("wə", "n"),
        "uang" => ("wa", "ŋ"),
        "ueng" => ("wə", "ŋ"),
        "uo" | "o" => ("wo", ""),
        "ü" => ("y", ""),
        "üe" => ("ɥe", ""),
        "üan" => ("ɥɛ", "n"),
        "ün" => ("y", "n"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::syllable;

    #[test]
    fn examples_from_misaki() {
        for (py, ipa) in [
            ("zhong1", "ꭧʊ→ŋ"),
            ("guo2", "kwo↗"),
            ("ni3", "ni↓"),
            ("hao3", "xau↓"),
            ("de5", "tɤ"),
            ("lve4", "lɥe↘"),
            ("yuan2", "ɥɛ↗n"),
            ("you3", "jou↓"),
            ("wei4", "wei↘"),
            ("shi4", "ʂɨ↘"),
            ("zi1", "ʦɨ→"),
            ("er4", "ɚ↘"),
            ("ng2", "ŋ↗"),
            ("yo1", "wo→"),
            ("yai2", "ai↗"),
            ("jun1", "ʨy→n"),
            ("lun2", "lwə↗n"),
            ("gui4", "kwei↘"),
            ("diu1", "tjou→"),
        ] {
            assert_eq!(syllable(py).as_deref(), Some(ipa), "{py}");
        }
    }

    #[test]
    fn not_pinyin() {
        for bad in ["", "1", "zhong", "zhong6", "ngam1", "xyz3", "你1"] {
            assert_eq!(syllable(bad), None, "{bad}");
        }
    }
}
