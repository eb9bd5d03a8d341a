//! `yingda-diag asr`: run the box's recogniser on a capture, as a call would.
//!
//! The JSON line is a contract (`text`, `confidence`, `match`, `ms`; fields may be added,
//! never renamed): `match` is the grammar label, or null for no match and outside grammar
//! mode; `ms` is the recognition time, model loading excluded (`load_ms`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use yingda_speech::grammar::{Grammar, GrammarError};
use yingda_speech::recognizer::{AsrError, Lang, Recognizer, Request};
use yingda_speech::whisper::recognizer::WhisperRecognizer;
use yingda_speech::whisper::WhisperError;

use crate::DecodeError;

/// Why `asr` could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AsrCmdError {
    /// The capture could not be read.
    #[error("{}: {source}", file.display())]
    Capture {
        /// The capture.
        file: PathBuf,
        /// Why.
        source: DecodeError,
    },
    /// The grammar file could not be read or parsed.
    #[error("{}: {message}", file.display())]
    Grammar {
        /// The grammar file.
        file: PathBuf,
        /// Why (with line and column for parse errors).
        message: String,
    },
    /// The model is not installed, corrupt or failed to load.
    #[error("{0}")]
    Model(#[from] WhisperError),
    /// Recognition failed.
    #[error("{0}")]
    Recognise(#[from] AsrError),
}

/// The `--json` line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AsrOutput {
    /// What was heard (empty for silence).
    pub text: String,
    /// 0…1.
    pub confidence: f32,
    /// Grammar label, null for no match or without `--grammar`.
    #[serde(rename = "match")]
    pub matched: Option<String>,
    /// Recognition time, ms.
    pub ms: f64,
    /// Language recognised (`zh`, `en`).
    pub lang: &'static str,
    /// Digits read, in `--digits` mode (null otherwise or when none were said).
    pub digits: Option<String>,
    /// Probability of no speech at all.
    pub no_speech_prob: f32,
    /// Model load time, ms.
    pub load_ms: f64,
}

/// Options of the command.
#[derive(Debug, Clone)]
pub struct AsrArgs {
    /// The capture.
    pub file: PathBuf,
    /// `None` detects Mandarin or English.
    pub lang: Option<Lang>,
    /// Grammar file (flows' format).
    pub grammar: Option<PathBuf>,
    /// Read a digit string.
    pub digits: bool,
    /// Where models are installed.
    pub models_dir: PathBuf,
}

fn load_grammar(file: &Path) -> Result<Grammar, AsrCmdError> {
    let bytes = std::fs::read(file).map_err(|e| AsrCmdError::Grammar {
        file: file.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    Grammar::parse(&bytes).map_err(|e: GrammarError| AsrCmdError::Grammar {
        file: file.to_path_buf(),
        message: e.to_string(),
    })
}

/// Reads the inputs, loads the model and recognises.
pub fn run(args: &AsrArgs) -> Result<AsrOutput, AsrCmdError> {
    let audio = crate::read_capture(&args.file).map_err(|source| AsrCmdError::Capture {
        file: args.file.clone(),
        source,
    })?;
    let request = match &args.grammar {
        Some(g) => Request::grammar(args.lang, Arc::new(load_grammar(g)?)),
        None if args.digits => Request::digits(args.lang),
        None => Request::open(args.lang),
    };
    let t0 = Instant::now();
    let rec = WhisperRecognizer::load(&args.models_dir)?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t1 = Instant::now();
    let r = rec.recognize(&audio, request)?;
    let ms = t1.elapsed().as_secs_f64() * 1e3;
    Ok(AsrOutput {
        text: r.text,
        confidence: r.confidence,
        matched: r.label,
        ms,
        lang: r.lang.code(),
        digits: r.digits,
        no_speech_prob: r.no_speech_prob,
        load_ms,
    })
}
