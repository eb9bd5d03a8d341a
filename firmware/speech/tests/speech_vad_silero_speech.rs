//! SileroVad on real speech (espeak-ng, English and Mandarin, through an A-law round trip),
//! silence, white noise, DTMF and the China call-progress tones, with EarshotVad on the
//! same audio for comparison (printed, not asserted).
//!
//! Needs the installed model (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models; run
//! `tools/models/install.py --only silero-vad`).
//!
//! Limits (default thresholds onset 0.5 / release 0.35, default endpointer), with what was
//! seen when they were set:
//! - active speech frames (clean level ≥ −35 dBm0) called speech: ≥ 90 % (seen
//!   94.0–99.3 %; EarshotVad on the same frames 92–99 %);
//! - padding more than 200 ms from the speech called speech: ≤ 1 % (seen 0), over digital
//!   silence and −50 dBm0 noise;
//! - noise alone at −50, −40 and −30 dBm0: no speech frame (max probability seen 0.075;
//!   EarshotVad calls 430–472 of 500 frames of −30 dBm0 noise speech);
//! - endpointer start after subtracting `latency_ms()`: −60…+140 ms from the first sample
//!   above −40 dBFS (seen −11…+49); end −60…+220 ms from the last (seen +66…+128);
//! - DTMF digits, busy, congestion and ringback tone: no speech frame at all, NoInput (max
//!   probability seen 0.15, against earshot's network scoring 8–228 of 300 frames over 0.5).
//!   That is why SileroVad has no tone gate;
//! - speech 600 ms after a key press starts −60…+140 ms from its first loud sample.

use std::sync::OnceLock;

use yingda_dsp::dtmf::{DtmfTx, DtmfTxConfig};
use yingda_dsp::g711::round_trip;
use yingda_dsp::goertzel::{dbm0_to_mean_square, energy, mean_square_to_dbm0};
use yingda_dsp::tones::{ChinaTone, ToneGen};
use yingda_dsp::{ms_to_samples, Law};
use yingda_speech::endpoint::{EndpointConfig, EndpointEvent, Endpointer};
use yingda_speech::silero::{SileroModel, SileroVad};
use yingda_speech::vad::{EarshotVad, Vad, VadFrame, FRAME_SAMPLES};

const UTTERANCES: [(&str, &str); 4] = [
    ("en", "I would like to report a lost credit card, please"),
    ("cmn-latn-pinyin", "wo3 xiang3 gua4 hao4 kou3 qiang1 ke1"),
    ("en-us", "my number is four five six, seven eight nine"),
    (
        "cmn-latn-pinyin",
        "ni3 hao3, wo3 yao4 cha2 xun2 zhang4 dan1. xie4 xie4",
    ),
];

fn model() -> &'static SileroModel {
    static MODEL: OnceLock<SileroModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dir =
            std::env::var("YINGDA_MODELS_DIR").unwrap_or_else(|_| "/var/lib/yingda/models".into());
        SileroModel::load(&dir).unwrap_or_else(|e| {
            panic!("{e}\n(models dir {dir}: run tools/models/install.py --only silero-vad)")
        })
    })
}

fn silero() -> SileroVad {
    SileroVad::new(model()).expect("detector")
}

