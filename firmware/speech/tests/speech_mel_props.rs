//! Behaviour of the mel front end that does not need the golden files: lengths, fits,
//! silence, where a tone lands, line audio at 8 kHz, hostile input.

use yingda_speech::mel::{
    frame_count, Fit, MelError, MelFrontEnd, HOP, MIN_SAMPLES, N_BINS, N_FRAMES_30S, N_MELS,
};

fn tone(freq: f32, rate: f32, n: usize, amp: f32) -> Vec<f32> {
    (0..n)
        .map(|i| amp * (2.0 * std::f32::consts::PI * freq * i as f32 / rate).sin())
        .collect()
}

fn to_i16(x: &[f32]) -> Vec<i16> {
    x.iter().map(|v| (v * 32767.0).round() as i16).collect()
}

/// The band whose filter weighs FFT bin `bin` most.
fn band_of_bin(front: &MelFrontEnd, bin: usize) -> usize {
    (0..N_MELS)
        .max_by(|&a, &b| {
            let fb = front.filterbank();
            fb[a * N_BINS + bin].total_cmp(&fb[b * N_BINS + bin])
        })
        .unwrap_or(0)
}

#[test]
fn n_samples_give_floor_n_over_160_frames() {
    let front = MelFrontEnd::new();
    for n in [201, 319, 320, 321, 479, 480, 16_000, 16_159, 72_000] {
        let mel = front.log_mel(&vec![0.01f32; n]).expect("long enough");
        assert_eq!(mel.frames(), n / HOP, "{n} samples");
        assert_eq!(mel.frames(), frame_count(n));
        assert_eq!(mel.as_slice().len(), N_MELS * (n / HOP));
    }
}

#[test]
fn fewer_samples_than_the_reflect_padding_is_an_error() {
    let front = MelFrontEnd::new();
    for n in [0, 1, 200] {
        assert_eq!(
            front.log_mel(&vec![0i16; n]),
            Err(MelError::TooShort {
                samples: n,
                min: MIN_SAMPLES
            })
        );
    }
    // Cutting below the minimum is the same error; padding above it is not.
    let long = vec![0.1f32; 1000];
    assert_eq!(
        front.log_mel_fit(&long, Fit::Trim { max_samples: 150 }),
        Err(MelError::TooShort {
            samples: 150,
            min: MIN_SAMPLES
        })
    );
    let padded = front
        .log_mel_fit(&long[..10], Fit::PadOrTrim { samples: 400 })
        .expect("padded to 400");
    assert_eq!(padded.frames(), 2);
}

#[test]
fn silence_is_minus_one_and_a_half_everywhere_as_in_whisper() {
    // log10(1e-10) = -10 everywhere, so the maximum is -10 and (-10 + 4) / 4 = -1.5.
    let mel = MelFrontEnd::new()
        .log_mel(&vec![0i16; 8000])
        .expect("long enough");
    assert!(mel.as_slice().iter().all(|&v| v == -1.5));
}

#[test]
fn values_span_at_most_two_and_the_loudest_is_the_top() {
    let audio = tone(440.0, 16_000.0, 16_000, 0.5);
    let mel = MelFrontEnd::new().log_mel(&audio).expect("long enough");
    let (lo, hi) = mel
        .as_slice()
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    // Clamp at max - 8 then divide by 4: a 2.0 span, hit exactly by a pure tone.
    assert!((hi - lo - 2.0).abs() < 1e-6, "span {}", hi - lo);
}

#[test]
fn a_tone_peaks_in_the_band_over_its_frequency() {
    let front = MelFrontEnd::new();
    // 40 Hz per bin: the tones sit on bins 10, 25, 75 and 150.
    for (freq, bin) in [(400.0, 10), (1000.0, 25), (3000.0, 75), (6000.0, 150)] {
        let mel = front
            .log_mel(&tone(freq, 16_000.0, 8000, 0.3))
            .expect("long enough");
        let t = mel.frames() / 2;
        let peak = (0..N_MELS)
            .max_by(|&a, &b| {
                let va = mel.get(a, t).unwrap_or(f32::MIN);
                va.total_cmp(&mel.get(b, t).unwrap_or(f32::MIN))
            })
            .unwrap_or(0);
        assert_eq!(peak, band_of_bin(&front, bin), "{freq} Hz");
    }
}

