//! Crash-test helper: writes CDRs (and config) in a loop until killed.
//!
//! Usage: `yingda-store-crashtest <db-dir> [threads]`
//!
//! Each writer thread repeatedly allocates a call id, stores
//! [`synthetic_cdr`] for it, and only after `put_cdr`
//! returned prints the id on its own line. Every 8th record it also stores the id as config
//! `crashtest/thread-<n>` and, after that returned, prints `config <n> <id>`. The parent
//! (`tests/store_crash.rs`) kills the process with SIGKILL and checks that every printed
//! line is in the database.
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use yingda_store::verify::synthetic_cdr;
use yingda_store::{SledStore, Store};

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn writer(store: &dyn Store, thread: usize) -> Result<(), Box<dyn std::error::Error>> {
    let stdout = std::io::stdout();
    for n in 0u64.. {
        let id = store.next_call_id()?;
        store.put_cdr(&synthetic_cdr(id, wall_ms()))?;
        let mut out = stdout.lock();
        writeln!(out, "{id}")?;
        out.flush()?;
        drop(out);
        if n % 8 == 7 {
            store.put_config(
                &format!("crashtest/thread-{thread}"),
                id.to_string().as_bytes(),
            )?;
            let mut out = stdout.lock();
            writeln!(out, "config {thread} {id}")?;
            out.flush()?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: yingda-store-crashtest <db-dir> [threads]");
        return ExitCode::from(2);
    };
    let threads = match args.next().map(|t| t.parse::<usize>()) {
        None => 1,
        Some(Ok(t)) if t > 0 => t,
        Some(_) => {
            eprintln!("threads must be a positive number");
            return ExitCode::from(2);
        }
    };
    let store: Arc<dyn Store> = match SledStore::open(&path) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("yingda-store-crashtest: {e}");
            return ExitCode::FAILURE;
        }
    };
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || writer(store.as_ref(), t).map_err(|e| e.to_string()))
        })
        .collect();
    for h in handles {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                eprintln!("yingda-store-crashtest: {e}");
                return ExitCode::FAILURE;
            }
            Err(_) => {
                eprintln!("yingda-store-crashtest: writer thread panicked");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
