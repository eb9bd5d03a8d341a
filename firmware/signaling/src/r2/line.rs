//! MFC/R2 line signalling on an E1 CAS timeslot (ITU-T Q.421, China variant as openr2's CN
//! profile uses it): the A and B bits of each direction carry the line state, C and D are
//! fixed at 1. We see the peer's bits in `rx` and set ours in `tx`.
//!
//! | state | forward (caller) AB | backward (called) AB | ABCD as seen on DAHDI |
//! |---|---|---|---|
//! | idle | 10 | 10 | 1011 |
//! | seized | 00 | 10 | 0011 |
//! | seize acknowledged | 00 | 11 | 1111 (backward) |
//! | answered | 00 | 01 | 0111 (backward) |
//! | clear back (called hung up) | 00 | 11 | 1111 (backward) |
//! | clear forward (caller hung up) | 10 | 01 or 11 | 1011 (forward) |
//! | blocked | 10 | 11 | 1111 (backward, while idle) |
//!
//! One machine per timeslot and per call direction; bits in, bits out and events, time
//! injected (the persistence check filters bit glitches).

/// ABCD nibbles (A is bit 3).
pub mod abcd {
    /// Idle (both directions).
    pub const IDLE: u8 = 0b1011;
    /// Forward: seize.
    pub const SEIZE: u8 = 0b0011;
    /// Backward: seize acknowledge (also clear back and blocked).
    pub const SEIZE_ACK: u8 = 0b1111;
    /// Backward: answer.
    pub const ANSWER: u8 = 0b0111;
    /// Backward: clear back.
    pub const CLEAR_BACK: u8 = 0b1111;
    /// Forward: clear forward.
    pub const CLEAR_FORWARD: u8 = 0b1011;
    /// Backward: blocked.
    pub const BLOCKED: u8 = 0b1111;
}

/// How long new bits must persist before they count, ms (Q.421: 20 ms recognition).
pub const PERSISTENCE_MS: u64 = 20;

/// Line states of one timeslot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineState {
    /// Both sides idle.
    Idle,
    /// The peer blocked the timeslot (backward 11 while idle).
    Blocked,
    /// Incoming: the peer seized; we acknowledged.
    InSeized,
    /// Incoming: we answered.
    InAnswered,
    /// Outgoing: we seized, waiting for the acknowledgement.
    OutSeizing,
    /// Outgoing: acknowledged; register signalling runs.
    OutSeized,
    /// Outgoing: the called party answered.
    OutAnswered,
    /// Clearing: waiting for the peer's idle.
    Clearing,
}

/// What happened on the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEvent {
    /// Incoming seizure (acknowledged already): start register signalling (backward side).
    Seized,
    /// Our seizure was acknowledged: start register signalling (forward side).
    SeizeAcknowledged,
    /// The called party answered our call.
    Answered,
    /// The peer cleared (clear forward on incoming calls, clear back on outgoing ones).
    PeerCleared,
    /// The timeslot is idle again (release guard done).
    Idle,
    /// The peer blocked or unblocked the timeslot.
    Blocked(bool),
    /// The peer did not acknowledge our seizure in time.
    SeizeTimeout,
}

/// One CAS timeslot.
#[derive(Debug, Clone)]
pub struct R2Line {
    state: LineState,
    tx: u8,
    /// Bits being confirmed and since when.
    candidate: Option<(u8, u64)>,
    rx: u8,
    seize_deadline: Option<u64>,
    seize_timeout_ms: u64,
    events: Vec<LineEvent>,
}

impl Default for R2Line {
    fn default() -> Self {
        Self::new(8_000)
    }
}

impl R2Line {
    /// An idle line; an outgoing seizure not acknowledged within `seize_timeout_ms` fails.
    pub fn new(seize_timeout_ms: u64) -> Self {
        Self {
            state: LineState::Idle,
            tx: abcd::IDLE,
            candidate: None,
            rx: abcd::IDLE,
            seize_deadline: None,
            seize_timeout_ms,
            events: Vec::new(),
        }
    }

    /// Our bits (for `DAHDI_SETTXBITS`).
    pub fn tx(&self) -> u8 {
        self.tx
    }

