//! FSK caller ID (CLIP / CND) messages: receive, parse, encode and transmit.
//!
//! Message layout (Telcordia GR-30, ETSI EN 300 659-3, China YDN 069), each byte sent with a
//! start and a stop bit after a channel seizure (alternating bits) and a mark run:
//!
//! ```text
//! type | length | body (length bytes) | checksum (two's complement of the sum of the rest)
//! ```
//!
//! * SDMF, type `0x04`: body = `MMDDHHMM` then the number, or a single `O` (unavailable)
//!   or `P` (private) in place of the number.
//! * MDMF / ETSI call set-up, type `0x80`: body = parameters `code | length | value`:
//!   `0x01` date and time `MMDDHHMM`, `0x02` calling number, `0x03` called number,
//!   `0x04` reason for absence of the number, `0x07` calling name, `0x08` reason for
//!   absence of the name, `0x11` call type, `0x1A` redirecting number. Unknown parameters
//!   are skipped, as the standards require.
//!
//! This module must never panic or allocate on whatever arrives from the line: a bad
//! checksum, a framing error or a malformed body is reported as a [`CallerIdError`] and the
//! receiver goes back to hunting.

use heapless::{String, Vec};

use crate::fsk::{FskError, FskEvent, FskRx, FskStandard, FskTx};

/// Longest number kept (ETSI allows 20 digits; a few more leave room for prefixes).
pub const NUMBER_MAX: usize = 32;
/// Longest name kept, in bytes (ETSI allows 50; names may be GB2312 in China).
pub const NAME_MAX: usize = 64;
/// Longest whole message: type, length, 255 body bytes, checksum.
pub const MESSAGE_MAX: usize = 258;

/// SDMF caller ID message type.
pub const TYPE_SDMF: u8 = 0x04;
/// MDMF caller ID / ETSI call set-up message type.
pub const TYPE_MDMF: u8 = 0x80;

/// MDMF parameter codes.
mod param {
    pub(super) const DATETIME: u8 = 0x01;
    pub(super) const NUMBER: u8 = 0x02;
    pub(super) const CALLED: u8 = 0x03;
    pub(super) const NUMBER_ABSENCE: u8 = 0x04;
    pub(super) const NAME: u8 = 0x07;
    pub(super) const NAME_ABSENCE: u8 = 0x08;
    pub(super) const CALL_TYPE: u8 = 0x11;
    pub(super) const REDIRECTING: u8 = 0x1A;
}

/// Errors from receiving, parsing or building a caller ID message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallerIdError {
    /// The bytes of the message do not sum to zero modulo 256.
    #[error("checksum: message sums to {0:#04x}, not 0")]
    Checksum(u8),
    /// A character's stop bit was a space.
    #[error("framing error inside a message")]
    Framing,
    /// The carrier dropped before the message was complete.
    #[error("carrier lost after {0} bytes")]
    CarrierLost(usize),
    /// A new mark run started before the message was complete.
    #[error("message cut short after {0} bytes")]
    Truncated(usize),
    /// The message type is not caller ID (e.g. message waiting `0x82`).
    #[error("unsupported message type {0:#04x}")]
    UnsupportedType(u8),
    /// The body is shorter than its parameters claim, or the length is wrong.
    #[error("malformed message body")]
    Malformed,
    /// A field holds characters it may not (e.g. a non-digit in the date).
    #[error("invalid value in field {0:#04x}")]
    InvalidField(u8),
    /// A field is longer than this receiver keeps, or the message exceeds 255 body bytes.
    #[error("field {0:#04x} too long")]
    TooLong(u8),
    /// An SDMF message needs a date/time and a number or absence reason.
    #[error("SDMF needs a date/time and a number or absence reason")]
    SdmfIncomplete,
    /// The FSK modem could not be configured.
    #[error(transparent)]
    Fsk(#[from] FskError),
}

/// SDMF (single data message) or MDMF (multiple data message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageFormat {
    /// Type 0x04.
    Sdmf,
    /// Type 0x80.
    Mdmf,
}

/// Why a number or name is not presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Absence {
    /// `O`: unavailable (out of area, or the network does not know it).
    Unavailable,
    /// `P`: withheld by the caller.
    Private,
    /// Another code as sent (e.g. `C` public callbox, `I` international in some countries).
    Other(u8),
}

