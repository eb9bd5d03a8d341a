//! Our echo canceller (128 taps, NLP off) against spandsp's `echo_can` (128 taps,
//! adaptation only) on the same signal: espeak-ng speech through the G.168 D.4 hybrid
//! model (1 ms bulk delay, 10 dB echo return loss), -70 dBm0 background noise, A-law on
//! both directions. Prints samples per second for both, their ratio, and the ERLE of both
//! over the speech after the first 4 s.
//!
//! Debian's libspandsp2 0.0.6 `echo_can_update()` prints a debugging line per sample; the
//! peer sends stdout to /dev/null, but the formatting is inside spandsp's measured time, so
//! its speed here is a lower bound of what a clean build would do.
//!
//! Run with `cargo bench -p yingda-dsp --bench echo_vs_spandsp`.

use std::time::Instant;

#[path = "../tests/common/mod.rs"]
mod common;
use common::{erle, ZERO_DBM0_POWER};
use yingda_dsp::echo::{EchoCanceller, EchoConfig, Nlp};
use yingda_dsp::{g711, Law};

const TAPS: usize = 128;

fn main() {
    // Signals.
    let mut far = yingda_testpeers::espeak_8k(
        "en",
        "Thank you for calling. Please say the name of the person you want to reach, \
         or press one for sales, two for support, and zero for the operator.",
    );
    let again = far.clone();
    far.extend_from_slice(&again);
    g711::round_trip(Law::Alaw, &mut far);
    let models = yingda_testpeers::build("spandsp_echo_models", &[], &["-lspandsp"]);
    let m: Vec<f64> = String::from_utf8(yingda_testpeers::run(&models, &["d4"]))
        .expect("utf8")
        .lines()
        .map(|l| l.trim().parse().expect("coefficient"))
        .collect();
    let g = 10f64.powf(-10.0 / 20.0) / m.iter().map(|c| c * c).sum::<f64>().sqrt();
    let mut path = vec![0.0; 8];
    path.extend(m.iter().map(|c| c * g));
    let noise_rms = (ZERO_DBM0_POWER * 10f64.powf(-7.0)).sqrt();
    let mut st = 0x9E37_79B9_7F4A_7C15u64;
    let mut input: Vec<i16> = (0..far.len())
        .map(|n| {
            let echo: f64 = path
                .iter()
                .enumerate()
                .take(n + 1)
                .map(|(k, c)| c * f64::from(far[n - k]))
                .sum();
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            let u = (st >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            (echo + u * noise_rms * 12f64.sqrt()).round() as i16
        })
        .collect();
    g711::round_trip(Law::Alaw, &mut input);
    let n = far.len();
    println!(
        "signal: {:.1} s of speech, G.168 D.4 echo path, ERL 10 dB, {TAPS} taps",
        n as f64 / 8000.0
    );

    // Ours: best of 5 runs over the whole signal in 20 ms frames.
    let cfg = EchoConfig {
        taps: TAPS,
        nlp: Nlp::Off,
        ..EchoConfig::default()
    };
    let mut ours = vec![0i16; n];
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut ec = EchoCanceller::new(cfg).expect("config");
        let t = Instant::now();
        for ((r, d), o) in far
            .chunks(160)
            .zip(input.chunks(160))
            .zip(ours.chunks_mut(160))
        {
            ec.process(r, d, o).expect("process");
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    let ours_rate = n as f64 / best;

    // spandsp: best of 5 runs, timed inside the peer.
    let exe = yingda_testpeers::build("spandsp_echo_can", &[], &["-lspandsp"]);
    let dir = std::env::temp_dir().join(format!("yingda-echo-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let inp = dir.join("in.raw");
    let outp = dir.join("out.raw");
    let timep = dir.join("seconds.txt");
    let bytes: Vec<u8> = far
        .iter()
        .zip(&input)
        .flat_map(|(a, b)| a.to_le_bytes().into_iter().chain(b.to_le_bytes()))
        .collect();
    std::fs::write(&inp, bytes).expect("write input");
    let mut sp_best = f64::MAX;
    for _ in 0..5 {
        yingda_testpeers::run(
            &exe,
            &[
                &TAPS.to_string(),
                inp.to_str().expect("path"),
                outp.to_str().expect("path"),
                timep.to_str().expect("path"),
            ],
        );
        let secs: f64 = std::fs::read_to_string(&timep)
            .expect("read time")
            .trim()
            .parse()
            .expect("seconds");
        sp_best = sp_best.min(secs);
    }
    let theirs = yingda_testpeers::i16_samples(&std::fs::read(&outp).expect("read output"));
    let _ = std::fs::remove_dir_all(&dir);
    let sp_rate = n as f64 / sp_best;

    let from = 4 * 8000;
    println!(
        "yingda  echo: {:>12.0} samples/s ({:>6.1}x real time per channel), ERLE {:.1} dB",
        ours_rate,
        ours_rate / 8000.0,
        erle(&far, &input, &ours, from)
    );
    println!(
        "spandsp echo: {:>12.0} samples/s ({:>6.1}x real time per channel), ERLE {:.1} dB",
        sp_rate,
        sp_rate / 8000.0,
        erle(&far, &input, &theirs, from)
    );
    println!("speed ratio yingda / spandsp: {:.2}", ours_rate / sp_rate);
}
