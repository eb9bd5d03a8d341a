//! `yingda test-call --flow FILE --script FILE --out DIR`: one scripted call through a flow,
//! in-process, on the simulated card — the same line engine and flow controller the daemon
//! runs — before the flow goes live.
//!
//! Time is simulated (a 20 ms tick runs as fast as the CPU allows) except where the box does
//! real work: recognition, synthesis, backend calls and saving recordings run for real, and
//! the wall time each took is charged to the simulated clock before its result arrives. So
//! timeouts are exact, calls run faster than real time, and the response latency in the event
//! log is what a caller would wait on this machine.
//!
//! The script (TOML) is the caller:
//!
//! ```toml
//! caller = "13800138000"           # caller ID presented (DTMF), optional
//! start = "2026-03-02 10:00"       # local time (+08:00 unless given) the call starts, optional
//! max_s = 300                      # the call is hung up after this long (simulated)
//!
//! [backend]                        # how backend nodes reach their servers, optional
//! ca = "ca.pem"                    # PEM CA bundle (default: the system bundle)
//! resolve = { "his.local:443" = "127.0.0.1:8443" }
//!
//! [[steps]]
//! await_reply = true               # wait until the box has talked and fallen quiet
//! [[steps]]
//! digits = "1"                     # DTMF keys
//! [[steps]]
//! say = "我想挂号"                  # speech, synthesised with the box's voices (lang, voice optional)
//! [[steps]]
//! wav = "answer.wav"               # speech from an 8 kHz mono WAV
//! [[steps]]
//! wait_ms = 2000                   # silence
//! [[steps]]
//! hangup = true
//! ```
//!
//! Relative paths are relative to the script. Out: `events.jsonl` (the call's event log, as
//! stored with its CDR), `cdr.json`, `caller.wav` (what the box heard, after its echo
//! canceller) and `box.wav` (what the caller heard), both 8 kHz 16-bit mono from answer.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;
use yingda_backend::{Backend, BackendConfig};
use yingda_flow::Flow;
use yingda_hal::{Clock, Law, ManualClock};
use yingda_hal_sim::{CallScript, CallerId, CidFormat, LineProfile, Pacing, SimConfig, SimSpan};
use yingda_signaling::fxo::FxoConfig;
use yingda_speech::recognizer::{Lang, Recognizer};
use yingda_store::{CallId, Cdr};
use yingda_tts::synth::Synthesizer;

use crate::engine::{Command, LineEngine, LineSettings};
use crate::flowctl::{
    tts_request, FlowController, FlowOptions, FlowOutput, FlowSet, Job, JobResult, Ticket,
};
use crate::fragments::Fragments;
use crate::jobs;
use crate::runtime::tick_span;

/// Why a test call could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestCallError {
    /// The flow is invalid: every error, each with file, line and node.
    #[error("flow rejected:\n{}", .0.join("\n"))]
    Flow(Vec<String>),
    /// The script is unusable.
    #[error("script {path}: {message}")]
    Script {
        /// The script file.
        path: PathBuf,
        /// What is wrong (with line and column for syntax errors).
        message: String,
    },
    /// The output directory or a file in it could not be written.
    #[error("output {path}: {source}")]
    Out {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The simulated card could not be set up.
    #[error("simulated card: {0}")]
    Card(String),
}

/// The script file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// Caller ID presented.
    #[serde(default)]
    pub caller: Option<String>,
    /// Local start time, `YYYY-MM-DD HH:MM[:SS][+HH:MM]`.
    #[serde(default)]
    pub start: Option<String>,
    /// Longest call, simulated seconds.
    #[serde(default = "default_max_s")]
    pub max_s: u32,
    /// Backend reachability.
    #[serde(default)]
    pub backend: Option<BackendDef>,
    /// Extensions the box may transfer to: number → `answer`, `busy` or `no_answer`
    /// (unlisted numbers get congestion).
    #[serde(default)]
    pub callees: BTreeMap<String, String>,
    /// The caller's steps.
    #[serde(default)]
    pub steps: Vec<StepDef>,
}