impl Absence {
    /// The code byte on the line.
    pub const fn code(self) -> u8 {
        match self {
            Self::Unavailable => b'O',
            Self::Private => b'P',
            Self::Other(c) => c,
        }
    }

    /// From the code byte on the line.
    pub const fn from_code(c: u8) -> Self {
        match c {
            b'O' => Self::Unavailable,
            b'P' => Self::Private,
            c => Self::Other(c),
        }
    }
}

/// The content of a caller ID message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerInfo {
    /// `MMDDHHMM` exactly as sent (local time of the exchange).
    pub datetime: Option<String<8>>,
    /// Calling number.
    pub number: Option<String<NUMBER_MAX>>,
    /// Reason the calling number is absent.
    pub number_absence: Option<Absence>,
    /// Calling name, raw bytes as sent (ASCII, or GB2312 in China); see [`Self::name_str`].
    pub name: Option<Vec<u8, NAME_MAX>>,
    /// Reason the name is absent.
    pub name_absence: Option<Absence>,
    /// Called (dialled) number, MDMF parameter 0x03.
    pub called_number: Option<String<NUMBER_MAX>>,
    /// Redirecting number, ETSI parameter 0x1A.
    pub redirecting_number: Option<String<NUMBER_MAX>>,
    /// ETSI call type (1 voice, 2 ring-back-when-free, 0x81 message waiting), parameter 0x11.
    pub call_type: Option<u8>,
}

impl CallerInfo {
    /// The name as text, if it is valid UTF-8 (always so for ASCII names).
    pub fn name_str(&self) -> Option<&str> {
        self.name
            .as_ref()
            .and_then(|n| core::str::from_utf8(n).ok())
    }
}

/// A received caller ID message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerId {
    /// The modem it came on, judged from the measured mark frequency.
    pub standard: FskStandard,
    /// SDMF or MDMF.
    pub format: MessageFormat,
    /// What it said.
    pub info: CallerInfo,
    /// Whether a channel seizure preceded it.
    pub seizure: bool,
    /// Sample index (since the receiver was built) where the seizure, or else the mark
    /// run, began; within a bit or two of the line signal.
    pub start: u64,
    /// Sample index of the end of the checksum byte's stop bit.
    pub end: u64,
}

fn printable(field: u8, bytes: &[u8]) -> Result<String<NUMBER_MAX>, CallerIdError> {
    if !bytes.iter().all(|b| (0x20..0x7F).contains(b)) {
        return Err(CallerIdError::InvalidField(field));
    }
    let mut s = String::new();
    for &b in bytes {
        s.push(char::from(b))
            .map_err(|_| CallerIdError::TooLong(field))?;
    }
    Ok(s)
}

fn datetime(bytes: &[u8]) -> Result<String<8>, CallerIdError> {
    if bytes.len() != 8 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(CallerIdError::InvalidField(param::DATETIME));
    }
    let mut s = String::new();
    for &b in bytes {
        s.push(char::from(b))
            .map_err(|_| CallerIdError::InvalidField(param::DATETIME))?;
    }
    Ok(s)
}

fn single(field: u8, bytes: &[u8]) -> Result<u8, CallerIdError> {
    match bytes {
        [b] => Ok(*b),
        _ => Err(CallerIdError::InvalidField(field)),
    }
}

