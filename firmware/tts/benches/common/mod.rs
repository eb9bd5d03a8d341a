//! Helpers shared by the TTS benchmarks: where the models are, memory figures, timing,
//! and onnxruntime on the original Kokoro graph (`tools/models/kokoro_golden.py --bench`).
#![allow(dead_code, unreachable_pub)] // each bench uses a different subset

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

pub fn models_dir() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
}

/// A `/proc/self/status` field (`VmRSS`, `VmHWM`) in MB.
pub fn rss_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

pub fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut out = None;
    for _ in 0..n {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(v);
    }
    (best, out.expect("n > 0"))
}

/// onnxruntime (Python, one thread) on the original int8 Kokoro graph for prompts
/// `[name, phonemes, voice]`: the script's report lines, or why it was skipped.
pub fn kokoro_onnxruntime(prompts: &[[&str; 3]]) -> Vec<String> {
    let python = std::env::var_os("YINGDA_PY").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pyenv/bin/python"),
        PathBuf::from,
    );
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/models/kokoro_golden.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg("--model-dir")
        .arg(models_dir().join("kokoro-82m"))
        .arg("--bench")
        .arg(serde_json::to_string(prompts).expect("plain strings"))
        .env("OMP_NUM_THREADS", "1")
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
        Ok(o) => vec![format!(
            "onnxruntime failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )],
        Err(e) => vec![format!("onnxruntime skipped ({}: {e})", python.display())],
    }
}
