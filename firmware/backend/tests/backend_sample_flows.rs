//! The sample flows' backend nodes run for real: the flow interpreter's `Http` actions go
//! through the client, over TLS, to the stand-in serving the hospital and bank APIs
//! (tests/backend/standin.py); its replies come back as flow events. The caller keys DTMF.
//! Also: a backend that answers too slowly or with 503 sends the caller to the apology
//! (never dead air), and the circuit breaker then skips the backend for the next caller.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use common::{ca, server_cert, StandIn};
use yingda_backend::{event, Backend, BackendConfig};
use yingda_flow::interp::{Action, Breakers, Call, EndReason, Event, Prompt};
use yingda_flow::{validate_file, Flow};

/// 2026-03-02 10:00 Beijing time (a Monday, working hours), in ms UTC.
const MONDAY_10AM: i64 = 1_772_416_800_000;

fn sample(name: &str) -> Arc<Flow> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../flows")
        .join(name);
    Arc::new(validate_file(&path).unwrap_or_else(|e| panic!("{name}: {e:#?}")))
}

/// A caller on a flow: prompts end at once, backend calls go to the real client.
struct Caller {
    call: Call,
    now: i64,
    backend: Backend,
    rt: tokio::runtime::Runtime,
    prompt: Option<u64>,
    said: Vec<String>,
    transfers: Vec<String>,
    ended: Option<EndReason>,
}

impl Caller {
    fn new(flow: Arc<Flow>, breakers: Arc<Breakers>, backend: Backend) -> Caller {
        Caller {
            call: Call::new(flow, breakers),
            now: MONDAY_10AM,
            backend,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            prompt: None,
            said: Vec::new(),
            transfers: Vec::new(),
            ended: None,
        }
    }

    fn send(&mut self, ev: Event) {
        let mut queue = vec![ev];
        while let Some(ev) = queue.pop() {
            for a in self.call.handle(ev) {
                match a {
                    Action::Play { id, prompt, .. } => {
                        self.prompt = Some(id);
                        self.said.push(match prompt {
                            Prompt::File(f) => format!("file:{}", f.display()),
                            Prompt::Tts { text, .. } => text,
                        });
                    }
                    Action::Http(req) => {
                        let out = self.rt.block_on(self.backend.send(&req));
                        self.now += 100;
                        queue.push(event(req.id, self.now, out));
                    }
                    Action::Transfer { extension } => self.transfers.push(extension),
                    Action::HangUp { reason } => self.ended = Some(reason),
                    _ => {}
                }
            }
        }
    }

    fn start(&mut self, did: &str) {
        self.send(Event::CallStarted {
            at_ms: self.now,
            caller: "13800138000".into(),
            did: did.into(),
        });
    }

    fn prompt_ends(&mut self) {
        self.now += 1000;
        let id = self.prompt.take().expect("a prompt is playing");
        self.send(Event::PromptFinished {
            at_ms: self.now,
            id,
        });
    }

    fn press(&mut self, keys: &str) {
        for digit in keys.chars() {
            self.now += 300;
            self.send(Event::Digit {
                at_ms: self.now,
                digit,
            });
        }
    }

    fn last(&self) -> &str {
        self.said.last().map_or("", String::as_str)
    }
}

struct Site {
    dir: tempfile::TempDir,
}

fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let ca = ca("Hospital and bank test CA");
    std::fs::write(dir.path().join("ca.pem"), ca.cert.pem()).unwrap();
    server_cert(dir.path(), "api", &["his.local", "core.bank.local"], &ca);
    Site { dir }
}

impl Site {
    fn standin(&self, extra: &[&str]) -> StandIn {
        StandIn::start_with(self.dir.path(), Some("api"), extra)
    }

    /// The sample flows' hosts (port 443 in their URLs) resolved to `s`, CA pinned.
    fn backend(&self, s: &StandIn) -> Backend {
        let addr = SocketAddr::from(([127, 0, 0, 1], s.port));
        let mut resolve = BTreeMap::new();
        let mut pinned = BTreeMap::new();
        for host in ["his.local", "core.bank.local"] {
            resolve.insert((host.to_string(), 443), addr);
            pinned.insert(host.to_string(), self.dir.path().join("ca.pem"));
        }
        Backend::new(BackendConfig {
            ca_bundle: self.dir.path().join("ca.pem"),
            pinned,
            resolve,
            ..BackendConfig::default()
        })
        .unwrap()
    }
}

#[test]
fn hospital_results_by_id_number_against_the_backend() {
    let site = site();
    let s = site.standin(&[]);
    let mut c = Caller::new(
        sample("hospital.toml"),
        Arc::new(Breakers::default()),
        site.backend(&s),
    );
    c.start("4008100100");
    c.prompt_ends();
    c.press("2");
    c.prompt_ends();
    c.press("11010519491231002*");
    assert_eq!(
        c.last(),
        "您有两份检查结果已出，请到门诊一楼自助机打印。再见。"
    );
    let seen = s.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["path"], "/api/results?id=11010519491231002X");
    assert!(!c.call.log_json_lines().contains("1101051949"));
}

#[test]
fn bank_balance_with_card_and_pin_against_the_backend() {
    let site = site();
    let s = site.standin(&[]);
    let c = balance_on(&site, &s, &Arc::new(Breakers::default()));
    assert_eq!(c.last(), "您的账户余额为一万二千三百四十五元六角。");
    let seen = s.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["method"], "POST");
    assert_eq!(
        seen[0]["body"], r#"{"card": "4111111111111111", "pin": "864209"}"#,
        "the backend gets the PIN ..."
    );
    let log = c.call.log_json_lines();
    assert!(!log.contains("864209"), "... the call's log never: {log}");
}

/// The bank balance path up to the PIN, against stand-in `s`.
fn balance_on(site: &Site, s: &StandIn, breakers: &Arc<Breakers>) -> Caller {
    let mut c = Caller::new(sample("bank.toml"), Arc::clone(breakers), site.backend(s));
    c.start("95500");
    c.prompt_ends();
    c.press("1");
    c.prompt_ends();
    c.press("4111111111111111#");
    c.prompt_ends();
    c.press("864209");
    c
}

#[test]
fn a_slow_backend_times_out_and_the_caller_hears_the_apology() {
    let site = site();
    // Slower than the node's 3 s timeout.
    let s = site.standin(&["--api-delay-ms", "4000"]);
    let mut c = balance_on(&site, &s, &Arc::new(Breakers::default()));
    assert!(
        c.last().starts_with("抱歉"),
        "apology expected, heard {:?}",
        c.said
    );
    // ... and is then handed to an agent.
    c.prompt_ends();
    assert_eq!(c.transfers, ["6000"]);
    // The node's retries = 1: two attempts reached the backend.
    assert_eq!(s.requests().len(), 2);
}

#[test]
fn after_repeated_failures_the_circuit_opens_and_the_backend_is_skipped() {
    let site = site();
    let s = site.standin(&["--api-status", "503"]);
    let breakers = Arc::new(Breakers::default());
    // circuit_failures = 3 failed calls (each with its retry) open the circuit ...
    for _ in 0..3 {
        let c = balance_on(&site, &s, &breakers);
        assert!(c.last().starts_with("抱歉"), "{:?}", c.said);
    }
    let before = s.requests().len();
    assert_eq!(before, 6);
    // ... so the fourth caller hears the apology without a request being made.
    let c = balance_on(&site, &s, &breakers);
    assert!(c.last().starts_with("抱歉"), "{:?}", c.said);
    assert_eq!(s.requests().len(), before);
}
