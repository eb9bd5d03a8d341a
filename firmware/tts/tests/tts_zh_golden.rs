//! Mandarin front end against misaki 0.9.4 on ~300 hospital and bank IVR prompts.
//!
//! Golden data: `tests/data/zh/sentences.jsonl`, made by `tools/models/zh_golden.py` from
//! `sentences.txt` with `misaki.zh.ZHG2P()` -- the legacy G2P Kokoro-82M v1.0 was trained
//! with (kokoro's `KPipeline` passes `version=None` for repo `hexgrad/Kokoro-82M`). Where
//! `sentences.txt` has a second column, our IVR normaliser reads the prompt differently on
//! purpose and misaki was run on that reading ("reference"); this test also checks that our
//! normaliser produces exactly that reading. Both sides are compared after dropping what is
//! not in Kokoro's vocabulary, which Kokoro drops itself.
//!
//! Needs the installed lexicon (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models, put there
//! by `tools/models/install.py --only zh-lexicon`); without it the tests fail saying so.
//!
//! Known classes of difference from misaki on the raw text (the second column), all on
//! purpose: phone, card and ID numbers digit by digit (misaki: 95588 → 九万五千五百八十八),
//! clock times (misaki keeps the colon: 十四:三十), ISO dates (misaki: 2026-11-22 → 二千零
//! 二十六负十一负二十二), money in 元角分 and `¥` (misaki drops `¥`, reads 十二点五零元),
//! thousands separators (misaki: 2,000 → 二,零), 两 before measure words, `#`/`*` keys
//! (misaki drops them), Latin letters spelled in Chinese letter names (misaki passes them
//! through; Kokoro keeps only A I O Q S T W Y), decimals with ℃ and negative ℃.
//!
//! Known class of difference from the reference itself: bank and hospital polyphones
//! misaki reads wrongly (还款 hai2 kuan3, 我行 wo3 xing2, 支行 zhi1 xing2, 重置 zhong4,
//! 朝阳 zhao1), which `ZhOptions::ivr_polyphones` corrects; with it off the front end must
//! match misaki on ≥ 99% of prompts. Whatever differs is listed when the test runs.

use std::path::{Path, PathBuf};

use serde_json::Value;
use yingda_tts::zh::{vocab, ZhFrontEnd, ZhOptions};

/// Share of prompts that must match misaki's reference exactly.
const MIN_MATCH: f64 = 0.95;
/// The same with our bank polyphone fixes off: only true slips remain.
const MIN_MATCH_WITHOUT_FIXES: f64 = 0.99;

fn models_dir() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
}

fn front_end() -> ZhFrontEnd {
    let dir = models_dir().join("zh-lexicon");
    ZhFrontEnd::load(&dir)
        .unwrap_or_else(|e| panic!("{e}\n(run tools/models/install.py --only zh-lexicon)"))
}

struct Row {
    line: u64,
    text: String,
    spoken: Option<String>,
    misaki: String,
    reference: String,
}

fn rows() -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zh/sentences.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().map(str::to_owned);
            Row {
                line: v["line"].as_u64().unwrap(),
                text: s("text").unwrap(),
                spoken: s("spoken"),
                misaki: s("misaki").unwrap(),
                reference: s("reference").unwrap(),
            }
        })
        .collect()
}

/// What Kokoro reads of a phoneme string: its vocabulary symbols, trimmed.
fn kokoro_view(p: &str) -> String {
    p.chars()
        .filter(|&c| vocab::is_symbol(c))
        .collect::<String>()
        .trim()
        .to_owned()
}

fn ours(fe: &ZhFrontEnd, text: &str) -> String {
    let sentences = fe.phonemize(text).unwrap();
    sentences
        .iter()
        .map(|s| s.phonemes.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn matches_misaki_on_ivr_prompts() {
    let rows = rows();
    let rate = compare(&front_end(), &rows, "default options");
    assert!(rate >= MIN_MATCH, "match rate {rate:.3} below {MIN_MATCH}");
}

#[test]
fn without_polyphone_fixes_matches_misaki_almost_always() {
    let rows = rows();
    let mut o = ZhOptions::default();
    o.ivr_polyphones = false;
    let rate = compare(&front_end().with_options(o), &rows, "ivr_polyphones off");
    assert!(
        rate >= MIN_MATCH_WITHOUT_FIXES,
        "match rate {rate:.3} below {MIN_MATCH_WITHOUT_FIXES}"
    );
}

/// Prints the match rates and the mismatches; returns the share matching the reference.
fn compare(fe: &ZhFrontEnd, rows: &[Row], label: &str) -> f64 {
    assert!(rows.len() >= 290, "{} prompts", rows.len());
    let mut matched = 0;
    let mut raw_matched = 0;
    let mut report = String::new();
    for r in rows {
        let got = ours(fe, &r.text);
        let want = kokoro_view(&r.reference);
        if got == want {
            matched += 1;
        } else {
            report.push_str(&format!(
                "line {}: {}\n  ours:   {got}\n  misaki: {want}\n",
                r.line,
                r.spoken.as_deref().unwrap_or(&r.text)
            ));
        }
        if got == kokoro_view(&r.misaki) {
            raw_matched += 1;
        }
    }
    let rate = matched as f64 / rows.len() as f64;
    println!(
        "zh golden ({label}): {matched}/{} = {:.1}% match misaki's reference; {raw_matched}/{} = {:.1}% match misaki on the raw text",
        rows.len(),
        100.0 * rate,
        rows.len(),
        100.0 * raw_matched as f64 / rows.len() as f64
    );
    if !report.is_empty() {
        println!("mismatches ({label}):\n{report}");
    }
    rate
}

#[test]
fn normaliser_gives_the_spoken_reading() {
    let fe = front_end();
    let mut bad = String::new();
    for r in rows() {
        if let Some(spoken) = &r.spoken {
            let got = fe.normalize(&r.text);
            let want = fe.normalize(spoken);
            if got != want {
                bad.push_str(&format!(
                    "line {}: {}\n  ours: {got}\n  want: {want}\n",
                    r.line, r.text
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{bad}");
}

#[test]
fn every_emitted_symbol_is_a_kokoro_token() {
    let fe = front_end();
    for r in rows() {
        for s in fe.phonemize(&r.text).unwrap() {
            assert!(
                s.phonemes.chars().all(vocab::is_symbol),
                "{}: {}",
                s.text,
                s.phonemes
            );
            assert!(s.tokens() <= 500);
        }
    }
}
