//! Sans-IO line signalling state machines.
//!
//! Each machine takes one input (a line event, a detector result, a request from the call
//! flow) together with the current time, and returns the actions the caller must carry out.
//! Nothing here owns a thread, a socket, a clock or a device, and nothing allocates per
//! event: the daemon wires the machines to the HAL and the DSP blocks, and tests drive them
//! with exact, injected time.
//!
//! | module | line type |
//! |--------|-----------|
//! | [`fxo`] | analogue FXO port, loop start / kewl start (China conventions by default) |
//! | [`isdn`] | E1 PRI D channel: Q.921 frames and LAPD, Q.931 messages and call control (control plane; allocates) |
//! | [`r2`] | E1 CAS timeslot, MFC/R2 China: line signalling (ABCD bits) |
//!
//! This crate must never panic on any input or in any state, and never block.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod fxo;
pub mod isdn;
pub mod r2;
