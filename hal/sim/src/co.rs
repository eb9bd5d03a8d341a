//! The simulated central office behind one port: ringing, caller ID, far-end scripts,
//! supervision tones, echo, outbound routing and hook-flash transfer.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

use yingda_dsp::dtmf::{DtmfEvent, DtmfRx};
use yingda_dsp::g711;
use yingda_hal::{AudioFrame, HookCommand, Law, LineEvent, Millis, FRAME_MS, FRAME_SAMPLES};

use crate::script::{CallScript, Callee, Step};
use crate::signals::{self, CidSignal, Tone, Tones};

/// How the exchange behaves on one line.
#[derive(Debug, Clone)]
pub struct LineProfile {
    /// Ringing on time (China: 1000 ms).
    pub ring_on_ms: u32,
    /// Ringing off time (China: 4000 ms).
    pub ring_off_ms: u32,
    /// Delay from the end of the first ring to the FSK caller ID burst.
    pub fsk_delay_ms: u32,
    /// Gap between the end of DTMF caller ID and the first ring.
    pub dtmf_cid_gap_ms: u32,
    /// Reverse polarity when the box answers an inbound call.
    pub polarity_on_answer: bool,
    /// Reverse polarity when the far end hangs up.
    pub polarity_on_far_hangup: bool,
    /// Drop loop current when the far end hangs up (kewl start disconnect supervision).
    pub loop_drop_on_far_hangup: bool,
    /// Play busy tone after the far end hangs up, until the box goes on hook.
    pub busy_tone_after_far_hangup: bool,
    /// Hybrid echo of what the box sends: delay in ms (`None`: no echo).
    pub echo_delay_ms: Option<u32>,
    /// Hybrid echo loss in dB (ERL).
    pub echo_loss_db: f32,
    /// Digits from the box end after this much silence (outbound and transfer dialling).
    pub interdigit_timeout_ms: u32,
}

impl Default for LineProfile {
    fn default() -> Self {
        Self {
            ring_on_ms: 1000,
            ring_off_ms: 4000,
            fsk_delay_ms: 500,
            dtmf_cid_gap_ms: 600,
            polarity_on_answer: false,
            polarity_on_far_hangup: false,
            loop_drop_on_far_hangup: false,
            busy_tone_after_far_hangup: true,
            echo_delay_ms: None,
            echo_loss_db: 12.0,
            interdigit_timeout_ms: 2500,
        }
    }
}

/// A step of a simulated call, for logs and test assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CoEvent {
    /// A call was queued on the port.
    CallPlaced,
    /// DTMF caller ID sent before the first ring.
    DtmfCallerIdSent(String),
    /// Ring number `n` started.
    Ringing(u32),
    /// FSK caller ID sent after the first ring.
    FskCallerIdSent,
    /// The box answered.
    Answered,
    /// The far end sent DTMF digits.
    DigitsSent(String),
    /// The far end played audio of this many milliseconds.
    AudioPlayed(u32),
    /// The far end heard the box talk and fall quiet (or gave up waiting).
    ReplyHeard,
    /// The far end hung up.
    FarEndHungUp,
    /// Busy tone started after a far-end hang-up.
    BusyTone,
    /// The box hung up.
    BoxHungUp,
    /// The caller gave up before answer.
    Abandoned,
    /// The box went off hook for an outbound call; dial tone.
    DialTone,
    /// The box dialled these digits.
    Dialled(String),
    /// The called number answered.
    CalleeAnswered(String),
    /// The called number is busy.
    CalleeBusy(String),
    /// The box flashed the hook (transfer request or retrieve).
    HookFlash,
    /// The call was handed to this extension by the box hanging up after dialling.
    Transferred(String),
    /// The box took the held caller back after a failed transfer.
    Retrieved,
}

