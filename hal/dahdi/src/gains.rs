//! Receive/transmit gain as DAHDI translation tables.
//!
//! DAHDI applies gain to companded audio with a 256-entry table per direction: each code is
//! expanded, scaled and compressed again. Building the table here keeps the real-time path
//! free of gain arithmetic.

use yingda_dsp::g711;
use yingda_hal::Law;

/// A gain the table cannot represent.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum GainError {
    /// Gain must be a finite number within ±24 dB.
    #[error("gain {0} dB is outside -24..=24 dB")]
    OutOfRange(f32),
}

/// Largest gain magnitude accepted, in dB.
pub const MAX_GAIN_DB: f32 = 24.0;

/// The translation table that applies `gain_db` to audio in `law`; 0 dB is the identity.
pub fn gain_table(law: Law, gain_db: f32) -> Result<[u8; 256], GainError> {
    if !gain_db.is_finite() || gain_db.abs() > MAX_GAIN_DB {
        return Err(GainError::OutOfRange(gain_db));
    }
    let mut t = [0u8; 256];
    if gain_db == 0.0 {
        for (code, out) in (0u8..=255).zip(t.iter_mut()) {
            *out = code;
        }
        return Ok(t);
    }
    let k = 10f32.powf(gain_db / 20.0);
    for (code, out) in (0u8..=255).zip(t.iter_mut()) {
        let x = f32::from(g711::to_linear(law, code)) * k;
        *out = g711::from_linear(law, x.round().clamp(-32768.0, 32767.0) as i16);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_db_is_identity() {
        for law in [Law::Alaw, Law::Ulaw] {
            let t = gain_table(law, 0.0).unwrap();
            assert!(t.iter().enumerate().all(|(i, &c)| usize::from(c) == i));
        }
    }

    #[test]
    fn six_db_doubles_amplitude() {
        for law in [Law::Alaw, Law::Ulaw] {
            let t = gain_table(law, 6.0206).unwrap();
            let code = g711::from_linear(law, 1000);
            let got = g711::to_linear(law, t[usize::from(code)]);
            let want = 2 * g711::to_linear(law, code);
            assert!(
                (i32::from(got) - i32::from(want)).abs() <= i32::from(want) / 16,
                "{law:?}: {got} vs {want}"
            );
            // Loud codes saturate instead of wrapping.
            let loud = g711::from_linear(law, 30000);
            assert!(g711::to_linear(law, t[usize::from(loud)]) > 30000);
        }
    }

    #[test]
    fn out_of_range_gains_are_errors() {
        assert_eq!(
            gain_table(Law::Alaw, 30.0),
            Err(GainError::OutOfRange(30.0))
        );
        assert!(gain_table(Law::Alaw, f32::NAN).is_err());
        assert!(gain_table(Law::Ulaw, -24.5).is_err());
        assert!(gain_table(Law::Ulaw, -24.0).is_ok());
    }
}
