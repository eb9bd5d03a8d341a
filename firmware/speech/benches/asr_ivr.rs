//! Recognition accuracy and latency on the IVR test set, side by side with CTranslate2 and
//! onnxruntime running the same Whisper base weights.
//!
//! ```sh
//! PY=$(tools/models/pyenv.sh)
//! $PY tools/asr/make_testset.py --out target/asr-testset      # once
//! cargo bench --profile dev -p yingda-speech --bench asr_ivr
//! ```
//!
//! Environment: `YINGDA_ASR_TESTSET=DIR` (default `target/asr-testset`);
//! `YINGDA_ASR_ONLY=accuracy` skips latency and the side-by-side; `YINGDA_ASR_FILTER=S`
//! keeps only utterances whose id or voice contains `S` (`kokoro`, `espeak:en`, …);
//! `YINGDA_ASR_VERBOSE=1` prints every grammar decision.
//!
//! Prints, per voice family (espeak-ng, Kokoro) and for all: grammar-mode match accuracy
//! at the default threshold, false accepts on out-of-grammar utterances (a label where
//! none was said), a threshold sweep of both, digit-mode exact matches, open-mode CER (zh)
//! / WER (en); latency from endpoint to result (p50/p95) with 1 and 4 concurrent streams, where the
//! endpoint comes 700 ms (the default trailing silence) after the pause at which the
//! speculative pass starts; and per-utterance time of our pipeline vs CTranslate2 int8 and
//! onnxruntime (both single-threaded) on the same audio, as printed by
//! tools/models/whisper_ref.py.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use yingda_speech::fuzzy::edit_distance;
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
    voice: String,
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

