//! A full E1 span against libpri: 30 simultaneous calls (B channels 1–15, 17–31) placed by
//! our call control, answered by libpri (network side), then all cleared by us; repeated.
//! Prints the set-up-and-clear rate of the pair, the CPU time each side spent per call (ours
//! in this process — which also runs the hex line pipe to libpri's harness — and libpri's in
//! its own), and the heap our call control holds per call.
//!
//! `cargo bench -p yingda-signaling --bench pri_span` (`YINGDA_PRI_ROUNDS`, default 200).

#[path = "../tests/libpri/mod.rs"]
mod libpri;

use std::time::Instant;

use yingda_signaling::isdn::call::{cause, CallEvent, CallTimers};

// Heap accounting by dhat (a well-kept heap profiler; its allocator does the unsafe part).
#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn live_bytes() -> isize {
    dhat::HeapStats::get().curr_bytes as isize
}

/// CPU time (user + system) of a process, ms, from /proc.
fn cpu_ms(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks * 10.0
}

fn main() {
    let rounds: usize = std::env::var("YINGDA_PRI_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let channels: Vec<u8> = (1..=31).filter(|&c| c != 16).collect();
    // Heap per call, measured on its own (dhat's bookkeeping would distort the CPU figures).
    let per_call_bytes = {
        let _profiler = dhat::Profiler::builder().testing().build();
        let mut pri = yingda_signaling::isdn::call::Pri::new(CallTimers::default());
        let before = live_bytes();
        for &c in &channels {
            pri.place_call(0, c, None, "4008100100").unwrap();
        }
        pri.take_messages();
        (live_bytes() - before) / channels.len() as isize
    };
    let mut cpe = libpri::Cpe::start(CallTimers::default());
    cpe.link.net.cmd("AUTOANSWER");
    let peer = cpe.link.net.child.id().to_string();
    let (ours0, peer0) = (cpe_cpu(), cpu_ms(&peer));
    let t0 = Instant::now();
    for _ in 0..rounds {
        let now = cpe.link.now();
        let keys: Vec<_> = channels
            .iter()
            .map(|&c| cpe.pri.place_call(now, c, None, "4008100100").unwrap())
            .collect();
        let mut up = 0;
        cpe.until("30 calls up", |ev, _, _| {
            up += ev
                .iter()
                .filter(|e| matches!(e, CallEvent::Connected(_)))
                .count();
            // `until` keeps its events until done: count them once.
            up >= keys.len() || {
                up = 0;
                false
            }
        });
        let now = cpe.link.now();
        for k in &keys {
            cpe.pri.hangup(now, *k, cause::NORMAL_CLEARING).unwrap();
        }
        cpe.until("30 calls cleared", |_, _, active| active == 0);
    }
    let secs = t0.elapsed().as_secs_f64();
    let calls = (rounds * channels.len()) as f64;
    let (ours, theirs) = (cpe_cpu() - ours0, cpu_ms(&peer) - peer0);
    println!(
        "PRI span, 30 simultaneous calls set up and cleared, {rounds} rounds against libpri 1.6"
    );
    println!("  calls set up and cleared: {calls:.0} in {secs:.2} s = {:.0} calls/s (the pair, one D channel)", calls / secs);
    println!(
        "  CPU per call: ours {:.3} ms (LAPD + Q.931 + test pipe), libpri {:.3} ms",
        ours / calls,
        theirs / calls
    );
    println!("  heap held by our call control per call (state + SETUP kept for T303): {per_call_bytes} bytes");
    println!(
        "  state sizes: Pri {} bytes, Lapd {} bytes",
        std::mem::size_of::<yingda_signaling::isdn::call::Pri>(),
        std::mem::size_of::<yingda_signaling::isdn::lapd::Lapd>()
    );
}

fn cpe_cpu() -> f64 {
    cpu_ms("self")
}
