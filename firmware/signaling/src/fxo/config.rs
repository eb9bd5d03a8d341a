//! Configuration of one FXO line, in DAHDI/Asterisk (`chan_dahdi.conf`) vocabulary.
//!
//! The daemon embeds [`FxoConfig`] in its TOML file; every key is optional and defaults to
//! values that suit a loop-start line from a Chinese exchange or PBX. [`FxoConfig::validate`]
//! rejects values that would make the state machine misbehave (zero timeouts, impossible
//! caller-ID combinations); [`crate::fxo::Fxo::new`] calls it, so an invalid config can never
//! drive a line.

use serde::Deserialize;
use thiserror::Error;

/// Signalling the card uses towards the exchange (DAHDI `signalling=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineSignalling {
    /// Loop start (`fxs_ls`): loop-current drops are not treated as disconnects.
    FxsLs,
    /// Kewl start (`fxs_ks`): loop start plus disconnect by loop-current drop.
    FxsKs,
}

impl From<LineSignalling> for yingda_hal::Signalling {
    fn from(s: LineSignalling) -> Self {
        match s {
            LineSignalling::FxsLs => Self::FxsLoopStart,
            LineSignalling::FxsKs => Self::FxsKewlStart,
        }
    }
}

/// How the exchange sends caller ID (DAHDI `cidsignalling=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CidSignalling {
    /// FSK, ITU-T V.23 tones (1300/2100 Hz).
    V23,
    /// FSK, Bell 202 tones (1200/2200 Hz); the tones China's YDN 069 specifies.
    Bell,
    /// DTMF digits (`D`/`A` … `C`), common on older Chinese exchanges.
    Dtmf,
}

/// What tells the line that caller ID is coming (DAHDI `cidstart=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CidStart {
    /// Caller ID is sent in the silent interval between the first and second ring.
    Ring,
    /// A polarity reversal on the idle line announces caller ID before the first ring.
    Polarity,
    /// DTMF caller ID arrives on the idle line before the first ring.
    Dtmf,
}

/// Settings of one FXO line. Key names match `chan_dahdi.conf` where a key exists there.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FxoConfig {
    /// Line signalling: `fxs_ls` or `fxs_ks`.
    pub signalling: LineSignalling,
    /// Answer an incoming call when this ring (1-based) starts. If caller ID is expected
    /// between rings 1 and 2 (`cidstart = "ring"`), the line also waits for the caller ID
    /// or the start of ring 2, whichever comes first.
    pub answer_after_rings: u8,
    /// Collect caller ID at all (`usecallerid`).
    pub usecallerid: bool,
    /// How caller ID is encoded.
    pub cidsignalling: CidSignalling,
    /// When caller ID is sent.
    pub cidstart: CidStart,
    /// Hang up a connected call when busy or congestion tone is heard (`busydetect`).
    pub busydetect: bool,
    /// Cadence cycles of busy/congestion tone that count as a disconnect (`busycount`);
    /// also the threshold for "callee busy" on outbound calls and transfers.
    pub busycount: u8,
    /// Treat a polarity reversal in a connected call as far-end hang-up.
    pub hanguponpolarityswitch: bool,
    /// Treat a polarity reversal while an outbound call rings as answer.
    pub answeronpolarityswitch: bool,
    /// Treat speech ([`crate::fxo::Progress::Voice`]) while an outbound call rings as answer.
    pub answeronvoice: bool,
    /// An unanswered incoming call is abandoned when no ring edge (start or end) arrives
    /// for this long. China rings 1 s on / 4 s off, so 6 s tolerates one late ring.
    pub ring_timeout_ms: u32,
    /// How long caller ID received (or announced) before the first ring stays valid.
    pub cid_prering_timeout_ms: u32,
    /// Outbound: give up when no dial tone is heard within this time of going off hook.
    pub dialtone_timeout_ms: u32,
    /// Outbound: do not wait for dial tone; dial [`Self::blind_dial_delay_ms`] after seizing.
    pub blind_dial: bool,
    /// Outbound: pause between going off hook and dialling when [`Self::blind_dial`] is set.
    pub blind_dial_delay_ms: u32,
    /// Give up when the daemon has not confirmed the digits as sent within this time.
    pub digits_timeout_ms: u32,
    /// Outbound: give up when the callee has not answered within this time of dialling.
    pub no_answer_timeout_ms: u32,
    /// Hook flash duration (the back-end times the flash; the machine waits this long plus
    /// a grace period for [`yingda_hal::LineEvent::HookComplete`]).
    pub flash_ms: u32,
    /// Transfer: wait for the PBX's dial tone after the flash (otherwise pause
    /// [`Self::transfer_pause_ms`] and dial).
    pub transfer_wait_dialtone: bool,
    /// Transfer: fixed pause after the flash when not waiting for dial tone.
    pub transfer_pause_ms: u32,
    /// Transfer: flash back to the caller when the extension has not answered in this time.
    pub transfer_no_answer_timeout_ms: u32,
    /// After hanging up, ignore the line (late rings, reversals) for this long.
    pub onhook_guard_ms: u32,
}

