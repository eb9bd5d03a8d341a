//! The simulated exchange as the box sees it through the HAL: ring cadence, caller ID,
//! supervision tones, echo, polarity and loop-current events, outbound routing. Signals are
//! checked with the same DSP receivers the line engine uses (which are themselves tested
//! against spandsp).

use std::sync::Arc;

use yingda_dsp::callerid::CallerIdRx;
use yingda_dsp::dtmf::DtmfTx;
use yingda_dsp::dtmf_cid::DtmfCidDecoder;
use yingda_dsp::g711;
use yingda_dsp::tones::{ChinaTone, ToneDetector, ToneEvent};
use yingda_hal::{
    AudioFrame, Channel, Clock, ErrorKind, HookCommand, Law, LineEvent, ManualClock, Span,
    FRAME_SAMPLES,
};
use yingda_hal_sim::{
    CallScript, Callee, CallerId, CidFormat, CoEvent, LineProfile, SimConfig, SimHandle, SimSpan,
};

fn card(profile: LineProfile) -> (SimSpan, SimHandle, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(0));
    let cfg = SimConfig {
        ports: 2,
        profile,
        ..SimConfig::default()
    };
    let (span, handle) = SimSpan::new(cfg, clock.clone()).unwrap();
    (span, handle, clock)
}

/// Tick once; return channel 1's events and received linear audio; send `tx` (linear).
fn step(span: &mut SimSpan, tx: &[i16; FRAME_SAMPLES]) -> (Vec<LineEvent>, [i16; FRAME_SAMPLES]) {
    span.wait_tick().unwrap();
    let ch = &mut span.channels_mut()[0];
    let mut events = Vec::new();
    while let Some(e) = ch.poll_event().unwrap() {
        events.push(e);
    }
    let mut frame: AudioFrame = [0; FRAME_SAMPLES];
    ch.read_frame(&mut frame).unwrap();
    let mut rx = [0i16; FRAME_SAMPLES];
    g711::decode(Law::Alaw, &frame, &mut rx);
    let mut out: AudioFrame = [0; FRAME_SAMPLES];
    g711::encode(Law::Alaw, tx, &mut out);
    ch.write_frame(&out).unwrap();
    (events, rx)
}

const SILENT: [i16; FRAME_SAMPLES] = [0; FRAME_SAMPLES];

#[test]
fn rings_with_the_china_cadence() {
    let (mut span, handle, clock) = card(LineProfile::default());
    handle.place_call(1, CallScript::new()).unwrap();
    let mut edges = Vec::new();
    for _ in 0..(16_000 / 20) {
        let (events, _) = step(&mut span, &SILENT);
        edges.extend(events.into_iter().map(|e| (clock.now(), e)));
    }
    let want: Vec<(u64, LineEvent)> = [0, 5000, 10_000, 15_000]
        .iter()
        .flat_map(|&t| [(t + 20, LineEvent::RingOn), (t + 1020, LineEvent::RingOff)])
        .filter(|(t, _)| *t <= 16_000)
        .collect();
    assert_eq!(edges, want);
}

#[test]
fn dtmf_caller_id_arrives_before_the_first_ring() {
    let (mut span, handle, _clock) = card(LineProfile::default());
    handle
        .place_call(
            1,
            CallScript::new().caller_id(CallerId::number(CidFormat::Dtmf, "13800138000")),
        )
        .unwrap();
    let mut dec = DtmfCidDecoder::new();
    let mut got = None;
    loop {
        let (events, rx) = step(&mut span, &SILENT);
        if events.contains(&LineEvent::RingOn) {
            break;
        }
        dec.rx(&rx, |r| got = Some(r));
    }
    let cid = got.expect("caller ID before ring 1").unwrap();
    assert_eq!(cid.number.as_str(), "13800138000");
}

#[test]
fn fsk_caller_id_arrives_between_ring_one_and_two_in_both_standards() {
    for (format, bell) in [(CidFormat::FskV23, false), (CidFormat::FskBell202, true)] {
        let (mut span, handle, _clock) = card(LineProfile::default());
        let cid = CallerId {
            name: Some("LI SI".into()),
            ..CallerId::number(format, "02088886666")
        };
        handle
            .place_call(1, CallScript::new().caller_id(cid))
            .unwrap();
        let mut rx_cid = CallerIdRx::new();
        let (mut rings, mut got) = (0, None);
        while rings < 2 {
            let (events, rx) = step(&mut span, &SILENT);
            rings += events.iter().filter(|e| **e == LineEvent::RingOn).count();
            if rings == 1 {
                rx_cid.rx(&rx, |m| got = Some(m));
            }
        }
        let m = got.expect("caller ID between rings").unwrap();
        assert_eq!(m.info.number.as_deref(), Some("02088886666"));
        assert_eq!(m.info.name_str(), Some("LI SI"));
        assert_eq!(m.standard == yingda_dsp::fsk::FskStandard::Bell202, bell);
    }
}

