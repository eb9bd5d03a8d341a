//! Phase arithmetic shared by the sine generators ([`crate::dtmf::DtmfTx`],
//! [`crate::tones::ToneGen`], [`crate::fsk::FskTx`]) and the filters tuned to a frequency.
//!
//! Crate-private; never allocates or panics.

use core::f32::consts::PI;

/// Phase advance per sample, in radians, of a tone at `hz` (8 kHz sample rate).
pub(crate) fn phase_step(hz: f32) -> f32 {
    2.0 * PI * hz / crate::RATE as f32
}

/// Phase of a phase-continuous sine generator, kept in `[0, 2π)`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Phase(f32);

impl Phase {
    /// The sine of the current phase; then advance by `step` (less than 2π).
    ///
    /// The wrap is exact: for a sum in `[2π, 4π)` the remainder equals the difference
    /// `sum - 2π`, which is representable (Sterbenz), so generators that subtracted 2π and
    /// those that took the remainder produce the same samples.
    #[inline]
    pub(crate) fn sin_then_advance(&mut self, step: f32) -> f32 {
        let v = self.0.sin();
        self.0 = (self.0 + step) % (2.0 * PI);
        v
    }
}
