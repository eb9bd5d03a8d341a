//! Wires the pieces into a running daemon: real-time span threads, the control loop, the
//! store, the simulated demo caller, systemd notification and shutdown.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tracing::{error, info, warn};
use yingda_hal::{Channel, Clock, Law, ManualClock, Span};
use yingda_hal_sim::{
    CallScript, CallerId, CidFormat, LineProfile, Pacing, SimConfig, SimHandle, SimSpan,
};
use yingda_store::{CallId, SledStore, Store};

use crate::config::{Backend, Config, LawName, SpanConfig};
use crate::control::{mask_number, Controller, Output};
use crate::demo_flow::{self, DemoSettings};
use crate::engine::{CallerInfo, Command, Event, EventKind, LineEngine, LineSettings};
use crate::flowctl::{FlowController, FlowOptions, FlowOutput, FlowSet};
use crate::flowdir::BoxFlows;
use crate::jobs::{WorkerContext, Workers};
use crate::panel::Panel;
use crate::prompts::Prompts;

/// Capacity of each real-time queue, per span.
const QUEUE: usize = 1024;

/// Counters a span thread keeps for health checks and logs.
#[derive(Debug, Default)]
pub struct SpanStats {
    /// Ticks handled.
    pub ticks: AtomicU64,
    /// Ticks whose processing overran the 20 ms frame period.
    pub deadline_misses: AtomicU64,
    /// Events dropped because the control plane's queue was full.
    pub events_dropped: AtomicU64,
}

struct SpanLink {
    name: String,
    /// The span's clock: line events and flow timers are on it.
    clock: Arc<dyn Clock>,
    /// Calls on the span's channels whose group names a flow.
    flows: FlowController,
    commands: rtrb::Producer<Command>,
    events: rtrb::Consumer<Event>,
    stats: Arc<SpanStats>,
    thread: std::thread::JoinHandle<()>,
}

fn law(l: LawName) -> Law {
    match l {
        LawName::Alaw => Law::Alaw,
        LawName::Ulaw => Law::Ulaw,
    }
}

/// One tick of a span: wait for the card, apply queued commands, run every line engine.
/// Shared by the real-time threads and the single-threaded [`crate::testbed`]. Returns
/// the time spent after the card's tick (the part that must fit in 20 ms).
pub(crate) fn tick_span<S: Span>(
    span: &mut S,
    clock: &dyn Clock,
    engines: &mut [Option<LineEngine>],
    mut next_command: impl FnMut() -> Option<Command>,
    emit: &mut dyn FnMut(Event),
) -> yingda_hal::Result<Duration> {
    span.wait_tick()?;
    let started = Instant::now();
    while let Some(cmd) = next_command() {
        let slot = span
            .channels_mut()
            .iter()
            .position(|c| c.info().number == cmd.channel);
        if let Some(Some(engine)) = slot.and_then(|i| engines.get_mut(i)) {
            engine.command(cmd.kind);
        }
    }
    let (now, wall) = (clock.now(), clock.wall_ms());
    for (ch, engine) in span.channels_mut().iter_mut().zip(engines.iter_mut()) {
        if let Some(engine) = engine {
            engine.tick(ch, now, wall, emit);
        }
    }
    Ok(started.elapsed())
}

/// What a span's real-time thread owns besides the span and its clock.
struct RtParts {
    engines: Vec<Option<LineEngine>>,
    commands: rtrb::Consumer<Command>,
    events: rtrb::Producer<Event>,
    stop: Arc<AtomicBool>,
    stats: Arc<SpanStats>,
}

/// Start the real-time thread of a span.
fn spawn_span<S: Span + 'static>(
    name: &str,
    span: S,
    clock: Arc<dyn Clock>,
    parts: RtParts,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("rt-{name}"))
        .spawn(move || span_thread(span, clock, parts))
}