fn answer(span: &mut SimSpan) -> Vec<LineEvent> {
    span.channels_mut()[0]
        .set_hook(HookCommand::OffHook)
        .unwrap();
    step(span, &SILENT).0
}

#[test]
fn far_end_hang_up_gives_busy_tone_and_optional_supervision() {
    let profile = LineProfile {
        polarity_on_answer: true,
        polarity_on_far_hangup: true,
        loop_drop_on_far_hangup: true,
        ..LineProfile::default()
    };
    let (mut span, handle, _clock) = card(profile);
    handle
        .place_call(1, CallScript::new().wait(1000).hang_up())
        .unwrap();
    step(&mut span, &SILENT);
    let events = answer(&mut span);
    assert!(
        events.contains(&LineEvent::HookComplete(HookCommand::OffHook)),
        "{events:?}"
    );
    assert!(
        events.contains(&LineEvent::PolarityReversal),
        "answer supervision: {events:?}"
    );
    let mut det = ToneDetector::new();
    let (mut supervision, mut busy) = (Vec::new(), None);
    for _ in 0..(5000 / 20) {
        let (events, rx) = step(&mut span, &SILENT);
        supervision.extend(events);
        det.rx(&rx, |e| {
            if let ToneEvent::Detected { tone, cycles, .. } = e {
                busy.get_or_insert((tone, cycles));
            }
        });
    }
    assert_eq!(
        supervision,
        [LineEvent::PolarityReversal, LineEvent::LoopCurrentDrop]
    );
    assert_eq!(
        busy,
        Some((ChinaTone::Busy, 4)),
        "busy tone 350/350 after hang-up"
    );
    let log: Vec<CoEvent> = handle.take_log().into_iter().map(|(_, _, e)| e).collect();
    assert!(
        log.contains(&CoEvent::FarEndHungUp) && log.contains(&CoEvent::BusyTone),
        "{log:?}"
    );
}

#[test]
fn hybrid_echo_has_the_configured_delay_and_loss() {
    let profile = LineProfile {
        echo_delay_ms: Some(10),
        echo_loss_db: 12.0,
        ..LineProfile::default()
    };
    let (mut span, handle, _clock) = card(profile);
    handle
        .place_call(1, CallScript::new().wait(60_000))
        .unwrap();
    step(&mut span, &SILENT);
    answer(&mut span);
    // Send one impulse-like burst and look for it in what comes back.
    let mut burst = SILENT;
    burst[0] = 16000;
    let mut back = Vec::new();
    back.extend_from_slice(&step(&mut span, &burst).1);
    for _ in 0..3 {
        back.extend_from_slice(&step(&mut span, &SILENT).1);
    }
    // The frame sent at tick n reaches the exchange at tick n+1, so the echo appears one
    // frame (160 samples) plus the 10 ms (80 samples) echo delay after the burst was written.
    let (at, peak) = back
        .iter()
        .enumerate()
        .max_by_key(|(_, s)| s.unsigned_abs())
        .unwrap();
    assert_eq!(at, 160 + 80, "echo delay");
    // Main tap 0.6 of the burst after 12 dB loss (x0.251): about 2400, A-law quantised.
    assert!(
        (2200..=2600).contains(&i32::from(*peak)),
        "echo level {peak}"
    );
}

#[test]
fn outbound_call_dial_tone_dtmf_digits_and_busy_callee() {
    let (mut span, handle, _clock) = card(LineProfile::default());
    handle.set_callee("8008", Callee::Busy);
    span.channels_mut()[0]
        .set_hook(HookCommand::OffHook)
        .unwrap();
    let mut det = ToneDetector::new();
    let mut tones = Vec::new();
    let mut dtmf = DtmfTx::new();
    for i in 0..(12_000 / 20) {
        if i == 100 {
            dtmf.put("8008").unwrap();
        }
        let mut tx = SILENT;
        dtmf.tx(&mut tx);
        let (_, rx) = step(&mut span, &tx);
        det.rx(&rx, |e| {
            if let ToneEvent::Detected { tone, .. } = e {
                tones.push(tone);
            }
        });
    }
    assert_eq!(tones, [ChinaTone::Dial, ChinaTone::Busy]);
    let log: Vec<CoEvent> = handle.take_log().into_iter().map(|(_, _, e)| e).collect();
    assert!(log.contains(&CoEvent::Dialled("8008".into())), "{log:?}");
    assert!(log.contains(&CoEvent::CalleeBusy("8008".into())), "{log:?}");
}

