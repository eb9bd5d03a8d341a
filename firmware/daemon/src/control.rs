//! The control plane's call logic, sans-IO: line [`Event`]s in, [`Command`]s and finished
//! CDRs out. The runtime feeds it from the real-time queues; tests feed it directly.

use std::collections::HashMap;
use std::sync::Arc;

use yingda_store::{CallId, Cdr, CdrEvent, Direction, DisconnectCause};

use crate::demo_flow::{self, DemoFlow, DemoSettings};
use crate::engine::{CallerInfo, Command, CommandKind, Event, EventKind};
use crate::prompts::Prompts;

/// What the controller produced for one event.
#[derive(Debug)]
pub enum Output {
    /// Send this to the line.
    Command(Command),
    /// A call began and got this id.
    CallStarted {
        /// Channel.
        channel: u32,
        /// Call id.
        id: CallId,
    },
    /// A call ended; store its record.
    CallEnded(Box<Cdr>),
}

#[derive(Debug)]
struct Call {
    id: CallId,
    direction: Direction,
    called: Option<String>,
    start_ms: i64,
    answer_ms: Option<i64>,
    caller: CallerInfo,
    digits: String,
    log: Vec<CdrEvent>,
    flow: DemoFlow,
}

impl Call {
    fn note(&mut self, wall_ms: i64, what: String) {
        let offset_ms = u64::try_from(wall_ms - self.start_ms).unwrap_or(0);
        self.log.push(CdrEvent { offset_ms, what });
    }
}

/// Runs the demo flow on every call and assembles CDRs.
#[derive(Debug)]
pub struct Controller {
    prompts: Arc<Prompts>,
    settings: DemoSettings,
    calls: HashMap<u32, Call>,
    /// Caller ID heard before ringing (DTMF caller ID), kept until the call starts.
    early_cid: HashMap<u32, CallerInfo>,
}

impl Controller {
    /// A controller playing prompts from `prompts`; they must include
    /// [`demo_flow::PROMPTS`].
    pub fn new(prompts: Arc<Prompts>, settings: DemoSettings) -> Self {
        Self {
            prompts,
            settings,
            calls: HashMap::new(),
            early_cid: HashMap::new(),
        }
    }

    /// Channels with a call in progress.
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Handle one event; `new_id` allocates a call id when a call starts.
    pub fn on_event(&mut self, ev: Event, new_id: &mut dyn FnMut() -> CallId) -> Vec<Output> {
        let mut out = Vec::new();
        let ch = ev.channel;
        match ev.kind {
            EventKind::CallerId(info) => match self.calls.get_mut(&ch) {
                Some(call) => {
                    call.note(
                        ev.wall_ms,
                        format!("caller id ({})", info.format.unwrap_or("?")),
                    );
                    call.caller = info;
                }
                None => {
                    self.early_cid.insert(ch, info);
                }
            },
            EventKind::Ringing => {
                if !self.calls.contains_key(&ch) {
                    let id = new_id();
                    let mut call = Call {
                        id,
                        direction: Direction::Inbound,
                        called: None,
                        start_ms: ev.wall_ms,
                        answer_ms: None,
                        caller: self.early_cid.remove(&ch).unwrap_or_default(),
                        digits: String::new(),
                        log: Vec::new(),
                        flow: DemoFlow::new(self.settings),
                    };
                    call.note(ev.wall_ms, "ringing".into());
                    self.calls.insert(ch, call);
                    out.push(Output::CallStarted { channel: ch, id });
                }
            }
            EventKind::Answered => {
                if let Some(call) = self.calls.get_mut(&ch) {
                    call.answer_ms = Some(ev.wall_ms);
                    call.note(ev.wall_ms, "answered".into());
                    let actions = call.flow.handle(demo_flow::Input::Answered);
                    self.act(ch, actions, &mut out);
                }
            }
            EventKind::Digit(d) => {
                if let Some(call) = self.calls.get_mut(&ch) {
                    call.digits.push(d);
                    // The event log records that a key was pressed, never which one.
                    call.note(ev.wall_ms, "digit".into());
                    let actions = call.flow.handle(demo_flow::Input::Digit(d));
                    self.act(ch, actions, &mut out);
                }
            }
            EventKind::PromptsDone => self.feed(
                ch,
                ev.wall_ms,
                demo_flow::Input::PromptsDone,
                "prompts done",
                &mut out,
            ),
            EventKind::TimerFired => {
                self.feed(ch, ev.wall_ms, demo_flow::Input::Timer, "timer", &mut out)
            }
            EventKind::Disconnected(cause) => {
                self.early_cid.remove(&ch);
                if let Some(mut call) = self.calls.remove(&ch) {
                    call.note(ev.wall_ms, format!("disconnected: {}", cause.as_str()));
                    out.push(Output::CallEnded(Box::new(Cdr {
                        id: call.id,
                        channel: ch,
                        direction: call.direction,
                        caller: call.caller.number,
                        called: call.called,
                        start_ms: call.start_ms,
                        answer_ms: call.answer_ms,
                        end_ms: ev.wall_ms,
                        cause,
                        digits: call.digits,
                        events: call.log,
                    })));
                }
            }
            EventKind::Alarm(_) | EventKind::Audio(_) => {}
            EventKind::Transferred => {
                if let Some(call) = self.calls.get_mut(&ch) {
                    call.note(ev.wall_ms, "transferred".into());
                }
            }
            EventKind::TransferFailed(cause) => {
                if let Some(call) = self.calls.get_mut(&ch) {
                    call.note(ev.wall_ms, format!("transfer failed: {}", cause.as_str()));
                }
            }
            EventKind::Refused(why) => {
                // A refused dial leaves a call that never started: close its record.
                if let Some(call) = self.calls.get_mut(&ch) {
                    call.note(ev.wall_ms, format!("request refused: {why}"));
                    if call.direction == Direction::Outbound && call.answer_ms.is_none() {
                        let end = Event {
                            channel: ch,
                            wall_ms: ev.wall_ms,
                            kind: EventKind::Disconnected(DisconnectCause::Error),
                        };
                        out.extend(self.on_event(end, new_id));
                    }
                }
            }
        }
        out
    }