/// Check and parse a whole message (`type, length, body, checksum`).
///
/// # Errors
/// [`CallerIdError::Checksum`] first if the sum is wrong; then
/// [`CallerIdError::Malformed`], [`CallerIdError::UnsupportedType`],
/// [`CallerIdError::InvalidField`] or [`CallerIdError::TooLong`] for bad contents.
pub fn parse_message(msg: &[u8]) -> Result<(MessageFormat, CallerInfo), CallerIdError> {
    let [kind, len, rest @ ..] = msg else {
        return Err(CallerIdError::Malformed);
    };
    if rest.len() != usize::from(*len) + 1 {
        return Err(CallerIdError::Malformed);
    }
    let sum = msg.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    if sum != 0 {
        return Err(CallerIdError::Checksum(sum));
    }
    let body = &rest[..rest.len() - 1];
    let mut info = CallerInfo::default();
    match *kind {
        TYPE_SDMF => {
            if body.len() < 9 {
                return Err(CallerIdError::Malformed);
            }
            let (dt, num) = body.split_at(8);
            info.datetime = Some(datetime(dt)?);
            match num {
                [c @ (b'O' | b'P')] => info.number_absence = Some(Absence::from_code(*c)),
                _ => info.number = Some(printable(param::NUMBER, num)?),
            }
            Ok((MessageFormat::Sdmf, info))
        }
        TYPE_MDMF => {
            let mut p = body;
            while let [code, plen, tail @ ..] = p {
                let plen = usize::from(*plen);
                let Some((value, next)) = tail.split_at_checked(plen) else {
                    return Err(CallerIdError::Malformed);
                };
                match *code {
                    param::DATETIME => info.datetime = Some(datetime(value)?),
                    param::NUMBER => info.number = Some(printable(*code, value)?),
                    param::CALLED => info.called_number = Some(printable(*code, value)?),
                    param::REDIRECTING => {
                        info.redirecting_number = Some(printable(*code, value)?);
                    }
                    param::NUMBER_ABSENCE => {
                        info.number_absence = Some(Absence::from_code(single(*code, value)?));
                    }
                    param::NAME_ABSENCE => {
                        info.name_absence = Some(Absence::from_code(single(*code, value)?));
                    }
                    param::NAME => {
                        info.name = Some(
                            Vec::from_slice(value).map_err(|_| CallerIdError::TooLong(*code))?,
                        );
                    }
                    param::CALL_TYPE => info.call_type = Some(single(*code, value)?),
                    _ => {}
                }
                p = next;
            }
            if !p.is_empty() {
                return Err(CallerIdError::Malformed);
            }
            Ok((MessageFormat::Mdmf, info))
        }
        other => Err(CallerIdError::UnsupportedType(other)),
    }
}

fn push(out: &mut Vec<u8, MESSAGE_MAX>, field: u8, bytes: &[u8]) -> Result<(), CallerIdError> {
    out.extend_from_slice(bytes)
        .map_err(|_| CallerIdError::TooLong(field))
}

fn push_param(out: &mut Vec<u8, MESSAGE_MAX>, code: u8, value: &[u8]) -> Result<(), CallerIdError> {
    let len = u8::try_from(value.len()).map_err(|_| CallerIdError::TooLong(code))?;
    push(out, code, &[code, len])?;
    push(out, code, value)
}

