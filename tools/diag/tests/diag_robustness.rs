//! Files from the field may be anything: random bytes, captures cut off while recording,
//! WAV headers with absurd fields. Decoding never panics; the binary exits 0 or 2, never
//! with a panic's 101.

mod common;

use common::{diag, file, mixed_call};
use proptest::prelude::*;
use yingda_dsp::wav::{self, Encoding};
use yingda_dsp::Law;

fn decode_bytes(bytes: &[u8]) {
    let c = file("x.wav", bytes);
    // Either findings or an error; a panic fails the test.
    let _ = yingda_diag::decode_file(&c.path);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn robustness_random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        decode_bytes(&bytes);
    }

    #[test]
    fn robustness_random_bytes_after_a_wav_header_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..4096),
        tag in prop_oneof![Just(1u8), Just(6u8), Just(7u8), any::<u8>()],
    ) {
        let mut w = wav::write(8000, Encoding::Pcm16, &[]);
        w[20] = tag;
        w.extend_from_slice(&body);
        decode_bytes(&w);
    }

    #[test]
    fn robustness_random_samples_never_panic(x in proptest::collection::vec(any::<i16>(), 0..20_000)) {
        let _ = yingda_diag::decode_samples(&x);
    }
}

#[test]
fn robustness_every_truncation_of_a_real_capture() {
    let (x, _) = mixed_call();
    let w = wav::write(8000, Encoding::G711(Law::Alaw), &x[..8000]);
    // Every cut through the header and the first samples, then every 97th byte.
    for n in (0..w.len()).filter(|n| *n < 200 || n % 97 == 0) {
        decode_bytes(&w[..n]);
    }
    // The binary on a few cuts: header-only, mid-header, mid-data.
    let full = wav::write(8000, Encoding::Pcm16, &x);
    for n in [0, 11, 30, 44, full.len() / 3, full.len() - 1] {
        let c = file("cut.wav", &full[..n]);
        let r = diag(&["decode", c.path.to_str().expect("utf-8 path"), "--json"]);
        assert!(matches!(r.code, Some(0 | 2)), "cut at {n}: {r:?}");
        assert!(!r.stderr.contains("panicked"), "cut at {n}: {r:?}");
    }
}
