//! Readings for TTS: numbers, money, dates, times and digit strings written out as the words a
//! caller should hear, in Mandarin or English. Text in, text out; the TTS front end speaks it.

use crate::calendar::Date;
use yingda_speech::recognizer::Lang;

/// What a template filter `{{var|kind}}` reads a value as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SayAs {
    /// An integer: 1234 → 一千二百三十四 / one thousand two hundred thirty-four.
    Number,
    /// An amount in yuan with up to two decimals.
    Money,
    /// `YYYY-MM-DD`.
    Date,
    /// `HH:MM` (24 h).
    Time,
    /// A digit string read digit by digit.
    Digits,
    /// `YYYY-MM-DD HH:MM` (what the `datetime` slot stores): month, day and time, without
    /// the year (三月三日下午三点 / March third at 3 PM).
    DateTime,
}

impl SayAs {
    /// The filter name → kind.
    pub fn from_name(name: &str) -> Option<SayAs> {
        Some(match name {
            "number" => SayAs::Number,
            "money" => SayAs::Money,
            "date" => SayAs::Date,
            "time" => SayAs::Time,
            "digits" => SayAs::Digits,
            "datetime" => SayAs::DateTime,
            _ => return None,
        })
    }
}

/// Read `value` as `kind` in `lang`. A value that does not have the kind's shape is returned
/// unchanged (the caller hears the raw text rather than silence).
pub fn say(value: &str, kind: SayAs, lang: Lang) -> String {
    let v = value.trim();
    let r = match kind {
        // A count before a measure word reads 2 as 两 (两份, not 二份).
        SayAs::Number if v == "2" && lang == Lang::Zh => Some("两".to_owned()),
        SayAs::Number => v.parse::<u64>().ok().map(|n| number(n, lang)),
        SayAs::Money => money(v, lang),
        SayAs::Date => Date::parse(v).map(|d| date(d, lang)),
        SayAs::Time => time(v, lang),
        SayAs::Digits => digits(v, lang),
        SayAs::DateTime => date_time(v, lang),
    };
    r.unwrap_or_else(|| value.to_string())
}

const ZH_DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
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

/// An integer in words.
pub fn number(n: u64, lang: Lang) -> String {
    match lang {
        Lang::Zh => zh_number(n),
        Lang::En => en_number(n),
    }
}

fn zh_below_10000(n: u64, out: &mut String, leading: bool) {
    let units = ['千', '百', '十'];
    let parts = [n / 1000, n / 100 % 10, n / 10 % 10, n % 10];
    let mut zero_pending = false;
    let mut started = false;
    for (i, &d) in parts.iter().enumerate() {
        if d == 0 {
            zero_pending = started;
            continue;
        }
        if zero_pending {
            out.push('零');
        }
        zero_pending = false;
        // 十五 not 一十五 at the very start of a number.
        if !(i == 2 && d == 1 && !started && leading) {
            out.push(ZH_DIGITS[d as usize]);
        }
        if i < 3 {
            out.push(units[i]);
        }
        started = true;
    }
}

fn zh_number(n: u64) -> String {
    if n == 0 {
        return "零".into();
    }
    let mut out = String::new();
    let mut rest = n;
    let mut chunks = Vec::new();
    while rest > 0 {
        chunks.push(rest % 10_000);
        rest /= 10_000;
    }
    let unit = ["", "万", "亿", "万亿", "亿亿"];
    let mut need_zero = false;
    for (idx, &c) in chunks.iter().enumerate().rev() {
        if c == 0 {
            need_zero = !out.is_empty();
            continue;
        }
        if need_zero || (!out.is_empty() && c < 1000) {
            out.push('零');
        }
        need_zero = false;
        let leading = out.is_empty();
        zh_below_10000(c, &mut out, leading);
        out.push_str(unit[idx]);
    }
    out
}

fn en_below_1000(n: u64) -> String {
    let mut parts = Vec::new();
    if n >= 100 {
        parts.push(format!("{} hundred", EN_ONES[(n / 100) as usize]));
    }
    let r = n % 100;
    if r > 0 {
        if r < 20 {
            parts.push(EN_ONES[r as usize].to_string());
        } else if r % 10 == 0 {
            parts.push(EN_TENS[(r / 10) as usize].to_string());
        } else {
            parts.push(format!(
                "{}-{}",
                EN_TENS[(r / 10) as usize],
                EN_ONES[(r % 10) as usize]
            ));
        }
    }
    parts.join(" ")
}