/// Build a whole message (type, length, body, checksum) from `info`.
///
/// SDMF carries only the date/time and the number (or its absence reason); MDMF carries
/// every field that is set, in the order date/time, number, number absence, called number,
/// redirecting number, name, name absence, call type.
///
/// # Errors
/// [`CallerIdError::SdmfIncomplete`] if SDMF lacks its fields, [`CallerIdError::InvalidField`]
/// for a date/time that is not eight digits, [`CallerIdError::TooLong`] past 255 body bytes.
pub fn encode_message(
    format: MessageFormat,
    info: &CallerInfo,
) -> Result<Vec<u8, MESSAGE_MAX>, CallerIdError> {
    if let Some(dt) = &info.datetime {
        datetime(dt.as_bytes())?;
    }
    let mut out: Vec<u8, MESSAGE_MAX> = Vec::new();
    match format {
        MessageFormat::Sdmf => {
            let dt = info
                .datetime
                .as_ref()
                .ok_or(CallerIdError::SdmfIncomplete)?;
            push(&mut out, 0, &[TYPE_SDMF, 0])?;
            push(&mut out, param::DATETIME, dt.as_bytes())?;
            match (&info.number, info.number_absence) {
                (Some(n), _) if !n.is_empty() => push(&mut out, param::NUMBER, n.as_bytes())?,
                (_, Some(a)) => push(&mut out, param::NUMBER_ABSENCE, &[a.code()])?,
                _ => return Err(CallerIdError::SdmfIncomplete),
            }
        }
        MessageFormat::Mdmf => {
            push(&mut out, 0, &[TYPE_MDMF, 0])?;
            if let Some(dt) = &info.datetime {
                push_param(&mut out, param::DATETIME, dt.as_bytes())?;
            }
            if let Some(n) = &info.number {
                push_param(&mut out, param::NUMBER, n.as_bytes())?;
            }
            if let Some(a) = info.number_absence {
                push_param(&mut out, param::NUMBER_ABSENCE, &[a.code()])?;
            }
            if let Some(n) = &info.called_number {
                push_param(&mut out, param::CALLED, n.as_bytes())?;
            }
            if let Some(n) = &info.redirecting_number {
                push_param(&mut out, param::REDIRECTING, n.as_bytes())?;
            }
            if let Some(n) = &info.name {
                push_param(&mut out, param::NAME, n)?;
            }
            if let Some(a) = info.name_absence {
                push_param(&mut out, param::NAME_ABSENCE, &[a.code()])?;
            }
            if let Some(t) = info.call_type {
                push_param(&mut out, param::CALL_TYPE, &[t])?;
            }
        }
    }
    let body_len = out.len() - 2;
    out[1] = u8::try_from(body_len).map_err(|_| CallerIdError::TooLong(0))?;
    let sum = out.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    push(&mut out, 0, &[sum.wrapping_neg()])?;
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RxState {
    /// Not inside a message.
    Idle,
    /// After a mark run; `usize` bytes collected.
    Collecting(usize),
}

/// Streaming caller ID receiver for V.23 and Bell 202 (both at once: the demodulator is
/// shared and the standard is told from the mark frequency).
#[derive(Debug, Clone)]
pub struct CallerIdRx {
    fsk: FskRx,
    state: RxState,
    buf: [u8; MESSAGE_MAX],
    seizure_from: Option<u64>,
    mark_from: u64,
    mark_hz: u16,
}

impl CallerIdRx {
    /// A receiver with the carrier detector at -40 dBm0 (10 dB under the weakest caller ID
    /// it must take).
    pub fn new() -> Self {
        Self::from_fsk(FskRx::new())
    }

    /// A receiver whose carrier detector switches on at `threshold_dbm0`.
    ///
    /// # Errors
    /// [`CallerIdError::Fsk`] if the threshold is outside -60..=0 dBm0.
    pub fn with_threshold(threshold_dbm0: i32) -> Result<Self, CallerIdError> {
        Ok(Self::from_fsk(FskRx::with_threshold(threshold_dbm0)?))
    }

    fn from_fsk(fsk: FskRx) -> Self {
        Self {
            fsk,
            state: RxState::Idle,
            buf: [0; MESSAGE_MAX],
            seizure_from: None,
            mark_from: 0,
            mark_hz: 0,
        }
    }

    /// Samples consumed since construction.
    pub fn position(&self) -> u64 {
        self.fsk.position()
    }

    /// Feed line samples; `on_message` is called for every complete message and for every
    /// message that started but failed (garbage that never looked like a message is
    /// ignored silently).
    pub fn rx(
        &mut self,
        samples: &[i16],
        mut on_message: impl FnMut(Result<CallerId, CallerIdError>),
    ) {
        let Self {
            fsk,
            state,
            buf,
            seizure_from,
            mark_from,
            mark_hz,
        } = self;
        fsk.rx(samples, |ev| match ev {
            FskEvent::CarrierUp { .. } => {
                *state = RxState::Idle;
                *seizure_from = None;
            }
            FskEvent::Seizure { from } => *seizure_from = Some(from),
            FskEvent::Mark { from, mark_hz: hz } => {
                if let RxState::Collecting(n @ 1..) = *state {
                    on_message(Err(CallerIdError::Truncated(n)));
                    *seizure_from = None;
                }
                *state = RxState::Collecting(0);
                *mark_from = from;
                *mark_hz = hz;
            }
            FskEvent::Byte { value, at } => {
                if let RxState::Collecting(n) = *state {
                    if let Some(slot) = buf.get_mut(n) {
                        *slot = value;
                    }
                    let n = n + 1;
                    *state = RxState::Collecting(n);
                    if n >= 2 && n == usize::from(buf[1]) + 3 {
                        *state = RxState::Idle;
                        let start = seizure_from.take().unwrap_or(*mark_from);
                        let result = parse_message(&buf[..n]).map(|(format, info)| CallerId {
                            standard: if *mark_hz < 1250 {
                                FskStandard::Bell202
                            } else {
                                FskStandard::V23
                            },
                            format,
                            info,
                            seizure: start != *mark_from,
                            start,
                            end: at + 4,
                        });
                        on_message(result);
                    }
                }
            }
            FskEvent::Framing { .. } => {
                if let RxState::Collecting(1..) = *state {
                    on_message(Err(CallerIdError::Framing));
                }
                *state = RxState::Idle;
            }
            FskEvent::CarrierDown { .. } => {
                if let RxState::Collecting(n @ 1..) = *state {
                    on_message(Err(CallerIdError::CarrierLost(n)));
                }
                *state = RxState::Idle;
            }
        });
    }
}

impl Default for CallerIdRx {
    fn default() -> Self {
        Self::new()
    }
}

/// Lead-in before the message, in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadIn {
    /// Alternating bits (channel seizure), starting with 0. 300 for on-hook caller ID; 0
    /// omits the seizure (ETSI without ringing, caller ID on call waiting).
    pub seizure_bits: u16,
    /// Mark bits before the first byte: 180 after a seizure (ETSI 180 ± 25, Telcordia 180),
    /// 80 without.
    pub mark_bits: u16,
    /// Mark bits after the checksum before the carrier stops.
    pub trailing_mark_bits: u16,
}

