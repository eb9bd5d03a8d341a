//! The flow interpreter: one [`Call`] per call, sans-IO. The daemon feeds it [`Event`]s
//! (each carrying the time it happened, from the injected clock) and carries out the
//! [`Action`]s it returns: play prompts, arm the recogniser, start timers, send backend
//! requests, transfer, record, hang up. It never reads a clock, sleeps or does I/O.
//!
//! Every call keeps an event log ([`LogEntry`], serialisable) for the CDR. Values typed into a
//! `secret` collect node (PINs) are never logged, never rendered into prompts and never shown
//! by `Debug`; only the backend request that needs them carries them, and its `Debug` hides
//! them.

use crate::calendar::{self, Date};
use crate::flow::{lang_from_code, Flow, Kind, NodeDef, PromptDef};
use crate::slots::{self, SlotKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use yingda_speech::grammar::Grammar;
use yingda_speech::recognizer::{Lang, Mode, Recognition, Request};

/// Identifies a prompt, timer, backend request or recording within one call.
pub type Id = u64;

/// Default no-input timeout after a prompt, ms.
pub const DEFAULT_TIMEOUT_MS: u64 = 5000;
/// Nodes run back to back without waiting (set/branch/hours) before the call is ended as a
/// flow error; the validator rules out such loops, this is the guard behind it.
pub const MAX_STEPS: usize = 1000;

/// What happened on the call.
#[derive(Clone)]
#[non_exhaustive]
pub enum Event {
    /// The call was answered.
    CallStarted {
        /// When (ms, Unix epoch UTC).
        at_ms: i64,
        /// Caller number (may be empty).
        caller: String,
        /// Called number / DID.
        did: String,
    },
    /// A DTMF key.
    Digit {
        /// When.
        at_ms: i64,
        /// `0-9`, `*`, `#`, `A-D`.
        digit: char,
    },
    /// The recogniser finished; `None` when it heard no speech or failed.
    Recognized {
        /// When.
        at_ms: i64,
        /// The result.
        result: Option<Recognition>,
    },
    /// A prompt played to its end (not sent for prompts stopped by barge-in).
    PromptFinished {
        /// When.
        at_ms: i64,
        /// Which.
        id: Id,
    },
    /// A timer expired.
    TimerFired {
        /// When.
        at_ms: i64,
        /// Which.
        id: Id,
    },
    /// A backend answered.
    HttpReply {
        /// When.
        at_ms: i64,
        /// Request id.
        id: Id,
        /// HTTP status.
        status: u16,
        /// Response body.
        body: String,
    },
    /// A backend request failed (connect, TLS, timeout in the client).
    HttpFailed {
        /// When.
        at_ms: i64,
        /// Request id.
        id: Id,
        /// Why.
        error: String,
    },
    /// The outcome of a transfer.
    TransferResult {
        /// When.
        at_ms: i64,
        /// Outcome.
        outcome: TransferOutcome,
    },
    /// A recording ended.
    RecordingFinished {
        /// When.
        at_ms: i64,
        /// Recording id.
        id: Id,
        /// Where the daemon stored it.
        path: String,
    },
    /// The caller hung up.
    HangUp {
        /// When.
        at_ms: i64,
    },
}

impl Event {
    /// When the event happened.
    pub fn at_ms(&self) -> i64 {
        match self {
            Event::CallStarted { at_ms, .. }
            | Event::Digit { at_ms, .. }
            | Event::Recognized { at_ms, .. }
            | Event::PromptFinished { at_ms, .. }
            | Event::TimerFired { at_ms, .. }
            | Event::HttpReply { at_ms, .. }
            | Event::HttpFailed { at_ms, .. }
            | Event::TransferResult { at_ms, .. }
            | Event::RecordingFinished { at_ms, .. }
            | Event::HangUp { at_ms } => *at_ms,
        }
    }
}

impl fmt::Debug for Event {
    /// Keys and transcripts are not shown: they may be a PIN or an ID number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Digit { at_ms, .. } => write!(f, "Digit {{ at_ms: {at_ms}, digit: <hidden> }}"),
            Event::Recognized { at_ms, result } => write!(
                f,
                "Recognized {{ at_ms: {at_ms}, speech: {} }}",
                result.is_some()
            ),
            Event::CallStarted { at_ms, did, .. } => {
                write!(f, "CallStarted {{ at_ms: {at_ms}, did: {did:?} }}")
            }
            Event::PromptFinished { at_ms, id } => {
                write!(f, "PromptFinished {{ at_ms: {at_ms}, id: {id} }}")
            }
            Event::TimerFired { at_ms, id } => {
                write!(f, "TimerFired {{ at_ms: {at_ms}, id: {id} }}")
            }
            Event::HttpReply {
                at_ms, id, status, ..
            } => write!(
                f,
                "HttpReply {{ at_ms: {at_ms}, id: {id}, status: {status} }}"
            ),
            Event::HttpFailed { at_ms, id, error } => write!(
                f,
                "HttpFailed {{ at_ms: {at_ms}, id: {id}, error: {error:?} }}"
            ),
            Event::TransferResult { at_ms, outcome } => write!(
                f,
                "TransferResult {{ at_ms: {at_ms}, outcome: {outcome:?} }}"
            ),
            Event::RecordingFinished { at_ms, id, .. } => {
                write!(f, "RecordingFinished {{ at_ms: {at_ms}, id: {id} }}")
            }
            Event::HangUp { at_ms } => write!(f, "HangUp {{ at_ms: {at_ms} }}"),
        }
    }
}

