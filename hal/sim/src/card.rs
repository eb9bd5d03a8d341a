//! The simulated card: a [`Span`] of FXO [`Channel`]s, each wired to a port of the simulated
//! exchange, and a [`SimHandle`] through which tests and the demo drive the far ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use yingda_dsp::g711;
use yingda_hal::{
    AudioFrame, Channel, ChannelInfo, Clock, Error, ErrorKind, HookCommand, Law, LineEvent,
    ManualClock, Millis, Result, Signalling, Span, SpanStatus, FRAME_SAMPLES,
};

use crate::co::{CallReport, CoEvent, LineProfile, Port, FRAME_TIME};
use crate::lock;
use crate::script::{CallScript, Callee};
use crate::signals::{self, CidSignal, Tones};

/// How simulated time relates to wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// Ticks run as fast as they are asked for: tests.
    Manual,
    /// Ticks are held to 20 ms of wall-clock time each: the demo and manual trials.
    Realtime,
    /// Ticks run this many times faster than real time (soak and crash tests).
    Speedup(u32),
}

/// Shape of the simulated card.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Span name for logs.
    pub name: String,
    /// Number of FXO ports.
    pub ports: u32,
    /// Channel number of the first port.
    pub first_channel: u32,
    /// Companding law of the line audio.
    pub law: Law,
    /// Signalling the ports present.
    pub signalling: Signalling,
    /// Exchange behaviour, the same on every port.
    pub profile: LineProfile,
    /// Time pacing.
    pub pacing: Pacing,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            name: "sim0".into(),
            ports: 4,
            first_channel: 1,
            law: Law::Alaw,
            signalling: Signalling::FxsKewlStart,
            profile: LineProfile::default(),
            pacing: Pacing::Manual,
        }
    }
}

#[derive(Debug, Default)]
struct Shared {
    placed: Vec<(u32, CallScript, Option<CidSignal>)>,
    callees: HashMap<String, Callee>,
    callees_changed: bool,
    log: Vec<(u32, Millis, CoEvent)>,
    reports: Vec<CallReport>,
}

/// Drives the far ends of a [`SimSpan`] from another thread (tests, the demo caller).
#[derive(Debug, Clone)]
pub struct SimHandle {
    shared: Arc<Mutex<Shared>>,
    channels: std::ops::Range<u32>,
    clock: Arc<ManualClock>,
}

impl SimHandle {
    /// Queue an inbound call on `channel`; it starts at the next tick when the port is idle.
    pub fn place_call(&self, channel: u32, script: CallScript) -> Result<()> {
        if !self.channels.contains(&channel) {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "place call on channel {channel}: the simulated card has channels {:?}",
                    self.channels
                ),
            ));
        }
        // Rendered here, on the caller's thread, so the tick only plays it.
        let cid = script
            .caller_id
            .as_ref()
            .map(signals::render_cid)
            .transpose()
            .map_err(|e| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    format!("place call on channel {channel}: {e}"),
                )
            })?;
        lock(&self.shared).placed.push((channel, script, cid));
        Ok(())
    }
    /// Say what happens when the box dials `number`.
    pub fn set_callee(&self, number: &str, callee: Callee) {
        let mut shared = lock(&self.shared);
        shared.callees.insert(number.to_owned(), callee);
        shared.callees_changed = true;
    }
    /// Take the exchange's log of call steps since the last call.
    pub fn take_log(&self) -> Vec<(u32, Millis, CoEvent)> {
        std::mem::take(&mut lock(&self.shared).log)
    }
    /// Take the reports of calls that ended since the last call.
    pub fn take_reports(&self) -> Vec<CallReport> {
        std::mem::take(&mut lock(&self.shared).reports)
    }
    /// The simulated clock.
    pub fn clock(&self) -> &Arc<ManualClock> {
        &self.clock
    }
}

/// One simulated FXO port as the box sees it.
#[derive(Debug)]
pub struct SimChannel {
    info: ChannelInfo,
    port: Port,
    rx: AudioFrame,
    tx: AudioFrame,
}

impl Channel for SimChannel {
    fn info(&self) -> &ChannelInfo {
        &self.info
    }
    fn set_hook(&mut self, cmd: HookCommand) -> Result<()> {
        self.port.set_hook(cmd);
        Ok(())
    }
    fn poll_event(&mut self) -> Result<Option<LineEvent>> {
        Ok(self.port.events.pop_front())
    }
    fn read_frame(&mut self, frame: &mut AudioFrame) -> Result<()> {
        *frame = self.rx;
        Ok(())
    }
    fn write_frame(&mut self, frame: &AudioFrame) -> Result<()> {
        self.tx = *frame;
        Ok(())
    }
}

