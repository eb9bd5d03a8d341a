//! Call detail records.
//!
//! A [`Cdr`] describes one call on one channel, from seizure to release. Its JSON form is
//! the on-disk format: field names and [`DisconnectCause`] strings are stable and must
//! never be renamed (add new ones instead). Readers ignore unknown fields and default
//! missing optional ones, so newer firmware can add fields without a schema bump.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::StoreError;

/// Unique, monotonically increasing call identifier, shown as `c-000000000042`.
///
/// Allocated by [`Store::next_call_id`](crate::Store::next_call_id); ids are never reused,
/// even after a crash (they may skip numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(u64);

impl CallId {
    /// The call id with number `n`.
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

    /// The number inside the id.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c-{:012}", self.0)
    }
}

impl FromStr for CallId {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || StoreError::InvalidCallId { text: s.to_owned() };
        let digits = s.strip_prefix("c-").ok_or_else(bad)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        digits.parse::<u64>().map(CallId).map_err(|_| bad())
    }
}

impl Serialize for CallId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CallId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Which side placed the call.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The line rang and the appliance answered.
    Inbound,
    /// The appliance seized the line and dialled.
    Outbound,
    /// A direction written by newer firmware (e.g. a SIP leg) that this build does not know;
    /// the rest of the record still reads.
    #[serde(other)]
    Unrecognised,
}

/// Why a call ended. Serialised as the stable snake_case string of [`DisconnectCause::as_str`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisconnectCause {
    /// The far end hung up and the exchange/PBX played busy tone on the line (the usual
    /// disconnect signal on Chinese analogue trunks).
    FarEndBusyTone,
    /// The exchange reversed line polarity to signal far-end clear.
    PolarityReversal,
    /// Loop current dropped (CPC / open-loop disconnect).
    LoopCurrentDrop,
    /// The appliance hung up (flow finished or transferred).
    LocalHangup,
    /// Outbound: the called party did not answer in time.
    NoAnswer,
    /// Outbound: the called party was busy.
    Busy,
    /// Outbound: congestion / reorder tone or all trunks busy.
    Congestion,
    /// Inbound: the caller hung up while the line was still ringing.
    CallerAbandoned,
    /// Outbound: no dial tone on seizure.
    NoDialTone,
    /// Outbound seizure collided with an incoming ring.
    Glare,
    /// The line or span went into alarm during the call.
    Alarm,
    /// An internal error ended the call.
    Error,
    /// The appliance shut down or restarted during the call.
    Shutdown,
    /// A cause written by newer firmware that this build does not know.
    #[serde(other)]
    Unrecognised,
}

impl DisconnectCause {
    /// Every cause this build knows, in declaration order.
    pub const ALL: [DisconnectCause; 14] = [
        DisconnectCause::FarEndBusyTone,
        DisconnectCause::PolarityReversal,
        DisconnectCause::LoopCurrentDrop,
        DisconnectCause::LocalHangup,
        DisconnectCause::NoAnswer,
        DisconnectCause::Busy,
        DisconnectCause::Congestion,
        DisconnectCause::CallerAbandoned,
        DisconnectCause::NoDialTone,
        DisconnectCause::Glare,
        DisconnectCause::Alarm,
        DisconnectCause::Error,
        DisconnectCause::Shutdown,
        DisconnectCause::Unrecognised,
    ];

    /// The stable string stored on disk and shown in reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            DisconnectCause::FarEndBusyTone => "far_end_busy_tone",
            DisconnectCause::PolarityReversal => "polarity_reversal",
            DisconnectCause::LoopCurrentDrop => "loop_current_drop",
            DisconnectCause::LocalHangup => "local_hangup",
            DisconnectCause::NoAnswer => "no_answer",
            DisconnectCause::Busy => "busy",
            DisconnectCause::Congestion => "congestion",
            DisconnectCause::CallerAbandoned => "caller_abandoned",
            DisconnectCause::NoDialTone => "no_dial_tone",
            DisconnectCause::Glare => "glare",
            DisconnectCause::Alarm => "alarm",
            DisconnectCause::Error => "error",
            DisconnectCause::Shutdown => "shutdown",
            DisconnectCause::Unrecognised => "unrecognised",
        }
    }
}

