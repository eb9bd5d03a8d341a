//! CDR write throughput with the store's flush-per-CDR policy.
//!
//! `cargo run --release -p yingda-store --example cdr_write_bench -- [count] [threads] [dir]`
//!
//! Prints writes/s and per-write latency percentiles. Each `put_cdr` includes an fsync, so
//! the figure depends on the disk under `dir` (default: a temporary directory, which may be
//! tmpfs where fsync is nearly free: pass a directory on the real medium to measure it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use yingda_store::verify::synthetic_cdr;
use yingda_store::{SledStore, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2_000);
    let threads: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1)
        .max(1);
    let tmp;
    let dir = match args.next() {
        Some(d) => tempfile::tempdir_in(d)?,
        None => {
            tmp = tempfile::tempdir()?;
            tmp
        }
    };
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path().join("db"))?);
    let per_thread = count / threads;
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || -> Result<Vec<Duration>, String> {
                let mut lat = Vec::with_capacity(per_thread);
                for i in 0..per_thread {
                    let id = store.next_call_id().map_err(|e| e.to_string())?;
                    let cdr = synthetic_cdr(id, 1_700_000_000_000 + i as i64);
                    let t = Instant::now();
                    store.put_cdr(&cdr).map_err(|e| e.to_string())?;
                    lat.push(t.elapsed());
                }
                Ok(lat)
            })
        })
        .collect();
    let mut lat = Vec::new();
    for h in handles {
        lat.extend(h.join().map_err(|_| "writer panicked")??);
    }
    let elapsed = started.elapsed();
    if lat.is_empty() {
        return Err("count must be at least the number of threads".into());
    }
    lat.sort();
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize];
    println!(
        "dir {}: {} CDRs, {} thread(s), flush per CDR",
        dir.path().display(),
        lat.len(),
        threads
    );
    println!(
        "  {:.0} CDR writes/s; put_cdr latency p50 {:?} p99 {:?} max {:?}",
        lat.len() as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}
