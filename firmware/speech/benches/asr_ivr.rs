//! Recognition accuracy and latency on the IVR test set, side by side with CTranslate2 and
//! onnxruntime running the same Whisper base weights.
//!
//! ```sh
//! PY=$(tools/models/pyenv.sh)
//! $PY tools/asr/make_testset.py --out target/asr-testset      # once
//! cargo bench -p yingda-speech --bench asr_ivr                 # YINGDA_ASR_TESTSET=DIR to choose
//! ```
//!
//! Prints: grammar-mode match accuracy, open-mode CER (zh) / WER (en), digit accuracy;
//! latency from endpoint to result (p50/p95) with 1 and 4 concurrent streams, where the
//! endpoint comes 700 ms (the default trailing silence) after the pause at which the
//! speculative pass starts; and per-utterance time of our pipeline vs CTranslate2 int8 and
//! onnxruntime (both single-threaded) on the same audio, as printed by
//! tools/models/whisper_ref.py.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use yingda_speech::grammar::Grammar;
use yingda_speech::models::models_dir_from_env;
use yingda_speech::recognizer::{Lang, Recognition, Recognizer, Request};
use yingda_speech::whisper::recognizer::WhisperRecognizer;

const TRAILING_SILENCE_MS: f64 = 700.0;

#[derive(serde::Deserialize, Clone)]
struct Item {
    id: String,
    file: String,
    lang: String,
    text: String,
    grammar: Option<String>,
    label: Option<String>,
    digits: Option<String>,
}

struct Outcome {
    item: Item,
    result: Recognition,
    /// Speculative pass at the pause, ms.
    pause_ms: f64,
    /// Endpoint → result, ms.
    latency_ms: f64,
    /// Whole pipeline without speculation, ms.
    batch_ms: f64,
    audio_s: f64,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_wav(path: &Path) -> Vec<i16> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yingda_dsp::wav::parse(&bytes)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .samples
}

fn request(item: &Item, dir: &Path, grammars: &mut Vec<(String, Arc<Grammar>)>) -> Request {
    let lang = Some(if item.lang == "zh" {
        Lang::Zh
    } else {
        Lang::En
    });
    if let Some(g) = &item.grammar {
        let grammar = match grammars.iter().find(|(n, _)| n == g) {
            Some((_, gr)) => gr.clone(),
            None => {
                let bytes = std::fs::read(dir.join(g)).expect("grammar file");
                let gr = Arc::new(Grammar::parse(&bytes).expect("grammar parses"));
                grammars.push((g.clone(), gr.clone()));
                gr
            }
        };
        Request::grammar(lang, grammar)
    } else if item.digits.is_some() {
        Request::digits(lang)
    } else {
        Request::open(lang)
    }
}