    /// Current state.
    pub fn state(&self) -> LineState {
        self.state
    }

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<LineEvent> {
        std::mem::take(&mut self.events)
    }

    /// Seize the line for an outgoing call.
    ///
    /// # Errors
    /// The line is not idle (`Err(state)`).
    pub fn seize(&mut self, now: u64) -> Result<(), LineState> {
        if self.state != LineState::Idle {
            return Err(self.state);
        }
        self.state = LineState::OutSeizing;
        self.tx = abcd::SEIZE;
        self.seize_deadline = Some(now + self.seize_timeout_ms);
        Ok(())
    }

    /// Answer an incoming call (after register signalling accepted it).
    ///
    /// # Errors
    /// No incoming call is seized (`Err(state)`).
    pub fn answer(&mut self) -> Result<(), LineState> {
        if self.state != LineState::InSeized {
            return Err(self.state);
        }
        self.state = LineState::InAnswered;
        self.tx = abcd::ANSWER;
        Ok(())
    }

    /// Hang up our side: clear back on incoming calls, clear forward on outgoing ones.
    pub fn hangup(&mut self) {
        match self.state {
            LineState::InSeized | LineState::InAnswered => {
                self.tx = abcd::CLEAR_BACK;
                self.state = LineState::Clearing;
            }
            LineState::OutSeizing | LineState::OutSeized | LineState::OutAnswered => {
                self.tx = abcd::CLEAR_FORWARD;
                self.seize_deadline = None;
                self.state = LineState::Clearing;
            }
            _ => {}
        }
    }

    /// The received ABCD bits now (from `DAHDI_GETRXBITS` or a bits-changed event). Bits
    /// count once they have held for [`PERSISTENCE_MS`]; call [`R2Line::tick`] meanwhile.
    pub fn rx_bits(&mut self, now: u64, bits: u8) {
        let bits = bits & 0x0f;
        if bits == self.rx {
            self.candidate = None;
        } else if self.candidate.map(|c| c.0) != Some(bits) {
            self.candidate = Some((bits, now));
        }
        self.tick(now);
    }

    /// Run the persistence check and the seizure timer.
    pub fn tick(&mut self, now: u64) {
        if let Some((bits, since)) = self.candidate {
            if now >= since + PERSISTENCE_MS {
                self.candidate = None;
                self.rx = bits;
                self.changed(bits);
            }
        }
        if self.seize_deadline.is_some_and(|d| now >= d) {
            self.seize_deadline = None;
            self.tx = abcd::CLEAR_FORWARD;
            self.state = LineState::Clearing;
            self.events.push(LineEvent::SeizeTimeout);
        }
    }

