//! `yingda-diag tts`: synthesise text with the box's voices into an 8 kHz WAV, as a call
//! would hear it.
//!
//! `yingda-diag tts --lang zh|en --voice V --out OUT.wav "text"` writes 8 kHz 16-bit mono
//! PCM. The command, its flags and the `--json` field names (`out`, `samples`, `seconds`,
//! `ms`, `first_audio_ms`, `voice`, `lang`, `load_ms`) are a contract: add, never rename.
//! On any error nothing is left at OUT: the audio is written to a temporary file next to
//! it and renamed into place only when complete.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use yingda_tts::synth::{Engine, Lang, Request, SynthError, SynthOptions, Synthesizer};

/// Why `tts` could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TtsCmdError {
    /// A bad request (voice, language, text) or a model that is missing or corrupt.
    #[error("{0}")]
    Synth(#[from] SynthError),
    /// OUT cannot be written.
    #[error("{}: cannot write: {message}", file.display())]
    Out {
        /// The output path.
        file: PathBuf,
        /// Why.
        message: String,
    },
}

/// What to synthesise.
#[derive(Debug, Clone)]
pub struct TtsArgs {
    /// Language of the text.
    pub lang: Lang,
    /// Voice name.
    pub voice: String,
    /// Output WAV.
    pub out: PathBuf,
    /// The text.
    pub text: String,
    /// Where models are installed.
    pub models_dir: PathBuf,
}

/// The `--json` line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TtsOutput {
    /// The WAV written.
    pub out: PathBuf,
    /// Samples at 8 kHz.
    pub samples: usize,
    /// Duration, seconds.
    pub seconds: f64,
    /// Synthesis time, ms (model loading excluded).
    pub ms: f64,
    /// Time from the start of synthesis to the first sentence's 8 kHz audio, ms.
    pub first_audio_ms: f64,
    /// The voice.
    pub voice: String,
    /// The language (`zh`, `en`).
    pub lang: &'static str,
    /// Model loading time, ms.
    pub load_ms: f64,
}

/// A temporary file next to OUT, removed unless [`Pending::commit`] renames it into place.
struct Pending {
    tmp: PathBuf,
    out: PathBuf,
    done: bool,
}

impl Pending {
    fn create(out: &Path) -> Result<Self, TtsCmdError> {
        let err = |message: String| TtsCmdError::Out {
            file: out.to_path_buf(),
            message,
        };
        if out.is_dir() {
            return Err(err("is a directory".into()));
        }
        let name = out
            .file_name()
            .ok_or_else(|| err("not a file name".into()))?
            .to_string_lossy();
        let tmp = out.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| err(e.to_string()))?;
        Ok(Self {
            tmp,
            out: out.to_path_buf(),
            done: false,
        })
    }

    fn commit(mut self, bytes: &[u8]) -> Result<(), TtsCmdError> {
        let err = |e: std::io::Error| TtsCmdError::Out {
            file: self.out.clone(),
            message: e.to_string(),
        };
        std::fs::write(&self.tmp, bytes).map_err(err)?;
        std::fs::rename(&self.tmp, &self.out).map_err(err)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Synthesises `args.text` into `args.out`.
///
/// # Errors
/// Unknown voice (the message lists the installed ones), a voice that does not speak the
/// language, empty text, a missing or corrupt model (naming the file), an unwritable OUT.
pub fn run(args: &TtsArgs) -> Result<TtsOutput, TtsCmdError> {
    let req = Request::new(&args.voice, args.lang, &args.text);
    // Check the request against the manifests before loading anything (seconds).
    let mut opts = SynthOptions::new(&args.models_dir);
    opts.kokoro = false;
    opts.piper = false;
    opts.warm_up = false;
    let engine = Synthesizer::load(&opts).validate(&req)?;
    let pending = Pending::create(&args.out)?;

    let t0 = Instant::now();
    opts.kokoro = engine == Engine::Kokoro;
    opts.piper = engine == Engine::Piper;
    let synth = Synthesizer::load(&opts);
    let load_ms = t0.elapsed().as_secs_f64() * 1000.0;

    let t1 = Instant::now();
    let mut first_audio_ms = None;
    let mut audio = Vec::new();
    for chunk in synth.stream(&req)? {
        audio.extend_from_slice(&chunk?);
        first_audio_ms.get_or_insert(t1.elapsed().as_secs_f64() * 1000.0);
    }
    let ms = t1.elapsed().as_secs_f64() * 1000.0;
    pending.commit(&yingda_dsp::wav::write(
        yingda_tts::synth::LINE_RATE_HZ,
        yingda_dsp::wav::Encoding::Pcm16,
        &audio,
    ))?;
    Ok(TtsOutput {
        out: args.out.clone(),
        samples: audio.len(),
        seconds: audio.len() as f64 / f64::from(yingda_tts::synth::LINE_RATE_HZ),
        ms,
        first_audio_ms: first_audio_ms.unwrap_or(ms),
        voice: args.voice.clone(),
        lang: args.lang.code(),
        load_ms,
    })
}
