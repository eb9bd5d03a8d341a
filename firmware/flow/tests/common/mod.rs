//! A scripted caller for interpreter tests: keeps simulated time, pending timers and the
//! last prompt, and turns "press 1", "say 挂号", "advance 5000 ms" into events.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use yingda_flow::interp::{Action, Breakers, Call, Event, HttpRequest, Prompt, TransferOutcome};
use yingda_flow::{validate_file, Flow};
use yingda_speech::recognizer::{Lang, Recognition};

/// 2026-03-02 10:00 Beijing time (a Monday, working hours), in ms UTC.
pub const MONDAY_10AM: i64 = 1_772_416_800_000;

pub fn sample(name: &str) -> Arc<Flow> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../flows")
        .join(name);
    Arc::new(validate_file(&path).unwrap_or_else(|e| panic!("{name}: {e:#?}")))
}

#[derive(Debug)]
pub struct Driver {
    pub call: Call,
    pub now: i64,
    pub timers: BTreeMap<u64, i64>,
    pub prompt: Option<u64>,
    pub prompts: Vec<String>,
    pub http: Vec<HttpRequest>,
    pub transfers: Vec<String>,
    pub listens: usize,
    pub ended: Option<yingda_flow::interp::EndReason>,
    pub actions: Vec<Action>,
}

impl Driver {
    pub fn new(flow: Arc<Flow>, start_ms: i64) -> Driver {
        Driver::with_breakers(flow, start_ms, Arc::new(Breakers::default()))
    }

    pub fn with_breakers(flow: Arc<Flow>, start_ms: i64, breakers: Arc<Breakers>) -> Driver {
        Driver {
            call: Call::new(flow, breakers),
            now: start_ms,
            timers: BTreeMap::new(),
            prompt: None,
            prompts: Vec::new(),
            http: Vec::new(),
            transfers: Vec::new(),
            listens: 0,
            ended: None,
            actions: Vec::new(),
        }
    }

    pub fn send(&mut self, ev: Event) {
        let acts = self.call.handle(ev);
        for a in &acts {
            match a {
                Action::Play { id, prompt, .. } => {
                    self.prompt = Some(*id);
                    self.prompts.push(match prompt {
                        Prompt::File(f) => {
                            format!("file:{}", f.file_name().unwrap().to_string_lossy())
                        }
                        Prompt::Tts { text, .. } => text.clone(),
                    });
                }
                Action::StopPrompt { .. } => self.prompt = None,
                Action::StartTimer { id, after_ms } => {
                    self.timers.insert(*id, self.now + *after_ms as i64);
                }
                Action::CancelTimer { id } => {
                    self.timers.remove(id);
                }
                Action::Http(r) => self.http.push(r.clone()),
                Action::Transfer { extension } => self.transfers.push(extension.clone()),
                Action::Listen { .. } => self.listens += 1,
                Action::HangUp { reason } => self.ended = Some(*reason),
                _ => {}
            }
        }
        self.actions.extend(acts);
    }

    pub fn start(&mut self, caller: &str, did: &str) {
        self.send(Event::CallStarted {
            at_ms: self.now,
            caller: caller.into(),
            did: did.into(),
        });
    }

    /// The current prompt plays to its end after `ms`.
    pub fn finish_prompt_after(&mut self, ms: i64) {
        self.advance(ms);
        let id = self.prompt.take().expect("a prompt is playing");
        self.send(Event::PromptFinished {
            at_ms: self.now,
            id,
        });
    }

    pub fn finish_prompt(&mut self) {
        self.finish_prompt_after(1000);
    }

    pub fn press(&mut self, keys: &str) {
        for d in keys.chars() {
            self.advance(300);
            self.send(Event::Digit {
                at_ms: self.now,
                digit: d,
            });
        }
    }

    pub fn say(&mut self, text: &str, label: Option<&str>) {
        self.advance(1500);
        let lang = if text.is_ascii() { Lang::En } else { Lang::Zh };
        let r = Recognition {
            text: text.into(),
            confidence: 0.9,
            label: label.map(String::from),
            digits: None,
            lang,
            no_speech_prob: 0.0,
        };
        self.send(Event::Recognized {
            at_ms: self.now,
            result: Some(r),
        });
    }

    /// Advance time, firing due timers in order.
    pub fn advance(&mut self, ms: i64) {
        let until = self.now + ms;
        loop {
            let due = self
                .timers
                .iter()
                .filter(|(_, t)| **t <= until)
                .min_by_key(|(id, t)| (**t, **id))
                .map(|(id, t)| (*id, *t));
            let Some((id, t)) = due else { break };
            self.timers.remove(&id);
            self.now = t;
            self.send(Event::TimerFired { at_ms: t, id });
        }
        self.now = until;
    }

    pub fn reply(&mut self, status: u16, body: &str) {
        self.advance(200);
        let id = self.http.last().expect("a request").id;
        self.send(Event::HttpReply {
            at_ms: self.now,
            id,
            status,
            body: body.into(),
        });
    }

    pub fn transfer(&mut self, outcome: TransferOutcome) {
        self.advance(5000);
        self.send(Event::TransferResult {
            at_ms: self.now,
            outcome,
        });
    }

    pub fn last_prompt(&self) -> &str {
        self.prompts.last().map(String::as_str).unwrap_or("")
    }
}