fn run_one(rec: &WhisperRecognizer, item: &Item, dir: &Path, req: Request) -> Outcome {
    let audio = read_wav(&dir.join(&item.file));
    let t = Instant::now();
    let batch = rec.run(&audio, &req).expect("recognition");
    let batch_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut u = rec.start(req);
    u.push(&audio);
    let t = Instant::now();
    u.pause().expect("speculative pass");
    let pause_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let result = u.finish().expect("finish");
    let finish_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(
        result, batch,
        "{}: streaming and batch results differ",
        item.id
    );
    Outcome {
        item: item.clone(),
        result,
        pause_ms,
        latency_ms: finish_ms + (pause_ms - TRAILING_SILENCE_MS).max(0.0),
        batch_ms,
        audio_s: audio.len() as f64 / 8000.0,
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn zh_chars(s: &str) -> Vec<char> {
    s.chars().filter(|c| c.is_alphanumeric()).collect()
}

fn en_words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// (errors, reference length) for CER (zh) or WER (en).
fn errors(lang: &str, hyp: &str, reference: &str) -> (usize, usize) {
    if lang == "zh" {
        let (h, r) = (zh_chars(hyp), zh_chars(reference));
        (edit_distance(&h, &r), r.len())
    } else {
        let (h, r) = (en_words(hyp), en_words(reference));
        (edit_distance(&h, &r), r.len())
    }
}

fn report(outcomes: &[Outcome]) {
    let mut grammar = (0, 0);
    let mut nomatch = 0;
    let mut digits = (0, 0);
    let mut err = [(0usize, 0usize); 2];
    let mut wrong = Vec::new();
    for o in outcomes {
        let li = usize::from(o.item.lang == "en");
        if let Some(label) = &o.item.label {
            grammar.1 += 1;
            if o.result.label.as_deref() == Some(label.as_str()) {
                grammar.0 += 1;
            } else {
                nomatch += usize::from(o.result.label.is_none());
                wrong.push(format!(
                    "  {} {:?}: heard {:?} → {:?} ({:.2}), expected {label}",
                    o.item.id, o.item.text, o.result.text, o.result.label, o.result.confidence
                ));
            }
        } else if let Some(d) = &o.item.digits {
            digits.1 += 1;
            if o.result.digits.as_deref() == Some(d.as_str()) {
                digits.0 += 1;
            } else {
                wrong.push(format!(
                    "  {} {:?}: heard {:?} → digits {:?}",
                    o.item.id, o.item.text, o.result.text, o.result.digits
                ));
            }
        } else {
            let (e, n) = errors(&o.item.lang, &o.result.text, &o.item.text);
            err[li].0 += e;
            err[li].1 += n;
        }
    }
    println!(
        "grammar mode: {}/{} correct = {:.1}% ({} no-match)",
        grammar.0,
        grammar.1,
        100.0 * f64::from(grammar.0) / f64::from(grammar.1.max(1)),
        nomatch
    );
    println!("digit mode:   {}/{} exact", digits.0, digits.1);
    println!(
        "open mode:    zh CER {:.3}  en WER {:.3}",
        err[0].0 as f64 / err[0].1.max(1) as f64,
        err[1].0 as f64 / err[1].1.max(1) as f64
    );
    if !wrong.is_empty() {
        println!("misses:");
        for w in wrong {
            println!("{w}");
        }
    }
}

fn latency_table(name: &str, outcomes: &[Outcome]) {
    let mut lat: Vec<f64> = outcomes.iter().map(|o| o.latency_ms).collect();
    let mut pause: Vec<f64> = outcomes.iter().map(|o| o.pause_ms).collect();
    let rtf: f64 = outcomes.iter().map(|o| o.batch_ms / 1e3).sum::<f64>()
        / outcomes.iter().map(|o| o.audio_s).sum::<f64>();
    println!(
        "{name}: endpoint→result p50 {:.0} ms p95 {:.0} ms | speculative pass p50 {:.0} ms p95 {:.0} ms | RTF {:.3}",
        percentile(&mut lat, 0.5),
        percentile(&mut lat, 0.95),
        percentile(&mut pause, 0.5),
        percentile(&mut pause, 0.95),
        rtf
    );
}

fn peers(dir: &Path, items: &[Item], ours: &[Outcome]) {
    let py = Command::new(repo().join("tools/models/pyenv.sh")).output();
    let Ok(py) = py else {
        println!("peers: tools/models/pyenv.sh failed; no side-by-side");
        return;
    };
    let py = String::from_utf8_lossy(&py.stdout).trim().to_owned();
    let script = repo().join("tools/models/whisper_ref.py");
    if !script.exists() {
        println!("peers: {} missing; no side-by-side", script.display());
        return;
    }
    let models = models_dir_from_env().join("whisper-base");
    println!("\nside by side, same audio, one thread each (ms per utterance, mean):");
    let our_ms: f64 = ours.iter().map(|o| o.batch_ms).sum::<f64>() / ours.len() as f64;
    println!("  ours (tract)            {our_ms:8.1}");
    for engine in ["ct2", "ort"] {
        for lang in ["zh", "en"] {
            let files: Vec<String> = items
                .iter()
                .filter(|i| i.lang == lang)
                .map(|i| dir.join(&i.file).display().to_string())
                .collect();
            let out = Command::new(&py)
                .arg(&script)
                .args(["--model-dir", &models.display().to_string()])
                .args(["--lang", lang, "--engine", engine, "--json"])
                .args(&files)
                .output();
            match out {
                Ok(o) if o.status.success() => {
                    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .filter_map(|l| serde_json::from_str(l).ok())
                        .collect();
                    let ms: f64 = lines
                        .iter()
                        .filter_map(|v| v["ms_total"].as_f64())
                        .sum::<f64>()
                        / lines.len().max(1) as f64;
                    let ours_lang: Vec<&Outcome> =
                        ours.iter().filter(|o| o.item.lang == lang).collect();
                    let our_lang_ms = ours_lang.iter().map(|o| o.batch_ms).sum::<f64>()
                        / ours_lang.len().max(1) as f64;
                    println!(
                        "  {engine:4} {lang}                {ms:8.1}   ours {our_lang_ms:8.1}   ours/peer {:.2}×",
                        our_lang_ms / ms
                    );
                }
                Ok(o) => println!(
                    "  {engine} {lang}: failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                ),
                Err(e) => println!("  {engine} {lang}: cannot run: {e}"),
            }
        }
    }
}

fn main() {
    let dir = std::env::var_os("YINGDA_ASR_TESTSET")
        .map_or_else(|| repo().join("target/asr-testset"), PathBuf::from);
    let list = dir.join("testset.jsonl");
    let Ok(text) = std::fs::read_to_string(&list) else {
        eprintln!(
            "{} missing: run `$(tools/models/pyenv.sh) tools/asr/make_testset.py --out {}`",
            list.display(),
            dir.display()
        );
        std::process::exit(2);
    };
    let items: Vec<Item> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("testset line"))
        .collect();
    let t = Instant::now();
    let rec = WhisperRecognizer::load(models_dir_from_env()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    println!(
        "model load {:.0} ms; {} utterances",
        t.elapsed().as_secs_f64() * 1e3,
        items.len()
    );
    let mut grammars = Vec::new();
    let reqs: Vec<Request> = items
        .iter()
        .map(|i| request(i, &dir, &mut grammars))
        .collect();
    let outcomes: Vec<Outcome> = items
        .iter()
        .zip(&reqs)
        .map(|(i, r)| run_one(&rec, i, &dir, r.clone()))
        .collect();
    report(&outcomes);
    latency_table("1 stream ", &outcomes);
    let four: Vec<Outcome> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|k| {
                let rec = rec.clone();
                let (items, reqs, dir) = (&items, &reqs, &dir);
                s.spawn(move || {
                    items
                        .iter()
                        .zip(reqs)
                        .skip(k)
                        .step_by(4)
                        .map(|(i, r)| run_one(&rec, i, dir, r.clone()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("stream"))
            .collect()
    });
    latency_table("4 streams", &four);
    peers(&dir, &items, &outcomes);
}
