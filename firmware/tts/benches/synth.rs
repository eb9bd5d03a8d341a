//! The box's synthesiser end to end (text → 8 kHz line audio), tract on one thread, with
//! onnxruntime (Python, one thread) on the original int8 Kokoro graph in the same run.
//!
//! `cargo bench -p yingda-tts --bench synth` (needs the installed models). Prints, for a
//! 20-character Mandarin prompt and a comparable English one (two sentences each): time to
//! the first sentence's 8 kHz audio, whole time and real-time factor per voice (Kokoro
//! zf_xiaoxiao and af_heart, Piper joe), the resampler's cost, and RSS per loaded model.
//! Targets in the issue: first audio ≤ 300 ms, RTF ≤ 0.3 on one core.

mod common;

use std::time::Instant;

use common::{best_of, kokoro_onnxruntime, models_dir, rss_mb};
use yingda_dsp::polyphase::Polyphase;
use yingda_tts::en::EnFrontEnd;
use yingda_tts::synth::{Lang, ModelState, Request, SynthOptions, Synthesizer};
use yingda_tts::zh::ZhFrontEnd;

const ZH: &str = "您好，欢迎致电人民医院。请问您要挂哪个科？";
const EN: &str = "Welcome to People's Hospital. Which department, please?";

fn load(kokoro: bool, piper: bool) -> Option<Synthesizer> {
    let mut o = SynthOptions::new(models_dir());
    o.kokoro = kokoro;
    o.piper = piper;
    let before = rss_mb("VmRSS");
    let t = Instant::now();
    let s = Synthesizer::load(&o);
    let secs = t.elapsed().as_secs_f64();
    let mut ok = true;
    for (model, state) in s.models() {
        match state {
            ModelState::Ready { load_ms } => println!("  {model}: loaded in {load_ms} ms"),
            ModelState::Unavailable { reason } => {
                println!("  {model}: unavailable: {reason}");
                ok = false;
            }
            ModelState::NotLoaded => {}
        }
    }
    println!(
        "  load + warm-up {secs:.2} s ({} plans), RSS +{:.0} MB",
        s.compiled_plans(),
        rss_mb("VmRSS") - before
    );
    ok.then_some(s)
}

fn run(s: &Synthesizer, voice: &str, lang: Lang, text: &str) {
    let req = Request::new(voice, lang, text);
    // Once untimed: the voice file, and any plan the warm-up did not cover.
    let _ = s.synthesize(&req).expect("synthesize");
    let (whole, (first, audio, sentences)) = best_of(3, || {
        let t = Instant::now();
        let st = s.stream(&req).expect("stream");
        let sentences = st.sentences();
        let mut first = None;
        let mut audio = Vec::new();
        for c in st {
            audio.extend_from_slice(&c.expect("chunk"));
            first.get_or_insert(t.elapsed().as_secs_f64());
        }
        (first.unwrap_or(f64::NAN), audio, sentences)
    });
    let secs = audio.len() as f64 / 8000.0;
    println!(
        "{voice:<12} {lang:<3} {:>3} chars {sentences} sent. {secs:>5.2}s audio  1st audio {:>6.0} ms  whole {:>6.0} ms  RTF {:.2}",
        text.chars().count(),
        first * 1000.0,
        whole * 1000.0,
        whole / secs
    );
}

fn resampling_cost() {
    println!("\nresampling to 8 kHz (polyphase, 128 taps/phase), 10 s of audio:");
    for from in [24_000u32, 22_050] {
        let x: Vec<f32> = (0..from as usize * 10)
            .map(|i| (i as f32 * 0.05).sin() * 0.3)
            .collect();
        let (t, y) = best_of(5, || {
            Polyphase::new(from, 8000).unwrap().process_f32_vec(&x)
        });
        println!(
            "  {from} Hz: {:.2} ms per second of audio ({} out), {:.0}x real time",
            t * 100.0,
            y.len(),
            10.0 / t
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!(
        "Synthesizer end to end, tract single thread per utterance ({} logical CPUs here)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    resampling_cost();

    println!("\nPiper only:");
    if let Some(p) = load(false, true) {
        println!();
        run(&p, "joe", Lang::En, EN);
        drop(p);
    }
    println!("\nKokoro (+ zh and en lexicons):");
    let Some(k) = load(true, false) else {
        println!("skipped (run tools/models/install.py)");
        return;
    };
    println!();
    run(&k, "zf_xiaoxiao", Lang::Zh, ZH);
    run(&k, "af_heart", Lang::En, EN);
    println!("  peak RSS {:.0} MB", rss_mb("VmHWM"));

    // The same phonemes through onnxruntime on the original graph (whole utterance, 24 kHz).
    let dir = models_dir();
    let zh = ZhFrontEnd::load(dir.join("zh-lexicon")).expect("zh-lexicon");
    let en = EnFrontEnd::load(&dir.join("en-lexicon")).expect("en-lexicon");
    let join = |v: Vec<String>| v.join(" ");
    let zh_ph = join(
        zh.phonemize(ZH)
            .expect("zh")
            .into_iter()
            .map(|s| s.phonemes)
            .collect(),
    );
    let en_ph = join(
        en.phonemize(EN)
            .expect("en")
            .into_iter()
            .map(|s| s.phonemes)
            .collect(),
    );
    println!("\nonnxruntime, one thread, same phonemes, whole utterance at 24 kHz (Python):");
    for line in kokoro_onnxruntime(&[["zh", &zh_ph, "zf_xiaoxiao"], ["en", &en_ph, "af_heart"]]) {
        println!("  {line}");
    }
    println!("  (Piper under onnxruntime: `cargo bench -p yingda-tts --bench piper`)");
}
