//! Spoken numbers: recogniser transcripts of digit strings (card, phone, ID numbers) and of
//! quantities, in Mandarin and English, turned into ASCII digits or a `u64`; plus the
//! checks flows run on the result ([`check`]).
//!
//! Transcripts are split into tokens: a run of ASCII letters is one English word, a run of
//! digits is one numeral (the recogniser often writes "138" itself), every other letter —
//! each Chinese character — is a token of its own, and everything else (spaces, hyphens,
//! punctuation) only separates. Full-width forms count as their ASCII twins.
//!
//! # Digit strings ([`digits`], [`id_digits`])
//!
//! - 零 〇 洞 → 0, 一 幺 → 1, 二 两 兩 → 2, 三 … 九; `zero`, `one` … `nine`; numerals as written.
//! - `double X` and `triple X` repeat the next digit: "double five" → `55`, "triple two" →
//!   `222`; "double 56" → `556`.
//! - Filler is skipped: 呃 嗯 啊 额 哦 唔 诶, `um` `umm` `uh` `uhh` `er` `erm` `hm` `hmm` `mm`
//!   `ah`.
//! - `oh` / `o` is the digit 0 when it touches a digit: the neighbouring word on either side
//!   (filler skipped) is a digit, `double`/`triple`, or another such `oh`, and no
//!   punctuation stands between them. Otherwise it is the interjection and skipped: "Oh, one
//!   three eight" → `138`, but "oh two one" → `021`, "one oh five" → `105`, "oh oh seven" →
//!   `007`. The recogniser writes a pause after an interjection as a comma, which is what
//!   the rule keys on.
//! - Anything else — including 十, 百 and `twenty`, which are quantities, not digits — is an
//!   error naming the token.
//!
//! # Quantities ([`quantity`])
//!
//! Mandarin: 三千二百零五, 两万, 十五, 一百零五, 一万亿; the colloquial shortening after a unit of
//! a hundred or more (一百二 = 120, 两万五 = 25 000, 三千二 = 3 200); numerals mixed in as the
//! recogniser writes them (3千, 2万5000, 3,205). 两 counts as 二 everywhere. 幺 and 洞 are
//! digit-string words only and are errors here. Up to 9999 9999 9999 9999 (the 亿 group
//! holds at most 9999万9999).
//!
//! English: "two thousand and five", "a hundred", "twenty-three", "fifteen hundred", up to
//! `u64::MAX` ("eighteen quintillion …"). In this mode `oh` is always filler.
//!
//! Approximations — 十几, 二十多, 一百多, 几十, 几百, "twenty-something", "a hundred odd" —
//! are read as the range they stand for and returned as [`NumberError::Approximate`]: a
//! flow asking for a count gets the range to ask again with, never a guess.
//! [`quantity_in`] drops carrier words around the number ("我们一共十几个人").
//!
//! A number that does not fit in `u64`, or words in an order no speaker uses (五十三百,
//! "twenty twenty", "five five"), are errors; so are fractions (三点五, 2.5, "two point five").
//!
//! Nothing here panics on any input or allocates more than a small multiple of the input.

pub mod check;

use crate::grammar::fold_width;

/// Longest transcript accepted, in characters.
pub const MAX_INPUT_CHARS: usize = 512;

