//! English front end speed: µs per sentence over the golden IVR prompts, against misaki.
//!
//! `cargo bench -p yingda-tts --bench en_front_end`. Needs the installed `en-lexicon`
//! model. With `YINGDA_EN_GOLDEN_PY` set to a Python that has misaki and spaCy (see
//! `tools/models/en_golden.py`), misaki is timed on the same prompts in the same run.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use yingda_tts::en::{EnFrontEnd, PiperPhonemeMap};

fn main() {
    let models = std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from);
    let t0 = Instant::now();
    let fe = EnFrontEnd::load(&models.join("en-lexicon")).expect("en-lexicon installed");
    println!("load lexicons: {:.0} ms", t0.elapsed().as_secs_f64() * 1e3);
    let manifest = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{manifest}/tests/data/en/sentences.tsv"))
        .expect("sentences.tsv");
    let prompts: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').next().unwrap_or(l))
        .collect();
    for p in &prompts {
        std::hint::black_box(fe.phonemize(p).expect("phonemize"));
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for p in &prompts {
            std::hint::black_box(fe.phonemize(p).expect("phonemize"));
        }
        best = best.min(t.elapsed().as_secs_f64() / prompts.len() as f64);
    }
    println!(
        "yingda en front end (text -> Kokoro phonemes): {:.0} us per sentence over {} sentences",
        best * 1e6,
        prompts.len()
    );
    if let Ok(map) = PiperPhonemeMap::load(&models.join("piper-joe/en_US-joe-medium.onnx.json")) {
        let ps: Vec<String> = prompts
            .iter()
            .flat_map(|p| fe.phonemize(p).expect("phonemize"))
            .map(|s| s.phonemes)
            .collect();
        let t = Instant::now();
        for _ in 0..20 {
            for p in &ps {
                std::hint::black_box(fe.piper_ids(p, &map).expect("ids"));
            }
        }
        println!(
            "phonemes -> Piper ids: {:.1} us per sentence",
            t.elapsed().as_secs_f64() / (20 * ps.len()) as f64 * 1e6
        );
    }
    match std::env::var("YINGDA_EN_GOLDEN_PY") {
        Ok(py) => {
            let out = Command::new(py)
                .args(["-W", "ignore", &format!("{manifest}/../../tools/models/en_golden.py"), "--bench"])
                .output();
            match out {
                Ok(o) if o.status.success() => print!("{}", String::from_utf8_lossy(&o.stdout)),
                Ok(o) => println!("misaki failed: {}", String::from_utf8_lossy(&o.stderr)),
                Err(e) => println!("misaki not run: {e}"),
            }
        }
        Err(_) => println!(
            "misaki: set YINGDA_EN_GOLDEN_PY to time it here (measured on the development machine: ~1100 us per sentence)"
        ),
    }
}
