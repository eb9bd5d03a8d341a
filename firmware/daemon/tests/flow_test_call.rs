//! `yingda test-call` end to end: the sample flows on the simulated card, through the real
//! line engine (DTMF receiver, echo canceller, prompt player), with scripted callers, the
//! Python HTTPS stand-in as the backend (tests/backend/standin.py, a real server on
//! loopback), and — where the caller speaks — the box's own recogniser and voices.
//!
//! Tests that need speech models skip with a message when they are not installed
//! (`tools/models/install.py`, run by the setup script, installs them).

#[path = "../../backend/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::{ca, server_cert, StandIn};
use yingda::testcall::{self, Engines, Outcome};

fn flows() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../flows")
}

/// Certificates for the sample backends' host names and a stand-in serving them.
fn standin(dir: &Path, extra: &[&str]) -> StandIn {
    let ca = ca("Yingda test CA");
    std::fs::write(dir.join("ca.pem"), ca.cert.pem()).unwrap();
    server_cert(dir, "api", &["his.local", "core.bank.local"], &ca);
    StandIn::start_with(dir, Some("api"), extra)
}

/// Write a script with the stand-in's port filled in and run it.
fn run(flow: &str, script: &str, dir: &Path, port: u16, engines: &Engines) -> Outcome {
    let text = script.replace("PORT", &port.to_string());
    let path = dir.join("script.toml");
    std::fs::write(&path, text).unwrap();
    let script = testcall::load_script(&path).unwrap();
    let flow = testcall::load_flow(&flows().join(flow)).unwrap();
    testcall::run(flow, &script, &path, &dir.join("out"), engines).unwrap()
}

const BANK_HEAD: &str = r#"
caller = "13800138000"
start = "2026-03-02 10:00"
max_s = 120
[backend]
ca = "ca.pem"
resolve = { "core.bank.local:443" = "127.0.0.1:PORT", "his.local:443" = "127.0.0.1:PORT" }
[callees]
"6000" = "answer"
"8001" = "answer"
"#;

fn events_of(o: &Outcome, kind: &str) -> Vec<serde_json::Value> {
    o.events
        .iter()
        .filter(|e| e["event"] == kind)
        .cloned()
        .collect()
}

/// Without voices or recogniser (DTMF only): TTS prompts are skipped, so the caller times
/// its keys with waits.
#[test]
fn bank_balance_by_dtmf_reaches_the_backend_and_the_pin_is_nowhere_in_the_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let s = standin(dir.path(), &[]);
    let script = format!(
        "{BANK_HEAD}{}",
        r#"
[[steps]]
wait_ms = 1500
[[steps]]
digits = "1"
[[steps]]
wait_ms = 500
[[steps]]
digits = "6222020200112230#"
[[steps]]
wait_ms = 500
[[steps]]
digits = "864209"
[[steps]]
wait_ms = 3000
[[steps]]
hangup = true
"#
    );
    let o = run(
        "bank.toml",
        &script,
        dir.path(),
        s.port,
        &Engines::default(),
    );
    let reqs = s.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0]["path"], "/api/balance");
    assert!(reqs[0]["body"].as_str().unwrap().contains("864209"));
    assert_eq!(events_of(&o, "backend_reply")[0]["status"], 200);
    assert!(o.events.iter().any(|e| e["node"] == "say_balance"));
    assert_eq!(o.cdr.caller.as_deref(), Some("13800138000"));
    assert_eq!(
        o.cdr.digits, "",
        "flow calls keep keys in the event log only"
    );
    let inputs = events_of(&o, "input");
    assert!(
        inputs.iter().any(|e| e["digits"] == "<secret>"),
        "{inputs:?}"
    );
    for f in ["events.jsonl", "cdr.json"] {
        let text = std::fs::read_to_string(dir.path().join("out").join(f)).unwrap();
        assert!(!text.contains("864209"), "{f} holds the PIN");
    }
    // Both audio directions were written: the caller's keys are in caller.wav.
    let wav = std::fs::read(dir.path().join("out/caller.wav")).unwrap();
    let w = yingda_dsp::wav::parse(&wav).unwrap();
    assert_eq!((w.rate, w.channels), (8000, 1));
    assert!(w.samples.len() > 8000 * 5, "{} samples", w.samples.len());
    let mut digits = String::new();
    let mut rx = yingda_dsp::dtmf::DtmfRx::new();
    for frame in w.samples.chunks_exact(160) {
        rx.rx(frame, |ev| {
            if let yingda_dsp::dtmf::DtmfEvent::Start { digit, .. } = ev {
                digits.push(digit);
            }
        });
    }
    assert_eq!(digits, "16222020200112230#864209");
}