fn default_max_s() -> u32 {
    300
}

/// `[backend]` of a script.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BackendDef {
    /// CA bundle.
    #[serde(default)]
    pub ca: Option<PathBuf>,
    /// `host:port` → `ip:port`.
    #[serde(default)]
    pub resolve: BTreeMap<String, String>,
}

/// One step; exactly one action key.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// Wait for the box to talk and fall quiet.
    #[serde(default)]
    pub await_reply: Option<bool>,
    /// Silence after the box's talk that ends its turn (default 800).
    #[serde(default)]
    pub quiet_ms: Option<u32>,
    /// Longest wait for the box (default 30 000).
    #[serde(default)]
    pub max_ms: Option<u32>,
    /// DTMF keys.
    #[serde(default)]
    pub digits: Option<String>,
    /// Text spoken with the box's voices.
    #[serde(default)]
    pub say: Option<String>,
    /// Language of `say` (`zh` default, `en`).
    #[serde(default)]
    pub lang: Option<String>,
    /// Voice for `say`.
    #[serde(default)]
    pub voice: Option<String>,
    /// WAV file spoken.
    #[serde(default)]
    pub wav: Option<PathBuf>,
    /// Silence, ms.
    #[serde(default)]
    pub wait_ms: Option<u32>,
    /// Hang up.
    #[serde(default)]
    pub hangup: Option<bool>,
}

/// The engines a test call uses, loaded once and shared by concurrent calls.
#[derive(Clone, Default)]
pub struct Engines {
    /// Speech recognition (none: the flow takes DTMF only).
    pub recognizer: Option<Arc<dyn Recognizer>>,
    /// Voices (none: TTS prompts are skipped).
    pub synth: Option<Synthesizer>,
    /// Voices for prompts.
    pub opts: FlowOptions,
}

impl std::fmt::Debug for Engines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engines")
            .field(
                "recognizer",
                &self.recognizer.as_ref().map(|r| r.name().to_owned()),
            )
            .field("synth", &self.synth.is_some())
            .finish()
    }
}

/// What a finished test call produced.
#[derive(Debug)]
pub struct Outcome {
    /// The call's record (its `events` are the JSON-lines log).
    pub cdr: Cdr,
    /// The event log, one JSON value per entry.
    pub events: Vec<serde_json::Value>,
    /// Wall time the run took, ms.
    pub wall_ms: u64,
}

impl Outcome {
    /// Response latencies in ms: from each end of caller speech (`speech_end`) to the first
    /// audio of the box's next prompt (`prompt_audio`).
    pub fn speech_latencies(&self) -> Vec<i64> {
        self.latencies(|e| e["at_ms"].as_i64())
    }

    /// Like [`Outcome::speech_latencies`] but from the endpointer's decision (end of speech
    /// plus the trailing silence it waited for) to the reply's first audio: the box's own
    /// processing time.
    pub fn processing_latencies(&self) -> Vec<i64> {
        self.latencies(|e| e["endpoint_ms"].as_i64())
    }

    /// From the time `from` reads off each `speech_end` to the next `prompt_audio`; speech
    /// that starts again before a reply restarts the wait.
    fn latencies(&self, from: impl Fn(&serde_json::Value) -> Option<i64>) -> Vec<i64> {
        let mut out = Vec::new();
        let mut end: Option<i64> = None;
        for e in &self.events {
            match e["event"].as_str() {
                Some("speech_end") => end = from(e),
                Some("prompt_audio") => {
                    if let Some(t) = end.take() {
                        out.push(e["at_ms"].as_i64().unwrap_or(0) - t);
                    }
                }
                Some("speech_start") => end = None,
                _ => {}
            }
        }
        out
    }

