//! `yingda`: the IVR appliance daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use yingda::config::Config;

/// Answers and places calls on the configured telephony cards.
#[derive(Debug, Parser)]
#[command(name = "yingda", version)]
struct Args {
    /// Configuration file.
    #[arg(short, long, default_value = "/etc/yingda/yingda.toml")]
    config: PathBuf,
    /// Validate the configuration and exit.
    #[arg(long)]
    check: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Run one scripted call through a flow on the simulated card, in-process, and write
    /// its event log (JSON lines), CDR and both audio directions (WAV) to a directory.
    TestCall {
        /// The flow file.
        #[arg(long)]
        flow: PathBuf,
        /// The caller's script (TOML; see `docs/test-call.md`).
        #[arg(long)]
        script: PathBuf,
        /// Output directory (created).
        #[arg(long)]
        out: PathBuf,
        /// Where the speech models are (default: $YINGDA_MODELS_DIR or /var/lib/yingda/models).
        #[arg(long)]
        models: Option<PathBuf>,
        /// Do not load speech models: DTMF only, recorded prompts only.
        #[arg(long)]
        no_speech: bool,
        /// Directory of synthesised static prompts kept between runs (default:
        /// $XDG_CACHE_HOME/yingda/prompts or ~/.cache/yingda/prompts).
        #[arg(long)]
        tts_cache: Option<PathBuf>,
    },
}

fn test_call(
    flow: &std::path::Path,
    script: &std::path::Path,
    out: &std::path::Path,
    models: Option<PathBuf>,
    no_speech: bool,
    tts_cache: Option<PathBuf>,
) -> ExitCode {
    use yingda::testcall;
    let flow = match testcall::load_flow(flow) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("yingda test-call: {e}");
            return ExitCode::from(2);
        }
    };
    let parsed = match testcall::load_script(script) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("yingda test-call: {e}");
            return ExitCode::from(2);
        }
    };
    let mut engines = testcall::Engines::default();
    if !no_speech {
        let dir = models.unwrap_or_else(yingda_speech::models::models_dir_from_env);
        match yingda_speech::whisper::recognizer::WhisperRecognizer::load(&dir) {
            Ok(r) => engines.recognizer = Some(std::sync::Arc::new(r)),
            Err(e) => {
                eprintln!("yingda test-call: speech recognition unavailable ({e}); DTMF only")
            }
        }
        let mut sopts = yingda_tts::synth::SynthOptions::new(&dir);
        sopts.cache_dir = tts_cache.or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .map(|c| c.join("yingda/prompts"))
        });
        let synth = yingda_tts::synth::Synthesizer::load(&sopts);
        for (model, state) in synth.models() {
            if let yingda_tts::synth::ModelState::Unavailable { reason } = state {
                eprintln!("yingda test-call: voice {model} unavailable: {reason}");
            }
        }
        engines.synth = Some(synth);
    }
    match testcall::run(flow, &parsed, script, out, &engines) {
        Ok(o) => {
            let lat = o.speech_latencies();
            println!(
                "{}",
                serde_json::json!({
                    "call_id": o.cdr.id.to_string(),
                    "end": o.end_reason(),
                    "cause": o.cdr.cause.as_str(),
                    "seconds": (o.cdr.end_ms - o.cdr.start_ms) as f64 / 1000.0,
                    "events": o.events.len(),
                    "response_ms": lat,
                    "out": out.display().to_string(),
                })
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("yingda test-call: {e}");
            ExitCode::from(match e {
                testcall::TestCallError::Script { .. } | testcall::TestCallError::Flow(_) => 2,
                _ => 1,
            })
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Cmd::TestCall {
        flow,
        script,
        out,
        models,
        no_speech,
        tts_cache,
    }) = &args.command
    {
        return test_call(
            flow,
            script,
            out,
            models.clone(),
            *no_speech,
            tts_cache.clone(),
        );
    }
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("yingda: configuration rejected, nothing started:\n  {e}");
            return ExitCode::from(2);
        }
    };
    if args.check {
        println!("{}: ok", args.config.display());
        return ExitCode::SUCCESS;
    }
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| config.system.log_level.clone());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    match yingda::runtime::run(config, &args.config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("yingda: {e:#}");
            ExitCode::FAILURE
        }
    }
}
