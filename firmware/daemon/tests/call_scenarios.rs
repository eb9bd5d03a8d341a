//! End-to-end calls on the simulated card, on simulated time: the exchange, the line
//! engines (signalling + DSP), the demo flow and CDR assembly, exactly as the daemon wires
//! them, minus the threads.

use yingda::testbed::Testbed;
use yingda_hal_sim::{CallScript, CallerId, CidFormat, CoEvent, Ending};
use yingda_store::DisconnectCause;

fn config(extra_channel_keys: &str, sim_keys: &str) -> String {
    format!(
        r#"
[[span]]
name = "sim0"
backend = "sim"
ports = 2

[span.sim]
echo_delay_ms = 6
echo_loss_db = 12.0
{sim_keys}

[[channels]]
channel = "1-2"
span = "sim0"
busycount = 3
{extra_channel_keys}
"#
    )
}

const DTMF_CID: &str = "cidsignalling = \"dtmf\"\ncidstart = \"dtmf\"";

fn demo_caller(format: CidFormat) -> CallScript {
    CallScript::new()
        .caller_id(CallerId::number(format, "13800138000"))
        .wait(6500)
        .digits("2024#")
        .wait(3000)
        .hang_up()
}

fn energy(s: &[i16]) -> f64 {
    s.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / s.len().max(1) as f64
}

#[test]
fn demo_call_dtmf_cid_digits_busy_tone_disconnect() {
    let mut tb = Testbed::from_toml(&config(DTMF_CID, "")).unwrap();
    tb.sim(0)
        .place_call(1, demo_caller(CidFormat::Dtmf))
        .unwrap();
    assert!(
        tb.run_until(60_000, |tb| !tb.cdrs().is_empty()),
        "call never ended: {:?}",
        tb.events()
    );
    let cdr = &tb.cdrs()[0];
    assert_eq!(cdr.channel, 1);
    assert_eq!(cdr.caller.as_deref(), Some("13800138000"));
    assert_eq!(cdr.digits, "2024#");
    assert_eq!(cdr.cause, DisconnectCause::FarEndBusyTone);
    let answered = cdr.answer_ms.expect("answered") - cdr.start_ms;
    // Ring 1 starts at the call's start; answer_after_rings = 2 answers as ring 2 starts,
    // 1 s on + 4 s off later.
    assert!(
        (4_900..=5_200).contains(&answered),
        "answered after {answered} ms"
    );
    // The caller hung up 6.5 s + 5 digits*140 ms + 3 s after answer, during the read-back;
    // three busy cycles of 700 ms later the box must be on hook, well before a fourth.
    let talk = cdr.end_ms - cdr.answer_ms.unwrap();
    let hangup = 6_500 + 5 * 140 + 3_000;
    assert!(
        (hangup + 3 * 700 - 400..=hangup + 3 * 700 + 700).contains(&talk),
        "disconnected {talk} ms after answer"
    );

    // The exchange sees the hook change at its next tick.
    tb.run_for(100);
    let log: Vec<CoEvent> = tb
        .sim(0)
        .take_log()
        .into_iter()
        .map(|(_, _, e)| e)
        .collect();
    assert!(
        log.contains(&CoEvent::DtmfCallerIdSent("A13800138000C".into())),
        "{log:?}"
    );
    assert!(log.contains(&CoEvent::BoxHungUp), "{log:?}");
    let report = tb.sim(0).take_reports().pop().expect("exchange report");
    assert_eq!(report.ending, Ending::FarEnd);
    // The caller heard the greeting (speech energy during the first seconds) and the read
    // back after pressing the keys.
    let greeting = &report.heard[..8000 * 4];
    assert!(
        energy(greeting) > 1e5,
        "greeting not heard: energy {}",
        energy(greeting)
    );
    let after_keys = &report.heard[8000 * 8..8000 * 11];
    assert!(energy(after_keys) > 1e5, "read-back not heard");
}

