//! IVR flows (issue 4): the flow file format and its validator ([`flow`]), the sans-IO
//! interpreter that runs one call ([`interp`]), template readings for TTS ([`say`],
//! [`template`]), the condition language ([`expr`]), business calendars ([`calendar`]),
//! slot extractors ([`slots`]) and versioned activation ([`activation`]).
//!
//! Nothing here does I/O on its own except reading flow/grammar files through
//! [`flow::FlowFs`] and config documents through `yingda_store::Store`; nothing reads a clock;
//! nothing panics on bad input.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod activation;
pub mod calendar;
mod dataflow;
pub mod expr;
pub mod flow;
pub mod interp;
pub mod say;
pub mod slots;
pub mod template;

pub use activation::{ActivationError, Activations};
pub use flow::{validate, validate_file, Flow, FlowError};
pub use interp::{Action, Breakers, Call, Event};
