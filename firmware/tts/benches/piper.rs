//! Piper `en_US-joe-medium` under tract, side by side with onnxruntime on the original graph.
//!
//! ```sh
//! tools/models/install.py --only piper-joe        # the converted model, once
//! cargo bench -p yingda-tts --bench piper
//! ```
//!
//! Prints, single thread: load time (sha256 verification of the install + graph parsing),
//! plan compilation (`warm_up`: every id bucket and window size), then for the golden
//! sentences (`tests/data/piper/golden.json`, the long one ~20 words) time to first audio,
//! total synthesis time and real-time factor (best of 3), and the peak RSS of this process;
//! then the same figures from onnxruntime 1.31 (Python, one thread) on the original graph,
//! as printed by `tools/models/piper_golden.py ort-bench` ($YINGDA_PY, else
//! tools/models/pyenv.sh, gives the Python).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use common::models_dir;
use yingda_tts::piper::{Piper, PiperOptions};

const RUNS: usize = 3;

#[derive(serde::Deserialize)]
struct Golden {
    seed: u64,
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
    sample_rate: u32,
    sentences: Vec<Sentence>,
}

#[derive(serde::Deserialize)]
struct Sentence {
    name: String,
    text: String,
    ids: Vec<i64>,
}

#[derive(serde::Deserialize)]
struct OrtLine {
    runtime: String,
    sentence: String,
    session_s: f64,
    first_audio_s: f64,
    synth_s: f64,
    audio_s: f64,
    rtf: f64,
    peak_rss_mb: f64,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn peak_rss_mb() -> f64 {
    common::rss_mb("VmHWM")
}

fn rss_mb() -> f64 {
    common::rss_mb("VmRSS")
}

fn python() -> Result<String, String> {
    if let Some(py) = std::env::var_os("YINGDA_PY") {
        return Ok(py.to_string_lossy().into_owned());
    }
    let out = Command::new(repo().join("tools/models/pyenv.sh"))
        .output()
        .map_err(|e| format!("tools/models/pyenv.sh: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn onnxruntime(golden: &std::path::Path, names: &[&str]) -> Result<Vec<OrtLine>, String> {
    let py = python()?;
    let out = Command::new(py)
        .arg(repo().join("tools/models/piper_golden.py"))
        .arg("ort-bench")
        .arg("--model-dir")
        .arg(models_dir().join("piper-joe"))
        .arg("--golden")
        .arg(golden)
        .arg("--sentence")
        .args(names)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{e}: {l}")))
        .collect()
}

fn main() {
    let golden_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/piper/golden.json");
    let golden: Golden = serde_json::from_slice(&std::fs::read(&golden_path).expect("golden.json"))
        .expect("golden.json");
    let opts = PiperOptions {
        noise_scale: golden.noise_scale,
        length_scale: golden.length_scale,
        noise_w: golden.noise_w,
        seed: golden.seed,
    };
    let rate = f64::from(golden.sample_rate);

    let start_rss = peak_rss_mb();
    let t = Instant::now();
    let piper = Piper::load(models_dir()).unwrap_or_else(|e| panic!("{e}"));
    let load_s = t.elapsed().as_secs_f64();
    let load_rss = peak_rss_mb();
    let t = Instant::now();
    piper.warm_up().unwrap_or_else(|e| panic!("{e}"));
    let compile_s = t.elapsed().as_secs_f64();
    let warm_rss = peak_rss_mb();
    let warm_now = rss_mb();
    let plans = piper.compiled_plans();
    println!("piper en_US-joe-medium, single thread, tract 0.23.9 vs onnxruntime (Python)");
    println!(
        "tract: load + verify {load_s:.2} s, compile {plans} plans {compile_s:.2} s ({:.2} s each)",
        compile_s / plans as f64
    );
    println!();
    println!("| runtime | sentence | ids | audio s | first audio s | total s | RTF |");
    println!("|---|---|---|---|---|---|---|");
    let mut names = Vec::new();
    for s in &golden.sentences {
        names.push(s.name.as_str());
        let mut best = (f64::INFINITY, f64::INFINITY);
        let mut samples = 0;
        for _ in 0..RUNS {
            let start = Instant::now();
            let mut first = None;
            samples = piper
                .synthesize_ids_with(&s.ids, &opts, |_| {
                    first.get_or_insert_with(|| start.elapsed().as_secs_f64());
                })
                .unwrap_or_else(|e| panic!("{e}"));
            let total = start.elapsed().as_secs_f64();
            if total < best.1 {
                best = (first.unwrap_or(total), total);
            }
        }
        let audio = samples as f64 / rate;
        println!(
            "| tract | {} ({} words) | {} | {audio:.2} | {:.3} | {:.3} | {:.3} |",
            s.name,
            s.text.split_whitespace().count(),
            s.ids.len(),
            best.0,
            best.1,
            best.1 / audio
        );
    }
    let tract_rss = peak_rss_mb();
    println!();
    println!(
        "tract peak RSS: {start_rss:.0} MB at start, {load_rss:.0} MB loaded, {warm_rss:.0} MB compiling all plans (resident after: {warm_now:.0} MB), {tract_rss:.0} MB after synthesis (resident: {:.0} MB)",
        rss_mb()
    );
    match onnxruntime(&golden_path, &names) {
        Ok(lines) => {
            for l in &lines {
                println!(
                    "| {} | {} | | {:.2} | {:.3} | {:.3} | {:.3} |",
                    l.runtime, l.sentence, l.audio_s, l.first_audio_s, l.synth_s, l.rtf
                );
            }
            println!();
            if let Some(l) = lines.first() {
                println!(
                    "onnxruntime peak RSS {:.0} MB (the whole Python process); session creation {:.2} s",
                    l.peak_rss_mb, l.session_s
                );
            }
        }
        Err(e) => {
            println!();
            println!("onnxruntime skipped: {e}");
        }
    }
}
