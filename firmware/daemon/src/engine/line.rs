//! One line's real-time processing: signalling, DSP and prompt playback, once per 20 ms.
//!
//! Per tick: line events → FXO machine; received frame → G.711 decode → rx gain → echo
//! canceller → caller-ID / DTMF / call-progress detectors; then the outgoing frame from the
//! DTMF generator or the prompt player → tx gain → encode. Nothing here blocks; the only
//! allocations are for the rare caller-ID event.

use yingda_dsp::callerid::{Absence as FskAbsence, CallerIdRx};
use yingda_dsp::dtmf::{DtmfEvent, DtmfRx, DtmfTx};
use yingda_dsp::dtmf_cid::{Absence as DtmfCidAbsence, DtmfCidDecoder};
use yingda_dsp::echo::{EchoCanceller, EchoConfig};
use yingda_dsp::g711;
use yingda_dsp::tones::{
    self, CallProgress, ChinaTone, ToneDetector, ToneDetectorConfig, ToneEvent,
};
use yingda_hal::{AudioFrame, Channel, Law, Millis, FRAME_SAMPLES};
use yingda_signaling::fxo::{self, Action, Actions, CidReceiver, Fxo, FxoConfig, Input, Report};
use yingda_store::DisconnectCause;

use super::player::Player;
use super::{CallerInfo, CommandKind, Event, EventKind};
use crate::config::ChannelGroup;

/// Per-line settings derived from the configuration.
#[derive(Debug, Clone)]
pub struct LineSettings {
    /// Line signalling settings.
    pub fxo: FxoConfig,
    /// Echo canceller taps; 0 = off.
    pub echo_taps: usize,
    /// Receive gain, dB.
    pub rx_gain_db: f32,
    /// Transmit gain, dB.
    pub tx_gain_db: f32,
}

impl LineSettings {
    /// Settings for a channel of `group`.
    pub fn from_group(g: &ChannelGroup) -> Self {
        Self {
            fxo: g.fxo.clone(),
            echo_taps: g.echocancel.taps() as usize,
            rx_gain_db: g.rxgain,
            tx_gain_db: g.txgain,
        }
    }
}

/// Call-progress detection: busy/congestion cadence counting in a connected call, or the
/// outbound classifier (dial tone, ringback, voice, silence) while a call is set up.
enum ProgressDet {
    Connected(Box<ToneDetector>),
    Outbound(Box<CallProgress>),
}

/// Silence that counts as "answered" after ringback: longer than China's 4 s ringback gap.
const OUTBOUND_SILENCE_MS: u32 = 6000;

enum CidRx {
    Fsk(Box<CallerIdRx>),
    Dtmf(Box<DtmfCidDecoder>),
}

/// Map the line machine's cause to the record's.
pub(crate) fn record_cause(c: fxo::Cause) -> DisconnectCause {
    match c {
        fxo::Cause::BusyTone => DisconnectCause::FarEndBusyTone,
        fxo::Cause::Congestion => DisconnectCause::Congestion,
        fxo::Cause::PolarityReversal => DisconnectCause::PolarityReversal,
        fxo::Cause::LoopCurrentDrop => DisconnectCause::LoopCurrentDrop,
        fxo::Cause::LocalHangup | fxo::Cause::Cancelled => DisconnectCause::LocalHangup,
        fxo::Cause::Abandoned => DisconnectCause::CallerAbandoned,
        fxo::Cause::NoAnswer => DisconnectCause::NoAnswer,
        fxo::Cause::Busy => DisconnectCause::Busy,
        fxo::Cause::NoDialTone => DisconnectCause::NoDialTone,
        fxo::Cause::Glare => DisconnectCause::Glare,
        fxo::Cause::Alarm => DisconnectCause::Alarm,
        _ => DisconnectCause::Error,
    }
}

fn gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

fn apply_gain(samples: &mut [i16], g: f32) {
    if (g - 1.0).abs() > 1e-3 {
        for s in samples {
            *s = (f32::from(*s) * g).clamp(-32768.0, 32767.0) as i16;
        }
    }
}

/// The real-time state of one channel.
pub struct LineEngine {
    channel: u32,
    law: Law,
    fxo: Fxo,
    echo: Option<EchoCanceller>,
    echo_taps: usize,
    rx_gain: f32,
    tx_gain: f32,
    dtmf: DtmfRx,
    cid: Option<CidRx>,
    progress: Option<ProgressDet>,
    busycount: u8,
    player: Player,
    dtmf_tx: DtmfTx,
    timer: Option<Millis>,
    pending: Actions,
    connected: bool,
    now: Millis,
    last_tx: [i16; FRAME_SAMPLES],
    hal_errors: u64,
    /// A refused request, reported at the next tick.
    refused: Option<EventKind>,
    /// Caller audio goes to the control plane.
    tap: bool,
}

