//! Kokoro-82M under tract, one thread, against onnxruntime (Python, one thread) on the
//! original int8 graph in the same run.
//!
//! `cargo bench -p yingda-tts --bench kokoro` (needs the installed, converted model under
//! `$YINGDA_MODELS_DIR` or /var/lib/yingda/models; onnxruntime from `$YINGDA_PY` or the
//! tools' environment target/pyenv, skipped when absent). Prints, for a ~20-character
//! Mandarin prompt and an English sentence: time to first audio, whole-utterance time and
//! real-time factor (compute seconds per audio second), plan compile time per bucket, and
//! peak RSS. Targets in the issue: first audio ≤ 300 ms, RTF ≤ 0.3 on one core.

mod common;

use std::time::Instant;

use common::{best_of, kokoro_onnxruntime, models_dir, rss_mb};
use yingda_tts::kokoro::{Kokoro, BUCKETS, SAMPLE_RATE_HZ};

/// (name, text, misaki phonemes, voice)
const PROMPTS: &[(&str, &str, &str, &str)] = &[
    (
        "zh",
        "您好，欢迎致电人民医院，请按一号键预约挂号。",
        "ni↗nxau↓, xwa→ni↗ŋ ꭧɨ↘tjɛ↘n ɻə↗nmi↗n i→ɥɛ↘n, ʨʰi↓ŋ a↘n i→xau↘ ʨjɛ↘n y↘ɥe→ kwa↘xau↘.",
        "zf_xiaoxiao",
    ),
    (
        "en",
        "Thank you for calling. Please hold while we connect you to the next available agent.",
        "θˈæŋk ju fɔɹ kˈɔlɪŋ. plˈiz hˈOld wˌIl wi kənˈɛkt ju tə ðə nˈɛkst əvˈAləbᵊl ˈAʤᵊnt.",
        "af_heart",
    ),
];

fn onnxruntime() -> Vec<String> {
    let prompts: Vec<[&str; 3]> = PROMPTS.iter().map(|&(n, _, p, v)| [n, p, v]).collect();
    kokoro_onnxruntime(&prompts)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing else useful.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!(
        "Kokoro-82M v1.0, tract single thread ({} logical CPUs here)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let t = Instant::now();
    let k = match Kokoro::load(models_dir()) {
        Ok(k) => k,
        Err(e) => {
            println!("skipped: {e} (run tools/models/install.py --only kokoro-82m)");
            return;
        }
    };
    println!(
        "load (verify sha256 of 180 MB, text plan, audio graph decluttered): {:.2} s, RSS {:.0} MB",
        t.elapsed().as_secs_f64(),
        rss_mb("VmRSS")
    );
    println!("\nplan compile per bucket (frames = 25 ms each):");
    for &b in BUCKETS {
        let before = rss_mb("VmRSS");
        let t = Instant::now();
        k.warm_up_buckets(&[b]).expect("compile");
        println!(
            "  {b:>4} frames ({:>4.1} s): {:.2} s, RSS +{:.0} MB",
            b as f64 / 40.0,
            t.elapsed().as_secs_f64(),
            rss_mb("VmRSS") - before
        );
    }
    println!("  plans kept: {:?} (LRU)", k.ready_buckets());
    k.warm_up_buckets(&[64, 128, 192, 256]).expect("compile");

    println!(
        "\n{:<4} {:>7} {:>9} {:>10} {:>9} {:>12} {:>10}",
        "", "audio", "text", "1st audio", "whole", "RTF whole", "1st (str.)"
    );
    for &(name, text, phonemes, voice) in PROMPTS {
        let v = k.voice(voice).expect("voice");
        let (t_text, out) = best_of(3, || k.text(phonemes, &v, 1.0).expect("text"));
        let (t_whole, audio) = best_of(3, || k.synthesize(phonemes, &v, 1.0).expect("synthesize"));
        let seconds = audio.len() as f64 / f64::from(SAMPLE_RATE_HZ);
        let t_stream_first = (0..2)
            .map(|_| {
                let t = Instant::now();
                let mut first = None;
                k.synthesize_streaming(phonemes, &v, 1.0, |_| {
                    first.get_or_insert(t.elapsed().as_secs_f64());
                })
                .expect("stream");
                first.unwrap_or(f64::NAN)
            })
            .fold(f64::MAX, f64::min);
        println!(
            "{name:<4} {seconds:>6.2}s {t_text:>8.3}s {t_whole:>9.3}s {t_whole:>8.3}s {:>11.2} {:>9.3}s   {} ({} tokens, {} frames)",
            t_whole / seconds,
            t_stream_first,
            text,
            out.tokens.len() - 2,
            out.frames()
        );
    }
    println!("  1st audio = whole synthesis unless streaming (str.: first segment ends at the first pause, 1.2 s context)");
    println!("  peak RSS {:.0} MB", rss_mb("VmHWM"));

    println!("\nonnxruntime 1.31, one thread, same prompts (Python):");
    for line in onnxruntime() {
        println!("  {line}");
    }
}