    /// How the flow ended (`flow`, `transferred`, `caller`, `flow_error`), if it did.
    pub fn end_reason(&self) -> Option<String> {
        self.events
            .iter()
            .rev()
            .find(|e| e["event"] == "end")
            .and_then(|e| e["reason"].as_str().map(str::to_owned))
    }
}

/// Load and validate a flow file; errors are the validator's, one per line.
///
/// # Errors
/// [`TestCallError::Flow`].
pub fn load_flow(path: &Path) -> Result<Arc<Flow>, TestCallError> {
    yingda_flow::validate_file(path)
        .map(Arc::new)
        .map_err(|errs| TestCallError::Flow(errs.iter().map(ToString::to_string).collect()))
}

/// Read a script file.
///
/// # Errors
/// [`TestCallError::Script`] naming the problem.
pub fn load_script(path: &Path) -> Result<Script, TestCallError> {
    let err = |message: String| TestCallError::Script {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let script: Script = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
    for (i, s) in script.steps.iter().enumerate() {
        let actions = [
            s.await_reply.is_some(),
            s.digits.is_some(),
            s.say.is_some(),
            s.wav.is_some(),
            s.wait_ms.is_some(),
            s.hangup.is_some(),
        ]
        .iter()
        .filter(|&&a| a)
        .count();
        if actions != 1 {
            return Err(err(format!(
                "step {}: needs exactly one of await_reply, digits, say, wav, wait_ms, hangup ({actions} given)",
                i + 1
            )));
        }
        if let Some(d) = &s.digits {
            if d.is_empty() || !d.chars().all(|c| "0123456789*#ABCD".contains(c)) {
                return Err(err(format!(
                    "step {}: digits {d:?}: only 0-9, *, #, A-D",
                    i + 1
                )));
            }
        }
    }
    if let Some(s) = &script.start {
        parse_start(s).map_err(|m| err(format!("start: {m}")))?;
    }
    for (n, what) in &script.callees {
        callee(what, &[]).ok_or_else(|| {
            err(format!(
                "callees.{n}: {what:?}: expected \"answer\", \"busy\" or \"no_answer\""
            ))
        })?;
    }
    Ok(script)
}

/// The sim callee for a `[callees]` value; an answering callee says `hello` once
/// connected (the box detects the answer by the voice).
fn callee(what: &str, hello: &[yingda_hal_sim::Step]) -> Option<yingda_hal_sim::Callee> {
    use yingda_hal_sim::Callee;
    match what {
        "answer" => Some(Callee::Answer {
            after_ms: 3000,
            polarity: false,
            steps: hello.to_vec(),
        }),
        "busy" => Some(Callee::Busy),
        "no_answer" => Some(Callee::NoAnswer),
        _ => None,
    }
}

/// `YYYY-MM-DD HH:MM[:SS][±HH:MM]` (default +08:00) → ms since the Unix epoch.
fn parse_start(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?}: expected YYYY-MM-DD HH:MM[:SS][+HH:MM]");
    let s = s.trim().replace('T', " ");
    let (date, rest) = s.split_once(' ').ok_or_else(bad)?;
    let (time, offset_min) = match rest.find(['+', '-']) {
        Some(i) => {
            let (t, o) = rest.split_at(i);
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (h, m) = o[1..].split_once(':').ok_or_else(bad)?;
            let h: i64 = h.parse().map_err(|_| bad())?;
            let m: i64 = m.parse().map_err(|_| bad())?;
            (t, sign * (h * 60 + m))
        }
        None => (rest, 8 * 60),
    };
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let t: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if d.len() != 3 || !(2..=3).contains(&t.len()) {
        return Err(bad());
    }
    let (y, mo, day) = (d[0], d[1], d[2]);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&day) || t[0] > 23 || t[1] > 59 {
        return Err(bad());
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + t[0] * 3600 + t[1] * 60 + t.get(2).copied().unwrap_or(0);
    Ok((secs - offset_min * 60) * 1000)
}

