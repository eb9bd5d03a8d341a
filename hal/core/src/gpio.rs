//! Front-panel GPIO and the hardware watchdog.

use std::time::Duration;

use crate::Result;

/// A status LED on the front panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Led {
    /// Lit while the daemon is running and healthy.
    Run,
    /// Lit while any line or span is in alarm.
    Alarm,
    /// Lit while any call is in progress.
    Call,
}

/// LED state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedState {
    /// Dark.
    Off,
    /// Lit.
    On,
}

/// Front-panel LEDs, the line-bypass relay and the front button.
pub trait Gpio: Send {
    /// Set an LED.
    fn set_led(&mut self, led: Led, state: LedState) -> Result<()>;
    /// Engage (`true`) or release the bypass relay. Engaged, the lines pass straight through
    /// to the PBX, bypassing the box; the relay's unpowered state is engaged (fail-safe).
    fn set_bypass(&mut self, engaged: bool) -> Result<()>;
    /// Whether the front button is held down now.
    fn button_pressed(&mut self) -> Result<bool>;
}

/// A hardware watchdog: once armed, the box resets unless [`Watchdog::kick`] is called
/// within the timeout.
pub trait Watchdog: Send {
    /// Reset the countdown.
    fn kick(&mut self) -> Result<()>;
    /// The countdown length.
    fn timeout(&self) -> Duration;
    /// Stop the watchdog (orderly shutdown only). Back-ends that cannot be stopped once
    /// started return an [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) error.
    fn disarm(&mut self) -> Result<()>;
}
