//! Text → misaki phonemes for one sentence: tokens, a few part-of-speech guesses, and
//! misaki's word assembly (sub-tokens, merging, compound stress, punctuation).
//!
//! misaki runs spaCy's statistical tokenizer and tagger first. We have neither on the unit;
//! instead [`pretokenize`] follows spaCy's English tokenizer rules that matter for IVR text
//! (prefix/suffix punctuation, abbreviations with periods, currency symbols, dashes) and
//! [`tag`] guesses only the tags misaki's rules look at: determiners (`a` → ɐ), `I`,
//! `in` as particle, `that` as determiner, noun/verb for the ~700 heteronyms of the gold
//! lexicon (`record`, `use`, `live`, …), capitalised names, numbers and punctuation. Where
//! the guess differs from spaCy the reading differs from misaki's (see the golden test).

use super::lexicon::{self, is_alpha, is_consonant, is_vowel, Ctx, Lexicon, PRIMARY};
use super::oov;

/// misaki's `PUNCTS`: punctuation that is passed to Kokoro as a symbol.
pub(crate) fn is_punct_symbol(c: char) -> bool {
    ";:,.!?—…\"“”".contains(c)
}

fn is_non_quote_punct(c: char) -> bool {
    ";:,.!?—…".contains(c)
}

/// misaki's `SUBTOKEN_JUNKS`: characters that are silent inside a word.
fn is_junk(c: char) -> bool {
    "',-._‘’/".contains(c)
}

fn is_apos(c: char) -> bool {
    c == '\'' || c == '‘' || c == '’'
}

/// A token as spaCy would cut it: text, whether whitespace follows, and a tag.
#[derive(Debug, Clone)]
pub(crate) struct PreTok {
    pub(crate) text: String,
    pub(crate) ws: bool,
    pub(crate) tag: &'static str,
}

const PUNCT_TAGS: [&str; 11] = [
    ".", ",", "-LRB-", "-RRB-", "``", "\"\"", "''", ":", "$", "#", "NFP",
];

fn punct_tag(c: char, opening: bool) -> &'static str {
    match c {
        '.' | '!' | '?' => ".",
        ',' => ",",
        ':' | ';' | '—' | '–' | '-' | '…' => ":",
        '(' | '[' | '{' => "-LRB-",
        ')' | ']' | '}' => "-RRB-",
        '"' | '“' | '”' | '\'' | '‘' | '’' => {
            if opening {
                "``"
            } else {
                "''"
            }
        }
        '$' | '£' | '€' | '¥' => "$",
        '#' => "#",
        _ => "NFP",
    }
}

fn is_prefix_char(c: char) -> bool {
    "\"“‘'([{<$£€¥#*¡¿".contains(c)
}

fn is_suffix_char(c: char) -> bool {
    ".,!?;:\"”’')]}>…*".contains(c)
}

fn is_dash(c: char) -> bool {
    c == '—' || c == '–'
}

/// Cuts `text` into spaCy-like tokens.
pub(crate) fn pretokenize(text: &str, lex: &Lexicon) -> Vec<PreTok> {
    let mut out = Vec::new();
    let chunks: Vec<&str> = text.split_whitespace().collect();
    for chunk in chunks {
        let start = out.len();
        split_chunk(chunk, lex, &mut out);
        if out.len() > start {
            if let Some(last) = out.last_mut() {
                last.ws = true;
            }
        }
    }
    if let Some(last) = out.last_mut() {
        last.ws = false;
    }
    out
}

fn push(out: &mut Vec<PreTok>, text: &str, tag: &'static str) {
    if !text.is_empty() {
        out.push(PreTok {
            text: text.to_string(),
            ws: false,
            tag,
        });
    }
}

/// Whether a word ending in '.' keeps it (abbreviations spaCy knows: "Dr.", "a.m.", "U.S.").
fn keeps_period(word: &str, lex: &Lexicon) -> bool {
    // spaCy's abbreviations among misaki's gold entries: Dr. Mr. Mrs. Ms. No. Esq. etc.
    if lex.in_gold(word) && (word.starts_with(char::is_uppercase) || word == "etc.") {
        return true;
    }
    let core = &word[..word.len() - 1];
    if core.is_empty() {
        return false;
    }
    // Letters separated by periods: a.m. p.m. e.g. U.S.
    if core.contains('.') && is_alpha(&core.replace('.', "")) {
        return core.split('.').all(|p| p.chars().count() <= 2);
    }
    // One capital letter: an initial.
    let mut cs = core.chars();
    matches!((cs.next(), cs.next()), (Some(c), None) if c.is_uppercase())
}