/// Why a transcript is not a digit string or a quantity. Columns are 1-based character
/// positions in the transcript.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// The transcript is longer than [`MAX_INPUT_CHARS`].
    #[error("text is {chars} characters long; the limit is {max}")]
    TooLong {
        /// Its length.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// Nothing but filler and punctuation.
    #[error("no number in the text")]
    Empty,
    /// In a digit string: a token that is neither a digit word nor filler.
    #[error("{token:?} at column {column} is not a digit")]
    NotADigit {
        /// The token as written.
        token: String,
        /// Where it starts.
        column: usize,
    },
    /// In a quantity: a token that is not a number word nor filler.
    #[error("{token:?} at column {column} is not a number word")]
    NotANumber {
        /// The token as written.
        token: String,
        /// Where it starts.
        column: usize,
    },
    /// A number word where no speaker would put it (五十三百, "twenty twenty", 幺 in a
    /// quantity, a Chinese unit in English words).
    #[error("{token:?} at column {column} does not fit here")]
    Misplaced {
        /// The token as written.
        token: String,
        /// Where it starts.
        column: usize,
    },
    /// `double` or `triple` not followed by a digit.
    #[error("{token:?} at column {column} is not followed by a digit")]
    DanglingRepeat {
        /// The token as written.
        token: String,
        /// Where it starts.
        column: usize,
    },
    /// In an ID number, `X` somewhere other than at the end.
    #[error("'X' at column {column} is not the last character")]
    XNotLast {
        /// Where it is.
        column: usize,
    },
    /// A decimal point or 点 in a quantity.
    #[error("{token:?} at column {column}: only whole numbers are accepted")]
    Fraction {
        /// The token as written.
        token: String,
        /// Where it starts.
        column: usize,
    },
    /// The quantity does not fit in a `u64`.
    #[error("number is too large")]
    Overflow,
    /// An approximate quantity (十几, 二十多, 几百, "twenty-something"): the caller gave a
    /// range, not a number.
    #[error("an approximate number ({low} to {high}), not an exact one")]
    Approximate {
        /// Smallest value meant.
        low: u64,
        /// Largest value meant.
        high: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Numeral,
    Word,
    Han,
}

#[derive(Debug, Clone)]
struct Token<'a> {
    kind: Kind,
    /// As written.
    text: &'a str,
    /// Width-folded; ASCII words lower-cased.
    norm: String,
    column: usize,
    /// Separators between the previous token and this one, width-folded.
    gap: String,
}

impl Token<'_> {
    fn han(&self) -> char {
        self.norm.chars().next().unwrap_or(' ')
    }

    fn err(&self, make: fn(String, usize) -> NumberError) -> NumberError {
        make(self.text.to_owned(), self.column)
    }
}

fn not_a_digit(token: String, column: usize) -> NumberError {
    NumberError::NotADigit { token, column }
}
fn not_a_number(token: String, column: usize) -> NumberError {
    NumberError::NotANumber { token, column }
}
fn misplaced(token: String, column: usize) -> NumberError {
    NumberError::Misplaced { token, column }
}
fn dangling(token: String, column: usize) -> NumberError {
    NumberError::DanglingRepeat { token, column }
}
fn fraction(token: String, column: usize) -> NumberError {
    NumberError::Fraction { token, column }
}

fn tokenise(text: &str) -> Result<Vec<Token<'_>>, NumberError> {
    let chars = text.chars().count();
    if chars > MAX_INPUT_CHARS {
        return Err(NumberError::TooLong {
            chars,
            max: MAX_INPUT_CHARS,
        });
    }
    let mut tokens = Vec::new();
    let mut gap = String::new();
    let mut it = text.char_indices().enumerate().peekable();
    while let Some((col, (start, c))) = it.next() {
        let f = fold_width(c);
        let kind = if f.is_ascii_digit() {
            Kind::Numeral
        } else if f.is_ascii_alphabetic() {
            Kind::Word
        } else if f.is_alphanumeric() {
            Kind::Han
        } else {
            gap.push(f);
            continue;
        };
        let mut norm = String::new();
        norm.push(f.to_ascii_lowercase());
        let mut end = start + c.len_utf8();
        if kind != Kind::Han {
            while let Some(&(_, (i, n))) = it.peek() {
                let nf = fold_width(n);
                let same = match kind {
                    Kind::Numeral => nf.is_ascii_digit(),
                    _ => nf.is_ascii_alphabetic(),
                };
                if !same {
                    break;
                }
                norm.push(nf.to_ascii_lowercase());
                end = i + n.len_utf8();
                it.next();
            }
        }
        tokens.push(Token {
            kind,
            text: text.get(start..end).unwrap_or_default(),
            norm,
            column: col + 1,
            gap: std::mem::take(&mut gap),
        });
    }
    Ok(tokens)
}

const HAN_FILLER: &[char] = &['呃', '嗯', '啊', '额', '哦', '唔', '诶'];
const WORD_FILLER: &[&str] = &[
    "um", "umm", "uh", "uhh", "er", "erm", "hm", "hmm", "mm", "ah",
];

fn is_filler(t: &Token<'_>) -> bool {
    match t.kind {
        Kind::Han => HAN_FILLER.contains(&t.han()),
        Kind::Word => WORD_FILLER.contains(&t.norm.as_str()),
        Kind::Numeral => false,
    }
}

