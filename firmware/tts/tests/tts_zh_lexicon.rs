//! The pinyin lexicon and the pinyin → Kokoro symbol mapping.
//!
//! `tests/data/zh/syllables.tsv` (made by `tools/models/zh_golden.py`) holds every tone3
//! syllable of the converted pypinyin tables with misaki's `ZHG2P.py2ipa`; the front end
//! must write exactly that (after misaki's final removal of U+032F). Tests that load the
//! lexicon need it installed (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models, by
//! `tools/models/install.py --only zh-lexicon`) and fail saying so otherwise.

use std::path::{Path, PathBuf};
use std::time::Instant;

use yingda_tts::zh::{pinyin_symbols, vocab, ZhError, ZhFrontEnd, ZhOptions, LEXICON_FILE};

fn models_dir() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
}

fn front_end() -> ZhFrontEnd {
    let dir = models_dir().join("zh-lexicon");
    ZhFrontEnd::load(&dir)
        .unwrap_or_else(|e| panic!("{e}\n(run tools/models/install.py --only zh-lexicon)"))
}

fn phonemes(fe: &ZhFrontEnd, text: &str) -> String {
    let s = fe.phonemize(text).unwrap();
    assert_eq!(s.len(), 1, "{text}: {s:?}");
    s[0].phonemes.clone()
}

#[test]
fn every_syllable_like_misaki() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zh/syllables.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut n = 0;
    for line in text.lines() {
        let (py, ipa) = line.split_once('\t').unwrap();
        let want: String = ipa.chars().filter(|&c| c != '\u{32f}').collect();
        let got = pinyin_symbols(py).unwrap_or_else(|| panic!("{py}: not read"));
        assert_eq!(got, want, "{py}");
        assert!(got.chars().all(vocab::is_symbol), "{py}: {got}");
        n += 1;
    }
    assert!(n > 1400, "{n} syllables");
}

#[test]
fn polyphones_follow_the_phrase_table() {
    let fe = front_end();
    for (text, want) in [
        ("银行", "i↗nxa↗ŋ"),
        ("行长", "xa↗ŋꭧa↓ŋ"),
        ("不行", "pu↘ɕi↗ŋ"),
        ("重庆", "ꭧʰʊ↗ŋʨʰi↘ŋ"),
        ("重要", "ꭧʊ↘ŋjau↘"),
        ("便宜", "pʰjɛ↗ni"),
        ("音乐", "i→nɥe↘"),
        ("快乐", "kʰwai↘lɤ↘"),
        ("还款", "xwa↗nkʰwa↓n"),
        ("一个", "i↗kɤ↘"),
        ("支行", "ꭧɨ→xa↗ŋ"),
        ("我行", "wo↓xa↗ŋ"),
        ("重置", "ꭧʰʊ↗ŋꭧɨ↘"),
    ] {
        assert_eq!(phonemes(&fe, text), want, "{text}");
    }
    // As misaki reads them, when asked.
    let mut o = ZhOptions::default();
    o.ivr_polyphones = false;
    let fe = fe.with_options(o);
    assert_eq!(phonemes(&fe, "还款"), "xai↗kʰwa↓n");
    assert_eq!(phonemes(&fe, "支行"), "ꭧɨ→ɕi↗ŋ");
}

#[test]
fn loads_fast_and_small() {
    let t = Instant::now();
    let fe = front_end();
    let took = t.elapsed();
    let stats = fe.lexicon_stats();
    println!(
        "zh lexicon: {} characters, {} phrases, {:.1} MB of tables, loaded with jieba in {:.0} ms",
        stats.characters,
        stats.phrases,
        stats.heap_bytes as f64 / 1e6,
        took.as_secs_f64() * 1e3
    );
    assert!(stats.characters > 40_000);
    assert!(stats.phrases > 45_000);
    assert!(stats.heap_bytes < 8_000_000, "{stats:?}");
}

#[test]
fn missing_and_damaged_tables_are_errors() {
    let tmp = std::env::temp_dir().join(format!("yingda-zh-lexicon-test-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    match ZhFrontEnd::load(&tmp) {
        Err(ZhError::Io { file, .. }) => assert!(file.ends_with(LEXICON_FILE)),
        other => panic!("{other:?}"),
    }
    let table = tmp.join(LEXICON_FILE);
    for (content, line) in [
        ("not a table\n", 1),
        ("# yingda-zh-lexicon 1\nc\t中\tzhong1\nc\t国\n", 3),
        (
            "# yingda-zh-lexicon 1\nc\t中\tzhong1\np\t中国\tzhong1 gwx2\n",
            3,
        ),
        ("# yingda-zh-lexicon 1\nc\t中\tzhong1\nc\t中\tzhong4\n", 3),
    ] {
        std::fs::write(&table, content).unwrap();
        match ZhFrontEnd::load(&tmp) {
            Err(e @ ZhError::Lexicon { line: l, .. }) => {
                assert_eq!(l, line, "{content:?}: {e}");
                assert!(e.to_string().contains(LEXICON_FILE), "{e}");
            }
            other => panic!("{content:?}: {other:?}"),
        }
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}
