//! The real-time side: one [`LineEngine`] per channel, ticked every 20 ms by its span's thread.
//!
//! What crosses to the control plane is an [`Event`]; what comes back is a [`Command`]. Both
//! are small and move through bounded queues, so the real-time thread never waits.

mod line;
pub mod player;

use std::sync::Arc;

pub use line::{LineEngine, LineSettings};
use yingda_store::DisconnectCause;

/// Caller identity as received on the line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallerInfo {
    /// Calling number, if presented.
    pub number: Option<String>,
    /// Calling name (FSK MDMF only).
    pub name: Option<String>,
    /// Why the number is absent (`"private"`, `"unavailable"`), if it is.
    pub absence: Option<&'static str>,
    /// How it arrived: `dtmf`, `v23`, `bell202`.
    pub format: Option<&'static str>,
}

impl CallerInfo {
    /// The caller ID as the line signalling machine takes it.
    pub fn to_line(&self) -> yingda_signaling::fxo::CallerId {
        use yingda_signaling::fxo::{Absence, CallerId};
        let id = match &self.number {
            Some(n) => CallerId::with_number(n),
            None if self.absence == Some("private") => CallerId::absent(Absence::Private),
            None => CallerId::absent(Absence::Unavailable),
        };
        match &self.name {
            Some(n) => id.and_name(n),
            None => id,
        }
    }
}

/// Something a line reports to the control plane.
#[derive(Debug, Clone, PartialEq)]
// `Audio` is inline on purpose: boxing it would allocate on the real-time thread every 20 ms.
#[allow(clippy::large_enum_variant)]
pub enum EventKind {
    /// Ringing began: a new inbound call.
    Ringing,
    /// Caller ID arrived (before the first ring for DTMF, between rings for FSK).
    CallerId(CallerInfo),
    /// The line went off hook for the call: connected.
    Answered,
    /// The caller pressed a key.
    Digit(char),
    /// The prompt queue ran dry.
    PromptsDone,
    /// The flow timer fired.
    TimerFired,
    /// The call ended.
    Disconnected(DisconnectCause),
    /// The line went into or out of alarm.
    Alarm(bool),
    /// The caller was handed to the extension (the call ends next).
    Transferred,
    /// The transfer failed and the caller was taken back; the call goes on.
    TransferFailed(DisconnectCause),
    /// A dial or transfer request was refused (wrong state, bad number); why.
    Refused(String),
    /// One 20 ms frame of the caller's audio (8 kHz linear, after the echo canceller), sent
    /// while the control plane has the tap on ([`CommandKind::Tap`]) and the call is
    /// connected. Inline, so the real-time thread does not allocate for it.
    Audio([i16; yingda_hal::FRAME_SAMPLES]),
}

/// An event on a line, stamped with wall-clock time (for records) and line time.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Channel number.
    pub channel: u32,
    /// Wall-clock ms since the Unix epoch.
    pub wall_ms: i64,
    /// What happened.
    pub kind: EventKind,
}

/// What the control plane asks of a line.
#[derive(Debug, Clone)]
pub enum CommandKind {
    /// Queue prompt audio.
    Play {
        /// 8 kHz linear samples.
        samples: Arc<[i16]>,
        /// A key press stops it.
        barge_in: bool,
    },
    /// Drop all queued prompts.
    StopPrompts,
    /// (Re)start the flow timer.
    StartTimer(u32),
    /// Cancel the flow timer.
    CancelTimer,
    /// Hang up.
    HangUp,
    /// Place an outbound call to this number.
    Dial(String),
    /// Transfer the connected call to this extension (hook flash + dial).
    Transfer(String),
    /// Send the caller's audio to the control plane (speech recognition, recording) or stop.
    Tap(bool),
}

/// A command for one channel.
#[derive(Debug, Clone)]
pub struct Command {
    /// Channel number.
    pub channel: u32,
    /// What to do.
    pub kind: CommandKind,
}