    /// Place an outbound call on `channel`; the flow runs once it is answered.
    pub fn dial(
        &mut self,
        channel: u32,
        number: &str,
        wall_ms: i64,
        new_id: &mut dyn FnMut() -> CallId,
    ) -> Vec<Output> {
        if self.calls.contains_key(&channel) {
            return Vec::new();
        }
        let id = new_id();
        let mut call = Call {
            id,
            direction: Direction::Outbound,
            called: Some(number.to_owned()),
            start_ms: wall_ms,
            answer_ms: None,
            caller: CallerInfo::default(),
            digits: String::new(),
            log: Vec::new(),
            flow: DemoFlow::new(self.settings),
        };
        call.note(wall_ms, "dialling".into());
        self.calls.insert(channel, call);
        vec![
            Output::CallStarted { channel, id },
            Output::Command(Command {
                channel,
                kind: CommandKind::Dial(number.to_owned()),
            }),
        ]
    }

    /// Hand the call on `channel` to `extension` (hook flash and dial).
    pub fn transfer(&mut self, channel: u32, extension: &str, wall_ms: i64) -> Vec<Output> {
        let Some(call) = self.calls.get_mut(&channel) else {
            return Vec::new();
        };
        call.note(wall_ms, "transfer requested".into());
        vec![
            Output::Command(Command {
                channel,
                kind: CommandKind::StopPrompts,
            }),
            Output::Command(Command {
                channel,
                kind: CommandKind::CancelTimer,
            }),
            Output::Command(Command {
                channel,
                kind: CommandKind::Transfer(extension.to_owned()),
            }),
        ]
    }

    /// End every call still in progress with cause `Shutdown` (the grace period ran out)
    /// and return their records.
    pub fn abort_all(&mut self, wall_ms: i64) -> Vec<Cdr> {
        let channels: Vec<u32> = self.calls.keys().copied().collect();
        let mut never = || CallId::new(0);
        channels
            .into_iter()
            .flat_map(|channel| {
                let ev = Event {
                    channel,
                    wall_ms,
                    kind: EventKind::Disconnected(DisconnectCause::Shutdown),
                };
                self.on_event(ev, &mut never)
            })
            .filter_map(|o| match o {
                Output::CallEnded(cdr) => Some(*cdr),
                _ => None,
            })
            .collect()
    }

    fn feed(
        &mut self,
        ch: u32,
        wall_ms: i64,
        input: demo_flow::Input,
        what: &str,
        out: &mut Vec<Output>,
    ) {
        if let Some(call) = self.calls.get_mut(&ch) {
            call.note(wall_ms, what.into());
            let actions = call.flow.handle(input);
            self.act(ch, actions, out);
        }
    }

