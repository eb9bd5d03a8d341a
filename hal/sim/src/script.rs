//! What the simulated far end does: a caller's script, or a callee's behaviour.

use std::sync::Arc;

/// How the exchange sends caller ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CidFormat {
    /// FSK, ITU-T V.23 (ETSI / China), between the first and second ring.
    FskV23,
    /// FSK, Bell 202, between the first and second ring.
    FskBell202,
    /// DTMF digits before the first ring, as most Chinese exchanges send it.
    Dtmf,
}

/// Caller identity presented with an inbound call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerId {
    /// How it is sent.
    pub format: CidFormat,
    /// Calling number, or `None` with [`CallerId::absence`] set.
    pub number: Option<String>,
    /// Calling name (FSK MDMF only).
    pub name: Option<String>,
    /// Date and time as `MMDDHHMM` (FSK only).
    pub datetime: Option<String>,
    /// Reason the number is absent: `'O'` unavailable, `'P'` private.
    pub absence: Option<char>,
}

impl CallerId {
    /// A number sent with `format`, no name, no date.
    pub fn number(format: CidFormat, number: &str) -> Self {
        Self {
            format,
            number: Some(number.to_owned()),
            name: None,
            datetime: None,
            absence: None,
        }
    }
}

/// One step of a far-end script, run after the call is connected.
#[derive(Debug, Clone)]
pub enum Step {
    /// Stay silent for this many milliseconds.
    Wait(u32),
    /// Play these 8 kHz samples and wait until they end.
    Play(Arc<[i16]>),
    /// Send DTMF digits (70 ms on, 70 ms off, -10 dBm0 per tone) and wait until sent.
    Digits(String),
    /// Listen to the box: wait until it has sent sound and then been quiet for `quiet_ms`
    /// (the end of its prompt or reply), or until `max_ms` passed since the step began.
    /// A scripted caller uses this to answer when the box has finished talking, whatever
    /// the box's processing time.
    AwaitReply {
        /// Silence after sound that counts as the end of the box's turn.
        quiet_ms: u32,
        /// Give up waiting after this long.
        max_ms: u32,
    },
    /// Hang up.
    HangUp,
}

/// A caller: what the far end of an inbound call does.
#[derive(Debug, Clone, Default)]
pub struct CallScript {
    /// Caller ID presented before answer.
    pub caller_id: Option<CallerId>,
    /// Steps after the box answers, in order. If they run out, the caller stays silent.
    pub steps: Vec<Step>,
    /// The caller gives up after this many rings if not answered.
    pub abandon_after_rings: Option<u32>,
    /// The caller hangs up this many milliseconds after answer, whatever step it is on.
    pub hang_up_after_ms: Option<u32>,
}

impl CallScript {
    /// An empty script: rings forever, silent after answer.
    pub fn new() -> Self {
        Self::default()
    }
    /// Present caller ID.
    pub fn caller_id(mut self, cid: CallerId) -> Self {
        self.caller_id = Some(cid);
        self
    }
    /// Wait `ms` after the previous step.
    pub fn wait(mut self, ms: u32) -> Self {
        self.steps.push(Step::Wait(ms));
        self
    }
    /// Play audio.
    pub fn play(mut self, samples: impl Into<Arc<[i16]>>) -> Self {
        self.steps.push(Step::Play(samples.into()));
        self
    }
    /// Play an 8 kHz mono WAV file (16-bit PCM, A-law or µ-law).
    ///
    /// # Errors
    /// The file cannot be read, is not such a WAV, or is not 8 kHz mono.
    pub fn play_wav(self, path: &std::path::Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let w = yingda_dsp::wav::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        if w.rate != 8000 || w.channels != 1 {
            return Err(format!(
                "{}: {} Hz, {} channel(s); the line needs 8000 Hz mono",
                path.display(),
                w.rate,
                w.channels
            ));
        }
        Ok(self.play(w.samples))
    }

    /// Send DTMF digits.
    pub fn digits(mut self, digits: &str) -> Self {
        self.steps.push(Step::Digits(digits.to_owned()));
        self
    }
    /// Wait for the box to talk and then fall quiet for `quiet_ms` (at most `max_ms`).
    pub fn await_reply(mut self, quiet_ms: u32, max_ms: u32) -> Self {
        self.steps.push(Step::AwaitReply { quiet_ms, max_ms });
        self
    }
    /// Hang up.
    pub fn hang_up(mut self) -> Self {
        self.steps.push(Step::HangUp);
        self
    }
    /// Hang up at `ms` after answer whatever happens.
    pub fn hang_up_after(mut self, ms: u32) -> Self {
        self.hang_up_after_ms = Some(ms);
        self
    }
    /// Give up after `rings` unanswered rings.
    pub fn abandon_after_rings(mut self, rings: u32) -> Self {
        self.abandon_after_rings = Some(rings);
        self
    }
}

/// A number the box can dial (outbound call or transfer target).
#[derive(Debug, Clone)]
pub enum Callee {
    /// Ringback for `after_ms`, then answer (with a polarity reversal if `polarity`) and run
    /// `steps`.
    Answer {
        /// Ringback time before answer.
        after_ms: u32,
        /// Reverse polarity on answer (answer supervision).
        polarity: bool,
        /// What the callee does once connected.
        steps: Vec<Step>,
    },
    /// Busy tone.
    Busy,
    /// Congestion tone.
    Congestion,
    /// Ringback forever.
    NoAnswer,
}
