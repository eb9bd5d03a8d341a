//! Time for the Whisper log-mel front end on one thread: a trimmed 4.5 s utterance (the
//! recogniser's case), Whisper's full 30 s window, and the same 4.5 s streamed in 20 ms
//! packets through `MelStream`. Each is run [`ROUNDS`] times; the best and the median
//! count.
//!
//! Run with `cargo bench -p yingda-speech --bench mel_front_end`. Prints numbers, asserts
//! none.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use yingda_speech::mel::{Fit, MelFrontEnd, MelStream, SAMPLE_RATE};

const ROUNDS: usize = 15;

/// Speech-like test audio: a gliding tone over xorshift noise, 16 kHz i16.
fn audio(seconds: f32) -> Vec<i16> {
    let n = (seconds * SAMPLE_RATE as f32) as usize;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            let t = i as f32 / SAMPLE_RATE as f32;
            let glide = (2.0 * std::f32::consts::PI * (200.0 + 300.0 * t) * t).sin();
            (8000.0 * glide + 3000.0 * noise) as i16
        })
        .collect()
}

/// Best and median of `ROUNDS` runs of `f`, in ms.
fn time(mut f: impl FnMut()) -> (f64, f64) {
    let mut ms: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    (ms[0], ms[ROUNDS / 2])
}

fn main() {
    let front = Arc::new(MelFrontEnd::new());
    let short = audio(4.5);
    let long = audio(30.0);

    println!("Whisper log-mel front end, one thread, best / median of {ROUNDS} runs");
    let (best, median) = time(|| {
        black_box(front.log_mel(black_box(&short[..])).ok());
    });
    println!(
        "  4.5 s trimmed (450 frames):         {best:7.3} ms / {median:7.3} ms  ({:.1} µs per frame)",
        best * 1e3 / 450.0
    );
    let (best, median) = time(|| {
        black_box(
            front
                .log_mel_fit(black_box(&long[..]), Fit::WHISPER_30S)
                .ok(),
        );
    });
    println!(
        "  30 s window (3000 frames):          {best:7.3} ms / {median:7.3} ms  ({:.1} µs per frame)",
        best * 1e3 / 3000.0
    );
    let (best, median) = time(|| {
        black_box(
            front
                .log_mel_fit(black_box(&short[..]), Fit::WHISPER_30S)
                .ok(),
        );
    });
    println!("  4.5 s padded to 30 s (3000 frames): {best:7.3} ms / {median:7.3} ms");
    let mut stream = MelStream::new(Arc::clone(&front), Fit::WHOLE);
    let (best, median) = time(|| {
        for packet in short.chunks(320) {
            stream.push(black_box(packet));
        }
        black_box(stream.finish().ok());
    });
    println!("  4.5 s streamed in 20 ms packets:    {best:7.3} ms / {median:7.3} ms");
}
