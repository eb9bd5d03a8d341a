//! `MelStream` against the batch front end: any chunking of any audio, under any fit,
//! gives the same matrix bit for bit, and frames come out as soon as they are computable.

use std::sync::Arc;

use proptest::prelude::*;
use yingda_speech::mel::{Fit, LogMel, MelError, MelFrontEnd, MelStream, HOP, MIN_SAMPLES};

/// Frames a stream must have ready after `n` samples: frame t needs samples up to
/// 160·t + 200 (the window's right half) and the reflect padding needs 201.
fn ready_after(n: usize) -> usize {
    if n < MIN_SAMPLES {
        0
    } else {
        (n - MIN_SAMPLES + 1) / HOP + 1
    }
}

fn fit_strategy() -> impl Strategy<Value = Fit> {
    prop_oneof![
        Just(Fit::WHOLE),
        (0usize..2500).prop_map(|max_samples| Fit::Trim { max_samples }),
        (0usize..2500).prop_map(|samples| Fit::PadOrTrim { samples }),
    ]
}

/// Audio with a loud and a quiet part, so the clamp at max − 8 bites somewhere.
fn audio_strategy() -> impl Strategy<Value = Vec<i16>> {
    (
        prop::collection::vec(any::<i16>(), 0..2400),
        0usize..2400,
        0u32..12,
    )
        .prop_map(|(mut v, quiet_from, shift)| {
            for s in v.iter_mut().skip(quiet_from) {
                *s >>= shift;
            }
            v
        })
}

/// Checks that `result`'s first frames were computed from `raw` (the stream's early
/// output) by Whisper's clamp and scaling.
fn assert_built_from(raw: &[[f32; 80]], result: &LogMel) {
    let lowest = result
        .as_slice()
        .iter()
        .fold(f32::INFINITY, |m, &v| m.min(v));
    for (t, frame) in raw.iter().enumerate() {
        for (m, &r) in frame.iter().enumerate() {
            let got = result.get(m, t).expect("frame in range");
            if got > lowest {
                assert_eq!(got, (r + 4.0) / 4.0, "band {m} frame {t}");
            } else {
                assert!((r + 4.0) / 4.0 <= lowest + 1e-6, "band {m} frame {t}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn stream_equals_batch_over_random_chunkings(
        audio in audio_strategy(),
        cuts in prop::collection::vec(1usize..700, 1..40),
        fit in fit_strategy(),
    ) {
        let front = Arc::new(MelFrontEnd::new());
        let batch = front.log_mel_fit(&audio, fit);
        let mut stream = MelStream::new(Arc::clone(&front), fit);
        let mut rest = &audio[..];
        let mut cut = cuts.iter().cycle();
        let mut earlier: Vec<[f32; 80]> = Vec::new();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap_or(&1)).min(rest.len());
            let before = stream.samples();
            let taken = stream.push(&rest[..n]);
            let limit = match fit {
                Fit::Trim { max_samples } => max_samples,
                Fit::PadOrTrim { samples } => samples,
                _ => usize::MAX,
            };
            prop_assert_eq!(taken, n.min(limit - before));
            prop_assert_eq!(stream.raw_frames().len(), ready_after(stream.samples()));
            // Frames once out never change.
            prop_assert_eq!(&stream.raw_frames()[..earlier.len()], &earlier[..]);
            earlier = stream.raw_frames().to_vec();
            rest = &rest[n..];
        }
        let streamed = stream.finish();
        prop_assert_eq!(&streamed, &batch);
        if let Ok(result) = &streamed {
            assert_built_from(&earlier, result);
        }
        // The stream is empty again and serves the next utterance the same way.
        prop_assert_eq!(stream.samples(), 0);
        stream.push(&audio);
        prop_assert_eq!(stream.finish(), batch);
    }
}

#[test]
fn a_frame_is_out_once_the_samples_past_its_centre_are_in() {
    let front = Arc::new(MelFrontEnd::new());
    let mut stream = MelStream::new(front, Fit::WHOLE);
    let one = [1000i16];
    let mut first_at = Vec::new();
    for n in 1..=1000usize {
        let before = stream.raw_frames().len();
        stream.push(&one);
        if stream.raw_frames().len() > before {
            first_at.push(n);
        }
    }
    // Frame 0 needs x[0..200] and x[200] for the reflection; then one frame per hop.
    assert_eq!(first_at, [201, 360, 520, 680, 840, 1000]);
}

#[test]
fn finishing_too_short_a_stream_is_an_error_and_leaves_it_usable() {
    let front = Arc::new(MelFrontEnd::new());
    let mut stream = MelStream::new(Arc::clone(&front), Fit::WHOLE);
    stream.push(&[0.25f32; 200]);
    assert_eq!(
        stream.finish(),
        Err(MelError::TooShort {
            samples: 200,
            min: MIN_SAMPLES
        })
    );
    let audio: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.3).sin() * 0.1).collect();
    stream.push(&audio);
    assert_eq!(stream.finish(), front.log_mel(&audio));
}
