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
}

fn main() -> ExitCode {
    let args = Args::parse();
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
