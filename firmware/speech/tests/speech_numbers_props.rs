//! Properties of spoken numbers: every quantity written out in Mandarin or English words
//! reads back as itself, every digit string spoken any supported way reads back as itself,
//! check digits are accepted and every single-character error is caught, and no input
//! panics.

use proptest::prelude::*;
use yingda_speech::numbers::check::{
    bank_card, luhn_check_digit, resident_id, resident_id_check_char,
};
use yingda_speech::numbers::{digits, id_digits, quantity, quantity_in};

const ZH_DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// Mandarin for 0 < x < 10 000; `top` says x starts the number (十五, not 一十五).
fn zh_below_10k(x: u64, top: bool, liang: bool) -> String {
    let d = [x / 1000, x / 100 % 10, x / 10 % 10, x % 10];
    let units = ["千", "百", "十", ""];
    let mut s = String::new();
    let (mut started, mut zero) = (false, false);
    for (i, (&digit, unit)) in d.iter().zip(units).enumerate() {
        if digit == 0 {
            zero |= started;
            continue;
        }
        if zero {
            s.push('零');
            zero = false;
        }
        let bare_ten = i == 2 && digit == 1 && !started && top;
        if !bare_ten {
            s.push_str(if digit == 2 && liang {
                "两"
            } else {
                ZH_DIGITS[digit as usize]
            });
        }
        s.push_str(unit);
        started = true;
    }
    s
}

/// Mandarin for 0 < x < 10^8.
fn zh_below_1e8(x: u64, top: bool, liang: bool) -> String {
    let (hi, lo) = (x / 10_000, x % 10_000);
    if hi == 0 {
        return zh_below_10k(lo, top, liang);
    }
    let mut s = zh_below_10k(hi, top, liang) + "万";
    if lo > 0 {
        if lo < 1000 {
            s.push('零');
        }
        s += &zh_below_10k(lo, false, liang);
    }
    s
}

/// Mandarin for n < 10^16, the standard written-out form.
fn zh(n: u64, liang: bool) -> String {
    if n == 0 {
        return "零".into();
    }
    let (yi, lo) = (n / 100_000_000, n % 100_000_000);
    if yi == 0 {
        return zh_below_1e8(lo, true, liang);
    }
    let mut s = zh_below_1e8(yi, true, liang) + "亿";
    if lo > 0 {
        if lo < 10_000_000 {
            s.push('零');
        }
        s += &zh_below_1e8(lo, false, liang);
    }
    s
}

const EN_ONES: [&str; 20] = [
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
const EN_TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const EN_SCALES: [&str; 7] = [
    "",
    " thousand",
    " million",
    " billion",
    " trillion",
    " quadrillion",
    " quintillion",
];

#[derive(Debug, Clone, Copy)]
struct EnStyle {
    and: bool,
    hyphen: bool,
}

fn en_below_100(x: u64, style: EnStyle) -> String {
    if x < 20 {
        return EN_ONES[x as usize].into();
    }
    let tens = EN_TENS[(x / 10) as usize];
    match x % 10 {
        0 => tens.into(),
        o if style.hyphen => format!("{tens}-{}", EN_ONES[o as usize]),
        o => format!("{tens} {}", EN_ONES[o as usize]),
    }
}

fn en_below_1000(x: u64, style: EnStyle) -> String {
    let (h, r) = (x / 100, x % 100);
    match (h, r) {
        (0, r) => en_below_100(r, style),
        (h, 0) => format!("{} hundred", EN_ONES[h as usize]),
        (h, r) if style.and => format!(
            "{} hundred and {}",
            EN_ONES[h as usize],
            en_below_100(r, style)
        ),
        (h, r) => format!("{} hundred {}", EN_ONES[h as usize], en_below_100(r, style)),
    }
}

/// English for any u64, short scale.
fn en(n: u64, style: EnStyle) -> String {
    if n == 0 {
        return "zero".into();
    }
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push(rest % 1000);
        rest /= 1000;
    }
    let mut parts = Vec::new();
    for (i, &g) in groups.iter().enumerate().rev() {
        if g == 0 {
            continue;
        }
        let words = en_below_1000(g, style) + EN_SCALES[i];
        // "two thousand and five"
        if i == 0 && g < 100 && style.and && !parts.is_empty() {
            parts.push(format!("and {words}"));
        } else {
            parts.push(words);
        }
    }
    parts.join(" ")
}

fn style() -> impl Strategy<Value = EnStyle> {
    (any::<bool>(), any::<bool>()).prop_map(|(and, hyphen)| EnStyle { and, hyphen })
}

fn digit_string() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0u8..=9, 1..=20)
}