impl fmt::Display for CoEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoEvent::CallPlaced => write!(f, "CO: incoming call placed"),
            CoEvent::DtmfCallerIdSent(d) => write!(f, "CO: DTMF caller ID sent ({d})"),
            CoEvent::Ringing(n) => write!(f, "CO: ring {n}"),
            CoEvent::FskCallerIdSent => write!(f, "CO: FSK caller ID sent"),
            CoEvent::Answered => write!(f, "CO: box answered"),
            CoEvent::DigitsSent(d) => write!(f, "CO: caller pressed {d}"),
            CoEvent::AudioPlayed(ms) => write!(f, "CO: caller spoke for {ms} ms"),
            CoEvent::ReplyHeard => write!(f, "CO: caller heard the box finish"),
            CoEvent::FarEndHungUp => write!(f, "CO: caller hung up"),
            CoEvent::BusyTone => write!(f, "CO: busy tone"),
            CoEvent::BoxHungUp => write!(f, "CO: box hung up"),
            CoEvent::Abandoned => write!(f, "CO: caller gave up before answer"),
            CoEvent::DialTone => write!(f, "CO: box off hook, dial tone"),
            CoEvent::Dialled(n) => write!(f, "CO: box dialled {n}"),
            CoEvent::CalleeAnswered(n) => write!(f, "CO: {n} answered"),
            CoEvent::CalleeBusy(n) => write!(f, "CO: {n} busy"),
            CoEvent::HookFlash => write!(f, "CO: hook flash"),
            CoEvent::Transferred(n) => write!(f, "CO: call transferred to {n}"),
            CoEvent::Retrieved => write!(f, "CO: held caller retrieved"),
        }
    }
}

/// How a simulated call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The far end hung up first.
    FarEnd,
    /// The box hung up first.
    Box,
    /// The caller gave up before the box answered.
    Abandoned,
    /// The box transferred the caller to this extension.
    Transferred(String),
}

/// Everything the far end saw of one call, handed out when the call is over.
#[derive(Debug, Clone)]
pub struct CallReport {
    /// Channel number.
    pub channel: u32,
    /// The box placed the call.
    pub outbound: bool,
    /// Digits the box dialled (outbound).
    pub dialled: String,
    /// When the call was answered.
    pub answered_at: Option<Millis>,
    /// When the call ended.
    pub ended_at: Millis,
    /// How it ended.
    pub ending: Ending,
    /// What the box sent while connected (8 kHz linear, capped at ten minutes).
    pub heard: Vec<i16>,
}

const MAX_HEARD: usize = 8000 * 600;

/// A clip being played to the box.
#[derive(Debug, Clone)]
struct Clip {
    samples: Arc<[i16]>,
    pos: usize,
    looped: bool,
}

impl Clip {
    fn once(samples: Arc<[i16]>) -> Self {
        Self {
            samples,
            pos: 0,
            looped: false,
        }
    }
    fn looped(samples: Arc<[i16]>) -> Self {
        Self {
            samples,
            pos: 0,
            looped: true,
        }
    }
    /// Mix the next samples into `out`; returns false once a one-shot clip has ended.
    fn mix(&mut self, out: &mut [i16]) -> bool {
        for o in out.iter_mut() {
            if self.pos >= self.samples.len() {
                if !self.looped || self.samples.is_empty() {
                    return false;
                }
                self.pos = 0;
            }
            *o = o.saturating_add(self.samples[self.pos]);
            self.pos += 1;
        }
        self.pos < self.samples.len() || self.looped
    }
}

/// Mean absolute sample above which a frame from the box counts as sound (about −45 dBm0;
/// G.711 idle noise and the box's comfort silence stay far below it).
const SOUND_LEVEL: u32 = 40;

/// An [`Step::AwaitReply`] in progress.
#[derive(Debug, Clone, Copy)]
struct AwaitReply {
    quiet_ms: u32,
    give_up_at: Millis,
    heard: bool,
    quiet_since: Option<Millis>,
}

impl AwaitReply {
    /// Take the box's frame `tx` at `now`; true once the box's turn is over.
    fn done(&mut self, now: Millis, tx: &[i16]) -> bool {
        let level = tx.iter().map(|s| u32::from(s.unsigned_abs())).sum::<u32>()
            / u32::try_from(tx.len().max(1)).unwrap_or(1);
        if level > SOUND_LEVEL {
            self.heard = true;
            self.quiet_since = None;
        } else if self.heard && self.quiet_since.is_none() {
            self.quiet_since = Some(now);
        }
        now >= self.give_up_at
            || self
                .quiet_since
                .is_some_and(|t| now - t >= Millis::from(self.quiet_ms))
    }
}

/// Runs a list of [`Step`]s against time.
#[derive(Debug)]
struct Runner {
    steps: VecDeque<Step>,
    clip: Option<Clip>,
    wait_until: Option<Millis>,
    awaiting: Option<AwaitReply>,
    hang_up_at: Option<Millis>,
}

enum RunnerOut {
    Going,
    HungUp,
}

impl Runner {
    fn new(steps: &[Step], now: Millis, hang_up_after_ms: Option<u32>) -> Self {
        Self {
            steps: steps.iter().cloned().collect(),
            clip: None,
            wait_until: None,
            awaiting: None,
            hang_up_at: hang_up_after_ms.map(|ms| now + Millis::from(ms)),
        }
    }

