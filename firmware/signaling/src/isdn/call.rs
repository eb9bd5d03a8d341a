//! Q.931 basic call control, user (CPE) side of a EuroISDN E1 PRI: the call states
//! U0–U19, timers T303/T305/T308/T310/T313, STATUS ENQUIRY, RESTART, unknown call
//! references and channel collisions.
//!
//! Sans-IO: Q.931 messages in ([`Pri::receive`], the payload of [`super::lapd::LinkEvent::Data`])
//! and requests in ([`Pri::place_call`], [`Pri::proceed`], [`Pri::alert`], [`Pri::answer`],
//! [`Pri::hangup`]) with the current time; messages to send ([`Pri::take_messages`], for
//! [`super::lapd::Lapd::send`]) and call events ([`Pri::take_events`]) out; timers by
//! [`Pri::tick`].

use std::collections::BTreeMap;

use super::q931::{
    BearerCapability, CallRef, Cause, ChannelId, Ie, Message, MessageError, MessageType,
    PartyNumber,
};

/// Cause values used here (Q.850).
pub mod cause {
    /// Normal call clearing.
    pub const NORMAL_CLEARING: u8 = 16;
    /// User busy.
    pub const USER_BUSY: u8 = 17;
    /// No user responding.
    pub const NO_USER_RESPONDING: u8 = 18;
    /// No circuit/channel available.
    pub const NO_CIRCUIT: u8 = 34;
    /// Requested circuit/channel not available.
    pub const CHANNEL_UNAVAILABLE: u8 = 44;
    /// Invalid call reference value.
    pub const INVALID_CALL_REFERENCE: u8 = 81;
    /// Mandatory information element is missing.
    pub const MANDATORY_IE_MISSING: u8 = 96;
    /// Message not compatible with call state.
    pub const WRONG_STATE: u8 = 101;
    /// Recovery on timer expiry.
    pub const TIMER_EXPIRY: u8 = 102;
    /// Response to STATUS ENQUIRY.
    pub const STATUS_ENQUIRY_RESPONSE: u8 = 30;
}

/// Call states (Q.931 §2.1.1, user side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// U0.
    Null,
    /// U1: SETUP sent.
    CallInitiated,
    /// U3: CALL PROCEEDING received.
    OutgoingProceeding,
    /// U4: ALERTING received.
    CallDelivered,
    /// U6: SETUP received.
    CallPresent,
    /// U7: ALERTING sent.
    CallReceived,
    /// U8: CONNECT sent, waiting for CONNECT ACKNOWLEDGE.
    ConnectRequest,
    /// U9: CALL PROCEEDING sent.
    IncomingProceeding,
    /// U10.
    Active,
    /// U11: DISCONNECT sent.
    DisconnectRequest,
    /// U12: DISCONNECT received (we have sent RELEASE at once, so this is transient).
    DisconnectIndication,
    /// U19: RELEASE sent.
    ReleaseRequest,
}

impl CallState {
    /// The state number for the Call state element.
    pub fn number(self) -> u8 {
        match self {
            CallState::Null => 0,
            CallState::CallInitiated => 1,
            CallState::OutgoingProceeding => 3,
            CallState::CallDelivered => 4,
            CallState::CallPresent => 6,
            CallState::CallReceived => 7,
            CallState::ConnectRequest => 8,
            CallState::IncomingProceeding => 9,
            CallState::Active => 10,
            CallState::DisconnectRequest => 11,
            CallState::DisconnectIndication => 12,
            CallState::ReleaseRequest => 19,
        }
    }
}

/// Timers, ms (Q.931 Table 9-2 defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallTimers {
    /// SETUP unanswered (T303).
    pub t303_ms: u64,
    /// DISCONNECT unanswered (T305).
    pub t305_ms: u64,
    /// RELEASE unanswered (T308).
    pub t308_ms: u64,
    /// CALL PROCEEDING without ALERTING/CONNECT (T310).
    pub t310_ms: u64,
    /// CONNECT unacknowledged (T313).
    pub t313_ms: u64,
}