/// How a transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferOutcome {
    /// The extension answered; the line is handed over.
    Answered,
    /// Nobody answered in time.
    NoAnswer,
    /// The extension was busy.
    Busy,
}

/// What to play.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// A recorded WAV file (absolute, or relative to the daemon's prompt directory).
    File(PathBuf),
    /// Text for TTS.
    Tts {
        /// The text, with numbers, money and dates already written out.
        text: String,
        /// Its language.
        lang: Lang,
    },
}

/// What may interrupt a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BargeIn {
    /// Caller speech stops the prompt.
    pub speech: bool,
    /// A DTMF key stops the prompt.
    pub dtmf: bool,
}

/// Endpointer settings for one recognition (`None` = the recogniser's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Endpoint {
    /// Silence that ends the utterance, ms.
    pub end_silence_ms: Option<u64>,
    /// Longest utterance, ms.
    pub max_speech_ms: Option<u64>,
}

/// A backend request for the daemon's HTTP client.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Request id (the reply event carries it).
    pub id: Id,
    /// `GET`, `POST`, `PUT`, `DELETE`.
    pub method: String,
    /// The URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<String>,
    /// Client timeout, ms.
    pub timeout_ms: u64,
    /// Whether URL, headers or body hold a secret value (then `Debug` hides them).
    pub secret: bool,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("HttpRequest");
        d.field("id", &self.id).field("method", &self.method);
        if self.secret {
            d.field("url", &"<hidden>").field("body", &"<hidden>");
        } else {
            d.field("url", &self.url)
                .field("headers", &self.headers)
                .field("body", &self.body);
        }
        d.field("timeout_ms", &self.timeout_ms).finish()
    }
}

/// Why the call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// A `hangup` node.
    Flow,
    /// Handed to an extension that answered: the daemon completes the transfer.
    Transferred,
    /// The caller hung up.
    Caller,
    /// The flow ran [`MAX_STEPS`] nodes without waiting, or named a missing node.
    FlowError,
}

/// What the daemon must do.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Action {
    /// Play a prompt.
    Play {
        /// Prompt id (in `PromptFinished`).
        id: Id,
        /// What.
        prompt: Prompt,
        /// What may stop it.
        barge_in: BargeIn,
    },
    /// Stop a playing prompt (barge-in).
    StopPrompt {
        /// Which.
        id: Id,
    },
    /// Start recognising the caller's next utterance.
    Listen {
        /// What to expect.
        request: Request,
        /// Endpointer settings.
        endpoint: Endpoint,
    },
    /// Stop recognising.
    StopListening,
    /// Fire `TimerFired { id }` after `after_ms` from now.
    StartTimer {
        /// Timer id.
        id: Id,
        /// Delay.
        after_ms: u64,
    },
    /// Cancel a timer (a late `TimerFired` for it is ignored anyway).
    CancelTimer {
        /// Which.
        id: Id,
    },
    /// Send a backend request; answer with `HttpReply` or `HttpFailed`.
    Http(HttpRequest),
    /// Hook flash and dial `extension`; answer with `TransferResult`.
    Transfer {
        /// Dial string.
        extension: String,
    },
    /// Record the caller for at most `max_ms`; answer with `RecordingFinished`.
    Record {
        /// Recording id.
        id: Id,
        /// Limit.
        max_ms: u64,
    },
    /// End the call.
    HangUp {
        /// Why.
        reason: EndReason,
    },
}

/// One entry of the call's event log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEntry {
    /// When (ms, Unix epoch UTC).
    pub at_ms: i64,
    /// The node current at the time.
    pub node: String,
    /// What happened.
    #[serde(flatten)]
    pub what: LogWhat,
}

/// What a log entry records.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum LogWhat {
    CallStarted {
        flow: String,
        caller: String,
        did: String,
    },
    Node {
        kind: String,
    },
    PromptStarted {
        id: Id,
        prompt: String,
    },
    PromptFinished {
        id: Id,
    },
    BargeIn {
        id: Id,
    },
    ListenStarted,
    /// Digits typed; `<secret>` for secret nodes.
    Input {
        digits: String,
    },
    Recognition {
        text: String,
        label: Option<String>,
        confidence: f32,
    },
    Slot {
        var: String,
        value: String,
    },
    NoInput {
        tries: u32,
    },
    NoMatch {
        tries: u32,
    },
    Agent,
    /// A complaint word was heard (the configured word, never the caller's text).
    Complaint {
        word: String,
    },
    BackendRequest {
        id: Id,
        method: String,
        url: String,
        attempt: u32,
    },
    BackendReply {
        id: Id,
        status: u16,
    },
    BackendFailed {
        id: Id,
        error: String,
    },
    CircuitOpen,
    Transfer {
        extension: String,
    },
    TransferResult {
        outcome: TransferOutcome,
    },
    RecordingStarted {
        id: Id,
    },
    RecordingFinished {
        id: Id,
    },
    Language {
        lang: String,
    },
    End {
        reason: EndReason,
    },
}

const SECRET: &str = "<secret>";

#[derive(Debug, Default)]
struct BreakerState {
    failures: u32,
    open_until: Option<i64>,
}