#[test]
fn bad_requests_are_clear_errors() {
    let (_span, handle, _clock) = card(LineProfile::default());
    let e = handle.place_call(9, CallScript::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("channel 9"), "{e}");
    let long = CallerId::number(CidFormat::FskV23, &"1".repeat(40));
    let e = handle
        .place_call(1, CallScript::new().caller_id(long))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    let e = SimSpan::new(
        SimConfig {
            ports: 0,
            ..SimConfig::default()
        },
        Arc::new(ManualClock::new(0)),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
}

#[test]
fn a_caller_script_plays_a_wav_file_to_the_box() {
    let dir = std::env::temp_dir().join(format!("yingda-sim-wav-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tone: Vec<i16> = (0..8000)
        .map(|i| ((i as f32 * 0.3).sin() * 8000.0) as i16)
        .collect();
    let path = dir.join("hello.wav");
    std::fs::write(
        &path,
        yingda_dsp::wav::write(8000, yingda_dsp::wav::Encoding::G711(Law::Alaw), &tone),
    )
    .unwrap();
    let (mut span, handle, _clock) = card(LineProfile::default());
    handle
        .place_call(1, CallScript::new().play_wav(&path).unwrap())
        .unwrap();
    step(&mut span, &SILENT);
    answer(&mut span);
    let mut heard = Vec::new();
    for _ in 0..50 {
        heard.extend_from_slice(&step(&mut span, &SILENT).1);
    }
    let loud = heard.iter().filter(|s| s.unsigned_abs() > 4000).count();
    assert!(loud > 2000, "the WAV reached the box: {loud}");
    let e = CallScript::new()
        .play_wav(&dir.join("missing.wav"))
        .unwrap_err();
    assert!(e.contains("missing.wav"), "{e}");
    std::fs::write(
        &path,
        yingda_dsp::wav::write(16000, yingda_dsp::wav::Encoding::Pcm16, &tone),
    )
    .unwrap();
    assert!(CallScript::new()
        .play_wav(&path)
        .unwrap_err()
        .contains("16000 Hz"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hanging_up_during_a_flash_completes_no_flash() {
    let (mut span, handle, _clock) = card(LineProfile::default());
    handle
        .place_call(1, CallScript::new().wait(60_000))
        .unwrap();
    step(&mut span, &SILENT);
    answer(&mut span);
    span.channels_mut()[0].set_hook(HookCommand::Flash).unwrap();
    step(&mut span, &SILENT);
    span.channels_mut()[0]
        .set_hook(HookCommand::OnHook)
        .unwrap();
    let mut events = Vec::new();
    for _ in 0..50 {
        events.extend(step(&mut span, &SILENT).0);
    }
    assert_eq!(events, [LineEvent::HookComplete(HookCommand::OnHook)]);
    let log: Vec<CoEvent> = handle.take_log().into_iter().map(|(_, _, e)| e).collect();
    assert!(!log.contains(&CoEvent::HookFlash), "{log:?}");
}

#[test]
fn a_caller_awaiting_the_reply_answers_only_after_the_box_falls_quiet() {
    let (mut span, handle, clock) = card(LineProfile::default());
    handle
        .place_call(1, CallScript::new().await_reply(600, 20_000).digits("5"))
        .unwrap();
    step(&mut span, &SILENT);
    answer(&mut span);
    let _ = handle.take_log();
    let answered = clock.now();
    let tone: [i16; FRAME_SAMPLES] =
        std::array::from_fn(|i| (3000.0 * (i as f32 * 0.5).sin()) as i16);
    // The box is silent for 1 s (thinking), talks for 2 s, then stays quiet.
    let mut sent_at = None;
    for n in 0..400u64 {
        let t = n * 20;
        let tx = if (1000..3000).contains(&t) {
            tone
        } else {
            SILENT
        };
        step(&mut span, &tx);
        if sent_at.is_none()
            && handle
                .take_log()
                .iter()
                .any(|(_, _, e)| matches!(e, CoEvent::DigitsSent(_)))
        {
            sent_at = Some(clock.now() - answered);
        }
    }
    let at = sent_at.expect("the caller pressed its key");
    assert!((3600..=3700).contains(&at), "key sent {at} ms after answer");
}

#[test]
fn a_caller_awaiting_a_reply_that_never_comes_gives_up_after_max_ms() {
    let (mut span, handle, clock) = card(LineProfile::default());
    handle
        .place_call(1, CallScript::new().await_reply(600, 2000).hang_up())
        .unwrap();
    step(&mut span, &SILENT);
    answer(&mut span);
    let answered = clock.now();
    let mut gone = None;
    for _ in 0..200 {
        step(&mut span, &SILENT);
        if gone.is_none()
            && handle
                .take_log()
                .iter()
                .any(|(_, _, e)| *e == CoEvent::FarEndHungUp)
        {
            gone = Some(clock.now() - answered);
        }
    }
    let at = gone.expect("the caller hung up");
    assert!((2000..=2100).contains(&at), "hung up {at} ms after answer");
}