impl std::fmt::Debug for LineEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineEngine")
            .field("channel", &self.channel)
            .field("state", &self.fxo.state())
            .finish()
    }
}

impl LineEngine {
    /// An idle line. The FXO settings were validated with the configuration.
    pub fn new(channel: u32, law: Law, settings: LineSettings) -> Result<Self, fxo::ConfigError> {
        let busycount = settings.fxo.busycount;
        let mut fxo = Fxo::new(settings.fxo)?;
        // Start-up actions (on hook; the DTMF caller-ID receiver on the idle line when
        // cidstart = "dtmf") are carried out at the first tick.
        let pending = fxo.poll(0);
        Ok(Self {
            channel,
            law,
            fxo,
            echo: None,
            echo_taps: settings.echo_taps,
            rx_gain: gain(settings.rx_gain_db),
            tx_gain: gain(settings.tx_gain_db),
            dtmf: DtmfRx::new(),
            cid: None,
            progress: None,
            busycount,
            player: Player::new(),
            dtmf_tx: DtmfTx::new(),
            timer: None,
            pending,
            connected: false,
            now: 0,
            last_tx: [0; FRAME_SAMPLES],
            hal_errors: 0,
            refused: None,
            tap: false,
        })
    }

    /// Whether the line is on hook with no call (idle, or in the on-hook guard): safe to stop.
    pub fn is_idle(&self) -> bool {
        matches!(
            self.fxo.state(),
            fxo::LineState::Idle | fxo::LineState::Guard
        ) && !self.fxo.is_off_hook()
    }

    /// Errors the channel returned so far.
    pub fn hal_errors(&self) -> u64 {
        self.hal_errors
    }

    /// Take a command from the control plane; takes effect at the next tick.
    pub fn command(&mut self, cmd: CommandKind) {
        match cmd {
            CommandKind::Play { samples, barge_in } => {
                // A full queue drops the prompt; the flow still gets PromptsDone when the
                // queue drains, so the call goes on.
                let _ = self.player.push(samples, barge_in);
            }
            CommandKind::StopPrompts => self.player.stop(),
            CommandKind::StartTimer(ms) => self.timer = Some(self.now + Millis::from(ms)),
            CommandKind::CancelTimer => self.timer = None,
            CommandKind::HangUp => {
                if let Ok(actions) = self.fxo.hangup(self.now) {
                    self.pending.extend(actions);
                }
            }
            CommandKind::Dial(number) => match self.fxo.dial(self.now, &number) {
                Ok(actions) => self.pending.extend(actions),
                Err(e) => self.refused = Some(EventKind::Refused(e.to_string())),
            },
            CommandKind::Transfer(ext) => match self.fxo.transfer(self.now, &ext) {
                Ok(actions) => self.pending.extend(actions),
                Err(e) => self.refused = Some(EventKind::Refused(e.to_string())),
            },
            CommandKind::Tap(on) => self.tap = on,
        }
    }

    /// Process one 20 ms tick on `ch`: `now` is the span clock, `wall_ms` wall time for events.
    pub fn tick<C: Channel>(
        &mut self,
        ch: &mut C,
        now: Millis,
        wall_ms: i64,
        emit: &mut dyn FnMut(Event),
    ) {
        self.now = now;
        let mut out = Out {
            channel: self.channel,
            wall_ms,
            emit,
        };
        let pending = std::mem::take(&mut self.pending);
        self.apply(ch, pending, &mut out);

        // Line events.
        loop {
            match ch.poll_event() {
                Ok(Some(ev)) => {
                    let actions = self.fxo.handle(now, Input::Line(ev));
                    self.apply(ch, actions, &mut out);
                }
                Ok(None) => break,
                Err(_) => {
                    self.hal_errors += 1;
                    break;
                }
            }
        }

        // Received audio.
        let mut frame: AudioFrame = [g711::silence(self.law); FRAME_SAMPLES];
        if ch.read_frame(&mut frame).is_err() {
            self.hal_errors += 1;
        }
        let mut rx = [0i16; FRAME_SAMPLES];
        g711::decode(self.law, &frame, &mut rx);
        apply_gain(&mut rx, self.rx_gain);
        if let Some(ec) = &mut self.echo {
            let input = rx;
            // Same-length slices: cannot fail.
            let _ = ec.process(&self.last_tx, &input, &mut rx);
        }
        self.detect(ch, &rx, &mut out);
        if self.tap && self.connected {
            out.send(EventKind::Audio(rx));
        }

        // Timers.
        if self.fxo.next_timeout().is_some_and(|t| t <= now) {
            let actions = self.fxo.poll(now);
            self.apply(ch, actions, &mut out);
        }
        if self.timer.is_some_and(|t| t <= now) {
            self.timer = None;
            out.send(EventKind::TimerFired);
        }

        // Outgoing audio.
        let mut tx = [0i16; FRAME_SAMPLES];
        if self.dtmf_tx.busy() {
            self.dtmf_tx.tx(&mut tx);
            if !self.dtmf_tx.busy() {
                let actions = self.fxo.handle(now, Input::DigitsSent);
                self.apply(ch, actions, &mut out);
            }
        } else if self.player.fill(&mut tx) && self.connected {
            out.send(EventKind::PromptsDone);
        }
        apply_gain(&mut tx, self.tx_gain);
        let mut coded: AudioFrame = [0; FRAME_SAMPLES];
        g711::encode(self.law, &tx, &mut coded);
        if ch.write_frame(&coded).is_err() {
            self.hal_errors += 1;
        }
        // The echo canceller's reference is what actually went to the line.
        g711::decode(self.law, &coded, &mut self.last_tx);
    }

