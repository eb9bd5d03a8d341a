//! Far-end signals of the simulated exchange, rendered with the firmware's own DSP
//! generators (whose output the DSP tests check against spandsp).
//!
//! Rendering never happens per frame: call-progress tones are rendered once when the card is
//! built, caller ID by [`SimHandle::place_call`](crate::SimHandle::place_call) on the test's
//! thread (so a script that cannot be sent is rejected there), and only a far-end script's
//! DTMF digits when that step starts.

use std::sync::Arc;

use yingda_dsp::callerid::{Absence, CallerIdTx, CallerInfo, LeadIn, MessageFormat};
use yingda_dsp::dtmf::{DtmfTx, DtmfTxConfig};
use yingda_dsp::dtmf_cid::{self, Absence as DtmfCidAbsence, EndDigit, StartDigit};
use yingda_dsp::fsk::FskStandard;
use yingda_dsp::tones::{ChinaTone, ToneGen};

use crate::script::{CallerId, CidFormat};

/// China call-progress tones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Dial,
    Busy,
    Congestion,
    Ringback,
}

/// The call-progress tones, rendered once per card and shared by its ports, so that a
/// hook change only starts playing one.
#[derive(Clone)]
pub(crate) struct Tones {
    dial: Arc<[i16]>,
    busy: Arc<[i16]>,
    congestion: Arc<[i16]>,
    ringback: Arc<[i16]>,
}

impl Tones {
    pub(crate) fn render() -> Self {
        Self {
            dial: tone(Tone::Dial).into(),
            busy: tone(Tone::Busy).into(),
            congestion: tone(Tone::Congestion).into(),
            ringback: tone(Tone::Ringback).into(),
        }
    }

    /// One full cadence cycle of `tone`, for looping.
    pub(crate) fn get(&self, tone: Tone) -> Arc<[i16]> {
        match tone {
            Tone::Dial => &self.dial,
            Tone::Busy => &self.busy,
            Tone::Congestion => &self.congestion,
            Tone::Ringback => &self.ringback,
        }
        .clone()
    }
}

impl std::fmt::Debug for Tones {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Thousands of samples say nothing in a log.
        f.debug_struct("Tones").finish_non_exhaustive()
    }
}

/// One full cadence cycle of `tone` (a second of dial tone), for looping.
fn tone(tone: Tone) -> Vec<i16> {
    let t = match tone {
        Tone::Dial => ChinaTone::Dial,
        Tone::Busy => ChinaTone::Busy,
        Tone::Congestion => ChinaTone::Congestion,
        Tone::Ringback => ChinaTone::Ringback,
    };
    let (on, off) = t.cadence_ms();
    let ms = if off == 0 { 1000 } else { on + off };
    let mut out = vec![0i16; (ms * 8) as usize];
    // Exchanges send call-progress tones at about -10 dBm0.
    if let Ok(mut gen) = ToneGen::new(t, -10.0) {
        gen.tx(&mut out);
    }
    out
}

/// DTMF digits as a far-end phone sends them: 70 ms on, 70 ms off, -10 dBm0 low group.
pub(crate) fn dtmf(digits: &str) -> Vec<i16> {
    let cfg = DtmfTxConfig {
        on_ms: 70,
        off_ms: 70,
        ..DtmfTxConfig::default()
    };
    let mut tx = DtmfTx::with_config(&cfg).unwrap_or_default();
    let digits: String = digits
        .chars()
        .filter(|c| yingda_dsp::dtmf::normalise_digit(*c).is_some())
        .collect();
    let mut out = Vec::new();
    for chunk in digits.as_bytes().chunks(yingda_dsp::dtmf::TX_QUEUE) {
        let _ = tx.put(std::str::from_utf8(chunk).unwrap_or_default());
        let mut buf = [0i16; 160];
        while tx.busy() {
            tx.tx(&mut buf);
            out.extend_from_slice(&buf);
        }
    }
    out
}

/// Caller ID as the exchange sends it, rendered once when the call is placed.
#[derive(Debug, Clone)]
pub(crate) enum CidSignal {
    /// DTMF before the first ring: the digit string (for the log) and its audio.
    Dtmf { digits: String, audio: Arc<[i16]> },
    /// FSK between the first and second ring.
    Fsk(Arc<[i16]>),
}

/// Render `cid` as its format asks, or say why it cannot be sent.
pub(crate) fn render_cid(cid: &CallerId) -> Result<CidSignal, String> {
    match cid.format {
        CidFormat::Dtmf => {
            let digits = dtmf_cid_digits(cid)?;
            let audio = dtmf(&digits).into();
            Ok(CidSignal::Dtmf { digits, audio })
        }
        CidFormat::FskV23 | CidFormat::FskBell202 => Ok(CidSignal::Fsk(fsk_cid(cid)?.into())),
    }
}

/// The DTMF caller ID digit string sent before the first ring (`A<number>C`, or `B<code>C`
/// when the number is absent).
fn dtmf_cid_digits(cid: &CallerId) -> Result<String, String> {
    let absence = match (cid.number.is_some(), cid.absence) {
        (true, _) => None,
        (false, Some('P')) => Some(DtmfCidAbsence::Private),
        (false, _) => Some(DtmfCidAbsence::Unavailable),
    };
    let number = cid.number.as_deref().unwrap_or("");
    dtmf_cid::encode(number, absence, StartDigit::A, EndDigit::C)
        .map(|d| d.to_string())
        .map_err(|e| e.to_string())
}

/// FSK caller ID (MDMF when a name is given, else SDMF) sent between the first two rings.
fn fsk_cid(cid: &CallerId) -> Result<Vec<i16>, String> {
    let standard = if cid.format == CidFormat::FskBell202 {
        FskStandard::Bell202
    } else {
        FskStandard::V23
    };
    let too_long = |what: &str| format!("caller ID {what} is too long for an FSK message");
    let number = match cid.number.as_deref() {
        Some(n) => Some(n.parse().map_err(|_| too_long("number"))?),
        None => None,
    };
    let name = match cid.name.as_deref() {
        Some(n) => Some(heapless::Vec::from_slice(n.as_bytes()).map_err(|_| too_long("name"))?),
        None => None,
    };
    let format = if name.is_some() {
        MessageFormat::Mdmf
    } else {
        MessageFormat::Sdmf
    };
    let info = CallerInfo {
        datetime: Some(
            cid.datetime
                .as_deref()
                .unwrap_or("01010000")
                .parse()
                .map_err(|_| too_long("date"))?,
        ),
        number_absence: number
            .is_none()
            .then(|| Absence::from_code(cid.absence.map_or(b'O', |c| c as u8))),
        number,
        name,
        ..CallerInfo::default()
    };
    let mut tx = CallerIdTx::new(standard, -13, LeadIn::default(), format, &info)
        .map_err(|e| e.to_string())?;
    let mut out = vec![0i16; tx.total_samples()];
    let n = tx.fill(&mut out);
    out.truncate(n);
    Ok(out)
}
