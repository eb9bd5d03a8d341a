//! `LocalLine`/`LocalSpan` end to end over alsa-lib's `file` plugins: the headset's microphone
//! is a prepared file, its earpiece another file; the test plays the IVR's part.

mod common;

use common::{alsa_test_dir, from_bytes, to_bytes, tone};
use yingda_dsp::g711;
use yingda_hal::{
    AudioFrame, Channel, ErrorKind, HookCommand, Law, LineEvent, Span, FRAME_SAMPLES,
};
use yingda_hal_alsa::{AlsaDevice, LocalLine, LocalSpan};

const IDLE_BEFORE: usize = 5;
const CONNECTED: usize = 10;
const IDLE_AFTER: usize = 3;

fn events(span: &mut LocalSpan<AlsaDevice>) -> Vec<LineEvent> {
    let mut v = Vec::new();
    while let Some(e) = span.channels_mut()[0].poll_event().unwrap() {
        v.push(e);
    }
    v
}

#[test]
fn engineer_calls_the_ivr_from_the_headset() {
    let law = Law::Alaw;
    let dir = alsa_test_dir();
    let total = IDLE_BEFORE + CONNECTED + IDLE_AFTER;
    // What the engineer says: a tone the IVR should hear, G.711-coded, while connected.
    let mic: Vec<i16> = tone(0, total * FRAME_SAMPLES, 9000.0);
    std::fs::write(dir.join("capture.raw"), to_bytes(&mic)).unwrap();
    // What the IVR plays: a different tone, every frame of it coded in the line's law.
    let ivr: Vec<i16> = tone(3, total * FRAME_SAMPLES, 15000.0);

    let device = AlsaDevice::open("yingda_capture", "yingda_play").unwrap();
    let line = LocalLine::new(device, 9, law);
    let handle = line.handle();
    let mut span = LocalSpan::new("local", line);
    assert_eq!(span.name(), "local");
    let info = span.channels_mut()[0].info().clone();
    assert_eq!(
        (info.number, info.law, info.signalling),
        (9, law, yingda_hal::Signalling::Local)
    );

    let tick = |span: &mut LocalSpan<AlsaDevice>, k: usize| -> AudioFrame {
        span.wait_tick().unwrap();
        let ch = &mut span.channels_mut()[0];
        let mut rx = [0u8; FRAME_SAMPLES];
        ch.read_frame(&mut rx).unwrap();
        let mut tx = [0u8; FRAME_SAMPLES];
        g711::encode(
            law,
            &ivr[k * FRAME_SAMPLES..(k + 1) * FRAME_SAMPLES],
            &mut tx,
        );
        ch.write_frame(&tx).unwrap();
        rx
    };

    // Handset down: nothing happens on the line, the IVR hears silence.
    for k in 0..IDLE_BEFORE {
        let rx = tick(&mut span, k);
        assert!(
            rx.iter().all(|&c| c == g711::silence(law)),
            "frame {k} before lift"
        );
    }
    assert!(events(&mut span).is_empty());

    // Lift: one ring, the IVR answers.
    handle.lift();
    handle.lift(); // a second press while lifted changes nothing
    assert!(handle.lifted());
    assert_eq!(events(&mut span), [LineEvent::RingOn, LineEvent::RingOff]);
    span.channels_mut()[0]
        .set_hook(HookCommand::OffHook)
        .unwrap();
    assert_eq!(
        events(&mut span),
        [LineEvent::HookComplete(HookCommand::OffHook)]
    );

    // Connected: the IVR hears the microphone through the law.
    for k in IDLE_BEFORE..IDLE_BEFORE + CONNECTED {
        let rx = tick(&mut span, k);
        let mut want = [0u8; FRAME_SAMPLES];
        g711::encode(
            law,
            &mic[k * FRAME_SAMPLES..(k + 1) * FRAME_SAMPLES],
            &mut want,
        );
        assert_eq!(rx, want, "connected frame {k}");
    }

    // Hang up: loop current drops, the IVR goes on hook.
    handle.hang_up();
    assert_eq!(events(&mut span), [LineEvent::LoopCurrentDrop]);
    span.channels_mut()[0]
        .set_hook(HookCommand::OnHook)
        .unwrap();
    assert_eq!(
        events(&mut span),
        [LineEvent::HookComplete(HookCommand::OnHook)]
    );
    let e = span.channels_mut()[0]
        .set_hook(HookCommand::Flash)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    for k in IDLE_BEFORE + CONNECTED..total {
        let rx = tick(&mut span, k);
        assert!(
            rx.iter().all(|&c| c == g711::silence(law)),
            "frame {k} after hang-up"
        );
    }
    assert_eq!(span.status().slips, 0);
    assert!(!span.status().alarm);
    span.channels_mut()[0].device_mut().drain().unwrap();
    drop(span);

    // The earpiece got silence, then exactly the IVR's coded audio, then silence.
    let played = from_bytes(&std::fs::read(dir.join("played.raw")).unwrap());
    assert_eq!(played.len(), total * FRAME_SAMPLES);
    for k in 0..total {
        let got = &played[k * FRAME_SAMPLES..(k + 1) * FRAME_SAMPLES];
        let connected = (IDLE_BEFORE..IDLE_BEFORE + CONNECTED).contains(&k);
        let mut want = ivr[k * FRAME_SAMPLES..(k + 1) * FRAME_SAMPLES].to_vec();
        if connected {
            g711::round_trip(law, &mut want);
        } else {
            want.fill(0);
        }
        assert_eq!(got, &want[..], "played frame {k}");
    }
}