    fn frame(
        &mut self,
        now: Millis,
        tx: &[i16],
        out: &mut [i16],
        log: &mut impl FnMut(CoEvent),
    ) -> RunnerOut {
        if self.hang_up_at.is_some_and(|t| now >= t) {
            return RunnerOut::HungUp;
        }
        loop {
            if let Some(a) = &mut self.awaiting {
                if !a.done(now, tx) {
                    return RunnerOut::Going;
                }
                self.awaiting = None;
                log(CoEvent::ReplyHeard);
                continue;
            }
            if let Some(clip) = &mut self.clip {
                if clip.mix(out) {
                    return RunnerOut::Going;
                }
                self.clip = None;
                continue;
            }
            if let Some(t) = self.wait_until {
                if now < t {
                    return RunnerOut::Going;
                }
                self.wait_until = None;
            }
            match self.steps.pop_front() {
                None => return RunnerOut::Going,
                Some(Step::Wait(ms)) => self.wait_until = Some(now + Millis::from(ms)),
                Some(Step::Play(s)) => {
                    log(CoEvent::AudioPlayed((s.len() / 8) as u32));
                    self.clip = Some(Clip::once(s));
                }
                Some(Step::Digits(d)) => {
                    self.clip = Some(Clip::once(signals::dtmf(&d).into()));
                    log(CoEvent::DigitsSent(d));
                }
                Some(Step::AwaitReply { quiet_ms, max_ms }) => {
                    self.awaiting = Some(AwaitReply {
                        quiet_ms,
                        give_up_at: now + Millis::from(max_ms),
                        heard: false,
                        quiet_since: None,
                    });
                }
                Some(Step::HangUp) => return RunnerOut::HungUp,
            }
        }
    }
}

#[derive(Debug)]
enum State {
    Idle,
    /// DTMF caller ID playing before the first ring.
    DtmfCid {
        script: CallScript,
        ring_at: Millis,
    },
    Ringing {
        script: CallScript,
        ring: u32,
        phase_start: Millis,
        on: bool,
        fsk: Option<Arc<[i16]>>,
    },
    Talking {
        runner: Runner,
        held: Option<Runner>,
        callee: Option<String>,
    },
    /// The far end hung up; supervision tone until the box hangs up.
    FarGone,
    /// The box is off hook dialling (outbound, or after a flash with `held` waiting).
    Dialling {
        digits: String,
        last_digit: Option<Millis>,
        held: Option<Runner>,
    },
    /// Ringback/busy/congestion to the box for a dialled number.
    Alerting {
        number: String,
        answer_at: Option<Millis>,
        polarity: bool,
        steps: Vec<Step>,
        held: Option<Runner>,
    },
}

/// One port of the simulated exchange.
#[derive(Debug)]
pub(crate) struct Port {
    pub(crate) channel: u32,
    law: Law,
    profile: LineProfile,
    tones: Tones,
    state: State,
    offhook: bool,
    flash_until: Option<Millis>,
    pending_hook: Option<HookCommand>,
    pub(crate) events: VecDeque<LineEvent>,
    far: Option<Clip>,
    queued_calls: VecDeque<(CallScript, Option<CidSignal>)>,
    echo: Vec<i16>,
    echo_pos: usize,
    echo_delay: usize,
    echo_gain: f32,
    dtmf_rx: DtmfRx,
    report: Option<CallReport>,
}

impl Port {
    pub(crate) fn new(channel: u32, law: Law, profile: LineProfile, tones: Tones) -> Self {
        let delay = profile.echo_delay_ms.map_or(0, |ms| (ms * 8) as usize);
        let echo_gain = 10f32.powf(-profile.echo_loss_db / 20.0);
        Self {
            channel,
            law,
            state: State::Idle,
            offhook: false,
            flash_until: None,
            pending_hook: None,
            events: VecDeque::new(),
            far: None,
            queued_calls: VecDeque::new(),
            echo: vec![0; delay + 3],
            echo_delay: delay,
            echo_pos: 0,
            echo_gain,
            dtmf_rx: DtmfRx::new(),
            report: None,
            profile,
            tones,
        }
    }

    /// Queue an inbound call; `cid` is its caller ID, already rendered.
    pub(crate) fn place_call(&mut self, script: CallScript, cid: Option<CidSignal>) {
        self.queued_calls.push_back((script, cid));
    }

