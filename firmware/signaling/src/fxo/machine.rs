//! The FXO loop-start state machine itself; see the parent module for the state diagram.

use core::mem;

use thiserror::Error;
use yingda_hal::{HookCommand, LineEvent, Millis};

use super::config::{CidSignalling, CidStart, ConfigError, FxoConfig, LineSignalling};
use super::types::{
    Action, Actions, CallerId, Cause, CidReceiver, Digits, Input, Progress, Report, MAX_DIGITS,
};

/// After asking for a hook flash the machine waits `flash_ms` plus this long for
/// [`LineEvent::HookComplete`]`(Flash)` before carrying on without it.
pub const FLASH_GRACE_MS: u32 = 500;

/// Timers that may fire in one call. Every timer is at least 50 ms long and restarts from
/// the time it fired, so one call fires one timer; the bound is belt and braces.
const MAX_TIMER_STEPS: usize = 4;

/// Coarse state of the line, for logs, status pages and [`RequestError`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineState {
    /// On hook, no call.
    Idle,
    /// An incoming call is ringing.
    Ringing,
    /// A call is connected (inbound or outbound).
    Connected,
    /// Off hook for an outbound call, waiting for dial tone (or the blind-dial delay).
    Seizing,
    /// Digits are being sent.
    Dialling,
    /// The outbound call is ringing the callee.
    AwaitingAnswer,
    /// A hook-flash transfer is in progress (flash, dialling, waiting, or retrieving).
    Transferring,
    /// Just hung up; the line is ignored for `onhook_guard_ms`.
    Guard,
    /// Alarm: the line is on hook and refuses requests.
    OutOfService,
}

/// A request the machine refused. The machine's state is unchanged by a refused request.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// The request makes no sense in the current state (e.g. dial while in a call).
    #[error("{request} is not possible while the line is {state:?}")]
    InvalidState {
        /// The refused request: `"dial"`, `"hangup"` or `"transfer"`.
        request: &'static str,
        /// State of the line when the request came.
        state: LineState,
    },
    /// The line is in alarm.
    #[error("the line is out of service (alarm)")]
    OutOfService,
    /// The dial string is empty.
    #[error("empty dial string")]
    EmptyNumber,
    /// The dial string is longer than [`MAX_DIGITS`].
    #[error("dial string has {len} characters, at most {max} allowed")]
    NumberTooLong {
        /// Characters given.
        len: usize,
        /// Characters allowed.
        max: usize,
    },
    /// The dial string holds a character that is neither a DTMF digit nor `,`.
    #[error("dial string contains {0:?}, which is neither a DTMF digit nor ','")]
    InvalidDigit(char),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Idle {
        /// Pre-ring caller ID (announced by polarity or received as DTMF) expires here.
        cid_until: Option<Millis>,
    },
    Ringing {
        rings: u8,
        ring_on: bool,
        deadline: Millis,
    },
    Connected,
    AwaitDialTone {
        number: Digits,
        deadline: Millis,
    },
    BlindDialWait {
        number: Digits,
        deadline: Millis,
    },
    Dialling {
        deadline: Millis,
    },
    AwaitAnswer {
        ringback: bool,
        deadline: Millis,
    },
    TransferFlash {
        ext: Digits,
        deadline: Millis,
    },
    TransferAwaitDialTone {
        ext: Digits,
        deadline: Millis,
    },
    TransferPause {
        ext: Digits,
        deadline: Millis,
    },
    TransferDialling {
        deadline: Millis,
    },
    TransferAwaitAnswer {
        ringback: bool,
        deadline: Millis,
    },
    TransferRetrieve {
        reason: Cause,
        deadline: Millis,
    },
    Guard {
        deadline: Millis,
        /// DTMF caller ID for the next call heard during the guard, valid until then.
        cid_until: Option<Millis>,
    },
    OutOfService,
}

impl State {
    fn deadline(&self) -> Option<Millis> {
        match self {
            Self::Idle { cid_until } => *cid_until,
            Self::Ringing { deadline, .. }
            | Self::AwaitDialTone { deadline, .. }
            | Self::BlindDialWait { deadline, .. }
            | Self::Dialling { deadline }
            | Self::AwaitAnswer { deadline, .. }
            | Self::TransferFlash { deadline, .. }
            | Self::TransferAwaitDialTone { deadline, .. }
            | Self::TransferPause { deadline, .. }
            | Self::TransferDialling { deadline }
            | Self::TransferAwaitAnswer { deadline, .. }
            | Self::TransferRetrieve { deadline, .. }
            | Self::Guard { deadline, .. } => Some(*deadline),
            Self::Connected | Self::OutOfService => None,
        }
    }

