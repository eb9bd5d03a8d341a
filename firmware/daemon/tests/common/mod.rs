//! Running the real `yingda` binary in tests: start it, follow its log, signal it.
#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// A running daemon and the log lines read from it so far.
pub struct Daemon {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every log line seen.
    pub log: Vec<String>,
}

impl Daemon {
    /// Start `yingda --config <config>` with extra environment variables.
    pub fn start(config: &Path, env: &[(&str, &Path)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_yingda"));
        cmd.arg("--config")
            .arg(config)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start yingda");
        let out = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Self {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Wait up to 60 s for a log line containing `what`; returns whether it came.
    pub fn wait_for(&mut self, what: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                let hit = line.contains(what);
                self.log.push(line);
                if hit {
                    return true;
                }
            }
        }
        false
    }

    /// Send a signal.
    pub fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), sig).expect("signal yingda");
    }

    /// Wait for exit; the rest of the log is collected.
    pub fn wait(mut self) -> (ExitStatus, Vec<String>) {
        let status = self.child.wait().expect("wait yingda");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.log.push(line);
        }
        (status, self.log)
    }

    /// The log so far, for assertion messages.
    pub fn text(&self) -> String {
        self.log.join("\n")
    }
}

/// A one-port simulated span with the demo call, `speech` (a `[speech]` table or nothing)
/// first and data under `data`, shut down within `grace_s` seconds.
pub fn demo_config(data: &Path, speech: &str, grace_s: u32) -> String {
    format!(
        r#"
{speech}

[system]
data_dir = "{}"
shutdown_grace_s = {grace_s}

[[span]]
name = "sim0"
backend = "sim"
ports = 1

[span.sim]
pacing = "fast"
demo_call = true

[[channels]]
channel = "1"
span = "sim0"
cidsignalling = "dtmf"
cidstart = "dtmf"
busycount = 3
"#,
        data.display()
    )
}
