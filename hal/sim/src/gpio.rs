//! Simulated front panel and hardware watchdog.
//!
//! [`SimGpio`] records what the daemon does to the LEDs and the bypass relay and lets a test
//! press the front button; [`SimWatchdog`] counts down on an injected [`Clock`] so a test can
//! tell exactly whether the daemon kicked it in time. Neither touches any device or reads the
//! wall clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use yingda_hal::{Clock, Error, ErrorKind, Gpio, Led, LedState, Millis, Result, Watchdog};

use crate::lock;

/// Front-panel state as last set by the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PanelState {
    /// Run LED.
    pub run: LedState,
    /// Alarm LED.
    pub alarm: LedState,
    /// Call LED.
    pub call: LedState,
    /// Bypass relay engaged (lines pass straight to the PBX).
    pub bypass: bool,
    /// Front button held down.
    pub button: bool,
}

impl Default for PanelState {
    /// Power-on state: LEDs dark, relay unpowered and so engaged (fail-safe), button up.
    fn default() -> Self {
        Self {
            run: LedState::Off,
            alarm: LedState::Off,
            call: LedState::Off,
            bypass: true,
            button: false,
        }
    }
}

impl PanelState {
    /// State of one LED.
    pub fn led(&self, led: Led) -> LedState {
        match led {
            Led::Run => self.run,
            Led::Alarm => self.alarm,
            Led::Call => self.call,
        }
    }
}

/// One change the daemon made to the panel, in order, for test assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelChange {
    /// An LED was set.
    Led(Led, LedState),
    /// The bypass relay was set (`true`: engaged).
    Bypass(bool),
}

#[derive(Debug, Default)]
struct PanelShared {
    state: PanelState,
    changes: Vec<PanelChange>,
}

/// Simulated front-panel GPIO. Clone the [`SimPanel`] handle from [`SimGpio::panel`] to look
/// at the LEDs and press the button from a test while the daemon owns the `SimGpio`.
#[derive(Debug)]
pub struct SimGpio {
    shared: Arc<Mutex<PanelShared>>,
}

/// The test's side of a [`SimGpio`].
#[derive(Debug, Clone)]
pub struct SimPanel {
    shared: Arc<Mutex<PanelShared>>,
}

impl SimGpio {
    /// A panel in its power-on state.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Mutex::new(PanelShared::default())),
        }
    }

    /// A handle for tests.
    pub fn panel(&self) -> SimPanel {
        SimPanel {
            shared: self.shared.clone(),
        }
    }
}

impl Default for SimGpio {
    fn default() -> Self {
        Self::new()
    }
}

impl SimPanel {
    /// Current state.
    pub fn state(&self) -> PanelState {
        lock(&self.shared).state
    }

    /// Hold the front button down (`true`) or release it.
    pub fn set_button(&self, pressed: bool) {
        lock(&self.shared).state.button = pressed;
    }

    /// Take the changes made since the last call.
    pub fn take_changes(&self) -> Vec<PanelChange> {
        std::mem::take(&mut lock(&self.shared).changes)
    }
}

impl Gpio for SimGpio {
    fn set_led(&mut self, led: Led, state: LedState) -> Result<()> {
        let mut s = lock(&self.shared);
        match led {
            Led::Run => s.state.run = state,
            Led::Alarm => s.state.alarm = state,
            Led::Call => s.state.call = state,
        }
        s.changes.push(PanelChange::Led(led, state));
        Ok(())
    }

    fn set_bypass(&mut self, engaged: bool) -> Result<()> {
        let mut s = lock(&self.shared);
        s.state.bypass = engaged;
        s.changes.push(PanelChange::Bypass(engaged));
        Ok(())
    }

    fn button_pressed(&mut self) -> Result<bool> {
        Ok(lock(&self.shared).state.button)
    }
}

/// A simulated hardware watchdog counting down on an injected clock.
///
/// It is armed from construction (like `/dev/watchdog` once opened). [`SimWatchdog::expired`]
/// tells whether the box would have been reset: the timeout passed without a kick while armed.
/// Once expired it stays expired, as a real reset cannot be undone by a late kick.
pub struct SimWatchdog {
    clock: Arc<dyn Clock>,
    timeout: Duration,
    last_kick: Millis,
    armed: bool,
    expired_at: Option<Millis>,
    kicks: u64,
}

impl std::fmt::Debug for SimWatchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimWatchdog")
            .field("timeout", &self.timeout)
            .field("last_kick", &self.last_kick)
            .field("armed", &self.armed)
            .field("expired_at", &self.expired_at)
            .field("kicks", &self.kicks)
            .finish_non_exhaustive()
    }
}

