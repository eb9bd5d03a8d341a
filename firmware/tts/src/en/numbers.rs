//! Numbers in words, and misaki's rules for reading a numeric token.
//!
//! Number words are those of the `num2words` package misaki calls (cardinals in the
//! short scale, ordinals by changing the last word, 4-digit numbers as years); misaki drops
//! num2words' "and" and commas, so only the word sequence matters and that is what these
//! functions return. Each word is then read from the lexicon.

use super::lexicon::{currency_units, is_digits, suffix_ed, suffix_ing, suffix_s, Found, Lexicon};

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [&str; 7] = [
    "",
    "thousand",
    "million",
    "billion",
    "trillion",
    "quadrillion",
    "quintillion",
];

fn below_thousand(n: u64, out: &mut Vec<&'static str>) {
    let h = n / 100;
    let r = n % 100;
    if h > 0 {
        out.push(ONES[h as usize]);
        out.push("hundred");
    }
    if r >= 20 {
        out.push(TENS[(r / 10) as usize]);
        if r % 10 > 0 {
            out.push(ONES[(r % 10) as usize]);
        }
    } else if r > 0 || h == 0 {
        out.push(ONES[r as usize]);
    }
}

/// Cardinal number words ("one thousand two hundred thirty four" for 1234; the "and"
/// num2words writes is left out as misaki leaves it out).
pub(crate) fn cardinal_words(n: u64) -> Vec<&'static str> {
    let mut out = Vec::new();
    if n == 0 {
        out.push("zero");
        return out;
    }
    let mut groups = Vec::new();
    let mut m = n;
    while m > 0 {
        groups.push(m % 1000);
        m /= 1000;
    }
    for (i, &g) in groups.iter().enumerate().rev() {
        if g == 0 {
            continue;
        }
        below_thousand(g, &mut out);
        if i > 0 {
            out.push(SCALES[i]);
        }
    }
    out
}

fn ordinal_of(word: &str) -> String {
    match word {
        "one" => "first".into(),
        "two" => "second".into(),
        "three" => "third".into(),
        "five" => "fifth".into(),
        "eight" => "eighth".into(),
        "nine" => "ninth".into(),
        "twelve" => "twelfth".into(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    }
}

/// Ordinal number words ("twenty second").
pub(crate) fn ordinal_words(n: u64) -> Vec<String> {
    let mut w: Vec<String> = cardinal_words(n).into_iter().map(String::from).collect();
    if let Some(last) = w.last_mut() {
        *last = ordinal_of(last);
    }
    w
}

/// num2words' `to_year` for 0..=9999: "nineteen eighty five", "twenty oh one", "two thousand".
pub(crate) fn year_words(n: u64) -> Vec<&'static str> {
    let high = n / 100;
    let low = n % 100;
    if high == 0 || (high % 10 == 0 && low < 10) || high >= 100 {
        return cardinal_words(n);
    }
    let mut out = cardinal_words(high);
    if low == 0 {
        out.push("hundred");
    } else if low < 10 {
        out.push("oh");
        out.extend(cardinal_words(low));
    } else {
        out.extend(cardinal_words(low));
    }
    out
}

/// misaki's `is_number`: digits with `,` `.`, a leading minus on the first token, and an
/// optional suffix (`st`, `s`, `'s`, `ed`, …).
pub(crate) fn is_number(word: &str, is_head: bool) -> bool {
    if !word.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut w = word;
    for s in ["ing", "'d", "ed", "'s", "st", "nd", "rd", "th", "s"] {
        if let Some(b) = w.strip_suffix(s) {
            w = b;
            break;
        }
    }
    w.chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || c == ',' || c == '.' || (is_head && i == 0 && c == '-'))
}

fn is_currency_amount(word: &str) -> bool {
    if !word.contains('.') {
        return true;
    }
    if word.matches('.').count() > 1 {
        return false;
    }
    let cents = word.split('.').nth(1).unwrap_or("");
    cents.chars().count() < 3
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() {
        return Some(0);
    }
    s.parse().ok()
}

struct Reader<'a> {
    lex: &'a Lexicon,
    out: Vec<(String, u8)>,
    ok: bool,
}

impl Reader<'_> {
    fn word(&mut self, w: &str, stress: Option<f32>) {
        match self.lex.lookup(w, "", stress, None) {
            Some(f) => self.out.push(f),
            None => self.ok = false,
        }
    }

    fn words<S: AsRef<str>>(&mut self, ws: &[S]) {
        for w in ws {
            let w = w.as_ref();
            if w == "and" {
                continue;
            }
            let stress = if w == "point" { Some(-2.0) } else { None };
            self.word(w, stress);
        }
    }

    /// num2words of a digit string; digit by digit when it is too long for u64.
    fn number(&mut self, digits: &str) {
        match parse_u64(digits) {
            Some(n) => self.words(&cardinal_words(n)),
            None => {
                for c in digits.chars() {
                    self.number(&c.to_string());
                }
            }
        }
    }

    fn found(&mut self, f: Found) {
        match f {
            Some(f) => self.out.push(f),
            None => self.ok = false,
        }
    }
}