/// Circuit breakers for backend nodes, shared by all calls of a flow (keyed by flow name and
/// node id). After `circuit_failures` failed calls in a row (each after its retries) the
/// node goes straight to `on_error` for `circuit_open_ms`; the first call after that tries
/// again.
#[derive(Debug, Default)]
pub struct Breakers {
    inner: Mutex<BTreeMap<String, BreakerState>>,
}

impl Breakers {
    fn with<R>(&self, key: &str, f: impl FnOnce(&mut BreakerState) -> R) -> R {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(g.entry(key.to_string()).or_default())
    }

    /// Whether the breaker for `key` is open at `now_ms`.
    pub fn is_open(&self, key: &str, now_ms: i64) -> bool {
        self.with(key, |s| s.open_until.is_some_and(|t| now_ms < t))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Playing,
    Prompting,
    Waiting,
    Http,
    Transferring,
    Recording,
    Ended,
}

/// One call running a flow.
pub struct Call {
    flow: Arc<Flow>,
    breakers: Arc<Breakers>,
    vars: BTreeMap<String, String>,
    secrets: BTreeSet<String>,
    lang: Lang,
    node: String,
    state: State,
    tries: u32,
    failures: u32,
    next_id: Id,
    prompt: Option<Id>,
    timer: Option<Id>,
    listening: bool,
    digits: String,
    http: Option<(Id, u32)>,
    recording: Option<Id>,
    now: i64,
    log: Vec<LogEntry>,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vars: BTreeMap<&str, &str> = self
            .vars
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    if self.secrets.contains(k) {
                        SECRET
                    } else {
                        v.as_str()
                    },
                )
            })
            .collect();
        f.debug_struct("Call")
            .field("flow", &self.flow.file.name)
            .field("node", &self.node)
            .field("state", &self.state)
            .field("vars", &vars)
            .field("digits_typed", &self.digits.len())
            .finish_non_exhaustive()
    }
}

fn yes_no() -> Grammar {
    // Built in: confirm and record-consent nodes understand these without a grammar file.
    Grammar::parse("yes: 是 | 是的 | 对 | 对的 | 好 | 可以 | 确认 | 同意 | yes | yeah | yep | correct | sure\nno: 不 | 不是 | 不对 | 不要 | 不用 | 不同意 | 取消 | no | nope | wrong | cancel".as_bytes())
        .unwrap_or_default()
}

impl Call {
    /// A call on `flow`; `breakers` are shared by all calls of the same flow.
    pub fn new(flow: Arc<Flow>, breakers: Arc<Breakers>) -> Call {
        let lang = flow.lang;
        let vars = flow.file.vars.clone();
        Call {
            node: flow.file.start.get_ref().clone(),
            flow,
            breakers,
            vars,
            secrets: BTreeSet::new(),
            lang,
            state: State::Idle,
            tries: 0,
            failures: 0,
            next_id: 1,
            prompt: None,
            timer: None,
            listening: false,
            digits: String::new(),
            http: None,
            recording: None,
            now: 0,
            log: Vec::new(),
        }
    }

    /// The flow this call runs (the version it started on).
    pub fn flow(&self) -> &Arc<Flow> {
        &self.flow
    }

    /// The event log so far.
    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// The event log as JSON lines (what the CDR stores).
    pub fn log_json_lines(&self) -> String {
        self.log
            .iter()
            .filter_map(|e| serde_json::to_string(e).ok())
            .map(|l| l + "\n")
            .collect()
    }

    /// A variable's value (secret values too: this is for the embedding code, not for logs).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The current node id.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The current language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Whether the call has ended.
    pub fn is_ended(&self) -> bool {
        self.state == State::Ended
    }

    /// Handle one event; returns what to do, in order.
    pub fn handle(&mut self, ev: Event) -> Vec<Action> {
        let mut out = Vec::new();
        if self.state == State::Ended {
            return out;
        }
        self.now = self.now.max(ev.at_ms());
        match ev {
            Event::CallStarted { caller, did, .. } if self.state == State::Idle => {
                self.vars.insert("caller".into(), caller.clone());
                self.vars.insert("did".into(), did.clone());
                self.vars.insert("lang".into(), self.lang.code().into());
                self.push(LogWhat::CallStarted {
                    flow: self.flow.file.name.clone(),
                    caller,
                    did,
                });
                let start = self.node.clone();
                self.node.clear();
                self.goto(&start, &mut out);
            }
            Event::HangUp { .. } => {
                self.cancel_timer(&mut out);
                out.clear();
                self.state = State::Ended;
                self.push(LogWhat::End {
                    reason: EndReason::Caller,
                });
            }
            Event::PromptFinished { id, .. } if self.prompt == Some(id) => {
                self.prompt_finished(&mut out)
            }
            Event::TimerFired { id, .. } if self.timer == Some(id) => {
                self.timer = None;
                self.timer_fired(&mut out);
            }
            Event::Digit { digit, .. } => self.digit(digit, &mut out),
            Event::Recognized { result, .. } if self.listening => {
                self.listening = false;
                self.recognized(result, &mut out);
            }
            Event::HttpReply {
                id, status, body, ..
            } if self.http.is_some_and(|h| h.0 == id) => self.http_reply(status, &body, &mut out),
            Event::HttpFailed { id, error, .. } if self.http.is_some_and(|h| h.0 == id) => {
                self.http_failed(error, &mut out)
            }
            Event::TransferResult { outcome, .. } if self.state == State::Transferring => {
                self.transfer_result(outcome, &mut out)
            }
            Event::RecordingFinished { id, path, .. } if self.recording == Some(id) => {
                self.recording = None;
                self.push(LogWhat::RecordingFinished { id });
                if let Some(v) = self.node_def().and_then(|(n, _)| n.var.clone()) {
                    self.vars.insert(v.into_inner(), path);
                }
                self.go_field(|n| &n.next, &mut out);
            }
            // Stale ids (a prompt stopped by barge-in, a cancelled timer, a retried request)
            // and events that do not apply in this state are ignored.
            _ => {}
        }
        out
    }

