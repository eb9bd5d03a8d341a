//! DTMF calling-line identity as sent by Chinese exchanges (and others: ETSI EN 300 659-1
//! Annex B style) before the first ring.
//!
//! Forms understood:
//! * `A<number>C` and `A<number>#` — the number (`D` instead of `A` is also used as start);
//! * `B<code>C` (or `B<code>#`) — no number, with a two-digit absence reason:
//!   `00` unknown/unavailable, `10` private (withheld); others are kept as given.
//!
//! [`DtmfCidDecoder`] runs a [`DtmfRx`] and turns digit sequences into [`CallerId`] records;
//! [`encode`] makes the digit string for the simulated exchange. Nothing allocates: numbers
//! live in `heapless` strings, and a sequence that would overflow one is reported as an error.

use crate::dtmf::{DtmfEvent, DtmfRx};

/// Longest number carried.
pub const MAX_NUMBER: usize = 24;
/// Longest encoded string: start, number, end.
pub const MAX_ENCODED: usize = MAX_NUMBER + 2;
/// Silence after a digit that abandons an unterminated sequence: 1 s.
pub const INTER_DIGIT_TIMEOUT: u64 = 8000;

/// Why no number was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Absence {
    /// `B00`: number unavailable / unknown.
    Unavailable,
    /// `B10`: presentation restricted (private).
    Private,
    /// Another two-digit code.
    Other(u8),
}

impl Absence {
    /// The two-digit code.
    pub fn code(self) -> u8 {
        match self {
            Absence::Unavailable => 0,
            Absence::Private => 10,
            Absence::Other(c) => c,
        }
    }

    fn from_code(c: u8) -> Self {
        match c {
            0 => Absence::Unavailable,
            10 => Absence::Private,
            c => Absence::Other(c),
        }
    }
}

/// A decoded caller-ID record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerId {
    /// The calling number (digits `0-9`, possibly `*`), empty when absent.
    pub number: heapless::String<MAX_NUMBER>,
    /// Why there is no number, for `B…` records.
    pub absence: Option<Absence>,
    /// Sample index (from the receiver's creation) where the first digit began.
    pub start: u64,
    /// Sample index where the last digit ended.
    pub end: u64,
}

/// Errors from caller-ID decoding and encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CidError {
    /// The number is longer than [`MAX_NUMBER`].
    #[error("caller-ID number longer than {MAX_NUMBER} digits")]
    TooLong,
    /// A digit that cannot appear inside the record (e.g. `A` after the start).
    #[error("unexpected digit {0:?} in caller ID")]
    UnexpectedDigit(char),
    /// The sequence stopped without its end digit.
    #[error("caller ID not terminated ({digits} digits received)")]
    Unterminated {
        /// Digits received after the start digit.
        digits: usize,
    },
    /// An absence record whose code is not two digits.
    #[error("caller-ID absence code must be two digits")]
    BadAbsenceCode,
    /// A character that cannot be encoded in a number.
    #[error("cannot encode {0:?} in a caller-ID number")]
    BadNumberChar(char),
}

/// Start digit used by [`encode`] for numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartDigit {
    /// `A` (the common form).
    A,
    /// `D` (used by some exchanges).
    D,
}

/// End digit used by [`encode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndDigit {
    /// `C`.
    C,
    /// `#`.
    Hash,
}

/// Digit string for a number (`absence == None`) or an absence record.
///
/// # Errors
/// [`CidError::TooLong`] or [`CidError::BadNumberChar`] for a number that cannot be sent.
pub fn encode(
    number: &str,
    absence: Option<Absence>,
    start: StartDigit,
    end: EndDigit,
) -> Result<heapless::String<MAX_ENCODED>, CidError> {
    let mut s = heapless::String::new();
    let end = match end {
        EndDigit::C => 'C',
        EndDigit::Hash => '#',
    };
    let mut push = |c: char| s.push(c).map_err(|_| CidError::TooLong);
    if let Some(a) = absence {
        let code = a.code();
        if code > 99 {
            return Err(CidError::BadAbsenceCode);
        }
        push('B')?;
        push(char::from(b'0' + code / 10))?;
        push(char::from(b'0' + code % 10))?;
        push(end)?;
    } else {
        if number.chars().count() > MAX_NUMBER {
            return Err(CidError::TooLong);
        }
        push(match start {
            StartDigit::A => 'A',
            StartDigit::D => 'D',
        })?;
        for c in number.chars() {
            if !(c.is_ascii_digit() || c == '*') {
                return Err(CidError::BadNumberChar(c));
            }
            push(c)?;
        }
        push(end)?;
    }
    Ok(s)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Absence,
}

