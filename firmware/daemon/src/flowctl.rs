//! Runs IVR flows ([`yingda_flow`]) on line calls, sans-IO: line [`Event`]s in; line
//! [`Command`]s, [`Job`]s and finished CDRs out.
//!
//! The flow interpreter thinks in prompts, timers, recognitions and backend requests; the
//! line engine knows one prompt queue, DTMF and (when tapped) the caller's audio. This module
//! translates between them:
//!
//! - **Prompts**: a recorded file is loaded (and kept) as 8 kHz samples; TTS text becomes a
//!   [`Job::Synthesize`] whose sentences play as they arrive. Static texts of the flow are
//!   synthesised when the flow is loaded ([`FlowSet::warm_prompts`]), so on the call path
//!   they come from the synthesiser's cache. The engine's "queue ran dry" becomes
//!   `PromptFinished` for the prompt that was playing.
//! - **Listening**: the caller's audio is tapped from the line, judged by a VAD and the
//!   per-prompt endpointer; speech stops a prompt that allows speech barge-in, and the
//!   finished utterance becomes a [`Job::Recognize`].
//! - **Timers** are kept here (many per call), fired by [`FlowController::poll`].
//! - **Backend calls** become [`Job::Http`]; transfers and hang-ups become line commands.
//!
//! Jobs run elsewhere — on worker threads in the daemon, synchronously with their time
//! charged to the simulated clock in `yingda test-call` — and come back through
//! [`FlowController::job_done`]. A result for a call or prompt that has moved on is dropped.
//!
//! Every call keeps one event log: the interpreter's entries plus the line's (`speech_start`,
//! `speech_end`, `prompt_audio`, `recognized`, …), JSON lines stored with the CDR. Digits are
//! not stored in the CDR's digit field for flow calls: the log has them, with secret inputs
//! (PINs) as `<secret>`. Caller numbers in logs are the flow's concern (issue 7 masks them).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;
use yingda_flow::interp::{
    Action, BargeIn, Breakers, Call, EndReason, Event as FlowEvent, HttpRequest, Id, Prompt,
    TransferOutcome,
};
use yingda_flow::Flow;
use yingda_speech::endpoint::{EndpointConfig, EndpointEvent, Endpointer};
use yingda_speech::recognizer::{Lang, Mode, Recognition, Request};
use yingda_speech::vad::{EarshotVad, Vad};
use yingda_store::{CallId, Cdr, CdrEvent, Direction, DisconnectCause};

use crate::engine::{CallerInfo, Command, CommandKind, Event, EventKind};
use crate::prompts::PromptError;

/// Work the controller needs done off the control loop.
#[derive(Debug)]
pub enum Job {
    /// Recognise one utterance (8 kHz linear).
    Recognize {
        /// The caller's speech, with a little audio either side.
        audio: Vec<i16>,
        /// What to listen for.
        request: Request,
    },
    /// Synthesise a prompt; answer with one [`JobResult::Audio`] per sentence, the last one
    /// with `last: true` (or a [`JobResult::Failed`]).
    Synthesize {
        /// Text with numbers, dates and money already written out.
        text: String,
        /// Its language.
        lang: Lang,
        /// Voice name.
        voice: String,
    },
    /// A backend request.
    Http(HttpRequest),
    /// Store a message the caller recorded; answer with [`JobResult::Saved`].
    SaveRecording {
        /// 8 kHz linear audio.
        audio: Vec<i16>,
        /// File name suggested (`<call id>-<recording id>.wav`).
        name: String,
    },
}

/// A job's outcome.
#[derive(Debug)]
pub enum JobResult {
    /// Recognition finished (`None`: nothing usable was heard, or the recogniser failed).
    Recognized(Option<Recognition>),
    /// A sentence of synthesised audio (8 kHz).
    Audio {
        /// Samples.
        samples: Arc<[i16]>,
        /// No more sentences follow.
        last: bool,
    },
    /// The backend's answer (any status), or why there was none (host:port only, no
    /// request data).
    Http(Result<yingda_backend::Reply, String>),
    /// Where a recording was stored.
    Saved(String),
    /// The job failed; the reason (never containing caller data) goes to the log.
    Failed(String),
}

/// Routes a job's result back to its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    /// Channel.
    pub channel: u32,
    /// Call.
    pub call: CallId,
    /// Job number within the call.
    pub seq: u64,
}