/// num2words' float reading: "seven point two five"; "35.00" reads as "35.0".
fn float_words(r: &mut Reader<'_>, word: &str) {
    let (int, frac) = word.split_once('.').unwrap_or((word, ""));
    let mut frac = frac.trim_end_matches('0').to_string();
    if frac.is_empty() {
        frac.push('0');
    }
    r.number(if int.is_empty() { "0" } else { int });
    r.words(&["point"]);
    for c in frac.chars() {
        r.number(&c.to_string());
    }
}

/// misaki's `get_number`.
pub(crate) fn get_number(
    lex: &Lexicon,
    word: &str,
    currency: Option<char>,
    is_head: bool,
) -> Found {
    // Trailing lowercase letters and apostrophes: the suffix.
    let cut = word
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_lowercase() || *c == '\'')
        .last()
        .map_or(word.len(), |(i, _)| i);
    let (mut word, suffix) = (&word[..cut], &word[cut..]);
    let mut r = Reader {
        lex,
        out: Vec::new(),
        ok: true,
    };
    if let Some(w) = word.strip_prefix('-') {
        r.word("minus", None);
        word = w;
    }
    let is_ordinal = matches!(suffix, "st" | "nd" | "rd" | "th");
    let units = currency.and_then(currency_units);
    if is_digits(word) && is_ordinal {
        match parse_u64(word) {
            Some(n) => r.words(&ordinal_words(n)),
            None => r.number(word),
        }
    } else if r.out.is_empty() && word.len() == 4 && units.is_none() && is_digits(word) {
        r.words(&year_words(parse_u64(word).unwrap_or(0)));
    } else if !is_head && !word.contains('.') {
        let num: String = word.chars().filter(|&c| c != ',').collect();
        let b = num.as_bytes();
        if num.is_empty() {
        } else if b[0] == b'0' || num.len() > 3 {
            for c in num.chars() {
                r.number(&c.to_string());
            }
        } else if num.len() == 3 && !num.ends_with("00") {
            r.number(&num[..1]);
            if b[1] == b'0' {
                r.word("O", Some(-2.0));
                r.number(&num[2..]);
            } else {
                r.number(&num[1..]);
            }
        } else {
            r.number(&num);
        }
    } else if word.matches('.').count() > 1 || !is_head {
        let clean: String = word.chars().filter(|&c| c != ',').collect();
        for num in clean.split('.') {
            if num.is_empty() {
                continue;
            }
            let b = num.as_bytes();
            if b[0] == b'0' || (num.len() != 2 && b[1..].iter().any(|&d| d != b'0')) {
                for c in num.chars() {
                    r.number(&c.to_string());
                }
            } else {
                r.number(num);
            }
        }
    } else if let (Some((unit, sub)), true) = (units, is_currency_amount(word)) {
        let clean: String = word.chars().filter(|&c| c != ',').collect();
        let mut pairs: Vec<(u64, &str)> = clean
            .split('.')
            .zip([unit, sub])
            .map(|(n, u)| (parse_u64(n).unwrap_or(u64::MAX), u))
            .collect();
        if pairs.len() > 1 {
            if pairs[1].0 == 0 {
                pairs.truncate(1);
            } else if pairs[0].0 == 0 {
                pairs.remove(0);
            }
        }
        for (i, (n, u)) in pairs.iter().enumerate() {
            if i > 0 {
                r.word("and", None);
            }
            r.words(&cardinal_words(*n));
            if *n != 1 && *u != "pence" {
                let f = lex.stem_s(&format!("{u}s"), "", None, None);
                r.found(f);
            } else {
                r.word(u, None);
            }
        }
    } else if is_digits(word) {
        r.number(word);
    } else if !word.contains('.') {
        let clean: String = word.chars().filter(|&c| c != ',').collect();
        if !is_digits(&clean) {
            return None;
        }
        match (is_ordinal, parse_u64(&clean)) {
            (true, Some(n)) => r.words(&ordinal_words(n)),
            _ => r.number(&clean),
        }
    } else {
        let clean: String = word.chars().filter(|&c| c != ',').collect();
        if let Some(frac) = clean.strip_prefix('.') {
            r.words(&["point"]);
            for c in frac.chars() {
                r.number(&c.to_string());
            }
        } else {
            float_words(&mut r, &clean);
        }
    }
    if r.out.is_empty() || !r.ok {
        return None;
    }
    let rating = r.out.iter().map(|(_, x)| *x).min().unwrap_or(3);
    let ps = r
        .out
        .iter()
        .map(|(p, _)| p.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let ps = match suffix {
        "s" | "'s" => suffix_s(&ps)?,
        "ed" | "'d" => suffix_ed(&ps)?,
        "ing" => suffix_ing(&ps)?,
        _ => ps,
    };
    Some((ps, rating))
}