    fn id(&mut self) -> Id {
        self.next_id += 1;
        self.next_id - 1
    }

    fn push(&mut self, what: LogWhat) {
        self.log.push(LogEntry {
            at_ms: self.now,
            node: self.node.clone(),
            what,
        });
    }

    fn node_def(&self) -> Option<(NodeDef, Kind)> {
        self.flow.node(&self.node).map(|(n, k)| (n.clone(), k))
    }

    fn lookup(&self, name: &str, with_secrets: bool) -> Option<String> {
        if !with_secrets && self.secrets.contains(name) {
            return None;
        }
        if let Some(v) = self.vars.get(name) {
            return Some(v.clone());
        }
        let (date, min) = calendar::local(self.now, self.flow.file.utc_offset_minutes);
        match name {
            "today" => Some(date.to_string()),
            "now_time" => Some(format!("{:02}:{:02}", min / 60, min % 60)),
            _ => None,
        }
    }

    fn today(&self) -> Date {
        calendar::local(self.now, self.flow.file.utc_offset_minutes).0
    }

    fn end(&mut self, reason: EndReason, out: &mut Vec<Action>) {
        self.clear_input(out);
        self.state = State::Ended;
        self.push(LogWhat::End { reason });
        out.push(Action::HangUp { reason });
    }

    fn cancel_timer(&mut self, out: &mut Vec<Action>) {
        if let Some(id) = self.timer.take() {
            out.push(Action::CancelTimer { id });
        }
    }

    fn start_timer(&mut self, after_ms: u64, out: &mut Vec<Action>) {
        self.cancel_timer(out);
        let id = self.id();
        self.timer = Some(id);
        out.push(Action::StartTimer { id, after_ms });
    }

    fn stop_prompt(&mut self, out: &mut Vec<Action>) {
        if let Some(id) = self.prompt.take() {
            self.push(LogWhat::BargeIn { id });
            out.push(Action::StopPrompt { id });
        }
    }

    fn clear_input(&mut self, out: &mut Vec<Action>) {
        self.cancel_timer(out);
        if let Some(id) = self.prompt.take() {
            out.push(Action::StopPrompt { id });
        }
        if self.listening {
            self.listening = false;
            out.push(Action::StopListening);
        }
        self.http = None;
    }

    fn goto(&mut self, target: &str, out: &mut Vec<Action>) {
        self.clear_input(out);
        let mut next = Some(target.to_string());
        let mut steps = 0;
        while let Some(id) = next.take() {
            steps += 1;
            if steps > MAX_STEPS || self.flow.node(&id).is_none() {
                self.end(EndReason::FlowError, out);
                return;
            }
            if id != self.node {
                self.tries = 0;
            }
            self.node = id;
            next = self.enter(out);
        }
    }

    fn go_field(
        &mut self,
        field: impl Fn(&NodeDef) -> &Option<toml::Spanned<String>>,
        out: &mut Vec<Action>,
    ) {
        let target = self
            .flow
            .node(&self.node)
            .and_then(|(n, _)| field(n).as_ref().map(|t| t.get_ref().clone()));
        match target {
            Some(t) => self.goto(&t, out),
            None => self.end(EndReason::FlowError, out),
        }
    }

    fn play(&mut self, p: &PromptDef, out: &mut Vec<Action>) {
        let prompt = match (&p.file, self.lang, &p.text, &p.text_en) {
            (_, Lang::En, _, Some(t))
            | (_, Lang::Zh, Some(t), _)
            | (None, _, Some(t), None)
            | (None, _, None, Some(t)) => {
                let text = self
                    .flow
                    .templates
                    .get(t.get_ref())
                    .map_or_else(String::new, |tp| {
                        tp.render(self.lang, |n| {
                            if self.secrets.contains(n) {
                                None
                            } else {
                                self.vars.get(n).map(String::as_str)
                            }
                        })
                    });
                let text = if text.contains("{{") {
                    text
                } else {
                    self.render_builtins(t.get_ref(), text)
                };
                Prompt::Tts {
                    text,
                    lang: self.lang,
                }
            }
            (Some(f), ..) => Prompt::File(self.flow.base.join(f.get_ref())),
            (None, _, None, None) => return,
        };
        let id = self.id();
        self.prompt = Some(id);
        let shown = match &prompt {
            Prompt::File(f) => format!("file:{}", f.display()),
            Prompt::Tts { text, .. } => format!("tts:{text}"),
        };
        self.push(LogWhat::PromptStarted { id, prompt: shown });
        out.push(Action::Play {
            id,
            prompt,
            barge_in: BargeIn {
                speech: p.barge_in.unwrap_or(true),
                dtmf: p.dtmf_barge_in.unwrap_or(true),
            },
        });
    }

