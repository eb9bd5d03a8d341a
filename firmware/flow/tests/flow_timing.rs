//! Exact timing on the injected clock: first-digit and inter-digit timeouts, no-input retries.

mod common;
use common::{sample, Driver, MONDAY_10AM};
use yingda_flow::interp::{Action, Event, LogWhat};

fn at_card_prompt() -> Driver {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("", "95500");
    d.finish_prompt();
    d.press("1");
    d
}

#[test]
fn first_digit_timeout_fires_at_exactly_8000_ms_after_the_prompt() {
    let mut d = at_card_prompt();
    d.finish_prompt_after(2000);
    let prompt_end = d.now;
    d.advance(7999);
    assert!(!d
        .call
        .log()
        .iter()
        .any(|e| matches!(e.what, LogWhat::NoInput { .. })));
    d.advance(1);
    let ni = d
        .call
        .log()
        .iter()
        .find(|e| matches!(e.what, LogWhat::NoInput { .. }))
        .unwrap();
    assert_eq!(ni.at_ms - prompt_end, 8000);
    assert_eq!(
        d.prompts
            .iter()
            .filter(|p| p.starts_with("请输入您的银行卡号"))
            .count(),
        2,
        "re-prompted"
    );
}

#[test]
fn inter_digit_timeout_ends_collection_at_exactly_4000_ms() {
    let mut d = at_card_prompt();
    d.finish_prompt();
    d.press("4111111111111111");
    let last_key = d.now;
    d.advance(3999);
    assert!(d.http.is_empty() && d.call.node() == "card");
    d.advance(1);
    assert_eq!(d.call.node(), "pin");
    let input = d
        .call
        .log()
        .iter()
        .rev()
        .find(|e| matches!(&e.what, LogWhat::Input { digits } if digits.len() == 16))
        .unwrap();
    assert_eq!(input.at_ms - last_key, 4000);
}

#[test]
fn no_input_retries_then_on_fail() {
    let mut d = at_card_prompt();
    for _ in 0..3 {
        d.finish_prompt();
        d.advance(8000);
    }
    // Three no-inputs in the call reach the global max_failures (3): polite goodbye.
    assert!(
        d.last_prompt().starts_with("抱歉没能听清"),
        "{}",
        d.last_prompt()
    );
    let t: Vec<i64> = d
        .call
        .log()
        .iter()
        .filter(|e| matches!(e.what, LogWhat::NoInput { .. }))
        .map(|e| e.at_ms)
        .collect();
    assert_eq!(t.len(), 3);
    assert_eq!(t[1] - t[0], 9000, "1000 ms prompt + 8000 ms timeout");
}

#[test]
fn stale_timer_and_prompt_ids_are_ignored() {
    let mut d = at_card_prompt();
    let before = d.call.log().len();
    let acts = d.call.handle(Event::TimerFired {
        at_ms: d.now,
        id: 999,
    });
    assert!(acts.is_empty());
    let acts = d.call.handle(Event::PromptFinished {
        at_ms: d.now,
        id: 998,
    });
    assert!(acts.is_empty());
    assert_eq!(d.call.log().len(), before);
}

#[test]
fn dtmf_barge_in_stops_the_prompt() {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("", "95500");
    d.finish_prompt();
    d.press("1");
    assert!(d
        .actions
        .iter()
        .any(|a| matches!(a, Action::StopPrompt { .. })));
    assert_eq!(d.call.node(), "card");
}

#[test]
fn caller_hang_up_mid_prompt_ends_quietly() {
    let mut d = at_card_prompt();
    let acts = d.call.handle(Event::HangUp { at_ms: d.now + 10 });
    assert!(acts.is_empty());
    assert!(d.call.is_ended());
    assert!(d
        .call
        .handle(Event::Digit {
            at_ms: d.now + 20,
            digit: '1'
        })
        .is_empty());
    let json = d.call.log_json_lines();
    assert!(
        json.lines()
            .last()
            .unwrap()
            .contains(r#""event":"end","reason":"caller""#),
        "{json}"
    );
}
