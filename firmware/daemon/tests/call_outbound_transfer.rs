//! Outbound calls and hook-flash transfers end to end on the simulated exchange: the box
//! dials DTMF that the exchange decodes, call-progress tones are classified, the callee's
//! answer is detected by voice, and a transfer flashes, dials the extension and hands over
//! or takes the caller back.

use std::sync::Arc;

use yingda::prompts::Prompts;
use yingda::testbed::Testbed;
use yingda_hal_sim::{CallScript, Callee, CoEvent, Step};
use yingda_store::{Direction, DisconnectCause};

const CONFIG: &str = r#"
[[span]]
name = "sim0"
backend = "sim"
ports = 2

[[channels]]
channel = "1-2"
span = "sim0"
busycount = 3
cidsignalling = "dtmf"
cidstart = "dtmf"
"#;

fn voice() -> Arc<[i16]> {
    Prompts::load(&Prompts::builtin_dir(), &["greeting"])
        .unwrap()
        .get("greeting")
        .unwrap()
        .clone()
}

fn co_log(tb: &Testbed) -> Vec<CoEvent> {
    tb.sim(0)
        .take_log()
        .into_iter()
        .map(|(_, _, e)| e)
        .collect()
}

#[test]
fn outbound_call_is_dialled_answered_by_voice_and_ends_on_busy_tone() {
    let mut tb = Testbed::from_toml(CONFIG).unwrap();
    tb.sim(0).set_callee(
        "80012345",
        Callee::Answer {
            after_ms: 9_000,
            polarity: false,
            steps: vec![Step::Play(voice()), Step::HangUp],
        },
    );
    tb.dial(1, "80012345");
    assert!(
        tb.run_until(90_000, |tb| !tb.cdrs().is_empty()),
        "{:?}",
        tb.events()
    );
    let cdr = &tb.cdrs()[0];
    assert_eq!(cdr.direction, Direction::Outbound);
    assert_eq!(cdr.called.as_deref(), Some("80012345"));
    let answered = cdr.answer_ms.expect("answer detected") - cdr.start_ms;
    // Dial tone wait + 8 digits of DTMF (~1.6 s) + 9 s of ringback, then voice within ~1 s.
    assert!(
        (10_000..=13_500).contains(&answered),
        "answer detected after {answered} ms"
    );
    assert_eq!(cdr.cause, DisconnectCause::FarEndBusyTone);
    let log = co_log(&tb);
    assert!(
        log.contains(&CoEvent::Dialled("80012345".into())),
        "{log:?}"
    );
    assert!(
        log.contains(&CoEvent::CalleeAnswered("80012345".into())),
        "{log:?}"
    );
}

#[test]
fn outbound_call_to_a_busy_number_fails_with_busy() {
    let mut tb = Testbed::from_toml(CONFIG).unwrap();
    tb.sim(0).set_callee("80019999", Callee::Busy);
    tb.dial(2, "80019999");
    assert!(tb.run_until(60_000, |tb| !tb.cdrs().is_empty()));
    let cdr = &tb.cdrs()[0];
    assert_eq!(
        (cdr.cause, cdr.answer_ms, cdr.channel),
        (DisconnectCause::Busy, None, 2)
    );
}

#[test]
fn unknown_number_gets_congestion() {
    let mut tb = Testbed::from_toml(CONFIG).unwrap();
    tb.dial(1, "999");
    assert!(tb.run_until(60_000, |tb| !tb.cdrs().is_empty()));
    assert_eq!(tb.cdrs()[0].cause, DisconnectCause::Congestion);
}

#[test]
fn transfer_hands_the_caller_to_an_answering_extension() {
    let mut tb = Testbed::from_toml(CONFIG).unwrap();
    tb.sim(0).set_callee(
        "8001",
        Callee::Answer {
            after_ms: 3_000,
            polarity: false,
            steps: vec![Step::Play(voice())],
        },
    );
    tb.sim(0)
        .place_call(1, CallScript::new().wait(60_000))
        .unwrap();
    assert!(tb.run_until(20_000, |tb| tb
        .events()
        .iter()
        .any(|e| e.kind == yingda::engine::EventKind::Answered)));
    tb.run_for(1_000);
    tb.transfer(1, "8001");
    assert!(
        tb.run_until(60_000, |tb| !tb.cdrs().is_empty()),
        "{:?}",
        tb.events()
    );
    let cdr = &tb.cdrs()[0];
    assert_eq!(cdr.cause, DisconnectCause::LocalHangup);
    assert!(
        cdr.events.iter().any(|e| e.what == "transferred"),
        "{:?}",
        cdr.events
    );
    tb.run_for(100);
    let log = co_log(&tb);
    assert!(log.contains(&CoEvent::HookFlash), "{log:?}");
    assert!(
        log.contains(&CoEvent::Transferred("8001".into())),
        "{log:?}"
    );
}

#[test]
fn failed_transfer_takes_the_caller_back_and_the_call_goes_on() {
    let mut tb = Testbed::from_toml(CONFIG).unwrap();
    tb.sim(0).set_callee("8002", Callee::Busy);
    tb.sim(0)
        .place_call(1, CallScript::new().wait(30_000).hang_up())
        .unwrap();
    assert!(tb.run_until(20_000, |tb| tb
        .events()
        .iter()
        .any(|e| e.kind == yingda::engine::EventKind::Answered)));
    tb.run_for(1_000);
    tb.transfer(1, "8002");
    assert!(
        tb.run_until(20_000, |tb| tb.events().iter().any(|e| matches!(
            e.kind,
            yingda::engine::EventKind::TransferFailed(DisconnectCause::Busy)
        )))
    );
    let log = co_log(&tb);
    assert!(log.contains(&CoEvent::Retrieved), "{log:?}");
    assert!(tb.cdrs().is_empty(), "the call is still up");
    // The caller is back on the line and later hangs up: busy tone ends the call as usual.
    assert!(tb.run_until(60_000, |tb| !tb.cdrs().is_empty()));
    let cdr = &tb.cdrs()[0];
    assert_eq!(cdr.cause, DisconnectCause::FarEndBusyTone);
    assert!(
        cdr.events.iter().any(|e| e.what == "transfer failed: busy"),
        "{:?}",
        cdr.events
    );
}
