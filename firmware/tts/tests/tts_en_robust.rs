//! Bad and hostile input to the English front end: never a panic, never a symbol outside
//! Kokoro's vocabulary, never a sentence over the token limit.
//!
//! Needs the installed lexicon and Kokoro's `vocab.json` (`$YINGDA_MODELS_DIR` or
//! /var/lib/yingda/models, from `tools/models/install.py --only en-lexicon kokoro-82m`).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use yingda_tts::en::{EnError, EnFrontEnd, MAX_KOKORO_TOKENS, MAX_TEXT_BYTES};

fn models_dir() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
}

fn front_end() -> &'static EnFrontEnd {
    static FE: OnceLock<EnFrontEnd> = OnceLock::new();
    FE.get_or_init(|| {
        EnFrontEnd::load(&models_dir().join("en-lexicon"))
            .unwrap_or_else(|e| panic!("{e}\n(run tools/models/install.py --only en-lexicon)"))
    })
}

fn vocab() -> &'static HashSet<char> {
    static V: OnceLock<HashSet<char>> = OnceLock::new();
    V.get_or_init(|| {
        let path = models_dir().join("kokoro-82m/vocab.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run tools/models/install.py --only kokoro-82m)",
                path.display()
            )
        });
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["vocab"]
            .as_object()
            .expect("vocab object")
            .keys()
            .map(|k| {
                let mut cs = k.chars();
                let c = cs.next().unwrap();
                assert!(cs.next().is_none(), "multi-char vocab key {k:?}");
                c
            })
            .collect()
    })
}

fn check(text: &str) {
    let out = front_end().phonemize(text).expect("phonemize");
    for s in &out {
        assert!(!s.phonemes.is_empty());
        assert!(
            s.phonemes.chars().count() <= MAX_KOKORO_TOKENS,
            "{} symbols",
            s.phonemes.chars().count()
        );
        for c in s.phonemes.chars() {
            assert!(
                vocab().contains(&c),
                "{c:?} not in Kokoro vocab (from {text:?})"
            );
        }
    }
}

#[test]
fn every_symbol_we_can_emit_is_in_kokoro_vocab() {
    for c in yingda_tts::en::KOKORO_SYMBOLS.chars() {
        assert!(vocab().contains(&c), "{c:?}");
    }
}

#[test]
fn empty_and_blank_input_gives_nothing() {
    for t in ["", " ", "\n\t", "...", "😀😀", "\u{0}\u{7}"] {
        let out = front_end().phonemize(t).unwrap();
        assert!(out.iter().all(|s| !s.phonemes.is_empty()), "{t:?}: {out:?}");
        check(t);
    }
    assert!(front_end().phonemize("").unwrap().is_empty());
    assert!(front_end().phonemize("😀 🏦").unwrap().is_empty());
}

#[test]
fn emoji_control_chars_and_other_scripts_are_skipped() {
    let out = front_end()
        .phonemize("Press\u{0} 1 😀 for 医院 appointments\u{1b}.")
        .unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].phonemes, "pɹˈɛs wˈʌn fɔɹ əpˈYntmənts.");
    check("Ｐｒｅｓｓ　１。");
    check("¥¥¥ $$$ %%% ### *** ::: --- ''' \"\"\"");
    check("$ 1e99 1,2,3,4 0.0.0 -0 --5 12:99 25:00 9:5 $. $,5");
    check("99999999999999999999999999999 1234567890123456789012345.5 $99999999999999999999999.99");
    check("a.m. p.m. A.M. Dr. Mr. U.S.A. e.g. i.e. etc.");
    check("rock'n'roll 'tis isn't y'all '' '' ‘quoted’ “quoted”");
    check("XYZZY QWRTP Bcdfg zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
}

#[test]
fn long_text_is_split_under_the_token_limit() {
    let prompt =
        "Your appointment with the cardiology department is confirmed for Monday at 9 am, ";
    let text = prompt.repeat(40);
    let out = front_end().phonemize(&text).unwrap();
    assert!(out.len() > 1, "{} sentences", out.len());
    for s in &out {
        assert!(s.phonemes.chars().count() <= MAX_KOKORO_TOKENS);
    }
    check(&text);
    // One endless word.
    check(&"a".repeat(3000));
    check(&"1".repeat(3000));
    check(&"ab-".repeat(1000));
}

#[test]
fn text_over_the_limit_is_an_error_not_a_panic() {
    let text = "Press 1. ".repeat(MAX_TEXT_BYTES / 9 + 10);
    assert!(matches!(
        front_end().phonemize(&text),
        Err(EnError::TooLong { .. })
    ));
}

#[test]
fn many_sentences_stay_sentences() {
    let out = front_end()
        .phonemize("Press 1. Press 2! Is that correct? Goodbye.")
        .unwrap();
    let ps: Vec<&str> = out.iter().map(|s| s.phonemes.as_str()).collect();
    assert_eq!(
        ps,
        ["pɹˈɛs wˈʌn.", "pɹˈɛs tˈu!", "ˌɪz ðˈæt kəɹˈɛkt?", "ɡˌʊdbˈI."]
    );
    assert_eq!(out[0].text, "Press 1.");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        check(&s);
    }

    #[test]
    fn ivr_like_strings_never_panic(s in "[A-Za-z0-9 $¥.,:;!?'\"%&@#*/()-]{0,200}") {
        check(&s);
    }

    #[test]
    fn numbers_never_panic(n in any::<u64>(), d in 0u32..100, sep in prop::sample::select(vec![" ", "", ".", ",", ":", "-", "st", "th", "s", "%"])) {
        check(&format!("{n}{sep}{d:02}"));
        check(&format!("${n}.{d:02}"));
        check(&format!("¥{n}.{d}"));
        check(&format!("-{n}{sep}"));
    }
}