#[test]
fn fsk_caller_id_between_rings_both_standards() {
    for (format, keys) in [
        (
            CidFormat::FskV23,
            "cidsignalling = \"v23\"\ncidstart = \"ring\"",
        ),
        (
            CidFormat::FskBell202,
            "cidsignalling = \"bell\"\ncidstart = \"ring\"",
        ),
    ] {
        let mut tb = Testbed::from_toml(&config(keys, "")).unwrap();
        let script = CallScript::new()
            .caller_id(CallerId {
                name: Some("ZHANG SAN".into()),
                ..CallerId::number(format, "075512345678")
            })
            .wait(1000)
            .hang_up();
        tb.sim(0).place_call(2, script).unwrap();
        assert!(
            tb.run_until(60_000, |tb| !tb.cdrs().is_empty()),
            "{format:?}: {:?}",
            tb.events()
        );
        let cdr = &tb.cdrs()[0];
        assert_eq!(cdr.caller.as_deref(), Some("075512345678"), "{format:?}");
        assert_eq!(cdr.channel, 2);
        assert!(cdr.answer_ms.is_some());
    }
}

#[test]
fn caller_who_gives_up_while_ringing_is_recorded_as_abandoned() {
    let mut tb = Testbed::from_toml(&config("answer_after_rings = 4", "")).unwrap();
    tb.sim(0)
        .place_call(1, CallScript::new().abandon_after_rings(2))
        .unwrap();
    assert!(tb.run_until(60_000, |tb| !tb.cdrs().is_empty()));
    let cdr = &tb.cdrs()[0];
    assert_eq!(cdr.cause, DisconnectCause::CallerAbandoned);
    assert_eq!(cdr.answer_ms, None);
    // Ring 2 ends 6 s after the start; the line gives up ring_timeout_ms (6 s) after that.
    let t = cdr.end_ms - cdr.start_ms;
    assert!(
        (11_900..=12_100).contains(&t),
        "abandon detected after {t} ms"
    );
}

#[test]
fn polarity_reversal_and_loop_current_drop_disconnects() {
    let cases = [
        (
            "hanguponpolarityswitch = true",
            "polarity_on_far_hangup = true\nbusy_tone_after_far_hangup = false",
            DisconnectCause::PolarityReversal,
        ),
        (
            "signalling = \"fxs_ks\"",
            "loop_drop_on_far_hangup = true",
            DisconnectCause::LoopCurrentDrop,
        ),
    ];
    for (chan, sim, cause) in cases {
        let mut tb = Testbed::from_toml(&config(chan, sim)).unwrap();
        tb.sim(0)
            .place_call(1, CallScript::new().wait(2000).hang_up())
            .unwrap();
        assert!(
            tb.run_until(60_000, |tb| !tb.cdrs().is_empty()),
            "{cause:?}"
        );
        let cdr = &tb.cdrs()[0];
        assert_eq!(cdr.cause, cause);
        let talk = cdr.end_ms - cdr.answer_ms.unwrap();
        assert!(
            (2_000..=2_200).contains(&talk),
            "{cause:?}: disconnected {talk} ms after answer"
        );
    }
}

#[test]
fn silent_caller_gets_no_input_prompt_then_box_hangs_up() {
    let mut tb = Testbed::from_toml(&config(DTMF_CID, "")).unwrap();
    tb.sim(0).place_call(1, CallScript::new()).unwrap();
    assert!(tb.run_until(60_000, |tb| !tb.cdrs().is_empty()));
    let cdr = &tb.cdrs()[0];
    assert_eq!(cdr.cause, DisconnectCause::LocalHangup);
    assert_eq!(cdr.digits, "");
    // greeting (5.47 s) + first-digit timeout (8 s) + "no input" + "goodbye".
    let talk = cdr.end_ms - cdr.answer_ms.unwrap();
    assert!(
        (13_400..=20_000).contains(&talk),
        "box hung up {talk} ms after answer"
    );
}
