//! China call-progress tones made by spandsp's `tone_gen` (with `awgn` noise), A-law round
//! tripped, recognised by `ToneDetector` with the right cycle counts; nothing reported on
//! speech or DTMF; outbound call progress classified.
//!
//! Spec (YD/T 1277 / GB 3380 practice): 450 ± 25 Hz; dial continuous; busy 350/350 ms;
//! congestion 700/700 ms; ringback 1000/4000 ms; level about −10 dBm0 at the exchange,
//! arriving anywhere down to about −35 dBm0.

mod common;
use common::*;
use yingda_dsp::tones::{
    CallProgress, ChinaTone, Progress, ToneDetector, ToneDetectorConfig, ToneEvent,
};
use yingda_dsp::{g711, Law};

/// 300 ms silence, then `tone` at 450+`df` Hz and `level` for `total_ms`, then 6 s silence.
fn china(tone: ChinaTone, level: i32, df: i32, total_ms: u32, noise: f32) -> Vec<i16> {
    let (on, off) = tone.cadence_ms();
    let f = 450 + df;
    let seg = match tone {
        ChinaTone::Dial => format!("{f},{level},0,0,{total_ms},0,0,0,{total_ms}"),
        _ => format!("{f},{level},0,0,{on},{off},0,0,{total_ms}"),
    };
    tone_gen(
        noise,
        &[
            "0,0,0,0,0,0,0,0,300".into(),
            seg,
            "0,0,0,0,0,0,0,0,6000".into(),
        ],
    )
}

fn events(x: &[i16]) -> Vec<ToneEvent> {
    let mut d = ToneDetector::new();
    let mut ev = Vec::new();
    for c in x.chunks(160) {
        d.rx(c, |e| ev.push(e));
    }
    ev
}

#[test]
fn tones_each_china_tone_recognised_with_cycles() {
    // (tone, ms of signal, expected cycles): cycles are whole on+off periods that fit.
    for (level, df, noise) in [(-10, 0, -99.0), (-30, 20, -50.0), (-20, -20, -40.0)] {
        for (tone, ms, cycles) in [
            (ChinaTone::Busy, 7000, 10),
            (ChinaTone::Congestion, 8400, 6),
            (ChinaTone::Ringback, 15000, 3),
        ] {
            let ev = events(&china(tone, level, df, ms, noise));
            let what = format!("{tone:?} at {level} dBm0, {df:+} Hz, noise {noise}: {ev:?}");
            assert_eq!(ev.len(), 2, "{what}");
            let ToneEvent::Detected { tone: t, start, .. } = ev[0] else {
                panic!("{what}")
            };
            assert_eq!(t, tone, "{what}");
            assert!(start.abs_diff(2400) <= 160, "{what}");
            let ToneEvent::Ended {
                tone: t,
                cycles: c,
                end,
                ..
            } = ev[1]
            else {
                panic!("{what}")
            };
            assert_eq!((t, c), (tone, cycles), "{what}");
            // The last "on" ends one off-period before the signal does.
            let last_on_end = 2400 + u64::from(ms - tone.cadence_ms().1) * 8;
            assert!(end.abs_diff(last_on_end) <= 160, "{what}");
        }
        let ev = events(&china(ChinaTone::Dial, level, df, 3000, noise));
        assert!(
            matches!(
                ev[..],
                [
                    ToneEvent::Detected {
                        tone: ChinaTone::Dial,
                        ..
                    },
                    ToneEvent::Ended {
                        tone: ChinaTone::Dial,
                        ..
                    }
                ]
            ),
            "dial: {ev:?}"
        );
    }
}

#[test]
fn tones_busy_reported_after_busycount_cycles() {
    for busy_count in [2, 4, 6] {
        let mut d = ToneDetector::with_config(ToneDetectorConfig {
            busy_count,
            ..ToneDetectorConfig::default()
        })
        .unwrap();
        let x = china(ChinaTone::Busy, -15, 0, 7000, -45.0);
        let mut at = None;
        let mut pos = 0u64;
        for c in x.chunks(160) {
            d.rx(c, |e| {
                if let ToneEvent::Detected { tone, cycles, .. } = e {
                    assert_eq!((tone, cycles), (ChinaTone::Busy, busy_count));
                    at.get_or_insert(pos + c.len() as u64);
                }
            });
            pos += c.len() as u64;
        }
        // Counted once the n-th off period reaches its minimum (350 ms − 20 % − 1 block).
        let at = at.expect("busy reported");
        let nth_off_start = 2400 + u64::from(busy_count - 1) * 5600 + 2800;
        assert!(
            at > nth_off_start && at <= nth_off_start + 2800,
            "busy_count {busy_count}: reported at {at}"
        );
    }
}

