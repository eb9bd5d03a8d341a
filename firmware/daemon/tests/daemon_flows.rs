//! The daemon runs flows from its flow directory: a call on the simulated card goes through
//! the flow's menu and a backend request to the HTTPS stand-in (a real server on loopback),
//! and its CDR carries the flow's event log. SIGHUP activates a changed file; an invalid
//! file is refused with file, line and node while the active version goes on; a channel
//! group naming a flow that was never activated stops the start with a clear error.

mod common;

#[path = "../../backend/tests/common/mod.rs"]
mod backend;

use std::path::Path;

use common::Daemon;
use nix::sys::signal::Signal;
use yingda_dsp::wav;
use yingda_store::{SledStore, Store};

const FLOW: &str = r#"
schema = 1
name = "clinic"
did = ["100"]
start = "welcome"

[nodes.welcome]
type = "menu"
prompt = { file = "hello.wav" }
options = [{ digit = "1", next = "results" }]
timeout_ms = 15000
retries = 1
on_fail = "bye"

[nodes.results]
type = "http"
method = "GET"
url = "https://his.local/api/results?id=11010519491231002X"
timeout_ms = 5000
retries = 0
map = { count = "/count" }
next = "bye"
on_error = "bye"

[nodes.bye]
type = "hangup"
prompt = { file = "bye.wav" }
"#;

fn tone(ms: usize) -> Vec<u8> {
    let samples: Vec<i16> = (0..ms * 8)
        .map(|i| ((i as f32 * 0.3).sin() * 6000.0) as i16)
        .collect();
    wav::write(8000, wav::Encoding::Pcm16, &samples)
}

struct Setup {
    dir: tempfile::TempDir,
    standin: backend::StandIn,
}

impl Setup {
    fn new(flow_name: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let flows = dir.path().join("flows");
        std::fs::create_dir_all(&flows).unwrap();
        std::fs::write(flows.join("clinic.toml"), FLOW).unwrap();
        std::fs::write(flows.join("hello.wav"), tone(800)).unwrap();
        std::fs::write(flows.join("bye.wav"), tone(400)).unwrap();
        let ca = backend::ca("Test HIS CA");
        std::fs::write(dir.path().join("ca.pem"), ca.cert.pem()).unwrap();
        backend::server_cert(dir.path(), "his", &["his.local"], &ca);
        let standin = backend::StandIn::start(dir.path(), Some("his"));
        let cfg = format!(
            r#"
[speech]
enabled = false

[system]
data_dir = "{data}"
flows_dir = "{flows}"

[backend]
ca_bundle = "{ca}"
resolve = {{ "his.local:443" = "127.0.0.1:{port}" }}

[[span]]
name = "sim0"
backend = "sim"
ports = 1

[span.sim]
pacing = "realtime"
demo_call = true
demo_caller = "13800138000"
demo_digits = "1"

[[channels]]
channel = "1"
span = "sim0"
flow = "{flow_name}"
cidsignalling = "dtmf"
cidstart = "dtmf"
busycount = 3
"#,
            data = dir.path().join("data").display(),
            flows = flows.display(),
            ca = dir.path().join("ca.pem").display(),
            port = standin.port,
        );
        std::fs::write(dir.path().join("yingda.toml"), cfg).unwrap();
        Setup { dir, standin }
    }

    fn start(&self) -> Daemon {
        Daemon::start(&self.dir.path().join("yingda.toml"), &[])
    }

    fn flows(&self) -> std::path::PathBuf {
        self.dir.path().join("flows")
    }

    fn cdr_events(&self) -> Vec<serde_json::Value> {
        let store = SledStore::open(self.dir.path().join("data/yingda.db")).unwrap();
        let page = store.list_cdrs(0..i64::MAX, 10).unwrap();
        let cdr = page.cdrs.first().expect("a CDR was stored");
        cdr.events
            .iter()
            .map(|e| serde_json::from_str(&e.what).unwrap())
            .collect()
    }
}

fn stop(d: Daemon) -> Vec<String> {
    d.signal(Signal::SIGTERM);
    let (status, log) = d.wait();
    assert!(status.success(), "{}", log.join("\n"));
    log
}

#[test]
fn a_call_runs_the_flow_menu_and_backend_and_its_cdr_has_the_event_log() {
    let s = Setup::new("clinic");
    let mut d = s.start();
    assert!(d.wait_for("flow activated"), "{}", d.text());
    assert!(d.wait_for("cdr written"), "{}", d.text());
    let log = stop(d).join("\n");
    assert!(log.contains("version=1"), "{log}");
    // The caller's number never reaches the log in full.
    assert!(!log.contains("13800138000"), "{log}");

    let events = s.cdr_events();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    let nodes: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "node")
        .filter_map(|e| e["node"].as_str())
        .collect();
    assert_eq!(nodes, ["welcome", "results", "bye"], "{events:#?}");
    for k in [
        "call_started",
        "input",
        "backend_request",
        "backend_reply",
        "end",
    ] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
    let reply = events
        .iter()
        .find(|e| e["event"] == "backend_reply")
        .unwrap();
    assert_eq!(reply["status"], 200, "{reply}");
    let reqs = s.standin.requests();
    assert!(
        reqs.iter().any(|r| r["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/api/results"))),
        "{reqs:?}"
    );
}

#[test]
fn sighup_activates_a_changed_flow_and_refuses_an_invalid_one() {
    let s = Setup::new("clinic");
    let mut d = s.start();
    assert!(d.wait_for("flow activated"), "{}", d.text());
    assert!(d.wait_for("ready: answering calls"), "{}", d.text());
    // An invalid edit: refused with file, line and node; version 1 stays.
    let broken = FLOW.replace("next = \"results\"", "next = \"nowhere\"");
    std::fs::write(s.flows().join("clinic.toml"), &broken).unwrap();
    d.signal(Signal::SIGHUP);
    assert!(d.wait_for("flow not activated"), "{}", d.text());
    let line = d.log.last().unwrap().clone();
    assert!(
        line.contains("clinic.toml:")
            && line.contains("node `welcome`")
            && line.contains("nowhere"),
        "{line}"
    );
    // A good edit (a new greeting): version 2.
    std::fs::write(s.flows().join("clinic.toml"), FLOW).unwrap();
    std::fs::write(s.flows().join("hello.wav"), tone(600)).unwrap();
    d.signal(Signal::SIGHUP);
    assert!(d.wait_for("flow activated"), "{}", d.text());
    assert!(d.log.last().unwrap().contains("version=2"), "{}", d.text());
    let log = stop(d);
    assert!(
        !log.iter().any(|l| l.contains("panicked")),
        "{}",
        log.join("\n")
    );

    // A restart with the same files stores nothing new.
    let mut d = s.start();
    assert!(d.wait_for("ready: answering calls"), "{}", d.text());
    let log = stop(d).join("\n");
    assert!(!log.contains("flow activated"), "{log}");
}

#[test]
fn a_group_naming_a_flow_never_activated_stops_the_start() {
    let s = Setup::new("pharmacy");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yingda"))
        .arg("--config")
        .arg(s.dir.path().join("yingda.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("flow `pharmacy` is not active") && text.contains("flows_dir"),
        "{text}"
    );
    assert!(!Path::new(&s.dir.path().join("data/recordings")).exists());
}
