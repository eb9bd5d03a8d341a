//! The whole call path on the simulated card in one thread, on simulated time: span ticks,
//! line engines and the controller in lock-step. Timeouts are exact and a minute of calls
//! runs in well under a second.
//!
//! End-to-end scenario tests drive the daemon through this; the daemon itself wires the same
//! parts with real-time threads and queues ([`crate::runtime`]).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use yingda_hal::{Clock, Law, ManualClock, Millis, FRAME_MS};
use yingda_hal_sim::{Pacing, SimHandle, SimSpan};
use yingda_store::{CallId, Cdr};

use crate::config::{Backend, Config, LawName};
use crate::control::{Controller, Output};
use crate::demo_flow::{self, DemoSettings};
use crate::engine::{Command, Event, LineEngine, LineSettings};
use crate::prompts::Prompts;
use crate::runtime::{sim_config, tick_span};

/// Why a testbed could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestbedError {
    /// The configuration was rejected.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A span is not a simulated card.
    #[error("span '{0}' is not backend = \"sim\"; the testbed runs simulated cards only")]
    NotSim(String),
    /// The prompts could not be loaded.
    #[error(transparent)]
    Prompts(#[from] crate::prompts::PromptError),
    /// A line could not be set up.
    #[error("channel {0}: {1}")]
    Line(u32, String),
    /// The card could not be built.
    #[error(transparent)]
    Hal(#[from] yingda_hal::Error),
}

struct SimUnit {
    span: SimSpan,
    handle: SimHandle,
    clock: Arc<ManualClock>,
    channels: Vec<u32>,
    engines: Vec<Option<LineEngine>>,
    commands: VecDeque<Command>,
}

/// Simulated card(s), line engines and controller, ticked together.
pub struct Testbed {
    units: Vec<SimUnit>,
    controller: Controller,
    events: Vec<Event>,
    cdrs: Vec<Cdr>,
    next_id: u64,
}

impl std::fmt::Debug for Testbed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Testbed")
            .field("spans", &self.units.len())
            .field("cdrs", &self.cdrs.len())
            .finish()
    }
}

impl Testbed {
    /// Build from configuration text (every span must be `backend = "sim"`; pacing is
    /// forced to manual).
    pub fn from_toml(text: &str) -> Result<Self, TestbedError> {
        let config = Config::parse(Path::new("testbed.toml"), text)?;
        let prompts = Prompts::load(
            &config
                .system
                .prompts_dir
                .clone()
                .unwrap_or_else(Prompts::builtin_dir),
            demo_flow::PROMPTS,
        )?;
        let chans = config.span_channels();
        let mut units = Vec::new();
        for s in &config.spans {
            if s.backend != Backend::Sim {
                return Err(TestbedError::NotSim(s.name.clone()));
            }
            let numbers = &chans[&s.name];
            let mut sc = sim_config(s, numbers[0]);
            sc.pacing = Pacing::Manual;
            let clock = Arc::new(ManualClock::new(1_700_000_000_000));
            let (span, handle) = SimSpan::new(sc, clock.clone())?;
            let law = if s.law == LawName::Ulaw {
                Law::Ulaw
            } else {
                Law::Alaw
            };
            let mut engines = Vec::new();
            for &n in numbers {
                engines.push(match config.group_of(n) {
                    Some(g) => Some(
                        LineEngine::new(n, law, LineSettings::from_group(g))
                            .map_err(|e| TestbedError::Line(n, e.to_string()))?,
                    ),
                    None => None,
                });
            }
            units.push(SimUnit {
                span,
                handle,
                clock,
                channels: numbers.clone(),
                engines,
                commands: VecDeque::new(),
            });
        }
        Ok(Self {
            units,
            controller: Controller::new(Arc::new(prompts), DemoSettings::default()),
            events: Vec::new(),
            cdrs: Vec::new(),
            next_id: 0,
        })
    }

    /// The far-end handle of span `i` (in configuration order).
    pub fn sim(&self, i: usize) -> &SimHandle {
        &self.units[i].handle
    }

    /// Simulated time of the first span.
    pub fn now(&self) -> Millis {
        self.units.first().map_or(0, |u| u.clock.now())
    }

    /// Every event the lines reported so far.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Records of the calls that ended so far.
    pub fn cdrs(&self) -> &[Cdr] {
        &self.cdrs
    }

    /// Place an outbound call from `channel` (the demo flow runs when it is answered).
    pub fn dial(&mut self, channel: u32, number: &str) {
        let wall = self.units.first().map_or(0, |u| u.clock.wall_ms());
        let outs = self
            .controller
            .dial(channel, number, wall, &mut Self::ids(&mut self.next_id));
        self.take(outs);
    }

    /// Transfer the call on `channel` to `extension`.
    pub fn transfer(&mut self, channel: u32, extension: &str) {
        let wall = self.units.first().map_or(0, |u| u.clock.wall_ms());
        let outs = self.controller.transfer(channel, extension, wall);
        self.take(outs);
    }

    fn ids(next_id: &mut u64) -> impl FnMut() -> CallId + '_ {
        move || {
            *next_id += 1;
            CallId::new(*next_id)
        }
    }

    fn take(&mut self, outs: Vec<Output>) {
        for out in outs {
            match out {
                Output::Command(c) => {
                    if let Some(u) = self
                        .units
                        .iter_mut()
                        .find(|u| u.channels.contains(&c.channel))
                    {
                        u.commands.push_back(c);
                    }
                }
                Output::CallEnded(cdr) => self.cdrs.push(*cdr),
                Output::CallStarted { .. } => {}
            }
        }
    }

    /// Advance every span by one 20 ms tick.
    pub fn tick(&mut self) {
        for i in 0..self.units.len() {
            let mut fresh = Vec::new();
            let unit = &mut self.units[i];
            let commands = &mut unit.commands;
            let _ = tick_span(
                &mut unit.span,
                unit.clock.as_ref(),
                &mut unit.engines,
                || commands.pop_front(),
                &mut |ev| fresh.push(ev),
            );
            for ev in fresh {
                self.events.push(ev.clone());
                let outs = self
                    .controller
                    .on_event(ev, &mut Self::ids(&mut self.next_id));
                self.take(outs);
            }
        }
    }

    /// Run for `ms` of simulated time.
    pub fn run_for(&mut self, ms: Millis) {
        for _ in 0..ms.div_ceil(Millis::from(FRAME_MS)) {
            self.tick();
        }
    }

    /// Run until `done` holds or `max_ms` of simulated time passed; returns whether it held.
    pub fn run_until(&mut self, max_ms: Millis, mut done: impl FnMut(&Self) -> bool) -> bool {
        let end = self.now() + max_ms;
        while self.now() < end {
            if done(self) {
                return true;
            }
            self.tick();
        }
        done(self)
    }
}