fn en_number(n: u64) -> String {
    if n == 0 {
        return "zero".into();
    }
    let scales = [
        "",
        " thousand",
        " million",
        " billion",
        " trillion",
        " quadrillion",
        " quintillion",
    ];
    let mut parts = Vec::new();
    let mut rest = n;
    let mut i = 0;
    while rest > 0 {
        let c = rest % 1000;
        if c > 0 {
            parts.push(format!("{}{}", en_below_1000(c), scales[i]));
        }
        rest /= 1000;
        i += 1;
    }
    parts.reverse();
    parts.join(" ")
}

fn money(v: &str, lang: Lang) -> Option<String> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yuan: u64 = int.parse().ok()?;
    let frac = format!("{frac:0<2}");
    let (jiao, fen) = (
        u64::from(frac.as_bytes()[0] - b'0'),
        u64::from(frac.as_bytes()[1] - b'0'),
    );
    Some(match lang {
        Lang::Zh => {
            let mut s = format!("{}元", zh_number(yuan));
            if jiao > 0 {
                s.push_str(&format!("{}角", ZH_DIGITS[jiao as usize]));
            } else if fen > 0 && yuan > 0 {
                s.push('零');
            }
            if fen > 0 {
                s.push_str(&format!("{}分", ZH_DIGITS[fen as usize]));
            }
            s
        }
        Lang::En => {
            let cents = jiao * 10 + fen;
            let unit = "yuan";
            if cents == 0 {
                format!("{} {unit}", en_number(yuan))
            } else {
                format!("{} {unit} and {} fen", en_number(yuan), en_number(cents))
            }
        }
    })
}

const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn en_ordinal(n: u32) -> String {
    let special = [
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (5, "fifth"),
        (8, "eighth"),
        (9, "ninth"),
        (12, "twelfth"),
        (20, "twentieth"),
        (30, "thirtieth"),
    ];
    if let Some((_, s)) = special.iter().find(|(k, _)| *k == n) {
        return (*s).to_string();
    }
    if n > 20 && n % 10 != 0 {
        return format!("{}-{}", EN_TENS[(n / 10) as usize], en_ordinal(n % 10));
    }
    format!("{}th", en_number(u64::from(n)))
}

/// Month and day: 三月五日 / March fifth.
fn month_day(d: &Date, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!(
            "{}月{}日",
            zh_number(u64::from(d.month)),
            zh_number(u64::from(d.day))
        ),
        Lang::En => format!(
            "{} {}",
            EN_MONTHS[(d.month - 1) as usize],
            en_ordinal(d.day)
        ),
    }
}

fn date(d: Date, lang: Lang) -> String {
    match lang {
        Lang::Zh => {
            let year: String = d
                .year
                .to_string()
                .chars()
                .filter_map(|c| c.to_digit(10).map(|x| ZH_DIGITS[x as usize]))
                .collect();
            format!("{year}年{}", month_day(&d, lang))
        }
        Lang::En => format!(
            "{}, {}",
            month_day(&d, lang),
            en_number(d.year.unsigned_abs().into())
        ),
    }
}

fn date_time(v: &str, lang: Lang) -> Option<String> {
    let (d, t) = v.split_once(' ')?;
    let d = Date::parse(d.trim())?;
    let t = time(t.trim(), lang)?;
    Some(match lang {
        Lang::Zh => format!("{}{t}", month_day(&d, lang)),
        Lang::En => format!("{} at {t}", month_day(&d, lang)),
    })
}

