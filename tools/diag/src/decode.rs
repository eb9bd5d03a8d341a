//! Runs the appliance's line DSP blocks over a whole capture and collects what they report.
//!
//! The capture is fed in 160-sample (20 ms) frames, exactly as the audio path delivers a
//! live line, to:
//!
//! * one [`DtmfRx`]: every digit is reported from its `End` event. The same digits feed a
//!   [`DtmfCidDecoder`] through [`DtmfCidDecoder::digit`] (its documented entry point for
//!   digits detected elsewhere), so China DTMF caller ID costs no second receiver and always
//!   agrees with the digits shown;
//! * a [`CallerIdRx`] for FSK caller ID (V.23 and Bell 202 at once);
//! * a [`ToneDetector`] for China dial, busy, congestion and ringback tone.
//!
//! At the end of the file the receivers are given silence so that a digit or a recognised
//! tone still sounding is closed and reported; times are clamped to the file's length.
//!
//! This must never panic, whatever the samples: everything here is arithmetic on sample
//! counts the blocks report, done with saturating operations.

use yingda_dsp::callerid::{self, CallerIdRx};
use yingda_dsp::dtmf::{DtmfEvent, DtmfRx};
use yingda_dsp::dtmf_cid::{self, DtmfCidDecoder};
use yingda_dsp::fsk::FskStandard;
use yingda_dsp::samples_to_ms;
use yingda_dsp::tones::{ChinaTone, ToneDetector, ToneDetectorConfig, ToneEvent};

use crate::Finding;

/// Samples per frame, as a live line delivers them (20 ms at 8 kHz).
const FRAME: usize = 160;

/// Silence given to the DTMF receiver after the file: comfortably more than the 25 ms of
/// misses that end a digit.
const DTMF_FLUSH: usize = 200 * 8;

/// Most silence given to the tone detector after the file to close a tone still sounding:
/// the longest off time it waits for is ringback's 4 s + 20 % + one block (4.82 s).
const TONE_FLUSH: usize = 6 * 8000;

/// Tone detector settings for diagnostics.
///
/// The appliance waits for four busy cycles before it hangs up (a false busy drops a call);
/// a field engineer looking at a capture wants to see a busy tone as soon as its cadence is
/// unmistakable, so two cycles are enough here. Everything else is the appliance default.
fn tone_config() -> ToneDetectorConfig {
    ToneDetectorConfig {
        busy_count: 2,
        ..ToneDetectorConfig::default()
    }
}

fn tone_name(t: ChinaTone) -> &'static str {
    match t {
        ChinaTone::Dial => "dial",
        ChinaTone::Busy => "busy",
        ChinaTone::Congestion => "congestion",
        ChinaTone::Ringback => "ringback",
    }
}

fn fsk_absence(a: callerid::Absence) -> &'static str {
    match a {
        callerid::Absence::Private => "private",
        callerid::Absence::Unavailable => "unavailable",
        callerid::Absence::Other(_) => "other",
    }
}

fn dtmf_absence(a: dtmf_cid::Absence) -> &'static str {
    match a {
        dtmf_cid::Absence::Private => "private",
        dtmf_cid::Absence::Unavailable => "unavailable",
        _ => "other",
    }
}

/// Collects findings while the blocks run.
#[derive(Debug)]
struct Decoder {
    dtmf: DtmfRx,
    dtmf_cid: DtmfCidDecoder,
    fsk_cid: CallerIdRx,
    tones: ToneDetector,
    /// Length of the capture in samples: nothing is reported past it.
    len: u64,
    findings: Vec<Finding>,
}

impl Decoder {
    fn new(len: usize) -> Self {
        // `tone_config` is within the documented ranges; should that ever change, the
        // appliance default still gives a working (if slower to report busy) decoder.
        let tones = ToneDetector::with_config(tone_config()).unwrap_or_default();
        Self {
            dtmf: DtmfRx::new(),
            dtmf_cid: DtmfCidDecoder::new(),
            fsk_cid: CallerIdRx::new(),
            tones,
            len: len as u64,
            findings: Vec::new(),
        }
    }

    fn ms(&self, sample: u64) -> u64 {
        samples_to_ms(sample.min(self.len))
    }

    fn dtmf_frame(&mut self, frame: &[i16]) {
        let mut ends = Vec::new();
        self.dtmf.rx(frame, |e| {
            if let DtmfEvent::End { digit, start, end } = e {
                ends.push((digit, start, end));
            }
        });
        for (digit, start, end) in ends {
            self.findings.push(Finding::Dtmf {
                digit: digit.to_string(),
                start_ms: self.ms(start),
                end_ms: self.ms(end),
            });
            if let Some(Ok(rec)) = self.dtmf_cid.digit(digit, start, end) {
                self.findings.push(Finding::Cid {
                    format: "dtmf",
                    number: (!rec.number.is_empty()).then(|| rec.number.to_string()),
                    name: None,
                    datetime: None,
                    absence: rec.absence.map(dtmf_absence),
                    start_ms: self.ms(rec.start),
                    end_ms: self.ms(rec.end),
                });
            }
        }
    }