    fn detect<C: Channel>(&mut self, ch: &mut C, rx: &[i16], out: &mut Out<'_>) {
        let now = self.now;
        let mut info: Option<CallerInfo> = None;
        match &mut self.cid {
            Some(CidRx::Fsk(r)) => r.rx(rx, |m| {
                let Ok(m) = m else { return };
                info = Some(CallerInfo {
                    number: m.info.number.as_ref().map(|n| n.as_str().to_owned()),
                    name: m.info.name_str().map(str::to_owned),
                    absence: m.info.number_absence.map(|a| match a {
                        FskAbsence::Private => "private",
                        _ => "unavailable",
                    }),
                    format: Some(match m.standard {
                        yingda_dsp::fsk::FskStandard::Bell202 => "bell202",
                        _ => "v23",
                    }),
                });
            }),
            Some(CidRx::Dtmf(r)) => r.rx(rx, |c| {
                let Ok(c) = c else { return };
                info = Some(CallerInfo {
                    number: (!c.number.is_empty()).then(|| c.number.as_str().to_owned()),
                    name: None,
                    absence: c.absence.map(|a| match a {
                        DtmfCidAbsence::Private => "private",
                        _ => "unavailable",
                    }),
                    format: Some("dtmf"),
                });
            }),
            None => {}
        }
        if let Some(i) = info {
            let line_cid = i.to_line();
            out.send(EventKind::CallerId(i));
            let actions = self.fxo.handle(now, Input::CallerId(line_cid));
            self.apply(ch, actions, out);
        }

        if self.connected {
            let mut digits: heapless::Vec<char, 4> = heapless::Vec::new();
            self.dtmf.rx(rx, |ev| {
                if let DtmfEvent::Start { digit, .. } = ev {
                    let _ = digits.push(digit);
                }
            });
            for d in digits {
                if self.player.barge_in_allowed() {
                    self.player.stop();
                }
                out.send(EventKind::Digit(d));
            }
        }

        let cycles = self.busycount;
        let mut heard: heapless::Vec<fxo::Progress, 4> = heapless::Vec::new();
        match &mut self.progress {
            Some(ProgressDet::Connected(det)) => det.rx(rx, |ev| {
                if let ToneEvent::Detected { tone, cycles, .. } = ev {
                    let cycles = cycles.min(255) as u8;
                    let _ = heard.push(match tone {
                        ChinaTone::Busy => fxo::Progress::Busy { cycles },
                        ChinaTone::Congestion => fxo::Progress::Congestion { cycles },
                        ChinaTone::Ringback => fxo::Progress::Ringback,
                        ChinaTone::Dial => fxo::Progress::DialTone,
                    });
                }
            }),
            Some(ProgressDet::Outbound(cp)) => cp.rx(rx, |p, _| {
                let _ = heard.push(match p {
                    tones::Progress::Silence => fxo::Progress::Silence,
                    tones::Progress::Ringback => fxo::Progress::Ringback,
                    tones::Progress::Busy => fxo::Progress::Busy { cycles },
                    tones::Progress::Congestion => fxo::Progress::Congestion { cycles },
                    tones::Progress::Dial => fxo::Progress::DialTone,
                    tones::Progress::Voice => fxo::Progress::Voice,
                });
            }),
            None => {}
        }
        for h in heard {
            let actions = self.fxo.handle(now, Input::Progress(h));
            self.apply(ch, actions, out);
        }
    }

