//! Decoding of line captures for `yingda-diag`.
//!
//! The same DSP blocks the appliance runs on live lines are run over a whole file: the DTMF
//! receiver, the DTMF and FSK caller-ID receivers and the call-progress tone detector.
//!
//! Captures come from the field and may be anything: nothing here may panic on any file or
//! any samples (a file that cannot be decoded is a [`DecodeError`]), and nothing here
//! prints. The serialised form of [`Finding`] is the `--json` contract of `yingda-diag`:
//! fields may be added, never renamed or removed.
#![forbid(unsafe_code)]

use std::fmt;
use std::path::Path;

use serde::Serialize;
use yingda_dsp::wav;

pub mod asr;
mod decode;
pub mod tts;

pub use decode::decode_samples;

/// Why a capture could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not a WAV we can read.
    #[error("{0}")]
    Wav(#[from] wav::WavError),
    /// Not 8 kHz.
    #[error("sample rate is {0} Hz; captures must be 8000 Hz (resample with: sox in.wav -r 8000 out.wav)")]
    Rate(u32),
    /// Not mono.
    #[error("{0} channels; captures must be mono (mix down with: sox in.wav -c 1 out.wav)")]
    Channels(u16),
}

/// Something found in a capture. Serialised with a `kind` tag; field names are a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Finding {
    /// A DTMF digit.
    Dtmf {
        /// The digit: 0-9, *, #, A-D.
        digit: String,
        /// Start, ms from the start of the file.
        start_ms: u64,
        /// End, ms from the start of the file.
        end_ms: u64,
    },
    /// Caller ID.
    Cid {
        /// `v23`, `bell202` or `dtmf`.
        format: &'static str,
        /// Calling number, if presented.
        number: Option<String>,
        /// Calling name, if presented.
        name: Option<String>,
        /// Date and time as sent (`MMDDHHMM`), if presented.
        datetime: Option<String>,
        /// Why the number is absent (`private`, `unavailable`), if it is.
        absence: Option<&'static str>,
        /// Start, ms from the start of the file.
        start_ms: u64,
        /// End, ms from the start of the file.
        end_ms: u64,
    },
    /// A call-progress tone.
    Tone {
        /// `dial`, `busy`, `congestion` or `ringback`.
        name: &'static str,
        /// Start, ms from the start of the file.
        start_ms: u64,
        /// End, ms from the start of the file.
        end_ms: u64,
        /// Cadence cycles seen (on+off periods; 1 for continuous dial tone).
        cycles: u32,
    },
}

impl Finding {
    /// Start time, for ordering.
    pub fn start_ms(&self) -> u64 {
        match self {
            Finding::Dtmf { start_ms, .. }
            | Finding::Cid { start_ms, .. }
            | Finding::Tone { start_ms, .. } => *start_ms,
        }
    }

    /// One line of JSON.
    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = |ms: u64| format!("{}.{:03}", ms / 1000, ms % 1000);
        match self {
            Finding::Dtmf {
                digit,
                start_ms,
                end_ms,
            } => {
                write!(
                    f,
                    "{:>9} s  DTMF {digit}  ({} ms)",
                    secs(*start_ms),
                    end_ms.saturating_sub(*start_ms)
                )
            }
            Finding::Cid {
                format,
                number,
                name,
                datetime,
                absence,
                start_ms,
                ..
            } => {
                write!(f, "{:>9} s  caller ID ({format}):", secs(*start_ms))?;
                if let Some(n) = number {
                    write!(f, " number {n}")?;
                }
                if let Some(a) = absence {
                    write!(f, " number withheld ({a})")?;
                }
                if let Some(n) = name {
                    write!(f, " name {n:?}")?;
                }
                if let Some(d) = datetime {
                    write!(f, " date/time {d}")?;
                }
                Ok(())
            }
            Finding::Tone {
                name,
                start_ms,
                end_ms,
                cycles,
            } => write!(
                f,
                "{:>9} s  {name} tone until {} s, {cycles} cycle{}",
                secs(*start_ms),
                secs(*end_ms),
                if *cycles == 1 { "" } else { "s" }
            ),
        }
    }
}

/// Read a capture: 8 kHz mono WAV (16-bit PCM, A-law or µ-law) as linear samples.
pub fn read_capture(path: &Path) -> Result<Vec<i16>, DecodeError> {
    let bytes = std::fs::read(path)?;
    let w = wav::parse(&bytes)?;
    if w.rate != 8000 {
        return Err(DecodeError::Rate(w.rate));
    }
    if w.channels != 1 {
        return Err(DecodeError::Channels(w.channels));
    }
    Ok(w.samples)
}

/// Read and decode a capture file.
pub fn decode_file(path: &Path) -> Result<Vec<Finding>, DecodeError> {
    Ok(decode_samples(&read_capture(path)?))
}
