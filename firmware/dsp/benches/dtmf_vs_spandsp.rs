//! Throughput of `DtmfRx` against spandsp's `dtmf_rx` on the same audio.
//!
//! The audio is a minute and more of spandsp-generated digits, espeak-ng speech and
//! Gaussian-ish noise, A-law round-tripped, written to a temporary file. spandsp's receiver
//! runs in a C peer that times itself with `clock_gettime`; ours is timed here. Both feed
//! 160-sample frames to a fresh receiver per pass. Run with
//! `cargo bench -p yingda-dsp --bench dtmf_vs_spandsp`.

use std::time::Instant;

use yingda_dsp::dtmf::DtmfRx;
use yingda_dsp::{g711, Law};

const REPS: usize = 20;

fn audio() -> Vec<i16> {
    let gen = yingda_testpeers::build("spandsp_dtmf_tx", &[], &["-lspandsp"]);
    let digits = yingda_testpeers::i16_samples(&yingda_testpeers::run(
        &gen,
        &["0123456789*#ABCD", "-12", "0", "60", "60", "-40"],
    ));
    let speech = yingda_testpeers::espeak_8k(
        "en",
        "Thank you for calling. Please enter your account number followed by the hash key. \
         If you know the extension of the person you are calling, you may dial it at any time.",
    );
    let mut x = Vec::new();
    let mut seed = 12345u32;
    while x.len() < 8000 * 75 {
        x.extend_from_slice(&speech);
        x.extend_from_slice(&digits);
    }
    for s in &mut x {
        // Sum of four uniforms: roughly Gaussian noise near −45 dBm0.
        let mut n = 0i32;
        for _ in 0..4 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            n += ((seed >> 16) as i32 & 0xFF) - 128;
        }
        *s = s.saturating_add((n / 2) as i16);
    }
    g711::round_trip(Law::Alaw, &mut x);
    x
}

fn main() {
    let x = audio();
    let path = std::env::temp_dir().join(format!("yingda-dtmf-bench-{}.raw", std::process::id()));
    let bytes: Vec<u8> = x.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(&path, bytes).expect("write bench audio");

    let peer = yingda_testpeers::build("spandsp_dtmf_rx", &[], &["-lspandsp"]);
    let out = yingda_testpeers::run(
        &peer,
        &[path.to_str().expect("utf-8 temp path"), &REPS.to_string()],
    );
    let _ = std::fs::remove_file(&path);
    let out = String::from_utf8_lossy(&out);
    let mut f = out.split_whitespace();
    let ns: f64 = f.next().and_then(|v| v.parse().ok()).expect("ns");
    let n: f64 = f.next().and_then(|v| v.parse().ok()).expect("samples");
    let theirs = f.next().unwrap_or("").to_string();

    let mut ours = String::new();
    let t = Instant::now();
    for _ in 0..REPS {
        let mut rx = DtmfRx::new();
        ours.clear();
        for frame in x.chunks(160) {
            rx.rx(std::hint::black_box(frame), |e| {
                if let yingda_dsp::dtmf::DtmfEvent::Start { digit, .. } = e {
                    ours.push(digit);
                }
            });
        }
    }
    let our_ns = t.elapsed().as_nanos() as f64;
    let our_n = (x.len() * REPS) as f64;

    let their_rate = n / (ns / 1e9);
    let our_rate = our_n / (our_ns / 1e9);
    println!("audio: {:.1} s, {} passes", x.len() as f64 / 8000.0, REPS);
    println!(
        "spandsp dtmf_rx: {:>12.0} samples/s ({:.0}x real time), {} digits",
        their_rate,
        their_rate / 8000.0,
        theirs.len()
    );
    println!(
        "yingda DtmfRx:   {:>12.0} samples/s ({:.0}x real time), {} digits",
        our_rate,
        our_rate / 8000.0,
        ours.len()
    );
    println!("ratio (yingda / spandsp): {:.2}", our_rate / their_rate);
    if ours != theirs {
        println!("note: digit strings differ (ours {ours:?} vs spandsp {theirs:?})");
    }
}