impl SimWatchdog {
    /// An armed watchdog whose countdown starts now. A zero timeout is rejected (a real
    /// watchdog would reset the box immediately).
    pub fn new(clock: Arc<dyn Clock>, timeout: Duration) -> Result<Self> {
        if timeout.is_zero() {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "sim watchdog: timeout must be above zero",
            ));
        }
        let now = clock.now();
        Ok(Self {
            clock,
            timeout,
            last_kick: now,
            armed: true,
            expired_at: None,
            kicks: 0,
        })
    }

    fn timeout_ms(&self) -> Millis {
        Millis::try_from(self.timeout.as_millis()).unwrap_or(Millis::MAX)
    }

    /// Latch expiry if the countdown has run out.
    fn check(&mut self) {
        if self.armed && self.expired_at.is_none() {
            let deadline = self.last_kick.saturating_add(self.timeout_ms());
            if self.clock.now() > deadline {
                self.expired_at = Some(deadline);
            }
        }
    }

    /// Whether the timeout passed without a kick while armed (the box would have reset).
    pub fn expired(&mut self) -> bool {
        self.check();
        self.expired_at.is_some()
    }

    /// When the countdown ran out, on the clock's time line.
    pub fn expired_at(&mut self) -> Option<Millis> {
        self.check();
        self.expired_at
    }

    /// Whether the watchdog is still armed.
    pub fn armed(&self) -> bool {
        self.armed
    }

    /// Kicks received so far.
    pub fn kicks(&self) -> u64 {
        self.kicks
    }
}

impl Watchdog for SimWatchdog {
    fn kick(&mut self) -> Result<()> {
        self.check();
        if let Some(at) = self.expired_at {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("kick sim watchdog: it already expired at {at} ms, the box has been reset"),
            ));
        }
        self.last_kick = self.clock.now();
        self.armed = true;
        self.kicks += 1;
        Ok(())
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn disarm(&mut self) -> Result<()> {
        self.check();
        self.armed = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yingda_hal::ManualClock;

    #[test]
    fn panel_records_leds_relay_and_changes() {
        let mut gpio = SimGpio::new();
        let panel = gpio.panel();
        assert_eq!(panel.state(), PanelState::default());
        assert!(panel.state().bypass, "relay starts engaged (fail-safe)");
        gpio.set_led(Led::Run, LedState::On).unwrap();
        gpio.set_led(Led::Call, LedState::On).unwrap();
        gpio.set_bypass(false).unwrap();
        gpio.set_led(Led::Call, LedState::Off).unwrap();
        let s = panel.state();
        assert_eq!(s.led(Led::Run), LedState::On);
        assert_eq!(s.led(Led::Alarm), LedState::Off);
        assert_eq!(s.led(Led::Call), LedState::Off);
        assert!(!s.bypass);
        assert_eq!(
            panel.take_changes(),
            vec![
                PanelChange::Led(Led::Run, LedState::On),
                PanelChange::Led(Led::Call, LedState::On),
                PanelChange::Bypass(false),
                PanelChange::Led(Led::Call, LedState::Off),
            ]
        );
        assert!(panel.take_changes().is_empty());
    }

    #[test]
    fn button_is_settable_by_tests() {
        let mut gpio = SimGpio::default();
        let panel = gpio.panel();
        assert!(!gpio.button_pressed().unwrap());
        panel.set_button(true);
        assert!(gpio.button_pressed().unwrap());
        panel.set_button(false);
        assert!(!gpio.button_pressed().unwrap());
    }

    #[test]
    fn watchdog_expires_only_after_timeout_without_kick() {
        let clock = Arc::new(ManualClock::new(0));
        let mut wd = SimWatchdog::new(clock.clone(), Duration::from_secs(10)).unwrap();
        assert_eq!(wd.timeout(), Duration::from_secs(10));
        clock.advance(10_000);
        assert!(!wd.expired(), "exactly at the timeout is still in time");
        wd.kick().unwrap();
        clock.advance(9_999);
        assert!(!wd.expired());
        wd.kick().unwrap();
        clock.advance(10_001);
        assert!(wd.expired());
        assert_eq!(wd.expired_at(), Some(29_999));
        let e = wd.kick().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert!(wd.expired(), "a late kick does not undo a reset");
        assert_eq!(wd.kicks(), 2);
    }

    #[test]
    fn disarmed_watchdog_never_expires() {
        let clock = Arc::new(ManualClock::new(0));
        let mut wd = SimWatchdog::new(clock.clone(), Duration::from_millis(500)).unwrap();
        clock.advance(400);
        wd.disarm().unwrap();
        assert!(!wd.armed());
        clock.advance(60_000);
        assert!(!wd.expired());
        wd.kick().unwrap();
        assert!(
            wd.armed(),
            "a kick re-arms, as writing to /dev/watchdog does"
        );
        clock.advance(501);
        assert!(wd.expired());
    }

    #[test]
    fn zero_timeout_is_rejected() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
        let e = SimWatchdog::new(clock, Duration::ZERO).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    }
}