/// A gap that holds punctuation, not just spaces and hyphens.
fn is_break(gap: &str) -> bool {
    gap.chars().any(|c| !(c.is_whitespace() || c == '-'))
}

/// The digit a Mandarin digit character stands for (幺 1, 两 2, 洞 0 included).
pub fn han_digit(c: char) -> Option<u8> {
    Some(match c {
        '零' | '〇' | '洞' => 0,
        '一' | '幺' => 1,
        '二' | '两' | '兩' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

const ONES: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

fn word_digit(w: &str) -> Option<u8> {
    ONES.iter().position(|&o| o == w).map(|d| d as u8)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Digit(u8),
    /// `oh` / `o`, resolved to 0 or filler once its neighbours are known.
    Oh,
    Repeat(u8),
    X,
}

/// Read a spoken digit string into ASCII digits, by the rules in the [module docs](self).
///
/// # Errors
/// [`NumberError::NotADigit`] naming the first token that is neither a digit word nor
/// filler, [`NumberError::DanglingRepeat`], [`NumberError::Empty`] or
/// [`NumberError::TooLong`].
pub fn digits(text: &str) -> Result<String, NumberError> {
    spoken_digits(text, false)
}

/// Like [`digits`], for China resident ID numbers: the check character `X` (spoken or
/// written `X`, or 叉) is accepted as the last character and returned upper-case. Use
/// [`check::resident_id`] on the result.
///
/// # Errors
/// As [`digits`], and [`NumberError::XNotLast`].
pub fn id_digits(text: &str) -> Result<String, NumberError> {
    spoken_digits(text, true)
}

/// Like [`digits`], for a recogniser transcript that may wrap the digits in carrier words
/// ("我的卡号是六二二八", "my number is 8642, please"): words before the first and after
/// the last digit word are dropped; everything between must still be a digit string.
///
/// # Errors
/// As [`digits`], for the part between the first and the last digit word.
pub fn digits_in(text: &str) -> Result<String, NumberError> {
    spoken_digits(digit_span(text, false)?, false)
}

/// [`id_digits`] with carrier words dropped, as [`digits_in`].
///
/// # Errors
/// As [`id_digits`].
pub fn id_digits_in(text: &str) -> Result<String, NumberError> {
    spoken_digits(digit_span(text, true)?, true)
}

/// The part of `text` from the first to the last token that can belong to a digit string.
fn digit_span(text: &str, allow_x: bool) -> Result<&str, NumberError> {
    let tokens = tokenise(text)?;
    let digitish = |t: &Token<'_>| match t.kind {
        Kind::Numeral => true,
        Kind::Han => han_digit(t.han()).is_some() || (allow_x && t.han() == '叉'),
        Kind::Word => {
            word_digit(&t.norm).is_some()
                || matches!(t.norm.as_str(), "double" | "triple" | "oh" | "o")
                || (allow_x && t.norm == "x")
        }
    };
    let first = tokens.iter().find(|t| digitish(t));
    let last = tokens.iter().rev().find(|t| digitish(t));
    let (Some(first), Some(last)) = (first, last) else {
        return Err(NumberError::Empty);
    };
    let start = first.text.as_ptr() as usize - text.as_ptr() as usize;
    let end = last.text.as_ptr() as usize - text.as_ptr() as usize + last.text.len();
    Ok(text.get(start..end).unwrap_or(text))
}

fn spoken_digits(text: &str, allow_x: bool) -> Result<String, NumberError> {
    let tokens = tokenise(text)?;
    // (item, punctuation before it, token index)
    let mut items: Vec<(Item, bool, usize)> = Vec::new();
    let mut pending_break = false;
    for (ti, t) in tokens.iter().enumerate() {
        pending_break |= is_break(&t.gap);
        if is_filler(t) {
            continue;
        }
        let mut push = |item| {
            items.push((item, pending_break, ti));
            pending_break = false;
        };
        match t.kind {
            Kind::Numeral => {
                for b in t.norm.bytes() {
                    push(Item::Digit(b.wrapping_sub(b'0')));
                }
            }
            Kind::Han => match han_digit(t.han()) {
                Some(d) => push(Item::Digit(d)),
                None if allow_x && t.han() == '叉' => push(Item::X),
                None => return Err(t.err(not_a_digit)),
            },
            Kind::Word => match t.norm.as_str() {
                "oh" | "o" => push(Item::Oh),
                "double" => push(Item::Repeat(2)),
                "triple" => push(Item::Repeat(3)),
                "x" if allow_x => push(Item::X),
                w => match word_digit(w) {
                    Some(d) => push(Item::Digit(d)),
                    None => return Err(t.err(not_a_digit)),
                },
            },
        }
    }

    // Resolve each run of `oh`s joined without punctuation.
    let touches = |i: Option<usize>, brk_between: bool| {
        i.and_then(|i| items.get(i)).is_some_and(|&(it, _, _)| {
            !brk_between && matches!(it, Item::Digit(_) | Item::Repeat(_))
        })
    };
    let mut is_zero = vec![false; items.len()];
    let mut i = 0;
    while i < items.len() {
        if items.get(i).map(|x| x.0) != Some(Item::Oh) {
            i += 1;
            continue;
        }
        let mut j = i;
        while items
            .get(j + 1)
            .is_some_and(|&(it, brk, _)| it == Item::Oh && !brk)
        {
            j += 1;
        }
        let brk_first = items.get(i).is_some_and(|x| x.1);
        let brk_after = items.get(j + 1).is_some_and(|x| x.1);
        let after_repeat = i > 0 && matches!(items.get(i - 1), Some((Item::Repeat(_), _, _)));
        let digit =
            after_repeat || touches(i.checked_sub(1), brk_first) || touches(Some(j + 1), brk_after);
        for z in is_zero.iter_mut().take(j + 1).skip(i) {
            *z = digit;
        }
        i = j + 1;
    }
    let live: Vec<(Item, usize)> = items
        .iter()
        .zip(&is_zero)
        .filter(|((it, _, _), &zero)| *it != Item::Oh || zero)
        .map(|(&(it, _, ti), &zero)| (if zero { Item::Digit(0) } else { it }, ti))
        .collect();

    let mut out = String::new();
    let mut k = 0;
    while let Some(&(item, ti)) = live.get(k) {
        let token = tokens.get(ti);
        match item {
            Item::Digit(d) => out.push(char::from(b'0' + d)),
            Item::Repeat(n) => match live.get(k + 1) {
                Some(&(Item::Digit(d), _)) => {
                    for _ in 0..n {
                        out.push(char::from(b'0' + d));
                    }
                    k += 1;
                }
                _ => return Err(token.map_or(NumberError::Empty, |t| t.err(dangling))),
            },
            Item::X => {
                if k + 1 != live.len() {
                    return Err(NumberError::XNotLast {
                        column: token.map_or(0, |t| t.column),
                    });
                }
                out.push('X');
            }
            Item::Oh => {}
        }
        k += 1;
    }
    if out.is_empty() {
        return Err(NumberError::Empty);
    }
    Ok(out)
}

/// Merge comma-grouped numerals ("3,205") and reject decimals ("2.5").
fn group_numerals<'a>(tokens: Vec<Token<'a>>) -> Result<Vec<Token<'a>>, NumberError> {
    let mut out: Vec<Token<'a>> = Vec::with_capacity(tokens.len());
    for t in tokens {
        if let Some(prev) = out.last_mut() {
            if prev.kind == Kind::Numeral && t.kind == Kind::Numeral {
                if t.gap == "." {
                    return Err(t.err(fraction));
                }
                let first_group = prev.norm.split(',').next().unwrap_or_default().len();
                if t.gap == "," && t.norm.len() == 3 && (1..=3).contains(&first_group) {
                    prev.norm.push(',');
                    prev.norm.push_str(&t.norm);
                    continue;
                }
            }
        }
        out.push(t);
    }
    Ok(out)
}

