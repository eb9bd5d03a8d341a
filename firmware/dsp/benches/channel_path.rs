//! How many telephone lines one core can carry in real time: the full per-channel DSP
//! path, ours against the same path built from spandsp (C peer
//! `tests/peers/c/spandsp_channel_path.c`), measured in the same run.
//!
//! Per 20 ms frame (160 samples) and channel:
//!
//! 1. A-law decode of the received frame (`g711::decode`),
//! 2. echo canceller, 128 taps, default settings (NLP with comfort noise), the outgoing
//!    prompt as reference,
//! 3. DTMF receiver and 4. call-progress tone detector on the cleaned signal,
//! 5. A-law encode of the outgoing prompt frame (`g711::encode`).
//!
//! spandsp: `alaw_to_linear`, `echo_can_update` (128 taps, adaption + NLP), `dtmf_rx`,
//! `super_tone_rx` with the China tones (plus a 950 Hz guard bin it needs to classify at
//! all), `linear_to_alaw`. spandsp's comfort noise is left off: with `ECHO_CAN_USE_CNG`
//! Debian's 0.0.6 output on this audio turns into -5 dBm0 noise once the caller talks, so
//! its NLP mutes where ours inserts comfort noise.
//!
//! Audio (36 s, A-law encoded once up front): the line carries an espeak-ng caller, DTMF
//! digits from `DtmfTx`, busy tone from `ToneGen` and -62 dBm0 noise, plus the echo of our
//! espeak-ng prompt through a dispersive 3 ms path at -12 dB. [`CHANNELS`] channel states are
//! kept and frames are fed round-robin (frame `f` of channel `c` is audio frame
//! `(c * STRIDE + f) mod frames`), so every channel's state is cold in cache again by its
//! next turn, as on a loaded appliance. Each block is then timed alone over the same round
//! robin (DTMF and tones on one canceller's output over the whole audio). Both sides run
//! [`ROUNDS`] times, alternating, and the best round counts.
//!
//! Channels per core = 20 ms / (time per channel-frame); the target is 240 (eight E1 spans).
//! Debian's libspandsp2 0.0.6 `echo_can_update()` prints a debugging line per sample; the
//! peer sends stdout to /dev/null, but formatting those lines is inside spandsp's measured
//! time (its echo and full-path figures are lower bounds of a clean build).
//!
//! Run with `cargo bench -p yingda-dsp --bench channel_path`. Prints numbers, asserts none.

use std::path::Path;
use std::time::Instant;

use yingda_dsp::dtmf::{DtmfEvent, DtmfRx, DtmfTx};
use yingda_dsp::echo::{EchoCanceller, EchoConfig};
use yingda_dsp::tones::{ChinaTone, ToneDetector, ToneEvent, ToneGen};
use yingda_dsp::{g711, Law};

/// Samples per 20 ms frame.
const FRAME: usize = 160;
/// Frame period, ns.
const FRAME_NS: f64 = 20e6;
/// Channel states kept and fed round-robin.
const CHANNELS: usize = 64;
/// Frame offset between consecutive channels, so channels are not in lock-step.
const STRIDE: usize = 29;
/// Alternating measurement rounds per side; the best counts.
const ROUNDS: usize = 3;
/// Channels per core wanted: eight E1 spans of 30 voice channels.
const TARGET: f64 = 240.0;
const TAPS: usize = 128;
const DIGITS: &str = "20240917#";
const ZERO_DBM0_POWER: f64 = 22_826.5 * 22_826.5 / 2.0;

const BLOCKS: [&str; 6] = ["full", "decode", "echo", "dtmf", "tone", "encode"];
const LABELS: [&str; 6] = [
    "full path",
    "  A-law decode",
    "  echo canceller 128",
    "  DTMF receiver",
    "  tone detector",
    "  A-law encode",
];

/// The test signal: what the line delivers (A-law) and what we send (linear, already on
/// the A-law grid, so encoding it is exact).
struct Audio {
    line: Vec<u8>,
    prompt: Vec<i16>,
    /// Samples where only the prompt's echo is on the line.
    echo_only: std::ops::Range<usize>,
    /// Samples where the caller talks over the prompt (double talk).
    double_talk: std::ops::Range<usize>,
    /// Samples of busy tone (over the prompt's echo).
    busy: std::ops::Range<usize>,
}

