//! Hardware abstraction for the Yingda appliance.
//!
//! Traits only: no back-end, no ioctl numbers, no register values. Back-ends live in
//! `hal/dahdi`, `hal/alsa`, `hal/rpi` and `hal/sim` and are chosen at start-up from config.
//! Every method is fallible; errors carry an [`ErrorKind`] the caller can act on.
//!
//! This crate must never block on anything but the device it describes, and never allocate
//! per audio frame.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audio;
mod clock;
mod error;
mod gpio;
mod line;

pub use audio::{AudioDevice, PcmFrame};
pub use clock::{Clock, ManualClock, Millis, MonotonicClock};
pub use error::{Error, ErrorKind, Result};
pub use gpio::{Gpio, Led, LedState, Watchdog};
pub use line::{
    AudioFrame, Channel, ChannelInfo, HookCommand, Law, LineEvent, Signalling, Span, SpanStatus,
    FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE,
};
