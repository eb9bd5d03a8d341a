//! `Manifest::verify` on model directories written by the test: good, missing, truncated,
//! grown, one flipped byte; and `Manifest::load` errors that name the file and field.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use yingda_speech::models::{sha256_file, Manifest, ModelError};

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("yingda-speech-models-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Bytes crossing the 1 MiB hashing block boundary more than once.
fn weights() -> Vec<u8> {
    (0..(2 * 1024 * 1024 + 12_345u32))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

const VOCAB: &[u8] = b"<|zh|>\n<|en|>\n";

fn manifest_text(model_sha: &str, model_size: usize) -> String {
    format!(
        r#"
name = "toy"
task = "asr"
licence = "MIT"
sample_rate_hz = 16000

[[source]]
id = "w"
registry = "pypi"
package = "toy-weights"
version = "1.0.0"

[[file]]
path = "model.bin"
size = {model_size}
sha256 = "{model_sha}"
parts = [{{ source = "w", member = "toy/model.bin.part1" }}, {{ source = "w", member = "toy/model.bin.part2" }}]

[[file]]
path = "sub/vocab.txt"
size = {vocab_size}
sha256 = "{vocab_sha}"
parts = [{{ source = "w", member = "toy/vocab.txt" }}]

[conversion]
status = "pending"
summary = "nothing yet"
"#,
        vocab_size = VOCAB.len(),
        vocab_sha = hex(VOCAB),
    )
}

/// Writes a good install of model "toy" under `<scratch>/models` and returns the manifest.
fn install(s: &Scratch) -> (Manifest, PathBuf) {
    let models = s.0.join("models");
    std::fs::create_dir_all(models.join("toy/sub")).unwrap();
    let w = weights();
    std::fs::write(models.join("toy/model.bin"), &w).unwrap();
    std::fs::write(models.join("toy/sub/vocab.txt"), VOCAB).unwrap();
    let text = manifest_text(&hex(&w), w.len());
    let path = s.0.join("manifest.toml");
    std::fs::write(&path, text).unwrap();
    (Manifest::load(&path).unwrap(), models)
}

#[test]
fn good_install_verifies_every_file() {
    let s = Scratch::new("good");
    let (m, models) = install(&s);
    let v = m.verify(&models).unwrap();
    assert_eq!(v.name, "toy");
    assert_eq!(v.sample_rate_hz, 16000);
    assert_eq!(v.dir, models.join("toy"));
    assert_eq!(v.files.len(), 2);
    assert_eq!(v.files[0].size, weights().len() as u64);
    assert_eq!(
        v.file("sub/vocab.txt"),
        Some(models.join("toy/sub/vocab.txt").as_path())
    );
    assert_eq!(v.file("nope"), None);
}

#[test]
fn missing_file_is_named() {
    let s = Scratch::new("missing");
    let (m, models) = install(&s);
    let gone = models.join("toy/sub/vocab.txt");
    std::fs::remove_file(&gone).unwrap();
    match m.verify(&models) {
        Err(ModelError::Missing { file }) => assert_eq!(file, gone),
        other => panic!("expected Missing, got {other:?}"),
    }
}

#[test]
fn directory_in_place_of_a_file_is_missing() {
    let s = Scratch::new("dir");
    let (m, models) = install(&s);
    std::fs::remove_file(models.join("toy/sub/vocab.txt")).unwrap();
    std::fs::create_dir(models.join("toy/sub/vocab.txt")).unwrap();
    assert!(matches!(m.verify(&models), Err(ModelError::Missing { .. })));
}

#[test]
fn truncated_file_is_wrong_size() {
    let s = Scratch::new("truncated");
    let (m, models) = install(&s);
    let path = models.join("toy/model.bin");
    let w = weights();
    std::fs::write(&path, &w[..w.len() - 1000]).unwrap();
    let err = m.verify(&models).unwrap_err();
    match &err {
        ModelError::WrongSize {
            file,
            expected,
            actual,
        } => {
            assert_eq!(file, &path);
            assert_eq!(*expected, w.len() as u64);
            assert_eq!(*actual, w.len() as u64 - 1000);
        }
        other => panic!("expected WrongSize, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("model.bin"), "{msg}");
    assert!(
        msg.contains(&format!("expected {} bytes", w.len())),
        "{msg}"
    );
}

#[test]
fn one_flipped_byte_is_corrupt() {
    let s = Scratch::new("flipped");
    let (m, models) = install(&s);
    let path = models.join("toy/model.bin");
    let mut w = weights();
    let good = hex(&w);
    // In the second hashing block, so a hash of only the first block would miss it.
    w[1_500_000] ^= 0x01;
    std::fs::write(&path, &w).unwrap();
    match m.verify(&models) {
        Err(ModelError::Corrupt {
            file,
            expected_sha256,
            actual_sha256,
        }) => {
            assert_eq!(file, path);
            assert_eq!(expected_sha256, good);
            assert_eq!(actual_sha256, hex(&w));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn last_byte_flipped_is_corrupt() {
    let s = Scratch::new("lastbyte");
    let (m, models) = install(&s);
    let path = models.join("toy/sub/vocab.txt");
    let mut v = VOCAB.to_vec();
    *v.last_mut().unwrap() ^= 0x80;
    std::fs::write(&path, &v).unwrap();
    assert!(matches!(m.verify(&models), Err(ModelError::Corrupt { file, .. }) if file == path));
}

#[test]
fn streamed_digest_equals_one_shot_digest() {
    let s = Scratch::new("digest");
    let w = weights();
    let path = s.0.join("w.bin");
    std::fs::write(&path, &w).unwrap();
    let d = sha256_file(&path).unwrap();
    assert_eq!(d.size, w.len() as u64);
    assert_eq!(d.hex, hex(&w));
    let abc = s.0.join("abc");
    std::fs::write(&abc, b"abc").unwrap();
    assert_eq!(
        sha256_file(&abc).unwrap().hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

fn parse_err(text: &str) -> String {
    Manifest::parse(text, Path::new("models/toy/manifest.toml"))
        .unwrap_err()
        .to_string()
}

#[test]
fn load_errors_name_the_file_and_field() {
    let good = manifest_text(&"a".repeat(64), 10);
    assert!(Manifest::parse(&good, Path::new("x")).is_ok());

    let msg = parse_err(&good.replace("sample_rate_hz = 16000\n", ""));
    assert!(msg.starts_with("models/toy/manifest.toml: "), "{msg}");
    assert!(msg.contains("sample_rate_hz"), "{msg}");

    let msg = parse_err(&good.replace(&"a".repeat(64), &"A".repeat(64)));
    assert!(msg.contains("field `file[0].sha256`"), "{msg}");

    let msg = parse_err(&good.replace("\"sub/vocab.txt\"", "\"../vocab.txt\""));
    assert!(msg.contains("field `file[1].path`"), "{msg}");

    let msg = parse_err(&good.replace("\"model.bin\"", "\"/etc/passwd\""));
    assert!(msg.contains("field `file[0].path`"), "{msg}");

    let msg = parse_err(&good.replace(
        "source = \"w\", member = \"toy/vocab.txt\"",
        "source = \"x\", member = \"toy/vocab.txt\"",
    ));
    assert!(msg.contains("field `file[1].parts[0].source`"), "{msg}");

    let msg = parse_err(&good.replace("size = 10", "size = -1"));
    assert!(msg.contains("size"), "{msg}");

    let missing = Path::new("/nonexistent/yingda/manifest.toml");
    let msg = Manifest::load(missing).unwrap_err().to_string();
    assert!(msg.contains("/nonexistent/yingda/manifest.toml"), "{msg}");
}
