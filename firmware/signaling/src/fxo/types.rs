//! What goes into and comes out of the FXO machine.
//!
//! Inputs are the daemon's translation of HAL line events and DSP detector results; this
//! crate deliberately does not depend on the DSP crate. Outputs are [`Action`]s: things the
//! daemon must do to the line or the detectors, and [`Report`]s for the call-flow engine.

use core::fmt;

use yingda_hal::{HookCommand, LineEvent};

/// Longest dial string (number or extension) the machine accepts.
pub const MAX_DIGITS: usize = 32;
/// Longest caller number kept (MDMF allows 20 characters; longer input is truncated).
pub const MAX_CID_NUMBER: usize = 20;
/// Longest caller name kept, in bytes of UTF-8 (longer input is truncated on a char boundary).
pub const MAX_CID_NAME: usize = 48;
/// Capacity of one [`Actions`] list; the machine never produces more in one call.
pub const MAX_ACTIONS: usize = 32;

/// A dial string: `0`-`9`, `*`, `#`, `A`-`D`, and `,` for a one-second pause.
pub type Digits = heapless::String<MAX_DIGITS>;

/// Actions produced by one call into the machine, in the order they must be carried out.
pub type Actions = heapless::Vec<Action, MAX_ACTIONS>;

/// Call-progress detector result, as translated by the daemon from the DSP blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Progress {
    /// Continuous dial tone (China: 450 Hz continuous).
    DialTone,
    /// Busy tone; `cycles` on/off cadences heard so far in this burst (China: 0.35 s / 0.35 s).
    Busy {
        /// Complete cadence cycles counted by the detector.
        cycles: u8,
    },
    /// Congestion / reorder tone; `cycles` cadences heard so far (China: 0.7 s / 0.7 s).
    Congestion {
        /// Complete cadence cycles counted by the detector.
        cycles: u8,
    },
    /// Ringback tone (China: 1 s / 4 s): the callee is being rung.
    Ringback,
    /// Speech or other non-tone audio.
    Voice,
    /// Neither tone nor speech for longer than the longest cadence gap (the daemon decides,
    /// e.g. 5 s for China's 4 s ringback gap). After ringback it means "ringback ended".
    Silence,
}

/// Why caller ID has no number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Absence {
    /// The caller withheld the number (MDMF `P`).
    Private,
    /// The network does not know the number (MDMF `O`, international, payphone).
    Unavailable,
}

/// Caller ID as decoded by the daemon's FSK or DTMF caller-ID receiver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CallerId {
    /// Calling number, when sent.
    pub number: Option<heapless::String<MAX_CID_NUMBER>>,
    /// Calling name, when sent.
    pub name: Option<heapless::String<MAX_CID_NAME>>,
    /// Why the number is missing, when the exchange said so.
    pub absence: Option<Absence>,
}

fn truncated<const N: usize>(s: &str) -> heapless::String<N> {
    let mut out = heapless::String::new();
    for c in s.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    out
}

impl CallerId {
    /// Caller ID with a number; a number longer than [`MAX_CID_NUMBER`] is truncated.
    pub fn with_number(number: &str) -> Self {
        Self {
            number: Some(truncated(number)),
            ..Self::default()
        }
    }

    /// Add a name; a name longer than [`MAX_CID_NAME`] bytes is truncated.
    #[must_use]
    pub fn and_name(mut self, name: &str) -> Self {
        self.name = Some(truncated(name));
        self
    }

    /// Caller ID that says why there is no number.
    pub fn absent(absence: Absence) -> Self {
        Self {
            absence: Some(absence),
            ..Self::default()
        }
    }
}

/// One input to the machine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Input {
    /// An event from the HAL channel.
    Line(LineEvent),
    /// A call-progress detector result.
    Progress(Progress),
    /// The caller-ID receiver decoded a complete message.
    CallerId(CallerId),
    /// The digits of the last [`Action::SendDigits`] have all been sent.
    DigitsSent,
}

impl From<LineEvent> for Input {
    fn from(e: LineEvent) -> Self {
        Self::Line(e)
    }
}

impl From<Progress> for Input {
    fn from(p: Progress) -> Self {
        Self::Progress(p)
    }
}

impl From<CallerId> for Input {
    fn from(c: CallerId) -> Self {
        Self::CallerId(c)
    }
}

/// Which caller-ID receiver the daemon must run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CidReceiver {
    /// FSK demodulator with V.23 tones.
    FskV23,
    /// FSK demodulator with Bell 202 tones.
    FskBell,
    /// DTMF caller-ID decoder.
    Dtmf,
}