/// What the controller produced.
#[derive(Debug)]
pub enum FlowOutput {
    /// Send to the line.
    Command(Command),
    /// Run this and hand the result to [`FlowController::job_done`].
    Job(Ticket, Job),
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

/// Voices and speech availability for flows.
#[derive(Debug, Clone)]
pub struct FlowOptions {
    /// Voice for Mandarin prompts.
    pub voice_zh: String,
    /// Voice for English prompts.
    pub voice_en: String,
    /// A recogniser is available (else flows take DTMF only: `Listen` is ignored).
    pub speech: bool,
    /// A synthesiser is available (else TTS prompts are skipped as if played).
    pub tts: bool,
    /// Keep the caller's audio tapped for the whole call and report it
    /// ([`FlowController::take_caller_audio`]); `yingda test-call` writes it out.
    pub capture_caller: bool,
}

impl Default for FlowOptions {
    fn default() -> Self {
        Self {
            voice_zh: "zf_xiaoxiao".into(),
            voice_en: "joe".into(),
            speech: true,
            tts: true,
            capture_caller: false,
        }
    }
}

/// Recorded prompt audio of one flow version, by the path the interpreter plays.
pub type PromptAudio = HashMap<PathBuf, Arc<[i16]>>;

/// A flow ready for calls.
#[derive(Debug, Clone)]
struct Loaded {
    flow: Arc<Flow>,
    /// Shared by every call of the flow, across versions: the backends are the same.
    breakers: Arc<Breakers>,
    audio: Arc<PromptAudio>,
}

/// The flows the box runs, by the name the channel groups use, each with the circuit
/// breakers all its calls share and its recorded prompts decoded.
#[derive(Debug, Default, Clone)]
pub struct FlowSet {
    flows: BTreeMap<String, Loaded>,
}

impl FlowSet {
    /// Add (or replace) a flow under its own name; calls in progress keep their version.
    /// Its recorded prompts are read with `read` (the live files, or the copies stored at
    /// activation) and decoded now, so no call waits on the disk.
    ///
    /// # Errors
    /// A prompt that cannot be read or is not 8 kHz mono WAV; the set is unchanged.
    pub fn insert(
        &mut self,
        flow: Arc<Flow>,
        read: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    ) -> Result<(), PromptError> {
        let mut audio = PromptAudio::new();
        for n in flow.file.nodes.values() {
            let Some(f) = n.prompt.as_ref().and_then(|p| p.file.as_ref()) else {
                continue;
            };
            let path = flow.base.join(f.get_ref());
            if audio.contains_key(&path) {
                continue;
            }
            let bytes = read(&path).map_err(|source| PromptError::Io {
                path: path.clone(),
                source,
            })?;
            audio.insert(path.clone(), crate::prompts::decode(path, &bytes)?);
        }
        let name = flow.file.name.clone();
        let breakers = self
            .flows
            .get(&name)
            .map_or_else(Arc::default, |l| Arc::clone(&l.breakers));
        self.flows.insert(
            name,
            Loaded {
                flow,
                breakers,
                audio: Arc::new(audio),
            },
        );
        Ok(())
    }

    /// The flows in the set.
    pub fn flows(&self) -> impl Iterator<Item = &Arc<Flow>> {
        self.flows.values().map(|l| &l.flow)
    }

