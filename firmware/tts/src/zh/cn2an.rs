//! Arabic numerals to Chinese numerals, read the way misaki does before segmentation
//! (`cn2an.transform(text, "an2cn")`, cn2an 0.5.24), so that text our IVR rules leave
//! alone is phonemised exactly like the data Kokoro v1.0 was trained on.
//!
//! Passes run in cn2an's order over the whole text, each seeing the previous one's output:
//! ranges before a measure word (`3-5天` → 三到五天), dates (`2026年11月22日`: year digit by
//! digit, month and day as numbers), fractions (`1/3` → 三分之一), percentages, `℃`, then
//! every remaining number (`-12.50` → 负十二点五零). Integers read like cn2an, including
//! its habits: no 零 between 万/亿 and a following X千 (100001000 → 一亿一千), 一十 at the
//! start shortened to 十, numbers of more than 16 digits left as digits.
//!
//! Digits are ASCII or full-width (cn2an's `\d` takes both); other scripts' digits are text.

/// Chinese numerals 0-9 as cn2an writes them in "low" mode.
const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// cn2an's measure words: a range or a bare 2 followed by one of these is a quantity.
const MEASURE_WORDS: [&str; 33] = [
    "斤", "克", "千克", "公斤", "吨", "米", "厘米", "毫米", "公里", "升", "毫升", "元", "角", "分",
    "个", "只", "条", "张", "块", "瓶", "杯", "份", "本", "辆", "台", "匹", "头", "位", "亩",
    "小时", "分钟", "秒", "天",
];

/// Words after which a bare 2 is read 两 (two of something), beyond cn2an's list.
const LIANG_WORDS: [&str; 40] = [
    "个", "位", "种", "次", "天", "年", "张", "件", "条", "家", "名", "项", "本", "台", "辆", "只",
    "份", "周", "小时", "分钟", "秒", "点", "块", "元", "岁", "笔", "杯", "瓶", "盒", "片", "支",
    "袋", "倍", "百", "千", "万", "亿", "公斤", "公里", "人",
];

/// The digit string `s` (ASCII digits) read digit by digit: 2026 → 二零二六.
pub fn digits_direct(s: &str) -> String {
    s.chars()
        .filter_map(|c| c.to_digit(10).map(|d| DIGITS[d as usize]))
        .collect()
}

/// A non-negative integer in ASCII digits as cn2an reads it; `None` for more than 16
/// significant digits or a non-digit.
pub fn int_words(digits: &str) -> Option<String> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sig = digits.trim_start_matches('0');
    if sig.is_empty() {
        return Some("零".into());
    }
    if sig.len() > 16 {
        return None;
    }
    // Groups of four digits, lowest first.
    let bytes = sig.as_bytes();
    let groups: Vec<u16> = bytes
        .rchunks(4)
        .map(|g| g.iter().fold(0u16, |v, b| v * 10 + u16::from(b - b'0')))
        .collect();
    let mut out = String::new();
    for (k, &v) in groups.iter().enumerate().rev() {
        if v == 0 {
            // A zero 亿 group under a 万亿 group still names the 亿.
            if k == 2 && !out.is_empty() {
                out.push('亿');
            }
            continue;
        }
        // 零 marks the gap before a group below 1000; cn2an never writes it before X千.
        if !out.is_empty() && v < 1000 {
            out.push('零');
        }
        section(v, &mut out);
        out.push_str(match k {
            0 => "",
            2 => "亿",
            _ => "万",
        });
    }
    if out.starts_with("一十") {
        out.remove(0);
    }
    Some(out)
}

/// 1..=9999 with internal zeros as one 零: 1010 → 一千零一十, 11 → 一十一.
fn section(v: u16, out: &mut String) {
    let digits = [v / 1000, v / 100 % 10, v / 10 % 10, v % 10];
    let units = ["千", "百", "十", ""];
    let first = digits.iter().position(|&d| d != 0).unwrap_or(3);
    let mut zero = false;
    for i in first..4 {
        let d = digits[i];
        if d == 0 {
            zero = true;
            continue;
        }
        if zero {
            out.push('零');
            zero = false;
        }
        out.push(DIGITS[usize::from(d)]);
        out.push_str(units[i]);
    }
}

