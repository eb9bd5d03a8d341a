//! Civil dates and the business calendar: public holidays and make-up working days as data
//! (`data/cn-2026.toml` for mainland China). Pure arithmetic; never reads a clock — callers
//! pass the time they got from an event.

use serde::Deserialize;
use std::collections::BTreeSet;

/// A civil date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year, e.g. 2026.
    pub year: i32,
    /// Month 1…12.
    pub month: u32,
    /// Day 1…31.
    pub day: u32,
}

impl Date {
    /// Parse `YYYY-MM-DD`; `None` when malformed or not a real date.
    pub fn parse(s: &str) -> Option<Date> {
        let mut it = s.split('-');
        let year = it.next()?.parse().ok()?;
        let month = it.next()?.parse().ok()?;
        let day = it.next()?.parse().ok()?;
        if it.next().is_some() {
            return None;
        }
        Date::new(year, month, day)
    }

    /// A checked date.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let d = Date { year, month, day };
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)).then_some(d)
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Day of the week, 1 = Monday … 7 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday.
        ((self.days() + 3).rem_euclid(7) + 1) as u32
    }

    /// This date moved by `n` days.
    pub fn add_days(self, n: i64) -> Date {
        Date::from_days(self.days() + n)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Local date and minute of day for a UTC time in milliseconds and an offset in minutes.
pub fn local(utc_ms: i64, offset_minutes: i32) -> (Date, u32) {
    let local_min = utc_ms.div_euclid(60_000) + i64::from(offset_minutes);
    let days = local_min.div_euclid(1440);
    (Date::from_days(days), local_min.rem_euclid(1440) as u32)
}

/// Why a calendar file was refused.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// Not valid TOML of the calendar shape.
    #[error("calendar is not valid: {0}")]
    Toml(#[from] toml::de::Error),
    /// A date that is not `YYYY-MM-DD` or does not exist.
    #[error("calendar date {0:?} is not a real YYYY-MM-DD date")]
    BadDate(String),
    /// A holiday range that ends before it starts.
    #[error("holiday {0:?} ends before it starts")]
    Reversed(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    #[allow(dead_code)]
    year: i32,
    holidays: Vec<HolidayDef>,
    workdays: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayDef {
    name: String,
    from: String,
    to: String,
}

/// Public holidays and make-up working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<Date>,
    workdays: BTreeSet<Date>,
}

/// The shipped calendar names a flow's `calendar` field may use.
pub const SHIPPED: &[&str] = &["cn-2026"];

impl Calendar {
    /// Parse a calendar data file.
    ///
    /// # Errors
    /// [`CalendarError`] for bad TOML, bad dates or reversed ranges.
    pub fn parse(text: &str) -> Result<Calendar, CalendarError> {
        let file: CalendarFile = toml::from_str(text)?;
        let date = |s: &str| Date::parse(s).ok_or_else(|| CalendarError::BadDate(s.to_string()));
        let mut cal = Calendar::default();
        for h in &file.holidays {
            let (from, to) = (date(&h.from)?, date(&h.to)?);
            if to < from {
                return Err(CalendarError::Reversed(h.name.clone()));
            }
            for d in from.days()..=to.days() {
                cal.holidays.insert(Date::from_days(d));
            }
        }
        for w in &file.workdays {
            cal.workdays.insert(date(w)?);
        }
        Ok(cal)
    }

    /// A shipped calendar by name (see [`SHIPPED`]).
    pub fn shipped(name: &str) -> Option<Calendar> {
        match name {
            "cn-2026" => Calendar::parse(include_str!("../data/cn-2026.toml")).ok(),
            _ => None,
        }
    }

    /// Whether `d` is a working day: a make-up workday, or a Monday–Friday that is no holiday.
    pub fn is_workday(&self, d: Date) -> bool {
        self.workdays.contains(&d) || (d.weekday() <= 5 && !self.holidays.contains(&d))
    }

    /// Whether `d` is a public holiday.
    pub fn is_holiday(&self, d: Date) -> bool {
        self.holidays.contains(&d)
    }
}

/// Parse `HH:MM-HH:MM` into minutes of the day `[start, end)`.
pub fn parse_window(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('-')?;
    let hm = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
    };
    let (a, b) = (hm(a)?, hm(b)?);
    (a < b).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_weekdays() {
        for d in -800_000..800_000 {
            if d % 997 == 0 {
                assert_eq!(Date::from_days(d).days(), d);
            }
        }
        assert_eq!(Date::new(2026, 1, 1).unwrap().weekday(), 4);
        assert_eq!(Date::new(2026, 11, 22).unwrap().weekday(), 7);
        assert_eq!(Date::parse("2026-02-29"), None);
        assert_eq!(local(0, 480), (Date::new(1970, 1, 1).unwrap(), 480));
    }

    #[test]
    fn china_2026_holidays_and_makeup_workdays() {
        let cal = Calendar::shipped("cn-2026").unwrap();
        let d = |m, day| Date::new(2026, m, day).unwrap();
        assert!(!cal.is_workday(d(2, 16)), "Spring Festival Monday is off");
        assert!(
            cal.is_workday(d(2, 14)),
            "Saturday 14 Feb is a make-up workday"
        );
        assert!(cal.is_workday(d(10, 10)));
        assert!(!cal.is_workday(d(10, 8)) || d(10, 8).weekday() <= 5);
        assert!(cal.is_workday(d(10, 8)), "8 Oct is an ordinary Thursday");
        assert!(!cal.is_workday(d(5, 2)));
        assert!(!cal.is_workday(d(11, 22)), "an ordinary Sunday");
        for w in [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ] {
            assert!(
                Date::parse(w).unwrap().weekday() >= 6,
                "{w} must fall on a weekend"
            );
        }
    }

    #[test]
    fn bad_calendar_files_are_named() {
        let e = Calendar::parse("year=2026\nholidays=[]\nworkdays=[\"2026-13-01\"]").unwrap_err();
        assert_eq!(
            e.to_string(),
            "calendar date \"2026-13-01\" is not a real YYYY-MM-DD date"
        );
        assert_eq!(parse_window("08:00-17:30"), Some((480, 1050)));
        assert_eq!(parse_window("18:00-08:00"), None);
    }
}
