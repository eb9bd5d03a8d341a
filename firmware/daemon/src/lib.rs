//! The yingda daemon: configuration, real-time line engines, the control plane, the demo
//! flow and the wiring between them and the HAL back-ends.
#![forbid(unsafe_code)]

pub mod backends;
pub mod config;
pub mod control;
pub mod demo_flow;
pub mod engine;
pub mod flowctl;
pub mod flowdir;
pub mod fragments;
pub mod jobs;
pub mod panel;
pub mod prompts;
pub mod runtime;
pub mod speech;
pub mod testbed;
pub mod testcall;