/// Accuracy pass: the whole pipeline once per utterance, grammar threshold 0 so that the
/// report can sweep it.
fn run_plain(rec: &WhisperRecognizer, item: &Item, dir: &Path, mut req: Request) -> Outcome {
    let audio = read_wav(&dir.join(&item.file));
    req.min_confidence = 0.0;
    let t = Instant::now();
    let result = rec.run(&audio, &req).expect("recognition");
    let batch_ms = t.elapsed().as_secs_f64() * 1e3;
    Outcome {
        item: item.clone(),
        result,
        pause_ms: 0.0,
        latency_ms: 0.0,
        batch_ms,
        audio_s: audio.len() as f64 / 8000.0,
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

#[derive(Default)]
struct Tally {
    /// In-grammar utterances: (correct at the threshold, total).
    grammar: (usize, usize),
    /// In-grammar utterances given no match.
    nomatch: usize,
    /// Out-of-grammar utterances: (given a label, total).
    false_accept: (usize, usize),
    digits: (usize, usize),
    /// Open mode (errors, reference length) for zh and en.
    open: [(usize, usize); 2],
}

fn pct(a: usize, n: usize) -> f64 {
    100.0 * a as f64 / n.max(1) as f64
}

/// The label given at `threshold` (the accuracy pass runs with threshold 0).
fn accepted(o: &Outcome, threshold: f32) -> Option<&str> {
    o.result
        .label
        .as_deref()
        .filter(|_| o.result.confidence >= threshold)
}

fn tally(outcomes: &[&Outcome], threshold: f32) -> Tally {
    let mut t = Tally::default();
    for o in outcomes {
        let label = accepted(o, threshold);
        if o.item.grammar.is_some() {
            match &o.item.label {
                Some(want) => {
                    t.grammar.1 += 1;
                    t.grammar.0 += usize::from(label == Some(want.as_str()));
                    t.nomatch += usize::from(label.is_none());
                }
                None => {
                    t.false_accept.1 += 1;
                    t.false_accept.0 += usize::from(label.is_some());
                }
            }
        } else if let Some(d) = &o.item.digits {
            t.digits.1 += 1;
            t.digits.0 += usize::from(o.result.digits.as_deref() == Some(d.as_str()));
        } else {
            let li = usize::from(o.item.lang == "en");
            let (e, n) = errors(&o.item.lang, &o.result.text, &o.item.text);
            t.open[li].0 += e;
            t.open[li].1 += n;
        }
    }
    t
}

fn report(outcomes: &[Outcome]) {
    let threshold = Request::open(None).min_confidence;
    let families = [("espeak-ng", "espeak:"), ("Kokoro", "kokoro:"), ("all", "")];
    println!("accuracy at the default grammar threshold {threshold:.2}:");
    for (name, prefix) in families {
        let part: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| o.item.voice.starts_with(prefix))
            .collect();
        if part.is_empty() {
            continue;
        }
        let t = tally(&part, threshold);
        println!(
            "  {name:9} grammar {}/{} = {:.1}% ({} no-match) | false accept {}/{} = {:.1}% | digits {}/{} | open zh CER {:.3} en WER {:.3}",
            t.grammar.0,
            t.grammar.1,
            pct(t.grammar.0, t.grammar.1),
            t.nomatch,
            t.false_accept.0,
            t.false_accept.1,
            pct(t.false_accept.0, t.false_accept.1),
            t.digits.0,
            t.digits.1,
            t.open[0].0 as f64 / t.open[0].1.max(1) as f64,
            t.open[1].0 as f64 / t.open[1].1.max(1) as f64,
        );
    }
    println!("threshold sweep (all voices): threshold → grammar accuracy / false accepts");
    let all: Vec<&Outcome> = outcomes.iter().collect();
    let sweep: Vec<String> = [0.0f32, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
        .iter()
        .map(|&th| {
            let t = tally(&all, th);
            format!(
                "{th:.1}→{:.1}%/{:.1}%",
                pct(t.grammar.0, t.grammar.1),
                pct(t.false_accept.0, t.false_accept.1)
            )
        })
        .collect();
    println!("  {}", sweep.join("  "));
    let verbose = std::env::var_os("YINGDA_ASR_VERBOSE").is_some();
    let mut wrong = Vec::new();
    for o in outcomes {
        let label = accepted(o, threshold);
        let line = format!(
            "  {} {} {:?}: heard {:?} → {:?} ({:.2}), expected {:?}{}",
            o.item.id,
            o.item.voice,
            o.item.text,
            o.result.text,
            o.result.label,
            o.result.confidence,
            o.item.label,
            o.item
                .digits
                .as_ref()
                .map(|d| format!(" digits {d} got {:?}", o.result.digits))
                .unwrap_or_default()
        );
        let bad = if o.item.grammar.is_some() {
            label != o.item.label.as_deref()
        } else if let Some(d) = &o.item.digits {
            o.result.digits.as_deref() != Some(d.as_str())
        } else {
            false
        };
        if bad || (verbose && o.item.grammar.is_some()) {
            wrong.push(format!("{}{line}", if bad { "✗" } else { " " }));
        }
    }
    if !wrong.is_empty() {
        println!("misses{}:", if verbose { " (✗) and matches" } else { "" });
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
    let filter = std::env::var("YINGDA_ASR_FILTER").unwrap_or_default();
    let items: Vec<Item> = text
        .lines()
        .map(|l| serde_json::from_str::<Item>(l).expect("testset line"))
        .filter(|i| i.id.contains(&filter) || i.voice.contains(&filter))
        .collect();
    let t = Instant::now();
    let rec = WhisperRecognizer::load(models_dir_from_env()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    println!(
        "model load {:.0} ms; {} utterances; Mandarin matched by {}",
        t.elapsed().as_secs_f64() * 1e3,
        items.len(),
        if rec.has_lexicon() {
            "pinyin (zh-lexicon)"
        } else {
            "character (zh-lexicon not installed)"
        }
    );
    let mut grammars = Vec::new();
    let reqs: Vec<Request> = items
        .iter()
        .map(|i| request(i, &dir, &mut grammars))
        .collect();
    let accuracy: Vec<Outcome> = items
        .iter()
        .zip(&reqs)
        .map(|(i, r)| run_plain(&rec, i, &dir, r.clone()))
        .collect();
    report(&accuracy);
    if std::env::var("YINGDA_ASR_ONLY").as_deref() == Ok("accuracy") {
        return;
    }
    let outcomes: Vec<Outcome> = items
        .iter()
        .zip(&reqs)
        .map(|(i, r)| run_one(&rec, i, &dir, r.clone()))
        .collect();
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