    /// Templates render `today`/`now_time` from the event time: they are not in `vars`.
    fn render_builtins(&self, template: &str, rendered: String) -> String {
        if !(template.contains("today") || template.contains("now_time")) {
            return rendered;
        }
        self.flow.templates.get(template).map_or(rendered, |tp| {
            let today = self.lookup("today", false).unwrap_or_default();
            let now = self.lookup("now_time", false).unwrap_or_default();
            tp.render(self.lang, |n| match n {
                "today" => Some(today.as_str()),
                "now_time" => Some(now.as_str()),
                _ if self.secrets.contains(n) => None,
                _ => self.vars.get(n).map(String::as_str),
            })
        })
    }

    /// Enter the current node. Returns the next node for nodes that do not wait.
    fn enter(&mut self, out: &mut Vec<Action>) -> Option<String> {
        let flow = Arc::clone(&self.flow);
        let (n, kind) = flow.node(&self.node)?;
        self.push(LogWhat::Node {
            kind: Kind::NAMES[kind as usize].into(),
        });
        let tgt = |t: &Option<toml::Spanned<String>>| t.as_ref().map(|t| t.get_ref().clone());
        match kind {
            Kind::Play | Kind::Hangup => {
                if let Some(p) = &n.prompt {
                    self.play(p, out);
                    self.state = State::Playing;
                } else {
                    self.end(EndReason::Flow, out);
                }
                None
            }
            Kind::Menu
            | Kind::Collect
            | Kind::Ask
            | Kind::Confirm
            | Kind::Language
            | Kind::Record => {
                self.start_input(out);
                None
            }
            Kind::Branch => {
                for c in &n.cases {
                    let hit = flow
                        .exprs
                        .get(c.when.get_ref())
                        .is_some_and(|e| crate::expr::truthy(&e.eval(&|v| self.lookup(v, true))));
                    if hit {
                        return Some(c.next.get_ref().clone());
                    }
                }
                tgt(&n.next)
            }
            Kind::Set => {
                for (k, v) in &n.set {
                    let val = flow
                        .exprs
                        .get(v.get_ref())
                        .map(|e| e.eval(&|name| self.lookup(name, true)))
                        .unwrap_or_default();
                    self.vars.insert(k.clone(), val);
                }
                tgt(&n.next)
            }
            Kind::Hours => {
                let (date, minute) = calendar::local(self.now, flow.file.utc_offset_minutes);
                let workday = match n
                    .calendar
                    .as_ref()
                    .and_then(|c| flow.calendars.get(c.get_ref()))
                {
                    Some(cal) => cal.is_workday(date),
                    None => date.weekday() <= 5,
                };
                let open = workday
                    && n.open
                        .iter()
                        .filter_map(|w| calendar::parse_window(w.get_ref()))
                        .any(|(a, b)| (a..b).contains(&minute));
                if open {
                    tgt(&n.next)
                } else {
                    tgt(&n.on_closed)
                }
            }
            Kind::Http => self.send_http(0, out),
            Kind::Transfer => {
                let extension = n
                    .extension
                    .as_ref()
                    .map(|e| e.get_ref().clone())
                    .unwrap_or_default();
                self.push(LogWhat::Transfer {
                    extension: extension.clone(),
                });
                self.state = State::Transferring;
                out.push(Action::Transfer { extension });
                None
            }
        }
    }

    fn uses_speech(n: &NodeDef, kind: Kind) -> bool {
        match kind {
            Kind::Menu | Kind::Language => n.grammar.is_some(),
            Kind::Ask | Kind::Confirm | Kind::Record => true,
            _ => false,
        }
    }

    fn request(&self, n: &NodeDef, kind: Kind) -> Request {
        let lang = Some(self.lang);
        let grammar = n
            .grammar
            .as_ref()
            .and_then(|g| self.flow.grammars.get(g.get_ref()));
        match (kind, grammar) {
            (Kind::Confirm | Kind::Record, _) => Request::grammar(lang, Arc::new(yes_no())),
            (_, Some(g)) => Request::grammar(lang, Arc::clone(g)),
            _ => match n
                .slot
                .as_ref()
                .and_then(|s| SlotKind::from_name(s.get_ref()))
            {
                Some(SlotKind::Digits | SlotKind::Phone | SlotKind::Card) => Request::digits(lang),
                Some(SlotKind::ResidentId) => {
                    let mut r = Request::digits(lang);
                    r.mode = Mode::Digits {
                        id_check_char: true,
                    };
                    r
                }
                _ => Request::open(lang),
            },
        }
    }

    fn listen(&mut self, n: &NodeDef, kind: Kind, out: &mut Vec<Action>) {
        if self.listening || !Self::uses_speech(n, kind) {
            return;
        }
        self.listening = true;
        let p = n.prompt.clone().unwrap_or_default();
        self.push(LogWhat::ListenStarted);
        out.push(Action::Listen {
            request: self.request(n, kind),
            endpoint: Endpoint {
                end_silence_ms: p.end_silence_ms.map(|v| v.into_inner()),
                max_speech_ms: p.max_speech_ms.map(|v| v.into_inner()),
            },
        });
    }