    pub(crate) fn set_hook(&mut self, cmd: HookCommand) {
        self.pending_hook = Some(cmd);
    }

    fn new_report(&mut self, outbound: bool) {
        self.report = Some(CallReport {
            channel: self.channel,
            outbound,
            dialled: String::new(),
            answered_at: None,
            ended_at: 0,
            ending: Ending::Box,
            heard: Vec::new(),
        });
    }

    fn finish(&mut self, now: Millis, ending: Ending, done: &mut Vec<CallReport>) {
        if let Some(mut r) = self.report.take() {
            r.ended_at = now;
            r.ending = ending;
            done.push(r);
        }
    }

    /// Advance one frame: consume what the box sent (`tx`), produce what it receives (`rx`).
    pub(crate) fn tick(
        &mut self,
        now: Millis,
        tx: &AudioFrame,
        rx: &mut AudioFrame,
        callees: &HashMap<String, Callee>,
        log: &mut impl FnMut(CoEvent),
        done: &mut Vec<CallReport>,
    ) {
        let mut tx_lin = [0i16; FRAME_SAMPLES];
        g711::decode(self.law, tx, &mut tx_lin);
        let mut far = [0i16; FRAME_SAMPLES];

        self.hook_changes(now, log, done);
        self.advance(now, &tx_lin, &mut far, callees, log, done);

        if let Some(clip) = &mut self.far {
            if !clip.mix(&mut far) {
                self.far = None;
            }
        }
        if let Some(r) = &mut self.report {
            if r.answered_at.is_some() && r.heard.len() < MAX_HEARD {
                r.heard.extend_from_slice(&tx_lin);
            }
        }
        // Hybrid echo: what the box sends comes back delayed and attenuated, slightly smeared
        // by the line, only while the loop is closed.
        if self.profile.echo_delay_ms.is_some() {
            let n = self.echo.len();
            for (i, out) in far.iter_mut().enumerate() {
                self.echo[self.echo_pos] = if self.offhook { tx_lin[i] } else { 0 };
                let tap = |back: usize| {
                    f32::from(self.echo[(self.echo_pos + n - self.echo_delay - back) % n])
                };
                let e = (0.6 * tap(0) + 0.3 * tap(1) + 0.1 * tap(2)) * self.echo_gain;
                *out = (f32::from(*out) + e).clamp(-32768.0, 32767.0) as i16;
                self.echo_pos = (self.echo_pos + 1) % n;
            }
        }
        g711::encode(self.law, &far, rx);
    }

    fn hook_changes(
        &mut self,
        now: Millis,
        log: &mut impl FnMut(CoEvent),
        done: &mut Vec<CallReport>,
    ) {
        if self.flash_until.is_some_and(|t| now >= t) {
            self.flash_until = None;
            self.events
                .push_back(LineEvent::HookComplete(HookCommand::Flash));
            self.on_flash(log);
        }
        let Some(cmd) = self.pending_hook.take() else {
            return;
        };
        match cmd {
            HookCommand::OffHook if !self.offhook => {
                self.offhook = true;
                self.events.push_back(LineEvent::HookComplete(cmd));
                self.on_offhook(now, log);
            }
            HookCommand::OnHook if self.offhook => {
                self.offhook = false;
                self.events.push_back(LineEvent::HookComplete(cmd));
                self.on_onhook(now, log, done);
            }
            HookCommand::Flash if self.offhook => {
                self.flash_until = Some(now + 300);
            }
            // Repeating the current hook state completes at once and changes nothing.
            _ => self.events.push_back(LineEvent::HookComplete(cmd)),
        }
    }