fn audio() -> Audio {
    let mut prompt_speech = yingda_testpeers::espeak_8k(
        "en",
        "Welcome to the service line. Please enter your account number, followed by the \
         hash key. For opening hours, press one. To speak to an agent, stay on the line.",
    );
    g711::round_trip(Law::Alaw, &mut prompt_speech);
    let caller = yingda_testpeers::espeak_8k(
        "en",
        "Hello, I am calling about my order from last week. It has not arrived yet, and \
         I would like to know where it is and when it will be delivered.",
    );
    let sec = 8000;

    // Caller side: 6 s quiet (echo only), speech, digits, speech, then 6 s of busy tone.
    let mut near = vec![0i16; 6 * sec];
    near.extend_from_slice(&caller);
    near.extend(std::iter::repeat_n(0, sec));
    let mut tx = DtmfTx::new();
    tx.put(DIGITS).expect("digits");
    let mut buf = [0i16; FRAME];
    while tx.busy() {
        tx.tx(&mut buf);
        near.extend_from_slice(&buf);
    }
    near.extend(std::iter::repeat_n(0, sec / 2));
    near.extend_from_slice(&caller);
    let total = (near.len() + 6 * sec).max(36 * sec).div_ceil(FRAME) * FRAME;
    near.resize(total - 6 * sec, 0);
    let mut busy = vec![0i16; 6 * sec];
    ToneGen::new(ChinaTone::Busy, -10.0)
        .expect("tone")
        .tx(&mut busy);
    near.extend_from_slice(&busy);

    // Our side: the prompt on a loop with 1.5 s pauses.
    let mut prompt = Vec::with_capacity(total);
    while prompt.len() < total {
        prompt.extend_from_slice(&prompt_speech);
        prompt.extend(std::iter::repeat_n(0, 3 * sec / 2));
    }
    prompt.truncate(total);

    // Echo path: 3 ms bulk delay, a short dispersive response, -12 dB overall.
    let shape = [0.3f64, 1.0, -0.45, 0.2, -0.1, 0.05];
    let norm = 10f64.powf(-12.0 / 20.0) / shape.iter().map(|c| c * c).sum::<f64>().sqrt();
    let delay = 24;
    let noise_rms = (ZERO_DBM0_POWER * 10f64.powf(-6.2)).sqrt();
    let mut st = 0x2545_F491_4F6C_DD1Du64;
    let line: Vec<i16> = (0..total)
        .map(|n| {
            let echo: f64 = shape
                .iter()
                .enumerate()
                .filter(|&(k, _)| n >= delay + k)
                .map(|(k, c)| c * norm * f64::from(prompt[n - delay - k]))
                .sum();
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            let u = (st >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let v = f64::from(near[n]) + echo + u * noise_rms * 12f64.sqrt();
            v.round().clamp(-32768.0, 32767.0) as i16
        })
        .collect();
    let mut coded = vec![0u8; total];
    g711::encode(Law::Alaw, &line, &mut coded);
    Audio {
        line: coded,
        prompt,
        echo_only: 2 * sec..6 * sec,
        double_talk: 6 * sec..6 * sec + caller.len(),
        busy: total - 6 * sec..total,
    }
}

struct Channel {
    ec: EchoCanceller,
    dtmf: DtmfRx,
    tones: ToneDetector,
}

fn channels() -> Vec<Channel> {
    let cfg = EchoConfig {
        taps: TAPS,
        ..EchoConfig::default()
    };
    (0..CHANNELS)
        .map(|_| Channel {
            ec: EchoCanceller::new(cfg).expect("echo config"),
            dtmf: DtmfRx::new(),
            tones: ToneDetector::new(),
        })
        .collect()
}

/// Channel 0's detections in the full-path pass.
#[derive(Default)]
struct Seen {
    digits: String,
    tones: Vec<String>,
}

/// One round of ours: ns per channel-frame for each of [`BLOCKS`], channel 0's detections
/// and cleaned signal.
fn ours(a: &Audio, clean_all: &[i16]) -> ([f64; 6], Seen, Vec<i16>) {
    let frames = a.line.len() / FRAME;
    let at = |c: usize, f: usize| (c * STRIDE + f) % frames * FRAME;
    let per = |t: Instant| t.elapsed().as_nanos() as f64 / (frames * CHANNELS) as f64;
    let mut ns = [0.0; 6];
    let mut seen = Seen::default();
    let mut clean0 = vec![0i16; a.line.len()];
    let (mut rx, mut clean, mut tx) = ([0i16; FRAME], [0i16; FRAME], [0u8; FRAME]);

    let mut ch = channels();
    let t = Instant::now();
    for f in 0..frames {
        for (c, k) in ch.iter_mut().enumerate() {
            let i = at(c, f);
            g711::decode(Law::Alaw, &a.line[i..i + FRAME], &mut rx);
            k.ec.process(&a.prompt[i..i + FRAME], &rx, &mut clean)
                .expect("frame lengths");
            k.dtmf.rx(&clean, |e| {
                if let (0, DtmfEvent::Start { digit, .. }) = (c, e) {
                    seen.digits.push(digit);
                }
            });
            k.tones.rx(&clean, |e| {
                if c == 0 {
                    seen.tones.push(match e {
                        ToneEvent::Detected { tone, .. } => format!("{tone:?}"),
                        ToneEvent::Ended { tone, .. } => format!("{tone:?} ended"),
                    });
                }
            });
            g711::encode(Law::Alaw, &a.prompt[i..i + FRAME], &mut tx);
            std::hint::black_box(&tx);
            if c == 0 {
                clean0[i..i + FRAME].copy_from_slice(&clean);
            }
        }
    }
    ns[0] = per(t);

    let t = Instant::now();
    for f in 0..frames {
        for c in 0..CHANNELS {
            let i = at(c, f);
            g711::decode(Law::Alaw, &a.line[i..i + FRAME], &mut rx);
            std::hint::black_box(&rx);
        }
    }
    ns[1] = per(t);

    let mut line_lin = vec![0i16; a.line.len()];
    g711::decode(Law::Alaw, &a.line, &mut line_lin);
    let mut ch = channels();
    let t = Instant::now();
    for f in 0..frames {
        for (c, k) in ch.iter_mut().enumerate() {
            let i = at(c, f);
            k.ec.process(&a.prompt[i..i + FRAME], &line_lin[i..i + FRAME], &mut clean)
                .expect("frame lengths");
            std::hint::black_box(&clean);
        }
    }
    ns[2] = per(t);

    let mut events = 0usize;
    let t = Instant::now();
    for f in 0..frames {
        for (c, k) in ch.iter_mut().enumerate() {
            let i = at(c, f);
            k.dtmf.rx(&clean_all[i..i + FRAME], |_| events += 1);
        }
    }
    ns[3] = per(t);

    let t = Instant::now();
    for f in 0..frames {
        for (c, k) in ch.iter_mut().enumerate() {
            let i = at(c, f);
            k.tones.rx(&clean_all[i..i + FRAME], |_| events += 1);
        }
    }
    ns[4] = per(t);
    std::hint::black_box(events);

    let t = Instant::now();
    for f in 0..frames {
        for c in 0..CHANNELS {
            let i = at(c, f);
            g711::encode(Law::Alaw, &a.prompt[i..i + FRAME], &mut tx);
            std::hint::black_box(&tx);
        }
    }
    ns[5] = per(t);
    (ns, seen, clean0)
}

/// One round of spandsp through the C peer.
fn spandsp(exe: &Path, dir: &Path) -> ([f64; 6], Seen, Vec<i16>) {
    let p = |name: &str| {
        dir.join(name)
            .to_str()
            .expect("utf-8 temp path")
            .to_string()
    };
    let out = yingda_testpeers::run(
        exe,
        &[
            &p("line.alaw"),
            &p("prompt.s16"),
            &CHANNELS.to_string(),
            &STRIDE.to_string(),
            &p("clean0.s16"),
        ],
    );
    let mut ns = [f64::NAN; 6];
    let mut seen = Seen::default();
    for l in String::from_utf8_lossy(&out).lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        match w.as_slice() {
            ["ns", block, v] => {
                let b = BLOCKS.iter().position(|x| x == block).expect("block name");
                ns[b] = v.parse().expect("ns");
            }
            ["digits", d] if *d != "-" => seen.digits = (*d).to_string(),
            ["tones", t] if *t != "-" => {
                const NAMES: [&str; 5] = ["Dial", "Busy", "Congestion", "Ringback", "Guard"];
                seen.tones = t
                    .split(',')
                    .map(|c| match c.parse::<usize>() {
                        Ok(i) => NAMES.get(i).unwrap_or(&"?").to_string(),
                        Err(_) => "ended".to_string(),
                    })
                    .collect();
            }
            _ => {}
        }
    }
    let clean0 = yingda_testpeers::i16_samples(&std::fs::read(p("clean0.s16")).expect("clean0"));
    (ns, seen, clean0)
}