/// Digit-level caller-ID parser plus a DTMF receiver.
#[derive(Debug, Clone)]
pub struct DtmfCidDecoder {
    rx: DtmfRx,
    parser: Parser,
}

impl DtmfCidDecoder {
    /// A decoder with a default [`DtmfRx`].
    pub fn new() -> Self {
        Self::with_rx(DtmfRx::new())
    }

    /// A decoder over a configured receiver.
    pub fn with_rx(rx: DtmfRx) -> Self {
        Self {
            rx,
            parser: Parser::default(),
        }
    }

    /// Process audio; `on_record` receives each complete record or decoding error.
    pub fn rx<F: FnMut(Result<CallerId, CidError>)>(&mut self, samples: &[i16], mut on_record: F) {
        let Self { rx, parser } = self;
        rx.rx(samples, |e| {
            if let DtmfEvent::End { digit, start, end } = e {
                if let Some(r) = parser.digit(digit, start, end) {
                    on_record(r);
                }
            }
        });
        if parser.kind.is_some()
            && rx.position() > parser.last_end.saturating_add(INTER_DIGIT_TIMEOUT)
        {
            let digits = parser.body.len();
            parser.kind = None;
            on_record(Err(CidError::Unterminated { digits }));
        }
    }

    /// Feed one received digit spanning samples `start..end` (for digits detected
    /// elsewhere); returns a record when `digit` completes one. Digits outside a record are
    /// ignored (they are not caller ID).
    pub fn digit(
        &mut self,
        digit: char,
        start: u64,
        end: u64,
    ) -> Option<Result<CallerId, CidError>> {
        self.parser.digit(digit, start, end)
    }
}

impl Default for DtmfCidDecoder {
    fn default() -> Self {
        Self::new()
    }
}

/// Digit-level record parser.
#[derive(Debug, Clone, Default)]
struct Parser {
    kind: Option<Kind>,
    body: heapless::String<MAX_NUMBER>,
    overflow: bool,
    start: u64,
    last_end: u64,
}

impl Parser {
    fn digit(&mut self, digit: char, start: u64, end: u64) -> Option<Result<CallerId, CidError>> {
        // `start` and `end` may come from the caller (`DtmfCidDecoder::digit`): saturate.
        let timed_out =
            self.kind.is_some() && start > self.last_end.saturating_add(INTER_DIGIT_TIMEOUT);
        self.last_end = end;
        if timed_out {
            let digits = self.body.len();
            self.begin(None, start);
            if let Some(k) = Self::start_kind(digit) {
                self.begin(Some(k), start);
            }
            return Some(Err(CidError::Unterminated { digits }));
        }
        let Some(kind) = self.kind else {
            if let Some(k) = Self::start_kind(digit) {
                self.begin(Some(k), start);
            }
            return None;
        };
        match digit {
            'C' | '#' => {
                self.kind = None;
                if self.overflow {
                    return Some(Err(CidError::TooLong));
                }
                let mut rec = CallerId {
                    number: heapless::String::new(),
                    absence: None,
                    start: self.start,
                    end,
                };
                match kind {
                    Kind::Number => rec.number = self.body.clone(),
                    Kind::Absence => {
                        let b = self.body.as_bytes();
                        if b.len() != 2 {
                            return Some(Err(CidError::BadAbsenceCode));
                        }
                        rec.absence = Some(Absence::from_code((b[0] - b'0') * 10 + (b[1] - b'0')));
                    }
                }
                Some(Ok(rec))
            }
            '0'..='9' | '*' if !(kind == Kind::Absence && digit == '*') => {
                if self.body.push(digit).is_err() {
                    self.overflow = true;
                }
                None
            }
            other => {
                // A new start digit restarts; anything else spoils the record.
                self.kind = None;
                if let Some(k) = Self::start_kind(other) {
                    self.begin(Some(k), start);
                }
                Some(Err(CidError::UnexpectedDigit(other)))
            }
        }
    }