/// Build the backend client a script asks for.
///
/// # Errors
/// [`TestCallError::Script`] for a bad CA or address.
pub fn backend_for(script: &Script, script_path: &Path) -> Result<Backend, TestCallError> {
    let err = |message: String| TestCallError::Script {
        path: script_path.to_path_buf(),
        message,
    };
    let base = script_path.parent().unwrap_or(Path::new("."));
    let mut cfg = BackendConfig::default();
    if let Some(b) = &script.backend {
        if let Some(ca) = &b.ca {
            cfg.ca_bundle = base.join(ca);
        }
        for (from, to) in &b.resolve {
            let (host, port) = from
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
                .ok_or_else(|| err(format!("backend.resolve: {from:?} is not host:port")))?;
            let addr: SocketAddr = to
                .parse()
                .map_err(|_| err(format!("backend.resolve: {to:?} is not ip:port")))?;
            cfg.resolve.insert((host, port), addr);
        }
    }
    Backend::new(cfg).map_err(|e| err(e.to_string()))
}

fn lang_of(code: Option<&str>) -> Lang {
    if code == Some("en") {
        Lang::En
    } else {
        Lang::Zh
    }
}

/// The far-end script for the sim card.
fn caller_script(script: &Script, base: &Path, engines: &Engines) -> Result<CallScript, String> {
    let mut cs = CallScript::new();
    if let Some(c) = &script.caller {
        cs = cs.caller_id(CallerId::number(CidFormat::Dtmf, c));
    }
    for (i, s) in script.steps.iter().enumerate() {
        let n = i + 1;
        cs = if s.await_reply.is_some() {
            cs.await_reply(s.quiet_ms.unwrap_or(800), s.max_ms.unwrap_or(30_000))
        } else if let Some(d) = &s.digits {
            cs.digits(d)
        } else if let Some(text) = &s.say {
            let synth = engines
                .synth
                .as_ref()
                .ok_or_else(|| format!("step {n}: say needs the box's voices (none loaded)"))?;
            let lang = lang_of(s.lang.as_deref());
            let mut req = tts_request(text, lang, &engines.opts);
            if let Some(v) = &s.voice {
                req.voice.clone_from(v);
            }
            let audio = synth
                .synthesize(&req)
                .map_err(|e| format!("step {n}: say: {e}"))?;
            cs.play(audio)
        } else if let Some(w) = &s.wav {
            cs.play_wav(&base.join(w))
                .map_err(|e| format!("step {n}: {e}"))?
        } else if let Some(ms) = s.wait_ms {
            cs.wait(ms)
        } else {
            cs.hang_up()
        };
    }
    Ok(cs)
}

/// Run a job now; returns its results, each with the wall time (ms since the job began) at
/// which it was ready.
fn run_job(
    job: Job,
    engines: &Engines,
    fragments: Option<&Fragments>,
    backend: Option<&Backend>,
    rt: &tokio::runtime::Runtime,
    out_dir: &Path,
) -> Vec<(u64, JobResult)> {
    let t0 = Instant::now();
    let ms = |t0: Instant| t0.elapsed().as_millis() as u64;
    match job {
        Job::Recognize { audio, request } => {
            let r = jobs::recognize(engines.recognizer.as_deref(), &audio, request);
            vec![(ms(t0), r)]
        }
        Job::Synthesize { text, lang, voice } => {
            let mut out = Vec::new();
            jobs::synthesize(
                engines.synth.as_ref(),
                fragments,
                &engines.opts,
                &text,
                lang,
                voice,
                &mut |r| out.push((ms(t0), r)),
            );
            out
        }
        Job::Http(req) => {
            let outcome = match backend {
                Some(b) => rt.block_on(b.send(&req)).map_err(|e| e.to_string()),
                None => Err("no backend client".into()),
            };
            vec![(ms(t0), JobResult::Http(outcome))]
        }
        Job::SaveRecording { audio, name } => {
            vec![(ms(t0), jobs::save_recording(out_dir, &name, &audio))]
        }
    }
}