fn level_dbm0(x: &[i16]) -> String {
    let p = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len().max(1) as f64;
    if p < 1e-3 {
        "silent".to_string()
    } else {
        format!("{:.1} dBm0", 10.0 * (p / ZERO_DBM0_POWER).log10())
    }
}

fn main() {
    let a = audio();
    let n = a.line.len();
    let frames = n / FRAME;

    // One canceller over the whole audio: the input of DTMF and tones timed alone.
    let mut line_lin = vec![0i16; n];
    g711::decode(Law::Alaw, &a.line, &mut line_lin);
    let mut clean_all = vec![0i16; n];
    let mut ec = EchoCanceller::new(EchoConfig {
        taps: TAPS,
        ..EchoConfig::default()
    })
    .expect("echo config");
    ec.process(&a.prompt, &line_lin, &mut clean_all)
        .expect("lengths");

    let exe = yingda_testpeers::build("spandsp_channel_path", &[], &["-lspandsp"]);
    let dir = std::env::temp_dir().join(format!("yingda-channel-path-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("line.alaw"), &a.line).expect("write line");
    let bytes: Vec<u8> = a.prompt.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(dir.join("prompt.s16"), bytes).expect("write prompt");

    let (mut best_ours, mut best_sp) = ([f64::MAX; 6], [f64::MAX; 6]);
    let mut last = None;
    for round in 0..ROUNDS {
        let o = ours(&a, &clean_all);
        let s = spandsp(&exe, &dir);
        println!(
            "round {}: full path yingda {:.0} ns, spandsp {:.0} ns per channel-frame",
            round + 1,
            o.0[0],
            s.0[0]
        );
        for b in 0..6 {
            best_ours[b] = best_ours[b].min(o.0[b]);
            best_sp[b] = best_sp[b].min(s.0[b]);
        }
        last = Some((o, s));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let ((_, our_seen, our_clean0), (_, sp_seen, sp_clean0)) = last.expect("rounds");

    println!();
    println!(
        "channel path per 20 ms frame: A-law decode -> echo canceller ({TAPS} taps, NLP) -> \
         DTMF rx -> tone detector -> A-law encode"
    );
    println!(
        "audio {:.1} s ({frames} frames); {CHANNELS} channel states round-robin, {} \
         channel-frames per pass; best of {ROUNDS} alternating rounds; one core",
        n as f64 / 8000.0,
        frames * CHANNELS
    );
    println!();
    println!(
        "{:<22}|{:>11} {:>9} {:>9} |{:>11} {:>9} {:>9} | {:>8}",
        "", "yingda", "", "", "spandsp *", "", "", "spandsp/"
    );
    println!(
        "{:<22}|{:>11} {:>9} {:>9} |{:>11} {:>9} {:>9} | {:>8}",
        "block", "ns/ch-frm", "RTF", "ch/core", "ns/ch-frm", "RTF", "ch/core", "yingda"
    );
    println!("{}", "-".repeat(98));
    let row = |label: &str, o: f64, s: f64| {
        println!(
            "{label:<22}|{o:>11.0} {:>9.2e} {:>9.0} |{s:>11.0} {:>9.2e} {:>9.0} | {:>7.2}x",
            o / FRAME_NS,
            FRAME_NS / o,
            s / FRAME_NS,
            FRAME_NS / s,
            s / o
        );
    };
    for b in 0..6 {
        row(LABELS[b], best_ours[b], best_sp[b]);
    }
    row(
        "  sum of blocks",
        best_ours[1..].iter().sum(),
        best_sp[1..].iter().sum(),
    );
    println!("{}", "-".repeat(98));
    println!(
        "RTF = processing time / real time for one channel; ch/core = 20 ms / (ns per \
         channel-frame); spandsp/yingda = how many times faster ours is."
    );
    println!(
        "* spandsp's echo and full-path figures include Debian libspandsp2 0.0.6's debug \
         printf per sample in echo_can_update (stdout sent to /dev/null): a lower bound."
    );
    let ch = FRAME_NS / best_ours[0];
    println!(
        "target {TARGET:.0} channels (8 E1) per core: yingda {ch:.0} channels ({:.1}x the \
         target, {:.1} % of a core at 240), spandsp {:.0} channels",
        ch / TARGET,
        100.0 * TARGET * best_ours[0] / FRAME_NS,
        FRAME_NS / best_sp[0]
    );

    // Sanity: both paths did the work they were timed for.
    println!();
    println!("channel 0 check (full path)         line in                 yingda out              spandsp out");
    println!(
        "  DTMF digits                       {:<24}{:<24}{}",
        DIGITS, our_seen.digits, sp_seen.digits
    );
    println!(
        "  tone reports                      {:<24}{:<24}{}",
        "Busy (last 6 s)",
        our_seen.tones.join(", "),
        sp_seen.tones.join(", ")
    );
    for (what, r) in [
        ("  level 2-6 s, echo only          ", a.echo_only.clone()),
        ("  level, caller over the prompt   ", a.double_talk.clone()),
        ("  level, busy tone over the prompt", a.busy.clone()),
    ] {
        println!(
            "{what}  {:<24}{:<24}{}",
            level_dbm0(&line_lin[r.clone()]),
            level_dbm0(&our_clean0[r.clone()]),
            level_dbm0(&sp_clean0[r])
        );
    }
}
