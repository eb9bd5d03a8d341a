//! Raspberry Pi front panel (rppal), `/dev/watchdog` and systemd notification.
//!
//! - [`RpiGpio`]: LEDs, bypass relay and front button on BCM GPIO pins named in config.
//! - [`DevWatchdog`]: the kernel watchdog device; kicked by the daemon's main loop, stopped
//!   with the magic close only on an orderly shutdown.
//! - [`notify`]: `sd_notify` readiness, status and watchdog messages to systemd.
//!
//! Nothing here may panic on what the hardware or the environment returns: a missing GPIO
//! block, watchdog or notify socket is an [`Error`](yingda_hal::Error) with a kind the daemon
//! acts on.

// The watchdog is driven with ioctl(2), which nix exposes only as `unsafe fn`. Every call
// site is in `watchdog.rs`, each with a SAFETY comment; nothing else in this crate is unsafe.
#![allow(unsafe_code)]
#![warn(missing_docs)]

mod gpio;
pub mod notify;
pub mod watchdog;

pub use gpio::{GpioConfig, InputConfig, OutputConfig, RpiGpio};
pub use notify::Notifier;
pub use watchdog::{DevWatchdog, DEFAULT_WATCHDOG_DEVICE};