#[test]
fn pad_or_trim_pads_with_zeros_and_cuts_like_whisper() {
    let front = MelFrontEnd::new();
    let audio = to_i16(&tone(700.0, 16_000.0, 5000, 0.4));
    let mut zeros_added = audio.clone();
    zeros_added.resize(8000, 0);
    assert_eq!(
        front.log_mel_fit(&audio, Fit::PadOrTrim { samples: 8000 }),
        front.log_mel(&zeros_added)
    );
    assert_eq!(
        front.log_mel_fit(&audio, Fit::PadOrTrim { samples: 3333 }),
        front.log_mel(&audio[..3333])
    );
    assert_eq!(
        front.log_mel_fit(&audio, Fit::Trim { max_samples: 3333 }),
        front.log_mel(&audio[..3333])
    );
    // Trim never pads.
    assert_eq!(
        front.log_mel_fit(&audio, Fit::Trim { max_samples: 9000 }),
        front.log_mel(&audio)
    );
    let window = front.log_mel_fit(&audio, Fit::WHISPER_30S).expect("30 s");
    assert_eq!(window.frames(), N_FRAMES_30S);
}

#[test]
fn i16_input_is_scaled_by_1_over_32768() {
    let front = MelFrontEnd::new();
    let ints = to_i16(&tone(1200.0, 16_000.0, 4000, 0.7));
    let floats: Vec<f32> = ints.iter().map(|&s| f32::from(s) / 32768.0).collect();
    assert_eq!(front.log_mel(&ints), front.log_mel(&floats));
    let doubled: Vec<f32> = floats.iter().map(|s| s * 2.0).collect();
    assert_ne!(front.log_mel(&ints), front.log_mel(&doubled));
}

#[test]
fn line_audio_at_8k_gives_the_16k_spectrum_below_3_4khz() {
    let front = MelFrontEnd::new();
    let n8 = 8000;
    let line = to_i16(&tone(1000.0, 8000.0, n8, 0.3));
    let wide = to_i16(&tone(1000.0, 16_000.0, 2 * n8, 0.3));
    let from_line = front.from_line_8k(&line).expect("long enough");
    let native = front.log_mel(&wide).expect("long enough");
    assert_eq!(from_line.frames(), n8 / 80);
    assert_eq!(from_line.frames(), native.frames());
    // Bands wholly below the resampler's 3.4 kHz passband edge (bin 85), away from the
    // start-up frames: the interpolator is flat to 0.01 dB there, i.e. 0.0003 in these
    // units; 0.01 leaves room for i16 rounding of a different waveform.
    let fb = front.filterbank();
    let below: Vec<usize> = (0..N_MELS)
        .filter(|&m| {
            fb[m * N_BINS + 85..(m + 1) * N_BINS]
                .iter()
                .all(|&w| w == 0.0)
        })
        .collect();
    assert!(below.len() > 40);
    for &m in &below {
        for t in 2..from_line.frames() - 2 {
            let (a, b) = (from_line.get(m, t), native.get(m, t));
            let d = (a.unwrap_or(f32::NAN) - b.unwrap_or(0.0)).abs();
            assert!(d < 0.01, "band {m} frame {t}: {a:?} vs {b:?}");
        }
    }
}

#[test]
fn line_audio_stays_aligned_in_time() {
    // A click at 8 kHz sample k must peak in the frame centred nearest 16 kHz sample 2k
    // (2k is 60 samples past a frame centre for most k here, so a 31-sample lag would
    // move the peak to the next frame):
    // the interpolator's 31-sample delay is taken out.
    let front = MelFrontEnd::new();
    for k in [830usize, 1630, 2430, 3030] {
        let mut line = vec![0i16; 4000];
        line[k] = 20_000;
        let mel = front.from_line_8k(&line).expect("long enough");
        let energy = |t: usize| -> f32 { (0..40).map(|m| mel.get(m, t).unwrap_or(-2.0)).sum() };
        let peak = (0..mel.frames())
            .max_by(|&a, &b| energy(a).total_cmp(&energy(b)))
            .unwrap_or(0);
        assert_eq!(peak, (2 * k + HOP / 2) / HOP, "click at {k}");
    }
}

#[test]
fn hostile_samples_do_not_panic() {
    let front = MelFrontEnd::new();
    let mut audio = tone(500.0, 16_000.0, 2000, 0.5);
    audio[700] = f32::NAN;
    audio[900] = f32::INFINITY;
    audio[1100] = f32::MIN;
    let mel = front.log_mel(&audio).expect("long enough");
    assert_eq!(mel.frames(), 12);
    let extremes = [i16::MIN, i16::MAX].repeat(1000);
    let mel = front.log_mel(&extremes).expect("long enough");
    assert!(mel.as_slice().iter().all(|v| v.is_finite()));
}

#[test]
fn accessors_answer_none_out_of_range() {
    let mel = MelFrontEnd::new()
        .log_mel(&vec![0.1f32; 1600])
        .expect("long enough");
    assert_eq!(mel.frames(), 10);
    assert!(mel.get(N_MELS - 1, 9).is_some());
    assert_eq!(mel.get(N_MELS, 0), None);
    assert_eq!(mel.get(0, 10), None);
    assert_eq!(mel.band(N_MELS), None);
    assert_eq!(mel.band(3).map(<[f32]>::len), Some(10));
    assert_eq!(mel.into_vec().len(), N_MELS * 10);
}