    fn start_input(&mut self, out: &mut Vec<Action>) {
        let Some((n, kind)) = self.node_def() else {
            return;
        };
        self.digits.clear();
        match &n.prompt {
            Some(p) => {
                self.play(p, out);
                self.state = State::Prompting;
                if p.barge_in.unwrap_or(true) {
                    self.listen(&n, kind, out);
                }
            }
            None => self.wait_for_input(&n, kind, out),
        }
    }

    fn wait_for_input(&mut self, n: &NodeDef, kind: Kind, out: &mut Vec<Action>) {
        self.state = State::Waiting;
        let timeout = match kind {
            Kind::Collect if self.digits.is_empty() => {
                n.first_digit_timeout_ms.as_ref().map(|t| *t.get_ref())
            }
            Kind::Collect => n.inter_digit_timeout_ms.as_ref().map(|t| *t.get_ref()),
            _ => n.timeout_ms.as_ref().map(|t| *t.get_ref()),
        };
        self.start_timer(timeout.unwrap_or(DEFAULT_TIMEOUT_MS), out);
        self.listen(n, kind, out);
    }

    fn prompt_finished(&mut self, out: &mut Vec<Action>) {
        let Some(id) = self.prompt.take() else { return };
        self.push(LogWhat::PromptFinished { id });
        let Some((n, kind)) = self.node_def() else {
            return;
        };
        match (self.state, kind) {
            (State::Playing, Kind::Hangup) => self.end(EndReason::Flow, out),
            (State::Playing, _) => self.go_field(|n| &n.next, out),
            (State::Prompting, _) => self.wait_for_input(&n, kind, out),
            _ => {}
        }
    }

    fn digit(&mut self, d: char, out: &mut Vec<Action>) {
        if !matches!(self.state, State::Prompting | State::Waiting) {
            return;
        }
        let Some((n, kind)) = self.node_def() else {
            return;
        };
        if self.state == State::Prompting {
            if !n
                .prompt
                .as_ref()
                .is_none_or(|p| p.dtmf_barge_in.unwrap_or(true))
            {
                return;
            }
            self.stop_prompt(out);
            self.state = State::Waiting;
        }
        let agent_digit = self.flow.file.global.agent_digit.starts_with(d)
            && self.flow.file.global.agent.is_some();
        match kind {
            Kind::Collect => {
                if n.terminator.as_deref().is_some_and(|t| t.starts_with(d)) {
                    self.finish_collect(&n, out);
                    return;
                }
                self.digits.push(d);
                if self.digits.len() >= n.max_digits.unwrap_or(1) {
                    self.finish_collect(&n, out);
                } else {
                    let t = n
                        .inter_digit_timeout_ms
                        .as_ref()
                        .map_or(DEFAULT_TIMEOUT_MS, |t| *t.get_ref());
                    self.start_timer(t, out);
                }
            }
            Kind::Menu | Kind::Language => {
                if let Some(o) = n.options.iter().find(|o| {
                    o.digit
                        .as_deref()
                        .is_some_and(|x| x.starts_with(d) && x.len() == 1)
                }) {
                    self.push(LogWhat::Input {
                        digits: d.to_string(),
                    });
                    let o = o.clone();
                    self.choose(&o, out);
                } else if agent_digit {
                    self.agent(out);
                } else {
                    self.push(LogWhat::Input {
                        digits: d.to_string(),
                    });
                    self.failed(false, out);
                }
            }
            Kind::Confirm | Kind::Record => {
                self.push(LogWhat::Input {
                    digits: d.to_string(),
                });
                match d {
                    '1' => self.confirmed(true, out),
                    '2' => self.confirmed(false, out),
                    _ if agent_digit => self.agent(out),
                    _ => self.failed(false, out),
                }
            }
            Kind::Ask if agent_digit => self.agent(out),
            _ => {}
        }
    }

    fn choose(&mut self, o: &crate::flow::OptionDef, out: &mut Vec<Action>) {
        if let Some(l) = o.lang.as_ref().and_then(|l| lang_from_code(l.get_ref())) {
            self.lang = l;
            self.vars.insert("lang".into(), l.code().into());
            self.push(LogWhat::Language {
                lang: l.code().into(),
            });
        }
        self.goto(&o.next.get_ref().clone(), out);
    }

    fn finish_collect(&mut self, n: &NodeDef, out: &mut Vec<Action>) {
        let min = n.min_digits.unwrap_or(1);
        let shown = if n.secret {
            SECRET.to_string()
        } else {
            self.digits.clone()
        };
        self.push(LogWhat::Input { digits: shown });
        if self.digits.len() < min {
            self.failed(self.digits.is_empty(), out);
            return;
        }
        if let Some(k) = n
            .slot
            .as_ref()
            .and_then(|s| SlotKind::from_name(s.get_ref()))
        {
            // `*` keys the resident ID's check character X.
            let typed = self.digits.replace('*', "X");
            match slots::extract(k, &typed, self.today()) {
                Ok(v) => self.digits = v,
                Err(_) => {
                    self.failed(false, out);
                    return;
                }
            }
        }
        if let Some(v) = &n.var {
            let value = std::mem::take(&mut self.digits);
            if n.secret {
                self.secrets.insert(v.get_ref().clone());
            }
            self.vars.insert(v.get_ref().clone(), value);
        }
        self.go_field(|n| &n.next, out);
    }

