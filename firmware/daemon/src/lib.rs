//! The yingda daemon.
#![forbid(unsafe_code)]

pub mod config;