#[test]
fn a_silent_caller_is_reprompted_then_sent_off_politely() {
    let dir = tempfile::tempdir().unwrap();
    let s = standin(dir.path(), &[]);
    let script = format!("{BANK_HEAD}\n[[steps]]\nwait_ms = 60000\n");
    let o = run(
        "bank.toml",
        &script,
        dir.path(),
        s.port,
        &Engines::default(),
    );
    let no_input = events_of(&o, "no_input");
    assert_eq!(no_input.len(), 3, "{no_input:?}");
    // Each reprompt comes after the menu's 5 s timeout, to the millisecond.
    let starts: Vec<i64> = events_of(&o, "prompt_started")
        .iter()
        .filter(|e| e["node"] == "main")
        .map(|e| e["at_ms"].as_i64().unwrap())
        .collect();
    assert_eq!(starts.len(), 3, "{starts:?}");
    assert!(starts.windows(2).all(|w| w[1] - w[0] == 5000), "{starts:?}");
    assert_eq!(o.end_reason().as_deref(), Some("flow"));
    assert!(o.events.iter().any(|e| e["node"] == "polite_bye"));
    assert!(s.requests().is_empty());
}

#[test]
fn an_invalid_flow_is_rejected_with_file_and_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("broken.toml");
    std::fs::write(
        &flow,
        "schema = 1\nname = \"x\"\ndid = [\"1\"]\nstart = \"a\"\n[nodes.a]\ntype = \"play\"\nprompt = { text = \"hi\" }\nnext = \"nowhere\"\n",
    )
    .unwrap();
    let script = dir.path().join("s.toml");
    std::fs::write(&script, "[[steps]]\nhangup = true\n").unwrap();
    let out = dir.path().join("out");
    let r = Command::new(env!("CARGO_BIN_EXE_yingda"))
        .args(["test-call", "--no-speech", "--flow"])
        .arg(&flow)
        .arg("--script")
        .arg(&script)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("broken.toml:8:"), "{err}");
    assert!(err.contains("nowhere"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_bad_script_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for (text, want) in [
        ("[[steps]]\ndigits = \"12x\"\n", "only 0-9"),
        ("[[steps]]\ndigits = \"1\"\nwait_ms = 3\n", "exactly one"),
        ("[[steps]]\nshout = true\n", "unknown field"),
        ("start = \"yesterday\"\n", "YYYY-MM-DD"),
        ("[callees]\n\"6000\" = \"maybe\"\n", "no_answer"),
    ] {
        let p = dir.path().join("s.toml");
        std::fs::write(&p, text).unwrap();
        let e = testcall::load_script(&p).unwrap_err().to_string();
        assert!(e.contains(want) && e.contains("s.toml"), "{text:?}: {e}");
    }
}

/// Voices and recogniser from the installed models, or `None` (the test then skips).
fn speech() -> Option<Engines> {
    let dir = yingda_speech::models::models_dir_from_env();
    let rec = match yingda_speech::whisper::recognizer::WhisperRecognizer::load(&dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("skipped: speech models not installed ({e})");
            return None;
        }
    };
    let mut o = yingda_tts::synth::SynthOptions::new(&dir);
    o.cache_dir = Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tts-prompt-cache"));
    let synth = yingda_tts::synth::Synthesizer::load(&o);
    Some(Engines {
        recognizer: Some(Arc::new(rec)),
        synth: Some(synth),
        ..Engines::default()
    })
}

const HOSPITAL_HEAD: &str = r#"
caller = "13900139000"
start = "2026-03-02 10:00"
max_s = 180
[backend]
ca = "ca.pem"
resolve = { "his.local:443" = "127.0.0.1:PORT" }
[callees]
"8001" = "answer"
"6000" = "answer"
"#;