fn time(v: &str, lang: Lang) -> Option<String> {
    let (h, m) = v.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 23 || m > 59 {
        return None;
    }
    Some(match lang {
        Lang::Zh => {
            let part = match h {
                0..=5 => "凌晨",
                6..=11 => "上午",
                12 => "中午",
                13..=17 => "下午",
                _ => "晚上",
            };
            let h12 = if h > 12 { h - 12 } else { h };
            let hour = if h12 == 2 {
                "两".to_string()
            } else {
                zh_number(u64::from(h12))
            };
            match m {
                0 => format!("{part}{hour}点"),
                30 => format!("{part}{hour}点半"),
                m if m < 10 => format!("{part}{hour}点零{}分", zh_number(u64::from(m))),
                m => format!("{part}{hour}点{}分", zh_number(u64::from(m))),
            }
        }
        Lang::En => {
            let h12 = match h % 12 {
                0 => 12,
                x => x,
            };
            let ampm = if h < 12 { "AM" } else { "PM" };
            match m {
                0 => format!("{} {ampm}", en_number(u64::from(h12))),
                m if m < 10 => format!(
                    "{} oh {} {ampm}",
                    en_number(u64::from(h12)),
                    en_number(u64::from(m))
                ),
                m => format!(
                    "{} {} {ampm}",
                    en_number(u64::from(h12)),
                    en_number(u64::from(m))
                ),
            }
        }
    })
}

fn digits(v: &str, lang: Lang) -> Option<String> {
    if v.is_empty()
        || !v
            .chars()
            .all(|c| c.is_ascii_digit() || c == 'X' || c == 'x')
    {
        return None;
    }
    Some(match lang {
        // 1 is read 幺 in digit strings so it is not heard as 七.
        Lang::Zh => v
            .chars()
            .map(|c| match c.to_digit(10) {
                Some(1) => '幺',
                Some(d) => ZH_DIGITS[d as usize],
                None => 'X',
            })
            .collect(),
        Lang::En => v
            .chars()
            .map(|c| c.to_digit(10).map_or("X", |d| EN_ONES[d as usize]))
            .collect::<Vec<_>>()
            .join(" "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zh_numbers() {
        let cases = [
            (0, "零"),
            (10, "十"),
            (15, "十五"),
            (21, "二十一"),
            (105, "一百零五"),
            (110, "一百一十"),
            (1005, "一千零五"),
            (3205, "三千二百零五"),
            (20000, "二万"),
            (100_010, "十万零一十"),
            (1_0000_0000, "一亿"),
            (1_0500_0000, "一亿零五百万"),
        ];
        for (n, s) in cases {
            assert_eq!(number(n, Lang::Zh), s, "{n}");
        }
    }

    #[test]
    fn en_numbers_money_dates_times_digits() {
        assert_eq!(
            number(1234, Lang::En),
            "one thousand two hundred thirty-four"
        );
        assert_eq!(say("350.5", SayAs::Money, Lang::Zh), "三百五十元五角");
        assert_eq!(say("2", SayAs::Number, Lang::Zh), "两");
        assert_eq!(say("12", SayAs::Number, Lang::Zh), "十二");
        assert_eq!(say("12.05", SayAs::Money, Lang::Zh), "十二元零五分");
        assert_eq!(
            say("12.50", SayAs::Money, Lang::En),
            "twelve yuan and fifty fen"
        );
        assert_eq!(
            say("2026-03-05", SayAs::Date, Lang::Zh),
            "二零二六年三月五日"
        );
        assert_eq!(
            say("2026-03-21", SayAs::Date, Lang::En),
            "March twenty-first, two thousand twenty-six"
        );
        assert_eq!(say("15:30", SayAs::Time, Lang::Zh), "下午三点半");
        assert_eq!(
            say("2026-03-03 15:00", SayAs::DateTime, Lang::Zh),
            "三月三日下午三点"
        );
        assert_eq!(
            say("2026-03-03 09:30", SayAs::DateTime, Lang::En),
            format!("March third at {}", say("09:30", SayAs::Time, Lang::En))
        );
        assert_eq!(say("2026-03-03", SayAs::DateTime, Lang::Zh), "2026-03-03");
        assert_eq!(say("14:05", SayAs::Time, Lang::Zh), "下午两点零五分");
        assert_eq!(say("09:05", SayAs::Time, Lang::En), "nine oh five AM");
        assert_eq!(
            say("13800138000", SayAs::Digits, Lang::Zh),
            "幺三八零零幺三八零零零"
        );
        assert_eq!(say("110", SayAs::Digits, Lang::En), "one one zero");
        assert_eq!(
            say("abc", SayAs::Number, Lang::En),
            "abc",
            "unreadable values pass through"
        );
    }
}