/// Why a call ended or an outbound call or transfer failed. Names are stable: logs, call
/// records and flows match on [`Cause::as_str`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// Busy tone heard in a connected call for `busycount` cycles (far end hung up).
    BusyTone,
    /// Congestion tone heard (in a call: far end gone; dialling: network congested).
    Congestion,
    /// Polarity reversal in a connected call (`hanguponpolarityswitch`).
    PolarityReversal,
    /// Loop current dropped (kewl-start disconnect supervision).
    LoopCurrentDrop,
    /// The application hung up.
    LocalHangup,
    /// The caller stopped ringing before the call was answered.
    Abandoned,
    /// The callee did not answer in time.
    NoAnswer,
    /// The callee is busy.
    Busy,
    /// No dial tone after going off hook.
    NoDialTone,
    /// An incoming call seized the line while an outbound call was being set up.
    Glare,
    /// The line or span went into alarm.
    Alarm,
    /// The application cancelled an outbound call before it was answered.
    Cancelled,
    /// The daemon did not confirm the digits as sent in time.
    DigitsTimeout,
}

impl Cause {
    /// Stable snake_case name for logs, call records and flows.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BusyTone => "busy_tone",
            Self::Congestion => "congestion",
            Self::PolarityReversal => "polarity_reversal",
            Self::LoopCurrentDrop => "loop_current_drop",
            Self::LocalHangup => "local_hangup",
            Self::Abandoned => "abandoned",
            Self::NoAnswer => "no_answer",
            Self::Busy => "busy",
            Self::NoDialTone => "no_dial_tone",
            Self::Glare => "glare",
            Self::Alarm => "alarm",
            Self::Cancelled => "cancelled",
            Self::DigitsTimeout => "digits_timeout",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something the call-flow engine needs to know.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Report {
    /// An incoming call rings; `count` is the ring number (1-based). The first one starts
    /// an inbound call, which ends with [`Report::Answered`] or [`Report::Disconnected`].
    Ringing {
        /// Ring number, 1-based.
        count: u8,
    },
    /// The incoming call is being answered; caller ID if any was received.
    Incoming {
        /// Caller ID received before or between rings, if any.
        caller_id: Option<CallerId>,
    },
    /// The incoming call is connected.
    Answered,
    /// The call ended (or an unanswered incoming call was abandoned). The line is on hook.
    Disconnected {
        /// Why.
        cause: Cause,
    },
    /// The outbound call was answered and is connected.
    OutboundConnected,
    /// The outbound call failed before being answered. The line is on hook, except with
    /// [`Cause::Glare`], where an incoming call took the line (reported next).
    OutboundFailed {
        /// Why.
        reason: Cause,
    },
    /// The call was handed to the extension and the line hung up; the call is over.
    TransferCompleted,
    /// The transfer failed and the caller was retrieved; the call continues.
    TransferFailed {
        /// Why.
        reason: Cause,
    },
    /// The line is in alarm; requests are refused until it clears.
    OutOfService,
    /// The alarm cleared; the line is idle again.
    InService,
}

/// Something the daemon must do, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// Change the hook state ([`yingda_hal::Channel::set_hook`]).
    SetHook(HookCommand),
    /// Send these digits as DTMF, then feed [`Input::DigitsSent`].
    SendDigits(Digits),
    /// Start the given caller-ID receiver on the line's audio (stop any other one).
    StartCidReceiver(CidReceiver),
    /// Stop the caller-ID receiver.
    StopCidReceiver,
    /// Start the call-progress detector (dial, busy, congestion, ringback tone, voice).
    StartProgressDetection,
    /// Stop the call-progress detector.
    StopProgressDetection,
    /// Tell the call-flow engine.
    Report(Report),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_caller_id_is_truncated_not_rejected() {
        let cid = CallerId::with_number("0123456789012345678901234").and_name(&"张".repeat(30));
        assert_eq!(cid.number.as_deref(), Some("01234567890123456789"));
        // 16 three-byte characters fit in 48 bytes.
        assert_eq!(cid.name.as_ref().map(|n| n.chars().count()), Some(16));
    }

    #[test]
    fn cause_names_are_stable() {
        assert_eq!(Cause::BusyTone.to_string(), "busy_tone");
        assert_eq!(Cause::LoopCurrentDrop.as_str(), "loop_current_drop");
        assert_eq!(Cause::NoDialTone.as_str(), "no_dial_tone");
    }
}
