//! Slot extractors: turn a recogniser transcript (zh or en) into a normalised value —
//! numbers, dates, times, money, phone/card/resident-ID numbers. Dates are relative to a
//! `today` the caller passes (from the call's event time), never to a clock.
//!
//! Numbers and digit strings reuse `yingda_speech::numbers` (幺, 两, 二十一, "double five");
//! checksums reuse `yingda_speech::numbers::check` (Luhn, GB 11643).

use crate::calendar::Date;
use yingda_speech::numbers::{self, check};

/// The kinds of slot an `ask` node can extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    /// A quantity → decimal integer.
    Number,
    /// A spoken digit string → ASCII digits.
    Digits,
    /// A mainland mobile number (11 digits, 1[3-9]…).
    Phone,
    /// A bank card number (Luhn).
    Card,
    /// A resident ID number (GB 11643 check character).
    ResidentId,
    /// A date → `YYYY-MM-DD`.
    Date,
    /// A time → `HH:MM`.
    Time,
    /// Date and time → `YYYY-MM-DD HH:MM`.
    DateTime,
    /// Money → yuan with two decimals, `350.50`.
    Money,
}

/// Why no slot value was found; the flow treats it as no-match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlotError {
    /// Not a number / digit string.
    #[error(transparent)]
    Number(#[from] numbers::NumberError),
    /// Digits that fail their check.
    #[error(transparent)]
    Check(#[from] check::CheckError),
    /// No date, time or amount recognised.
    #[error("no {0} found in the text")]
    NotFound(&'static str),
}

impl SlotKind {
    /// Names as written in flow files.
    pub const NAMES: [&'static str; 9] = [
        "number",
        "digits",
        "phone",
        "card",
        "resident_id",
        "date",
        "time",
        "datetime",
        "money",
    ];

    /// Name → kind.
    pub fn from_name(s: &str) -> Option<SlotKind> {
        use SlotKind::*;
        let all = [
            Number, Digits, Phone, Card, ResidentId, Date, Time, DateTime, Money,
        ];
        Self::NAMES.iter().position(|n| *n == s).map(|i| all[i])
    }

    /// Whether values of this kind are personal numbers that should not be logged in full.
    pub fn is_identifier(self) -> bool {
        matches!(
            self,
            SlotKind::Card | SlotKind::ResidentId | SlotKind::Phone
        )
    }
}

/// Extract a slot from `text`; `today` anchors relative dates.
///
/// # Errors
/// [`SlotError`] when the text holds no such value or it fails its checksum.
pub fn extract(kind: SlotKind, text: &str, today: Date) -> Result<String, SlotError> {
    match kind {
        SlotKind::Number => Ok(numbers::quantity_in(text)?.to_string()),
        SlotKind::Digits => Ok(numbers::digits_in(text)?),
        SlotKind::Phone => {
            let d = numbers::digits_in(text)?;
            check::mobile(&d)?;
            Ok(d)
        }
        SlotKind::Card => {
            let d = numbers::digits_in(text)?;
            check::bank_card(&d)?;
            Ok(d)
        }
        SlotKind::ResidentId => {
            let d = numbers::id_digits_in(text)?;
            check::resident_id(&d)?;
            Ok(d)
        }
        SlotKind::Date => date(text, today)
            .map(|d| d.to_string())
            .ok_or(SlotError::NotFound("date")),
        SlotKind::Time => time(text).map(fmt_time).ok_or(SlotError::NotFound("time")),
        SlotKind::DateTime => {
            let d = date(text, today).ok_or(SlotError::NotFound("date"))?;
            let t = time(text).ok_or(SlotError::NotFound("time"))?;
            Ok(format!("{d} {}", fmt_time(t)))
        }
        SlotKind::Money => money(text)
            .map(|f| format!("{}.{:02}", f / 100, f % 100))
            .ok_or(SlotError::NotFound("amount")),
    }
}

fn fmt_time((h, m): (u32, u32)) -> String {
    format!("{h:02}:{m:02}")
}

/// Read a quantity from a (short) piece of text: ASCII digits or spoken zh/en numbers.
fn qty(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    numbers::quantity(s).ok()
}

const ZH_WEEK: [(&str, u32); 8] = [
    ("一", 1),
    ("二", 2),
    ("三", 3),
    ("四", 4),
    ("五", 5),
    ("六", 6),
    ("日", 7),
    ("天", 7),
];
const EN_WEEK: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const EN_MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The next date on or after `from + 1` with weekday `wd` within the week offset rules:
/// `weeks_ahead = 0` → this week's day (or next if already past), `1` → next week's.
fn weekday_date(today: Date, wd: u32, next_week: bool) -> Date {
    let cur = today.weekday();
    if next_week {
        // 下周二 / next Tuesday: the Tuesday of the following Monday-based week.
        let monday_next = today.add_days(i64::from(8 - cur));
        monday_next.add_days(i64::from(wd - 1))
    } else {
        let diff = (i64::from(wd) - i64::from(cur)).rem_euclid(7);
        today.add_days(if diff == 0 { 7 } else { diff })
    }
}

/// A date in `text`, relative to `today`.
pub fn date(text: &str, today: Date) -> Option<Date> {
    let lower = text.to_lowercase();
    for (w, n) in [
        ("大后天", 3),
        ("后天", 2),
        ("明天", 1),
        ("今天", 0),
        ("day after tomorrow", 2),
        ("tomorrow", 1),
        ("today", 0),
    ] {
        if lower.contains(w) {
            return Some(today.add_days(n));
        }
    }
    for prefix in [
        "下周",
        "下星期",
        "下礼拜",
        "这周",
        "本周",
        "周",
        "星期",
        "礼拜",
    ] {
        if let Some(pos) = lower.find(prefix) {
            let rest = &lower[pos + prefix.len()..];
            if let Some((_, wd)) = ZH_WEEK.iter().find(|(c, _)| rest.starts_with(c)) {
                let next = prefix.starts_with('下');
                let this = prefix == "这周" || prefix == "本周";
                if this {
                    return Some(today.add_days(i64::from(*wd) - i64::from(today.weekday())));
                }
                return Some(weekday_date(today, *wd, next));
            }
        }
    }
    for (i, w) in EN_WEEK.iter().enumerate() {
        if lower.contains(w) {
            return Some(weekday_date(today, i as u32 + 1, lower.contains("next ")));
        }
    }
    // 三月五号 / 3月5日 / 5号
    if let Some(pos) = lower.find(['号', '日']) {
        let head = &lower[..pos];
        let (m, d) = match head.rfind('月') {
            Some(mp) => (
                qty(&head[..mp]
                    .chars()
                    .rev()
                    .take_while(|c| !"年".contains(*c))
                    .collect::<String>()
                    .chars()
                    .rev()
                    .collect::<String>())?,
                qty(&head[mp + '月'.len_utf8()..])?,
            ),
            None => (
                u64::from(today.month),
                qty(head
                    .rsplit(|c: char| {
                        !(c.is_ascii_digit() || "零一二两三四五六七八九十".contains(c))
                    })
                    .next()?)?,
            ),
        };
        return next_occurrence(today, m as u32, d as u32);
    }
    // March 5 / March 5th
    for (i, mname) in EN_MONTHS.iter().enumerate() {
        if let Some(pos) = lower.find(mname) {
            let rest = lower[pos + mname.len()..].trim_start();
            let num: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            return next_occurrence(today, i as u32 + 1, num.parse().ok()?);
        }
    }
    None
}

fn next_occurrence(today: Date, month: u32, day: u32) -> Option<Date> {
    let d = Date::new(today.year, month, day)?;
    if d < today {
        Date::new(today.year + 1, month, day)
    } else {
        Some(d)
    }
}

/// A time of day in `text`: 下午三点, 三点半, 15:30, "at 3", "3 pm", "3:30 pm".
pub fn time(text: &str) -> Option<(u32, u32)> {
    let lower = text.to_lowercase();
    let pm_zh = ["下午", "晚上", "傍晚", "中午"]
        .iter()
        .any(|w| lower.contains(w));
    if let Some(pos) = lower.find('点') {
        let head = &lower[..pos];
        let start = head
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_digit() || "零一二两三四五六七八九十".contains(*c))
            .last()
            .map_or(head.len(), |(i, _)| i);
        let h = qty(&head[start..])? as u32;
        let rest = &lower[pos + '点'.len_utf8()..];
        let m = if rest.starts_with('半') {
            30
        } else if let Some(fp) = rest.find('分') {
            qty(&rest[..fp]).unwrap_or(0) as u32
        } else {
            let num: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || "零一二两三四五六七八九十".contains(*c))
                .collect();
            qty(&num).unwrap_or(0) as u32
        };
        let h = if pm_zh && h < 12 { h + 12 } else { h };
        return (h < 24 && m < 60).then_some((h, m));
    }
    // English and numerals: "3:30 pm", "at 3", "3 pm", "15:30".
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let (hs, ms) = w.split_once(':').unwrap_or((w, "0"));
        let core = hs.trim_end_matches(['a', 'p', 'm', '.']);
        let suffix = &hs[core.len()..];
        let h: Option<u32> = core.parse().ok().or_else(|| qty(core).map(|v| v as u32));
        let Some(h) = h else { continue };
        let m: u32 = ms.trim_end_matches(['a', 'p', 'm', '.']).parse().ok()?;
        let next = words.get(i + 1).copied().unwrap_or("");
        let pm = suffix.starts_with('p')
            || next.starts_with("pm")
            || next == "p.m."
            || ms.ends_with("pm")
            || lower.contains("afternoon")
            || lower.contains("evening");
        let am = suffix.starts_with('a')
            || next.starts_with("am")
            || ms.ends_with("am")
            || lower.contains("morning");
        let anchored = w.contains(':')
            || pm
            || am
            || (i > 0 && words[i - 1] == "at")
            || next.starts_with("o'clock");
        if !anchored {
            continue;
        }
        // Office hours: a bare "at 3" means 15:00, "at 9" means 09:00.
        let afternoon = pm || (!am && !w.contains(':') && (1..=6).contains(&h));
        let h = if afternoon && h < 12 { h + 12 } else { h };
        return (h < 24 && m < 60).then_some((h, m));
    }
    None
}

