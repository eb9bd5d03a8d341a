//! Prompt audio, loaded once at start-up and shared read-only with the real-time threads.
//!
//! Prompts are 8 kHz mono WAV files (16-bit PCM, A-law or µ-law), held as linear samples in
//! `Arc<[i16]>` so that queuing one on a line costs a reference count, not a copy.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use yingda_dsp::wav;

/// Why the prompts could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    /// A prompt the configured flows need has no file.
    #[error("prompt '{name}' is missing: expected {path}")]
    Missing {
        /// Prompt name.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The file could not be read.
    #[error("cannot read prompt {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a usable WAV.
    #[error("prompt {path}: {source}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: wav::WavError,
    },
    /// The file is a WAV but not 8 kHz mono.
    #[error("prompt {path}: {rate} Hz, {channels} channel(s); prompts must be 8000 Hz mono")]
    Format {
        /// The file.
        path: PathBuf,
        /// Its sample rate.
        rate: u32,
        /// Its channel count.
        channels: u16,
    },
}

/// Named prompt audio.
#[derive(Debug, Clone, Default)]
pub struct Prompts {
    by_name: HashMap<String, Arc<[i16]>>,
}

/// Load one prompt file (8 kHz mono WAV: 16-bit PCM, A-law or µ-law); `name` is what
/// errors call it.
pub fn load_file(name: &str, path: PathBuf) -> Result<Arc<[i16]>, PromptError> {
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PromptError::Missing {
                name: name.to_owned(),
                path,
            })
        }
        Err(source) => return Err(PromptError::Io { path, source }),
    };
    decode(path, &bytes)
}

/// Decode prompt audio read from `path` (which errors name).
pub fn decode(path: PathBuf, bytes: &[u8]) -> Result<Arc<[i16]>, PromptError> {
    let w = wav::parse(bytes).map_err(|source| PromptError::Wav {
        path: path.clone(),
        source,
    })?;
    if w.rate != 8000 || w.channels != 1 {
        return Err(PromptError::Format {
            path,
            rate: w.rate,
            channels: w.channels,
        });
    }
    Ok(Arc::from(w.samples))
}

impl Prompts {
    /// The prompts shipped with the daemon (the demo flow's).
    pub fn builtin_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts")
    }

    /// Load `names` from `dir/<name>.wav`; every one must exist and be 8 kHz mono.
    pub fn load(dir: &Path, names: &[&str]) -> Result<Self, PromptError> {
        let mut by_name = HashMap::new();
        for name in names {
            let audio = load_file(name, dir.join(format!("{name}.wav")))?;
            by_name.insert((*name).to_owned(), audio);
        }
        Ok(Self { by_name })
    }

    /// The audio of a prompt.
    pub fn get(&self, name: &str) -> Option<&Arc<[i16]>> {
        self.by_name.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo_flow::PROMPTS;

    #[test]
    fn builtin_prompts_load() {
        let p = Prompts::load(&Prompts::builtin_dir(), PROMPTS).unwrap();
        let g = p.get("greeting").unwrap();
        assert!(g.len() > 8000, "greeting is at least a second long");
        assert!(
            g.iter().any(|&s| s.unsigned_abs() > 4000),
            "greeting is not silent"
        );
    }

    #[test]
    fn missing_and_bad_prompts_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = Prompts::load(dir.path(), &["hello"]).unwrap_err();
        assert!(e.to_string().contains("prompt 'hello' is missing"), "{e}");
        std::fs::write(
            dir.path().join("hello.wav"),
            wav::write(16000, wav::Encoding::Pcm16, &[0; 10]),
        )
        .unwrap();
        let e = Prompts::load(dir.path(), &["hello"]).unwrap_err();
        assert!(e.to_string().contains("16000 Hz"), "{e}");
        std::fs::write(dir.path().join("hello.wav"), b"junk").unwrap();
        let e = Prompts::load(dir.path(), &["hello"]).unwrap_err();
        assert!(e.to_string().contains("not a WAV file"), "{e}");
    }
}