fn split_chunk(chunk: &str, lex: &Lexicon, out: &mut Vec<PreTok>) {
    let mut s = chunk;
    let mut cs = chunk.chars();
    if let (Some(c), None) = (cs.next(), cs.next()) {
        if is_prefix_char(c) || is_suffix_char(c) || is_dash(c) || c == '-' {
            push(out, chunk, punct_tag(c, true));
            return;
        }
    }
    // Prefixes.
    while let Some(c) = s.chars().next() {
        if s.len() == c.len_utf8() || !is_prefix_char(c) {
            break;
        }
        if is_apos(c)
            && s[c.len_utf8()..]
                .chars()
                .next()
                .is_some_and(char::is_alphabetic)
        {
            // 's 're 'll …: part of the word, misaki merges them anyway.
            break;
        }
        push(out, &s[..c.len_utf8()], punct_tag(c, true));
        s = &s[c.len_utf8()..];
    }
    // Suffixes, collected in reverse.
    let mut suffixes: Vec<(String, &'static str)> = Vec::new();
    while let Some(c) = s.chars().last() {
        if s.len() == c.len_utf8() {
            break;
        }
        if c == '.' {
            if s.ends_with("..") {
                // "p.m.." — a sentence end after an abbreviation.
                suffixes.push((".".into(), "."));
                s = &s[..s.len() - 1];
                continue;
            }
            if keeps_period(s, lex) {
                break;
            }
        } else if c == '%' {
            // Part of the number's word group (misaki merges "3.5%").
            break;
        } else if is_apos(c) {
            let before = s[..s.len() - c.len_utf8()].chars().last();
            if before == Some('s') || before == Some('S') {
                break; // plural possessive
            }
        } else if !is_suffix_char(c) {
            break;
        }
        suffixes.push((c.to_string(), punct_tag(c, false)));
        s = &s[..s.len() - c.len_utf8()];
    }
    split_infixes(s, out);
    for (t, tag) in suffixes.into_iter().rev() {
        push(out, &t, tag);
    }
}

/// Dashes, ellipses and commas between letters split a chunk.
fn split_infixes(s: &str, out: &mut Vec<PreTok>) {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let prev_alpha = i > 0 && chars[i - 1].1.is_alphanumeric();
        let next = chars.get(i + 1).map(|x| x.1);
        let split_len = if is_dash(c) || c == '…' {
            Some(c.len_utf8())
        } else if c == '-' && next == Some('-') {
            Some(2)
        } else if c == '.' && s[pos..].starts_with("...") {
            Some(3)
        } else if (c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '(' || c == ')')
            && prev_alpha
            && next.is_some_and(char::is_alphabetic)
        {
            Some(1)
        } else {
            None
        };
        if let Some(len) = split_len {
            if len == chars.len() - i && pos == 0 && s.len() == len {
                break;
            }
            push(out, &s[start..pos], "");
            let t = &s[pos..pos + len];
            push(out, t, punct_tag(c, false));
            start = pos + len;
            while i < chars.len() && chars[i].0 < start {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    if start == 0 {
        push(out, s, "");
    } else {
        push(out, &s[start..], "");
    }
}

fn lower_word(t: &PreTok) -> String {
    t.text.to_lowercase()
}

fn is_word(t: &PreTok) -> bool {
    t.text.chars().any(char::is_alphabetic) && !PUNCT_TAGS.contains(&t.tag)
}

const DETERMINERS: &[&str] = &[
    "the", "a", "an", "your", "our", "my", "his", "her", "their", "its", "this", "that", "these",
    "those", "each", "every", "any", "no", "some", "another", "of", "for", "with", "on", "at",
    "from", "new", "last", "next", "first", "recent", "monthly", "daily", "online", "annual",
    "final", "free", "full", "partial", "medical", "bank", "account", "card",
];
const VERB_CONTEXT: &[&str] = &[
    "to", "will", "would", "can", "could", "may", "might", "must", "shall", "should", "please",
    "you", "we", "i", "they", "not", "don't", "cannot", "can't", "won't", "also", "then", "and",
    "or", "lets", "let's",
];
const PERFECT: &[&str] = &[
    "have", "has", "had", "was", "were", "been", "be", "is", "are", "being", "i've", "you've",
    "we've",
];
const CLAUSE_START: &[&str] = &[
    "you", "we", "i", "they", "he", "she", "it", "there", "your", "our", "their", "his", "its",
    "the", "a", "an", "my", "this", "these", "those",
];
const PARTICLE_VERBS: &[&str] = &[
    "check", "checked", "checking", "log", "logged", "sign", "signed", "fill", "walk", "drop",
    "come", "plug", "key", "punch", "type", "cash", "opt", "hand", "turn", "move", "phone", "call",
    "calling", "get", "let", "logging", "signing",
];
const PREPOSITIONS: &[&str] = &[
    "of", "for", "with", "on", "at", "from", "by", "about", "into", "during", "before", "after",
    "between", "within", "without", "under", "over", "through", "per", "via", "until", "since",
    "than", "like", "upon", "near", "across", "around", "against", "among",
];
const PRONOUNS: &[&str] = &[
    "you", "we", "they", "he", "she", "it", "me", "us", "them", "him",
];

/// Guesses the spaCy tags misaki's rules look at. Tags of other words stay empty.
pub(crate) fn tag(toks: &mut [PreTok]) {
    let n = toks.len();
    let lowers: Vec<String> = toks.iter().map(lower_word).collect();
    let words: Vec<bool> = toks.iter().map(is_word).collect();
    for i in 0..n {
        if PUNCT_TAGS.contains(&toks[i].tag) {
            continue;
        }
        let t = &toks[i].text;
        let w = lowers[i].as_str();
        // The previous and next word, across nothing but other words.
        let prev = (0..i).rev().find(|&j| {
            words[j] || !toks[j].tag.is_empty() || toks[j].text.chars().any(|c| c.is_ascii_digit())
        });
        let prev_w = prev
            .filter(|&j| words[j] && !PUNCT_TAGS.contains(&toks[j].tag))
            .map(|j| lowers[j].as_str());
        let sentence_start =
            prev.is_none_or(|j| PUNCT_TAGS.contains(&toks[j].tag) && toks[j].tag != "$");
        let next = toks.get(i + 1);
        let next_w = next
            .filter(|t| !PUNCT_TAGS.contains(&t.tag))
            .map(lower_word);
        let next_w = next_w.as_deref();
        let next_is_word = next.is_some_and(is_word);
        let has_digit = t.chars().any(|c| c.is_ascii_digit());
        let tag: &'static str = if has_digit {
            if super::numbers::is_number(t, true) {
                "CD"
            } else {
                "NN"
            }
        } else if w == "oh" && prev.is_some_and(|j| toks[j].tag == "CD") {
            "CD"
        } else if t == "I" {
            "PRP"
        } else if w == "a" || w == "an" {
            if t == "A"
                && !(next_is_word
                    && (sentence_start
                        || next.is_some_and(|x| x.text.starts_with(char::is_lowercase))))
            {
                "NNP"
            } else {
                "DT"
            }
        } else if w == "the" || w == "this" || w == "these" || w == "those" {
            "DT"
        } else if w == "that" {
            if next_w.is_some_and(|x| CLAUSE_START.contains(&x))
                || prev_w.is_some_and(|p| p == "so" || p == "such")
            {
                "IN"
            } else {
                "DT"
            }
        } else if w == "to" {
            "TO"
        } else if w == "in" {
            let particle = prev_w.is_some_and(|p| PARTICLE_VERBS.contains(&p))
                && next_w.is_none_or(|x| {
                    PREPOSITIONS.contains(&x)
                        || x == "to"
                        || x == "now"
                        || x == "here"
                        || x == "online"
                });
            if particle {
                "RP"
            } else {
                "IN"
            }
        } else if PREPOSITIONS.contains(&w) {
            "IN"
        } else if w == "am" {
            if prev.is_some_and(|j| toks[j].tag == "CD") {
                "NN"
            } else {
                "VBP"
            }
        } else if PRONOUNS.contains(&w) {
            "PRP"
        } else if (t.chars().count() > 1
            && t.chars().all(|c| c.is_uppercase() || c == '\'' || c == '.'))
            || (t.starts_with(char::is_uppercase) && !sentence_start)
        {
            "NNP"
        } else if prev_w.is_some_and(|p| PERFECT.contains(&p))
            && (w.ends_with("ed") || w == "read" || w == "wound")
        {
            "VBN"
        } else if w == "used" {
            if prev_w.is_some_and(|p| PRONOUNS.contains(&p) || p == "i") {
                "VBD"
            } else {
                "VBN"
            }
        } else if prev_w.is_some_and(|p| DETERMINERS.contains(&p))
            || prev.is_some_and(|j| toks[j].tag == "CD")
        {
            "NN"
        } else if prev_w.is_some_and(|p| VERB_CONTEXT.contains(&p))
            || (sentence_start
                && (next_w.is_some_and(|x| {
                    DETERMINERS.contains(&x) || PRONOUNS.contains(&x) || CLAUSE_START.contains(&x)
                }) || next.is_some_and(|x| {
                    x.tag == "CD" || x.text.starts_with(|c: char| c.is_ascii_digit())
                })))
        {
            "VB"
        } else {
            ""
        };
        toks[i].tag = tag;
    }
}

/// One sub-token (misaki's `MToken` after `retokenize`).
#[derive(Debug, Clone)]
struct Tok {
    text: String,
    tag: &'static str,
    ws: bool,
    phonemes: Option<String>,
    is_head: bool,
    currency: Option<char>,
    alias: Option<&'static str>,
    prespace: bool,
}

enum Word {
    One(Tok),
    Many(Vec<Tok>),
}

/// misaki's `subtokenize` regex, as a scanner.
fn subtokenize(word: &str) -> Vec<String> {
    let cs: Vec<char> = word.chars().collect();
    let n = cs.len();
    let mut out = Vec::new();
    let mut i = 0;
    let is_lu = |c: char| c.is_uppercase();
    let is_ll = |c: char| c.is_lowercase();
    let is_l = |c: char| c.is_alphabetic();
    while i < n {
        // 1. ^['‘’]+
        if i == 0 && is_apos(cs[0]) {
            let mut j = 0;
            while j < n && is_apos(cs[j]) {
                j += 1;
            }
            out.push(cs[..j].iter().collect());
            i = j;
            continue;
        }
        // 2. \p{Lu}(?=\p{Lu}\p{Ll})
        if is_lu(cs[i]) && i + 2 < n && is_lu(cs[i + 1]) && is_ll(cs[i + 2]) {
            out.push(cs[i].to_string());
            i += 1;
            continue;
        }
        // 3. (?:^-)?(?:\d?[,.]?\d)+
        {
            let mut j = i;
            if i == 0 && cs[0] == '-' {
                j = 1;
            }
            let num_start = j;
            let mut end = None;
            let mut k = j;
            while k < n {
                if cs[k].is_ascii_digit() {
                    k += 1;
                    end = Some(k);
                } else if (cs[k] == ',' || cs[k] == '.') && k + 1 < n && cs[k + 1].is_ascii_digit()
                {
                    // A separator may follow a digit or open a unit; two in a row never match.
                    if k > num_start && !cs[k - 1].is_ascii_digit() {
                        break;
                    }
                    k += 1;
                } else {
                    break;
                }
            }
            if let Some(e) = end {
                out.push(cs[i..e].iter().collect());
                i = e;
                continue;
            }
        }
        // 4. [-_]+
        if cs[i] == '-' || cs[i] == '_' {
            let mut j = i;
            while j < n && (cs[j] == '-' || cs[j] == '_') {
                j += 1;
            }
            out.push(cs[i..j].iter().collect());
            i = j;
            continue;
        }
        // 5. ['‘’]{2,}
        if is_apos(cs[i]) && i + 1 < n && is_apos(cs[i + 1]) {
            let mut j = i;
            while j < n && is_apos(cs[j]) {
                j += 1;
            }
            out.push(cs[i..j].iter().collect());
            i = j;
            continue;
        }
        if is_l(cs[i]) {
            // 6. \p{L}*?(?:['‘’]\p{L})*?\p{Ll}(?=\p{Lu}): shortest letter run ending in a
            // lowercase letter that an uppercase one follows.
            let mut k = i;
            let mut found = None;
            while k < n && is_l(cs[k]) {
                if is_ll(cs[k]) && k + 1 < n && is_lu(cs[k + 1]) {
                    found = Some(k + 1);
                    break;
                }
                k += 1;
            }
            if let Some(e) = found {
                out.push(cs[i..e].iter().collect());
                i = e;
                continue;
            }
            // 7. \p{L}+(?:['‘’]\p{L})*
            let mut j = i;
            while j < n && is_l(cs[j]) {
                j += 1;
            }
            while j + 1 < n && is_apos(cs[j]) && is_l(cs[j + 1]) {
                j += 2;
            }
            out.push(cs[i..j].iter().collect());
            i = j;
            continue;
        }
        // 8. [^-_\p{L}'‘’\d]
        if !(cs[i] == '-' || cs[i] == '_' || is_apos(cs[i]) || cs[i].is_ascii_digit()) {
            out.push(cs[i].to_string());
            i += 1;
            continue;
        }
        // 9. ['‘’]+$
        if is_apos(cs[i]) && cs[i..].iter().all(|&c| is_apos(c)) {
            out.push(cs[i..].iter().collect());
            break;
        }
        i += 1;
    }
    out
}

/// Most sub-tokens merged as one word: misaki's merging is cubic in the group size, and no
/// real word has more parts ("ab-ab-ab-…" is cut into groups of this size).
const MAX_GROUP: usize = 24;

fn retokenize(toks: &[PreTok]) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    let mut currency: Option<char> = None;
    for (i, token) in toks.iter().enumerate() {
        let subs = subtokenize(&token.text);
        let count = subs.len();
        let mut tks: Vec<Tok> = subs
            .into_iter()
            .map(|t| Tok {
                text: t,
                tag: token.tag,
                ws: false,
                phonemes: None,
                is_head: true,
                currency: None,
                alias: None,
                prespace: false,
            })
            .collect();
        if let Some(last) = tks.last_mut() {
            last.ws = token.ws;
        }
        let texts: Vec<String> = tks.iter().map(|t| t.text.clone()).collect();
        for (j, mut tk) in tks.into_iter().enumerate() {
            let first = tk.text.chars().next().unwrap_or(' ');
            if tk.tag == "$"
                && tk.text.chars().count() == 1
                && lexicon::currency_units(first).is_some()
            {
                currency = Some(first);
                tk.phonemes = Some(String::new());
            } else if tk.tag == ":" && (tk.text == "-" || tk.text == "–") {
                tk.phonemes = Some("—".into());
            } else if PUNCT_TAGS.contains(&tk.tag)
                && !tk.text.chars().all(|c| c.is_ascii_alphabetic())
            {
                tk.phonemes = Some(match tk.tag {
                    "-LRB-" => "(".into(),
                    "-RRB-" => ")".into(),
                    "``" => "“".into(),
                    "\"\"" | "''" => "”".into(),
                    _ => tk.text.chars().filter(|&c| is_punct_symbol(c)).collect(),
                });
            } else if currency.is_some() {
                if tk.tag != "CD" {
                    currency = None;
                } else if j + 1 == count && (i + 1 == toks.len() || toks[i + 1].tag != "CD") {
                    tk.currency = currency;
                }
            } else if j > 0 && j + 1 < count && tk.text == "2" {
                let a = texts[j - 1].chars().last().unwrap_or(' ');
                let b = texts[j + 1].chars().next().unwrap_or(' ');
                if a.is_alphabetic() && b.is_alphabetic() {
                    tk.alias = Some("to");
                }
            }
            if tk.alias.is_some() || tk.phonemes.is_some() {
                words.push(Word::One(tk));
            } else if let Some(Word::Many(list)) = words.last_mut().filter(|w| {
                matches!(w, Word::Many(l) if l.last().is_some_and(|t| !t.ws) && l.len() < MAX_GROUP)
            }) {
                tk.is_head = false;
                list.push(tk);
            } else if tk.ws {
                words.push(Word::One(tk));
            } else {
                words.push(Word::Many(vec![tk]));
            }
        }
    }
    words
        .into_iter()
        .map(|w| match w {
            Word::Many(mut l) if l.len() == 1 => Word::One(l.remove(0)),
            w => w,
        })
        .collect()
}

fn token_context(ctx: Ctx, ps: Option<&str>, text: &str, tag: &str) -> Ctx {
    let mut vowel = ctx.future_vowel;
    if let Some(ps) = ps.filter(|p| !p.is_empty()) {
        if let Some(c) = ps
            .chars()
            .find(|&c| is_vowel(c) || is_consonant(c) || is_non_quote_punct(c))
        {
            vowel = if is_non_quote_punct(c) {
                None
            } else {
                Some(is_vowel(c))
            };
        }
    }
    let future_to = text == "to" || text == "To" || (text == "TO" && (tag == "TO" || tag == "IN"));
    Ctx {
        future_vowel: vowel,
        future_to,
    }
}

/// Caps weight of misaki's `merge_tokens` tag choice.
fn caps_weight(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if c.to_lowercase().eq(std::iter::once(c)) {
                1
            } else {
                2
            }
        })
        .sum()
}