    fn act(&self, channel: u32, actions: Vec<demo_flow::Action>, out: &mut Vec<Output>) {
        for a in actions {
            let kind = match a {
                demo_flow::Action::Play { prompt, barge_in } => match self.prompts.get(&prompt) {
                    Some(samples) => CommandKind::Play {
                        samples: samples.clone(),
                        barge_in,
                    },
                    // Prompts are checked at start-up against the flow's list; a miss here is a
                    // flow bug, and skipping the prompt keeps the call going.
                    None => continue,
                },
                demo_flow::Action::StopPrompts => CommandKind::StopPrompts,
                demo_flow::Action::StartTimer(ms) => CommandKind::StartTimer(ms),
                demo_flow::Action::CancelTimer => CommandKind::CancelTimer,
                demo_flow::Action::HangUp => CommandKind::HangUp,
            };
            out.push(Output::Command(Command { channel, kind }));
        }
    }
}

/// Mask a phone number for logs and pages: keep the first three and last four digits of
/// long numbers (`138****8000`), hide all but the last two of short ones.
pub fn mask_number(n: &str) -> String {
    let chars: Vec<char> = n.chars().collect();
    match chars.len() {
        0 => String::new(),
        len if len >= 8 => {
            let mut s: String = chars[..3].iter().collect();
            s.extend(std::iter::repeat_n('*', len - 7));
            s.extend(&chars[len - 4..]);
            s
        }
        len => {
            let keep = len.min(2);
            let mut s: String = std::iter::repeat_n('*', len - keep).collect();
            s.extend(&chars[len - keep..]);
            s
        }
    }
}

/// Mask every run of 5 or more digits in a free-text log message (the simulated exchange's
/// own log names the numbers it sends).
pub fn mask_digit_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 5 {
            out.push_str(&mask_number(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_in_free_text_are_masked() {
        assert_eq!(
            mask_digit_runs("CO: DTMF caller ID sent (A13800138000C), ring 2"),
            "CO: DTMF caller ID sent (A138****8000C), ring 2"
        );
        assert_eq!(
            mask_digit_runs("dial 8001 then 12345"),
            "dial 8001 then ***45"
        );
    }

    #[test]
    fn masks_numbers() {
        assert_eq!(mask_number("13800138000"), "138****8000");
        assert_eq!(mask_number("80001234"), "800*1234");
        assert_eq!(mask_number("8001"), "**01");
        assert_eq!(mask_number(""), "");
    }

    fn ev(kind: EventKind, t: i64) -> Event {
        Event {
            channel: 1,
            wall_ms: t,
            kind,
        }
    }

    #[test]
    fn builds_a_cdr_from_a_call() {
        let prompts = Arc::new(Prompts::load(&Prompts::builtin_dir(), demo_flow::PROMPTS).unwrap());
        let mut c = Controller::new(prompts, DemoSettings::default());
        let mut next = 0;
        let mut ids = || {
            next += 1;
            CallId::new(next)
        };
        let cid = CallerInfo {
            number: Some("13800138000".into()),
            format: Some("dtmf"),
            ..Default::default()
        };
        assert!(c
            .on_event(ev(EventKind::CallerId(cid), 1000), &mut ids)
            .is_empty());
        let out = c.on_event(ev(EventKind::Ringing, 1500), &mut ids);
        assert!(matches!(out[..], [Output::CallStarted { channel: 1, .. }]));
        let out = c.on_event(ev(EventKind::Answered, 7000), &mut ids);
        assert!(matches!(
            &out[..],
            [Output::Command(Command {
                kind: CommandKind::Play { .. },
                ..
            })]
        ));
        c.on_event(ev(EventKind::Digit('5'), 8000), &mut ids);
        let out = c.on_event(
            ev(
                EventKind::Disconnected(DisconnectCause::FarEndBusyTone),
                9000,
            ),
            &mut ids,
        );
        let Output::CallEnded(cdr) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(cdr.caller.as_deref(), Some("13800138000"));
        assert_eq!(
            (cdr.start_ms, cdr.answer_ms, cdr.end_ms),
            (1500, Some(7000), 9000)
        );
        assert_eq!(cdr.digits, "5");
        assert_eq!(cdr.cause, DisconnectCause::FarEndBusyTone);
        assert!(
            cdr.events.iter().all(|e| !e.what.contains('5')),
            "event log never holds digits"
        );
        assert_eq!(c.active_calls(), 0);
    }
}