impl Default for LeadIn {
    fn default() -> Self {
        Self {
            seizure_bits: 300,
            mark_bits: 180,
            trailing_mark_bits: 8,
        }
    }
}

/// Caller ID transmitter for the simulated exchange: seizure, mark, the message, trailing
/// mark, then silence.
#[derive(Debug, Clone)]
pub struct CallerIdTx {
    fsk: FskTx,
    lead_in: LeadIn,
    msg: Vec<u8, MESSAGE_MAX>,
    bit: usize,
}

impl CallerIdTx {
    /// Prepare to send `info` as `format` on `standard` at `level_dbm0` per tone
    /// (-13 dBm0 is usual).
    ///
    /// # Errors
    /// Those of [`encode_message`], or [`CallerIdError::Fsk`] for a bad level.
    pub fn new(
        standard: FskStandard,
        level_dbm0: i32,
        lead_in: LeadIn,
        format: MessageFormat,
        info: &CallerInfo,
    ) -> Result<Self, CallerIdError> {
        Self::from_message(
            standard,
            level_dbm0,
            lead_in,
            &encode_message(format, info)?,
        )
    }

    /// Send raw message bytes as given (checksum included), e.g. to test a receiver with a
    /// deliberately bad message.
    ///
    /// # Errors
    /// [`CallerIdError::TooLong`] past [`MESSAGE_MAX`] bytes, [`CallerIdError::Fsk`] for a
    /// bad level.
    pub fn from_message(
        standard: FskStandard,
        level_dbm0: i32,
        lead_in: LeadIn,
        msg: &[u8],
    ) -> Result<Self, CallerIdError> {
        Ok(Self {
            fsk: FskTx::new(standard, level_dbm0)?,
            lead_in,
            msg: Vec::from_slice(msg).map_err(|_| CallerIdError::TooLong(0))?,
            bit: 0,
        })
    }

    /// Total samples the whole transmission takes.
    pub fn total_samples(&self) -> usize {
        (self.total_bits() * 20).div_ceil(3)
    }

    fn total_bits(&self) -> usize {
        usize::from(self.lead_in.seizure_bits)
            + usize::from(self.lead_in.mark_bits)
            + 10 * self.msg.len()
            + usize::from(self.lead_in.trailing_mark_bits)
    }

    /// Whether everything has been sent.
    pub fn is_done(&self) -> bool {
        self.bit >= self.total_bits()
    }

    /// Fill `out` with the signal; returns how many samples were written (fewer than
    /// `out.len()` only at the end, 0 once done).
    pub fn fill(&mut self, out: &mut [i16]) -> usize {
        let Self {
            fsk,
            lead_in,
            msg,
            bit,
        } = self;
        fsk.modulate(out, || {
            let b = bit_at(lead_in, msg, *bit);
            if b.is_some() {
                *bit += 1;
            }
            b
        })
    }
}

/// Bit `i` of the whole transmission, `None` past its end.
fn bit_at(lead_in: &LeadIn, msg: &[u8], i: usize) -> Option<bool> {
    let seizure = usize::from(lead_in.seizure_bits);
    let mark = usize::from(lead_in.mark_bits);
    if i < seizure {
        return Some(i % 2 == 1);
    }
    let i = i - seizure;
    if i < mark {
        return Some(true);
    }
    let i = i - mark;
    if let Some(&byte) = msg.get(i / 10) {
        return Some(match i % 10 {
            0 => false,
            9 => true,
            k => (byte >> (k - 1)) & 1 == 1,
        });
    }
    let i = i - 10 * msg.len();
    (i < usize::from(lead_in.trailing_mark_bits)).then_some(true)
}