impl Default for CallTimers {
    fn default() -> Self {
        Self {
            t303_ms: 4_000,
            t305_ms: 30_000,
            t308_ms: 4_000,
            t310_ms: 30_000,
            t313_ms: 4_000,
        }
    }
}

/// A call, by its call reference: the value and who allocated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallKey {
    /// Call reference value.
    pub cref: u16,
    /// We allocated it (an outgoing call).
    pub ours: bool,
}

/// What happened to a call (or the interface).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// A SETUP from the network.
    Incoming {
        /// The call.
        key: CallKey,
        /// B channel.
        channel: u8,
        /// Calling party (ANI).
        calling: Option<PartyNumber>,
        /// Called number (DNIS).
        called: String,
    },
    /// CALL PROCEEDING for our call.
    Proceeding(CallKey),
    /// ALERTING for our call.
    Alerting(CallKey),
    /// PROGRESS (in-band tones available: `description` 8).
    Progress(CallKey, u8),
    /// Our call was answered (CONNECT received) or our answer confirmed (CONNECT ACK).
    Connected(CallKey),
    /// The call is over.
    Cleared {
        /// The call.
        key: CallKey,
        /// Its B channel, if one was assigned.
        channel: Option<u8>,
        /// Q.850 cause value.
        cause: u8,
        /// Cause location (0 user, 2 public network serving the local user…).
        location: u8,
    },
    /// The network restarted channels (`None`: the whole interface); calls on them were
    /// cleared.
    Restarted(Option<u8>),
}

/// Why a request cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// No such call.
    #[error("no call {0:?}")]
    NoCall(CallKey),
    /// The request does not fit the call's state.
    #[error("call {key:?} is in state {state:?}")]
    WrongState {
        /// The call.
        key: CallKey,
        /// Its state.
        state: CallState,
    },
    /// The B channel is in use or not a bearer channel of an E1 (1–15, 17–31).
    #[error("channel {0} is busy or not a B channel")]
    Channel(u8),
}

#[derive(Debug)]
struct Call {
    state: CallState,
    channel: Option<u8>,
    timer: Option<(u64, Timer)>,
    /// Retries of the running timer's message.
    retried: bool,
    setup: Option<Message>,
    clear_cause: u8,
    /// [`CallEvent::Cleared`] was already given (at DISCONNECT).
    reported: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    T303,
    T305,
    T308,
    T310,
    T313,
}

/// The Q.931 side of one PRI.
#[derive(Debug)]
pub struct Pri {
    timers: CallTimers,
    calls: BTreeMap<CallKey, Call>,
    next_cref: u16,
    out: Vec<Vec<u8>>,
    events: Vec<CallEvent>,
}

fn is_b_channel(c: u8) -> bool {
    (1..=31).contains(&c) && c != 16
}

fn exclusive(channel: u8) -> Ie {
    Ie::ChannelId(ChannelId {
        exclusive: true,
        d_channel: false,
        channel: Some(channel),
    })
}

fn cause_ie(value: u8) -> Ie {
    Ie::Cause(Cause {
        location: 0,
        value,
        diagnostics: Vec::new(),
    })
}

