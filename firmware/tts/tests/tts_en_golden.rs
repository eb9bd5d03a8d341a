//! English front end against misaki 0.9.4 on ~300 IVR prompts.
//!
//! Golden data: `tests/data/en/golden.tsv`, made by `tools/models/en_golden.py` from
//! `sentences.tsv` (misaki with spaCy's tagger, espeak fallback off, `unk=""` as Kokoro runs
//! it). Where `sentences.tsv` has a second column (our IVR reading: yuan, digit strings,
//! a.m./p.m., ordinal dates), misaki was run on that reading; this test also checks that our
//! normaliser produces exactly that reading from the first column.
//!
//! Needs the installed lexicon (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models, put there
//! by `tools/models/install.py --only en-lexicon`); without it the tests fail saying so.
//!
//! Prompts with words misaki cannot read at all (third column: "Yingda", "Zhang", …) are not
//! counted: misaki drops those words, we read them with our fallback.
//!
//! Known classes of difference: misaki's spaCy tagger picks readings by part of speech
//! (`that` determiner vs. conjunction, noun vs. verb heteronyms, `in` as particle); our
//! tagger is a handful of rules, so a few such words differ.

use std::path::{Path, PathBuf};

use yingda_tts::en::EnFrontEnd;

/// Share of counted prompts that must match misaki exactly.
const MIN_MATCH: f64 = 0.95;

fn models_dir() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
}

fn front_end() -> EnFrontEnd {
    let dir = models_dir().join("en-lexicon");
    EnFrontEnd::load(&dir)
        .unwrap_or_else(|e| panic!("{e}\n(run tools/models/install.py --only en-lexicon)"))
}

fn data(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/en")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rows(name: &str) -> Vec<Vec<String>> {
    data(name)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(String::from).collect())
        .collect()
}

#[test]
fn matches_misaki_on_ivr_prompts() {
    let fe = front_end();
    let golden = rows("golden.tsv");
    assert!(golden.len() >= 300, "{} golden prompts", golden.len());
    let (mut counted, mut matched) = (0usize, 0usize);
    let mut report = String::new();
    for row in &golden {
        let (text, want, oov) = (&row[0], &row[1], row.get(2).map_or("", String::as_str));
        let got: Vec<String> = fe
            .phonemize(text)
            .expect("phonemize")
            .into_iter()
            .map(|s| s.phonemes)
            .collect();
        let got = got.join(" ");
        if !oov.is_empty() {
            report.push_str(&format!(
                "  (misaki cannot read {oov}) {text}\n      misaki {want}\n      ours   {got}\n"
            ));
            continue;
        }
        counted += 1;
        if got == *want {
            matched += 1;
        } else {
            report.push_str(&format!(
                "  MISMATCH {text}\n      misaki {want}\n      ours   {got}\n"
            ));
        }
    }
    let rate = matched as f64 / counted as f64;
    println!("{report}");
    println!(
        "matched misaki on {matched} of {counted} prompts ({:.1}%)",
        rate * 100.0
    );
    assert!(rate >= MIN_MATCH, "match rate {rate:.3} below {MIN_MATCH}");
}

#[test]
fn normaliser_gives_the_readings_misaki_was_run_on() {
    let fe = front_end();
    for row in rows("sentences.tsv") {
        if let Some(reading) = row.get(1) {
            assert_eq!(&fe.normalize(&row[0]), reading, "{}", row[0]);
        }
    }
}

#[test]
fn names_misaki_drops_are_read() {
    let fe = front_end();
    for (text, want) in [
        (
            "Welcome to Yingda Hospital.",
            "wˈɛlkəm tə jˈɪŋdˌɑ hˈɑspˌɪTᵊl.",
        ),
        (
            "This appointment is with Dr. Wang.",
            "ðˌɪs əpˈYntmənt ɪz wɪð dˈɑktəɹ wˈɑŋ.",
        ),
        (
            "Your identity has been verified.",
            "jˌʊɹ IdˈɛntəTi hæz bɪn vˈɛɹəfˌId.",
        ),
    ] {
        let got = fe.phonemize(text).unwrap();
        assert_eq!(got.len(), 1, "{text}");
        assert_eq!(got[0].phonemes, want, "{text}");
    }
}

#[test]
fn double_digits_option() {
    let fe = front_end().with_options(yingda_tts::en::EnOptions {
        double_digits: true,
    });
    assert_eq!(
        fe.normalize("Please call 95588."),
        "Please call 9 double 5 double 8."
    );
    let s = fe.phonemize("Please call 95588.").unwrap();
    assert_eq!(s[0].phonemes, "plˈiz kˈɔl nˈIn dˈʌbᵊl fˈIv dˈʌbᵊl ˈAt.");
}
