//! Time, injected so that timeouts in tests are exact and instant.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds on a clock's monotonic time line.
pub type Millis = u64;

/// A source of time.
pub trait Clock: Send + Sync {
    /// Monotonic milliseconds since the clock started.
    fn now(&self) -> Millis;
    /// Wall-clock time as milliseconds since the Unix epoch (for records).
    fn wall_ms(&self) -> i64;
}

/// The operating system's clocks.
#[derive(Debug)]
pub struct MonotonicClock {
    start: Instant,
}

impl MonotonicClock {
    /// A clock starting at zero now.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Millis {
        self.start.elapsed().as_millis() as Millis
    }
    fn wall_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicU64,
    wall_base: AtomicI64,
}

impl ManualClock {
    /// A clock at monotonic zero whose wall time starts at `wall_base_ms`.
    pub fn new(wall_base_ms: i64) -> Self {
        Self {
            now: AtomicU64::new(0),
            wall_base: AtomicI64::new(wall_base_ms),
        }
    }

    /// Move time forward.
    pub fn advance(&self, ms: Millis) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
    fn wall_ms(&self) -> i64 {
        self.wall_base.load(Ordering::SeqCst) + self.now() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now(), 0);
        assert_eq!(c.now(), 0);
        c.advance(20);
        assert_eq!(c.now(), 20);
        assert_eq!(c.wall_ms(), 1_020);
    }
}
