//! `AlsaDevice` through alsa-lib's `file` and `null` plugins: what we play reaches the file
//! sample-exactly, and what the file holds is what we capture.

mod common;

use common::{alsa_test_dir, from_bytes, to_bytes, tone};
use yingda_hal::{AudioDevice, ErrorKind, PcmFrame, FRAME_SAMPLES};
use yingda_hal_alsa::AlsaDevice;

#[test]
fn playback_and_capture_are_sample_exact() {
    let dir = alsa_test_dir();
    // Capture: 12 frames prepared in the file; the playback side of this device is null.
    let input: Vec<i16> = tone(0, 12 * FRAME_SAMPLES, 12000.0)
        .into_iter()
        .enumerate()
        .map(|(i, s)| s.wrapping_add(i as i16)) // not periodic: a shifted frame would not match
        .collect();
    std::fs::write(dir.join("capture.raw"), to_bytes(&input)).unwrap();
    {
        let mut dev = AlsaDevice::open("yingda_capture", "null").unwrap();
        for (k, want) in input.chunks_exact(FRAME_SAMPLES).enumerate() {
            let mut frame: PcmFrame = [0; FRAME_SAMPLES];
            dev.read_frame(&mut frame).unwrap();
            assert_eq!(&frame[..], want, "captured frame {k}");
        }
    }

    // Playback: 25 frames (half a second) with every sample value distinct per frame.
    let output: Vec<i16> = (0..25 * FRAME_SAMPLES)
        .map(|i| (i as i16).wrapping_mul(37).wrapping_sub(9000))
        .collect();
    {
        let mut dev = AlsaDevice::open("null", "yingda_play").unwrap();
        assert!(dev.name().contains("yingda_play"));
        for chunk in output.chunks_exact(FRAME_SAMPLES) {
            let frame: PcmFrame = chunk.try_into().unwrap();
            dev.write_frame(&frame).unwrap();
        }
        dev.drain().unwrap();
    }
    let played = from_bytes(&std::fs::read(dir.join("played.raw")).unwrap());
    assert_eq!(played.len(), output.len());
    assert!(
        played == output,
        "played samples differ from what was written"
    );
}

#[test]
fn unknown_pcm_is_not_found_naming_it() {
    alsa_test_dir();
    let e = AlsaDevice::open("yingda_no_such_pcm", "null").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("yingda_no_such_pcm"), "{e}");
    let e = AlsaDevice::open("null", "yingda_no_such_pcm").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("playback"), "{e}");
}
