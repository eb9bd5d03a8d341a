//! EarshotVad contract: frame length, reset, configuration, trait object.

use yingda_speech::vad::{EarshotVad, EarshotVadConfig, Vad, VadError, FRAME_SAMPLES};

fn chirp(n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = i as f32 / 8000.0;
            (6000.0 * (2.0 * std::f32::consts::PI * (200.0 + 400.0 * t) * t).sin()) as i16
        })
        .collect()
}

fn probs(v: &mut dyn Vad, s: &[i16]) -> Vec<f32> {
    s.chunks_exact(FRAME_SAMPLES)
        .map(|f| v.process(f).expect("frame").probability)
        .collect()
}

#[test]
fn wrong_frame_lengths_are_errors_and_change_nothing() {
    let s = chirp(8000);
    let mut a = EarshotVad::new();
    let mut b = EarshotVad::new();
    for (i, f) in s.chunks_exact(FRAME_SAMPLES).enumerate() {
        for bad in [0, 1, 159, 161, 320] {
            let junk = vec![1234i16; bad];
            assert_eq!(b.process(&junk), Err(VadError::FrameLength { got: bad }));
        }
        assert_eq!(a.process(f), b.process(f), "frame {i}");
    }
}

#[test]
fn reset_gives_the_same_output_as_a_new_detector() {
    let s = chirp(16000);
    let mut v = EarshotVad::new();
    let first = probs(&mut v, &s);
    // Stop mid-way through the 80 ms re-blocking cycle, then reset.
    probs(&mut v, &s[..FRAME_SAMPLES * 3]);
    v.reset();
    assert_eq!(probs(&mut v, &s), first);
    assert!(first.iter().all(|p| (0.0..=1.0).contains(p)));
}

#[test]
fn digital_silence_and_full_scale_junk_do_not_panic() {
    let mut v = EarshotVad::new();
    for f in [
        [0i16; FRAME_SAMPLES],
        [i16::MAX; FRAME_SAMPLES],
        [i16::MIN; FRAME_SAMPLES],
    ] {
        for _ in 0..20 {
            let r = v.process(&f).expect("frame");
            assert!((0.0..=1.0).contains(&r.probability));
        }
    }
    v.reset();
    let r = (0..50).map(|_| v.process(&[0; FRAME_SAMPLES]).expect("frame"));
    assert!(r.into_iter().all(|d| !d.speech), "silence called speech");
}

#[test]
fn thresholds_are_validated() {
    assert_eq!(EarshotVadConfig::default().validate(), Ok(()));
    for (onset, release) in [
        (0.0, 0.0),
        (1.0, 0.5),
        (0.5, -0.1),
        (f32::NAN, 0.3),
        (0.5, f32::NAN),
    ] {
        assert!(
            matches!(
                EarshotVad::with_config(EarshotVadConfig { onset, release }),
                Err(VadError::Threshold { .. })
            ),
            "{onset} {release}"
        );
    }
    assert!(matches!(
        EarshotVad::with_config(EarshotVadConfig {
            onset: 0.4,
            release: 0.5
        }),
        Err(VadError::Hysteresis { .. })
    ));
    let c = EarshotVadConfig {
        onset: 0.7,
        release: 0.7,
    };
    assert_eq!(EarshotVad::with_config(c).map(|v| v.config()), Ok(c));
}

#[test]
fn hysteresis_holds_the_decision_between_thresholds() {
    // Same audio, two threshold pairs with the same onset: the wider release band can only
    // keep speech on longer, and must do so somewhere on loud noise that fades out (the
    // network scores white noise at -20 dBm0 about 0.5-0.8).
    let mut seed = 12345u32;
    let s: Vec<i16> = (0..24000)
        .map(|i| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let fade = if i < 8000 {
                1.0
            } else {
                1.0 - (i - 8000) as f32 / 16000.0
            };
            (f32::from((seed >> 16) as u16 as i16) * 0.1 * fade) as i16
        })
        .collect();
    let run = |release| {
        let mut v = EarshotVad::with_config(EarshotVadConfig {
            onset: 0.6,
            release,
        })
        .expect("cfg");
        s.chunks_exact(FRAME_SAMPLES)
            .map(|f| v.process(f).expect("frame"))
            .collect::<Vec<_>>()
    };
    let (narrow, wide) = (run(0.59), run(0.1));
    for (n, w) in narrow.iter().zip(&wide) {
        assert_eq!(n.probability, w.probability);
        assert!(!n.speech || w.speech);
    }
    let extra = narrow
        .iter()
        .zip(&wide)
        .filter(|(n, w)| w.speech && !n.speech)
        .count();
    println!("frames held by the wider band: {extra}");
    assert!(extra > 0);
}

#[test]
fn vad_is_an_object_safe_send_trait() {
    fn assert_send<T: Send>(_: &T) {}
    let v: Box<dyn Vad> = Box::new(EarshotVad::new());
    assert_send(&v);
    assert_eq!(v.latency_ms(), 20);
}
