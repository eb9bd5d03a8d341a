//! Kokoro phonemes → Piper ids for `en_US-joe-medium`.
//!
//! Needs the installed voice config (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models, from
//! `tools/models/install.py --only piper-joe en-lexicon`).

use std::path::PathBuf;

use yingda_tts::en::piper::to_espeak;
use yingda_tts::en::{EnFrontEnd, PiperPhonemeMap, KOKORO_SYMBOLS};

fn models_dir() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
}

fn map() -> PiperPhonemeMap {
    let path = models_dir().join("piper-joe/en_US-joe-medium.onnx.json");
    PiperPhonemeMap::load(&path)
        .unwrap_or_else(|e| panic!("{e}\n(run tools/models/install.py --only piper-joe)"))
}

fn front_end() -> EnFrontEnd {
    EnFrontEnd::load(&models_dir().join("en-lexicon"))
        .unwrap_or_else(|e| panic!("{e}\n(run tools/models/install.py --only en-lexicon)"))
}

#[test]
fn every_symbol_we_emit_has_a_piper_id() {
    let map = map();
    for c in KOKORO_SYMBOLS.chars() {
        for e in to_espeak(&c.to_string()).chars() {
            assert!(
                map.get(e).is_some(),
                "{c:?} maps to {e:?}, which the voice lacks"
            );
        }
    }
}

#[test]
fn ids_are_framed_like_piper_phonemize() {
    let map = map();
    let (bos, eos, pad) = (
        map.get('^').unwrap()[0],
        map.get('$').unwrap()[0],
        map.get('_').unwrap()[0],
    );
    assert_eq!((bos, eos, pad), (1, 2, 0));
    let ids = front_end().piper_ids("hˈA", &map).unwrap();
    // h ˈ e ɪ → ^ _ h _ ˈ _ e _ ɪ _ $
    let h = map.get('h').unwrap()[0];
    let st = map.get('ˈ').unwrap()[0];
    let e = map.get('e').unwrap()[0];
    let i = map.get('ɪ').unwrap()[0];
    assert_eq!(ids, vec![bos, pad, h, pad, st, pad, e, pad, i, pad, eos]);
    assert_eq!(
        front_end().piper_ids("", &map).unwrap(),
        vec![bos, pad, eos]
    );
}

#[test]
fn espeak_mapping_of_the_symbols_that_differ() {
    assert_eq!(to_espeak("ɡˌʊdbˈI."), "ɡˌʊdbˈaɪ.");
    assert_eq!(to_espeak("ˈɛntəɹ"), "ˈɛntɚ");
    assert_eq!(to_espeak("bˈɜɹd"), "bˈɜːd");
    assert_eq!(to_espeak("sˈi hˈæpi"), "sˈiː hˈæpi");
    assert_eq!(to_espeak("wˈɔTəɹ"), "wˈɔːɾɚ");
    assert_eq!(to_espeak("ʤˈɑb ʧˈæt"), "dʒˈɑːb tʃˈæt");
    assert_eq!(to_espeak("bˈʌTᵊn—"), "bˈʌɾən,");
}

#[test]
fn golden_prompts_give_ids_inside_the_map() {
    let map = map();
    let fe = front_end();
    let n = map.num_symbols().expect("num_symbols");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/en/sentences.tsv"
    ))
    .unwrap();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let prompt = line.split('\t').next().unwrap();
        for s in fe.phonemize(prompt).unwrap() {
            let ids = fe.piper_ids(&s.phonemes, &map).unwrap();
            assert_eq!(ids.first(), Some(&1));
            assert_eq!(ids.last(), Some(&2));
            assert!(ids.iter().all(|&id| (0..n).contains(&id)), "{prompt}");
            // Every symbol of the espeak string became ids (none was dropped).
            let espeak = to_espeak(&s.phonemes);
            assert_eq!(
                ids.len(),
                3 + 2 * espeak.chars().count(),
                "{prompt}: {espeak}"
            );
        }
    }
}

#[test]
fn bad_voice_configs_are_errors() {
    assert!(PiperPhonemeMap::from_json("{}").is_err());
    assert!(PiperPhonemeMap::from_json(r#"{"phoneme_id_map": {"a": [3]}}"#).is_err());
    assert!(PiperPhonemeMap::from_json(
        r#"{"phoneme_id_map": {"^": [1], "$": [2], "_": [0], "ab": [3]}}"#
    )
    .is_err());
    assert!(PiperPhonemeMap::from_json(
        r#"{"num_symbols": 4, "phoneme_id_map": {"^": [1], "$": [2], "_": [9]}}"#
    )
    .is_err());
    assert!(
        PiperPhonemeMap::from_json(r#"{"phoneme_id_map": {"^": [1], "$": [2], "_": [0]}}"#).is_ok()
    );
}
