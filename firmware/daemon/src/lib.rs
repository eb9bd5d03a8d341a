//! The yingda daemon.
#![forbid(unsafe_code)]

pub mod config;
pub mod demo_flow;
pub mod prompts;