fn numeral_value(t: &Token<'_>) -> Result<u64, NumberError> {
    t.norm
        .bytes()
        .filter(u8::is_ascii_digit)
        .try_fold(0u64, |acc, b| {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        })
        .ok_or(NumberError::Overflow)
}

/// Read a spoken quantity (cardinal number), by the rules in the [module docs](self).
///
/// # Errors
/// [`NumberError::NotANumber`] or [`NumberError::Misplaced`] naming the first token that
/// cannot be read, [`NumberError::Fraction`], [`NumberError::Overflow`],
/// [`NumberError::Empty`] or [`NumberError::TooLong`].
pub fn quantity(text: &str) -> Result<u64, NumberError> {
    let tokens: Vec<Token<'_>> = group_numerals(tokenise(text)?)?
        .into_iter()
        .filter(|t| {
            let oh = t.kind == Kind::Word && matches!(t.norm.as_str(), "oh" | "o");
            !(is_filler(t) || oh)
        })
        .collect();
    if tokens.is_empty() {
        return Err(NumberError::Empty);
    }
    if let Some((low, high)) = approximate(&tokens)? {
        return Err(NumberError::Approximate { low, high });
    }
    exact_quantity(&tokens)
}

fn exact_quantity(tokens: &[Token<'_>]) -> Result<u64, NumberError> {
    let english = tokens
        .iter()
        .any(|t| t.kind == Kind::Word && english_word(&t.norm).is_some());
    if english {
        english_quantity(tokens)
    } else {
        chinese_quantity(tokens)
    }
}

/// Like [`quantity`], for a transcript that wraps the number in carrier words ("我们一共五个
/// 人", "two tickets, please"): the number is the longest run of number words (the last of
/// equally long runs: callers end on the answer), with a trailing 几/多 or
/// "something"/"odd" and a leading "a" ("a hundred") kept.
///
/// # Errors
/// As [`quantity`] for that run; [`NumberError::Empty`] when there is none.
pub fn quantity_in(text: &str) -> Result<u64, NumberError> {
    let tokens = tokenise(text)?;
    let core = |t: &Token<'_>| match t.kind {
        Kind::Numeral => true,
        Kind::Han => han_number(t.han()).is_some() || t.han() == '几',
        Kind::Word => english_word(&t.norm).is_some(),
    };
    // Runs of core tokens; `and` may join two of them ("a hundred and five").
    let mut best: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < tokens.len() {
        if !tokens.get(i).is_some_and(core) {
            i += 1;
            continue;
        }
        let mut j = i;
        loop {
            if tokens.get(j + 1).is_some_and(core) {
                j += 1;
            } else if tokens.get(j + 1).is_some_and(|t| t.norm == "and")
                && tokens.get(j + 2).is_some_and(core)
            {
                j += 2;
            } else {
                break;
            }
        }
        if best.is_none_or(|(a, b)| j - i >= b - a) {
            best = Some((i, j));
        }
        i = j + 1;
    }
    let Some((mut first, mut last)) = best else {
        return Err(NumberError::Empty);
    };
    if first > 0 && tokens.get(first - 1).is_some_and(|t| t.norm == "a") {
        first -= 1;
    }
    let marker = |t: &Token<'_>| {
        (t.kind == Kind::Han && t.han() == '多') || matches!(t.norm.as_str(), "something" | "odd")
    };
    if tokens.get(last + 1).is_some_and(marker) {
        last += 1;
    }
    let (Some(a), Some(b)) = (tokens.get(first), tokens.get(last)) else {
        return Err(NumberError::Empty);
    };
    let start = a.text.as_ptr() as usize - text.as_ptr() as usize;
    let end = b.text.as_ptr() as usize - text.as_ptr() as usize + b.text.len();
    quantity(text.get(start..end).unwrap_or(text))
}