#[test]
fn tones_busy_and_congestion_not_confused_and_off_frequency_rejected() {
    let ev = events(&china(ChinaTone::Congestion, -10, 0, 8400, -99.0));
    assert!(ev.iter().all(|e| !matches!(
        e,
        ToneEvent::Detected {
            tone: ChinaTone::Busy,
            ..
        }
    )));
    let ev = events(&china(ChinaTone::Busy, -10, 0, 7000, -99.0));
    assert!(ev.iter().all(|e| !matches!(
        e,
        ToneEvent::Detected {
            tone: ChinaTone::Congestion,
            ..
        }
    )));
    // 600 Hz (not a China tone) with busy cadence: nothing.
    assert_eq!(
        events(&china(ChinaTone::Busy, -10, 150, 7000, -99.0)),
        vec![]
    );
    // Busy cadence stretched by 60 %: nothing.
    let x = tone_gen(-99.0, &["450,-10,0,0,560,560,0,0,8000".into()]);
    assert!(
        events(&x).iter().all(|e| !matches!(
            e,
            ToneEvent::Detected {
                tone: ChinaTone::Busy,
                ..
            }
        )),
        "{:?}",
        events(&x)
    );
}

const SPEECH_EN: &str = "Hello, this is the accounts department. I am calling about your order \
    from last week. The parcel was sent on Monday and should arrive tomorrow morning. \
    If you have any questions, please call us back at your convenience. Thank you and goodbye.";
const SPEECH_CMN: &str = "wei2, ni3 hao3, qing3 wen4 shi4 zhang1 xian1 sheng1 ma5? \
    wo3 shi4 ying1 da2 gong1 si1 de5 ke4 fu2. nin2 de5 ding4 dan1 yi3 jing1 fa1 huo4 le5, \
    ming2 tian1 shang4 wu3 ke3 yi3 dao4. ru2 guo3 you3 wen4 ti2, qing3 da3 dian4 hua4 gei3 wo3 men5. xie4 xie4, zai4 jian4.";

#[test]
fn tones_nothing_on_speech_or_dtmf() {
    for (voice, text) in [("en", SPEECH_EN), ("cmn-latn-pinyin", SPEECH_CMN)] {
        let mut x = yingda_testpeers::espeak_8k(voice, text);
        g711::round_trip(Law::Alaw, &mut x);
        assert_eq!(events(&x), vec![], "{voice}");
    }
    let exe = yingda_testpeers::build("spandsp_dtmf_tx", &[], &["-lspandsp"]);
    let mut x = yingda_testpeers::i16_samples(&yingda_testpeers::run(
        &exe,
        &[
            "1234567890*#ABCD1234567890*#ABCD",
            "-10",
            "0",
            "350",
            "350",
            "-99",
        ],
    ));
    g711::round_trip(Law::Alaw, &mut x);
    assert_eq!(events(&x), vec![], "dtmf");
}

fn progress(x: &[i16]) -> Vec<(Progress, u64)> {
    let mut cp = CallProgress::new(ToneDetector::new(), 5000).unwrap();
    let mut out = Vec::new();
    for c in x.chunks(160) {
        cp.rx(c, |p, at| out.push((p, at)));
    }
    out
}

#[test]
fn tones_call_progress_classifies_outbound_call() {
    // Ringing twice, then the callee answers and speaks.
    let mut x = tone_gen(-55.0, &["450,-12,0,0,1000,4000,0,0,10000".into()]);
    let mut speech =
        yingda_testpeers::espeak_8k("cmn-latn-pinyin", "wei2, ni3 hao3, qing3 wen4 zhao3 shei2?");
    g711::round_trip(Law::Alaw, &mut speech);
    let answer_at = x.len() as u64;
    x.extend(speech);
    let p = progress(&x);
    assert_eq!(
        p.iter().map(|v| v.0).collect::<Vec<_>>(),
        vec![Progress::Ringback, Progress::Voice],
        "{p:?}"
    );
    assert!(p[1].1 > answer_at && p[1].1 < answer_at + 8000, "{p:?}");

    let p = progress(&china(ChinaTone::Busy, -10, 0, 7000, -50.0));
    assert_eq!(p[0].0, Progress::Busy, "{p:?}");
    let p = progress(&china(ChinaTone::Congestion, -10, 0, 7000, -50.0));
    assert_eq!(p[0].0, Progress::Congestion, "{p:?}");
    let p = progress(&tone_gen(-60.0, &["0,0,0,0,0,0,0,0,7000".into()]));
    assert_eq!(p, vec![(Progress::Silence, 40000)]);
    // Answered straight away (no ringback): voice.
    let mut s = yingda_testpeers::espeak_8k("en", SPEECH_EN);
    g711::round_trip(Law::Alaw, &mut s);
    assert_eq!(progress(&s)[0].0, Progress::Voice);
}
