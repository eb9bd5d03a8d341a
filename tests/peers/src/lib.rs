//! Builds the small C programs in `tests/peers/c/` at test time and runs them.
//!
//! Tests use these to get reference signals and answers from implementations we did not
//! write (spandsp, the DAHDI kernel headers, ...). A program is compiled once per distinct
//! source and flags into `<target>/peers/` and reused; compilation writes to a temporary file
//! and renames it so tests running in parallel never see a half-written binary.
//!
//! Missing system packages are a test failure with a message naming `tools/setup-deps.sh`,
//! never a silent skip.
#![forbid(unsafe_code)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Root of the workspace.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// Where the C sources live.
pub fn c_dir() -> PathBuf {
    workspace_root().join("tests/peers/c")
}

fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let dir = target.join("peers");
    std::fs::create_dir_all(&dir).expect("create target/peers");
    dir
}

/// Include directory holding `dahdi/user.h`, unpacked by `tools/setup-deps.sh`.
pub fn dahdi_include() -> PathBuf {
    std::env::var_os("YINGDA_DAHDI_INCLUDE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/local/share/yingda/dahdi-include"))
}

/// Compile `tests/peers/c/<name>.c` with extra `cflags` (e.g. `-I…`) and `libs`
/// (e.g. `-lspandsp`), returning the path of the executable.
///
/// # Panics
/// If the compiler fails; the message includes its output.
pub fn build(name: &str, cflags: &[&str], libs: &[&str]) -> PathBuf {
    let src = c_dir().join(format!("{name}.c"));
    let text = std::fs::read(&src).unwrap_or_else(|e| panic!("read {}: {e}", src.display()));
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    cflags.hash(&mut h);
    libs.hash(&mut h);
    let exe = out_dir().join(format!("{name}-{:016x}", h.finish()));
    if exe.exists() {
        return exe;
    }
    // Unique per process and per call, so parallel test threads never share a temp file.
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = exe.with_extension(format!("tmp{}-{seq}", std::process::id()));
    let out = Command::new("cc")
        .args(["-O2", "-Wall", "-o"])
        .arg(&tmp)
        .arg(&src)
        .args(cflags)
        .args(libs)
        .arg("-lm")
        .output()
        .expect("run cc (install build-essential: tools/setup-deps.sh)");
    assert!(
        out.status.success(),
        "building peer {name} failed (missing package? run tools/setup-deps.sh):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&tmp, &exe).expect("rename peer binary");
    exe
}

/// Run a peer program and return its standard output.
///
/// # Panics
/// If it cannot start or exits non-zero.
pub fn run(exe: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", exe.display()));
    succeeded(exe, args, out)
}

/// The standard output of a peer that must have exited 0.
fn succeeded(exe: &Path, args: &[&str], out: std::process::Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{} {:?} failed: {}",
        exe.display(),
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Run a peer program with 16-bit little-endian `samples` on its standard input and return
/// its standard output.
///
/// # Panics
/// If it cannot start or exits non-zero.
pub fn run_with_samples(exe: &Path, args: &[&str], samples: &[i16]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", exe.display()));
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    // Write from another thread: a peer that prints while reading must not deadlock us.
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait {}: {e}", exe.display()));
    writer
        .join()
        .expect("stdin writer")
        .unwrap_or_else(|e| panic!("write to {}: {e}", exe.display()));
    succeeded(exe, args, out)
}

/// Interpret raw little-endian bytes as 16-bit samples.
pub fn i16_samples(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

/// Speak `text` with espeak-ng (run as a separate program: it is GPL and never linked) and
/// return 8 kHz mono 16-bit samples via sox.
///
/// sox runs without dither (`-D`): its default dither is random, so the same text would
/// give slightly different samples on every run and borderline recognitions would flake.
///
/// `voice` is an espeak-ng voice such as `en` or `cmn-latn-pinyin` (tone-numbered pinyin).
pub fn espeak_8k(voice: &str, text: &str) -> Vec<i16> {
    let dir = std::env::temp_dir().join(format!("yingda-espeak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // Unique per call: parallel tests may speak the same text at the same time.
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let wav = dir.join(format!("{seq}.wav"));
    let st = Command::new("espeak-ng")
        .args(["-v", voice, "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .expect("run espeak-ng (tools/setup-deps.sh installs it)");
    assert!(st.success(), "espeak-ng failed");
    let out = Command::new("sox")
        .arg("-D")
        .arg(&wav)
        .args([
            "-t",
            "raw",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            "-L",
            "-",
        ])
        .output()
        .expect("run sox (tools/setup-deps.sh installs it)");
    assert!(
        out.status.success(),
        "sox failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&wav);
    i16_samples(&out.stdout)
}