    fn timer_fired(&mut self, out: &mut Vec<Action>) {
        let Some((n, kind)) = self.node_def() else {
            return;
        };
        match (self.state, kind) {
            (State::Http, _) => self.http_failed("timeout".into(), out),
            (State::Waiting, Kind::Collect) if !self.digits.is_empty() => {
                self.finish_collect(&n, out)
            }
            (State::Waiting, _) => self.failed(true, out),
            _ => {}
        }
    }

    fn recognized(&mut self, result: Option<Recognition>, out: &mut Vec<Action>) {
        let Some((n, kind)) = self.node_def() else {
            return;
        };
        let Some(r) = result.filter(|r| !r.text.trim().is_empty()) else {
            if self.state == State::Waiting {
                self.failed(true, out);
            } else {
                // Nothing heard during the prompt: listen again once it has finished.
                self.listening = false;
            }
            return;
        };
        self.stop_prompt(out);
        self.state = State::Waiting;
        let secret_text = n.secret;
        self.push(LogWhat::Recognition {
            text: if secret_text {
                SECRET.into()
            } else {
                r.text.clone()
            },
            label: r.label.clone(),
            confidence: r.confidence,
        });
        let g = &self.flow.file.global;
        let heard = r.text.to_lowercase();
        if g.agent.is_some()
            && g.agent_words
                .iter()
                .any(|w| heard.contains(&w.to_lowercase()))
        {
            self.agent(out);
            return;
        }
        // A complaint escalates, unless the prompt's own grammar matched (a menu may offer
        // "投诉建议" itself) or the answer is secret.
        let complaint = (r.label.is_none() && !secret_text)
            .then(|| {
                g.complaint_words
                    .iter()
                    .find(|w| heard.contains(&w.to_lowercase()))
            })
            .flatten();
        if let (Some(word), Some(to)) = (complaint, g.on_complaint.as_ref().or(g.agent.as_ref())) {
            let (word, to) = (word.clone(), to.get_ref().clone());
            self.push(LogWhat::Complaint { word });
            self.goto(&to, out);
            return;
        }
        match kind {
            Kind::Menu | Kind::Language => {
                let o = r
                    .label
                    .as_ref()
                    .and_then(|l| n.options.iter().find(|o| o.label.as_ref() == Some(l)))
                    .cloned();
                match o {
                    Some(o) => self.choose(&o, out),
                    None => self.failed(false, out),
                }
            }
            Kind::Confirm | Kind::Record => match r.label.as_deref() {
                Some("yes") => self.confirmed(true, out),
                Some("no") => self.confirmed(false, out),
                _ => self.failed(false, out),
            },
            Kind::Ask => {
                let value = if n.grammar.is_some() {
                    r.label.clone()
                } else if let Some(k) = n
                    .slot
                    .as_ref()
                    .and_then(|s| SlotKind::from_name(s.get_ref()))
                {
                    let text = r.digits.clone().unwrap_or_else(|| r.text.clone());
                    slots::extract(k, &text, self.today()).ok()
                } else {
                    Some(r.text.clone())
                };
                match (value, &n.var) {
                    (Some(v), Some(var)) => {
                        if n.secret {
                            self.secrets.insert(var.get_ref().clone());
                        }
                        self.push(LogWhat::Slot {
                            var: var.get_ref().clone(),
                            value: if n.secret { SECRET.into() } else { v.clone() },
                        });
                        self.vars.insert(var.get_ref().clone(), v);
                        self.go_field(|n| &n.next, out);
                    }
                    _ => self.failed(false, out),
                }
            }
            _ => {}
        }
    }

    fn confirmed(&mut self, yes: bool, out: &mut Vec<Action>) {
        let Some((n, kind)) = self.node_def() else {
            return;
        };
        match (kind, yes) {
            (Kind::Record, true) => {
                self.clear_input(out);
                let id = self.id();
                self.recording = Some(id);
                self.state = State::Recording;
                self.push(LogWhat::RecordingStarted { id });
                out.push(Action::Record {
                    id,
                    max_ms: n.max_ms.as_ref().map_or(60_000, |m| *m.get_ref()),
                });
            }
            (Kind::Record, false) => self.go_field(|n| &n.on_decline, out),
            (_, true) => self.go_field(|n| &n.yes, out),
            (_, false) => self.go_field(|n| &n.no, out),
        }
    }

    fn agent(&mut self, out: &mut Vec<Action>) {
        self.push(LogWhat::Agent);
        match self
            .flow
            .file
            .global
            .agent
            .as_ref()
            .map(|a| a.get_ref().clone())
        {
            Some(t) => self.goto(&t, out),
            None => self.failed(false, out),
        }
    }

    /// No input (`silent`) or no match: retry the node, or leave by `on_fail` or the global
    /// failure handler.
    fn failed(&mut self, silent: bool, out: &mut Vec<Action>) {
        self.clear_input(out);
        self.tries += 1;
        self.failures += 1;
        let tries = self.tries;
        self.push(if silent {
            LogWhat::NoInput { tries }
        } else {
            LogWhat::NoMatch { tries }
        });
        let g = &self.flow.file.global;
        if let (Some(max), Some(t)) = (&g.max_failures, &g.on_failures) {
            if self.failures >= *max.get_ref() {
                let t = t.get_ref().clone();
                self.goto(&t, out);
                return;
            }
        }
        let retries = self.node_def().and_then(|(n, _)| n.retries).unwrap_or(0);
        if tries > retries {
            self.go_field(|n| &n.on_fail, out);
        } else {
            self.start_input(out);
        }
    }