impl Default for FxoConfig {
    /// Defaults for a loop-start line from a Chinese exchange: FSK caller ID (Bell 202
    /// tones) between the first and second ring, busy-tone disconnect (Chinese exchanges
    /// seldom give disconnect supervision by loop-current drop), 1 s / 4 s ring cadence.
    fn default() -> Self {
        Self {
            signalling: LineSignalling::FxsLs,
            answer_after_rings: 2,
            usecallerid: true,
            cidsignalling: CidSignalling::Bell,
            cidstart: CidStart::Ring,
            busydetect: true,
            busycount: 4,
            hanguponpolarityswitch: false,
            answeronpolarityswitch: false,
            answeronvoice: true,
            ring_timeout_ms: 6_000,
            cid_prering_timeout_ms: 5_000,
            dialtone_timeout_ms: 3_000,
            blind_dial: false,
            blind_dial_delay_ms: 2_000,
            digits_timeout_ms: 15_000,
            no_answer_timeout_ms: 45_000,
            flash_ms: 300,
            transfer_wait_dialtone: true,
            transfer_pause_ms: 1_000,
            transfer_no_answer_timeout_ms: 30_000,
            onhook_guard_ms: 2_000,
        }
    }
}

/// An [`FxoConfig`] that must not be used.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A numeric setting lies outside the range the machine supports.
    #[error("{field} = {value} is out of range {min}..={max}")]
    OutOfRange {
        /// Config key.
        field: &'static str,
        /// Value found.
        value: u32,
        /// Smallest accepted value.
        min: u32,
        /// Largest accepted value.
        max: u32,
    },
    /// `cidstart = "dtmf"` only makes sense with `cidsignalling = "dtmf"`.
    #[error("cidstart = \"dtmf\" requires cidsignalling = \"dtmf\"")]
    DtmfStartWithoutDtmfCid,
}

fn check(field: &'static str, value: u32, min: u32, max: u32) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

impl FxoConfig {
    /// Check every setting; the first problem found is returned.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] for a numeric key outside its range (every duration is at
    /// least 50 ms so that timers always move forward), [`ConfigError::DtmfStartWithoutDtmfCid`]
    /// for an impossible caller-ID combination.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check("answer_after_rings", self.answer_after_rings.into(), 1, 15)?;
        check("busycount", self.busycount.into(), 1, 20)?;
        check("ring_timeout_ms", self.ring_timeout_ms, 1_000, 30_000)?;
        check(
            "cid_prering_timeout_ms",
            self.cid_prering_timeout_ms,
            500,
            15_000,
        )?;
        check("dialtone_timeout_ms", self.dialtone_timeout_ms, 500, 30_000)?;
        check("blind_dial_delay_ms", self.blind_dial_delay_ms, 100, 10_000)?;
        check("digits_timeout_ms", self.digits_timeout_ms, 1_000, 120_000)?;
        check(
            "no_answer_timeout_ms",
            self.no_answer_timeout_ms,
            5_000,
            600_000,
        )?;
        check("flash_ms", self.flash_ms, 50, 2_000)?;
        check("transfer_pause_ms", self.transfer_pause_ms, 100, 10_000)?;
        check(
            "transfer_no_answer_timeout_ms",
            self.transfer_no_answer_timeout_ms,
            5_000,
            600_000,
        )?;
        check("onhook_guard_ms", self.onhook_guard_ms, 100, 10_000)?;
        if self.cidstart == CidStart::Dtmf && self.cidsignalling != CidSignalling::Dtmf {
            return Err(ConfigError::DtmfStartWithoutDtmfCid);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_defaults_are_valid() {
        assert_eq!(FxoConfig::default().validate(), Ok(()));
    }

    #[test]
    fn zero_answer_after_rings_is_rejected() {
        let cfg = FxoConfig {
            answer_after_rings: 0,
            ..FxoConfig::default()
        };
        assert_eq!(
            cfg.validate(),
            Err(ConfigError::OutOfRange {
                field: "answer_after_rings",
                value: 0,
                min: 1,
                max: 15
            })
        );
    }

    #[test]
    fn too_short_ring_timeout_is_rejected() {
        let cfg = FxoConfig {
            ring_timeout_ms: 999,
            ..FxoConfig::default()
        };
        assert!(matches!(
            cfg.validate(),
            Err(ConfigError::OutOfRange {
                field: "ring_timeout_ms",
                ..
            })
        ));
    }

    #[test]
    fn dtmf_start_needs_dtmf_signalling() {
        let cfg = FxoConfig {
            cidstart: CidStart::Dtmf,
            cidsignalling: CidSignalling::V23,
            ..FxoConfig::default()
        };
        assert_eq!(cfg.validate(), Err(ConfigError::DtmfStartWithoutDtmfCid));
    }

    #[test]
    fn signalling_maps_to_hal() {
        assert_eq!(
            yingda_hal::Signalling::from(LineSignalling::FxsKs),
            yingda_hal::Signalling::FxsKewlStart
        );
        assert_eq!(
            yingda_hal::Signalling::from(LineSignalling::FxsLs),
            yingda_hal::Signalling::FxsLoopStart
        );
    }
}
