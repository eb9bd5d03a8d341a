//! Bad input never panics: mutated flow files only produce errors, and random event
//! sequences (stale ids, events out of order, garbage digits) only produce actions.
//! Deterministic pseudo-random (xorshift) so a failure repeats.

use std::path::Path;
use std::sync::Arc;
use yingda_flow::flow::{validate, RealFs};
use yingda_flow::interp::{Breakers, Call, Event, TransferOutcome};
use yingda_speech::recognizer::{Lang, Recognition};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn flows() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../flows")
}

#[test]
fn mutated_flow_files_give_errors_not_panics() {
    let src = std::fs::read_to_string(flows().join("bank.toml")).unwrap();
    let chars: Vec<char> = src.chars().collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let junk = ['"', '[', ']', '=', '{', '}', '\n', 'x', '1', '#', '.', '人'];
    let mut refused = 0;
    for _ in 0..400 {
        let mut c = chars.clone();
        for _ in 0..=rng.below(3) {
            let i = rng.below(c.len() as u64) as usize;
            match rng.below(3) {
                0 => {
                    c.remove(i);
                }
                1 => c[i] = junk[rng.below(junk.len() as u64) as usize],
                _ => c.insert(i, junk[rng.below(junk.len() as u64) as usize]),
            }
        }
        let text: String = c.into_iter().collect();
        if let Err(errors) = validate(&text, "bank.toml", &flows(), &RealFs) {
            assert!(!errors.is_empty());
            for e in &errors {
                assert!(e.line >= 1 && e.column >= 1, "{e}");
            }
            refused += 1;
        }
    }
    assert!(
        refused > 200,
        "most mutations must be refused, {refused} were"
    );
}

#[test]
fn random_event_sequences_never_panic() {
    let src = std::fs::read_to_string(flows().join("bank.toml")).unwrap();
    let flow = Arc::new(validate(&src, "bank.toml", &flows(), &RealFs).unwrap());
    let mut rng = Rng(42);
    for _ in 0..200 {
        let mut call = Call::new(Arc::clone(&flow), Arc::new(Breakers::default()));
        let mut now = 1_772_416_800_000;
        call.handle(Event::CallStarted {
            at_ms: now,
            caller: "1".into(),
            did: "95500".into(),
        });
        for _ in 0..60 {
            now += rng.below(10_000) as i64;
            let id = rng.below(40);
            let ev = match rng.below(8) {
                0 => Event::Digit {
                    at_ms: now,
                    digit: b"0123456789*#AD"[rng.below(14) as usize] as char,
                },
                1 => Event::PromptFinished { at_ms: now, id },
                2 => Event::TimerFired { at_ms: now, id },
                3 => Event::Recognized {
                    at_ms: now,
                    result: Some(Recognition {
                        text: ["查余额", "人工", "", "挂失", "嗯"][rng.below(5) as usize].into(),
                        confidence: 0.7,
                        label: ["balance", "lost", "yes", "no", "zzz"]
                            .get(rng.below(7) as usize)
                            .map(|s| s.to_string()),
                        digits: None,
                        lang: Lang::Zh,
                        no_speech_prob: 0.1,
                    }),
                },
                4 => Event::HttpReply {
                    at_ms: now,
                    id,
                    status: [200, 500, 404][rng.below(3) as usize],
                    body: ["{}", "{\"balance\": 1, \"ok\": true}", "not json"]
                        [rng.below(3) as usize]
                        .into(),
                },
                5 => Event::HttpFailed {
                    at_ms: now,
                    id,
                    error: "reset".into(),
                },
                6 => Event::TransferResult {
                    at_ms: now,
                    outcome: [
                        TransferOutcome::Busy,
                        TransferOutcome::NoAnswer,
                        TransferOutcome::Answered,
                    ][rng.below(3) as usize],
                },
                _ => Event::RecordingFinished {
                    at_ms: now,
                    id,
                    path: "x".into(),
                },
            };
            call.handle(ev);
        }
        let log = call.log();
        assert!(
            log.windows(2).all(|w| w[0].at_ms <= w[1].at_ms),
            "log times never go back"
        );
    }
}
