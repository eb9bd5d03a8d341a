//! Points alsa-lib at the test PCMs of `tests/asoundrc.in`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The directory the test PCMs read and write; ALSA is configured on first call.
///
/// alsa-lib reads its configuration once per process, so the directory is shared by every
/// test of one test binary: each binary uses the two files for a single test.
pub(crate) fn alsa_test_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("yingda-alsa-")
            .tempdir()
            .expect("temp dir")
            .keep();
        let template = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asoundrc.in"),
        )
        .expect("read tests/asoundrc.in");
        let conf = dir.join("asoundrc");
        std::fs::write(
            &conf,
            template.replace("@DIR@", dir.to_str().expect("utf-8 temp dir")),
        )
        .expect("write asoundrc");
        std::env::set_var("ALSA_CONFIG_PATH", &conf);
        dir
    })
}

/// Samples as raw native-endian S16 bytes (the PCM format).
pub(crate) fn to_bytes(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_ne_bytes()).collect()
}

/// Raw native-endian S16 bytes as samples.
pub(crate) fn from_bytes(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_ne_bytes([b[0], b[1]]))
        .collect()
}

/// `n` samples of a 1 kHz tone at `amplitude`, starting at phase `start`.
pub(crate) fn tone(start: usize, n: usize, amplitude: f64) -> Vec<i16> {
    (start..start + n)
        .map(|i| {
            (amplitude * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 8000.0).sin()).round()
                as i16
        })
        .collect()
}