/// The range an approximate quantity stands for, `None` for an exact one:
/// - a number ending in zeros followed by 几 or 多 (十几, 二十多, 一百多, 两千多, 20多) or by
///   "something"/"odd" ("twenty-something", "a hundred odd"): the number plus 1 up to the
///   next step of its last non-zero digit — 二十几 21–29, 一百多 101–199, 一千二百多 1201–1299;
/// - 几 times units (几十 20–90, 几百, 几十万), after an optional number (一百几十 120–190);
/// - such a range times units (十几万 110 000–190 000, 三百多万);
/// - 几 alone: 2–9.
///
/// 几 or 多 anywhere else is an error naming it.
fn approximate(tokens: &[Token<'_>]) -> Result<Option<(u64, u64)>, NumberError> {
    let is_marker = |t: &Token<'_>| match t.kind {
        Kind::Han => matches!(t.han(), '几' | '多'),
        Kind::Word => matches!(t.norm.as_str(), "something" | "odd"),
        Kind::Numeral => false,
    };
    let Some(at) = tokens.iter().position(is_marker) else {
        return Ok(None);
    };
    let (prefix, rest) = tokens.split_at(at);
    let Some((marker, units)) = rest.split_first() else {
        return Ok(None);
    };
    let base = if prefix.is_empty() {
        0
    } else {
        exact_quantity(prefix)?
    };
    if units.is_empty() {
        return trailing_range(base, marker).map(Some);
    }
    let mut unit = 1u64;
    for t in units {
        let u = match (t.kind, han_number(t.han())) {
            (Kind::Han, Some(Han::Small(u) | Han::Big(u))) => u,
            _ => return Err(t.err(misplaced)),
        };
        unit = unit.checked_mul(u).ok_or(NumberError::Overflow)?;
    }
    let whole_units = unit
        .checked_mul(10)
        .is_some_and(|ten_units| base.is_multiple_of(ten_units));
    if marker.han() == '几' && whole_units {
        // 几 times units: 几十, 几万, 一百几十.
        let low = base.checked_add(2 * unit).ok_or(NumberError::Overflow)?;
        let high = base.checked_add(9 * unit).ok_or(NumberError::Overflow)?;
        return Ok(Some((low, high)));
    }
    // A range times units: 十几万, 二十多万, 三百多万.
    let (low, high) = trailing_range(base, marker)?;
    match (low.checked_mul(unit), high.checked_mul(unit)) {
        (Some(l), Some(h)) => Ok(Some((l, h))),
        _ => Err(NumberError::Overflow),
    }
}