    fn coarse(&self) -> LineState {
        match self {
            Self::Idle { .. } => LineState::Idle,
            Self::Ringing { .. } => LineState::Ringing,
            Self::Connected => LineState::Connected,
            Self::AwaitDialTone { .. } | Self::BlindDialWait { .. } => LineState::Seizing,
            Self::Dialling { .. } => LineState::Dialling,
            Self::AwaitAnswer { .. } => LineState::AwaitingAnswer,
            Self::TransferFlash { .. }
            | Self::TransferAwaitDialTone { .. }
            | Self::TransferPause { .. }
            | Self::TransferDialling { .. }
            | Self::TransferAwaitAnswer { .. }
            | Self::TransferRetrieve { .. } => LineState::Transferring,
            Self::Guard { .. } => LineState::Guard,
            Self::OutOfService => LineState::OutOfService,
        }
    }
}

fn after(now: Millis, ms: u32) -> Millis {
    now.saturating_add(Millis::from(ms))
}

/// Check a dial string and normalise `a`-`d` to upper case.
///
/// # Errors
/// [`RequestError::EmptyNumber`], [`RequestError::NumberTooLong`] or
/// [`RequestError::InvalidDigit`].
pub fn parse_digits(s: &str) -> Result<Digits, RequestError> {
    if s.is_empty() {
        return Err(RequestError::EmptyNumber);
    }
    let len = s.chars().count();
    if len > MAX_DIGITS {
        return Err(RequestError::NumberTooLong {
            len,
            max: MAX_DIGITS,
        });
    }
    let mut out = Digits::new();
    for c in s.chars() {
        let c = match c {
            '0'..='9' | '*' | '#' | 'A'..='D' | ',' => c,
            'a'..='d' => c.to_ascii_uppercase(),
            other => return Err(RequestError::InvalidDigit(other)),
        };
        out.push(c).map_err(|_| RequestError::NumberTooLong {
            len,
            max: MAX_DIGITS,
        })?;
    }
    Ok(out)
}

/// One FXO loop-start line. Feed it inputs and requests with the current time; carry out
/// the returned [`Actions`] in order; call [`Fxo::poll`] when [`Fxo::next_timeout`] passes.
#[derive(Debug, Clone)]
pub struct Fxo {
    cfg: FxoConfig,
    state: State,
    /// Actions not yet handed to the caller (see [`Fxo::dial`] on refused requests).
    out: Actions,
    /// Caller ID collected for the call being offered.
    cid: Option<CallerId>,
    /// Caller-ID receiver the daemon was last told to run.
    cid_rx: Option<CidReceiver>,
    /// Whether the daemon was last told to run the progress detector.
    progress_on: bool,
    /// Hook state as last commanded (a flash leaves the line off hook).
    off_hook: bool,
    /// Actions that did not fit into [`Actions`]; stays 0 (checked by the property test).
    dropped: usize,
}

impl Fxo {
    /// A line in [`LineState::Idle`]. The first call (normally [`Fxo::poll`]) returns the
    /// start-up actions: `SetHook(OnHook)`, and with `cidstart = "dtmf"` the DTMF caller-ID
    /// receiver that listens on the idle line.
    ///
    /// # Errors
    /// The config's [`FxoConfig::validate`] error.
    pub fn new(cfg: FxoConfig) -> Result<Self, ConfigError> {
        cfg.validate()?;
        let mut fxo = Self {
            cfg,
            state: State::Idle { cid_until: None },
            out: Actions::new(),
            cid: None,
            cid_rx: None,
            progress_on: false,
            off_hook: true,
            dropped: 0,
        };
        fxo.set_hook(HookCommand::OnHook);
        fxo.arm_idle();
        Ok(fxo)
    }

    /// The config the line runs with.
    pub fn config(&self) -> &FxoConfig {
        &self.cfg
    }

    /// Coarse state of the line.
    pub fn state(&self) -> LineState {
        self.state.coarse()
    }

    /// Whether the line was last commanded off hook.
    pub fn is_off_hook(&self) -> bool {
        self.off_hook
    }

    /// When [`Fxo::poll`] must be called next, if a timer runs.
    pub fn next_timeout(&self) -> Option<Millis> {
        self.state.deadline()
    }

