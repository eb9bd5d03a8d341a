//! Front panel and hardware watchdog, driven by the control loop.
//!
//! Order matters for a box in line with a PBX: the bypass relay stays engaged (lines pass
//! straight through) until the daemon is ready to answer, and is engaged again on shutdown;
//! the watchdog is kicked only while every span thread is ticking, and disarmed only on an
//! orderly stop.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tracing::warn;
use yingda_hal::{Clock, Gpio, Led, LedState, Watchdog};

use crate::config::{GpioKind, SystemConfig, WatchdogKind};

/// LEDs, bypass relay and watchdog of the box (each optional).
pub struct Panel {
    gpio: Option<Box<dyn Gpio>>,
    watchdog: Option<Box<dyn Watchdog>>,
    calls_lit: Option<bool>,
    alarm_lit: Option<bool>,
    button_was_down: bool,
}

impl std::fmt::Debug for Panel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Panel")
            .field("gpio", &self.gpio.is_some())
            .field("watchdog", &self.watchdog.is_some())
            .finish()
    }
}

fn lit(on: bool) -> LedState {
    if on {
        LedState::On
    } else {
        LedState::Off
    }
}

impl Panel {
    /// A panel over the given devices.
    pub fn new(gpio: Option<Box<dyn Gpio>>, watchdog: Option<Box<dyn Watchdog>>) -> Self {
        Self {
            gpio,
            watchdog,
            calls_lit: None,
            alarm_lit: None,
            button_was_down: false,
        }
    }

    /// Open what `system` names. Opening `/dev/watchdog` arms it: do this last, just before
    /// the control loop starts kicking.
    pub fn open(system: &SystemConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let gpio: Option<Box<dyn Gpio>> = match system.gpio {
            GpioKind::None => None,
            GpioKind::Sim => Some(Box::new(yingda_hal_sim::gpio::SimGpio::new())),
            GpioKind::Rpi => Some(Box::new(
                yingda_hal_rpi::RpiGpio::open(&yingda_hal_rpi::GpioConfig::default())
                    .context("open front panel")?,
            )),
        };
        let timeout = Duration::from_secs(u64::from(system.watchdog_timeout_s));
        let watchdog: Option<Box<dyn Watchdog>> = match system.watchdog {
            WatchdogKind::None => None,
            WatchdogKind::Sim => Some(Box::new(yingda_hal_sim::gpio::SimWatchdog::new(
                clock, timeout,
            )?)),
            WatchdogKind::Dev => Some(Box::new(
                yingda_hal_rpi::DevWatchdog::open(Some(timeout)).context("open /dev/watchdog")?,
            )),
        };
        Ok(Self::new(gpio, watchdog))
    }

    /// How often [`Panel::kick`] should be called: a third of the watchdog timeout.
    pub fn kick_interval(&self) -> Option<Duration> {
        self.watchdog.as_ref().map(|w| w.timeout() / 3)
    }

    /// The daemon is ready to answer calls: take the box in line and light the run LED.
    pub fn ready(&mut self) {
        if let Some(g) = &mut self.gpio {
            if let Err(e) = g
                .set_bypass(false)
                .and_then(|()| g.set_led(Led::Run, LedState::On))
            {
                warn!("front panel: {e}");
            }
        }
    }

    /// Show calls in progress and alarms (only changes are written).
    pub fn show(&mut self, calls: bool, alarm: bool) {
        let Some(g) = &mut self.gpio else { return };
        if self.calls_lit != Some(calls) {
            self.calls_lit = Some(calls);
            if let Err(e) = g.set_led(Led::Call, lit(calls)) {
                warn!("front panel: {e}");
            }
        }
        if self.alarm_lit != Some(alarm) {
            self.alarm_lit = Some(alarm);
            if let Err(e) = g.set_led(Led::Alarm, lit(alarm)) {
                warn!("front panel: {e}");
            }
        }
    }

    /// Whether the front button went down since the last call (a press, not a hold).
    pub fn button_pressed(&mut self) -> bool {
        let Some(g) = &mut self.gpio else {
            return false;
        };
        let down = g.button_pressed().unwrap_or(false);
        let pressed = down && !self.button_was_down;
        self.button_was_down = down;
        pressed
    }

    /// Kick the watchdog; call only when the health check passed.
    pub fn kick(&mut self) {
        if let Some(w) = &mut self.watchdog {
            if let Err(e) = w.kick() {
                warn!("watchdog: {e}");
            }
        }
    }

    /// Orderly stop: lines back to the PBX, LEDs dark, watchdog disarmed.
    pub fn shutdown(&mut self) {
        if let Some(g) = &mut self.gpio {
            let r = g
                .set_bypass(true)
                .and_then(|()| g.set_led(Led::Run, LedState::Off))
                .and_then(|()| g.set_led(Led::Call, LedState::Off));
            if let Err(e) = r {
                warn!("front panel: {e}");
            }
        }
        if let Some(w) = &mut self.watchdog {
            if let Err(e) = w.disarm() {
                warn!("watchdog: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yingda_hal::ManualClock;
    use yingda_hal_sim::gpio::{SimGpio, SimWatchdog};

    #[test]
    fn bypass_stays_engaged_until_ready_and_again_after_shutdown() {
        let gpio = SimGpio::new();
        let view = gpio.panel();
        let clock = Arc::new(ManualClock::new(0));
        let wd = SimWatchdog::new(clock.clone(), Duration::from_secs(30)).unwrap();
        let mut p = Panel::new(Some(Box::new(gpio)), Some(Box::new(wd)));
        assert!(view.state().bypass, "fail-safe before ready");
        p.ready();
        assert!(!view.state().bypass);
        assert_eq!(view.state().run, LedState::On);
        view.set_button(true);
        assert!(p.button_pressed(), "press");
        assert!(!p.button_pressed(), "held is not a second press");
        view.set_button(false);
        assert!(!p.button_pressed());
        p.show(true, false);
        assert_eq!(view.state().call, LedState::On);
        p.show(false, true);
        assert_eq!(
            (view.state().call, view.state().alarm),
            (LedState::Off, LedState::On)
        );
        assert_eq!(p.kick_interval(), Some(Duration::from_secs(10)));
        p.shutdown();
        assert!(view.state().bypass);
        assert_eq!(view.state().run, LedState::Off);
    }

    #[test]
    fn unkicked_watchdog_expires_and_kicks_keep_it_alive() {
        let clock = Arc::new(ManualClock::new(0));
        let wd = SimWatchdog::new(clock.clone(), Duration::from_secs(30)).unwrap();
        let mut p = Panel::new(None, Some(Box::new(wd)));
        for _ in 0..10 {
            clock.advance(10_000);
            p.kick();
        }
        // 100 s of kicks every 10 s: alive. Now stop kicking (a span thread is stuck).
        clock.advance(31_000);
        let wd = p.watchdog.as_mut().unwrap();
        assert!(
            wd.kick().is_err(),
            "a kick after the timeout reports the expiry"
        );
    }
}