fn merged(tks: &[Tok]) -> (String, &'static str, bool, Option<char>) {
    let mut text = String::new();
    for (k, t) in tks.iter().enumerate() {
        text.push_str(&t.text);
        if t.ws && k + 1 < tks.len() {
            text.push(' ');
        }
    }
    let mut best = &tks[0];
    for t in tks {
        if caps_weight(&t.text) > caps_weight(&best.text) {
            best = t;
        }
    }
    let currency = tks.iter().filter_map(|t| t.currency).max();
    (text, best.tag, tks[0].is_head, currency)
}

/// misaki's `resolve_tokens`: spacing and compound stress inside a word group.
fn resolve_tokens(tokens: &mut [Tok]) {
    let text: String = {
        let (t, ..) = merged(tokens);
        t
    };
    let classes: std::collections::BTreeSet<u8> = text
        .chars()
        .filter(|&c| !is_junk(c))
        .map(|c| {
            if c.is_alphabetic() {
                0
            } else if c.is_ascii_digit() {
                1
            } else {
                2
            }
        })
        .collect();
    let prespace = text.contains(' ') || text.contains('/') || classes.len() > 1;
    let last = tokens.len() - 1;
    for (i, tk) in tokens.iter_mut().enumerate() {
        if tk.phonemes.is_none() {
            if i == last && tk.text.chars().count() == 1 && tk.text.chars().all(is_non_quote_punct)
            {
                tk.phonemes = Some(tk.text.clone());
            } else if tk.text.chars().all(is_junk) {
                tk.phonemes = Some(String::new());
            }
        } else if i > 0 {
            tk.prespace = prespace;
        }
    }
    if prespace {
        return;
    }
    let mut indices: Vec<(bool, usize, usize)> = tokens
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            t.phonemes
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(|p| (p.contains(PRIMARY), lexicon::stress_weight(p), i))
        })
        .collect();
    if indices.len() == 2 && tokens[indices[0].2].text.chars().count() == 1 {
        let i = indices[1].2;
        if let Some(p) = tokens[i].phonemes.as_mut() {
            *p = lexicon::apply_stress(p, Some(-0.5));
        }
        return;
    }
    let primaries = indices.iter().filter(|x| x.0).count();
    if indices.len() < 2 || primaries <= indices.len().div_ceil(2) {
        return;
    }
    indices.sort();
    let half = indices.len() / 2;
    for &(_, _, i) in &indices[..half] {
        if let Some(p) = tokens[i].phonemes.as_mut() {
            *p = lexicon::apply_stress(p, Some(-0.5));
        }
    }
}