    fn breaker_key(&self) -> String {
        format!("{}/{}", self.flow.file.name, self.node)
    }

    fn send_http(&mut self, attempt: u32, out: &mut Vec<Action>) -> Option<String> {
        let flow = Arc::clone(&self.flow);
        let (n, _) = flow.node(&self.node)?;
        let key = self.breaker_key();
        if self.breakers.is_open(&key, self.now) {
            self.push(LogWhat::CircuitOpen);
            return n.on_error.as_ref().map(|t| t.get_ref().clone());
        }
        let mut secret = false;
        let mut render = |t: &toml::Spanned<String>| -> String {
            flow.templates
                .get(t.get_ref())
                .map_or_else(String::new, |tp| {
                    secret |= tp.vars().any(|v| self.secrets.contains(v));
                    // Values go into JSON strings in the body: escape them there.
                    let json = n.body.as_ref().is_some_and(|b| b.get_ref() == t.get_ref());
                    let vals: BTreeMap<&str, String> = tp
                        .vars()
                        .map(|v| {
                            let raw = self.lookup(v, true).unwrap_or_default();
                            (v, if json { json_escape(&raw) } else { raw })
                        })
                        .collect();
                    tp.render(self.lang, |v| vals.get(v).map(String::as_str))
                })
        };
        let url = n.url.as_ref().map(&mut render).unwrap_or_default();
        let headers: Vec<(String, String)> = n
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), render(v)))
            .collect();
        let body = n.body.as_ref().map(&mut render);
        let id = self.id();
        let method = n
            .method
            .as_ref()
            .map_or_else(|| "GET".to_string(), |m| m.get_ref().clone());
        let timeout_ms = n
            .timeout_ms
            .as_ref()
            .map_or(DEFAULT_TIMEOUT_MS, |t| *t.get_ref());
        self.push(LogWhat::BackendRequest {
            id,
            method: method.clone(),
            url: n
                .url
                .as_ref()
                .map(|u| u.get_ref().clone())
                .unwrap_or_default(),
            attempt,
        });
        out.push(Action::Http(HttpRequest {
            id,
            method,
            url,
            headers,
            body,
            timeout_ms,
            secret,
        }));
        self.state = State::Http;
        self.http = Some((id, attempt));
        // Guard timer: a client that never answers still cannot leave the caller in silence.
        self.start_timer(timeout_ms, out);
        None
    }

    fn http_reply(&mut self, status: u16, body: &str, out: &mut Vec<Action>) {
        let Some((id, _)) = self.http else { return };
        self.push(LogWhat::BackendReply { id, status });
        if !(200..300).contains(&status) {
            self.http_failed(format!("status {status}"), out);
            return;
        }
        let Some((n, _)) = self.node_def() else {
            return;
        };
        let mut mapped = Vec::new();
        if !n.map.is_empty() {
            let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else {
                self.http_failed("reply is not JSON".into(), out);
                return;
            };
            for (var, ptr) in &n.map {
                match json.pointer(ptr) {
                    Some(serde_json::Value::String(s)) => mapped.push((var.clone(), s.clone())),
                    Some(serde_json::Value::Null) => mapped.push((var.clone(), String::new())),
                    Some(v) => mapped.push((var.clone(), v.to_string())),
                    None => {
                        self.http_failed(format!("reply has no {ptr}"), out);
                        return;
                    }
                }
            }
        }
        self.vars.extend(mapped);
        let key = self.breaker_key();
        self.breakers.with(&key, |s| *s = BreakerState::default());
        self.go_field(|n| &n.next, out);
    }

    fn http_failed(&mut self, error: String, out: &mut Vec<Action>) {
        let Some((id, attempt)) = self.http.take() else {
            return;
        };
        self.cancel_timer(out);
        self.push(LogWhat::BackendFailed { id, error });
        let Some((n, _)) = self.node_def() else {
            return;
        };
        if attempt < n.retries.unwrap_or(0) {
            if let Some(t) = self.send_http(attempt + 1, out) {
                self.goto(&t, out);
            }
            return;
        }
        let (threshold, open_ms) = (
            n.circuit_failures.unwrap_or(5).max(1),
            n.circuit_open_ms.as_ref().map_or(30_000, |m| *m.get_ref()),
        );
        let now = self.now;
        let key = self.breaker_key();
        self.breakers.with(&key, |s| {
            s.failures += 1;
            if s.failures >= threshold {
                s.open_until = Some(now + open_ms as i64);
                s.failures = 0;
            }
        });
        self.go_field(|n| &n.on_error, out);
    }

    fn transfer_result(&mut self, outcome: TransferOutcome, out: &mut Vec<Action>) {
        self.push(LogWhat::TransferResult { outcome });
        match outcome {
            TransferOutcome::Answered => {
                self.state = State::Ended;
                self.push(LogWhat::End {
                    reason: EndReason::Transferred,
                });
                out.push(Action::HangUp {
                    reason: EndReason::Transferred,
                });
            }
            TransferOutcome::NoAnswer => self.go_field(|n| &n.on_no_answer, out),
            TransferOutcome::Busy => self.go_field(|n| &n.on_busy, out),
        }
    }
}

/// `s` escaped for use inside a JSON string (without the quotes).
fn json_escape(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap_or_default();
    q.get(1..q.len().saturating_sub(1))
        .unwrap_or_default()
        .to_string()
}
