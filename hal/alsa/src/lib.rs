//! ALSA back-end: a headset or speaker/microphone on the audio jack.
//!
//! - [`AlsaDevice`]: an [`AudioDevice`](yingda_hal::AudioDevice) on a capture and a playback
//!   PCM named as in ALSA config (`default`, `plughw:0,0`, ...), at 8 kHz mono S16 in 20 ms
//!   periods.
//! - [`LocalLine`] and [`LocalSpan`]: that audio device presented as a telephone line, so a
//!   field engineer with a headset can call the IVR on the spot. "Lifting the handset" (front
//!   button or CLI, through a [`LocalLineHandle`]) rings the IVR, which answers as on any
//!   line; "hanging up" drops loop current.
//!
//! Nothing here may panic on what alsa-lib returns; xruns are recovered and reported as
//! [`ErrorKind::Overrun`](yingda_hal::ErrorKind::Overrun) /
//! [`ErrorKind::Underrun`](yingda_hal::ErrorKind::Underrun). No allocation per frame.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod device;
mod local;

pub use device::{AlsaDevice, PERIOD_FRAMES};
pub use local::{LocalLine, LocalLineHandle, LocalSpan};
