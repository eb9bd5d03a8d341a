//! DAHDI back-end: FXO channels through `/dev/dahdi/channel` ioctls.
//!
//! Each [`DahdiChannel`] opens its own fd on the generic channel selector, binds it with
//! `DAHDI_SPECIFY`, sets 20 ms blocks (160 samples) and the companding law, and then reads and
//! writes companded audio. A read or write failing with `ELAST` means the kernel has a
//! signalling event waiting; it is fetched with `DAHDI_GETEVENT`, mapped to a [`LineEvent`]
//! and queued for [`Channel::poll_event`](yingda_hal::Channel::poll_event).
//! [`DahdiSpan::wait_tick`](yingda_hal::Span::wait_tick) polls all channel fds until each
//! has a block to read: the card's clock drives the daemon's real-time loop.
//!
//! This crate must never panic on anything the kernel returns, and never allocate per frame.
//! It only supports channels configured with FXS signalling (FXO ports); anything else is
//! rejected at open with [`ErrorKind::Unsupported`](yingda_hal::ErrorKind::Unsupported).
//!
//! [`LineEvent`]: yingda_hal::LineEvent

// The kernel interface is ioctl(2), which nix exposes only as `unsafe fn`. Every call site is
// in `channel.rs`, each with a SAFETY comment; nothing else in this crate is unsafe.
#![allow(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
mod channel;
mod events;
mod gains;
mod span;

pub use channel::{ChannelConfig, DahdiChannel, DEFAULT_CHANNEL_DEVICE};
pub use events::{map_event, HookState, Mapped};
pub use gains::{gain_table, GainError, MAX_GAIN_DB};
pub use span::{DahdiSpan, MAX_SPAN_CHANNELS};
