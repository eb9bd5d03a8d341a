//! µs per 20 ms line frame for EarshotVad (8 → 16 kHz upsampling, re-blocking, tone gate
//! and network), and how many calls' frames one core keeps up with. Prints numbers only.

use std::hint::black_box;
use std::time::Instant;
use yingda_speech::vad::{EarshotVad, Vad, FRAME_MS, FRAME_SAMPLES};

fn main() {
    let mut audio =
        yingda_testpeers::espeak_8k("en", "I would like to report a lost credit card, please");
    audio.extend(yingda_testpeers::espeak_8k(
        "cmn-latn-pinyin",
        "wo3 xiang3 gua4 hao4 kou3 qiang1 ke1",
    ));
    let frames: Vec<&[i16]> = audio.chunks_exact(FRAME_SAMPLES).collect();
    let mut vad = EarshotVad::new();
    for f in &frames {
        black_box(vad.process(f).ok());
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let n = 20 * frames.len();
        let t = Instant::now();
        for f in frames.iter().cycle().take(n) {
            black_box(vad.process(black_box(f)).ok());
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    let per_core = f64::from(FRAME_MS) * 1000.0 / best;
    println!("EarshotVad: {best:.1} µs per 20 ms frame (best of 5 runs), {per_core:.0} real-time streams per core");
}