#[test]
fn hospital_appointment_by_voice_books_the_spoken_department() {
    let Some(engines) = speech() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = standin(dir.path(), &[]);
    let script = include_str!("data/hospital-book-by-voice.toml");
    let o = run("hospital.toml", script, dir.path(), s.port, &engines);
    let recs = events_of(&o, "recognition");
    eprintln!("{recs:#?}");
    let reqs = s.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}\n{:#?}", o.events);
    let body: serde_json::Value = serde_json::from_str(reqs[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["department"], "口腔科", "{body}");
    assert!(events_of(&o, "speech_end").len() >= 3);
    let lat = o.speech_latencies();
    eprintln!("response latencies (ms): {lat:?}");
    assert!(lat.len() >= 3, "{lat:?}");
    assert!(o.events.iter().any(|e| e["node"] == "booked"));
    // Recognition starts on the caller's first pause, before the endpoint, and its result
    // is the one used (no second recognition at the endpoint).
    let started = events_of(&o, "recognizing");
    assert!(
        started.len() >= 3 && started.iter().all(|e| e["speculative"] == true),
        "{started:#?}"
    );
    let prompts = events_of(&o, "prompt_started");
    eprintln!("{prompts:#?}");
}

#[test]
fn a_caller_pausing_mid_sentence_is_heard_whole() {
    let Some(engines) = speech() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = standin(dir.path(), &[]);
    // "我想看 … 牙科": the pause is long enough for recognition to start on "我想看", too
    // short for the endpoint; what the caller says after it must decide.
    let script = include_str!("data/hospital-book-by-voice.toml").replace(
        "[[steps]]\nsay = \"我想看牙科\"\n",
        "[[steps]]\nsay = \"我想看\"\n[[steps]]\nwait_ms = 450\n[[steps]]\nsay = \"牙科\"\n",
    );
    assert!(script.contains("wait_ms = 450"));
    let o = run("hospital.toml", &script, dir.path(), s.port, &engines);
    let reqs = s.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}\n{:#?}", o.events);
    let body: serde_json::Value = serde_json::from_str(reqs[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["department"], "口腔科", "{body}");
}

#[test]
fn a_caller_who_talks_over_the_menu_stops_it_and_is_understood() {
    let Some(engines) = speech() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = standin(dir.path(), &[]);
    // The welcome is a short recording; the menu prompt then runs ~8 s. The caller speaks
    // two seconds into it.
    let script = format!(
        "{HOSPITAL_HEAD}{}",
        r#"
[[steps]]
wait_ms = 3000
[[steps]]
say = "查结果"
[[steps]]
await_reply = true
[[steps]]
hangup = true
"#
    );
    let o = run("hospital.toml", &script, dir.path(), s.port, &engines);
    let stopped = events_of(&o, "prompt_stopped");
    assert_eq!(stopped.len(), 1, "{:#?}", o.events);
    assert_eq!(stopped[0]["node"], "main");
    let rec = events_of(&o, "recognition");
    assert_eq!(rec[0]["label"], "results", "{rec:?}");
    assert!(o.events.iter().any(|e| e["node"] == "ask_id"));
}

#[test]
fn a_caller_hanging_up_mid_prompt_ends_the_call_at_once() {
    let Some(engines) = speech() else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = standin(dir.path(), &[]);
    let script = format!("{HOSPITAL_HEAD}\n[[steps]]\nwait_ms = 2500\n[[steps]]\nhangup = true\n");
    let o = run("hospital.toml", &script, dir.path(), s.port, &engines);
    assert_eq!(o.end_reason().as_deref(), Some("caller"));
    let answered = o.cdr.answer_ms.unwrap();
    // Busy tone detection after the caller leaves takes a few cadence cycles.
    assert!(o.cdr.end_ms - answered < 2500 + 5000, "{:?}", o.cdr);
    assert!(events_of(&o, "prompt_finished")
        .iter()
        .all(|e| e["node"] != "main"));
}

#[test]
fn a_backend_timeout_gets_an_apology_and_a_transfer_never_dead_air() {
    let Some(mut engines) = speech() else { return };
    engines.recognizer = None;
    let dir = tempfile::tempdir().unwrap();
    let s = standin(dir.path(), &["--api-delay-ms", "5000"]);
    let script = format!(
        "{HOSPITAL_HEAD}{}",
        r#"
[[steps]]
await_reply = true
[[steps]]
digits = "2"
[[steps]]
await_reply = true
[[steps]]
digits = "11010519491231002*#"
[[steps]]
wait_ms = 30000
"#
    );
    let o = run("hospital.toml", &script, dir.path(), s.port, &engines);
    let failed = events_of(&o, "backend_failed");
    assert!(!failed.is_empty(), "{:#?}", o.events);
    let failed_at = failed.last().unwrap()["at_ms"].as_i64().unwrap();
    let first_req = events_of(&o, "backend_request")[0]["at_ms"]
        .as_i64()
        .unwrap();
    assert!(failed_at - first_req >= 3000, "the 3 s timeout ran");
    // After the failure the caller hears the apology before being handed over.
    let apology = o
        .events
        .iter()
        .find(|e| e["event"] == "prompt_audio" && e["at_ms"].as_i64().unwrap() >= failed_at)
        .unwrap_or_else(|| panic!("no apology audio: {:#?}", o.events));
    let transfer = events_of(&o, "transfer");
    assert_eq!(transfer.len(), 1, "{:#?}", o.events);
    assert!(apology["at_ms"].as_i64() <= transfer[0]["at_ms"].as_i64());
    let log: Vec<String> = o.events.iter().map(ToString::to_string).collect();
    assert_eq!(o.end_reason().as_deref(), Some("transferred"), "{log:#?}");
}