    fn fsk_frame(&mut self, frame: &[i16]) {
        let mut got = Vec::new();
        self.fsk_cid.rx(frame, |r| {
            // Messages that started but failed (checksum, carrier lost) are not caller ID.
            if let Ok(c) = r {
                got.push(c);
            }
        });
        for c in got {
            let info = &c.info;
            self.findings.push(Finding::Cid {
                format: match c.standard {
                    FskStandard::V23 => "v23",
                    FskStandard::Bell202 => "bell202",
                },
                number: info.number.as_ref().map(|n| n.to_string()),
                name: info.name_str().map(str::to_owned),
                datetime: info.datetime.as_ref().map(|d| d.to_string()),
                absence: info.number_absence.map(fsk_absence),
                start_ms: self.ms(c.start),
                end_ms: self.ms(c.end),
            });
        }
    }

    fn tone_frame(&mut self, frame: &[i16]) {
        let mut ended = Vec::new();
        self.tones.rx(frame, |e| {
            if let ToneEvent::Ended {
                tone,
                start,
                end,
                cycles,
            } = e
            {
                ended.push((tone, start, end, cycles));
            }
        });
        for (tone, start, end, cycles) in ended {
            self.findings.push(Finding::Tone {
                name: tone_name(tone),
                start_ms: self.ms(start),
                end_ms: self.ms(end),
                // The detector counts no cadence for continuous dial tone; it is one tone.
                cycles: if tone == ChinaTone::Dial {
                    cycles.max(1)
                } else {
                    cycles
                },
            });
        }
    }

    /// Close whatever is still sounding at the end of the file.
    fn finish(mut self) -> Vec<Finding> {
        let silence = [0i16; FRAME];
        for _ in 0..DTMF_FLUSH.div_ceil(FRAME) {
            self.dtmf_frame(&silence);
        }
        let mut left = TONE_FLUSH;
        while self.tones.current().is_some() && left > 0 {
            self.tone_frame(&silence);
            left = left.saturating_sub(FRAME);
        }
        let mut findings = self.findings;
        findings.sort_by_key(Finding::start_ms);
        findings
    }
}

/// Decode a whole 8 kHz mono capture: every DTMF digit, DTMF and FSK caller ID and China
/// call-progress tone, sorted by start time (findings starting together keep the order in
/// which they were completed).
pub fn decode_samples(samples: &[i16]) -> Vec<Finding> {
    let mut d = Decoder::new(samples.len());
    for frame in samples.chunks(FRAME) {
        d.dtmf_frame(frame);
        d.fsk_frame(frame);
        d.tone_frame(frame);
    }
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use yingda_dsp::dtmf::DtmfTx;
    use yingda_dsp::tones::ToneGen;

    fn tone(t: ChinaTone, ms: usize) -> Vec<i16> {
        let mut g = ToneGen::new(t, -10.0).expect("level in range");
        let mut x = vec![0; ms * 8];
        g.tx(&mut x);
        x
    }

    #[test]
    fn busy_is_reported_after_two_cycles() {
        // The appliance default (four cycles) would report nothing here.
        let mut x = tone(ChinaTone::Busy, 1400);
        x.extend(vec![0; 8000]);
        let f = decode_samples(&x);
        assert!(
            matches!(
                f[..],
                [Finding::Tone {
                    name: "busy",
                    cycles: 2,
                    ..
                }]
            ),
            "{f:?}"
        );
    }

    #[test]
    fn dial_tone_still_sounding_is_closed_at_end_of_file() {
        let f = decode_samples(&tone(ChinaTone::Dial, 2500));
        assert_eq!(
            f,
            [Finding::Tone {
                name: "dial",
                start_ms: 0,
                end_ms: 2500,
                cycles: 1
            }]
        );
    }

    #[test]
    fn digit_still_sounding_at_end_of_file_is_reported_within_the_file() {
        let mut tx = DtmfTx::new();
        tx.put("7").expect("valid digit");
        let mut x = vec![0i16; 800];
        tx.tx(&mut x[400..]);
        // The tone runs from 50 ms to the file's end at 100 ms.
        let f = decode_samples(&x);
        assert_eq!(f.len(), 1, "{f:?}");
        let Finding::Dtmf {
            digit,
            start_ms,
            end_ms,
        } = &f[0]
        else {
            panic!("{f:?}")
        };
        assert_eq!(digit, "7");
        assert!((45..=60).contains(start_ms), "{start_ms}");
        assert!(*end_ms <= 100 && *end_ms >= 90, "{end_ms}");
    }

    #[test]
    fn empty_and_short_captures_give_nothing() {
        assert!(decode_samples(&[]).is_empty());
        assert!(decode_samples(&[i16::MAX, i16::MIN, 0]).is_empty());
    }
}