    /// Actions lost because a list was full. Always 0 unless this crate has a bug.
    pub fn actions_dropped(&self) -> usize {
        self.dropped
    }

    /// Fire the timers that are due at `now`.
    pub fn poll(&mut self, now: Millis) -> Actions {
        self.run_timers(now);
        mem::take(&mut self.out)
    }

    /// Handle one input at `now`. Timers due at or before `now` fire first.
    pub fn handle(&mut self, now: Millis, input: Input) -> Actions {
        self.run_timers(now);
        self.on_input(now, input);
        mem::take(&mut self.out)
    }

    /// Start an outbound call to `number`: go off hook, then wait for dial tone (or the
    /// blind-dial delay) and ask for the digits to be sent.
    ///
    /// Due timers fire first. If the request is refused, actions produced by those timers
    /// stay queued and are returned by the next call.
    ///
    /// # Errors
    /// A malformed number, [`RequestError::OutOfService`], or
    /// [`RequestError::InvalidState`] unless the line is [`LineState::Idle`].
    pub fn dial(&mut self, now: Millis, number: &str) -> Result<Actions, RequestError> {
        // Due timers fire first, even if the request is then refused.
        self.run_timers(now);
        let number = parse_digits(number)?;
        match self.state {
            State::Idle { .. } => {
                self.stop_cid();
                self.cid = None;
                self.set_hook(HookCommand::OffHook);
                self.start_progress();
                self.state = if self.cfg.blind_dial {
                    State::BlindDialWait {
                        number,
                        deadline: after(now, self.cfg.blind_dial_delay_ms),
                    }
                } else {
                    State::AwaitDialTone {
                        number,
                        deadline: after(now, self.cfg.dialtone_timeout_ms),
                    }
                };
                Ok(mem::take(&mut self.out))
            }
            _ => Err(self.refuse("dial")),
        }
    }

    /// Hang up: ends a connected call or transfer ([`Cause::LocalHangup`]) or cancels an
    /// outbound call being set up ([`Cause::Cancelled`]). Due timers fire first (see
    /// [`Fxo::dial`] on refused requests).
    ///
    /// # Errors
    /// [`RequestError::OutOfService`], or [`RequestError::InvalidState`] when the line is
    /// on hook (idle, ringing, guard).
    pub fn hangup(&mut self, now: Millis) -> Result<Actions, RequestError> {
        self.run_timers(now);
        let report = match self.state() {
            LineState::Connected | LineState::Transferring => Report::Disconnected {
                cause: Cause::LocalHangup,
            },
            LineState::Seizing | LineState::Dialling | LineState::AwaitingAnswer => {
                Report::OutboundFailed {
                    reason: Cause::Cancelled,
                }
            }
            LineState::Idle | LineState::Ringing | LineState::Guard | LineState::OutOfService => {
                return Err(self.refuse("hangup"))
            }
        };
        self.state = self.end_call(now, report);
        Ok(mem::take(&mut self.out))
    }

    /// Transfer the connected call to `extension` by hook flash. Ends with
    /// [`Report::TransferCompleted`] (line on hook) or [`Report::TransferFailed`] (caller
    /// retrieved, call continues). Due timers fire first (see [`Fxo::dial`]).
    ///
    /// # Errors
    /// A malformed extension, [`RequestError::OutOfService`], or
    /// [`RequestError::InvalidState`] unless the line is [`LineState::Connected`].
    pub fn transfer(&mut self, now: Millis, extension: &str) -> Result<Actions, RequestError> {
        self.run_timers(now);
        let ext = parse_digits(extension)?;
        match self.state {
            State::Connected => {
                self.set_hook(HookCommand::Flash);
                self.start_progress();
                self.state = State::TransferFlash {
                    ext,
                    deadline: self.flash_deadline(now),
                };
                Ok(mem::take(&mut self.out))
            }
            _ => Err(self.refuse("transfer")),
        }
    }

    // ----- helpers -------------------------------------------------------------------------

    fn refuse(&self, request: &'static str) -> RequestError {
        match self.state {
            State::OutOfService => RequestError::OutOfService,
            _ => RequestError::InvalidState {
                request,
                state: self.state(),
            },
        }
    }

