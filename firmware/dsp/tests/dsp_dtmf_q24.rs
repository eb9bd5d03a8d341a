//! DtmfRx against ITU-T Q.24 / Q.23 limits, with every signal made by spandsp (`dtmf_tx`,
//! `tone_gen`, `awgn`) in C peers and passed through an A-law round trip, in the manner of
//! spandsp's `dtmf_rx_tests.c` (which mirrors the Mitel CM7291 test tape).
//!
//! Spec limits (Q.24 Table A-1 as used by most administrations, China included):
//! * signal duration: ≥ 40 ms must operate, ≤ 23 ms must not operate;
//! * pause: ≥ 40 ms must be recognised as a pause;
//! * frequency: ±1.5 % must operate, ±3.5 % must not operate;
//! * twist: high group up to 4 dB above low (reverse), low up to 8 dB above high (normal);
//! * level: −6 … −24 dBm0 per tone must operate;
//! * signal-to-noise: 15 dB must operate;
//! * talk-off: speech must not produce digits.

mod common;
use common::*;
use yingda_dsp::dtmf::{DtmfEvent, DtmfRx, DtmfTx, DtmfTxConfig, COL_HZ, KEYPAD, ROW_HZ};
use yingda_dsp::{g711, Law};

const ALL: &str = "123A456B789C*0#D";

