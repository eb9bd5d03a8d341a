//! Time for the Mandarin front end on the ~300 golden IVR prompts
//! (`tests/data/zh/sentences.jsonl`), one thread, against misaki's Chinese G2P in Python
//! on the same prompts; plus load time and the resident memory the loaded front end adds.
//!
//! Run with `cargo bench -p yingda-tts --bench zh_front_end`. Needs the installed lexicon
//! (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models). The Python side runs with
//! `$YINGDA_PY` or the tools' environment (`tools/models/pyenv.sh`); without it only the
//! Rust numbers are printed. Prints numbers, asserts none.

use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use yingda_tts::zh::ZhFrontEnd;

const ROUNDS: usize = 15;

/// Resident set size of this process, in bytes (Linux `/proc/self/status`).
fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn prompts() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zh/sentences.jsonl");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Best and median of `ROUNDS` runs of `f`, in seconds.
fn time(mut f: impl FnMut()) -> (f64, f64) {
    let mut s: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    s.sort_by(f64::total_cmp);
    (s[0], s[ROUNDS / 2])
}

const MISAKI: &str = r#"
import sys, time, warnings, json
warnings.simplefilter("ignore")
import jieba
jieba.setLogLevel(60)
from misaki.zh import ZHG2P
texts = json.load(sys.stdin)
g2p = ZHG2P()
for t in texts:
    g2p(t)
runs = []
for _ in range(int(sys.argv[1])):
    start = time.perf_counter()
    for t in texts:
        g2p(t)
    runs.append(time.perf_counter() - start)
runs.sort()
print(runs[0], runs[len(runs) // 2])
"#;

fn python() -> Option<String> {
    if let Some(py) = std::env::var_os("YINGDA_PY") {
        return py.into_string().ok();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/models/pyenv.sh");
    let out = Command::new(script).stderr(Stdio::null()).output().ok()?;
    let path = String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .last()?
        .trim()
        .to_owned();
    (out.status.success() && !path.is_empty()).then_some(path)
}

/// misaki's best and median seconds for one pass over `texts`.
fn misaki(texts: &[String]) -> Result<(f64, f64), String> {
    let py = python().ok_or("no Python tools environment (set YINGDA_PY)")?;
    let mut child = Command::new(&py)
        .args(["-c", MISAKI, &ROUNDS.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{py}: {e}"))?;
    let input = serde_json::to_vec(texts).map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(&input)
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("failed")
            .to_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(str::parse::<f64>);
    match (it.next(), it.next()) {
        (Some(Ok(best)), Some(Ok(median))) => Ok((best, median)),
        _ => Err(format!("unexpected output {text:?}")),
    }
}

fn main() {
    let dir = std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
        .join("zh-lexicon");
    let texts = prompts();
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();

    let before = rss();
    let start = Instant::now();
    let fe = ZhFrontEnd::load(&dir)
        .unwrap_or_else(|e| panic!("{e} (run tools/models/install.py --only zh-lexicon)"));
    let load = start.elapsed().as_secs_f64();
    let after = rss();
    let stats = fe.lexicon_stats();

    println!(
        "Mandarin front end, {} IVR prompts ({:.1} characters each), one thread, best / median of {ROUNDS} runs",
        texts.len(),
        chars as f64 / texts.len() as f64
    );
    println!(
        "  load (pinyin tables + jieba dictionary): {:.0} ms; tables {:.1} MB; RSS added by loading: {}",
        load * 1e3,
        stats.heap_bytes as f64 / 1e6,
        match (before, after) {
            (Some(b), Some(a)) => format!("{:.1} MB", a.saturating_sub(b) as f64 / 1e6),
            _ => "unknown".into(),
        }
    );

    let per = |s: f64| s * 1e6 / texts.len() as f64;
    let (best, median) = time(|| {
        for t in &texts {
            black_box(fe.normalize(black_box(t)));
        }
    });
    println!(
        "  normalise only:          {:8.1} µs / {:8.1} µs per prompt",
        per(best),
        per(median)
    );
    let (best, median) = time(|| {
        for t in &texts {
            black_box(fe.phonemize(black_box(t)).ok());
        }
    });
    let rust = per(median);
    println!(
        "  phonemize (Rust):        {:8.1} µs / {:8.1} µs per prompt",
        per(best),
        rust
    );
    match misaki(&texts) {
        Ok((best, median)) => println!(
            "  misaki ZHG2P (Python):   {:8.1} µs / {:8.1} µs per prompt  ({:.1}x the Rust median)",
            per(best),
            per(median),
            per(median) / rust
        ),
        Err(e) => println!("  misaki ZHG2P (Python):   not run: {e}"),
    }
}
