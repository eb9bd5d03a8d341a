//! IVR text normalisation: what prompt text holds besides Chinese characters, rewritten as
//! the Chinese a hospital or bank IVR speaks.
//!
//! Runs before misaki's own number reading ([`super::cn2an`]) and claims only what misaki
//! gets wrong for the phone line:
//!
//! - full-width digits, letters and symbols folded (`１２３` → `123`); control and
//!   zero-width characters dropped;
//! - dates `2026-11-22`, `2026/11/22`, `2026.11.22` → 二零二六年十一月二十二日 (misaki reads
//!   the dashes as minus signs);
//! - clock times `14:30` → 十四点三十分, `2:00` → 两点, `8:30-17:00` → …到…;
//! - phone numbers digit by digit with 幺 for 1 (`400-820-8820`, `13800138000`, and any
//!   run of 3+ digits after 电话/拨打/热线/…), card/account/ID numbers and codes digit by
//!   digit with 一 (after 卡号/尾号/验证码/…, 7+ digits, or a leading 0); each is
//!   configurable; groups are separated by a comma pause;
//! - money `¥12.50`, `12.50元` → 十二元五角 (or misaki's 十二点五零元), `$`, `€`, `£`;
//! - thousands separators `2,000` (misaki reads "二,零"), ranges `3-5`, `1~3` → 到;
//! - `37.5℃`, `-5℃` (零下), `5kg`/`km`/`cm`/`mm`/`ml`/`mg`;
//! - IVR keys `#` → 井号, `*` → 星号 (× and `*` between numbers → 乘), `@` → 艾特;
//! - Latin letters spelled with Chinese letter names (`ATM` → 诶提艾姆), since Kokoro v1.0's
//!   Mandarin voices have no English phonemes.
//!
//! Everything else, numbers included, is left to the misaki-compatible pass. This module
//! never fails and never panics: any input gives some text.

use super::cn2an::{digits_direct, int_words};

/// Which readings the normaliser uses; see [`super::ZhOptions`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    pub(crate) yao_in_phone_numbers: bool,
    pub(crate) yao_in_digit_strings: bool,
    pub(crate) money_yuan_jiao_fen: bool,
    pub(crate) liang: bool,
    pub(crate) spell_letters: bool,
}

/// What a run of digits read one by one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DigitKind {
    Phone,
    Code,
}

/// Words before a number that make it a phone number.
const PHONE_WORDS: [&str; 14] = [
    "电话", "热线", "致电", "拨打", "拨通", "回拨", "来电", "手机", "分机", "传真", "客服", "呼叫",
    "联系", "号线",
];
/// Words before a number that make it a card, account or ID number, or a code.
const CODE_WORDS: [&str; 20] = [
    "卡号",
    "尾号",
    "账号",
    "帐号",
    "账户",
    "帐户",
    "身份证",
    "证件",
    "工号",
    "编号",
    "验证码",
    "密码",
    "单号",
    "订单",
    "流水",
    "卡",
    "代码",
    "病历号",
    "就诊号",
    "序号",
];
/// Words that make a number a digit string without saying which kind: its shape decides.
const NUMBER_WORDS: [&str; 3] = ["号码", "号是", "号为"];
/// Words after a number that make it a quantity, never a digit string.
const QUANTITY_WORDS: [&str; 47] = [
    "元", "块", "角", "分", "个", "次", "天", "年", "月", "日", "岁", "%", "万", "亿", "千", "百",
    "位", "米", "克", "斤", "吨", "秒", "小时", "人", "笔", "台", "张", "件", "倍", "周", "期",
    "家", "种", "条", "名", "项", "份", "层", "楼", "室", "号", "℃", "度", "毫", "厘", "公", "美",
];
/// Clause punctuation: a keyword further back than this does not reach a number.
const CLAUSE_END: [char; 10] = ['，', '。', '！', '？', '；', ',', '!', '?', ';', '\n'];
/// How far back (in characters) a keyword may stand from its number.
const KEYWORD_REACH: usize = 10;