    fn changed(&mut self, bits: u8) {
        use LineState as S;
        match (self.state, bits) {
            (S::Idle, abcd::SEIZE) => {
                // Acknowledge at once (Q.421: within 100 ms).
                self.tx = abcd::SEIZE_ACK;
                self.state = S::InSeized;
                self.events.push(LineEvent::Seized);
            }
            (S::Idle, abcd::BLOCKED) => {
                self.state = S::Blocked;
                self.events.push(LineEvent::Blocked(true));
            }
            (S::Blocked, abcd::IDLE) => {
                self.state = S::Idle;
                self.events.push(LineEvent::Blocked(false));
            }
            (S::InSeized | S::InAnswered, abcd::CLEAR_FORWARD) => {
                // The caller hung up: release guard (back to idle).
                self.events.push(LineEvent::PeerCleared);
                self.tx = abcd::IDLE;
                self.state = S::Idle;
                self.events.push(LineEvent::Idle);
            }
            (S::OutSeizing, abcd::SEIZE_ACK) => {
                self.seize_deadline = None;
                self.state = S::OutSeized;
                self.events.push(LineEvent::SeizeAcknowledged);
            }
            (S::OutSeized, abcd::ANSWER) => {
                self.state = S::OutAnswered;
                self.events.push(LineEvent::Answered);
            }
            (S::OutAnswered, abcd::CLEAR_BACK) => {
                // The called party hung up: we clear forward.
                self.events.push(LineEvent::PeerCleared);
                self.tx = abcd::CLEAR_FORWARD;
                self.state = S::Clearing;
            }
            (S::Clearing, abcd::IDLE) => {
                // Outgoing: the backward side's release guard; incoming: the caller's clear
                // forward answered our clear back.
                self.tx = abcd::IDLE;
                self.state = S::Idle;
                self.events.push(LineEvent::Idle);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed bits and let them persist.
    fn rx(l: &mut R2Line, now: &mut u64, bits: u8) -> Vec<LineEvent> {
        l.rx_bits(*now, bits);
        *now += PERSISTENCE_MS;
        l.tick(*now);
        l.take_events()
    }

    #[test]
    fn incoming_call_seize_answer_clear_forward() {
        let mut l = R2Line::default();
        let mut t = 0;
        assert_eq!(l.tx(), abcd::IDLE);
        assert_eq!(rx(&mut l, &mut t, abcd::SEIZE), [LineEvent::Seized]);
        assert_eq!(l.tx(), abcd::SEIZE_ACK);
        l.answer().unwrap();
        assert_eq!(l.tx(), abcd::ANSWER);
        assert_eq!(
            rx(&mut l, &mut t, abcd::CLEAR_FORWARD),
            [LineEvent::PeerCleared, LineEvent::Idle]
        );
        assert_eq!(l.tx(), abcd::IDLE);
    }

    #[test]
    fn incoming_call_we_clear_back() {
        let mut l = R2Line::default();
        let mut t = 0;
        rx(&mut l, &mut t, abcd::SEIZE);
        l.answer().unwrap();
        l.hangup();
        assert_eq!(l.tx(), abcd::CLEAR_BACK);
        assert_eq!(rx(&mut l, &mut t, abcd::CLEAR_FORWARD), [LineEvent::Idle]);
        assert_eq!(l.state(), LineState::Idle);
    }

    #[test]
    fn outgoing_call_and_clear_back() {
        let mut l = R2Line::default();
        let mut t = 0;
        l.seize(t).unwrap();
        assert_eq!(l.tx(), abcd::SEIZE);
        assert_eq!(
            rx(&mut l, &mut t, abcd::SEIZE_ACK),
            [LineEvent::SeizeAcknowledged]
        );
        assert_eq!(rx(&mut l, &mut t, abcd::ANSWER), [LineEvent::Answered]);
        assert_eq!(
            rx(&mut l, &mut t, abcd::CLEAR_BACK),
            [LineEvent::PeerCleared]
        );
        assert_eq!(l.tx(), abcd::CLEAR_FORWARD);
        assert_eq!(rx(&mut l, &mut t, abcd::IDLE), [LineEvent::Idle]);
    }

    #[test]
    fn glitches_shorter_than_persistence_are_ignored() {
        let mut l = R2Line::default();
        l.rx_bits(0, abcd::SEIZE);
        l.rx_bits(10, abcd::IDLE);
        l.tick(100);
        assert!(l.take_events().is_empty());
        assert_eq!(l.state(), LineState::Idle);
    }

    #[test]
    fn unacknowledged_seizure_times_out_and_blocking_is_reported() {
        let mut l = R2Line::new(1000);
        l.seize(0).unwrap();
        assert_eq!(l.seize(0), Err(LineState::OutSeizing));
        l.tick(999);
        assert!(l.take_events().is_empty());
        l.tick(1000);
        assert_eq!(l.take_events(), [LineEvent::SeizeTimeout]);
        assert_eq!(l.tx(), abcd::CLEAR_FORWARD);
        let mut t = 1000;
        assert_eq!(
            rx(&mut l, &mut t, abcd::BLOCKED),
            [],
            "clearing: not a block"
        );
        assert_eq!(rx(&mut l, &mut t, abcd::IDLE), [LineEvent::Idle]);
        assert_eq!(
            rx(&mut l, &mut t, abcd::BLOCKED),
            [LineEvent::Blocked(true)]
        );
        assert_eq!(l.seize(t), Err(LineState::Blocked));
        assert_eq!(rx(&mut l, &mut t, abcd::IDLE), [LineEvent::Blocked(false)]);
    }
}
