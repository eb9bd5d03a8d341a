//! Response latency over the sample hospital flow: scripted callers (Kokoro voice through
//! the simulated line) book an appointment by voice with `yingda test-call`'s engine — 1
//! caller, then 4 at once on separate threads sharing one recogniser and one synthesiser, as
//! the daemon shares them. Prints p50/p95 of
//!   - end of caller speech → first audio of the reply (what the caller waits), and
//!   - endpoint decision → first audio (the box's processing, without the trailing silence
//!     the endpointer waits for).
//!
//! Run: `cargo bench -p yingda --bench flow_latency` (needs the speech models installed).
#[path = "../../backend/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use yingda::testcall::{self, Engines};

const SCRIPT: &str = include_str!("../tests/data/hospital-book-by-voice.toml");

fn pct(v: &mut [i64], p: f64) -> i64 {
    v.sort_unstable();
    if v.is_empty() {
        return -1;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn run_calls(n: usize, dir: &Path, engines: &Engines) -> (Vec<i64>, Vec<i64>, u64) {
    let flow = testcall::load_flow(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../flows/hospital.toml"),
    )
    .unwrap();
    let t0 = Instant::now();
    let outs: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .map(|i| {
                let flow = Arc::clone(&flow);
                s.spawn(move || {
                    let path = dir.join("script.toml");
                    let script = testcall::load_script(&path).unwrap();
                    testcall::run(
                        flow,
                        &script,
                        &path,
                        &dir.join(format!("out{n}-{i}")),
                        engines,
                    )
                    .unwrap()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wall = t0.elapsed().as_millis() as u64;
    let mut a = Vec::new();
    let mut b = Vec::new();
    for o in &outs {
        if !o.events.iter().any(|e| e["node"] == "booked") {
            eprintln!("warning: a call did not reach `booked` (recognition missed)");
        }
        a.extend(o.speech_latencies());
        b.extend(o.processing_latencies());
    }
    (a, b, wall)
}

fn main() {
    let models = yingda_speech::models::models_dir_from_env();
    let rec = match yingda_speech::whisper::recognizer::WhisperRecognizer::load(&models) {
        Ok(r) => r,
        Err(e) => {
            println!("flow_latency: skipped, speech models not installed ({e})");
            return;
        }
    };
    let mut o = yingda_tts::synth::SynthOptions::new(&models);
    o.cache_dir = Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tts-prompt-cache"));
    let engines = Engines {
        recognizer: Some(Arc::new(rec)),
        synth: Some(yingda_tts::synth::Synthesizer::load(&o)),
        ..Engines::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let ca = common::ca("bench CA");
    std::fs::write(dir.path().join("ca.pem"), ca.cert.pem()).unwrap();
    common::server_cert(dir.path(), "api", &["his.local"], &ca);
    let standin = common::StandIn::start(dir.path(), Some("api"));
    std::fs::write(
        dir.path().join("script.toml"),
        SCRIPT.replace("PORT", &standin.port.to_string()),
    )
    .unwrap();
    // Warm-up: prompt cache, plans.
    let _ = run_calls(1, dir.path(), &engines);
    println!("response latency, hospital flow by voice (ms; target p95 <= 400)");
    println!("callers  replies  speech-end->audio p50/p95  endpoint->audio p50/p95  wall s");
    for n in [1usize, 4] {
        let (mut a, mut b, wall) = run_calls(n, dir.path(), &engines);
        let k = a.len();
        println!(
            "{n:>7}  {k:>7}  {:>12} / {:<10}  {:>11} / {:<10}  {:.1}",
            pct(&mut a, 0.5),
            pct(&mut a, 0.95),
            pct(&mut b, 0.5),
            pct(&mut b, 0.95),
            wall as f64 / 1000.0
        );
    }
}