impl Pri {
    /// No calls yet.
    pub fn new(timers: CallTimers) -> Self {
        Self {
            timers,
            calls: BTreeMap::new(),
            next_cref: 1,
            out: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Encoded messages for the data link.
    pub fn take_messages(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.out)
    }

    /// Call events.
    pub fn take_events(&mut self) -> Vec<CallEvent> {
        std::mem::take(&mut self.events)
    }

    /// The state of a call (`Null` when unknown).
    pub fn state(&self, key: CallKey) -> CallState {
        self.calls.get(&key).map_or(CallState::Null, |c| c.state)
    }

    /// Calls not yet cleared.
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// When [`Pri::tick`] must next run.
    pub fn next_deadline(&self) -> Option<u64> {
        self.calls
            .values()
            .filter_map(|c| c.timer.map(|t| t.0))
            .min()
    }

    fn send(&mut self, m: Message) {
        self.out.push(m.encode());
    }

    fn msg(key: CallKey, t: MessageType) -> Message {
        // The flag is set in messages sent by the side that did not allocate the reference.
        Message::new(CallRef::new(key.cref, !key.ours), t)
    }

    fn channel_busy(&self, ch: u8) -> bool {
        self.calls.values().any(|c| c.channel == Some(ch))
    }

    fn set_timer(&mut self, key: CallKey, now: u64, t: Option<Timer>) {
        let ms = |t| match t {
            Timer::T303 => self.timers.t303_ms,
            Timer::T305 => self.timers.t305_ms,
            Timer::T308 => self.timers.t308_ms,
            Timer::T310 => self.timers.t310_ms,
            Timer::T313 => self.timers.t313_ms,
        };
        let due = t.map(|t| (now + ms(t), t));
        if let Some(c) = self.calls.get_mut(&key) {
            c.timer = due;
            c.retried = false;
        }
    }

    fn set_state(&mut self, key: CallKey, s: CallState) {
        if let Some(c) = self.calls.get_mut(&key) {
            c.state = s;
        }
    }

    /// The call is over: forget it, and report it unless that was done at DISCONNECT.
    fn cleared(&mut self, key: CallKey, cause: u8, location: u8) {
        if let Some(c) = self.calls.remove(&key).filter(|c| !c.reported) {
            self.events.push(CallEvent::Cleared {
                key,
                channel: c.channel,
                cause,
                location,
            });
        }
    }

    /// Place a call on B channel `channel` (exclusive).
    ///
    /// # Errors
    /// [`RequestError::Channel`] when the channel is busy or not a B channel.
    pub fn place_call(
        &mut self,
        now: u64,
        channel: u8,
        calling: Option<PartyNumber>,
        called: &str,
    ) -> Result<CallKey, RequestError> {
        if !is_b_channel(channel) || self.channel_busy(channel) {
            return Err(RequestError::Channel(channel));
        }
        let mut cref = self.next_cref;
        while self.calls.contains_key(&CallKey { cref, ours: true }) {
            cref = cref % 0x7fff + 1;
        }
        self.next_cref = cref % 0x7fff + 1;
        let key = CallKey { cref, ours: true };
        let mut m = Self::msg(key, MessageType::Setup)
            .with(Ie::BearerCapability(BearerCapability::speech_alaw()))
            .with(exclusive(channel));
        if let Some(n) = calling {
            m = m.with(Ie::CallingNumber(n));
        }
        m = m
            .with(Ie::CalledNumber(PartyNumber {
                ton: 0,
                plan: 1,
                presentation: None,
                screening: None,
                digits: called.to_owned(),
            }))
            .with(Ie::SendingComplete);
        self.calls.insert(
            key,
            Call {
                state: CallState::CallInitiated,
                channel: Some(channel),
                timer: None,
                retried: false,
                setup: Some(m.clone()),
                clear_cause: cause::NORMAL_CLEARING,
                reported: false,
            },
        );
        self.send(m);
        self.set_timer(key, now, Some(Timer::T303));
        Ok(key)
    }

    fn need(&self, key: CallKey, ok: &[CallState]) -> Result<CallState, RequestError> {
        let c = self.calls.get(&key).ok_or(RequestError::NoCall(key))?;
        if ok.contains(&c.state) {
            Ok(c.state)
        } else {
            Err(RequestError::WrongState {
                key,
                state: c.state,
            })
        }
    }

    fn channel_of(&self, key: CallKey) -> u8 {
        self.calls.get(&key).and_then(|c| c.channel).unwrap_or(0)
    }

    /// Acknowledge an incoming call (CALL PROCEEDING, the channel confirmed).
    ///
    /// # Errors
    /// No such call, or not in state U6.
    pub fn proceed(&mut self, key: CallKey) -> Result<(), RequestError> {
        self.need(key, &[CallState::CallPresent])?;
        let m = Self::msg(key, MessageType::CallProceeding).with(exclusive(self.channel_of(key)));
        self.send(m);
        self.set_state(key, CallState::IncomingProceeding);
        Ok(())
    }

    /// Ring back to the caller (ALERTING).
    ///
    /// # Errors
    /// No such call, or not in U6/U9.
    pub fn alert(&mut self, key: CallKey) -> Result<(), RequestError> {
        let st = self.need(
            key,
            &[CallState::CallPresent, CallState::IncomingProceeding],
        )?;
        let mut m = Self::msg(key, MessageType::Alerting);
        if st == CallState::CallPresent {
            m = m.with(exclusive(self.channel_of(key)));
        }
        self.send(m);
        self.set_state(key, CallState::CallReceived);
        Ok(())
    }

    /// Answer an incoming call (CONNECT; active on CONNECT ACKNOWLEDGE).
    ///
    /// # Errors
    /// No such call, or not in U6/U7/U9.
    pub fn answer(&mut self, now: u64, key: CallKey) -> Result<(), RequestError> {
        let st = self.need(
            key,
            &[
                CallState::CallPresent,
                CallState::CallReceived,
                CallState::IncomingProceeding,
            ],
        )?;
        let mut m = Self::msg(key, MessageType::Connect);
        if st == CallState::CallPresent {
            m = m.with(exclusive(self.channel_of(key)));
        }
        self.send(m);
        self.set_state(key, CallState::ConnectRequest);
        self.set_timer(key, now, Some(Timer::T313));
        Ok(())
    }

    /// Clear a call with `cause` (DISCONNECT; RELEASE COMPLETE for an unanswered incoming
    /// SETUP we refuse).
    ///
    /// # Errors
    /// No such call, or already clearing.
    pub fn hangup(&mut self, now: u64, key: CallKey, cause_value: u8) -> Result<(), RequestError> {
        let st = self.need(
            key,
            &[
                CallState::CallInitiated,
                CallState::OutgoingProceeding,
                CallState::CallDelivered,
                CallState::CallPresent,
                CallState::CallReceived,
                CallState::ConnectRequest,
                CallState::IncomingProceeding,
                CallState::Active,
            ],
        )?;
        if st == CallState::CallPresent {
            let m = Self::msg(key, MessageType::ReleaseComplete).with(cause_ie(cause_value));
            self.send(m);
            self.cleared(key, cause_value, 0);
            return Ok(());
        }
        let m = Self::msg(key, MessageType::Disconnect).with(cause_ie(cause_value));
        self.send(m);
        if let Some(c) = self.calls.get_mut(&key) {
            c.clear_cause = cause_value;
        }
        self.set_state(key, CallState::DisconnectRequest);
        self.set_timer(key, now, Some(Timer::T305));
        Ok(())
    }

    fn release(&mut self, now: u64, key: CallKey, cause_value: u8) {
        let m = Self::msg(key, MessageType::Release).with(cause_ie(cause_value));
        self.send(m);
        self.set_state(key, CallState::ReleaseRequest);
        self.set_timer(key, now, Some(Timer::T308));
    }

    /// A message from the network.
    ///
    /// # Errors
    /// The message does not parse; nothing changes (Q.931 §5.8.1: ignored).
    pub fn receive(&mut self, now: u64, bytes: &[u8]) -> Result<(), MessageError> {
        let m = Message::parse(bytes)?;
        if m.mtype == MessageType::Restart {
            self.restart(&m);
            return Ok(());
        }
        if m.mtype == MessageType::RestartAck || m.cref.len == 0 {
            return Ok(());
        }
        // A flag set by the network means the reference is ours.
        let key = CallKey {
            cref: m.cref.value,
            ours: m.cref.flag,
        };
        if !self.calls.contains_key(&key) {
            self.unknown_call(key, &m);
            return Ok(());
        }
        let cause_of = |m: &Message| {
            m.cause()
                .map_or((cause::NORMAL_CLEARING, 0), |c| (c.value, c.location))
        };
        let st = self.state(key);
        match m.mtype {
            MessageType::CallProceeding if st == CallState::CallInitiated => {
                self.set_state(key, CallState::OutgoingProceeding);
                self.set_timer(key, now, Some(Timer::T310));
                self.events.push(CallEvent::Proceeding(key));
            }
            MessageType::Alerting
                if matches!(st, CallState::CallInitiated | CallState::OutgoingProceeding) =>
            {
                self.set_state(key, CallState::CallDelivered);
                self.set_timer(key, now, None);
                self.events.push(CallEvent::Alerting(key));
            }
            MessageType::Progress => {
                let d = m
                    .ies
                    .iter()
                    .find_map(|ie| match ie {
                        Ie::Progress(p) => Some(p.description),
                        _ => None,
                    })
                    .unwrap_or(0);
                self.events.push(CallEvent::Progress(key, d));
            }
            MessageType::Connect
                if matches!(
                    st,
                    CallState::CallInitiated
                        | CallState::OutgoingProceeding
                        | CallState::CallDelivered
                ) =>
            {
                self.send(Self::msg(key, MessageType::ConnectAck));
                self.set_state(key, CallState::Active);
                self.set_timer(key, now, None);
                self.events.push(CallEvent::Connected(key));
            }
            MessageType::ConnectAck if st == CallState::ConnectRequest => {
                self.set_state(key, CallState::Active);
                self.set_timer(key, now, None);
                self.events.push(CallEvent::Connected(key));
            }
            MessageType::Disconnect
                if !matches!(st, CallState::ReleaseRequest | CallState::DisconnectRequest) =>
            {
                let (c, loc) = cause_of(&m);
                if let Some(call) = self.calls.get_mut(&key) {
                    call.clear_cause = c;
                }
                self.set_state(key, CallState::DisconnectIndication);
                self.release(now, key, c);
                // The far end is gone: tell the flow now, not after RELEASE COMPLETE.
                if let Some(call) = self.calls.get_mut(&key) {
                    call.reported = true;
                    let channel = call.channel;
                    self.events.push(CallEvent::Cleared {
                        key,
                        channel,
                        cause: c,
                        location: loc,
                    });
                }
            }
            MessageType::Disconnect if st == CallState::DisconnectRequest => {
                // Both sides cleared at once: go on with RELEASE.
                let c = cause_of(&m).0;
                self.release(now, key, c);
            }
            MessageType::Release => {
                let (c, loc) = cause_of(&m);
                self.send(Self::msg(key, MessageType::ReleaseComplete));
                self.cleared(key, c, loc);
            }
            MessageType::ReleaseComplete => {
                let (c, loc) = cause_of(&m);
                self.cleared(key, c, loc);
            }
            MessageType::StatusEnquiry => self.status(key, cause::STATUS_ENQUIRY_RESPONSE),
            MessageType::Status => {
                let peer = m.ies.iter().find_map(|ie| match ie {
                    Ie::CallState(s) => Some(*s),
                    _ => None,
                });
                if peer == Some(0) {
                    // The network has no such call: clear ours.
                    let (c, loc) = cause_of(&m);
                    self.cleared(key, c, loc);
                }
            }
            MessageType::Information | MessageType::Notify | MessageType::Facility => {}
            _ => self.status(key, cause::WRONG_STATE),
        }
        Ok(())
    }

    fn status(&mut self, key: CallKey, cause_value: u8) {
        let st = self.state(key).number();
        let m = Self::msg(key, MessageType::Status)
            .with(cause_ie(cause_value))
            .with(Ie::CallState(st));
        self.send(m);
    }

    fn unknown_call(&mut self, key: CallKey, m: &Message) {
        match m.mtype {
            MessageType::Setup if !key.ours => self.incoming(key, m),
            MessageType::ReleaseComplete => {}
            MessageType::Release => {
                let r = Self::msg(key, MessageType::ReleaseComplete)
                    .with(cause_ie(cause::INVALID_CALL_REFERENCE));
                self.send(r);
            }
            MessageType::StatusEnquiry => {
                let r = Self::msg(key, MessageType::Status)
                    .with(cause_ie(cause::STATUS_ENQUIRY_RESPONSE))
                    .with(Ie::CallState(0));
                self.send(r);
            }
            MessageType::Status => {}
            _ => {
                let r = Self::msg(key, MessageType::ReleaseComplete)
                    .with(cause_ie(cause::INVALID_CALL_REFERENCE));
                self.send(r);
            }
        }
    }

    fn incoming(&mut self, key: CallKey, m: &Message) {
        let refuse = |me: &mut Pri, c: u8| {
            let r = Self::msg(key, MessageType::ReleaseComplete).with(cause_ie(c));
            me.send(r);
        };
        let Some(ch) = m.channel().and_then(|c| c.channel) else {
            return refuse(self, cause::MANDATORY_IE_MISSING);
        };
        let has_bearer = m.ies.iter().any(|ie| matches!(ie, Ie::BearerCapability(_)));
        if !has_bearer {
            return refuse(self, cause::MANDATORY_IE_MISSING);
        }
        if !is_b_channel(ch) || self.channel_busy(ch) {
            // Glare or a bad channel: the exclusive channel cannot be given.
            return refuse(self, cause::CHANNEL_UNAVAILABLE);
        }
        let calling = m.ies.iter().find_map(|ie| match ie {
            Ie::CallingNumber(n) => Some(n.clone()),
            _ => None,
        });
        let called = m
            .ies
            .iter()
            .find_map(|ie| match ie {
                Ie::CalledNumber(n) => Some(n.digits.clone()),
                _ => None,
            })
            .unwrap_or_default();
        self.calls.insert(
            key,
            Call {
                state: CallState::CallPresent,
                channel: Some(ch),
                timer: None,
                retried: false,
                setup: None,
                clear_cause: cause::NORMAL_CLEARING,
                reported: false,
            },
        );
        self.events.push(CallEvent::Incoming {
            key,
            channel: ch,
            calling,
            called,
        });
    }

    fn restart(&mut self, m: &Message) {
        let class = m
            .ies
            .iter()
            .find_map(|ie| match ie {
                Ie::RestartIndicator(c) => Some(*c),
                _ => None,
            })
            .unwrap_or(7);
        let ch = m.channel().and_then(|c| c.channel);
        let hit: Vec<CallKey> = self
            .calls
            .iter()
            .filter(|(_, c)| class != 0 || c.channel == ch)
            .map(|(k, _)| *k)
            .collect();
        for k in hit {
            self.cleared(k, cause::NORMAL_CLEARING, 2);
        }
        let mut ack = Message::new(
            CallRef::new(m.cref.value, !m.cref.flag),
            MessageType::RestartAck,
        );
        if let Some(c) = m.channel() {
            ack = ack.with(Ie::ChannelId(c.clone()));
        }
        ack = ack.with(Ie::RestartIndicator(class));
        self.send(ack);
        self.events
            .push(CallEvent::Restarted(if class == 0 { ch } else { None }));
    }

    /// The data link went down: calls not yet active are cleared (cause 41 would be the
    /// network's; locally we report "no circuit"), active calls stay up.
    pub fn link_down(&mut self) {
        let gone: Vec<CallKey> = self
            .calls
            .iter()
            .filter(|(_, c)| c.state != CallState::Active)
            .map(|(k, _)| *k)
            .collect();
        for k in gone {
            self.cleared(k, cause::NO_CIRCUIT, 0);
        }
    }

    /// Run the timers due at `now`.
    pub fn tick(&mut self, now: u64) {
        let due: Vec<(CallKey, Timer, bool)> = self
            .calls
            .iter()
            .filter_map(|(k, c)| match c.timer {
                Some((t, which)) if now >= t => Some((*k, which, c.retried)),
                _ => None,
            })
            .collect();
        for (key, which, retried) in due {
            if let Some(c) = self.calls.get_mut(&key) {
                c.timer = None;
            }
            match which {
                Timer::T303 if !retried => {
                    // Send SETUP once more.
                    if let Some(s) = self.calls.get(&key).and_then(|c| c.setup.clone()) {
                        self.send(s);
                    }
                    self.set_timer(key, now, Some(Timer::T303));
                    if let Some(c) = self.calls.get_mut(&key) {
                        c.retried = true;
                    }
                }
                Timer::T303 => {
                    let m = Self::msg(key, MessageType::ReleaseComplete)
                        .with(cause_ie(cause::TIMER_EXPIRY));
                    self.send(m);
                    self.cleared(key, cause::NO_USER_RESPONDING, 0);
                }
                Timer::T310 | Timer::T313 => {
                    let m =
                        Self::msg(key, MessageType::Disconnect).with(cause_ie(cause::TIMER_EXPIRY));
                    self.send(m);
                    self.set_state(key, CallState::DisconnectRequest);
                    self.set_timer(key, now, Some(Timer::T305));
                    if let Some(c) = self.calls.get_mut(&key) {
                        c.clear_cause = cause::TIMER_EXPIRY;
                    }
                }
                Timer::T305 => {
                    let c = self
                        .calls
                        .get(&key)
                        .map_or(cause::NORMAL_CLEARING, |c| c.clear_cause);
                    self.release(now, key, c);
                }
                Timer::T308 if !retried => {
                    let c = self
                        .calls
                        .get(&key)
                        .map_or(cause::NORMAL_CLEARING, |c| c.clear_cause);
                    self.release(now, key, c);
                    if let Some(call) = self.calls.get_mut(&key) {
                        call.retried = true;
                    }
                }
                Timer::T308 => {
                    // No answer to two RELEASEs: the call is gone; the channel needs a
                    // RESTART before reuse (left to maintenance).
                    let c = self
                        .calls
                        .get(&key)
                        .map_or(cause::TIMER_EXPIRY, |c| c.clear_cause);
                    self.cleared(key, c, 0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message as the network sends it for `key`.
    fn net(key: CallKey, t: MessageType) -> Message {
        Message::new(CallRef::new(key.cref, key.ours), t)
    }

    fn sent(p: &mut Pri) -> Vec<Message> {
        p.take_messages()
            .iter()
            .map(|b| Message::parse(b).unwrap())
            .collect()
    }

    fn types(p: &mut Pri) -> Vec<MessageType> {
        sent(p).iter().map(|m| m.mtype).collect()
    }

    fn setup(cref: u16, channel: u8) -> Vec<u8> {
        net(CallKey { cref, ours: false }, MessageType::Setup)
            .with(Ie::BearerCapability(BearerCapability::speech_alaw()))
            .with(exclusive(channel))
            .with(Ie::CalledNumber(PartyNumber {
                ton: 0,
                plan: 1,
                presentation: None,
                screening: None,
                digits: "100".into(),
            }))
            .encode()
    }

    #[test]
    fn outgoing_call_states_and_flag() {
        let mut p = Pri::new(CallTimers::default());
        let key = p.place_call(0, 1, None, "110").unwrap();
        let s = sent(&mut p);
        assert_eq!(s[0].mtype, MessageType::Setup);
        assert!(!s[0].cref.flag, "we allocated it: flag clear");
        assert_eq!(p.state(key), CallState::CallInitiated);
        assert_eq!(
            p.place_call(0, 1, None, "111"),
            Err(RequestError::Channel(1)),
            "channel in use"
        );
        assert_eq!(
            p.place_call(0, 16, None, "111"),
            Err(RequestError::Channel(16))
        );
        p.receive(10, &net(key, MessageType::CallProceeding).encode())
            .unwrap();
        assert_eq!(p.state(key), CallState::OutgoingProceeding);
        assert_eq!(p.next_deadline(), Some(30_010), "T310");
        p.receive(20, &net(key, MessageType::Connect).encode())
            .unwrap();
        assert_eq!(types(&mut p), [MessageType::ConnectAck]);
        assert_eq!(
            p.take_events(),
            [CallEvent::Proceeding(key), CallEvent::Connected(key)]
        );
        assert_eq!(p.next_deadline(), None);
    }

    #[test]
    fn our_disconnect_then_t305_then_t308_twice() {
        let mut p = Pri::new(CallTimers::default());
        let key = p.place_call(0, 1, None, "110").unwrap();
        p.receive(0, &net(key, MessageType::Connect).encode())
            .unwrap();
        p.take_messages();
        p.take_events();
        p.hangup(100, key, cause::USER_BUSY).unwrap();
        assert_eq!(types(&mut p), [MessageType::Disconnect]);
        p.tick(30_099);
        assert!(p.take_messages().is_empty());
        p.tick(30_100);
        let r = sent(&mut p);
        assert_eq!(r[0].mtype, MessageType::Release);
        assert_eq!(r[0].cause().unwrap().value, cause::USER_BUSY);
        p.tick(34_100);
        assert_eq!(types(&mut p), [MessageType::Release], "RELEASE once more");
        p.tick(38_100);
        assert_eq!(
            p.take_events(),
            [CallEvent::Cleared {
                key,
                channel: Some(1),
                cause: cause::USER_BUSY,
                location: 0
            }]
        );
        assert_eq!(p.active_calls(), 0);
    }

    #[test]
    fn incoming_call_unanswered_connect_is_cleared_by_t313() {
        let mut p = Pri::new(CallTimers::default());
        p.receive(0, &setup(9, 4)).unwrap();
        let key = CallKey {
            cref: 9,
            ours: false,
        };
        assert!(matches!(
            p.take_events()[0],
            CallEvent::Incoming { channel: 4, .. }
        ));
        p.answer(0, key).unwrap();
        let c = sent(&mut p);
        assert_eq!(c[0].mtype, MessageType::Connect);
        assert!(c[0].cref.flag, "the network allocated it: flag set");
        p.tick(4_000);
        let d = sent(&mut p);
        assert_eq!(d[0].mtype, MessageType::Disconnect);
        assert_eq!(d[0].cause().unwrap().value, cause::TIMER_EXPIRY);
        // The network releases: RELEASE COMPLETE, cleared.
        p.receive(4_100, &net(key, MessageType::Release).encode())
            .unwrap();
        assert_eq!(types(&mut p), [MessageType::ReleaseComplete]);
        assert_eq!(p.active_calls(), 0);
    }

    #[test]
    fn glare_missing_elements_unknown_references_and_status() {
        let mut p = Pri::new(CallTimers::default());
        let ours = p.place_call(0, 4, None, "110").unwrap();
        p.take_messages();
        // The network wants channel 4 too.
        p.receive(1, &setup(9, 4)).unwrap();
        let r = sent(&mut p);
        assert_eq!(r[0].mtype, MessageType::ReleaseComplete);
        assert_eq!(r[0].cause().unwrap().value, cause::CHANNEL_UNAVAILABLE);
        assert!(p.take_events().is_empty());
        // A SETUP without channel identification.
        let bare = net(
            CallKey {
                cref: 10,
                ours: false,
            },
            MessageType::Setup,
        )
        .with(Ie::BearerCapability(BearerCapability::speech_alaw()));
        p.receive(2, &bare.encode()).unwrap();
        assert_eq!(
            sent(&mut p)[0].cause().unwrap().value,
            cause::MANDATORY_IE_MISSING
        );
        // A DISCONNECT for a call nobody has.
        let ghost = CallKey {
            cref: 77,
            ours: false,
        };
        p.receive(3, &net(ghost, MessageType::Disconnect).encode())
            .unwrap();
        assert_eq!(
            sent(&mut p)[0].cause().unwrap().value,
            cause::INVALID_CALL_REFERENCE
        );
        // STATUS ENQUIRY: our state in a STATUS.
        p.receive(4, &net(ours, MessageType::StatusEnquiry).encode())
            .unwrap();
        let st = sent(&mut p);
        assert_eq!(st[0].mtype, MessageType::Status);
        assert!(st[0].ies.contains(&Ie::CallState(1)));
        // The network says it has no such call: ours is cleared.
        p.receive(
            5,
            &net(ours, MessageType::Status)
                .with(cause_ie(cause::WRONG_STATE))
                .with(Ie::CallState(0))
                .encode(),
        )
        .unwrap();
        assert!(matches!(p.take_events()[0], CallEvent::Cleared { .. }));
        assert_eq!(p.active_calls(), 0);
        // Garbage changes nothing.
        assert!(p.receive(6, &[0x08, 0x02]).is_err());
    }

    #[test]
    fn a_dead_link_clears_calls_not_yet_active() {
        let mut p = Pri::new(CallTimers::default());
        let a = p.place_call(0, 1, None, "1").unwrap();
        let b = p.place_call(0, 2, None, "2").unwrap();
        p.receive(0, &net(b, MessageType::Connect).encode())
            .unwrap();
        p.take_events();
        p.link_down();
        assert_eq!(
            p.take_events(),
            [CallEvent::Cleared {
                key: a,
                channel: Some(1),
                cause: cause::NO_CIRCUIT,
                location: 0
            }]
        );
        assert_eq!(p.state(b), CallState::Active);
    }
}