/// The range of `base` followed by 几/多/"something": `base + 1` up to the next step of its
/// last non-zero digit; 几 alone is 2–9.
fn trailing_range(base: u64, marker: &Token<'_>) -> Result<(u64, u64), NumberError> {
    if base == 0 {
        return if marker.han() == '几' {
            Ok((2, 9))
        } else {
            Err(marker.err(misplaced))
        };
    }
    let mut step = 1u64;
    while step < 1_000_000_000_000_000_000 && base.is_multiple_of(step * 10) {
        step *= 10;
    }
    if step == 1 {
        return Err(marker.err(misplaced));
    }
    Ok((base + 1, base.saturating_add(step - 1)))
}

// ---------------------------------------------------------------------------------------
// Mandarin

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Han {
    Zero,
    Digit(u64),
    Small(u64),
    Big(u64),
}

fn han_number(c: char) -> Option<Han> {
    Some(match c {
        '零' | '〇' => Han::Zero,
        '幺' | '洞' => return None,
        '十' => Han::Small(10),
        '百' => Han::Small(100),
        '千' => Han::Small(1000),
        '万' | '萬' => Han::Big(10_000),
        '亿' | '億' => Han::Big(100_000_000),
        c => Han::Digit(u64::from(han_digit(c)?)),
    })
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    value: u64,
    /// One digit, spoken or written: may be the colloquial shortening (一百二).
    single: bool,
}

