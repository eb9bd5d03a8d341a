//! Telephony DSP blocks for the real-time audio path.
//!
//! Every block works on sample slices (`fn rx(&mut self, samples: &[i16])`), owns no thread,
//! reads no clock and allocates nothing per frame: state lives in fixed arrays or `heapless`
//! containers sized at construction. Time is counted in samples at 8 kHz.
//!
//! Nothing here may panic on any input signal; bad *configuration* is rejected when a block
//! is built.
#![forbid(unsafe_code)]

pub mod callerid;
pub mod dtmf;
pub mod dtmf_cid;
pub mod echo;
pub mod fsk;
pub mod g711;
pub mod goertzel;
mod osc;
pub mod polyphase;
pub mod resample;
pub mod tones;
pub mod wav;

pub use yingda_hal::Law;

/// Line sample rate, samples per second.
pub const RATE: u32 = 8000;

/// Samples in `ms` milliseconds at 8 kHz.
pub const fn ms_to_samples(ms: u32) -> usize {
    (ms * (RATE / 1000)) as usize
}

/// Milliseconds spanned by `samples` at 8 kHz.
pub const fn samples_to_ms(samples: u64) -> u64 {
    samples / (RATE as u64 / 1000)
}