/// Units written in Latin letters after a number.
const UNITS: [(&str, &str); 6] = [
    ("kg", "公斤"),
    ("km", "公里"),
    ("cm", "厘米"),
    ("mm", "毫米"),
    ("ml", "毫升"),
    ("mg", "毫克"),
];

/// Chinese names of the Latin letters, as Mandarin speakers say them.
const LETTERS: [&str; 26] = [
    "诶",
    "必",
    "西",
    "迪",
    "伊",
    "艾弗",
    "吉",
    "艾尺",
    "艾",
    "杰",
    "开",
    "艾乐",
    "艾姆",
    "恩",
    "欧",
    "批",
    "丘",
    "阿尔",
    "艾斯",
    "提",
    "优",
    "维",
    "达布溜",
    "艾克斯",
    "歪",
    "贼",
];

/// Folds one character: full-width ASCII forms to ASCII (except the Chinese punctuation
/// misaki maps itself), other spacing and dashes; `None` drops it.
fn fold(c: char) -> Option<char> {
    match c {
        // Chinese punctuation keeps its full-width form: misaki maps it (，→ ", ").
        '！' | '（' | '）' | '，' | '．' | '：' | '；' | '？' => Some(c),
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0),
        '\u{2010}'..='\u{2013}' | '\u{2212}' => Some('-'),
        '〜' => Some('~'),
        '\t' | '\u{a0}' => Some(' '),
        '\n' => Some('\n'),
        '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' => {
            None
        }
        '\u{fe00}'..='\u{fe0f}' | '\u{feff}' => None,
        c if c.is_control() => None,
        c => Some(c),
    }
}

fn is_digit(c: Option<&char>) -> bool {
    c.is_some_and(char::is_ascii_digit)
}

fn digit_run(t: &[char], i: usize) -> usize {
    t.get(i..)
        .map_or(0, |s| s.iter().take_while(|c| c.is_ascii_digit()).count())
}

fn starts_with(t: &[char], i: usize, word: &str) -> bool {
    word.chars()
        .enumerate()
        .all(|(k, c)| t.get(i + k) == Some(&c))
}

fn starts_with_any(t: &[char], i: usize, words: &[&str]) -> bool {
    words.iter().any(|w| starts_with(t, i, w))
}

fn text(t: &[char]) -> String {
    t.iter().collect()
}

/// A number at `i`: digits with optional `,ddd` thousands groups and optional decimals.
/// Returns (end, the number without separators, whether it had separators).
fn number_at(t: &[char], i: usize) -> Option<(usize, String, bool)> {
    let n = digit_run(t, i);
    if n == 0 {
        return None;
    }
    let mut end = i + n;
    let mut s = text(&t[i..end]);
    let mut grouped = false;
    if n <= 3 {
        while t.get(end) == Some(&',') && digit_run(t, end + 1) == 3 {
            s.extend(&t[end + 1..end + 4]);
            end += 4;
            grouped = true;
        }
    }
    if t.get(end) == Some(&'.') && is_digit(t.get(end + 1)) {
        let m = digit_run(t, end + 1);
        s.push('.');
        s.extend(&t[end + 1..end + 1 + m]);
        end += 1 + m;
    }
    Some((end, s, grouped))
}

/// The text of the clause before `i`, at most [`KEYWORD_REACH`] characters.
fn clause_before(t: &[char], i: usize) -> String {
    let start = i.saturating_sub(KEYWORD_REACH);
    let from = t[start..i]
        .iter()
        .rposition(|c| CLAUSE_END.contains(c))
        .map_or(start, |p| start + p + 1);
    text(&t[from..i])
}

/// What the words before a number say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    /// A phone number (电话, 拨打, …).
    Phone,
    /// A card, account or ID number or a code (卡号, 验证码, …).
    Code,
    /// Some number to read digit by digit (号码): its shape says which kind.
    Number,
}