/// The real-time loop of one span: never blocks on anything but the card.
fn span_thread<S: Span>(mut span: S, clock: Arc<dyn Clock>, parts: RtParts) {
    let RtParts {
        mut engines,
        mut commands,
        mut events,
        stop,
        stats,
    } = parts;
    let mut hung_up = false;
    loop {
        if stop.load(Ordering::Acquire) {
            // The control plane has given up waiting: release every line still in use.
            if !hung_up {
                hung_up = true;
                for e in engines.iter_mut().flatten().filter(|e| !e.is_idle()) {
                    e.command(crate::engine::CommandKind::HangUp);
                }
            }
            if engines.iter().flatten().all(LineEngine::is_idle) {
                break;
            }
        }
        let mut emit = |ev| {
            if events.push(ev).is_err() {
                stats.events_dropped.fetch_add(1, Ordering::Relaxed);
            }
        };
        match tick_span(
            &mut span,
            clock.as_ref(),
            &mut engines,
            || commands.pop().ok(),
            &mut emit,
        ) {
            Ok(busy) => {
                stats.ticks.fetch_add(1, Ordering::Relaxed);
                // wait_tick returns at the start of the period; the work must fit in it.
                if busy > Duration::from_millis(20) {
                    stats.deadline_misses.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(e) => {
                error!(span = span.name(), "card error: {e}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    for ch in span.channels_mut() {
        let _ = ch.set_hook(yingda_hal::HookCommand::OnHook);
    }
}

pub(crate) fn sim_config(s: &SpanConfig, first: u32) -> SimConfig {
    let o = &s.sim;
    SimConfig {
        name: s.name.clone(),
        ports: s.ports.unwrap_or(4),
        first_channel: first,
        law: law(s.law),
        signalling: yingda_hal::Signalling::FxsKewlStart,
        profile: LineProfile {
            polarity_on_answer: o.polarity_on_answer,
            polarity_on_far_hangup: o.polarity_on_far_hangup,
            loop_drop_on_far_hangup: o.loop_drop_on_far_hangup,
            busy_tone_after_far_hangup: o.busy_tone_after_far_hangup,
            echo_delay_ms: o.echo_delay_ms,
            echo_loss_db: o.echo_loss_db,
            ..LineProfile::default()
        },
        pacing: match o.pacing.as_str() {
            "manual" => Pacing::Manual,
            "fast" => Pacing::Speedup(20),
            _ => Pacing::Realtime,
        },
    }
}

/// The demo caller's script: caller ID, listen to the greeting, press digits, hang up while
/// the box reads them back (the exchange then plays busy tone, which the box must detect).
pub fn demo_script(caller: &str, digits: &str, cid_format: &str) -> CallScript {
    let format = match cid_format {
        "v23" => CidFormat::FskV23,
        "bell" => CidFormat::FskBell202,
        _ => CidFormat::Dtmf,
    };
    CallScript::new()
        .caller_id(CallerId::number(format, caller))
        .wait(6500)
        .digits(digits)
        .wait(3000)
        .hang_up()
}

struct DemoCaller {
    handle: SimHandle,
    channel: u32,
    script: CallScript,
    repeat: Option<Duration>,
    next: Option<Instant>,
}

/// Run the daemon until SIGINT/SIGTERM. `config_path` is only for logs.
pub fn run(config: Config, config_path: &Path) -> anyhow::Result<()> {
    let data_dir = &config.system.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("create data_dir {}", data_dir.display()))?;
    let store: Arc<dyn Store> = Arc::new(
        SledStore::open(data_dir.join("yingda.db"))
            .with_context(|| format!("open store in {}", data_dir.display()))?,
    );
    let prompt_dir = config
        .system
        .prompts_dir
        .clone()
        .unwrap_or_else(Prompts::builtin_dir);
    let prompts = Arc::new(Prompts::load(&prompt_dir, demo_flow::PROMPTS)?);
    info!(config = %config_path.display(), store = %data_dir.display(), cdrs = store.cdr_count()?, "yingda starting");
    let mut speech = config.speech.clone();
    if speech.tts_cache_dir.is_none() {
        speech.tts_cache_dir = Some(data_dir.join("tts-cache"));
    }
    let flows = BoxFlows::open(store.clone(), &config)?;
    flows.scan(yingda_hal::MonotonicClock::new().wall_ms());
    let flow_set = flows.load().map_err(|why| {
        anyhow::anyhow!(
            "{}: [[channels]] name flows the box cannot run:\n  {}",
            config_path.display(),
            why.join("\n  ")
        )
    })?;
    let flow_opts = FlowOptions {
        voice_zh: speech.voice_zh.clone(),
        voice_en: speech.voice_en.clone(),
        // Until the models have loaded: DTMF and recorded prompts.
        speech: false,
        tts: false,
        capture_caller: false,
    };
    let backend = config
        .backend
        .client_config()
        .map_err(anyhow::Error::msg)
        .and_then(|c| yingda_backend::Backend::new(c).map_err(anyhow::Error::from));
    let backend = match backend {
        Ok(b) => Some(Arc::new(b)),
        Err(e) => {
            // The flows' backend nodes fail (and take their failure path); calls go on.
            error!("backend client unavailable: {e:#}");
            None
        }
    };

    let stop = Arc::new(AtomicBool::new(false));
    let mut links = Vec::new();
    let mut demo = Vec::new();
    let mut handsets = Vec::new();
    let span_channels = config.span_channels();
    for s in &config.spans {
        let chans = span_channels[&s.name].clone();
        let engines_for = |numbers: &[u32]| -> anyhow::Result<Vec<Option<LineEngine>>> {
            numbers
                .iter()
                .map(|&n| {
                    let Some(g) = config.group_of(n) else {
                        return Ok(None);
                    };
                    let mut settings = LineSettings::from_group(g);
                    if !crate::backends::software_gains(s) {
                        settings.rx_gain_db = 0.0;
                        settings.tx_gain_db = 0.0;
                    }
                    Ok(Some(
                        LineEngine::new(n, law(s.law), settings)
                            .with_context(|| format!("channel {n}"))?,
                    ))
                })
                .collect()
        };
        let (cmd_tx, cmd_rx) = rtrb::RingBuffer::new(QUEUE);
        let (ev_tx, ev_rx) = rtrb::RingBuffer::new(QUEUE);
        let stats = Arc::new(SpanStats::default());
        let routes: HashMap<u32, String> = chans
            .iter()
            .filter_map(|&c| {
                let g = config.group_of(c)?;
                (g.flow != "demo").then(|| (c, g.flow.clone()))
            })
            .collect();
        let span_flows = FlowController::new(flow_set.clone(), routes, flow_opts.clone());
        let parts = RtParts {
            engines: engines_for(&chans)?,
            commands: cmd_rx,
            events: ev_tx,
            stop: stop.clone(),
            stats: stats.clone(),
        };
        let mut span_clock: Arc<dyn Clock> = Arc::new(yingda_hal::MonotonicClock::new());
        let thread = match s.backend {
            Backend::Sim => {
                let clock = Arc::new(ManualClock::new(
                    yingda_hal::MonotonicClock::new().wall_ms(),
                ));
                let (span, handle) = SimSpan::new(sim_config(s, chans[0]), clock.clone())?;
                if s.sim.demo_call {
                    if let Some(&channel) = chans.iter().find(|&&c| config.group_of(c).is_some()) {
                        demo.push(DemoCaller {
                            handle: handle.clone(),
                            channel,
                            script: demo_script(
                                &s.sim.demo_caller,
                                &s.sim.demo_digits,
                                &s.sim.cid_format,
                            ),
                            repeat: s
                                .sim
                                .demo_repeat_s
                                .map(|s| Duration::from_secs(u64::from(s))),
                            next: Some(Instant::now()),
                        });
                    }
                }
                span_clock = clock.clone();
                spawn_span(&s.name, span, clock, parts)?
            }
            Backend::Alsa => {
                let (span, handle) = crate::backends::open_local_line(s, chans[0], law(s.law))?;
                handsets.push((chans[0], handle));
                spawn_span(&s.name, span, span_clock.clone(), parts)?
            }
            Backend::Dahdi => {
                let span = crate::backends::open_dahdi(&config, s, &chans)?;
                spawn_span(&s.name, span, span_clock.clone(), parts)?
            }
        };
        info!(span = %s.name, backend = ?s.backend, channels = ?chans, "span up");
        links.push(SpanLink {
            name: s.name.clone(),
            clock: span_clock,
            flows: span_flows,
            commands: cmd_tx,
            events: ev_rx,
            stats,
            thread,
        });
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let grace = Duration::from_secs(u64::from(config.system.shutdown_grace_s));
    // Opened last: /dev/watchdog is armed from here on.
    let panel = Panel::open(&config.system, Arc::new(yingda_hal::MonotonicClock::new()))?;
    let result = rt.block_on(control_loop(Plane {
        store: store.clone(),
        prompts,
        links,
        demo,
        handsets: Handsets::new(handsets),
        panel,
        stop,
        grace,
        speech,
        box_flows: flows,
        flow_set,
        flow_opts,
        backend,
        recordings: data_dir.join("recordings"),
    }));
    store.flush()?;
    result
}

/// Everything the control loop owns.
struct Plane {
    store: Arc<dyn Store>,
    prompts: Arc<Prompts>,
    links: Vec<SpanLink>,
    demo: Vec<DemoCaller>,
    handsets: Handsets,
    panel: Panel,
    stop: Arc<AtomicBool>,
    grace: Duration,
    /// Speech settings; the recogniser is loaded once the box answers calls.
    speech: crate::speech::SpeechConfig,
    /// Flow versions; re-read on SIGHUP.
    box_flows: BoxFlows,
    /// The flows loaded at start.
    flow_set: FlowSet,
    flow_opts: FlowOptions,
    backend: Option<Arc<yingda_backend::Backend>>,
    /// Where callers' recorded messages go.
    recordings: std::path::PathBuf,
}

async fn control_loop(plane: Plane) -> anyhow::Result<()> {
    let Plane {
        store,
        prompts,
        mut links,
        mut demo,
        mut handsets,
        mut panel,
        stop,
        grace,
        speech: speech_config,
        box_flows,
        flow_set,
        flow_opts,
        backend,
        recordings,
    } = plane;
    let mut controller = Controller::new(prompts, DemoSettings::default());
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigusr1 = signal(SignalKind::user_defined1())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    let mut shutdown_at: Option<Instant> = None;
    let notify = yingda_hal_rpi::Notifier::from_env()?;
    let watchdog_every =
        yingda_hal_rpi::notify::watchdog_interval_from_env()?.unwrap_or(Duration::from_secs(10));
    let kick_every = panel
        .kick_interval()
        .map_or(watchdog_every, |k| k.min(watchdog_every));
    panel.ready();
    let _ = notify.status("answering calls");
    let _ = notify.ready();
    info!("ready: answering calls");
    // Only now: a slow or failing model load never delays answering calls. Flows take the
    // recogniser from here and fall back to DTMF while it is missing.
    let speech = crate::speech::SpeechService::start(&speech_config);
    let fragments: Arc<std::sync::RwLock<Arc<crate::fragments::Fragments>>> = Arc::default();
    let (workers, mut job_results) = Workers::start(
        speech_config.workers,
        WorkerContext {
            speech: speech.clone(),
            opts: flow_opts.clone(),
            backend,
            recordings,
            fragments: Arc::clone(&fragments),
        },
        tokio::runtime::Handle::current(),
    )?;
    let warmer = crate::flowdir::spawn_warmer(speech.clone(), flow_opts, fragments)?;
    let _ = warmer.send(flow_set);

    let mut alarm = false;
    let mut last_watchdog = Instant::now();
    let mut last_ticks: Vec<u64> = vec![0; links.len()];

    loop {
        let stop_requested = tokio::select! {
            _ = tick.tick() => false,
            _ = sigusr1.recv() => {
                handsets.toggle();
                false
            }
            Some((ticket, result)) = job_results.recv() => {
                if let Some(link) = links.iter_mut().find(|l| l.flows.serves(ticket.channel)) {
                    let outs = link.flows.job_done(ticket, result, link.clock.wall_ms());
                    apply_flow_outputs(outs, link, &workers, &store).await;
                }
                false
            }
            _ = sighup.recv() => {
                info!("SIGHUP: re-reading the flow directory");
                box_flows.scan(yingda_hal::MonotonicClock::new().wall_ms());
                match box_flows.load() {
                    Ok(set) => {
                        for l in &mut links {
                            l.flows.set_flows(set.clone());
                        }
                        let _ = warmer.send(set);
                    }
                    Err(why) => {
                        for w in why {
                            error!("flows unchanged: {w}");
                        }
                    }
                }
                false
            }
            _ = sigint.recv(), if shutdown_at.is_none() => true,
            _ = sigterm.recv(), if shutdown_at.is_none() => true,
        };
        if stop_requested {
            info!(
                calls = controller.active_calls(),
                "shutdown requested; letting calls finish"
            );
            shutdown_at = Some(Instant::now());
            let _ = notify.stopping();
        }
        // Demo calls from the simulated exchange (no new ones once stopping).
        for d in &mut demo {
            if shutdown_at.is_none() && d.next.is_some_and(|t| Instant::now() >= t) {
                d.next = None;
                info!(
                    channel = d.channel,
                    "demo: the simulated exchange places a call"
                );
                if let Err(e) = d.handle.place_call(d.channel, d.script.clone()) {
                    warn!("demo call: {e}");
                }
            }
            for (ch, _, e) in d.handle.take_log() {
                info!(
                    channel = ch,
                    "{}",
                    crate::control::mask_digit_runs(&e.to_string())
                );
            }
            for report in d.handle.take_reports() {
                if report.channel == d.channel {
                    d.next = d.repeat.map(|r| Instant::now() + r);
                }
            }
        }
        // Speech may have finished (or failed) loading.
        let (asr, tts) = (
            speech.recognizer().is_some(),
            speech.synthesizer().is_some(),
        );
        // Events from the lines.
        for link in &mut links {
            link.flows.set_engines(asr, tts);
            let mut flow_outs = Vec::new();
            while let Ok(ev) = link.events.pop() {
                log_event(&ev);
                if let EventKind::Alarm(on) = ev.kind {
                    alarm = on;
                }
                let mut new_id = || next_id(store.as_ref());
                if link.flows.serves(ev.channel) {
                    flow_outs.extend(link.flows.on_event(ev, &mut new_id));
                    continue;
                }
                for out in controller.on_event(ev, &mut new_id) {
                    match out {
                        Output::Command(cmd) => {
                            if link.commands.push(cmd).is_err() {
                                warn!(span = %link.name, "command queue full; command dropped");
                            }
                        }
                        Output::CallStarted { channel, id } => {
                            info!(channel, call = %id, "call started")
                        }
                        Output::CallEnded(cdr) => write_cdr(store.clone(), *cdr).await,
                    }
                }
            }
            flow_outs.extend(link.flows.poll(link.clock.wall_ms()));
            apply_flow_outputs(flow_outs, link, &workers, &store).await;
        }
        if panel.button_pressed() {
            handsets.toggle();
        }
        let calls =
            controller.active_calls() + links.iter().map(|l| l.flows.active_calls()).sum::<usize>();
        panel.show(calls > 0, alarm);
        // Health: tell systemd and the hardware watchdog we are alive only while every span
        // thread is ticking.
        if last_watchdog.elapsed() >= kick_every {
            let ticks: Vec<u64> = links
                .iter()
                .map(|l| l.stats.ticks.load(Ordering::Relaxed))
                .collect();
            let names: Vec<&str> = links.iter().map(|l| l.name.as_str()).collect();
            let stuck = stuck_spans(&names, &ticks, &last_ticks);
            if stuck.is_empty() {
                let _ = notify.watchdog();
                panel.kick();
            } else {
                warn!(spans = ?stuck, "span thread not ticking; not kicking the watchdog");
            }
            last_ticks = ticks;
            last_watchdog = Instant::now();
        }
        if let Some(t) = shutdown_at {
            if calls == 0 || t.elapsed() >= grace {
                for cdr in controller.abort_all(yingda_hal::MonotonicClock::new().wall_ms()) {
                    write_cdr(store.clone(), cdr).await;
                }
                for l in &mut links {
                    for cdr in l.flows.abort_all(l.clock.wall_ms()) {
                        write_cdr(store.clone(), cdr).await;
                    }
                }
                break;
            }
        }
    }
    stop.store(true, Ordering::Release);
    workers.shutdown();
    for l in links {
        let misses = l.stats.deadline_misses.load(Ordering::Relaxed);
        let dropped = l.stats.events_dropped.load(Ordering::Relaxed);
        if l.thread.join().is_err() {
            error!(span = %l.name, "span thread panicked");
        }
        info!(span = %l.name, ticks = l.stats.ticks.load(Ordering::Relaxed), deadline_misses = misses, events_dropped = dropped, "span stopped");
    }
    panel.shutdown();
    info!(speech = ?speech.status(), models = ?speech.models(), "yingda stopped");
    Ok(())
}

/// Carry out what a span's flow controller asked for.
async fn apply_flow_outputs(
    outs: Vec<FlowOutput>,
    link: &mut SpanLink,
    workers: &Workers,
    store: &Arc<dyn Store>,
) {
    for out in outs {
        match out {
            FlowOutput::Command(cmd) => {
                if link.commands.push(cmd).is_err() {
                    warn!(span = %link.name, "command queue full; command dropped");
                }
            }
            FlowOutput::Job(ticket, job) => workers.submit(ticket, job),
            FlowOutput::CallStarted { channel, id } => {
                info!(channel, call = %id, "call started")
            }
            FlowOutput::CallEnded(cdr) => {
                workers.cancel(cdr.channel, cdr.id);
                write_cdr(store.clone(), *cdr).await;
            }
        }
    }
}

/// Local audio lines (headsets): the front button or `SIGUSR1` lifts the handset (the IVR
/// answers) or hangs it up.
#[derive(Debug, Default)]
pub struct Handsets {
    lines: Vec<(u32, yingda_hal_alsa::LocalLineHandle)>,
}

impl Handsets {
    /// Handsets of the configured local lines.
    pub fn new(lines: Vec<(u32, yingda_hal_alsa::LocalLineHandle)>) -> Self {
        Self { lines }
    }

    /// Lift every handset that is down, or hang up every one that is lifted.
    pub fn toggle(&mut self) {
        if self.lines.is_empty() {
            warn!("no local audio line is configured (span backend = \"alsa\")");
            return;
        }
        let any_lifted = self.lines.iter().any(|(_, h)| h.lifted());
        for (channel, h) in &self.lines {
            if any_lifted {
                h.hang_up();
                info!(channel = *channel, "local line: handset hung up");
            } else {
                h.lift();
                info!(channel = *channel, "local line: handset lifted");
            }
        }
    }
}

/// Spans whose tick counter did not move since the last health check.
fn stuck_spans<'a>(names: &[&'a str], ticks: &[u64], before: &[u64]) -> Vec<&'a str> {
    names
        .iter()
        .zip(ticks.iter().zip(before))
        .filter(|(_, (now, then))| now <= then)
        .map(|(n, _)| *n)
        .collect()
}

fn next_id(store: &dyn Store) -> CallId {
    match store.next_call_id() {
        Ok(id) => id,
        Err(e) => {
            // Without the store the call still proceeds; its record will fail to save too and
            // be logged there.
            error!("allocate call id: {e}");
            CallId::new(0)
        }
    }
}

async fn write_cdr(store: Arc<dyn Store>, cdr: yingda_store::Cdr) {
    let id = cdr.id;
    let cause = cdr.cause;
    match tokio::task::spawn_blocking(move || store.put_cdr(&cdr)).await {
        Ok(Ok(())) => info!(call = %id, cause = cause.as_str(), "cdr written"),
        Ok(Err(e)) => error!(call = %id, "cdr NOT written: {e}"),
        Err(e) => error!(call = %id, "cdr writer failed: {e}"),
    }
}

fn log_event(ev: &Event) {
    let ch = ev.channel;
    match &ev.kind {
        EventKind::Ringing => info!(channel = ch, "ringing"),
        EventKind::CallerId(CallerInfo {
            number,
            absence,
            format,
            ..
        }) => info!(
            channel = ch,
            "caller id {} ({})",
            number
                .as_deref()
                .map(mask_number)
                .or(absence.map(str::to_owned))
                .unwrap_or_default(),
            format.unwrap_or("?")
        ),
        EventKind::Answered => info!(channel = ch, "answered"),
        // Which key was pressed is never logged: it may be part of a PIN.
        EventKind::Digit(_) => info!(channel = ch, "key pressed"),
        EventKind::PromptsDone => info!(channel = ch, "prompts finished"),
        EventKind::TimerFired => info!(channel = ch, "timer"),
        EventKind::Disconnected(c) => info!(channel = ch, cause = c.as_str(), "call ended"),
        EventKind::Alarm(on) => warn!(channel = ch, alarm = on, "line alarm"),
        EventKind::Transferred => info!(channel = ch, "transferred"),
        EventKind::TransferFailed(c) => info!(
            channel = ch,
            cause = c.as_str(),
            "transfer failed, caller retrieved"
        ),
        EventKind::Refused(why) => warn!(channel = ch, "request refused: {why}"),
        // Caller audio is never logged.
        EventKind::Audio(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_stuck_span_is_found_even_when_others_tick() {
        let names = ["sim0", "dahdi1"];
        assert!(stuck_spans(&names, &[50, 50], &[0, 0]).is_empty());
        assert_eq!(stuck_spans(&names, &[100, 50], &[50, 50]), ["dahdi1"]);
        assert_eq!(
            stuck_spans(&names, &[100, 50], &[100, 50]),
            ["sim0", "dahdi1"]
        );
    }

    #[test]
    fn demo_script_presents_caller_id_then_digits_then_hangs_up() {
        let s = demo_script("13800138000", "2024#", "v23");
        let cid = s.caller_id.as_ref().unwrap();
        assert_eq!(
            (cid.format, cid.number.as_deref()),
            (CidFormat::FskV23, Some("13800138000"))
        );
        assert!(matches!(s.steps.last(), Some(yingda_hal_sim::Step::HangUp)));
        assert!(s
            .steps
            .iter()
            .any(|st| matches!(st, yingda_hal_sim::Step::Digits(d) if d == "2024#")));
    }
}