    fn start_progress(&mut self) {
        let cfg = ToneDetectorConfig {
            busy_count: u32::from(self.busycount),
            congestion_count: u32::from(self.busycount),
            ..ToneDetectorConfig::default()
        };
        let Ok(det) = ToneDetector::with_config(cfg) else {
            return;
        };
        // In a call, count busy cadence for disconnect; while setting up an outbound call or
        // a transfer, classify dial tone, ringback, busy and the callee's voice.
        let in_call = self.connected && self.fxo.state() == fxo::LineState::Connected;
        self.progress = if in_call {
            Some(ProgressDet::Connected(Box::new(det)))
        } else {
            CallProgress::new(det, OUTBOUND_SILENCE_MS)
                .ok()
                .map(|cp| ProgressDet::Outbound(Box::new(cp)))
        };
    }

    fn apply<C: Channel>(&mut self, ch: &mut C, actions: Actions, out: &mut Out<'_>) {
        for a in actions {
            match a {
                Action::SetHook(cmd) => {
                    if ch.set_hook(cmd).is_err() {
                        self.hal_errors += 1;
                    }
                }
                Action::SendDigits(d) => {
                    if self.dtmf_tx.put(&d).is_err() {
                        // Unsendable digits: tell the machine they are done so it moves on
                        // (it will then time out waiting for an answer).
                        let more = self.fxo.handle(self.now, Input::DigitsSent);
                        self.pending.extend(more);
                    }
                }
                Action::StartCidReceiver(kind) => {
                    self.cid = Some(match kind {
                        CidReceiver::Dtmf => CidRx::Dtmf(Box::default()),
                        _ => CidRx::Fsk(Box::default()),
                    });
                }
                Action::StopCidReceiver => self.cid = None,
                Action::StartProgressDetection => self.start_progress(),
                Action::StopProgressDetection => self.progress = None,
                Action::Report(r) => self.report(r, out),
            }
        }
        self.sync_progress();
    }

    /// Keep the detector matching the call phase: the FXO machine leaves progress
    /// detection on from a call into a transfer (and back), but the phases need different
    /// detectors.
    fn sync_progress(&mut self) {
        let in_call = self.connected && self.fxo.state() == fxo::LineState::Connected;
        match self.progress {
            Some(ProgressDet::Connected(_)) if !in_call => self.start_progress(),
            Some(ProgressDet::Outbound(_)) if in_call => self.start_progress(),
            _ => {}
        }
    }

    fn report(&mut self, r: Report, out: &mut Out<'_>) {
        match r {
            Report::Ringing { count: 1 } => out.send(EventKind::Ringing),
            Report::Answered | Report::OutboundConnected => {
                self.connected = true;
                self.dtmf = DtmfRx::new();
                self.echo = (self.echo_taps > 0)
                    .then(|| {
                        EchoCanceller::new(EchoConfig {
                            taps: self.echo_taps,
                            // Everything that listens to the canceller's output here is a
                            // detector (DTMF, call progress, VAD, recogniser), not a person.
                            // The non-linear processor would mute a caller or a busy tone
                            // quieter than half the prompt's peak (Geigel), so it is off:
                            // the linear canceller's residual is what they hear.
                            nlp: yingda_dsp::echo::Nlp::Off,
                            ..EchoConfig::default()
                        })
                        .ok()
                    })
                    .flatten();
                out.send(EventKind::Answered);
            }
            Report::Disconnected { cause } | Report::OutboundFailed { reason: cause } => {
                self.connected = false;
                self.tap = false;
                self.player.stop();
                self.dtmf_tx.clear();
                self.timer = None;
                self.echo = None;
                out.send(EventKind::Disconnected(record_cause(cause)));
            }
            Report::TransferCompleted => {
                self.connected = false;
                self.tap = false;
                self.player.stop();
                self.timer = None;
                self.echo = None;
                out.send(EventKind::Transferred);
                out.send(EventKind::Disconnected(DisconnectCause::LocalHangup));
            }
            Report::TransferFailed { reason } => {
                out.send(EventKind::TransferFailed(record_cause(reason)))
            }
            Report::OutOfService => out.send(EventKind::Alarm(true)),
            Report::InService => out.send(EventKind::Alarm(false)),
            _ => {}
        }
    }
}

struct Out<'a> {
    channel: u32,
    wall_ms: i64,
    emit: &'a mut dyn FnMut(Event),
}

impl Out<'_> {
    fn send(&mut self, kind: EventKind) {
        (self.emit)(Event {
            channel: self.channel,
            wall_ms: self.wall_ms,
            kind,
        });
    }
}