/// White noise at `dbm0` (Box–Muller on a 64-bit LCG), deterministic per seed.
fn hiss(n: usize, dbm0: f32, seed: u64) -> Vec<i16> {
    let sd = dbm0_to_mean_square(dbm0).sqrt();
    let mut state = seed ^ 0x2545_F491_4F6C_DD1D;
    let mut uniform = move || {
        state = state
            .wrapping_mul(2_862_933_555_777_941_757)
            .wrapping_add(3_037_000_493);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            let g = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
            (g * f64::from(sd)).round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// Speech with `lead_ms` of silence before and `tail_ms` after, optional noise over all of
/// it, A-law round trip. Returns (line signal, clean signal, first and last loud sample).
fn call(utt: (&str, &str), lead_ms: u32, tail_ms: u32, noise: Option<f32>) -> [Vec<i16>; 2] {
    let speech = yingda_testpeers::espeak_8k(utt.0, utt.1);
    let mut clean = vec![0i16; ms_to_samples(lead_ms)];
    clean.extend_from_slice(&speech);
    clean.resize(clean.len() + ms_to_samples(tail_ms), 0);
    let mut line = clean.clone();
    if let Some(db) = noise {
        for (s, n) in line.iter_mut().zip(hiss(clean.len(), db, 3)) {
            *s = s.saturating_add(n);
        }
    }
    round_trip(Law::Alaw, &mut line);
    [line, clean]
}

/// First and last sample above −40 dBFS.
fn loud_span(clean: &[i16]) -> (usize, usize) {
    let loud = |x: &i16| x.unsigned_abs() > 328;
    let first = clean.iter().position(loud).expect("espeak produced audio");
    let last = clean.iter().rposition(loud).expect("espeak produced audio");
    (first, last)
}

fn frames(vad: &mut dyn Vad, samples: &[i16]) -> Vec<VadFrame> {
    samples
        .chunks_exact(FRAME_SAMPLES)
        .map(|f| vad.process(f).expect("frame"))
        .collect()
}

fn events(decisions: &[VadFrame]) -> Vec<(usize, EndpointEvent)> {
    let mut ep = Endpointer::new(EndpointConfig::default()).expect("config");
    let mut out = Vec::new();
    for (i, d) in decisions.iter().enumerate() {
        if let Some(e) = ep.push(d.speech) {
            out.push((i, e));
        }
    }
    out
}

fn count_speech(v: &[VadFrame]) -> usize {
    v.iter().filter(|d| d.speech).count()
}

#[test]
fn speech_is_speech_and_padding_is_not() {
    for utt in UTTERANCES {
        for noise in [None, Some(-50.0)] {
            let [line, clean] = call(utt, 1000, 1500, noise);
            let (start, end) = loud_span(&clean);
            let margin = ms_to_samples(200);
            let mut tally = [[0usize; 2]; 2]; // [active, padding] × [frames, speech]
            let mut earshot_hits = 0;
            let v = frames(&mut silero(), &line);
            let e = frames(&mut EarshotVad::new(), &line);
            for (i, c) in clean.chunks_exact(FRAME_SAMPLES).enumerate() {
                let (a, b) = (i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES);
                if mean_square_to_dbm0(energy(c) / FRAME_SAMPLES as f32) >= -35.0 {
                    tally[0][0] += 1;
                    tally[0][1] += usize::from(v[i].speech);
                    earshot_hits += usize::from(e[i].speech);
                }
                if b + margin < start || a > end + margin {
                    tally[1][0] += 1;
                    tally[1][1] += usize::from(v[i].speech);
                }
            }
            let [[active, hit], [pad, false_pos]] = tally;
            let hit_rate = hit as f32 / active as f32;
            println!(
                "{} noise {noise:?}: speech frames {hit}/{active} ({:.1} %; earshot {earshot_hits}), padding called speech {false_pos}/{pad}",
                utt.0,
                100.0 * hit_rate
            );
            assert!(hit_rate >= 0.90, "{} {noise:?}: {hit}/{active}", utt.0);
            assert!(
                false_pos as f32 <= 0.01 * pad as f32,
                "{} {noise:?}: {false_pos}/{pad}",
                utt.0
            );
        }
    }
}

#[test]
fn noise_alone_is_not_speech() {
    for db in [-50.0, -40.0, -30.0] {
        for seed in 1..=3 {
            let mut n = hiss(8000 * 10, db, seed);
            round_trip(Law::Alaw, &mut n);
            let v = frames(&mut silero(), &n);
            let max = v.iter().map(|d| d.probability).fold(0.0, f32::max);
            let earshot = count_speech(&frames(&mut EarshotVad::new(), &n));
            println!(
                "noise {db} dBm0 seed {seed}: {} speech frames, max p {max:.3} (earshot {earshot})",
                count_speech(&v)
            );
            assert_eq!(count_speech(&v), 0, "noise {db} dBm0 seed {seed}");
        }
    }
}

#[test]
fn endpointer_finds_utterance_start_and_end() {
    for utt in UTTERANCES {
        for noise in [None, Some(-50.0)] {
            let [line, clean] = call(utt, 1000, 2000, noise);
            let (start, end) = loud_span(&clean);
            let mut vad = silero();
            let lat = i64::from(vad.latency_ms());
            let ev = events(&frames(&mut vad, &line));
            let [(_, EndpointEvent::SpeechStart { at_ms }), (_, EndpointEvent::SpeechEnd { start_ms, end_ms })] =
                ev[..]
            else {
                panic!("{} {noise:?}: events {ev:?}", utt.0);
            };
            assert_eq!(at_ms, start_ms);
            let ds = start_ms as i64 - lat - (start / 8) as i64;
            let de = end_ms as i64 - lat - (end / 8) as i64;
            println!(
                "{} noise {noise:?}: start {ds:+} ms, end {de:+} ms (after latency {lat} ms)",
                utt.0
            );
            assert!((-60..=140).contains(&ds), "{} start off by {ds} ms", utt.0);
            assert!((-60..=220).contains(&de), "{} end off by {de} ms", utt.0);
        }
    }
}

#[test]
fn silence_gives_no_input() {
    let mut s = vec![0i16; 8000 * 7];
    round_trip(Law::Alaw, &mut s);
    let ev = events(&frames(&mut silero(), &s));
    assert_eq!(ev, vec![(249, EndpointEvent::NoInput)]);
}

/// Key presses and busy tone are not speech (barge-in on a key is the DTMF detector's job,
/// busy tone the call-progress detector's): no utterance starts, listening ends in NoInput.
#[test]
fn dtmf_and_call_progress_tones_are_not_speech() {
    let mut cases: Vec<(String, Vec<i16>)> = Vec::new();
    let six_s = || vec![0i16; 8000 * 6];
    let mut tx = DtmfTx::new();
    tx.put("1234567890*#ABCD").expect("digits");
    let mut d = six_s();
    tx.tx(&mut d);
    cases.push(("DTMF 100/100 ms".into(), d));
    let cfg = DtmfTxConfig {
        on_ms: 400,
        off_ms: 300,
        level_dbm0: -20.0,
        twist_db: 3.0,
    };
    let mut tx = DtmfTx::with_config(&cfg).expect("config");
    tx.put("5#09").expect("digits");
    let mut d = six_s();
    tx.tx(&mut d);
    cases.push(("DTMF 400/300 ms at -20 dBm0".into(), d));
    for tone in [ChinaTone::Busy, ChinaTone::Congestion, ChinaTone::Ringback] {
        let mut d = six_s();
        ToneGen::new(tone, -10.0).expect("tone").tx(&mut d);
        cases.push((format!("{tone:?} at -10 dBm0"), d));
    }
    for (name, mut s) in cases {
        for (x, n) in s.iter_mut().zip(hiss(8000 * 6, -50.0, 11)) {
            *x = x.saturating_add(n);
        }
        round_trip(Law::Alaw, &mut s);
        let v = frames(&mut silero(), &s);
        let max = v.iter().map(|d| d.probability).fold(0.0, f32::max);
        let earshot_raw = frames(&mut EarshotVad::new(), &s)
            .iter()
            .filter(|d| d.probability >= 0.5)
            .count();
        println!(
            "{name}: {} speech frames, max p {max:.3} (earshot network alone: {earshot_raw} of {} over 0.5)",
            count_speech(&v),
            v.len()
        );
        assert_eq!(count_speech(&v), 0, "{name}");
        assert_eq!(events(&v), vec![(249, EndpointEvent::NoInput)], "{name}");
    }
}

#[test]
fn speech_right_after_a_key_press_is_found() {
    let mut tx = DtmfTx::new();
    tx.put("1").expect("digit");
    let mut s = vec![0i16; 8000];
    tx.tx(&mut s[2000..]);
    let [line, clean] = call(UTTERANCES[0], 0, 1500, None);
    let speech_at = s.len() + loud_span(&clean).0;
    s.extend_from_slice(&line);
    let mut vad = silero();
    let lat = i64::from(vad.latency_ms());
    let ev = events(&frames(&mut vad, &s));
    let Some(&(_, EndpointEvent::SpeechStart { at_ms })) = ev.first() else {
        panic!("no SpeechStart: {ev:?}");
    };
    let ds = at_ms as i64 - lat - (speech_at / 8) as i64;
    println!("speech 600 ms after a key: start {ds:+} ms");
    assert!((-60..=140).contains(&ds), "start off by {ds} ms");
}