fn chinese_quantity(tokens: &[Token<'_>]) -> Result<u64, NumberError> {
    let mut yi: u64 = 0; // value of the 亿 group, already multiplied
    let mut wan: u64 = 0; // value of the 万 group since the last 亿, already multiplied
    let mut sec: u64 = 0; // value below 万 since the last big unit
    let mut pending: Option<Pending> = None;
    let mut last_small: Option<u64> = None; // last of 十百千 in this section
    let mut last_unit: Option<u64> = None; // last unit of any size
    let mut zero_gap = false; // 零 since the last unit
    let (mut seen_wan, mut seen_yi) = (false, false);
    let mut started = false;

    for t in tokens {
        let word = match t.kind {
            Kind::Numeral => None,
            Kind::Han => match han_number(t.han()) {
                Some(h) => Some(h),
                None if matches!(t.han(), '点' | '點') => return Err(t.err(fraction)),
                None if matches!(t.han(), '幺' | '洞') => return Err(t.err(misplaced)),
                None => return Err(t.err(not_a_number)),
            },
            Kind::Word => return Err(t.err(not_a_number)),
        };
        match word {
            None | Some(Han::Digit(_)) => {
                if pending.is_some() {
                    return Err(t.err(misplaced));
                }
                pending = Some(match word {
                    Some(Han::Digit(d)) => Pending {
                        value: d,
                        single: true,
                    },
                    _ => Pending {
                        value: numeral_value(t)?,
                        single: t.norm.len() == 1,
                    },
                });
            }
            Some(Han::Zero) => {
                if pending.is_some() {
                    return Err(t.err(misplaced));
                }
                zero_gap = true;
            }
            Some(Han::Small(u)) => {
                // 十 stands alone (十五, 一千零十); 百 and 千 only without a 零 before them (百万).
                let bare_ok = u == 10 || !zero_gap;
                let coefficient = match pending.take() {
                    Some(p) => p.value,
                    None if bare_ok => 1,
                    None => 0,
                };
                if !(1..=9).contains(&coefficient) || last_small.is_some_and(|l| l <= u) {
                    return Err(t.err(misplaced));
                }
                sec += coefficient * u;
                last_small = Some(u);
                last_unit = Some(u);
                zero_gap = false;
            }
            Some(Han::Big(b)) => {
                let below = section_end(&mut pending, last_small, zero_gap)
                    .ok_or_else(|| t.err(misplaced))?;
                let wan_part = if b == 10_000 { 0 } else { wan };
                // A numeral right after 万 can be as large as u64::MAX: add with care.
                let mut amount = wan_part
                    .checked_add(sec)
                    .and_then(|v| v.checked_add(below))
                    .ok_or_else(|| t.err(misplaced))?;
                if (b == 10_000 && seen_wan) || seen_yi && b == 100_000_000 {
                    return Err(t.err(misplaced));
                }
                if amount == 0 {
                    if started {
                        return Err(t.err(misplaced));
                    }
                    amount = 1; // 万 or 亿 on its own
                }
                // At most 9999万 and 9999 9999亿: more is a numeral no one would write.
                if amount >= b {
                    return Err(t.err(misplaced));
                }
                if b == 10_000 {
                    wan = amount * b;
                    seen_wan = true;
                } else {
                    yi = amount * b;
                    wan = 0;
                    seen_wan = false;
                    seen_yi = true;
                }
                sec = 0;
                last_small = None;
                last_unit = Some(b);
                zero_gap = false;
            }
        }
        started = true;
    }

    // End of the number: a lone digit right after a unit of 100 or more is the colloquial
    // shortening (一百二 = 120, 两万五 = 25 000).
    let tail = match (pending, last_unit) {
        (Some(p), Some(u)) if p.single && !zero_gap && u >= 100 => p.value * (u / 10),
        (Some(p), Some(u)) if p.value >= u => {
            return Err(tokens
                .last()
                .map_or(NumberError::Overflow, |t| t.err(misplaced)))
        }
        (Some(p), _) => p.value,
        (None, _) => 0,
    };
    yi.checked_add(wan)
        .and_then(|v| v.checked_add(sec))
        .and_then(|v| v.checked_add(tail))
        .ok_or(NumberError::Overflow)
}

/// The amount a pending digit or numeral adds to a section that a big unit (万, 亿) closes;
/// `None` when it cannot stand there (三百五万 — 305万 or 350万? — or 3百500万).
fn section_end(
    pending: &mut Option<Pending>,
    last_small: Option<u64>,
    zero_gap: bool,
) -> Option<u64> {
    let Some(p) = pending.take() else {
        return Some(0);
    };
    match last_small {
        Some(u) if p.value >= u || (p.single && !zero_gap && u > 10) => None,
        _ => Some(p.value),
    }
}

// ---------------------------------------------------------------------------------------
// English

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum En {
    Ones(u64),
    Teen(u64),
    Tens(u64),
    Hundred,
    Scale(u64),
    And,
    A,
}

const TEENS: [&str; 10] = [
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
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [(&str, u64); 6] = [
    ("thousand", 1_000),
    ("million", 1_000_000),
    ("billion", 1_000_000_000),
    ("trillion", 1_000_000_000_000),
    ("quadrillion", 1_000_000_000_000_000),
    ("quintillion", 1_000_000_000_000_000_000),
];

/// A word that makes a transcript English (`and`, `a` do not).
fn english_word(w: &str) -> Option<En> {
    if let Some(d) = word_digit(w) {
        return Some(En::Ones(d.into()));
    }
    if let Some(i) = TEENS.iter().position(|&t| t == w) {
        return Some(En::Teen(10 + i as u64));
    }
    if let Some(i) = TENS.iter().position(|&t| t == w) {
        return Some(En::Tens(20 + 10 * i as u64));
    }
    if w == "hundred" {
        return Some(En::Hundred);
    }
    SCALES
        .iter()
        .find(|(name, _)| *name == w)
        .map(|&(_, s)| En::Scale(s))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    None,
    Ones,
    Teen,
    Tens,
    Hundred,
    Scale,
    And,
    A,
    Numeral,
}

fn english_quantity(tokens: &[Token<'_>]) -> Result<u64, NumberError> {
    let mut total: u64 = 0;
    let mut group: u64 = 0; // below the last scale word, < 1000
    let mut has_hundred = false;
    let mut last_scale: Option<u64> = None;
    let mut last = Last::None;
    let mut zero_at: Option<&Token<'_>> = None;

    for t in tokens {
        if zero_at.is_some() {
            return Err(t.err(misplaced));
        }
        let word = match t.kind {
            Kind::Numeral => None,
            Kind::Han if han_number(t.han()).is_some() || han_digit(t.han()).is_some() => {
                return Err(t.err(misplaced))
            }
            Kind::Han if matches!(t.han(), '点' | '點') => return Err(t.err(fraction)),
            Kind::Han => return Err(t.err(not_a_number)),
            Kind::Word => match t.norm.as_str() {
                "and" => Some(En::And),
                "a" => Some(En::A),
                "point" => return Err(t.err(fraction)),
                w => Some(english_word(w).ok_or_else(|| t.err(not_a_number))?),
            },
        };
        let group_start = matches!(last, Last::None | Last::Scale | Last::And);
        last = match word {
            Some(En::Ones(0)) => {
                if last != Last::None {
                    return Err(t.err(misplaced));
                }
                zero_at = Some(t);
                Last::Ones
            }
            Some(En::Ones(d)) => {
                if !(group_start || matches!(last, Last::Tens | Last::Hundred)) {
                    return Err(t.err(misplaced));
                }
                group += d;
                Last::Ones
            }
            Some(En::Teen(v)) | Some(En::Tens(v)) => {
                if !(group_start || last == Last::Hundred) {
                    return Err(t.err(misplaced));
                }
                group += v;
                if matches!(word, Some(En::Teen(_))) {
                    Last::Teen
                } else {
                    Last::Tens
                }
            }
            None => {
                let v = numeral_value(t)?;
                let fits = match last {
                    Last::None | Last::Scale | Last::And => true,
                    Last::Hundred => v < 100,
                    Last::Tens => v < 10,
                    _ => false,
                };
                if !fits {
                    return Err(t.err(misplaced));
                }
                group = group.checked_add(v).ok_or(NumberError::Overflow)?;
                Last::Numeral
            }
            Some(En::Hundred) => {
                if matches!(last, Last::None | Last::A) {
                    group = 1;
                }
                let ok = !has_hundred
                    && (1..=99).contains(&group)
                    && matches!(
                        last,
                        Last::None | Last::A | Last::Ones | Last::Teen | Last::Tens | Last::Numeral
                    );
                if !ok {
                    return Err(t.err(misplaced));
                }
                group *= 100;
                has_hundred = true;
                Last::Hundred
            }
            Some(En::Scale(s)) => {
                if matches!(last, Last::None | Last::A) {
                    group = 1;
                }
                let ok = (1..1000).contains(&group)
                    && !matches!(last, Last::Scale | Last::And)
                    && last_scale.is_none_or(|l| s < l);
                if !ok {
                    return Err(t.err(misplaced));
                }
                total = group
                    .checked_mul(s)
                    .and_then(|v| total.checked_add(v))
                    .ok_or(NumberError::Overflow)?;
                group = 0;
                has_hundred = false;
                last_scale = Some(s);
                Last::Scale
            }
            Some(En::And) => {
                if !matches!(last, Last::Hundred | Last::Scale) {
                    return Err(t.err(misplaced));
                }
                Last::And
            }
            Some(En::A) => {
                if !matches!(last, Last::None | Last::Scale | Last::And) {
                    return Err(t.err(misplaced));
                }
                Last::A
            }
        };
        if matches!(last, Last::Ones | Last::Teen | Last::Tens | Last::Numeral)
            && group >= 1000
            && last_scale.is_some()
        {
            return Err(t.err(misplaced));
        }
    }
    if matches!(last, Last::And | Last::A) {
        return Err(tokens
            .last()
            .map_or(NumberError::Empty, |t| t.err(misplaced)));
    }
    total.checked_add(group).ok_or(NumberError::Overflow)
}