    fn start_kind(d: char) -> Option<Kind> {
        match d {
            'A' | 'D' => Some(Kind::Number),
            'B' => Some(Kind::Absence),
            _ => None,
        }
    }

    fn begin(&mut self, kind: Option<Kind>, start: u64) {
        self.kind = kind;
        self.body.clear();
        self.overflow = false;
        self.start = start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(s: &str) -> Vec<Result<CallerId, CidError>> {
        let mut d = DtmfCidDecoder::new();
        let mut out = Vec::new();
        for (i, c) in s.chars().enumerate() {
            let t = i as u64 * 800;
            out.extend(d.digit(c, t, t + 400));
        }
        out
    }

    #[test]
    fn parses_each_form() {
        for s in ["A13912345678C", "A13912345678#", "D13912345678C"] {
            let r = feed(s);
            assert_eq!(r.len(), 1, "{s}");
            let rec = r[0].clone().unwrap();
            assert_eq!(rec.number.as_str(), "13912345678");
            assert_eq!(rec.absence, None);
            assert_eq!(rec.start, 0);
        }
        let r = feed("B10C");
        assert_eq!(r[0].clone().unwrap().absence, Some(Absence::Private));
        let r = feed("B00#");
        assert_eq!(r[0].clone().unwrap().absence, Some(Absence::Unavailable));
        assert_eq!(r[0].clone().unwrap().number.as_str(), "");
    }

    #[test]
    fn malformed_records_are_errors() {
        assert_eq!(feed("A12B3C")[0], Err(CidError::UnexpectedDigit('B')));
        assert_eq!(feed("B1C")[0], Err(CidError::BadAbsenceCode));
        let long = format!("A{}C", "1".repeat(MAX_NUMBER + 1));
        assert_eq!(feed(&long)[0], Err(CidError::TooLong));
        // Digits before a start digit are not caller ID.
        assert!(feed("123").is_empty());
    }

    #[test]
    fn gap_abandons_record() {
        let mut d = DtmfCidDecoder::new();
        assert!(d.digit('A', 0, 400).is_none());
        assert!(d.digit('1', 800, 1200).is_none());
        assert_eq!(
            d.digit('A', 20_000, 20_400),
            Some(Err(CidError::Unterminated { digits: 1 }))
        );
        assert!(d.digit('5', 20_800, 21_200).is_none());
        let r = d.digit('C', 21_600, 22_000).unwrap().unwrap();
        assert_eq!(r.number.as_str(), "5");
        assert_eq!(r.start, 20_000);
    }

    #[test]
    fn digit_times_near_u64_max_do_not_overflow() {
        let mut d = DtmfCidDecoder::new();
        assert!(d.digit('A', u64::MAX - 400, u64::MAX).is_none());
        assert!(d.digit('1', u64::MAX, u64::MAX).is_none());
        d.rx(&[0; 200], |r| panic!("unexpected {r:?}"));
        let r = d.digit('C', u64::MAX, u64::MAX).unwrap().unwrap();
        assert_eq!(r.number.as_str(), "1");
    }

    #[test]
    fn encode_forms_and_errors() {
        assert_eq!(
            encode("0755123", None, StartDigit::A, EndDigit::C)
                .unwrap()
                .as_str(),
            "A0755123C"
        );
        assert_eq!(
            encode("", Some(Absence::Private), StartDigit::A, EndDigit::Hash)
                .unwrap()
                .as_str(),
            "B10#"
        );
        assert_eq!(
            encode("12-3", None, StartDigit::D, EndDigit::C),
            Err(CidError::BadNumberChar('-'))
        );
        assert_eq!(
            encode("", Some(Absence::Other(123)), StartDigit::A, EndDigit::C),
            Err(CidError::BadAbsenceCode)
        );
    }
}
