//! Helpers shared by the `diag_*` tests: reference signals from spandsp (built by the C
//! peers in `tests/peers/c/`), WAV files written to a temporary directory, and runs of the
//! real `yingda-diag` binary.
#![allow(dead_code, unreachable_pub)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use yingda_dsp::wav::{self, Encoding};

/// Milliseconds to samples at 8 kHz.
pub fn samples(ms: u32) -> usize {
    ms as usize * 8
}

/// `ms` of silence.
pub fn silence(ms: u32) -> Vec<i16> {
    vec![0; samples(ms)]
}

/// DTMF `digits` from spandsp's `dtmf_tx` at −10 dBm0, no twist, `on`/`off` ms each:
/// `lead` ms of silence, the digits, then 200 ms of silence. Digit `i` sounds from
/// `lead + i·(on+off)` ms for `on` ms.
pub fn spandsp_dtmf(digits: &str, on: u32, off: u32, lead: u32) -> Vec<i16> {
    let exe = yingda_testpeers::build("spandsp_dtmf_tx", &[], &["-lspandsp"]);
    let args = [
        digits.to_string(),
        "-10".into(),
        "0".into(),
        on.to_string(),
        off.to_string(),
        "-99".into(),
        lead.to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    yingda_testpeers::i16_samples(&yingda_testpeers::run(&exe, &args))
}

/// 450 Hz at −10 dBm0 with the cadence `on`/`off` ms (off 0: continuous) for `total` ms,
/// from spandsp's `tone_gen`.
pub fn spandsp_tone(on: u32, off: u32, total: u32) -> Vec<i16> {
    let exe = yingda_testpeers::build("spandsp_tone_gen", &[], &["-lspandsp"]);
    let seg = format!("450,-10,0,0,{on},{off},0,0,{total}");
    yingda_testpeers::i16_samples(&yingda_testpeers::run(&exe, &["-99", &seg]))
}

/// FSK caller ID from spandsp's ADSI transmitter: `standard` is `clip` (V.23) or `class`
/// (Bell 202), `format` `sdmf` or `mdmf`, fields as `dt=…`, `num=…`, `name=…`,
/// `numabs=P`. 100 ms of silence either side.
pub fn spandsp_fsk_cid(standard: &str, format: &str, fields: &[&str]) -> Vec<i16> {
    let exe = yingda_testpeers::build("spandsp_adsi_tx", &[], &["-lspandsp"]);
    let mut args = vec![standard, format];
    args.extend_from_slice(fields);
    yingda_testpeers::i16_samples(&yingda_testpeers::run(&exe, &args))
}

/// A capture on disk.
#[derive(Debug)]
pub struct Capture {
    _dir: tempfile::TempDir,
    /// The WAV file.
    pub path: PathBuf,
}

/// Write bytes to a fresh temporary file named `name`.
pub fn file(name: &str, bytes: &[u8]) -> Capture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write capture");
    Capture { _dir: dir, path }
}

/// Write `x` as an 8 kHz mono WAV in `enc`.
pub fn wav(x: &[i16], enc: Encoding) -> Capture {
    file("capture.wav", &wav::write(8000, enc, x))
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal, e.g. a panic abort).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Run `yingda-diag` with `args`.
pub fn diag(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_yingda-diag"))
        .args(args)
        .output()
        .expect("run yingda-diag");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `yingda-diag decode PATH --json`, which must succeed; one JSON value per output line.
pub fn decode_json(path: &Path) -> Vec<Value> {
    let path = path.to_str().expect("utf-8 temp path");
    let r = diag(&["decode", path, "--json"]);
    assert_eq!(r.code, Some(0), "stderr: {}", r.stderr);
    r.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// Decode `x` written as 16-bit PCM.
pub fn decode(x: &[i16]) -> Vec<Value> {
    decode_json(&wav(x, Encoding::Pcm16).path)
}

/// Findings of `kind`.
pub fn of_kind<'a>(f: &'a [Value], kind: &str) -> Vec<&'a Value> {
    f.iter().filter(|v| v["kind"] == kind).collect()
}

/// A field as u64 (panics with the finding if absent: a contract break).
pub fn ms(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} missing or not a number in {v}"))
}

/// The DTMF digits found, in order.
pub fn digits(f: &[Value]) -> String {
    of_kind(f, "dtmf")
        .iter()
        .map(|v| v["digit"].as_str().expect("digit is a string"))
        .collect()
}

/// A whole call: FSK caller ID (V.23 MDMF), ringback (2 cycles), digits `1#`, busy
/// (3 cycles). Returns the capture and where caller ID, ringback, the first digit and busy
/// start, ms.
pub fn mixed_call() -> (Vec<i16>, [u64; 4]) {
    let mut x = spandsp_fsk_cid(
        "clip",
        "mdmf",
        &["dt=11221530", "num=13800138000", "name=LI SI"],
    );
    let cid_at = 100;
    x.extend(silence(500));
    let ringback_at = (x.len() / 8) as u64;
    x.extend(spandsp_tone(1000, 4000, 10_000));
    let digits_at = (x.len() / 8) as u64 + 100;
    x.extend(spandsp_dtmf("1#", 100, 100, 100));
    x.extend(silence(500));
    let busy_at = (x.len() / 8) as u64;
    x.extend(spandsp_tone(350, 350, 2100));
    x.extend(silence(1500));
    (x, [cid_at, ringback_at, digits_at, busy_at])
}
