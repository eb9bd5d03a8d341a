//! The front end's symbol list is exactly Kokoro-82M v1.0's vocabulary.
//!
//! Needs the installed model's `vocab.json` (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models,
//! by `tools/models/install.py --only kokoro-82m`); without it the test fails saying so.

use std::path::PathBuf;

use yingda_tts::zh::vocab;

#[test]
fn symbols_are_the_installed_vocabulary() {
    let path = std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
        .join("kokoro-82m/vocab.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\n(run tools/models/install.py --only kokoro-82m)",
            path.display()
        )
    });
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let map = json["vocab"].as_object().expect("vocab object");
    let mut installed: Vec<char> = map
        .keys()
        .map(|k| {
            let mut it = k.chars();
            let c = it.next().unwrap();
            assert!(it.next().is_none(), "multi-char token {k:?}");
            c
        })
        .collect();
    installed.sort_unstable();
    assert_eq!(installed, vocab::SYMBOLS.to_vec());
    for &c in &installed {
        assert!(vocab::is_symbol(c));
    }
}