impl fmt::Display for DisconnectCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a call's event log.
///
/// A struct rather than a tuple so that fields can be added without breaking old records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdrEvent {
    /// Milliseconds since the call's `start_ms`.
    pub offset_ms: u64,
    /// What happened, free-form (e.g. `dtmf 5`, `prompt welcome.wav`).
    pub what: String,
}

/// A call detail record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cdr {
    /// Unique call id.
    pub id: CallId,
    /// Channel (port / timeslot) number the call used.
    pub channel: u32,
    /// Inbound or outbound.
    pub direction: Direction,
    /// Calling number from caller ID, if any was received.
    #[serde(default)]
    pub caller: Option<String>,
    /// Called number or extension, if known.
    #[serde(default)]
    pub called: Option<String>,
    /// Seizure or first ring, wall-clock ms since the Unix epoch.
    pub start_ms: i64,
    /// Answer, wall-clock ms since the Unix epoch; `None` if never answered.
    #[serde(default)]
    pub answer_ms: Option<i64>,
    /// Release, wall-clock ms since the Unix epoch. Not checked against `start_ms`: a
    /// wall-clock step must not cost a record.
    pub end_ms: i64,
    /// Why the call ended.
    pub cause: DisconnectCause,
    /// DTMF digits collected during the call, in order.
    #[serde(default)]
    pub digits: String,
    /// Free-form event log.
    #[serde(default)]
    pub events: Vec<CdrEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_id_formats_with_twelve_digits_and_parses_back() {
        let id = CallId::new(42);
        assert_eq!(id.to_string(), "c-000000000042");
        assert_eq!("c-000000000042".parse::<CallId>().unwrap(), id);
        let big = CallId::new(u64::MAX);
        assert_eq!(big.to_string().parse::<CallId>().unwrap(), big);
    }

    #[test]
    fn call_id_rejects_malformed_text() {
        for bad in [
            "",
            "c-",
            "42",
            "c-4x",
            "c--1",
            "C-000000000042",
            "c-+1",
            "c-99999999999999999999999",
        ] {
            assert!(
                matches!(bad.parse::<CallId>(), Err(StoreError::InvalidCallId { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn disconnect_causes_serialise_as_stable_strings() {
        // The on-disk names: changing any of these breaks stored records.
        let expected = [
            "far_end_busy_tone",
            "polarity_reversal",
            "loop_current_drop",
            "local_hangup",
            "no_answer",
            "busy",
            "congestion",
            "caller_abandoned",
            "no_dial_tone",
            "glare",
            "alarm",
            "error",
            "shutdown",
            "unrecognised",
        ];
        for (cause, name) in DisconnectCause::ALL.iter().zip(expected) {
            assert_eq!(cause.as_str(), name);
            assert_eq!(serde_json::to_string(cause).unwrap(), format!("\"{name}\""));
            let back: DisconnectCause = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert_eq!(back, *cause);
        }
    }

    #[test]
    fn unknown_direction_from_newer_firmware_reads_as_unrecognised() {
        let d: Direction = serde_json::from_str("\"sip_trunk\"").unwrap();
        assert_eq!(d, Direction::Unrecognised);
        assert_eq!(
            serde_json::to_string(&Direction::Outbound).unwrap(),
            "\"outbound\""
        );
    }

    #[test]
    fn unknown_cause_from_newer_firmware_reads_as_unrecognised() {
        let c: DisconnectCause = serde_json::from_str("\"q850_cause_31\"").unwrap();
        assert_eq!(c, DisconnectCause::Unrecognised);
    }

    #[test]
    fn cdr_json_ignores_unknown_fields_and_defaults_missing_optionals() {
        let json = r#"{"id":"c-000000000007","channel":3,"direction":"outbound",
            "start_ms":1000,"end_ms":2000,"cause":"busy","added_in_v9":{"x":1}}"#;
        let cdr: Cdr = serde_json::from_str(json).unwrap();
        assert_eq!(cdr.id, CallId::new(7));
        assert_eq!(cdr.direction, Direction::Outbound);
        assert_eq!(cdr.caller, None);
        assert_eq!(cdr.called, None);
        assert_eq!(cdr.answer_ms, None);
        assert_eq!(cdr.digits, "");
        assert!(cdr.events.is_empty());
    }
}
