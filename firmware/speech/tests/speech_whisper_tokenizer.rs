//! The Rust Whisper tokenizer against Hugging Face `tokenizers` (the reference
//! implementation): golden ids made by tools/models/tokenizer_golden.py from the installed
//! whisper-base tokenizer.json.

use std::path::PathBuf;

use yingda_speech::models::models_dir_from_env;
use yingda_speech::whisper::Tokenizer;

fn tokenizer() -> Tokenizer {
    let path = models_dir_from_env().join("whisper-base/tokenizer.json");
    Tokenizer::load(&path).unwrap_or_else(|e| {
        panic!("{e}\nthe whisper-base model is not installed: run tools/models/install.py")
    })
}

#[derive(serde::Deserialize)]
struct Golden {
    text: String,
    ids: Vec<u32>,
}

fn golden() -> Vec<Golden> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tokenizer/golden.jsonl");
    std::fs::read_to_string(path)
        .expect("golden file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("golden line"))
        .collect()
}

#[test]
fn encode_matches_hugging_face_tokenizers() {
    let tok = tokenizer();
    let mut failures = Vec::new();
    for g in golden() {
        let ids = tok.encode(&g.text);
        if ids != g.ids {
            failures.push(format!(
                "{:?}: ours {:?}, reference {:?}",
                g.text, ids, g.ids
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn decode_inverts_encode() {
    let tok = tokenizer();
    for g in golden() {
        assert_eq!(tok.decode(&g.ids), g.text);
    }
}

#[test]
fn specials_are_found_and_skipped_in_text() {
    let tok = tokenizer();
    let zh = tok.special("<|zh|>").expect("zh");
    let eot = tok.special("<|endoftext|>").expect("eot");
    assert_eq!((zh, eot), (50260, 50257));
    let mut ids = vec![tok.special("<|startoftranscript|>").unwrap(), zh];
    ids.extend(tok.encode("牙科"));
    ids.push(eot);
    assert_eq!(tok.decode(&ids), "牙科");
    assert!(tok.is_special(zh) && !tok.is_special(ids[2]));
    // Text that looks like a special token is encoded as text, never as the token.
    assert!(!tok.encode("<|zh|>").contains(&zh));
}

#[test]
fn decode_survives_ids_out_of_range_and_cut_characters() {
    let tok = tokenizer();
    let ids = tok.encode("牙科");
    // The first token holds only part of 牙's three UTF-8 bytes.
    assert_eq!(tok.decode(&ids[..1]), "\u{FFFD}");
    assert_eq!(tok.decode(&[u32::MAX, 99_999_999]), "");
}

#[test]
fn a_malformed_file_is_an_error_naming_it() {
    let err = Tokenizer::from_json(b"{\"model\": 3}", std::path::Path::new("/x/tokenizer.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/x/tokenizer.json"), "{err}");
    let err = Tokenizer::load("/nonexistent/tokenizer.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/nonexistent/tokenizer.json") && err.contains("cannot read"),
        "{err}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// Byte-level BPE loses nothing: any text decodes back to itself.
    #[test]
    fn any_text_round_trips(text in "\\PC{0,40}") {
        let tok = tokenizer();
        proptest::prop_assert_eq!(tok.decode(&tok.encode(&text)), text);
    }
}
