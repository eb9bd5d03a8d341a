//! Every committed `models/*/manifest.toml` parses, lists files with a 64-hex sha256, and
//! names its folder; the sizes models.md records are the ones in the manifests.

use std::path::PathBuf;

use yingda_speech::models::{Manifest, Registry};

fn manifests() -> Vec<(PathBuf, Manifest)> {
    let models = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let mut found: Vec<_> = std::fs::read_dir(&models)
        .unwrap()
        .map(|e| e.unwrap().path().join("manifest.toml"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|p| {
            let m = Manifest::load(&p).unwrap_or_else(|e| panic!("{e}"));
            (p, m)
        })
        .collect()
}

#[test]
fn every_committed_manifest_parses_and_lists_hashed_files() {
    let all = manifests();
    assert!(
        all.len() >= 4,
        "expected the four usable models, found {}",
        all.len()
    );
    for (path, m) in &all {
        let folder = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        assert_eq!(m.name, folder, "{}", path.display());
        assert!(!m.files.is_empty(), "{}", path.display());
        assert!(!m.sources.is_empty(), "{}", path.display());
        for f in &m.files {
            assert_eq!(f.sha256.len(), 64, "{}: {}", path.display(), f.path);
            assert!(f.sha256.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(f.size > 0, "{}: {}", path.display(), f.path);
        }
        for lic in &m.licence_files {
            assert!(
                m.files.iter().any(|f| &f.path == lic),
                "{}: licence file {lic} is not installed",
                path.display()
            );
        }
        assert!(m.sample_rate_hz >= 8000, "{}", path.display());
        assert!(
            m.conversion.is_some(),
            "{}: no [conversion]",
            path.display()
        );
    }
}

fn model(name: &str) -> Manifest {
    manifests()
        .into_iter()
        .map(|(_, m)| m)
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no manifest for {name}"))
}

#[test]
fn whisper_model_bin_is_both_parts_in_order() {
    let m = model("whisper-base");
    let bin = m.files.iter().find(|f| f.path == "model.bin").unwrap();
    assert_eq!(bin.size, 145_217_532);
    let sources: Vec<_> = bin.parts.iter().map(|p| p.source.as_str()).collect();
    assert_eq!(sources, ["part1", "part2"]);
    assert_eq!(m.licence, "MIT");
    assert_eq!(m.sample_rate_hz, 16_000);
}

#[test]
fn kokoro_onnx_matches_the_digest_its_package_records() {
    let m = model("kokoro-82m");
    let onnx = m
        .files
        .iter()
        .find(|f| f.path == "kokoro-v1.0.int8.onnx")
        .unwrap();
    assert_eq!(onnx.size, 92_361_271);
    assert!(onnx.sha256.starts_with("6e742170") && onnx.sha256.ends_with("06cb"));
    assert_eq!(onnx.parts.len(), 4);
    assert_eq!(m.sample_rate_hz, 24_000);
    assert_eq!(m.licence, "Apache-2.0");
    for v in ["zf_xiaobei", "zf_xiaoxiao", "zm_yunxi", "zm_yunyang"] {
        let path = format!("voices/{v}.bin");
        let f = m.files.iter().find(|f| f.path == path).unwrap();
        assert_eq!(f.size, 510 * 256 * 4, "{path}");
    }
    assert!(m.sources.iter().any(|s| s.registry == Registry::Npm));
}

#[test]
fn vad_and_piper_rates_and_licences() {
    let vad = model("silero-vad");
    assert_eq!(vad.licence, "MIT");
    assert!(vad.sample_rates_hz.contains(&8000));
    let piper = model("piper-joe");
    assert_eq!(piper.sample_rate_hz, 22_050);
    assert_eq!(piper.licence, "CC0-1.0");
}