    /// Every static TTS text (no `{{variables}}`) of every flow, with its language: what
    /// [`FlowSet::warm_prompts`] synthesises ahead of calls.
    pub fn static_texts(&self) -> Vec<(String, Lang)> {
        let mut out = Vec::new();
        for Loaded { flow, .. } in self.flows.values() {
            for n in flow.file.nodes.values() {
                let Some(p) = &n.prompt else { continue };
                let zh_lang = flow.lang;
                for (t, lang) in [(&p.text, zh_lang), (&p.text_en, Lang::En)] {
                    if let Some(t) = t {
                        if !t.get_ref().contains("{{") {
                            out.push((t.get_ref().clone(), lang));
                        }
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.dedup();
        out
    }

    /// Synthesise every static prompt into the synthesiser's cache so that no caller waits
    /// for it. Returns how many were made and the failures (text, reason).
    pub fn warm_prompts(
        &self,
        synth: &yingda_tts::synth::Synthesizer,
        opts: &FlowOptions,
    ) -> (usize, Vec<(String, String)>) {
        let mut made = 0;
        let mut failed = Vec::new();
        for (text, lang) in self.static_texts() {
            let req = tts_request(&text, lang, opts);
            match synth.prompt(&req) {
                Ok(_) => made += 1,
                Err(e) => failed.push((text, e.to_string())),
            }
        }
        (made, failed)
    }
}

/// The synthesiser request for a prompt text.
pub fn tts_request(text: &str, lang: Lang, opts: &FlowOptions) -> yingda_tts::synth::Request {
    let (voice, tl) = match lang {
        Lang::En => (&opts.voice_en, yingda_tts::synth::Lang::En),
        _ => (&opts.voice_zh, yingda_tts::synth::Lang::Zh),
    };
    yingda_tts::synth::Request::new(voice, tl, text)
}

/// Audio kept from before the start of speech (the VAD decides late).
const PRE_ROLL_MS: usize = 300;
/// Audio kept after the end of speech.
const POST_ROLL_MS: usize = 200;
/// A recording ends after this much silence following speech.
const RECORD_END_SILENCE_MS: u32 = 3000;

/// Silence after speech at which recognition starts while the endpointer still waits for
/// its full trailing silence: if the caller stays quiet, the result is (nearly) ready at the
/// endpoint; if they go on talking, it is dropped.
const SPECULATE_MS: u32 = 300;
/// A grammar match this sure, heard [`SPECULATE_MS`] after the caller stopped, ends the turn
/// without waiting for the rest of the trailing silence.
const EARLY_ACCEPT: f32 = 0.8;

/// A recognition started before the endpoint.
struct Speculation {
    seq: u64,
    /// Its result, once in (`None` inside: nothing usable heard).
    result: Option<Option<Recognition>>,
}

/// A turn of listening: VAD and endpointer over tapped audio.
struct Listener {
    vad: EarshotVad,
    endpointer: Endpointer,
    request: Request,
    /// The endpointer's trailing silence.
    trailing_ms: u32,
    /// Start of the current utterance (ms since listening started), while one is going on.
    speech_start: Option<u64>,
    /// Frames of silence since the caller last spoke in this utterance.
    quiet_frames: u32,
    spec: Option<Speculation>,
    /// Wall time of the first frame.
    started_ms: i64,
    /// All audio since listening started (bounded by the endpointer's max length + margin).
    audio: Vec<i16>,
}

struct Recording {
    id: Id,
    vad: EarshotVad,
    endpointer: Endpointer,
    audio: Vec<i16>,
    max_samples: usize,
}

struct FlowCall {
    id: CallId,
    direction: Direction,
    start_ms: i64,
    answer_ms: Option<i64>,
    caller: CallerInfo,
    call: Call,
    /// The recorded prompts of the call's flow version.
    audio: Arc<PromptAudio>,
    /// Interpreter log entries already copied into `log`.
    flow_logged: usize,
    log: Vec<(i64, serde_json::Value)>,
    timers: Vec<(Id, i64)>,
    /// The prompt on the line (or being synthesised), with what may stop it.
    prompt: Option<(Id, BargeIn)>,
    /// The line is playing audio of `prompt`.
    audio_queued: bool,
    /// The line has played everything sent to it.
    line_idle: bool,
    /// Synthesis of `prompt` has not delivered its last sentence yet.
    synthesizing: Option<u64>,
    listener: Option<Listener>,
    recognizing: Option<u64>,
    recording: Option<Recording>,
    saving: Option<(u64, Id)>,
    /// The backend request in flight: job number and the flow's request id.
    http: Option<(u64, Id)>,
    transferring: bool,
    seq: u64,
    tapped: bool,
    caller_audio: Vec<i16>,
}

impl FlowCall {
    fn line_log(&mut self, at_ms: i64, event: &str, extra: serde_json::Value) {
        let mut v =
            json!({"at_ms": at_ms, "node": self.call.node(), "event": event, "source": "line"});
        if let (Some(o), serde_json::Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        self.log.push((at_ms, v));
    }

    fn sync_flow_log(&mut self) {
        let entries = self.call.log();
        for e in &entries[self.flow_logged..] {
            if let Ok(v) = serde_json::to_value(e) {
                self.log.push((e.at_ms, v));
            }
        }
        self.flow_logged = entries.len();
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

/// Runs a flow on every call and assembles CDRs.
pub struct FlowController {
    flows: FlowSet,
    /// Channel → flow name.
    routes: HashMap<u32, String>,
    opts: FlowOptions,
    calls: HashMap<u32, FlowCall>,
    early_cid: HashMap<u32, CallerInfo>,
}

impl std::fmt::Debug for FlowController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowController")
            .field("calls", &self.calls.len())
            .finish_non_exhaustive()
    }
}

impl FlowController {
    /// Calls on channel `c` run the flow `routes[c]` of `flows`.
    pub fn new(flows: FlowSet, routes: HashMap<u32, String>, opts: FlowOptions) -> Self {
        Self {
            flows,
            routes,
            opts,
            calls: HashMap::new(),
            early_cid: HashMap::new(),
        }
    }

    /// Calls on `channel` run a flow of this controller.
    pub fn serves(&self, channel: u32) -> bool {
        self.routes.contains_key(&channel)
    }

    /// Calls in progress.
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// New calls take the flows of `flows`; calls in progress finish on their version.
    pub fn set_flows(&mut self, flows: FlowSet) {
        self.flows = flows;
    }

    /// Say whether recognition and synthesis are available now (they load after the box
    /// starts answering, and may fail): without them, flows take DTMF and skip TTS prompts.
    pub fn set_engines(&mut self, speech: bool, tts: bool) {
        self.opts.speech = speech;
        self.opts.tts = tts;
    }

    /// End every call still in progress with cause `Shutdown` (the grace period ran out)
    /// and return their records.
    pub fn abort_all(&mut self, wall_ms: i64) -> Vec<Cdr> {
        let channels: Vec<u32> = self.calls.keys().copied().collect();
        let mut never = || CallId::new(0);
        let mut out = Vec::new();
        for channel in channels {
            let ev = Event {
                channel,
                wall_ms,
                kind: EventKind::Disconnected(DisconnectCause::Shutdown),
            };
            for o in self.on_event(ev, &mut never) {
                if let FlowOutput::CallEnded(c) = o {
                    out.push(*c);
                }
            }
        }
        out
    }

    /// The caller's audio captured so far on `channel` (with
    /// [`FlowOptions::capture_caller`]), taken out.
    pub fn take_caller_audio(&mut self, channel: u32) -> Vec<i16> {
        self.calls
            .get_mut(&channel)
            .map(|c| std::mem::take(&mut c.caller_audio))
            .unwrap_or_default()
    }

    /// Handle one line event.
    pub fn on_event(&mut self, ev: Event, new_id: &mut dyn FnMut() -> CallId) -> Vec<FlowOutput> {
        let mut out = Vec::new();
        let ch = ev.channel;
        let now = ev.wall_ms;
        match ev.kind {
            EventKind::CallerId(info) => match self.calls.get_mut(&ch) {
                Some(c) => c.caller = info,
                None => {
                    self.early_cid.insert(ch, info);
                }
            },
            EventKind::Ringing => {
                if !self.calls.contains_key(&ch) {
                    let caller = self.early_cid.remove(&ch).unwrap_or_default();
                    if let Some(c) = self.new_call(ch, now, Direction::Inbound, caller, new_id) {
                        out.push(FlowOutput::CallStarted { channel: ch, id: c });
                    }
                }
            }
            EventKind::Answered => {
                let capture = self.opts.capture_caller;
                if let Some(c) = self.calls.get_mut(&ch) {
                    c.answer_ms = Some(now);
                    if capture {
                        c.tapped = true;
                        out.push(cmd(ch, CommandKind::Tap(true)));
                    }
                    let caller = c.caller.number.clone().unwrap_or_default();
                    self.feed(
                        ch,
                        FlowEvent::CallStarted {
                            at_ms: now,
                            caller,
                            did: String::new(),
                        },
                        &mut out,
                    );
                }
            }
            EventKind::Digit(d) => self.feed(
                ch,
                FlowEvent::Digit {
                    at_ms: now,
                    digit: d,
                },
                &mut out,
            ),
            EventKind::PromptsDone => {
                if let Some(c) = self.calls.get_mut(&ch) {
                    c.line_idle = true;
                    // Only the end of the whole prompt counts: sentences still being
                    // synthesised will follow.
                    if c.audio_queued && c.synthesizing.is_none() {
                        c.audio_queued = false;
                        if let Some((id, _)) = c.prompt.take() {
                            self.feed(ch, FlowEvent::PromptFinished { at_ms: now, id }, &mut out);
                        }
                    }
                }
            }
            EventKind::Audio(frame) => self.audio(ch, now, &frame, &mut out),
            EventKind::Transferred => self.feed(
                ch,
                FlowEvent::TransferResult {
                    at_ms: now,
                    outcome: TransferOutcome::Answered,
                },
                &mut out,
            ),
            EventKind::TransferFailed(cause) => {
                let outcome = if cause == DisconnectCause::Busy {
                    TransferOutcome::Busy
                } else {
                    TransferOutcome::NoAnswer
                };
                if let Some(c) = self.calls.get_mut(&ch) {
                    c.transferring = false;
                    c.line_log(now, "transfer_failed", json!({"cause": cause.as_str()}));
                }
                self.feed(
                    ch,
                    FlowEvent::TransferResult {
                        at_ms: now,
                        outcome,
                    },
                    &mut out,
                );
            }
            EventKind::Refused(why) => {
                let transferring = self.calls.get(&ch).is_some_and(|c| c.transferring);
                if let Some(c) = self.calls.get_mut(&ch) {
                    c.line_log(now, "refused", json!({"why": why}));
                }
                if transferring {
                    self.feed(
                        ch,
                        FlowEvent::TransferResult {
                            at_ms: now,
                            outcome: TransferOutcome::NoAnswer,
                        },
                        &mut out,
                    );
                }
            }
            EventKind::Disconnected(cause) => {
                self.early_cid.remove(&ch);
                self.feed(ch, FlowEvent::HangUp { at_ms: now }, &mut out);
                if let Some(mut c) = self.calls.remove(&ch) {
                    c.sync_flow_log();
                    c.line_log(now, "disconnected", json!({"cause": cause.as_str()}));
                    out.push(FlowOutput::CallEnded(Box::new(cdr(ch, c, now, cause))));
                }
            }
            EventKind::Alarm(_) | EventKind::TimerFired => {}
        }
        out
    }

    /// Fire the timers due at `now_ms`.
    pub fn poll(&mut self, now_ms: i64) -> Vec<FlowOutput> {
        let mut out = Vec::new();
        let due: Vec<(u32, Id)> = self
            .calls
            .iter_mut()
            .flat_map(|(ch, c)| {
                let fired: Vec<(u32, Id)> = c
                    .timers
                    .iter()
                    .filter(|t| t.1 <= now_ms)
                    .map(|t| (*ch, t.0))
                    .collect();
                c.timers.retain(|t| t.1 > now_ms);
                fired
            })
            .collect();
        for (ch, id) in due {
            self.feed(ch, FlowEvent::TimerFired { at_ms: now_ms, id }, &mut out);
        }
        out
    }

    /// A job finished at `now_ms`.
    pub fn job_done(&mut self, t: Ticket, result: JobResult, now_ms: i64) -> Vec<FlowOutput> {
        let mut out = Vec::new();
        let Some(c) = self.calls.get_mut(&t.channel) else {
            return out;
        };
        if c.id != t.call {
            return out;
        }
        let ch = t.channel;
        // A recognition started before the endpoint (the caller still quiet since).
        let speculative = c
            .listener
            .as_ref()
            .and_then(|l| l.spec.as_ref())
            .is_some_and(|s| s.seq == t.seq);
        match result {
            JobResult::Audio { samples, last } => {
                if c.synthesizing != Some(t.seq) {
                    return out;
                }
                if last {
                    c.synthesizing = None;
                }
                let Some((id, barge)) = c.prompt else {
                    return out;
                };
                if samples.is_empty() {
                    // The end of the stream: the prompt is over once the line has played
                    // what it has (now, if it already has).
                    if last && (!c.audio_queued || c.line_idle) {
                        c.audio_queued = false;
                        c.prompt = None;
                        self.feed(
                            ch,
                            FlowEvent::PromptFinished { at_ms: now_ms, id },
                            &mut out,
                        );
                    }
                    return out;
                }
                if !c.audio_queued {
                    c.line_log(now_ms, "prompt_audio", json!({"id": id}));
                }
                c.audio_queued = true;
                c.line_idle = false;
                out.push(cmd(
                    ch,
                    CommandKind::Play {
                        samples,
                        barge_in: barge.dtmf,
                    },
                ));
            }
            JobResult::Failed(why) if c.synthesizing == Some(t.seq) => {
                c.synthesizing = None;
                c.line_log(now_ms, "prompt_failed", json!({"why": why}));
                // Nothing to play (or the rest cannot be made): the prompt is over once the
                // line has played what it has.
                if !c.audio_queued || c.line_idle {
                    c.audio_queued = false;
                    if let Some((id, _)) = c.prompt.take() {
                        self.feed(
                            ch,
                            FlowEvent::PromptFinished { at_ms: now_ms, id },
                            &mut out,
                        );
                    }
                }
            }
            JobResult::Recognized(r) if speculative => {
                let l = c.listener.as_mut().expect("checked above");
                let sure = matches!(l.request.mode, Mode::Grammar(_))
                    && r.as_ref()
                        .is_some_and(|r| r.label.is_some() && r.confidence >= EARLY_ACCEPT);
                if !sure {
                    if let Some(s) = l.spec.as_mut() {
                        s.result = Some(r);
                    }
                    return out;
                }
                // A confident grammar match: end the turn now.
                c.listener = None;
                c.line_log(
                    now_ms,
                    "speech_end",
                    json!({"early": true, "endpoint_ms": now_ms}),
                );
                log_recognized(c, now_ms, r.as_ref(), true);
                untap(ch, c, self.opts.capture_caller, &mut out);
                self.feed(
                    ch,
                    FlowEvent::Recognized {
                        at_ms: now_ms,
                        result: r,
                    },
                    &mut out,
                );
            }
            JobResult::Failed(_) if speculative => {
                // Recognise again at the endpoint.
                if let Some(l) = c.listener.as_mut() {
                    l.spec = None;
                }
            }
            JobResult::Recognized(r) if c.recognizing == Some(t.seq) => {
                c.recognizing = None;
                log_recognized(c, now_ms, r.as_ref(), false);
                self.feed(
                    ch,
                    FlowEvent::Recognized {
                        at_ms: now_ms,
                        result: r,
                    },
                    &mut out,
                );
            }
            JobResult::Failed(why) if c.recognizing == Some(t.seq) => {
                c.recognizing = None;
                c.line_log(now_ms, "recognizer_failed", json!({"why": why}));
                self.feed(
                    ch,
                    FlowEvent::Recognized {
                        at_ms: now_ms,
                        result: None,
                    },
                    &mut out,
                );
            }
            JobResult::Http(outcome) => {
                if let Some((_, id)) = c.http.take_if(|h| h.0 == t.seq) {
                    let ev = match outcome {
                        Ok(r) => FlowEvent::HttpReply {
                            at_ms: now_ms,
                            id,
                            status: r.status,
                            body: r.body,
                        },
                        Err(error) => FlowEvent::HttpFailed {
                            at_ms: now_ms,
                            id,
                            error,
                        },
                    };
                    self.feed(ch, ev, &mut out);
                }
            }
            JobResult::Saved(path) => {
                if let Some((seq, id)) = c.saving {
                    if seq == t.seq {
                        c.saving = None;
                        self.feed(
                            ch,
                            FlowEvent::RecordingFinished {
                                at_ms: now_ms,
                                id,
                                path,
                            },
                            &mut out,
                        );
                    }
                }
            }
            JobResult::Failed(why) => {
                if let Some((seq, id)) = c.saving {
                    if seq == t.seq {
                        c.saving = None;
                        c.line_log(now_ms, "recording_failed", json!({"why": why}));
                        self.feed(
                            ch,
                            FlowEvent::RecordingFinished {
                                at_ms: now_ms,
                                id,
                                path: String::new(),
                            },
                            &mut out,
                        );
                    }
                }
            }
            JobResult::Recognized(_) => {}
        }
        out
    }

    fn new_call(
        &mut self,
        ch: u32,
        now: i64,
        direction: Direction,
        caller: CallerInfo,
        new_id: &mut dyn FnMut() -> CallId,
    ) -> Option<CallId> {
        let name = self.routes.get(&ch)?;
        let loaded = self.flows.flows.get(name)?;
        let id = new_id();
        let call = Call::new(Arc::clone(&loaded.flow), Arc::clone(&loaded.breakers));
        let audio = Arc::clone(&loaded.audio);
        let mut c = FlowCall {
            id,
            direction,
            start_ms: now,
            answer_ms: None,
            caller,
            call,
            audio,
            flow_logged: 0,
            log: Vec::new(),
            timers: Vec::new(),
            prompt: None,
            audio_queued: false,
            line_idle: true,
            synthesizing: None,
            listener: None,
            recognizing: None,
            recording: None,
            saving: None,
            http: None,
            transferring: false,
            seq: 0,
            tapped: false,
            caller_audio: Vec::new(),
        };
        c.line_log(now, "ringing", json!({}));
        self.calls.insert(ch, c);
        Some(id)
    }

    /// Feed the interpreter and carry out what it asks.
    fn feed(&mut self, ch: u32, ev: FlowEvent, out: &mut Vec<FlowOutput>) {
        let now = ev.at_ms();
        let Some(c) = self.calls.get_mut(&ch) else {
            return;
        };
        let actions = c.call.handle(ev);
        c.sync_flow_log();
        let mut follow = Vec::new();
        for a in actions {
            self.act(ch, now, a, out, &mut follow);
        }
        for ev in follow {
            self.feed(ch, ev, out);
        }
    }

    fn act(
        &mut self,
        ch: u32,
        now: i64,
        a: Action,
        out: &mut Vec<FlowOutput>,
        follow: &mut Vec<FlowEvent>,
    ) {
        let opts = &self.opts;
        let Some(c) = self.calls.get_mut(&ch) else {
            return;
        };
        match a {
            Action::Play {
                id,
                prompt,
                barge_in,
            } => {
                c.prompt = Some((id, barge_in));
                c.audio_queued = false;
                c.synthesizing = None;
                match prompt {
                    Prompt::File(path) => {
                        let audio = c.audio.get(&path).cloned().ok_or_else(|| {
                            format!("{} was not loaded with the flow", path.display())
                        });
                        match audio {
                            Ok(samples) => {
                                c.audio_queued = true;
                                c.line_idle = false;
                                c.line_log(now, "prompt_audio", json!({"id": id}));
                                out.push(cmd(
                                    ch,
                                    CommandKind::Play {
                                        samples,
                                        barge_in: barge_in.dtmf,
                                    },
                                ));
                            }
                            Err(why) => {
                                // Validation checked the file existed; it vanished or broke
                                // since. Skip it rather than leave the caller in silence.
                                c.line_log(now, "prompt_failed", json!({"why": why}));
                                c.prompt = None;
                                follow.push(FlowEvent::PromptFinished { at_ms: now, id });
                            }
                        }
                    }
                    Prompt::Tts { text, lang } => {
                        if opts.tts {
                            let seq = c.next_seq();
                            c.synthesizing = Some(seq);
                            let req = tts_request(&text, lang, opts);
                            out.push(FlowOutput::Job(
                                Ticket {
                                    channel: ch,
                                    call: c.id,
                                    seq,
                                },
                                Job::Synthesize {
                                    text,
                                    lang,
                                    voice: req.voice,
                                },
                            ));
                        } else {
                            c.line_log(now, "prompt_failed", json!({"why": "no voice loaded"}));
                            c.prompt = None;
                            follow.push(FlowEvent::PromptFinished { at_ms: now, id });
                        }
                    }
                }
            }
            Action::StopPrompt { id } if c.prompt.is_some_and(|p| p.0 == id) || c.audio_queued => {
                c.prompt = None;
                c.synthesizing = None;
                c.audio_queued = false;
                c.line_idle = true;
                out.push(cmd(ch, CommandKind::StopPrompts));
            }
            Action::Listen { request, endpoint } => {
                if !opts.speech {
                    c.line_log(now, "listen_skipped", json!({"why": "no recogniser"}));
                    return;
                }
                let defaults = EndpointConfig::default();
                let cfg = EndpointConfig {
                    // The flow's own no-input timer decides when nothing was said.
                    no_speech_timeout_ms: 120_000,
                    trailing_silence_ms: endpoint
                        .end_silence_ms
                        .and_then(|v| u32::try_from(v).ok())
                        .unwrap_or(defaults.trailing_silence_ms)
                        .clamp(100, 10_000),
                    max_utterance_ms: endpoint
                        .max_speech_ms
                        .and_then(|v| u32::try_from(v).ok())
                        .unwrap_or(defaults.max_utterance_ms)
                        .clamp(1_000, 600_000),
                    ..defaults
                };
                let Ok(endpointer) = Endpointer::new(cfg) else {
                    return;
                };
                c.listener = Some(Listener {
                    vad: EarshotVad::new(),
                    endpointer,
                    request,
                    trailing_ms: cfg.trailing_silence_ms,
                    speech_start: None,
                    quiet_frames: 0,
                    spec: None,
                    started_ms: now,
                    audio: Vec::new(),
                });
                c.recognizing = None;
                if !c.tapped {
                    c.tapped = true;
                    out.push(cmd(ch, CommandKind::Tap(true)));
                }
            }
            Action::StopListening => {
                c.listener = None;
                c.recognizing = None;
                untap(ch, c, opts.capture_caller, out);
            }
            Action::StartTimer { id, after_ms } => {
                c.timers.retain(|t| t.0 != id);
                c.timers.push((
                    id,
                    now.saturating_add(i64::try_from(after_ms).unwrap_or(i64::MAX)),
                ));
            }
            Action::CancelTimer { id } => c.timers.retain(|t| t.0 != id),
            Action::Http(req) => {
                let seq = c.next_seq();
                c.http = Some((seq, req.id));
                out.push(FlowOutput::Job(
                    Ticket {
                        channel: ch,
                        call: c.id,
                        seq,
                    },
                    Job::Http(req),
                ));
            }
            Action::Transfer { extension } => {
                c.transferring = true;
                c.listener = None;
                c.prompt = None;
                c.synthesizing = None;
                c.audio_queued = false;
                c.line_idle = true;
                out.push(cmd(ch, CommandKind::StopPrompts));
                out.push(cmd(ch, CommandKind::Transfer(extension)));
            }
            Action::Record { id, max_ms } => {
                let cfg = EndpointConfig {
                    no_speech_timeout_ms: 10_000,
                    trailing_silence_ms: RECORD_END_SILENCE_MS,
                    max_utterance_ms: u32::try_from(max_ms)
                        .unwrap_or(600_000)
                        .clamp(1_000, 600_000),
                    ..EndpointConfig::default()
                };
                let Ok(endpointer) = Endpointer::new(cfg) else {
                    return;
                };
                c.recording = Some(Recording {
                    id,
                    vad: EarshotVad::new(),
                    endpointer,
                    audio: Vec::new(),
                    max_samples: usize::try_from(max_ms).unwrap_or(600_000).min(600_000) * 8,
                });
                if !c.tapped {
                    c.tapped = true;
                    out.push(cmd(ch, CommandKind::Tap(true)));
                }
            }
            Action::HangUp { reason } => {
                c.listener = None;
                c.timers.clear();
                // After an answered transfer the line hangs up by itself.
                if reason != EndReason::Transferred {
                    out.push(cmd(ch, CommandKind::HangUp));
                }
            }
            _ => {}
        }
    }

    fn audio(&mut self, ch: u32, now: i64, frame: &[i16], out: &mut Vec<FlowOutput>) {
        let capture = self.opts.capture_caller;
        let Some(c) = self.calls.get_mut(&ch) else {
            return;
        };
        if capture {
            c.caller_audio.extend_from_slice(frame);
        }
        let mut follow = Vec::new();
        let mut speculate = None;
        let heard = c.listener.as_mut().map(|l| {
            l.audio.extend_from_slice(frame);
            let speech = l.vad.process(frame).map(|v| v.speech).unwrap_or(false);
            let lag = i64::from(l.vad.latency_ms());
            if speech {
                // Still talking: a recognition started on the pause is out of date.
                l.quiet_frames = 0;
                l.spec = None;
            } else if let Some(start) = l.speech_start {
                l.quiet_frames += 1;
                let quiet_ms = l.quiet_frames * 20;
                if quiet_ms == SPECULATE_MS && l.trailing_ms > SPECULATE_MS + 100 {
                    let from = usize::try_from(start)
                        .unwrap_or(0)
                        .saturating_sub(PRE_ROLL_MS)
                        * 8;
                    speculate = l.audio.get(from..).map(|a| (a.to_vec(), l.request.clone()));
                }
            }
            (l.endpointer.push(speech), l.started_ms - lag)
        });
        if let Some((audio, request)) = speculate {
            c.line_log(now, "recognizing", json!({"speculative": true}));
            let seq = c.next_seq();
            if let Some(l) = c.listener.as_mut() {
                l.spec = Some(Speculation { seq, result: None });
            }
            out.push(FlowOutput::Job(
                Ticket {
                    channel: ch,
                    call: c.id,
                    seq,
                },
                Job::Recognize { audio, request },
            ));
        }
        let ms = |v: u64| i64::try_from(v).unwrap_or(0);
        match heard {
            Some((Some(EndpointEvent::SpeechStart { at_ms }), base)) => {
                if let Some(l) = c.listener.as_mut() {
                    l.speech_start = Some(at_ms);
                }
                c.line_log(base + ms(at_ms), "speech_start", json!({}));
                let talking = c.audio_queued || c.synthesizing.is_some();
                if c.prompt.is_some_and(|p| p.1.speech) && talking {
                    // Barge-in: the caller talks over the prompt.
                    c.audio_queued = false;
                    c.synthesizing = None;
                    c.line_idle = true;
                    out.push(cmd(ch, CommandKind::StopPrompts));
                    c.line_log(now, "prompt_stopped", json!({"by": "speech"}));
                }
            }
            Some((
                Some(
                    EndpointEvent::SpeechEnd { start_ms, end_ms }
                    | EndpointEvent::MaxLength { start_ms, end_ms },
                ),
                base,
            )) => {
                if let Some(l) = c.listener.take() {
                    c.line_log(
                        base + ms(end_ms),
                        "speech_end",
                        json!({"speech_ms": end_ms.saturating_sub(start_ms), "endpoint_ms": now}),
                    );
                    match l.spec {
                        // The caller stayed quiet since recognition started: use it.
                        Some(Speculation { seq, result }) => {
                            c.recognizing = Some(seq);
                            if let Some(result) = result {
                                c.recognizing = None;
                                log_recognized(c, now, result.as_ref(), false);
                                follow.push(FlowEvent::Recognized { at_ms: now, result });
                            }
                        }
                        None => {
                            c.line_log(now, "recognizing", json!({"speculative": false}));
                            let at = |v: u64| usize::try_from(v).unwrap_or(0);
                            let from = at(start_ms).saturating_sub(PRE_ROLL_MS) * 8;
                            let to = ((at(end_ms) + POST_ROLL_MS) * 8).min(l.audio.len());
                            let audio = l
                                .audio
                                .get(from..to)
                                .map(<[i16]>::to_vec)
                                .unwrap_or_default();
                            let seq = c.next_seq();
                            c.recognizing = Some(seq);
                            out.push(FlowOutput::Job(
                                Ticket {
                                    channel: ch,
                                    call: c.id,
                                    seq,
                                },
                                Job::Recognize {
                                    audio,
                                    request: l.request,
                                },
                            ));
                        }
                    }
                    untap(ch, c, capture, out);
                }
            }
            Some((Some(EndpointEvent::NoInput), _)) => {
                c.listener = None;
                follow.push(FlowEvent::Recognized {
                    at_ms: now,
                    result: None,
                });
            }
            _ => {}
        }
        if let Some(r) = &mut c.recording {
            r.audio.extend_from_slice(frame);
            let speech = r.vad.process(frame).map(|v| v.speech).unwrap_or(false);
            let ended = matches!(
                r.endpointer.push(speech),
                Some(
                    EndpointEvent::SpeechEnd { .. }
                        | EndpointEvent::MaxLength { .. }
                        | EndpointEvent::NoInput
                )
            ) || r.audio.len() >= r.max_samples;
            if ended {
                let r = c.recording.take().expect("recording present");
                let seq = c.next_seq();
                c.saving = Some((seq, r.id));
                c.line_log(now, "recording_end", json!({"ms": r.audio.len() / 8}));
                out.push(FlowOutput::Job(
                    Ticket {
                        channel: ch,
                        call: c.id,
                        seq,
                    },
                    Job::SaveRecording {
                        name: format!("{}-{}.wav", c.id, r.id),
                        audio: r.audio,
                    },
                ));
                untap(ch, c, capture, out);
            }
        }
        for ev in follow {
            self.feed(ch, ev, out);
        }
    }
}

fn log_recognized(c: &mut FlowCall, at_ms: i64, r: Option<&Recognition>, early: bool) {
    match r {
        Some(r) => c.line_log(
            at_ms,
            "recognized",
            json!({"confidence": r.confidence, "matched": r.label.is_some(), "early": early}),
        ),
        None => c.line_log(
            at_ms,
            "recognized",
            json!({"speech": false, "early": early}),
        ),
    }
}

fn cmd(channel: u32, kind: CommandKind) -> FlowOutput {
    FlowOutput::Command(Command { channel, kind })
}

/// Turn the tap off unless something still needs the caller's audio.
fn untap(ch: u32, c: &mut FlowCall, capture: bool, out: &mut Vec<FlowOutput>) {
    if c.tapped && c.listener.is_none() && c.recording.is_none() && !capture {
        c.tapped = false;
        out.push(cmd(ch, CommandKind::Tap(false)));
    }
}

fn cdr(channel: u32, mut c: FlowCall, end_ms: i64, cause: DisconnectCause) -> Cdr {
    c.log.sort_by_key(|e| e.0);
    let start = c.start_ms;
    let events = c
        .log
        .into_iter()
        .map(|(at, v)| CdrEvent {
            offset_ms: u64::try_from(at - start).unwrap_or(0),
            what: v.to_string(),
        })
        .collect();
    Cdr {
        id: c.id,
        channel,
        direction: c.direction,
        caller: c.caller.number,
        called: None,
        start_ms: c.start_ms,
        answer_ms: c.answer_ms,
        end_ms,
        cause,
        digits: String::new(),
        events,
    }
}
