//! The headset on the audio jack as a line, through the real ALSA back-end on alsa-lib's
//! `file` plugin: SIGUSR1 lifts the handset, the IVR answers and plays its greeting into
//! the device; SIGUSR1 again hangs up and the call ends on loop-current drop.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

fn wait_for(rx: &mpsc::Receiver<String>, log: &mut Vec<String>, what: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let hit = line.contains(what);
            log.push(line);
            if hit {
                return true;
            }
        }
    }
    false
}

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
            "[system]\ndata_dir = \"{}\"\nshutdown_grace_s = 1\n\n[[span]]\nname = \"jack\"\nbackend = \"alsa\"\ndevice = \"jack\"\n\n[[channels]]\nchannel = \"1\"\nspan = \"jack\"\nsignalling = \"fxs_ks\"\nanswer_after_rings = 1\nusecallerid = false\n",
            d.join("data").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_yingda"))
        .arg("--config")
        .arg(&cfg)
        .env("ALSA_CONFIG_PATH", d.join("asound.conf"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(child.id() as i32);
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    assert!(wait_for(&rx, &mut log, "span up"), "{log:#?}");
    kill(pid, Signal::SIGUSR1).unwrap();
    assert!(wait_for(&rx, &mut log, "answered"), "{log:#?}");
    assert!(
        wait_for(&rx, &mut log, "prompts finished"),
        "greeting played: {log:#?}"
    );
    kill(pid, Signal::SIGUSR1).unwrap();
    assert!(wait_for(&rx, &mut log, "cdr written"), "{log:#?}");
    assert!(
        log.last().unwrap().contains("loop_current_drop"),
        "{log:#?}"
    );
    kill(pid, Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
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
