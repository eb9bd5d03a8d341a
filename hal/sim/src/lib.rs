//! A software FXO card with a simulated central office (CO) behind each port.
//!
//! Everything above the HAL is tested through this back-end: it behaves like a DAHDI FXO
//! card wired to a Chinese exchange. Per port the CO
//! - rings with the China cadence (1 s on / 4 s off) and sends caller ID: DTMF before the
//!   first ring (as Chinese exchanges do) or FSK (V.23 or Bell 202) between the first and
//!   second ring;
//! - carries audio both ways: a far-end [`CallScript`] plays WAV audio and sends digits, and
//!   everything the box sends is recorded for the test to inspect;
//! - adds a hybrid echo of what the box sends, with settable delay and loss;
//! - after the far end hangs up, plays China busy tone (450 Hz, 350/350 ms), optionally after
//!   a polarity reversal or a loop-current drop;
//! - answers the box's outbound calls: dial tone, DTMF digit collection, ringback, then a
//!   [`Callee`] that answers, is busy, or never answers; and hook-flash transfers.
//!
//! Time comes only from the injected [`ManualClock`]: each [`Span::wait_tick`] advances it by
//! 20 ms, so timeout tests are exact and instant. [`Pacing::Realtime`] additionally sleeps to
//! keep the ticks at wall-clock rate for the demo.

mod card;
mod co;
pub mod gpio;
mod script;
mod signals;

pub use card::{Pacing, SimChannel, SimConfig, SimHandle, SimSpan};
pub use co::{CallReport, CoEvent, Ending, LineProfile};
pub use script::{CallScript, Callee, CallerId, CidFormat, Step};

/// Lock state shared with a test's handle. It is plain data updated in single statements, so
/// a panic elsewhere while holding the lock leaves nothing half-updated: keep using it.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
