//! µs per 30 ms of line audio: SileroVad under tract against EarshotVad, and onnxruntime
//! running the same converted graph (and the original one) when the tools' Python
//! environment is there. Prints a table only.
//!
//! Needs the installed model (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models). onnxruntime
//! is looked for at `$YINGDA_PY`, `$YINGDA_PYENV/bin/python`, then `target/pyenv/bin/python`
//! (made by `tools/models/pyenv.sh`); without it that column says so.
//!
//! All runs are single-threaded, best of several passes over the same 5 s of espeak-ng speech
//! (the Rust detectors go through it 10 times per pass, onnxruntime once).

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use yingda_speech::silero::{SileroModel, SileroVad, MODEL_FILE, MODEL_NAME};
use yingda_speech::vad::{EarshotVad, Vad, FRAME_MS, FRAME_SAMPLES};

/// The unit the table reports in: µs of compute per this much audio.
const PER_MS: f64 = 30.0;
const PASSES: usize = 7;
/// Times through the audio per timed pass (a pass then lasts 0.1–0.5 s, long enough that
/// preemption by other work on a shared machine shows in few passes).
const REPEAT: usize = 10;

/// Times onnxruntime streaming 256-sample chunks (with 32 of context and the state carried,
/// as silero-vad does) through a graph; prints µs per 30 ms of audio.
const ORT_SCRIPT: &str = r#"
import sys, time
import numpy as np, onnxruntime as ort
path, audio, with_sr = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
x = np.fromfile(audio, "<i2").astype(np.float32) / 32768.0
opts = ort.SessionOptions(); opts.intra_op_num_threads = 1; opts.inter_op_num_threads = 1
s = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
n = len(x) // 256
def run():
    state = np.zeros((2, 1, 128), np.float32); ctx = np.zeros((1, 32), np.float32)
    for k in range(n):
        w = np.concatenate([ctx, x[None, 256 * k:256 * (k + 1)]], axis=1)
        feeds = {"input": w, "state": state}
        if with_sr: feeds["sr"] = np.array(8000, np.int64)
        _, state = s.run(None, feeds); ctx = w[:, -32:]
run()
best = min((lambda t: (run(), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(5))
print(best * 1e6 / (n * 256 / 8.0 / 30.0))
"#;

fn models_dir() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
}

fn tools_python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("YINGDA_PY").map(PathBuf::from),
        std::env::var_os("YINGDA_PYENV").map(|d| PathBuf::from(d).join("bin/python")),
        Some(yingda_testpeers::workspace_root().join("target/pyenv/bin/python")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

/// Best-of-`PASSES` µs per 30 ms of audio for `vad` on `frames`.
fn time_vad(vad: &mut dyn Vad, frames: &[&[i16]]) -> f64 {
    for f in frames {
        black_box(vad.process(f).ok());
    }
    let mut best = f64::MAX;
    for _ in 0..PASSES {
        vad.reset();
        let t = Instant::now();
        for f in frames.iter().cycle().take(REPEAT * frames.len()) {
            black_box(vad.process(black_box(f)).ok());
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    let audio_ms = (REPEAT * frames.len()) as f64 * f64::from(FRAME_MS);
    best * 1e6 / (audio_ms / PER_MS)
}

fn ort(python: &PathBuf, graph: &PathBuf, audio: &PathBuf, with_sr: bool) -> Result<f64, String> {
    let out = Command::new(python)
        .arg("-c")
        .arg(ORT_SCRIPT)
        .arg(graph)
        .arg(audio)
        .arg(if with_sr { "1" } else { "0" })
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("{e}"))
}

fn main() {
    let dir = models_dir();
    let model = SileroModel::load(&dir).unwrap_or_else(|e| {
        eprintln!(
            "{e}\n(models dir {}: run tools/models/install.py --only silero-vad)",
            dir.display()
        );
        std::process::exit(1);
    });
    let mut audio =
        yingda_testpeers::espeak_8k("en", "I would like to report a lost credit card, please");
    audio.extend(yingda_testpeers::espeak_8k(
        "cmn-latn-pinyin",
        "wo3 xiang3 gua4 hao4 kou3 qiang1 ke1",
    ));
    // A whole number of 160-ms cycles (8 frames = 5 Silero chunks).
    audio.truncate(audio.len() / 1280 * 1280);
    let frames: Vec<&[i16]> = audio.chunks_exact(FRAME_SAMPLES).collect();
    let seconds = audio.len() as f64 / 8000.0;

    let silero = time_vad(&mut SileroVad::new(&model).expect("detector"), &frames);
    let earshot = time_vad(&mut EarshotVad::new(), &frames);

    let graph_dir = dir.join(MODEL_NAME);
    let (ort_8k, ort_orig) = match tools_python() {
        None => {
            let why = "no tools venv (tools/models/pyenv.sh)".to_owned();
            (Err(why.clone()), Err(why))
        }
        Some(py) => {
            let raw =
                std::env::temp_dir().join(format!("yingda-vad-bench-{}.raw", std::process::id()));
            let bytes: Vec<u8> = audio.iter().flat_map(|s| s.to_le_bytes()).collect();
            std::fs::write(&raw, bytes).expect("write temp audio");
            let r = (
                ort(&py, &graph_dir.join(MODEL_FILE), &raw, false),
                ort(&py, &graph_dir.join("silero_vad.onnx"), &raw, true),
            );
            let _ = std::fs::remove_file(&raw);
            r
        }
    };
    let cell = |r: &Result<f64, String>| match r {
        Ok(us) => format!("{us:>8.1}"),
        Err(e) => format!("  n/a ({e})"),
    };
    println!("VAD cost on {seconds:.1} s of 8 kHz speech, µs per 30 ms of audio, 1 thread, best of {PASSES} (onnxruntime 5):");
    println!(
        "| detector                                   | µs/30 ms | real-time streams per core |"
    );
    println!(
        "|--------------------------------------------|----------|----------------------------|"
    );
    let row = |name: &str, us: &Result<f64, String>| {
        let streams = us.as_ref().map_or_else(
            |_| "-".to_owned(),
            |u| format!("{:.0}", PER_MS * 1000.0 / u),
        );
        println!("| {name:<42} | {} | {streams:>26} |", cell(us));
    };
    row("SileroVad, tract (silero_vad_8k.onnx)", &Ok(silero));
    row("onnxruntime, silero_vad_8k.onnx", &ort_8k);
    row("onnxruntime, silero_vad.onnx (If, sr=8000)", &ort_orig);
    row("EarshotVad (pure Rust)", &Ok(earshot));
}