fn keyword_kind(t: &[char], i: usize) -> Option<Keyword> {
    let before = clause_before(t, i);
    let has = |words: &[&str]| words.iter().any(|w| before.contains(w));
    if has(&PHONE_WORDS) {
        Some(Keyword::Phone)
    } else if has(&CODE_WORDS) {
        Some(Keyword::Code)
    } else if has(&NUMBER_WORDS) {
        Some(Keyword::Number)
    } else {
        None
    }
}

impl Rules {
    /// Normalises `input`; the result still holds the digits misaki reads itself.
    pub(crate) fn apply(&self, input: &str) -> String {
        let t: Vec<char> = input.chars().filter_map(fold).collect();
        let mut out = String::with_capacity(input.len() + 16);
        let mut i = 0;
        while i < t.len() {
            match self.rewrite_at(&t, i) {
                Some((end, rep)) if end > i => {
                    out.push_str(&rep);
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

    fn rewrite_at(&self, t: &[char], i: usize) -> Option<(usize, String)> {
        let c = t[i];
        let prev = i.checked_sub(1).map(|p| t[p]);
        let next = t.get(i + 1).copied();
        let between_digits = prev.is_some_and(|p| p.is_ascii_digit()) && is_digit(next.as_ref());
        match c {
            '0'..='9' if !prev.is_some_and(|p| p.is_ascii_digit() || p == '.' || p == ',') => {
                self.number(t, i)
            }
            '¥' | '￥' | '$' | '€' | '£' => self.money_sign(t, i),
            '-' if is_digit(next.as_ref()) && !prev.is_some_and(|p| p.is_ascii_alphanumeric()) => {
                // -5℃ → 零下五摄氏度; other signs are misaki's (负).
                let (end, num, _) = number_at(t, i + 1)?;
                let deg = degrees_at(t, end)?;
                Some((end + deg, format!("零下{num}摄氏度")))
            }
            'a'..='z' | 'A'..='Z' => self.letters(t, i),
            '#' => Some((i + 1, if next == Some('号') { "井" } else { "井号" }.into())),
            '*' | '×' if between_digits => Some((i + 1, "乘".into())),
            '*' => Some((i + 1, if next == Some('号') { "星" } else { "星号" }.into())),
            '+' if between_digits => Some((i + 1, "加".into())),
            '@' => Some((i + 1, "艾特".into())),
            _ => None,
        }
    }

    /// A number starting at `i` (no digit before it).
    fn number(&self, t: &[char], i: usize) -> Option<(usize, String)> {
        if let Some(r) = iso_date(t, i) {
            return Some(r);
        }
        if let Some(r) = self.clock(t, i) {
            return Some(r);
        }
        if let Some(r) = self.digit_string(t, i) {
            return Some(r);
        }
        let (end, num, grouped) = number_at(t, i)?;
        // Money: 12.50元, 1,234元.
        let after_space = if t.get(end) == Some(&' ') {
            end + 1
        } else {
            end
        };
        if t.get(after_space) == Some(&'元') {
            return Some((after_space + 1, self.yuan(&num)));
        }
        // Ranges: 3-5, 1~3, 100-200元.
        if matches!(t.get(end), Some('-' | '~' | '～')) {
            if let Some((end2, num2, _)) = number_at(t, end + 1) {
                return Some((end2, format!("{num}到{num2}")));
            }
        }
        if let Some(deg) = degrees_at(t, end) {
            return Some((end + deg, format!("{num}摄氏度")));
        }
        if let Some((len, word)) = unit_at(t, end) {
            return Some((end + len, format!("{num}{word}")));
        }
        grouped.then_some((end, num))
    }

    /// `H:MM` or `H:MM:SS`, optionally a range to a second time.
    fn clock(&self, t: &[char], i: usize) -> Option<(usize, String)> {
        let (end, mut words) = clock_at(t, i)?;
        for (sep, word) in [
            ('-', "到"),
            ('~', "到"),
            ('～', "到"),
            ('至', "至"),
            ('到', "到"),
        ] {
            if t.get(end) == Some(&sep) {
                if let Some((end2, words2)) = clock_at(t, end + 1) {
                    words.push_str(word);
                    words.push_str(&words2);
                    return Some((end2, words));
                }
            }
        }
        Some((end, words))
    }

    /// Phone, card, account and ID numbers and codes, read digit by digit.
    fn digit_string(&self, t: &[char], i: usize) -> Option<(usize, String)> {
        // Groups separated by '-' (or ' ' where a phone number is expected).
        let keyword = keyword_kind(t, i);
        let mut groups = vec![(i, i + digit_run(t, i))];
        loop {
            let end = groups.last().map_or(i, |g| g.1);
            let sep = t.get(end).copied();
            let spaced_ok = keyword.is_some()
                || t[i] == '0'
                || t[i] == '1'
                || starts_with(t, i, "400")
                || starts_with(t, i, "800");
            if !(sep == Some('-') || (sep == Some(' ') && spaced_ok)) {
                break;
            }
            let n = digit_run(t, end + 1);
            if n < 3 {
                break;
            }
            groups.push((end + 1, end + 1 + n));
        }
        let end = groups.last().map_or(i, |g| g.1);
        let digits: usize = groups.iter().map(|g| g.1 - g.0).sum();
        let followed_by_decimals = t.get(end) == Some(&'.') && is_digit(t.get(end + 1));
        let followed_by_grouping = t.get(end) == Some(&',') && digit_run(t, end + 1) == 3;
        if followed_by_decimals || followed_by_grouping || starts_with_any(t, end, &QUANTITY_WORDS)
        {
            return None;
        }
        let first = &t[groups[0].0..groups[0].1];
        // 25:00 is no clock time, but its 00 is no code either.
        let after_colon = i > 0 && matches!(t[i - 1], ':' | '：');
        let mobile =
            groups.len() == 1 && digits == 11 && first[0] == '1' && matches!(first[1], '3'..='9');
        let by_keyword = |shape: DigitKind| match keyword {
            Some(Keyword::Phone) => DigitKind::Phone,
            Some(Keyword::Code) => DigitKind::Code,
            Some(Keyword::Number) | None => shape,
        };
        let kind = if groups.len() > 1 && groups.iter().all(|g| g.1 - g.0 >= 3) && digits >= 7 {
            by_keyword(if digits <= 12 {
                DigitKind::Phone
            } else {
                DigitKind::Code
            })
        } else if mobile {
            by_keyword(DigitKind::Phone)
        } else if groups.len() == 1 && digits >= 3 && keyword.is_some() {
            by_keyword(DigitKind::Code)
        } else if groups.len() == 1
            && (digits >= 7 || (digits >= 3 && first[0] == '0'))
            && !after_colon
        {
            DigitKind::Code
        } else {
            return None;
        };
        let yao = match kind {
            DigitKind::Phone => self.yao_in_phone_numbers,
            DigitKind::Code => self.yao_in_digit_strings,
        };
        let read = |g: &[char]| -> String {
            let s = digits_direct(&text(g));
            if yao {
                s.replace('一', "幺")
            } else {
                s
            }
        };
        let mut out = String::new();
        if groups.len() == 1 && digits == 11 && kind == DigitKind::Phone {
            // Mobile numbers are spoken 3-4-4.
            for (k, part) in [&first[..3], &first[3..7], &first[7..]].iter().enumerate() {
                if k > 0 {
                    out.push('，');
                }
                out.push_str(&read(part));
            }
        } else {
            for (k, g) in groups.iter().enumerate() {
                if k > 0 {
                    out.push('，');
                }
                out.push_str(&read(&t[g.0..g.1]));
            }
        }
        Some((end, out))
    }

    /// ¥12.50 / ￥1,234 / $9.99 / €5 / £3, with an optional 元 after the amount.
    fn money_sign(&self, t: &[char], i: usize) -> Option<(usize, String)> {
        let start = if t.get(i + 1) == Some(&' ') {
            i + 2
        } else {
            i + 1
        };
        let (end, num, _) = number_at(t, start)?;
        match t[i] {
            '¥' | '￥' => {
                let end = if t.get(end) == Some(&'元') {
                    end + 1
                } else {
                    end
                };
                Some((end, self.yuan(&num)))
            }
            '$' => Some((end, format!("{num}美元"))),
            '€' => Some((end, format!("{num}欧元"))),
            _ => Some((end, format!("{num}英镑"))),
        }
    }

    /// An amount in 元: 十二元五角 (or, as misaki, the number then 元).
    fn yuan(&self, num: &str) -> String {
        if self.money_yuan_jiao_fen {
            if let Some(words) = self.yuan_jiao_fen(num) {
                return words;
            }
        }
        format!("{num}元")
    }

    fn yuan_jiao_fen(&self, num: &str) -> Option<String> {
        let (int, dec) = num.split_once('.').unwrap_or((num, ""));
        if dec.len() > 2 {
            return None;
        }
        let mut d = dec.bytes().map(|b| b - b'0');
        let (jiao, fen) = (d.next().unwrap_or(0), d.next().unwrap_or(0));
        let zero_int = int.bytes().all(|b| b == b'0');
        let mut out = String::new();
        if !zero_int || (jiao == 0 && fen == 0) {
            let mut words = int_words(int)?;
            if self.liang {
                if words == "二" {
                    words = "两".into();
                } else if words.starts_with("二千")
                    || words.starts_with("二万")
                    || words.starts_with("二亿")
                {
                    words.replace_range(.."二".len(), "两");
                }
            }
            out.push_str(&words);
            out.push('元');
        }
        let digit = |v: u8| digits_direct(&v.to_string());
        if jiao > 0 {
            out.push_str(&digit(jiao));
            out.push('角');
        } else if fen > 0 && !zero_int {
            out.push('零');
        }
        if fen > 0 {
            out.push_str(&digit(fen));
            out.push('分');
        }
        Some(out)
    }

    /// A run of Latin letters, spelled one by one.
    fn letters(&self, t: &[char], i: usize) -> Option<(usize, String)> {
        if !self.spell_letters {
            return None;
        }
        let n = t[i..]
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        let spelled = t[i..i + n]
            .iter()
            .map(|c| LETTERS[usize::from(c.to_ascii_uppercase() as u8 - b'A')])
            .collect();
        Some((i + n, spelled))
    }
}

/// `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYY.MM.DD` with a real month and day.
fn iso_date(t: &[char], i: usize) -> Option<(usize, String)> {
    if digit_run(t, i) != 4 {
        return None;
    }
    let sep = *t.get(i + 4)?;
    if !matches!(sep, '-' | '/' | '.') {
        return None;
    }
    let m = digit_run(t, i + 5);
    if !(1..=2).contains(&m) || t.get(i + 5 + m) != Some(&sep) {
        return None;
    }
    let d_at = i + 6 + m;
    let d = digit_run(t, d_at);
    if !(1..=2).contains(&d) || t.get(d_at + d) == Some(&'.') && is_digit(t.get(d_at + d + 1)) {
        return None;
    }
    let month: u32 = text(&t[i + 5..i + 5 + m]).parse().ok()?;
    let day: u32 = text(&t[d_at..d_at + d]).parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let year = digits_direct(&text(&t[i..i + 4]));
    let end = d_at + d;
    // A 日 or 号 written after the day is the one we say.
    let (end, day_word) = match t.get(end) {
        Some(&w @ ('日' | '号')) => (end + 1, w),
        _ => (end, '日'),
    };
    Some((
        end,
        format!(
            "{year}年{}月{}{day_word}",
            int_words(&month.to_string())?,
            int_words(&day.to_string())?
        ),
    ))
}

/// `H:MM[:SS]` at `i` (colon half- or full-width): its end and its reading.
fn clock_at(t: &[char], i: usize) -> Option<(usize, String)> {
    let h = digit_run(t, i);
    if !(1..=2).contains(&h)
        || !matches!(t.get(i + h), Some(':' | '：'))
        || digit_run(t, i + h + 1) != 2
    {
        return None;
    }
    let hour: u32 = text(&t[i..i + h]).parse().ok()?;
    let minute: u32 = text(&t[i + h + 1..i + h + 3]).parse().ok()?;
    let mut end = i + h + 3;
    let mut second = None;
    if matches!(t.get(end), Some(':' | '：')) && digit_run(t, end + 1) == 2 {
        second = text(&t[end + 1..end + 3]).parse::<u32>().ok();
        end += 3;
    }
    if hour > 24 || minute > 59 || second.is_some_and(|s| s > 59) || is_digit(t.get(end)) {
        return None;
    }
    let mut out = if hour == 2 {
        "两".to_owned()
    } else {
        int_words(&hour.to_string())?
    };
    out.push('点');
    let part = |v: u32, unit: char| -> Option<String> {
        let words = int_words(&v.to_string())?;
        Some(if v < 10 {
            format!("零{words}{unit}")
        } else {
            format!("{words}{unit}")
        })
    };
    match second {
        Some(s) if s > 0 => {
            out.push_str(&part(minute, '分')?);
            out.push_str(&part(s, '秒')?);
        }
        _ if minute > 0 => out.push_str(&part(minute, '分')?),
        _ => {}
    }
    Some((end, out))
}

/// Length of a degrees-Celsius sign at `i`: `℃` or `°C`.
fn degrees_at(t: &[char], i: usize) -> Option<usize> {
    match (t.get(i), t.get(i + 1)) {
        (Some('℃'), _) => Some(1),
        (Some('°'), Some('C' | 'c')) => Some(2),
        _ => None,
    }
}

/// A Latin unit at `i` not followed by another letter: its length and Chinese word.
fn unit_at(t: &[char], i: usize) -> Option<(usize, &'static str)> {
    let n = t
        .get(i..)?
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    if n != 2 {
        return None;
    }
    let unit: String = t[i..i + 2].iter().map(char::to_ascii_lowercase).collect();
    UNITS.iter().find(|(u, _)| *u == unit).map(|&(_, w)| (2, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules {
        yao_in_phone_numbers: true,
        yao_in_digit_strings: false,
        money_yuan_jiao_fen: true,
        liang: true,
        spell_letters: true,
    };

    fn norm(s: &str) -> String {
        RULES.apply(s)
    }

    #[test]
    fn fold_and_drop() {
        assert_eq!(norm("１２３ＡＢ"), "123诶必");
        assert_eq!(norm("a\u{200b}\u{7}b"), "诶必");
        assert_eq!(norm("你好，再见！"), "你好，再见！");
    }

    #[test]
    fn dates() {
        assert_eq!(norm("2026-11-22"), "二零二六年十一月二十二日");
        assert_eq!(norm("2026/1/5号"), "二零二六年一月五号");
        // No month 13: a range, then a minus sign misaki reads.
        assert_eq!(norm("2026-13-22"), "2026到13-22");
    }

    #[test]
    fn clock_times() {
        assert_eq!(norm("14:30"), "十四点三十分");
        assert_eq!(norm("2:00"), "两点");
        assert_eq!(norm("9:05"), "九点零五分");
        assert_eq!(norm("8:30-17:00"), "八点三十分到十七点");
        assert_eq!(norm("12：00"), "十二点");
        assert_eq!(norm("25:00"), "25:00");
    }
}