/// The simulated card.
#[derive(Debug)]
pub struct SimSpan {
    name: String,
    channels: Vec<SimChannel>,
    shared: Arc<Mutex<Shared>>,
    clock: Arc<ManualClock>,
    pacing: Pacing,
    started: Instant,
    ticks: u64,
    slips: u64,
    /// Call steps and ended calls of this tick, handed to the handle at its end; kept between
    /// ticks so that their buffers are reused.
    log: Vec<(u32, Millis, CoEvent)>,
    done: Vec<CallReport>,
    callees: HashMap<String, Callee>,
}

impl SimSpan {
    /// Build the card and the handle that drives its far ends. `clock` is advanced by 20 ms
    /// at every tick; give the same clock to everything that must agree on time.
    pub fn new(config: SimConfig, clock: Arc<ManualClock>) -> Result<(Self, SimHandle)> {
        if config.ports == 0 || config.ports > 256 {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("sim span {}: ports must be 1..=256", config.name),
            ));
        }
        let Some(end) = config.first_channel.checked_add(config.ports) else {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "sim span {}: channels {} + {} ports run past the last channel number",
                    config.name, config.first_channel, config.ports
                ),
            ));
        };
        let silence = [g711::silence(config.law); FRAME_SAMPLES];
        let tones = Tones::render();
        let channels = (0..config.ports)
            .map(|i| {
                let number = config.first_channel + i;
                SimChannel {
                    info: ChannelInfo {
                        number,
                        law: config.law,
                        signalling: config.signalling,
                    },
                    port: Port::new(number, config.law, config.profile.clone(), tones.clone()),
                    rx: silence,
                    tx: silence,
                }
            })
            .collect();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let handle = SimHandle {
            shared: shared.clone(),
            channels: config.first_channel..end,
            clock: clock.clone(),
        };
        let span = Self {
            name: config.name,
            channels,
            shared,
            clock,
            pacing: config.pacing,
            started: Instant::now(),
            ticks: 0,
            slips: 0,
            log: Vec::new(),
            done: Vec::new(),
            callees: HashMap::new(),
        };
        Ok((span, handle))
    }

    fn pace(&mut self) {
        let period = match self.pacing {
            Pacing::Manual => return,
            Pacing::Realtime => Duration::from_millis(FRAME_TIME),
            Pacing::Speedup(k) => Duration::from_micros(FRAME_TIME * 1000 / u64::from(k.max(1))),
        };
        let due = self.started + period * (self.ticks as u32);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else if now - due > period {
            // The caller came back late for this tick: a real card would have slipped a frame.
            self.slips += 1;
        }
    }
}

impl Span for SimSpan {
    type Channel = SimChannel;

    fn name(&self) -> &str {
        &self.name
    }

    fn status(&self) -> SpanStatus {
        SpanStatus {
            alarm: false,
            slips: self.slips,
        }
    }

    fn wait_tick(&mut self) -> Result<()> {
        self.ticks += 1;
        self.pace();
        self.clock.advance(FRAME_TIME);
        let now = self.clock.now();
        {
            let mut shared = lock(&self.shared);
            for (channel, script, cid) in shared.placed.drain(..) {
                if let Some(c) = self.channels.iter_mut().find(|c| c.info.number == channel) {
                    c.port.place_call(script, cid);
                }
            }
            if shared.callees_changed {
                shared.callees_changed = false;
                self.callees = shared.callees.clone();
            }
        }
        let log = &mut self.log;
        for c in &mut self.channels {
            let number = c.info.number;
            c.port.tick(
                now,
                &c.tx,
                &mut c.rx,
                &self.callees,
                &mut |e| log.push((number, now, e)),
                &mut self.done,
            );
        }
        if !self.log.is_empty() || !self.done.is_empty() {
            let mut shared = lock(&self.shared);
            shared.log.append(&mut self.log);
            shared.reports.append(&mut self.done);
        }
        Ok(())
    }

    fn channels_mut(&mut self) -> &mut [SimChannel] {
        &mut self.channels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_numbers_past_u32_max_are_a_config_error() {
        let cfg = SimConfig {
            first_channel: u32::MAX - 1,
            ..SimConfig::default()
        };
        let e = SimSpan::new(cfg, Arc::new(ManualClock::new(0))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    }
}