/// A number `-?\d+(\.\d+)?` as cn2an reads it in "low" mode: 负, the integer, 点 and the
/// decimals digit by digit (at most 16). `None` when the integer is too long.
pub fn number_words(s: &str) -> Option<String> {
    let (sign, s) = match s.strip_prefix('-') {
        Some(rest) => ("负", rest),
        None => ("", s),
    };
    let (int, dec) = match s.split_once('.') {
        Some((i, d)) => (i, Some(d)),
        None => (s, None),
    };
    let mut out = String::from(sign);
    out.push_str(&int_words(int)?);
    if let Some(dec) = dec {
        if !dec.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !dec.is_empty() {
            out.push('点');
            out.extend(dec.bytes().take(16).map(|b| DIGITS[usize::from(b - b'0')]));
        }
    }
    Some(out)
}

fn is_digit(c: Option<&char>) -> bool {
    c.is_some_and(char::is_ascii_digit)
}

/// Length of the run of ASCII digits at `i`.
fn digit_run(t: &[char], i: usize) -> usize {
    t[i.min(t.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count()
}

/// `\d+(\.\d+)?` at `i`: its end, or `None`.
fn decimal_at(t: &[char], i: usize) -> Option<usize> {
    let n = digit_run(t, i);
    if n == 0 {
        return None;
    }
    let end = i + n;
    if t.get(end) == Some(&'.') && is_digit(t.get(end + 1)) {
        Some(end + 1 + digit_run(t, end + 1))
    } else {
        Some(end)
    }
}

/// `-?(\d+\.)?\d+` at `i`: its end, or `None`.
fn signed_at(t: &[char], i: usize) -> Option<usize> {
    let start = if t.get(i) == Some(&'-') { i + 1 } else { i };
    decimal_at(t, start)
}

fn starts_with_any(t: &[char], i: usize, words: &[&str]) -> bool {
    words
        .iter()
        .any(|w| w.chars().enumerate().all(|(k, c)| t.get(i + k) == Some(&c)))
}

fn text(t: &[char]) -> String {
    t.iter().collect()
}

/// Runs `matcher` at every position, left to right; a match `(end, replacement)` is
/// written in place of `t[i..end]` and the scan continues after it. A match whose
/// replacement is `None` (cn2an raised, e.g. more than 16 digits) is kept as it was, and
/// the scan still continues after it, as `re.sub` does.
fn substitute(
    t: &[char],
    mut matcher: impl FnMut(&[char], usize) -> Option<(usize, Option<String>)>,
) -> Vec<char> {
    let mut out = Vec::with_capacity(t.len() + 8);
    let mut i = 0;
    while i < t.len() {
        match matcher(t, i) {
            Some((end, rep)) if end > i => {
                match rep {
                    Some(rep) => out.extend(rep.chars()),
                    None => out.extend_from_slice(&t[i..end]),
                }
                i = end;
            }
            _ => {
                out.push(t[i]);
                i += 1;
            }
        }
    }
    out
}

/// cn2an's `an2cn` transform of every number in `input`. With `liang`, a bare 2 before a
/// quantity word (两个, 两点) and a leading 二千/二万/二亿 read 两, except after 第.
pub fn transform(input: &str, liang: bool) -> String {
    let t: Vec<char> = input
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            c => c,
        })
        .collect();
    if !t.iter().any(char::is_ascii_digit) {
        return text(&t);
    }
    // Ranges before a measure word.
    let t = substitute(&t, |t, i| {
        let a = decimal_at(t, i)?;
        if t.get(a) != Some(&'-') {
            return None;
        }
        let b = decimal_at(t, a + 1)?;
        if !starts_with_any(t, b, &MEASURE_WORDS) {
            return None;
        }
        let from = number_words(&text(&t[i..a]));
        let to = number_words(&text(&t[a + 1..b]));
        Some((b, from.zip(to).map(|(from, to)| format!("{from}到{to}"))))
    });
    // Dates: (\d{2,4}年)?(\d{1,2}月)?(\d{1,2}日)?
    let t = substitute(&t, |t, i| {
        let mut j = i;
        let mut out = String::new();
        let n = digit_run(t, j);
        if (2..=4).contains(&n) && t.get(j + n) == Some(&'年') {
            out.push_str(&digits_direct(&text(&t[j..j + n])));
            out.push('年');
            j += n + 1;
        }
        for unit in ['月', '日'] {
            let n = digit_run(t, j);
            if (1..=2).contains(&n) && t.get(j + n) == Some(&unit) {
                out.push_str(&int_words(&text(&t[j..j + n]))?);
                out.push(unit);
                j += n + 1;
            }
        }
        (j > i).then_some((j, Some(out)))
    });
    // Fractions: \d+/\d+
    let t = substitute(&t, |t, i| {
        let n = digit_run(t, i);
        if n == 0 || t.get(i + n) != Some(&'/') {
            return None;
        }
        let m = digit_run(t, i + n + 1);
        if m == 0 {
            return None;
        }
        let num = int_words(&text(&t[i..i + n]));
        let den = int_words(&text(&t[i + n + 1..i + n + 1 + m]));
        Some((
            i + n + 1 + m,
            num.zip(den).map(|(num, den)| format!("{den}分之{num}")),
        ))
    });
    // Percentages: -?(\d+\.)?\d+%
    let t = substitute(&t, |t, i| {
        let end = signed_at(t, i)?;
        if t.get(end) != Some(&'%') {
            return None;
        }
        let words = number_words(&text(&t[i..end]));
        Some((end + 1, words.map(|w| format!("百分之{w}"))))
    });
    // Celsius: \d+℃
    let t = substitute(&t, |t, i| {
        let n = digit_run(t, i);
        if n == 0 || t.get(i + n) != Some(&'℃') {
            return None;
        }
        Some((
            i + n + 1,
            int_words(&text(&t[i..i + n])).map(|w| format!("{w}摄氏度")),
        ))
    });
    // Every other number.
    let t = substitute(&t, |t, i| {
        let end = signed_at(t, i)?;
        let s = text(&t[i..end]);
        let Some(mut words) = number_words(&s) else {
            return Some((end, None));
        };
        if liang && (i == 0 || t[i - 1] != '第') {
            if s == "2"
                && starts_with_any(t, end, &LIANG_WORDS)
                && !starts_with_any(t, end, &["年级"])
            {
                words = "两".into();
            } else if words.starts_with("二千")
                || words.starts_with("二万")
                || words.starts_with("二亿")
            {
                words.replace_range(.."二".len(), "两");
            }
        }
        Some((end, Some(words)))
    });
    text(&t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_like_cn2an() {
        for (n, w) in [
            ("0", "零"),
            ("007", "七"),
            ("10", "十"),
            ("110", "一百一十"),
            ("1010", "一千零一十"),
            ("100000", "十万"),
            ("1001000", "一百万一千"),
            ("100001000", "一亿一千"),
            ("100010000", "一亿零一万"),
            ("1000000000000", "一万亿"),
            ("1000000010000", "一万亿零一万"),
            (
                "1234567890123456",
                "一千二百三十四万五千六百七十八亿九千零一十二万三千四百五十六",
            ),
        ] {
            assert_eq!(int_words(n).as_deref(), Some(w), "{n}");
        }
        assert_eq!(int_words("12345678901234567"), None);
    }

    #[test]
    fn transform_passes() {
        for (text, want) in [
            ("请按1", "请按一"),
            ("3-5天", "三到五天"),
            ("2026年11月22日", "二零二六年十一月二十二日"),
            ("12年", "一二年"),
            ("1/3", "三分之一"),
            ("3.5%", "百分之三点五"),
            ("30℃", "三十摄氏度"),
            ("-12.50元", "负十二点五零元"),
            ("2,000", "二,零"),
            ("没有数字", "没有数字"),
        ] {
            assert_eq!(transform(text, false), want, "{text}");
        }
    }

    #[test]
    fn liang() {
        for (text, want) in [
            ("2个", "两个"),
            ("2点", "两点"),
            ("2月", "二月"),
            ("第2个", "第二个"),
            ("22个", "二十二个"),
            ("2000元", "两千元"),
            ("第2000名", "第二千名"),
            ("2.5个", "二点五个"),
        ] {
            assert_eq!(transform(text, true), want, "{text}");
        }
    }
}
