//! `yingda-diag`: field diagnostics for line captures.
//!
//! `yingda-diag decode FILE.wav --json` prints one JSON object per line, in time order, for
//! every DTMF digit, caller ID and call-progress tone found. The command, its flags and the
//! JSON field names are a contract other tools and tests rely on: add, never rename.
//!
//! `yingda-diag asr FILE.wav --lang zh|en [--grammar FILE] --json` prints
//! `{"text":…, "confidence":…, "match":…, "ms":…}` (plus added fields) for the utterance
//! in the capture, recognised by the installed Whisper model exactly as on a call.
//!
//! `yingda-diag tts --lang zh|en --voice V --out OUT.wav "text" [--json]` writes the box's
//! synthesis of the text as 8 kHz 16-bit mono PCM; `--json` prints `{"out":…, "samples":…,
//! "seconds":…, "ms":…, "first_audio_ms":…, "voice":…, "lang":…}` (plus added fields).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use yingda_speech::recognizer::Lang;

/// Field diagnostics for the Yingda appliance.
#[derive(Debug, Parser)]
#[command(name = "yingda-diag", version)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Find DTMF digits, caller ID and call-progress tones in an 8 kHz mono WAV capture
    /// (16-bit PCM, A-law or µ-law).
    Decode {
        /// The capture.
        file: PathBuf,
        /// One JSON object per line instead of text for people.
        #[arg(long)]
        json: bool,
    },
    /// Recognise the speech in an 8 kHz mono WAV capture with the box's recogniser.
    Asr {
        /// The capture (8 kHz mono; 16-bit PCM, A-law or µ-law).
        file: PathBuf,
        /// Language spoken; detected between zh and en when left out.
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
        /// Grammar file (`label: phrase | synonym | …` per line): prints the label said.
        #[arg(long, conflicts_with = "digits")]
        grammar: Option<PathBuf>,
        /// Read a digit string (card, phone, ID number) into `digits`.
        #[arg(long)]
        digits: bool,
        /// Where models are installed [default: $YINGDA_MODELS_DIR or /var/lib/yingda/models].
        #[arg(long)]
        models_dir: Option<PathBuf>,
        /// One JSON object instead of text for people.
        #[arg(long)]
        json: bool,
    },
    /// Synthesise text with the box's voices into an 8 kHz 16-bit mono WAV.
    Tts {
        /// Language of the text.
        #[arg(long, value_enum)]
        lang: LangArg,
        /// Voice: zf_*/zm_* (zh), af_*/am_*/bf_*/bm_* or joe (en), as installed.
        #[arg(long)]
        voice: String,
        /// The WAV to write (nothing is left there on error).
        #[arg(long)]
        out: PathBuf,
        /// The text to speak.
        text: String,
        /// Where models are installed [default: $YINGDA_MODELS_DIR or /var/lib/yingda/models].
        #[arg(long)]
        models_dir: Option<PathBuf>,
        /// One JSON object instead of text for people.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LangArg {
    Zh,
    En,
}

impl From<LangArg> for yingda_tts::synth::Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Zh => Self::Zh,
            LangArg::En => Self::En,
        }
    }
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Zh => Lang::Zh,
            LangArg::En => Lang::En,
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Cmd::Asr {
            file,
            lang,
            grammar,
            digits,
            models_dir,
            json,
        } => {
            let args = yingda_diag::asr::AsrArgs {
                file,
                lang: lang.map(Lang::from),
                grammar,
                digits,
                models_dir: models_dir.unwrap_or_else(yingda_speech::models::models_dir_from_env),
            };
            report(yingda_diag::asr::run(&args), |out| print_asr(out, json))
        }
        Cmd::Tts {
            lang,
            voice,
            out,
            text,
            models_dir,
            json,
        } => {
            let args = yingda_diag::tts::TtsArgs {
                lang: lang.into(),
                voice,
                out,
                text,
                models_dir: models_dir.unwrap_or_else(yingda_speech::models::models_dir_from_env),
            };
            report(yingda_diag::tts::run(&args), |out| print_tts(out, json))
        }
        Cmd::Decode { file, json } => match yingda_diag::decode_file(&file) {
            Ok(findings) => finish_write(print(&findings, json)),
            Err(e) => {
                eprintln!("yingda-diag: {}: {e}", file.display());
                ExitCode::from(2)
            }
        },
    }
}

/// Prints a command's result, or its error on stderr with exit code 2.
fn report<T, E: std::fmt::Display>(
    result: Result<T, E>,
    print: impl FnOnce(&T) -> std::io::Result<()>,
) -> ExitCode {
    match result {
        Ok(out) => finish_write(print(&out)),
        Err(e) => {
            eprintln!("yingda-diag: {e}");
            ExitCode::from(2)
        }
    }
}

fn finish_write(written: std::io::Result<()>) -> ExitCode {
    match written {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`yingda-diag decode x.wav --json | head`) means the reader has
        // what it wanted: stop writing and exit quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        // Anything else (a full disk) would leave truncated output behind a success code.
        Err(e) => {
            eprintln!("yingda-diag: writing the results failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_asr(out: &yingda_diag::asr::AsrOutput, json: bool) -> std::io::Result<()> {
    let mut w = std::io::stdout().lock();
    if json {
        let line = serde_json::to_string(out).map_err(std::io::Error::other)?;
        writeln!(w, "{line}")?;
    } else {
        writeln!(w, "text:       {}", out.text)?;
        writeln!(w, "language:   {}", out.lang)?;
        writeln!(w, "confidence: {:.2}", out.confidence)?;
        if let Some(m) = &out.matched {
            writeln!(w, "match:      {m}")?;
        }
        if let Some(d) = &out.digits {
            writeln!(w, "digits:     {d}")?;
        }
        writeln!(
            w,
            "time:       {:.0} ms (model load {:.0} ms)",
            out.ms, out.load_ms
        )?;
    }
    w.flush()
}

fn print_tts(out: &yingda_diag::tts::TtsOutput, json: bool) -> std::io::Result<()> {
    let mut w = std::io::stdout().lock();
    if json {
        let line = serde_json::to_string(out).map_err(std::io::Error::other)?;
        writeln!(w, "{line}")?;
    } else {
        writeln!(
            w,
            "wrote {}: {} samples, {:.2} s at 8 kHz ({} {})",
            out.out.display(),
            out.samples,
            out.seconds,
            out.voice,
            out.lang
        )?;
        writeln!(
            w,
            "time: first audio {:.0} ms, all {:.0} ms (model load {:.0} ms)",
            out.first_audio_ms, out.ms, out.load_ms
        )?;
    }
    w.flush()
}

fn print(findings: &[yingda_diag::Finding], json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for f in findings {
        if json {
            writeln!(out, "{}", f.to_json())?;
        } else {
            writeln!(out, "{f}")?;
        }
    }
    if !json && findings.is_empty() {
        writeln!(
            out,
            "nothing found: no DTMF, caller ID or call-progress tones"
        )?;
    }
    out.flush()
}