    fn on_offhook(&mut self, now: Millis, log: &mut impl FnMut(CoEvent)) {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Ringing { script, .. } | State::DtmfCid { script, .. } => {
                log(CoEvent::Answered);
                self.far = None;
                if self.profile.polarity_on_answer {
                    self.events.push_back(LineEvent::PolarityReversal);
                }
                if let Some(r) = &mut self.report {
                    r.answered_at = Some(now);
                }
                self.state = State::Talking {
                    runner: Runner::new(&script.steps, now, script.hang_up_after_ms),
                    held: None,
                    callee: None,
                };
            }
            State::Idle => {
                log(CoEvent::DialTone);
                self.new_report(true);
                self.start_dialling(None);
            }
            other => self.state = other,
        }
    }

    fn on_onhook(
        &mut self,
        now: Millis,
        log: &mut impl FnMut(CoEvent),
        done: &mut Vec<CallReport>,
    ) {
        // Hanging up during a flash ends it: no flash completes on an idle line.
        self.flash_until = None;
        self.far = None;
        match std::mem::replace(&mut self.state, State::Idle) {
            // Hanging up while a caller is held and an extension was dialled hands the caller
            // over: a blind transfer.
            State::Alerting {
                number,
                held: Some(_),
                ..
            }
            | State::Talking {
                held: Some(_),
                callee: Some(number),
                ..
            } => {
                log(CoEvent::Transferred(number.clone()));
                self.finish(now, Ending::Transferred(number), done);
            }
            State::FarGone => {
                log(CoEvent::BoxHungUp);
                self.finish(now, Ending::FarEnd, done);
            }
            _ => {
                log(CoEvent::BoxHungUp);
                self.finish(now, Ending::Box, done);
            }
        }
    }

    fn on_flash(&mut self, log: &mut impl FnMut(CoEvent)) {
        log(CoEvent::HookFlash);
        match std::mem::replace(&mut self.state, State::Idle) {
            // First flash: hold the caller and give dial tone for the extension.
            State::Talking {
                runner, held: None, ..
            } => self.start_dialling(Some(runner)),
            // Second flash: drop the extension and take the caller back.
            State::Talking {
                held: Some(runner), ..
            }
            | State::Alerting {
                held: Some(runner), ..
            }
            | State::Dialling {
                held: Some(runner), ..
            } => {
                log(CoEvent::Retrieved);
                self.far = None;
                self.state = State::Talking {
                    runner,
                    held: None,
                    callee: None,
                };
            }
            other => self.state = other,
        }
    }

    /// Dial tone and a fresh digit receiver; `held` is the caller waiting during a transfer.
    fn start_dialling(&mut self, held: Option<Runner>) {
        self.far = Some(Clip::looped(self.tones.get(Tone::Dial)));
        self.dtmf_rx = DtmfRx::new();
        self.state = State::Dialling {
            digits: String::new(),
            last_digit: None,
            held,
        };
    }

    fn advance(
        &mut self,
        now: Millis,
        tx: &[i16; FRAME_SAMPLES],
        far: &mut [i16; FRAME_SAMPLES],
        callees: &HashMap<String, Callee>,
        log: &mut impl FnMut(CoEvent),
        done: &mut Vec<CallReport>,
    ) {
        match &mut self.state {
            State::Idle => {
                if self.offhook {
                    return;
                }
                if let Some((script, cid)) = self.queued_calls.pop_front() {
                    log(CoEvent::CallPlaced);
                    self.new_report(false);
                    match cid {
                        Some(CidSignal::Dtmf { digits, audio }) => {
                            let ring_at = now
                                + (audio.len() / 8) as Millis
                                + Millis::from(self.profile.dtmf_cid_gap_ms);
                            log(CoEvent::DtmfCallerIdSent(digits));
                            self.far = Some(Clip::once(audio));
                            self.state = State::DtmfCid { script, ring_at };
                        }
                        Some(CidSignal::Fsk(audio)) => {
                            self.start_ring(now, script, Some(audio), log)
                        }
                        None => self.start_ring(now, script, None, log),
                    }
                }
            }
            State::DtmfCid { ring_at, .. } => {
                if now >= *ring_at {
                    let State::DtmfCid { script, .. } =
                        std::mem::replace(&mut self.state, State::Idle)
                    else {
                        unreachable!("matched above")
                    };
                    self.start_ring(now, script, None, log);
                }
            }
            State::Ringing {
                script,
                ring,
                phase_start,
                on,
                fsk,
            } => {
                let elapsed = now - *phase_start;
                if *on && elapsed >= Millis::from(self.profile.ring_on_ms) {
                    *on = false;
                    *phase_start = now;
                    self.events.push_back(LineEvent::RingOff);
                    if script.abandon_after_rings.is_some_and(|n| *ring >= n) {
                        log(CoEvent::Abandoned);
                        self.state = State::Idle;
                        self.finish(now, Ending::Abandoned, done);
                    }
                } else if !*on {
                    if *ring == 1 && elapsed >= Millis::from(self.profile.fsk_delay_ms) {
                        if let Some(audio) = fsk.take() {
                            log(CoEvent::FskCallerIdSent);
                            self.far = Some(Clip::once(audio));
                        }
                    }
                    if elapsed >= Millis::from(self.profile.ring_off_ms) {
                        *on = true;
                        *ring += 1;
                        *phase_start = now;
                        log(CoEvent::Ringing(*ring));
                        self.events.push_back(LineEvent::RingOn);
                    }
                }
            }
            State::Talking { runner, .. } => {
                if self.flash_until.is_some() {
                    return;
                }
                if let RunnerOut::HungUp = runner.frame(now, tx, far, log) {
                    log(CoEvent::FarEndHungUp);
                    self.far_hangup(log);
                }
            }
            State::FarGone => {}
            State::Dialling {
                digits, last_digit, ..
            } => {
                let mut got = None;
                self.dtmf_rx.rx(tx, |ev| {
                    if let DtmfEvent::Start { digit, .. } = ev {
                        got = Some(digit);
                    }
                });
                if let Some(d) = got {
                    if digits.is_empty() {
                        self.far = None;
                    }
                    digits.push(d);
                    *last_digit = Some(now);
                }
                let complete = last_digit
                    .is_some_and(|t| now - t >= Millis::from(self.profile.interdigit_timeout_ms))
                    || callees.contains_key(digits.as_str());
                if complete {
                    let State::Dialling { digits, held, .. } =
                        std::mem::replace(&mut self.state, State::Idle)
                    else {
                        unreachable!("matched above")
                    };
                    log(CoEvent::Dialled(digits.clone()));
                    if let Some(r) = &mut self.report {
                        if held.is_none() {
                            r.dialled = digits.clone();
                        }
                    }
                    self.route(now, digits, held, callees, log);
                }
            }
            State::Alerting { answer_at, .. } => {
                if answer_at.is_some_and(|t| now >= t) {
                    let State::Alerting {
                        number,
                        polarity,
                        steps,
                        held,
                        ..
                    } = std::mem::replace(&mut self.state, State::Idle)
                    else {
                        unreachable!("matched above")
                    };
                    log(CoEvent::CalleeAnswered(number.clone()));
                    self.far = None;
                    if polarity {
                        self.events.push_back(LineEvent::PolarityReversal);
                    }
                    if held.is_none() {
                        if let Some(r) = &mut self.report {
                            r.answered_at = Some(now);
                        }
                    }
                    self.state = State::Talking {
                        runner: Runner::new(&steps, now, None),
                        held,
                        callee: Some(number),
                    };
                }
            }
        }
    }

    fn start_ring(
        &mut self,
        now: Millis,
        script: CallScript,
        fsk: Option<Arc<[i16]>>,
        log: &mut impl FnMut(CoEvent),
    ) {
        log(CoEvent::Ringing(1));
        self.events.push_back(LineEvent::RingOn);
        self.state = State::Ringing {
            script,
            ring: 1,
            phase_start: now,
            on: true,
            fsk,
        };
    }

    fn route(
        &mut self,
        now: Millis,
        number: String,
        held: Option<Runner>,
        callees: &HashMap<String, Callee>,
        log: &mut impl FnMut(CoEvent),
    ) {
        let callee = callees.get(&number).cloned().unwrap_or(Callee::Congestion);
        let (tone, answer_at, polarity, steps) = match callee {
            Callee::Answer {
                after_ms,
                polarity,
                steps,
            } => (
                Tone::Ringback,
                Some(now + Millis::from(after_ms)),
                polarity,
                steps,
            ),
            Callee::NoAnswer => (Tone::Ringback, None, false, Vec::new()),
            Callee::Busy => {
                log(CoEvent::CalleeBusy(number.clone()));
                (Tone::Busy, None, false, Vec::new())
            }
            Callee::Congestion => (Tone::Congestion, None, false, Vec::new()),
        };
        self.far = Some(Clip::looped(self.tones.get(tone)));
        self.state = State::Alerting {
            number,
            answer_at,
            polarity,
            steps,
            held,
        };
    }

    fn far_hangup(&mut self, log: &mut impl FnMut(CoEvent)) {
        self.state = State::FarGone;
        if self.profile.polarity_on_far_hangup {
            self.events.push_back(LineEvent::PolarityReversal);
        }
        if self.profile.loop_drop_on_far_hangup {
            self.events.push_back(LineEvent::LoopCurrentDrop);
        }
        if self.profile.busy_tone_after_far_hangup {
            log(CoEvent::BusyTone);
            self.far = Some(Clip::looped(self.tones.get(Tone::Busy)));
        }
    }
}

/// Duration of one frame in milliseconds: the simulated clock's step per tick.
pub(crate) const FRAME_TIME: Millis = FRAME_MS as Millis;