/// An amount in fen: 三百五十块五, 三百五十元五角二分, 两块, "$12.50", "12 dollars 50 cents", "12.5".
pub fn money(text: &str) -> Option<u64> {
    let t = text.trim().trim_start_matches(['$', '¥', '￥']).trim();
    if let Some(pos) = t.find(['块', '元']) {
        let yuan = qty(&t[..pos])?;
        let rest = &t[pos + '块'.len_utf8()..];
        let mut fen = 0;
        if let Some(jp) = rest.find(['毛', '角']) {
            fen += qty(&rest[..jp])? * 10;
            if let Some(fp) = rest.find('分') {
                fen += qty(&rest[jp + '角'.len_utf8()..fp])?;
            }
        } else if let Some(fp) = rest.find('分') {
            fen += qty(rest[..fp].trim_start_matches('零'))?;
        } else if !rest.trim().is_empty() {
            // 三百五十块五: one digit after 块 is 角.
            fen += qty(rest)? * 10;
        }
        return yuan.checked_mul(100)?.checked_add(fen);
    }
    let lower = t.to_lowercase();
    if let Some(pos) = lower.find("dollar").or_else(|| lower.find("yuan")) {
        let yuan = qty(&lower[..pos])?;
        let rest = lower[pos..]
            .trim_start_matches(|c: char| c.is_alphabetic())
            .trim();
        let rest = rest
            .trim_start_matches("and ")
            .trim_end_matches("cents")
            .trim_end_matches("fen")
            .trim();
        let fen = if rest.is_empty() { 0 } else { qty(rest)? };
        return (fen < 100).then(|| yuan * 100 + fen);
    }
    let (int, frac) = lower.split_once('.').unwrap_or((&lower, ""));
    if !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 2
        && frac.bytes().all(|b| b.is_ascii_digit())
    {
        let f: u64 = format!("{frac:0<2}").parse().ok()?;
        return int.parse::<u64>().ok()?.checked_mul(100)?.checked_add(f);
    }
    None
}
