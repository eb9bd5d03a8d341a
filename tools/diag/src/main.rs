//! `yingda-diag`: field diagnostics for line captures.
//!
//! `yingda-diag decode FILE.wav --json` prints one JSON object per line, in time order, for
//! every DTMF digit, caller ID and call-progress tone found. The command, its flags and the
//! JSON field names are a contract other tools and tests rely on: add, never rename.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Cmd::Decode { file, json } => match yingda_diag::decode_file(&file) {
            Ok(findings) => match print(&findings, json) {
                Ok(()) => ExitCode::SUCCESS,
                // A closed pipe (`yingda-diag decode x.wav --json | head`) means the reader
                // has what it wanted: stop writing and exit quietly.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                // Anything else (a full disk) would leave truncated output behind a
                // success code.
                Err(e) => {
                    eprintln!("yingda-diag: writing the results failed: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprintln!("yingda-diag: {}: {e}", file.display());
                ExitCode::from(2)
            }
        },
    }
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