/// Run one scripted call of `flow` and write its outputs to `out_dir`.
///
/// # Errors
/// A bad script or an unwritable output directory.
pub fn run(
    flow: Arc<Flow>,
    script: &Script,
    script_path: &Path,
    out_dir: &Path,
    engines: &Engines,
) -> Result<Outcome, TestCallError> {
    let t_run = Instant::now();
    let base = script_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let script_err = |message: String| TestCallError::Script {
        path: script_path.to_path_buf(),
        message,
    };
    let out_err = |path: PathBuf| move |source| TestCallError::Out { path, source };
    std::fs::create_dir_all(out_dir).map_err(out_err(out_dir.to_path_buf()))?;
    let backend = backend_for(script, script_path)?;
    let caller = caller_script(script, &base, engines).map_err(script_err)?;
    let start_ms = match &script.start {
        Some(s) => parse_start(s).map_err(script_err)?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    };

    let clock = Arc::new(ManualClock::new(start_ms));
    let cfg = SimConfig {
        name: "test-call".into(),
        ports: 1,
        first_channel: 1,
        law: Law::Alaw,
        profile: LineProfile::default(),
        pacing: Pacing::Manual,
        ..SimConfig::default()
    };
    let (mut span, handle) =
        SimSpan::new(cfg, clock.clone()).map_err(|e| TestCallError::Card(e.to_string()))?;
    let settings = LineSettings {
        fxo: FxoConfig {
            answer_after_rings: 1,
            // DTMF caller ID before the first ring, as most Chinese exchanges send it.
            cidsignalling: yingda_signaling::fxo::CidSignalling::Dtmf,
            cidstart: yingda_signaling::fxo::CidStart::Dtmf,
            ..FxoConfig::default()
        },
        // The simulated line has no hybrid echo (LineProfile::default), so no canceller:
        // with nothing to cancel, its Geigel double-talk detector lets it adapt on quiet
        // caller speech and busy tone under a loud prompt and distort them (see issue 4 notes).
        echo_taps: 0,
        rx_gain_db: 0.0,
        tx_gain_db: 0.0,
    };
    let engine =
        LineEngine::new(1, Law::Alaw, settings).map_err(|e| TestCallError::Card(e.to_string()))?;
    let mut engines_rt = vec![Some(engine)];
    let hello: Vec<yingda_hal_sim::Step> =
        crate::prompts::Prompts::load(&crate::prompts::Prompts::builtin_dir(), &["greeting"])
            .ok()
            .and_then(|p| p.get("greeting").cloned())
            .map(|g| vec![yingda_hal_sim::Step::Play(g)])
            .unwrap_or_default();
    for (n, what) in &script.callees {
        if let Some(c) = callee(what, &hello) {
            handle.set_callee(n, c);
        }
    }
    handle
        .place_call(1, caller)
        .map_err(|e| TestCallError::Card(e.to_string()))?;

    let mut flows = FlowSet::default();
    let name = flow.file.name.clone();
    flows
        .insert(flow, &|p| std::fs::read(p))
        .map_err(|e| TestCallError::Flow(vec![e.to_string()]))?;
    let opts = FlowOptions {
        speech: engines.recognizer.is_some(),
        tts: engines.synth.is_some(),
        capture_caller: true,
        ..engines.opts.clone()
    };
    // Activation: static prompts are synthesised before any call, as the daemon does.
    let mut fragments = None;
    if let Some(synth) = &engines.synth {
        flows.warm_prompts(synth, &opts);
        let (f, _) = Fragments::build(synth, &opts, &Fragments::vocabulary(&flows));
        fragments = Some(f);
    }
    let mut ctl = FlowController::new(flows, HashMap::from([(1, name)]), opts);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(out_err(out_dir.to_path_buf()))?;

    let mut commands: VecDeque<Command> = VecDeque::new();
    let mut pending: Vec<(i64, Ticket, JobResult)> = Vec::new();
    let mut caller_audio: Vec<i16> = Vec::new();
    let mut cdr: Option<Cdr> = None;
    let mut next_id = 0u64;
    let deadline = clock.wall_ms() + i64::from(script.max_s) * 1000;
    let mut hung_up = false;
    let mut report = None;
    while report.is_none() {
        let mut events = Vec::new();
        tick_span(
            &mut span,
            clock.as_ref(),
            &mut engines_rt,
            || commands.pop_front(),
            &mut |ev| events.push(ev),
        )
        .map_err(|e| TestCallError::Card(e.to_string()))?;
        let now = clock.wall_ms();
        let mut outs = Vec::new();
        for ev in events {
            outs.extend(ctl.on_event(ev, &mut || {
                next_id += 1;
                CallId::new(next_id)
            }));
        }
        outs.extend(ctl.poll(now));
        // Results whose (charged) time has come.
        pending.sort_by_key(|p| p.0);
        while pending.first().is_some_and(|p| p.0 <= now) {
            let (_, t, r) = pending.remove(0);
            outs.extend(ctl.job_done(t, r, now));
        }
        let mut queue: VecDeque<FlowOutput> = outs.into();
        while let Some(o) = queue.pop_front() {
            match o {
                FlowOutput::Command(c) => commands.push_back(c),
                FlowOutput::Job(t, job) => {
                    for (ms, r) in run_job(
                        job,
                        engines,
                        fragments.as_ref(),
                        Some(&backend),
                        &rt,
                        out_dir,
                    ) {
                        let due = now + i64::try_from(ms).unwrap_or(0);
                        if due <= now {
                            queue.extend(ctl.job_done(t, r, now));
                        } else {
                            pending.push((due, t, r));
                        }
                    }
                }
                FlowOutput::CallStarted { .. } => {}
                FlowOutput::CallEnded(c) => cdr = Some(*c),
            }
        }
        caller_audio.extend(ctl.take_caller_audio(1));
        if !hung_up && now >= deadline && cdr.is_none() {
            hung_up = true;
            commands.push_back(Command {
                channel: 1,
                kind: crate::engine::CommandKind::HangUp,
            });
        }
        if now >= deadline + 60_000 {
            return Err(TestCallError::Card(
                "the simulated line did not clear a minute after max_s".into(),
            ));
        }
        if cdr.is_some() {
            report = handle.take_reports().into_iter().next();
        }
    }
    let cdr = cdr.expect("loop ends with a record");
    let heard = report.map(|r| r.heard).unwrap_or_default();

    let events: Vec<serde_json::Value> = cdr
        .events
        .iter()
        .filter_map(|e| serde_json::from_str(&e.what).ok())
        .collect();
    let write = |name: &str, bytes: &[u8]| {
        let p = out_dir.join(name);
        std::fs::write(&p, bytes).map_err(out_err(p))
    };
    let mut jsonl = String::new();
    for e in &events {
        jsonl.push_str(&e.to_string());
        jsonl.push('\n');
    }
    write("events.jsonl", jsonl.as_bytes())?;
    write(
        "caller.wav",
        &yingda_dsp::wav::write(8000, yingda_dsp::wav::Encoding::Pcm16, &caller_audio),
    )?;
    write(
        "box.wav",
        &yingda_dsp::wav::write(8000, yingda_dsp::wav::Encoding::Pcm16, &heard),
    )?;
    let summary = serde_json::json!({
        "call_id": cdr.id.to_string(),
        "start_ms": cdr.start_ms,
        "answer_ms": cdr.answer_ms,
        "end_ms": cdr.end_ms,
        "cause": cdr.cause.as_str(),
        "caller": cdr.caller,
        "digits": cdr.digits,
        "events": events.len(),
    });
    write("cdr.json", format!("{summary:#}\n").as_bytes())?;
    Ok(Outcome {
        cdr,
        events,
        wall_ms: t_run.elapsed().as_millis() as u64,
    })
}