/// Phonemes of one sentence's tokens, misaki-style. Words misaki does not know get our own
/// fallback reading ([`oov`]); characters that have no reading are dropped.
pub(crate) fn phonemize_tokens(pre: &[PreTok], lex: &Lexicon) -> String {
    let mut words = retokenize(pre);
    let mut ctx = Ctx::default();
    for w in words.iter_mut().rev() {
        match w {
            Word::One(tk) => {
                if tk.phonemes.is_none() {
                    let text = tk.alias.map_or(tk.text.as_str(), |a| a);
                    tk.phonemes = lex
                        .word(text, tk.tag, tk.currency, tk.is_head, &ctx)
                        .map(|f| f.0)
                        .or_else(|| oov::fallback(text, lex));
                }
                ctx = token_context(ctx, tk.phonemes.as_deref(), &tk.text, tk.tag);
            }
            Word::Many(list) => {
                let (mut left, mut right) = (0, list.len());
                while left < right {
                    let blocked = list[left..right]
                        .iter()
                        .any(|t| t.alias.is_some() || t.phonemes.is_some());
                    let found = if blocked {
                        None
                    } else {
                        let (text, tag, is_head, currency) = merged(&list[left..right]);
                        lex.word(&text, tag, currency, is_head, &ctx)
                            .map(|f| (f.0, text, tag))
                    };
                    if let Some((ps, text, tag)) = found {
                        ctx = token_context(ctx, Some(&ps), &text, tag);
                        list[left].phonemes = Some(ps);
                        for t in &mut list[left + 1..right] {
                            t.phonemes = Some(String::new());
                        }
                        right = left;
                        left = 0;
                    } else if left + 1 < right {
                        left += 1;
                    } else {
                        right -= 1;
                        let tk = &mut list[right];
                        if tk.phonemes.is_none() {
                            if tk.text.chars().all(is_junk) {
                                tk.phonemes = Some(String::new());
                            } else if tk.text.chars().any(char::is_alphabetic) {
                                tk.phonemes = oov::fallback(&tk.text, lex);
                                ctx = token_context(ctx, tk.phonemes.as_deref(), &tk.text, tk.tag);
                            }
                        }
                        left = 0;
                    }
                }
                resolve_tokens(list);
            }
        }
    }
    let mut out = String::new();
    for w in &words {
        match w {
            Word::One(tk) => {
                out.push_str(tk.phonemes.as_deref().unwrap_or(""));
                if tk.ws {
                    out.push(' ');
                }
            }
            Word::Many(list) => {
                let mut ps = String::new();
                for tk in list {
                    let p = tk.phonemes.as_deref().unwrap_or("");
                    if tk.prespace
                        && !ps.is_empty()
                        && !ps.ends_with(char::is_whitespace)
                        && !p.is_empty()
                    {
                        ps.push(' ');
                    }
                    ps.push_str(p);
                }
                out.push_str(&ps);
                if list.last().is_some_and(|t| t.ws) {
                    out.push(' ');
                }
            }
        }
    }
    out.chars()
        .map(|c| match c {
            'ɾ' => 'T',
            'ʔ' => 't',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::subtokenize;

    #[test]
    fn subtokens_follow_misaki() {
        assert_eq!(subtokenize("8:30"), ["8", ":", "30"]);
        assert_eq!(subtokenize("1,234.56"), ["1,234.56"]);
        assert_eq!(subtokenize("18-digit"), ["18", "-", "digit"]);
        assert_eq!(subtokenize("WeChat"), ["We", "Chat"]);
        assert_eq!(subtokenize("party's"), ["party's"]);
        assert_eq!(subtokenize("'s"), ["'", "s"]);
        assert_eq!(subtokenize("B2"), ["B", "2"]);
        assert_eq!(subtokenize("3.5%"), ["3.5", "%"]);
        assert_eq!(subtokenize("ATMCard"), ["ATMCard"]);
        assert_eq!(subtokenize("MyATMCard"), ["My", "ATMCard"]);
        assert_eq!(subtokenize("-5"), ["-5"]);
        assert_eq!(subtokenize("3rd"), ["3", "rd"]);
        assert_eq!(subtokenize("you'll"), ["you'l", "l"]);
        assert_eq!(subtokenize("a.m."), ["a", ".", "m", "."]);
        assert_eq!(subtokenize("1,,2"), ["1", ",", ",2"]);
        assert_eq!(subtokenize("'tis'"), ["'", "tis", "'"]);
    }
}