fn dtmf_tx(digits: &str, level: i32, twist: i32, on: u32, off: u32, noise: f32) -> Vec<i16> {
    let exe = yingda_testpeers::build("spandsp_dtmf_tx", &[], &["-lspandsp"]);
    let args = [
        digits.to_string(),
        level.to_string(),
        twist.to_string(),
        on.to_string(),
        off.to_string(),
        noise.to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut x = yingda_testpeers::i16_samples(&yingda_testpeers::run(&exe, &args));
    g711::round_trip(Law::Alaw, &mut x);
    x
}

fn detect(x: &[i16]) -> Vec<DtmfEvent> {
    let mut rx = DtmfRx::new();
    let mut ev = Vec::new();
    // Feed 160-sample frames, as the line does.
    for c in x.chunks(160) {
        rx.rx(c, |e| ev.push(e));
    }
    ev
}

fn starts(ev: &[DtmfEvent]) -> String {
    ev.iter()
        .filter(|e| matches!(e, DtmfEvent::Start { .. }))
        .map(DtmfEvent::digit)
        .collect()
}

fn pos(d: char) -> (usize, usize) {
    for (r, row) in KEYPAD.iter().enumerate() {
        for (c, &k) in row.iter().enumerate() {
            if k == d {
                return (r, c);
            }
        }
    }
    unreachable!("{d} not on keypad")
}

/// One digit per segment group: `on` ms of the pair at (f_low, l_low, f_high, l_high), then
/// `off` ms of silence.
fn pair_segments(pairs: &[(i32, i32, i32, i32)], on: u32, off: u32) -> Vec<String> {
    let mut v = vec!["0,0,0,0,0,0,0,0,100".to_string()];
    for &(fl, ll, fh, lh) in pairs {
        v.push(format!("{fl},{ll},{fh},{lh},{on},0,0,0,{on}"));
        v.push(format!("0,0,0,0,0,0,0,0,{off}"));
    }
    v.push("0,0,0,0,0,0,0,0,200".to_string());
    v
}

#[test]
fn dtmf_every_digit_detected_once_with_timing() {
    // dtmf_tx defaults: 50 ms on, 55 ms off would also do; use 60/60 to check timing.
    let x = dtmf_tx(ALL, -10, 0, 60, 60, -99.0);
    let ev = detect(&x);
    assert_eq!(starts(&ev), ALL);
    let ends: Vec<_> = ev
        .iter()
        .filter(|e| matches!(e, DtmfEvent::End { .. }))
        .collect();
    assert_eq!(ends.len(), 16, "{ev:?}");
    for (i, e) in ends.iter().enumerate() {
        let DtmfEvent::End { start, end, digit } = **e else {
            unreachable!()
        };
        let want_start = 800 + i as u64 * 960;
        let want_end = want_start + 480;
        // Timing accuracy: edges within 10 ms (80 samples).
        assert!(
            start.abs_diff(want_start) <= 80 && end.abs_diff(want_end) <= 80,
            "{digit}: {start}..{end}, want {want_start}..{want_end}"
        );
    }
    // The start event comes while the tone is still on: within 40 ms of its start.
    for e in &ev {
        if let DtmfEvent::Start {
            start, confirmed, ..
        } = *e
        {
            assert!(confirmed - start <= 320, "confirmed late: {e:?}");
        }
    }
}

#[test]
fn dtmf_40ms_on_40ms_off_detected_at_every_alignment() {
    // Q.24: 40 ms tone must operate; a 40 ms pause must separate digits.
    let base = dtmf_tx(ALL, -13, 0, 40, 40, -99.0);
    for shift in (0..102).step_by(17) {
        let mut x = vec![0i16; shift];
        x.extend_from_slice(&base);
        assert_eq!(starts(&detect(&x)), ALL, "shift {shift}");
    }
    // Same digit repeated with 40 ms gaps: every one counted.
    let x = dtmf_tx("5555555555", -13, 0, 40, 40, -99.0);
    assert_eq!(starts(&detect(&x)), "5555555555");
}

#[test]
fn dtmf_23ms_rejected_at_every_alignment() {
    // Q.24: tones of 23 ms or less must not operate.
    for level in [-6, -24] {
        let base = dtmf_tx(ALL, level, 0, 23, 77, -99.0);
        for shift in (0..102).step_by(7) {
            let mut x = vec![0i16; shift];
            x.extend_from_slice(&base);
            assert_eq!(starts(&detect(&x)), "", "level {level} shift {shift}");
        }
    }
}

/// Frequencies off nominal by `pct` percent, rounded to whole Hz away from nominal (tone_gen
/// takes integer Hz) when `away`, towards it otherwise, so each test is at least as strict
/// as its limit.
fn off_freq(f: f32, pct: f32, away: bool) -> i32 {
    let v = f * (1.0 + pct / 100.0);
    let up = pct > 0.0;
    if up == away {
        v.ceil() as i32
    } else {
        v.floor() as i32
    }
}

fn deviated(pct_low: f32, pct_high: f32, away: bool) -> Vec<i16> {
    let pairs: Vec<_> = ALL
        .chars()
        .map(|d| {
            let (r, c) = pos(d);
            (
                off_freq(ROW_HZ[r], pct_low, away),
                -10,
                off_freq(COL_HZ[c], pct_high, away),
                -10,
            )
        })
        .collect();
    tone_gen(-99.0, &pair_segments(&pairs, 50, 50))
}

#[test]
fn dtmf_frequency_deviation_1_5_percent_accepted() {
    // Q.24: ±1.5 % must operate (both tones, and each alone).
    for (pl, ph) in [
        (1.5, 1.5),
        (-1.5, -1.5),
        (1.5, -1.5),
        (-1.5, 1.5),
        (1.5, 0.0),
        (0.0, -1.5),
    ] {
        let x = deviated(pl, ph, true);
        assert_eq!(starts(&detect(&x)), ALL, "low {pl}% high {ph}%");
    }
}

#[test]
fn dtmf_frequency_deviation_3_5_percent_rejected() {
    // Q.24: ±3.5 % must not operate, on either tone.
    for (pl, ph) in [
        (3.5, 3.5),
        (-3.5, -3.5),
        (3.5, 0.0),
        (-3.5, 0.0),
        (0.0, 3.5),
        (0.0, -3.5),
    ] {
        let x = deviated(pl, ph, false);
        assert_eq!(starts(&detect(&x)), "", "low {pl}% high {ph}%");
    }
}

fn twisted(low: i32, high: i32) -> Vec<i16> {
    let pairs: Vec<_> = ALL
        .chars()
        .map(|d| {
            let (r, c) = pos(d);
            (ROW_HZ[r] as i32, low, COL_HZ[c] as i32, high)
        })
        .collect();
    tone_gen(-99.0, &pair_segments(&pairs, 50, 50))
}

#[test]
fn dtmf_twist_limits() {
    // Normal twist (low group louder) up to 8 dB must operate, at both ends of the level
    // range; reverse twist (high group louder) up to 4 dB must operate.
    for (low, high) in [(-6, -14), (-16, -24), (-10, -6), (-24, -20)] {
        assert_eq!(starts(&detect(&twisted(low, high))), ALL, "{low}/{high}");
    }
    // Well beyond either limit (6 dB normal, 3 dB reverse) must not: the receiver allows
    // 3 dB extra normal twist for window side-lobe leakage, see DtmfRxConfig.
    for (low, high) in [(-6, -20), (-13, -6)] {
        assert_eq!(starts(&detect(&twisted(low, high))), "", "{low}/{high}");
    }
}

#[test]
fn dtmf_level_range() {
    // −6 … −24 dBm0 per tone must operate.
    for level in [-6, -12, -18, -24] {
        let x = dtmf_tx(ALL, level, 0, 50, 50, -99.0);
        assert_eq!(starts(&detect(&x)), ALL, "level {level}");
    }
    // Well below the range (−36 dBm0): nothing.
    let x = dtmf_tx(ALL, -36, 0, 50, 50, -99.0);
    assert_eq!(starts(&detect(&x)), "");
}

#[test]
fn dtmf_snr_15db() {
    // 15 dB signal-to-noise (noise power 15 dB below each tone) must operate: every digit,
    // repeated, at two levels. awgn_init_dbm0 sets the total noise power.
    for (level, noise) in [(-10, -25.0), (-20, -35.0)] {
        let digits = ALL.repeat(4);
        let x = dtmf_tx(&digits, level, 0, 50, 50, noise);
        assert_eq!(starts(&detect(&x)), digits, "level {level} noise {noise}");
    }
}

const TALK_EN: &str = "Thank you for calling the customer service line. \
    Please listen carefully, as our menu options have recently changed. \
    For account balances and recent payments, press one at any time. \
    If you would like to speak with an operator, please stay on the line. \
    Our offices are open from nine in the morning until six in the evening, \
    Monday through Saturday, except on public holidays. \
    Seven, eight, nine, zero, star, hash. The quick brown fox jumps over the lazy dog. \
    She sells sea shells by the sea shore, and the shells she sells are surely sea shells.";

const TALK_CMN: &str = "ni3 hao3 huan1 ying2 zhi4 dian4 ying1 da2 ke4 fu2 zhong1 xin1. \
    cha2 xun2 zhang4 hu4 yu2 e2 qing3 an4 yi1, ren2 gong1 fu2 wu4 qing3 an4 ling2. \
    wo3 men5 de5 gong1 zuo4 shi2 jian1 shi4 zhou1 yi1 zhi4 zhou1 liu4 shang4 wu3 jiu3 dian3 dao4 xia4 wu3 liu4 dian3. \
    xie4 xie4 nin2 de5 nai4 xin1 deng3 dai4, qing3 bu2 yao4 gua4 ji1. \
    jin1 tian1 tian1 qi4 hen3 hao3, wo3 men5 yi4 qi3 qu4 gong1 yuan2 san4 bu4 ba5. \
    si4 shi2 si4, shi2 si4 shi4 shi2 si4, ba1 bai3 biao1 bing1 ben1 bei3 po1.";

#[test]
fn dtmf_talk_off_english_and_mandarin_speech() {
    for (voice, text) in [("en", TALK_EN), ("cmn-latn-pinyin", TALK_CMN)] {
        let mut x = yingda_testpeers::espeak_8k(voice, text);
        assert!(x.len() > 8000 * 15, "{voice}: only {} samples", x.len());
        g711::round_trip(Law::Alaw, &mut x);
        assert_eq!(starts(&detect(&x)), "", "talk-off with {voice}");
        // Louder speech (+6 dB, clipped) still gives nothing.
        let loud: Vec<i16> = x.iter().map(|&s| s.saturating_mul(2)).collect();
        assert_eq!(starts(&detect(&loud)), "", "talk-off with loud {voice}");
    }
}

#[test]
fn dtmf_digits_after_speech_still_detected() {
    let mut x = yingda_testpeers::espeak_8k("en", "Please enter your account number now.");
    x.extend(dtmf_tx("2468#", -12, 0, 60, 60, -99.0));
    g711::round_trip(Law::Alaw, &mut x);
    assert_eq!(starts(&detect(&x)), "2468#");
}

fn spandsp_decode(x: &[i16]) -> String {
    let exe = yingda_testpeers::build("spandsp_dtmf_rx", &[], &["-lspandsp"]);
    let out = yingda_testpeers::run_with_samples(&exe, &[], x);
    String::from_utf8_lossy(&out).trim().to_string()
}

#[test]
fn dtmf_tx_decoded_by_spandsp() {
    for cfg in [
        DtmfTxConfig::default(),
        DtmfTxConfig {
            on_ms: 50,
            off_ms: 50,
            level_dbm0: -20.0,
            twist_db: 0.0,
        },
        DtmfTxConfig {
            on_ms: 70,
            off_ms: 60,
            level_dbm0: -6.0,
            twist_db: 3.0,
        },
    ] {
        let mut tx = DtmfTx::with_config(&cfg).unwrap();
        let digits = "0123456789*#ABCD13579";
        tx.put(digits).unwrap();
        let mut x = vec![0i16; 8000 * 6];
        let mut n = 0;
        for frame in x.chunks_mut(160) {
            n += tx.tx(frame);
        }
        assert!(!tx.busy(), "buffer too short");
        assert_eq!(
            n as u32,
            digits.len() as u32 * (cfg.on_ms + cfg.off_ms) * 8,
            "{cfg:?}"
        );
        g711::round_trip(Law::Alaw, &mut x);
        assert_eq!(spandsp_decode(&x), digits, "{cfg:?}");
        assert_eq!(starts(&detect(&x)), digits, "own rx, {cfg:?}");
    }
}

#[test]
fn dtmf_tx_level_and_twist_are_as_configured() {
    // Measure our generator's tone levels with the receiver's own bins: −13 dBm0 low,
    // +3 dB twist.
    let cfg = DtmfTxConfig {
        on_ms: 1000,
        off_ms: 0,
        level_dbm0: -13.0,
        twist_db: 3.0,
    };
    let mut tx = DtmfTx::with_config(&cfg).unwrap();
    tx.put("1").unwrap();
    let mut x = vec![0i16; 8000];
    tx.tx(&mut x);
    let ms = |f: f32| {
        let bank = yingda_dsp::goertzel::GoertzelBank::new([f], 8000);
        bank.run(&x)[0].tone_energy(8000) / 8000.0
    };
    let low = yingda_dsp::goertzel::mean_square_to_dbm0(ms(697.0));
    let high = yingda_dsp::goertzel::mean_square_to_dbm0(ms(1209.0));
    assert!((low + 13.0).abs() < 0.2, "low {low}");
    assert!((high + 10.0).abs() < 0.2, "high {high}");
}
