//! A broken Piper install is a clear error naming the file, never a panic.
//!
//! Each test builds a models dir in the system temp dir from the installed `piper-joe`
//! (`$YINGDA_MODELS_DIR` or /var/lib/yingda/models; symlinks to its big files), breaks one
//! thing and loads it.

use std::path::{Path, PathBuf};

use yingda_speech::models::{sha256_file, ModelError};
use yingda_tts::piper::{Piper, PiperError, CONFIG_FILE, MODEL_NAME, PART_A_FILE, PART_B_FILE};

fn installed() -> PathBuf {
    let dir = std::env::var_os("YINGDA_MODELS_DIR")
        .map_or_else(|| PathBuf::from("/var/lib/yingda/models"), PathBuf::from)
        .join(MODEL_NAME);
    assert!(
        dir.join(PART_A_FILE).is_file(),
        "{} has no {PART_A_FILE}: run tools/models/install.py --only piper-joe",
        dir.display()
    );
    dir
}

/// A models dir holding a copy of the install (symlinks), removed on drop.
struct Install {
    root: PathBuf,
}

impl Install {
    fn new(test: &str) -> Self {
        let root = std::env::temp_dir().join(format!("yingda-piper-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join(MODEL_NAME);
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(installed()).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if name == "manifest.toml" {
                std::fs::copy(entry.path(), dir.join(&name)).unwrap();
            } else {
                std::os::unix::fs::symlink(entry.path(), dir.join(&name)).unwrap();
            }
        }
        Self { root }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.root.join(MODEL_NAME).join(name)
    }

    /// Replaces a symlinked file by a real file with these bytes.
    fn write(&self, name: &str, bytes: &[u8]) {
        let path = self.file(name);
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }

    fn edit_manifest(&self, edit: impl FnOnce(String) -> String) {
        let path = self.file("manifest.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, edit(text)).unwrap();
    }

    fn load(&self) -> PiperError {
        match Piper::load(&self.root) {
            Ok(_) => panic!("{} loaded", self.root.display()),
            Err(e) => e,
        }
    }
}

impl Drop for Install {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn names(e: &PiperError, file: &str) {
    let text = e.to_string();
    assert!(text.contains(file), "error does not name {file}: {text}");
}

#[test]
fn the_copy_itself_loads() {
    let install = Install::new("good");
    let piper = Piper::load(&install.root).unwrap();
    assert_eq!(piper.sample_rate(), 22050);
    assert_eq!(piper.compiled_plans(), 0, "loading compiles nothing");
}

#[test]
fn missing_part_b_is_named() {
    let install = Install::new("missing");
    std::fs::remove_file(install.file(PART_B_FILE)).unwrap();
    let e = install.load();
    assert!(
        matches!(&e, PiperError::Model(ModelError::Missing { file }) if file.ends_with(PART_B_FILE)),
        "{e}"
    );
    names(&e, PART_B_FILE);
}

#[test]
fn truncated_part_a_is_named() {
    let install = Install::new("truncated");
    install.write(PART_A_FILE, b"not a graph");
    let e = install.load();
    assert!(
        matches!(&e, PiperError::Model(ModelError::WrongSize { file, .. }) if file.ends_with(PART_A_FILE)),
        "{e}"
    );
    names(&e, PART_A_FILE);
}

#[test]
fn corrupt_config_is_named() {
    let install = Install::new("corrupt");
    let mut bytes = std::fs::read(install.file(CONFIG_FILE)).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    install.write(CONFIG_FILE, &bytes);
    let e = install.load();
    assert!(
        matches!(&e, PiperError::Model(ModelError::Corrupt { file, .. }) if file.ends_with(CONFIG_FILE)),
        "{e}"
    );
    names(&e, CONFIG_FILE);
}

#[test]
fn missing_manifest_is_an_error() {
    let install = Install::new("nomanifest");
    std::fs::remove_file(install.file("manifest.toml")).unwrap();
    let e = install.load();
    assert!(
        matches!(&e, PiperError::Model(ModelError::ReadManifest { .. })),
        "{e}"
    );
    names(&e, "manifest.toml");
}

#[test]
fn install_without_conversion_is_named() {
    let install = Install::new("pending");
    install.edit_manifest(|t| t.replace("status = \"done\"", "status = \"pending\""));
    let e = install.load();
    assert!(
        matches!(&e, PiperError::NotConverted { file, .. } if *file == PART_A_FILE),
        "{e}"
    );
    names(&e, PART_A_FILE);
}

#[test]
fn a_graph_tract_cannot_read_is_a_load_error_not_a_panic() {
    // A manifest that vouches for garbage: verification passes, tract must fail cleanly.
    let install = Install::new("garbage");
    let garbage = vec![0x5au8; 4096];
    let installed_digest = sha256_file(&installed().join(PART_A_FILE)).unwrap();
    install.write(PART_A_FILE, &garbage);
    let digest = sha256_file(&install.file(PART_A_FILE)).unwrap();
    install.edit_manifest(|t| {
        t.replace(&installed_digest.hex, &digest.hex).replace(
            &format!("size = {}", installed_digest.size),
            &format!("size = {}", digest.size),
        )
    });
    let e = install.load();
    assert!(
        matches!(&e, PiperError::Load { file, .. } if file.ends_with(PART_A_FILE)),
        "{e}"
    );
}

#[test]
fn errors_for_paths_are_under_the_models_dir() {
    let install = Install::new("paths");
    std::fs::remove_file(install.file(CONFIG_FILE)).unwrap();
    let e = install.load();
    if let PiperError::Model(ModelError::Missing { file }) = &e {
        assert!(file.starts_with(Path::new(&install.root)));
    } else {
        panic!("{e}");
    }
}