fn to_ascii(d: &[u8]) -> String {
    d.iter().map(|&x| char::from(b'0' + x)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mandarin_words_read_back(n in 0u64..10_000_000_000_000_000, liang: bool) {
        let words = zh(n, liang);
        prop_assert_eq!(quantity(&words), Ok(n), "{}", words);
    }

    #[test]
    fn small_mandarin_numbers_read_back(n in 0u64..100_000, liang: bool) {
        let words = zh(n, liang);
        prop_assert_eq!(quantity(&words), Ok(n), "{}", words);
    }

    #[test]
    fn english_words_read_back(n: u64, style in style()) {
        let words = en(n, style);
        prop_assert_eq!(quantity(&words), Ok(n), "{}", words);
    }

    #[test]
    fn small_english_numbers_read_back(n in 0u64..100_000, style in style()) {
        let words = en(n, style);
        prop_assert_eq!(quantity(&words), Ok(n), "{}", words);
    }

    #[test]
    fn numerals_read_back_as_quantities(n: u64) {
        prop_assert_eq!(quantity(&n.to_string()), Ok(n));
    }

    #[test]
    fn mandarin_digit_strings_round_trip(
        d in digit_string(),
        picks in proptest::collection::vec(0usize..3, 20),
        sep in prop_oneof![Just(""), Just(" "), Just("-"), Just("，"), Just(" 呃 ")],
    ) {
        let words: Vec<&str> = d.iter().zip(&picks).map(|(&x, &p)| match x {
            0 => ["零", "〇", "洞"][p],
            1 => ["一", "幺", "一"][p],
            2 => ["二", "两", "兩"][p],
            x => ZH_DIGITS[x as usize],
        }).collect();
        let text = words.join(sep);
        prop_assert_eq!(digits(&text), Ok(to_ascii(&d)), "{}", text);
    }

    #[test]
    fn english_digit_strings_round_trip(
        d in digit_string(),
        oh in proptest::collection::vec(any::<bool>(), 20),
        repeat in proptest::collection::vec(any::<bool>(), 20),
        sep in prop_oneof![Just(" "), Just("-"), Just(" um ")],
    ) {
        // "oh" is a digit only next to another digit: not when every digit is zero.
        let oh_ok = d.iter().any(|&x| x != 0);
        let mut words = Vec::new();
        let mut i = 0;
        while i < d.len() {
            let x = d[i];
            let run = d[i..].iter().take_while(|&&y| y == x).count().min(3);
            let word = if x == 0 && oh_ok && oh[i] { "oh" } else { EN_ONES[x as usize] };
            if run >= 2 && repeat[i] {
                words.push(format!("{} {word}", if run == 3 { "triple" } else { "double" }));
                i += run;
            } else {
                words.push(word.to_owned());
                i += 1;
            }
        }
        let text = words.join(sep);
        prop_assert_eq!(digits(&text), Ok(to_ascii(&d)), "{}", text);
    }

    #[test]
    fn ascii_digit_strings_round_trip(s in "[0-9]{1,40}") {
        prop_assert_eq!(digits(&s), Ok(s.clone()));
        prop_assert_eq!(id_digits(&s), Ok(s));
    }

    #[test]
    fn resident_id_check_char_is_accepted_and_every_substitution_caught(
        region in "[1-8][0-9]{5}",
        year in 1900u32..2100,
        month in 1u32..=12,
        day in 1u32..=28,
        seq in "[0-9]{3}",
        pos in 0usize..18,
        delta in 1u8..10,
    ) {
        let body = format!("{region}{year:04}{month:02}{day:02}{seq}");
        let check = resident_id_check_char(&body).unwrap();
        let id = format!("{body}{check}");
        prop_assert_eq!(resident_id(&id), Ok(()));

        let mut bad: Vec<char> = id.chars().collect();
        bad[pos] = if pos == 17 {
            // Another check character: the next one in 0-9, X.
            let all: Vec<char> = "0123456789X".chars().collect();
            let i = all.iter().position(|&c| c == check).unwrap();
            all[(i + usize::from(delta)) % all.len()]
        } else {
            char::from(b'0' + (bad[pos] as u8 - b'0' + delta) % 10)
        };
        let bad: String = bad.into_iter().collect();
        prop_assert!(resident_id(&bad).is_err(), "{} accepted", bad);
    }

    #[test]
    fn luhn_check_digit_is_accepted_and_every_substitution_caught(
        payload in "[0-9]{12,18}",
        pos in 0usize..19,
        delta in 1u8..10,
    ) {
        let card = format!("{payload}{}", luhn_check_digit(&payload).unwrap());
        prop_assert_eq!(bank_card(&card), Ok(()));
        let pos = pos % card.len();
        let mut bad = card.into_bytes();
        bad[pos] = b'0' + (bad[pos] - b'0' + delta) % 10;
        let bad = String::from_utf8(bad).unwrap();
        prop_assert!(bank_card(&bad).is_err(), "{} accepted", bad);
    }

    #[test]
    fn no_panic_on_any_text(s in ".{0,80}") {
        let _ = digits(&s);
        let _ = id_digits(&s);
        let _ = quantity(&s);
        let _ = quantity_in(&s);
        let _ = resident_id(&s);
        let _ = bank_card(&s);
    }

    #[test]
    fn no_panic_on_number_word_soup(
        words in proptest::collection::vec(prop_oneof![
            Just("零"), Just("一"), Just("两"), Just("十"), Just("百"), Just("千"), Just("万"),
            Just("亿"), Just("幺"), Just("点"), Just("叉"), Just("呃"), Just("oh"), Just("one"),
            Just("twelve"), Just("twenty"), Just("hundred"), Just("thousand"), Just("quintillion"),
            Just("double"), Just("and"), Just("a"), Just("x"), Just("5"), Just("999"),
            Just("18446744073709551615"), Just("几"), Just("多"), Just("something"), Just("odd"),
        ], 0..12),
        seps in proptest::collection::vec(prop_oneof![Just(""), Just(" "), Just(","), Just("."), Just("-")], 12),
    ) {
        let text: String = words.iter().zip(&seps).flat_map(|(w, s)| [*w, *s]).collect();
        let _ = digits(&text);
        let _ = id_digits(&text);
        let _ = quantity(&text);
        let _ = quantity_in(&text);
    }
}
