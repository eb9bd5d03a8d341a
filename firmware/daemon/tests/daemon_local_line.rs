//! The headset on the audio jack as a line, through the real ALSA back-end on alsa-lib's
//! `file` plugin: SIGUSR1 lifts the handset, the IVR answers and plays its greeting into
//! the device; SIGUSR1 again hangs up and the call ends on loop-current drop.

mod common;

use common::Daemon;
use nix::sys::signal::Signal;

#[test]
fn headset_lift_answer_greeting_hang_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Capture: 20 s of silence for the headset microphone.
    std::fs::write(d.join("capture.raw"), vec![0u8; 8000 * 2 * 20]).unwrap();
    std::fs::write(
        d.join("asound.conf"),
        format!(
            "</usr/share/alsa/alsa.conf>\npcm.jack {{\n type asym\n playback.pcm {{ type file slave.pcm \"null\" file \"{0}/played.raw\" format \"raw\" }}\n capture.pcm {{ type file slave.pcm \"null\" file \"/dev/null\" infile \"{0}/capture.raw\" format \"raw\" }}\n}}\n",
            d.display()
        ),
    )
    .unwrap();
    let cfg = d.join("yingda.toml");
    std::fs::write(
        &cfg,
        format!(
            "[speech]\nenabled = false\n\n[system]\ndata_dir = \"{}\"\nshutdown_grace_s = 1\n\n[[span]]\nname = \"jack\"\nbackend = \"alsa\"\ndevice = \"jack\"\n\n[[channels]]\nchannel = \"1\"\nspan = \"jack\"\nsignalling = \"fxs_ks\"\nanswer_after_rings = 1\nusecallerid = false\n",
            d.join("data").display()
        ),
    )
    .unwrap();
    let conf = d.join("asound.conf");
    let mut daemon = Daemon::start(&cfg, &[("ALSA_CONFIG_PATH", &conf)]);
    // Signals are handled once the control loop is up.
    assert!(daemon.wait_for("ready"), "{}", daemon.text());
    daemon.signal(Signal::SIGUSR1);
    assert!(daemon.wait_for("answered"), "{}", daemon.text());
    assert!(
        daemon.wait_for("prompts finished"),
        "greeting played: {}",
        daemon.text()
    );
    daemon.signal(Signal::SIGUSR1);
    assert!(daemon.wait_for("cdr written"), "{}", daemon.text());
    assert!(
        daemon.log.last().unwrap().contains("loop_current_drop"),
        "{}",
        daemon.text()
    );
    daemon.signal(Signal::SIGTERM);
    let (status, log) = daemon.wait();
    assert!(status.success(), "{status:?} {log:#?}");
    // The greeting went out through the device: real speech energy in the played file.
    let played = std::fs::read(d.join("played.raw")).unwrap();
    let samples: Vec<i16> = played
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let loud = samples.iter().filter(|s| s.unsigned_abs() > 3000).count();
    assert!(
        loud > 4000,
        "greeting not heard in the headset: {loud} loud samples of {}",
        samples.len()
    );
}
