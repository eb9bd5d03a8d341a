//! Checks flows run on numbers a caller has spoken (after [`digits`](super::digits) or
//! [`id_digits`](super::id_digits)): China resident ID, bank card, mobile number.
//!
//! They take ASCII text and never panic; each failure says what is wrong so a flow can
//! choose its prompt ("the number is too short" vs "please check the number").

/// Why a number failed its check.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// Wrong number of characters.
    #[error("{found} characters; expected {expected}")]
    Length {
        /// Characters found.
        found: usize,
        /// What the check accepts, e.g. `"18"` or `"13 to 19"`.
        expected: &'static str,
    },
    /// A character that is not allowed where it is (positions count from 1).
    #[error("{found:?} at position {position} is not a digit")]
    NotDigit {
        /// Position of the character.
        position: usize,
        /// The character.
        found: char,
    },
    /// The check character does not match the rest of the number.
    #[error("check character is {found:?} but the number needs {expected:?}")]
    CheckCharacter {
        /// The last character as given.
        found: char,
        /// What the rest of the number calls for.
        expected: char,
    },
    /// The birth date inside a resident ID number does not exist.
    #[error("birth date {date} in the ID number does not exist")]
    BirthDate {
        /// The eight date digits, YYYYMMDD.
        date: String,
    },
    /// A Chinese mobile number that does not start with 13–19.
    #[error("mobile numbers start with 13 to 19, not {prefix}")]
    MobilePrefix {
        /// The first two digits.
        prefix: String,
    },
}

/// ISO 7064 MOD 11-2 weights for the 17 body digits of a resident ID: 2^(17-i) mod 11.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each value of (weighted sum mod 11).
const ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

fn all_digits(s: &str) -> Result<(), CheckError> {
    match s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, found)) => Err(CheckError::NotDigit {
            position: i + 1,
            found,
        }),
        None => Ok(()),
    }
}

fn digit_values(s: &str) -> impl DoubleEndedIterator<Item = u32> + '_ {
    s.bytes().map(|b| u32::from(b.wrapping_sub(b'0')))
}

/// The check character (`0`–`9` or `X`) for the first 17 digits of a China resident ID
/// number (GB 11643, ISO 7064 MOD 11-2); `None` unless `body` is exactly 17 ASCII digits.
pub fn resident_id_check_char(body: &str) -> Option<char> {
    if body.len() != 17 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = digit_values(body).zip(ID_WEIGHTS).map(|(d, w)| d * w).sum();
    ID_CHECK.get((sum % 11) as usize).copied()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        // Gregorian leap year (`is_multiple_of` is newer than the workspace's rust-version).
        2 if matches!((year % 4, year % 100, year % 400), (0, 1.., _) | (_, _, 0)) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Check an 18-character China resident ID number: 17 digits, then a check digit or `X`
/// (lower-case `x` is accepted), a birth date (characters 7–14, YYYYMMDD) that exists, and
/// the MOD 11-2 check character. The birth year is not compared with today (no clock here).
///
/// # Errors
/// The first [`CheckError`] found, in the order length, characters, date, check character.
pub fn resident_id(id: &str) -> Result<(), CheckError> {
    let found = id.chars().count();
    if found != 18 {
        return Err(CheckError::Length {
            found,
            expected: "18",
        });
    }
    // 18 characters; the body is ASCII only if every one of its 17 chars is a digit.
    let body_end = id.char_indices().nth(17).map_or(id.len(), |(i, _)| i);
    let body = id.get(..body_end).unwrap_or_default();
    all_digits(body)?;
    let last = id.chars().next_back().unwrap_or('?');
    let last = if last == 'x' { 'X' } else { last };
    if !(last.is_ascii_digit() || last == 'X') {
        return Err(CheckError::NotDigit {
            position: 18,
            found: last,
        });
    }
    let date = body.get(6..14).unwrap_or_default();
    let num = |r: std::ops::Range<usize>| date.get(r).and_then(|s| s.parse::<u32>().ok());
    let (year, month, day) = (num(0..4), num(4..6), num(6..8));
    let real = matches!((year, month, day), (Some(y), Some(m), Some(d)) if d >= 1 && d <= days_in_month(y, m));
    if !real {
        return Err(CheckError::BirthDate {
            date: date.to_owned(),
        });
    }
    let expected = resident_id_check_char(body).unwrap_or('?');
    if last != expected {
        return Err(CheckError::CheckCharacter {
            found: last,
            expected,
        });
    }
    Ok(())
}

/// The Luhn check digit to append to `payload`; `None` unless `payload` is one or more ASCII
/// digits.
pub fn luhn_check_digit(payload: &str) -> Option<char> {
    if payload.is_empty() || !payload.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Counting from the right of the payload, the 1st, 3rd, … digits are doubled.
    let sum: u32 = digit_values(payload)
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { luhn_double(d) } else { d })
        .sum();
    char::from_digit((10 - sum % 10) % 10, 10)
}

fn luhn_double(d: u32) -> u32 {
    let x = d * 2;
    if x > 9 {
        x - 9
    } else {
        x
    }
}

/// Check a bank card number: 13 to 19 ASCII digits (Visa 13, Amex 15, UnionPay 16–19)
/// whose last digit is the Luhn check digit.
///
/// # Errors
/// [`CheckError::Length`], [`CheckError::NotDigit`] or [`CheckError::CheckCharacter`].
pub fn bank_card(number: &str) -> Result<(), CheckError> {
    let found = number.chars().count();
    if !(13..=19).contains(&found) {
        return Err(CheckError::Length {
            found,
            expected: "13 to 19",
        });
    }
    all_digits(number)?;
    let (payload, last) = number.split_at(number.len() - 1);
    let expected = luhn_check_digit(payload).unwrap_or('?');
    let found = last.chars().next().unwrap_or('?');
    if found != expected {
        return Err(CheckError::CheckCharacter { found, expected });
    }
    Ok(())
}

/// Check a mainland China mobile number: 11 ASCII digits starting with `1` and then `3`–`9`.
/// No country code: flows strip a spoken "+86" first.
///
/// # Errors
/// [`CheckError::Length`], [`CheckError::NotDigit`] or [`CheckError::MobilePrefix`].
pub fn mobile(number: &str) -> Result<(), CheckError> {
    let found = number.chars().count();
    if found != 11 {
        return Err(CheckError::Length {
            found,
            expected: "11",
        });
    }
    all_digits(number)?;
    let prefix = number.get(..2).unwrap_or_default();
    let ok = prefix
        .as_bytes()
        .get(1)
        .is_some_and(|b| prefix.starts_with('1') && (b'3'..=b'9').contains(b));
    if !ok {
        return Err(CheckError::MobilePrefix {
            prefix: prefix.to_owned(),
        });
    }
    Ok(())
}