    fn push(&mut self, action: Action) {
        if self.out.push(action).is_err() {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    fn report(&mut self, report: Report) {
        self.push(Action::Report(report));
    }

    fn set_hook(&mut self, cmd: HookCommand) {
        self.off_hook = cmd != HookCommand::OnHook;
        self.push(Action::SetHook(cmd));
    }

    fn cid_kind(&self) -> CidReceiver {
        match self.cfg.cidsignalling {
            CidSignalling::V23 => CidReceiver::FskV23,
            CidSignalling::Bell => CidReceiver::FskBell,
            CidSignalling::Dtmf => CidReceiver::Dtmf,
        }
    }

    fn start_cid(&mut self) {
        let kind = self.cid_kind();
        if self.cid_rx != Some(kind) {
            self.cid_rx = Some(kind);
            self.push(Action::StartCidReceiver(kind));
        }
    }

    fn stop_cid(&mut self) {
        if self.cid_rx.take().is_some() {
            self.push(Action::StopCidReceiver);
        }
    }

    fn start_progress(&mut self) {
        if !self.progress_on {
            self.progress_on = true;
            self.push(Action::StartProgressDetection);
        }
    }

    fn stop_progress(&mut self) {
        if self.progress_on {
            self.progress_on = false;
            self.push(Action::StopProgressDetection);
        }
    }

    /// Progress detection stays on in a connected call only for busy-tone disconnect.
    fn settle_progress_for_call(&mut self) {
        if !self.cfg.busydetect {
            self.stop_progress();
        }
    }

    fn flash_deadline(&self, now: Millis) -> Millis {
        after(after(now, self.cfg.flash_ms), FLASH_GRACE_MS)
    }

    fn cid_between_rings(&self) -> bool {
        self.cfg.usecallerid && self.cfg.cidstart == CidStart::Ring
    }

    fn kewl_start(&self) -> bool {
        self.cfg.signalling == LineSignalling::FxsKs
    }

    /// Busy or congestion tone heard for at least `busycount` cycles.
    fn tone_failure(&self, p: Progress) -> Option<Cause> {
        match p {
            Progress::Busy { cycles } if cycles >= self.cfg.busycount => Some(Cause::Busy),
            Progress::Congestion { cycles } if cycles >= self.cfg.busycount => {
                Some(Cause::Congestion)
            }
            _ => None,
        }
    }

    /// Receivers that run on the idle line.
    fn arm_idle(&mut self) {
        if self.cfg.usecallerid && self.cfg.cidstart == CidStart::Dtmf {
            self.start_cid();
        } else {
            self.stop_cid();
        }
    }

    fn enter_idle(&mut self) -> State {
        self.cid = None;
        self.arm_idle();
        State::Idle { cid_until: None }
    }

    /// Hang up, silence the detectors, tell the app, and guard the line.
    fn end_call(&mut self, now: Millis, report: Report) -> State {
        if self.off_hook {
            self.set_hook(HookCommand::OnHook);
        }
        self.stop_progress();
        self.cid = None;
        self.report(report);
        // With DTMF caller ID the exchange may send the next call's number right after the
        // release, inside the guard time: keep listening (rings are still ignored).
        self.arm_idle();
        State::Guard {
            deadline: after(now, self.cfg.onhook_guard_ms),
            cid_until: None,
        }
    }

    fn enter_out_of_service(&mut self, report: Option<Report>) -> State {
        if self.off_hook {
            self.set_hook(HookCommand::OnHook);
        }
        self.stop_progress();
        self.stop_cid();
        self.cid = None;
        if let Some(r) = report {
            self.report(r);
        }
        self.report(Report::OutOfService);
        State::OutOfService
    }

    fn send_digits(&mut self, digits: Digits) {
        self.push(Action::SendDigits(digits));
    }

    fn answer(&mut self) -> State {
        self.stop_cid();
        self.set_hook(HookCommand::OffHook);
        if self.cfg.busydetect {
            self.start_progress();
        }
        let caller_id = self.cid.take();
        self.report(Report::Incoming { caller_id });
        self.report(Report::Answered);
        State::Connected
    }

    /// Answer if enough rings were heard and caller ID had its chance; otherwise stay in
    /// `ringing`.
    fn maybe_answer(&mut self, ringing: State, rings: u8) -> State {
        let waiting_for_cid = self.cid_between_rings() && self.cid.is_none() && rings < 2;
        if rings >= self.cfg.answer_after_rings && !waiting_for_cid {
            self.answer()
        } else {
            ringing
        }
    }

    fn outbound_connected(&mut self) -> State {
        self.settle_progress_for_call();
        self.report(Report::OutboundConnected);
        State::Connected
    }

    /// Glare: an incoming call rang while we seized the line. We are off hook, so the
    /// exchange has connected the caller to us: the outbound attempt fails and the line
    /// carries on as an answered inbound call.
    fn glare(&mut self) -> State {
        self.report(Report::OutboundFailed {
            reason: Cause::Glare,
        });
        self.settle_progress_for_call();
        self.cid = None;
        self.report(Report::Incoming { caller_id: None });
        self.report(Report::Answered);
        State::Connected
    }

    /// Dial tone heard (or the blind-dial delay over): send the number.
    fn dial_number(&mut self, now: Millis, number: Digits) -> State {
        self.send_digits(number);
        State::Dialling {
            deadline: after(now, self.cfg.digits_timeout_ms),
        }
    }

    fn after_flash(&self, now: Millis, ext: Digits) -> State {
        if self.cfg.transfer_wait_dialtone {
            State::TransferAwaitDialTone {
                ext,
                deadline: after(now, self.cfg.dialtone_timeout_ms),
            }
        } else {
            State::TransferPause {
                ext,
                deadline: after(now, self.cfg.transfer_pause_ms),
            }
        }
    }

    fn transfer_dial(&mut self, now: Millis, ext: Digits) -> State {
        self.send_digits(ext);
        State::TransferDialling {
            deadline: after(now, self.cfg.digits_timeout_ms),
        }
    }

    /// Flash again to get the caller back from the PBX.
    fn retrieve(&mut self, now: Millis, reason: Cause) -> State {
        self.set_hook(HookCommand::Flash);
        State::TransferRetrieve {
            reason,
            deadline: self.flash_deadline(now),
        }
    }

    fn retrieved(&mut self, reason: Cause) -> State {
        self.settle_progress_for_call();
        self.report(Report::TransferFailed { reason });
        State::Connected
    }

    // ----- timers --------------------------------------------------------------------------

    fn run_timers(&mut self, now: Millis) {
        for _ in 0..MAX_TIMER_STEPS {
            match self.state.deadline() {
                Some(d) if d <= now => self.on_timeout(now),
                _ => break,
            }
        }
    }

    fn on_timeout(&mut self, now: Millis) {
        self.state = match self.state.clone() {
            // Pre-ring caller ID went stale: no ring followed.
            State::Idle { .. } => self.enter_idle(),
            State::Ringing { .. } => {
                self.stop_cid();
                self.report(Report::Disconnected {
                    cause: Cause::Abandoned,
                });
                self.enter_idle()
            }
            State::AwaitDialTone { .. } => self.end_call(
                now,
                Report::OutboundFailed {
                    reason: Cause::NoDialTone,
                },
            ),
            State::BlindDialWait { number, .. } => self.dial_number(now, number),
            State::Dialling { .. } => self.end_call(
                now,
                Report::OutboundFailed {
                    reason: Cause::DigitsTimeout,
                },
            ),
            State::AwaitAnswer { .. } => self.end_call(
                now,
                Report::OutboundFailed {
                    reason: Cause::NoAnswer,
                },
            ),
            State::TransferFlash { ext, .. } => self.after_flash(now, ext),
            State::TransferAwaitDialTone { .. } => self.retrieve(now, Cause::NoDialTone),
            State::TransferPause { ext, .. } => self.transfer_dial(now, ext),
            State::TransferDialling { .. } => self.retrieve(now, Cause::DigitsTimeout),
            State::TransferAwaitAnswer { .. } => self.retrieve(now, Cause::NoAnswer),
            State::TransferRetrieve { reason, .. } => self.retrieved(reason),
            State::Guard {
                cid_until: Some(until),
                ..
            } if until > now => State::Idle {
                cid_until: Some(until),
            },
            State::Guard { .. } => self.enter_idle(),
            // No timer runs in these states; run_timers never gets here for them.
            s @ (State::Connected | State::OutOfService) => s,
        };
    }

    // ----- inputs --------------------------------------------------------------------------

    fn on_input(&mut self, now: Millis, input: Input) {
        match input {
            Input::Line(LineEvent::Alarm) => self.on_alarm(),
            Input::Line(LineEvent::AlarmCleared) => {
                if self.state == State::OutOfService {
                    self.report(Report::InService);
                    self.state = self.enter_idle();
                }
            }
            _ if self.state == State::OutOfService => {}
            input => self.state = self.on_input_in(now, self.state.clone(), input),
        }
    }

    fn on_alarm(&mut self) {
        let report = match self.state() {
            LineState::OutOfService => return,
            LineState::Idle | LineState::Guard => None,
            LineState::Ringing | LineState::Connected | LineState::Transferring => {
                Some(Report::Disconnected {
                    cause: Cause::Alarm,
                })
            }
            LineState::Seizing | LineState::Dialling | LineState::AwaitingAnswer => {
                Some(Report::OutboundFailed {
                    reason: Cause::Alarm,
                })
            }
        };
        self.state = self.enter_out_of_service(report);
    }

    /// Handle `input` in `state` (a copy of `self.state`); returns the next state.
    fn on_input_in(&mut self, now: Millis, state: State, input: Input) -> State {
        use LineEvent::{HookComplete, LoopCurrentDrop, PolarityReversal, RingOff, RingOn};

        match (state, input) {
            // ----- idle -----
            (State::Idle { .. }, Input::Line(RingOn)) => {
                self.stop_cid();
                self.report(Report::Ringing { count: 1 });
                let ringing = State::Ringing {
                    rings: 1,
                    ring_on: true,
                    deadline: after(now, self.cfg.ring_timeout_ms),
                };
                self.maybe_answer(ringing, 1)
            }
            (State::Idle { cid_until }, Input::Line(PolarityReversal)) => {
                if self.cfg.usecallerid && self.cfg.cidstart == CidStart::Polarity {
                    self.cid = None;
                    self.start_cid();
                    State::Idle {
                        cid_until: Some(after(now, self.cfg.cid_prering_timeout_ms)),
                    }
                } else {
                    State::Idle { cid_until }
                }
            }
            (State::Guard { deadline, .. }, Input::CallerId(c))
                if self.cfg.usecallerid && self.cfg.cidstart == CidStart::Dtmf =>
            {
                self.cid = Some(c);
                State::Guard {
                    deadline,
                    cid_until: Some(after(now, self.cfg.cid_prering_timeout_ms)),
                }
            }
            (State::Idle { cid_until }, Input::CallerId(c)) => {
                let listening = match self.cfg.cidstart {
                    CidStart::Dtmf => true,
                    CidStart::Polarity => cid_until.is_some(),
                    CidStart::Ring => false,
                };
                if self.cfg.usecallerid && listening {
                    self.cid = Some(c);
                    State::Idle {
                        cid_until: Some(after(now, self.cfg.cid_prering_timeout_ms)),
                    }
                } else {
                    State::Idle { cid_until }
                }
            }

            // ----- ringing -----
            (
                State::Ringing {
                    rings,
                    ring_on: false,
                    ..
                },
                Input::Line(RingOn),
            ) => {
                let rings = rings.saturating_add(1);
                self.report(Report::Ringing { count: rings });
                if self.cid_between_rings() {
                    // The caller-ID window between rings 1 and 2 is over.
                    self.stop_cid();
                }
                let ringing = State::Ringing {
                    rings,
                    ring_on: true,
                    deadline: after(now, self.cfg.ring_timeout_ms),
                };
                self.maybe_answer(ringing, rings)
            }
            (
                State::Ringing {
                    rings,
                    ring_on: true,
                    ..
                },
                Input::Line(RingOff),
            ) => {
                if rings == 1 && self.cid_between_rings() && self.cid.is_none() {
                    self.start_cid();
                }
                State::Ringing {
                    rings,
                    ring_on: false,
                    deadline: after(now, self.cfg.ring_timeout_ms),
                }
            }
            (state @ State::Ringing { rings, .. }, Input::CallerId(c)) => {
                if self.cfg.usecallerid && self.cid.is_none() {
                    self.cid = Some(c);
                    self.stop_cid();
                    self.maybe_answer(state, rings)
                } else {
                    state
                }
            }

            // ----- connected -----
            (State::Connected, Input::Progress(p)) if self.cfg.busydetect => {
                match self.tone_failure(p) {
                    Some(Cause::Busy) => self.end_call(
                        now,
                        Report::Disconnected {
                            cause: Cause::BusyTone,
                        },
                    ),
                    Some(cause) => self.end_call(now, Report::Disconnected { cause }),
                    None => State::Connected,
                }
            }
            (State::Connected, Input::Line(PolarityReversal))
                if self.cfg.hanguponpolarityswitch =>
            {
                self.end_call(
                    now,
                    Report::Disconnected {
                        cause: Cause::PolarityReversal,
                    },
                )
            }

            // ----- outbound -----
            (State::AwaitDialTone { .. } | State::BlindDialWait { .. }, Input::Line(RingOn)) => {
                self.glare()
            }
            (State::AwaitDialTone { number, .. }, Input::Progress(Progress::DialTone)) => {
                self.dial_number(now, number)
            }
            (State::Dialling { .. }, Input::DigitsSent) => State::AwaitAnswer {
                ringback: false,
                deadline: after(now, self.cfg.no_answer_timeout_ms),
            },
            (State::AwaitAnswer { deadline, .. }, Input::Progress(Progress::Ringback)) => {
                State::AwaitAnswer {
                    ringback: true,
                    deadline,
                }
            }
            (State::AwaitAnswer { .. }, Input::Progress(Progress::Voice))
            | (State::AwaitAnswer { ringback: true, .. }, Input::Progress(Progress::Silence))
                if self.cfg.answeronvoice =>
            {
                self.outbound_connected()
            }
            (State::AwaitAnswer { .. }, Input::Line(PolarityReversal))
                if self.cfg.answeronpolarityswitch =>
            {
                self.outbound_connected()
            }
            (
                state @ (State::AwaitDialTone { .. }
                | State::BlindDialWait { .. }
                | State::Dialling { .. }
                | State::AwaitAnswer { .. }),
                Input::Progress(p),
            ) => match self.tone_failure(p) {
                Some(reason) => self.end_call(now, Report::OutboundFailed { reason }),
                None => state,
            },

            // ----- transfer -----
            (State::TransferFlash { ext, .. }, Input::Line(HookComplete(HookCommand::Flash))) => {
                self.after_flash(now, ext)
            }
            (State::TransferAwaitDialTone { ext, .. }, Input::Progress(Progress::DialTone)) => {
                self.transfer_dial(now, ext)
            }
            (State::TransferDialling { .. }, Input::DigitsSent) => State::TransferAwaitAnswer {
                ringback: false,
                deadline: after(now, self.cfg.transfer_no_answer_timeout_ms),
            },
            (State::TransferAwaitAnswer { deadline, .. }, Input::Progress(Progress::Ringback)) => {
                State::TransferAwaitAnswer {
                    ringback: true,
                    deadline,
                }
            }
            (State::TransferAwaitAnswer { .. }, Input::Progress(Progress::Voice))
            | (
                State::TransferAwaitAnswer { ringback: true, .. },
                Input::Progress(Progress::Silence),
            ) => self.end_call(now, Report::TransferCompleted),
            (State::TransferAwaitAnswer { .. }, Input::Line(PolarityReversal))
                if self.cfg.answeronpolarityswitch =>
            {
                self.end_call(now, Report::TransferCompleted)
            }
            (
                state @ (State::TransferAwaitDialTone { .. }
                | State::TransferPause { .. }
                | State::TransferDialling { .. }
                | State::TransferAwaitAnswer { .. }),
                Input::Progress(p),
            ) => match self.tone_failure(p) {
                Some(reason) => self.retrieve(now, reason),
                None => state,
            },
            (
                State::TransferRetrieve { reason, .. },
                Input::Line(HookComplete(HookCommand::Flash)),
            ) => self.retrieved(reason),

            // ----- loop-current drop: kewl-start disconnect -----
            // Not while flashing: the flash itself opens the loop.
            (
                State::Connected
                | State::TransferAwaitDialTone { .. }
                | State::TransferPause { .. }
                | State::TransferDialling { .. }
                | State::TransferAwaitAnswer { .. },
                Input::Line(LoopCurrentDrop),
            ) if self.kewl_start() => self.end_call(
                now,
                Report::Disconnected {
                    cause: Cause::LoopCurrentDrop,
                },
            ),
            (
                State::AwaitDialTone { .. }
                | State::BlindDialWait { .. }
                | State::Dialling { .. }
                | State::AwaitAnswer { .. },
                Input::Line(LoopCurrentDrop),
            ) if self.kewl_start() => self.end_call(
                now,
                Report::OutboundFailed {
                    reason: Cause::LoopCurrentDrop,
                },
            ),

            // Everything else (duplicate ring edges, hook completions, stray detector
            // results, inputs during the guard time) is ignored.
            (state, _) => state,
        }
    }
}
