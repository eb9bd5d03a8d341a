//! The shipped sample flows validate, and scripted callers walk them through typical calls.

mod common;
use common::{sample, Driver, MONDAY_10AM};
use std::sync::Arc;
use yingda_flow::interp::{Action, Breakers, EndReason, Event, LogWhat, TransferOutcome};

#[test]
fn samples_validate() {
    for f in ["hospital.toml", "bank.toml"] {
        let flow = sample(f);
        assert!(flow.kinds.len() > 10, "{f}");
    }
}

#[test]
fn hospital_register_appointment_by_voice() {
    let mut d = Driver::new(sample("hospital.toml"), MONDAY_10AM);
    d.start("13800138000", "4008100100");
    assert_eq!(d.last_prompt(), "file:hospital-welcome.wav");
    d.finish_prompt();
    d.finish_prompt();
    d.say("我要挂号", Some("register"));
    d.say("看儿科", Some("儿科"));
    d.say("明天下午三点", None);
    assert_eq!(d.call.var("when"), Some("2026-03-03 15:00"));
    assert!(
        d.last_prompt().contains("儿科") && d.last_prompt().contains("三月三日下午三点"),
        "{}",
        d.last_prompt()
    );
    d.press("1");
    let req = d.http.last().unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(
        req.body.as_deref(),
        Some(r#"{"department": "儿科", "when": "2026-03-03 15:00", "caller": "13800138000"}"#)
    );
    d.reply(200, r#"{"ticket": "1017"}"#);
    assert_eq!(
        d.last_prompt(),
        "预约成功，您的就诊号是幺零幺七。祝您早日康复，再见。"
    );
    d.finish_prompt();
    assert_eq!(d.ended, Some(EndReason::Flow));
}

#[test]
fn hospital_results_by_id_number_with_checksum() {
    let mut d = Driver::new(sample("hospital.toml"), MONDAY_10AM);
    d.start("13800138000", "4008100100");
    d.finish_prompt();
    d.press("2");
    d.finish_prompt();
    // A wrong check digit is a no-match: the prompt is played again.
    d.press("11010519491231002#");
    d.press("1#");
    assert!(d.http.is_empty());
    assert!(d
        .call
        .log()
        .iter()
        .any(|e| matches!(e.what, LogWhat::NoMatch { tries: 1 })));
    d.finish_prompt();
    // GB 11643 example: 11010519491231002X, X keyed as *.
    d.press("11010519491231002*");
    assert_eq!(
        d.http.last().unwrap().url,
        "https://his.local/api/results?id=11010519491231002X"
    );
    assert!(!format!("{:?}", d.http.last().unwrap()).contains("11010519491231002X"));
    d.reply(200, r#"{"count": 2}"#);
    assert!(
        !d.call.log_json_lines().contains("1101051949"),
        "ID number kept out of the log"
    );
    assert_eq!(
        d.last_prompt(),
        "您有两份检查结果已出，请到门诊一楼自助机打印。再见。"
    );
}

#[test]
fn hospital_closed_on_spring_festival() {
    // 2026-02-17 10:00 Beijing time: a Tuesday inside the Spring Festival holiday.
    let mut d = Driver::new(sample("hospital.toml"), MONDAY_10AM - 13 * 86_400_000);
    d.start("", "4008100100");
    assert!(d.last_prompt().starts_with("您好，现在是非工作时间"));
}

#[test]
fn bank_balance_with_card_and_pin_never_logs_the_pin() {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("13912345678", "95500");
    d.finish_prompt();
    d.press("1");
    d.finish_prompt();
    d.press("6222021234567890123#");
    // 6222021234567890123 is not Luhn-valid: retried.
    assert!(d
        .call
        .log()
        .iter()
        .any(|e| matches!(e.what, LogWhat::NoMatch { .. })));
    d.finish_prompt();
    d.press("4111111111111111#");
    d.finish_prompt();
    d.press("864209");
    let req = d.http.last().unwrap();
    assert_eq!(
        req.body.as_deref(),
        Some(r#"{"card": "4111111111111111", "pin": "864209"}"#)
    );
    assert!(!format!("{req:?}").contains("864209"));
    d.reply(200, r#"{"balance": "12345.60", "ok": true}"#);
    assert_eq!(d.last_prompt(), "您的账户余额为一万二千三百四十五元六角。");
    let log = d.call.log_json_lines();
    assert!(!log.contains("864209"), "PIN in log: {log}");
    assert!(log.contains("<secret>"));
    assert!(!format!("{:?}", d.call).contains("864209"));
    assert!(!format!("{:?}", d.actions).contains("864209"));
    d.finish_prompt();
    d.press("2");
    d.finish_prompt();
    assert_eq!(d.ended, Some(EndReason::Flow));
}

#[test]
fn bank_lost_card_freezes_then_transfers() {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("13912345678", "95500");
    d.finish_prompt();
    d.say("我的卡丢了", Some("lost"));
    d.press("4111111111111111#");
    d.press("1");
    assert_eq!(
        d.http.last().unwrap().url,
        "https://core.bank.local/api/freeze"
    );
    d.reply(200, r#"{"reference": "778899"}"#);
    assert!(d.last_prompt().contains("七七八八九九"));
    d.finish_prompt();
    assert_eq!(d.transfers, ["6000"]);
    d.transfer(TransferOutcome::Answered);
    assert_eq!(d.ended, Some(EndReason::Transferred));
}

#[test]
fn bank_english_option() {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("", "95500");
    d.finish_prompt();
    d.press("9");
    assert_eq!(
        d.last_prompt(),
        "You chose English. Press 1 to continue, or 2 for Chinese."
    );
    d.press("1");
    assert_eq!(
        d.last_prompt(),
        "For your balance, press 1. To report a lost card, press 2. For an agent, press 0."
    );
    assert_eq!(d.call.var("lang"), Some("en"));
}

#[test]
fn global_agent_word_transfers() {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("", "95500");
    d.finish_prompt();
    d.say("转人工", None);
    assert_eq!(d.transfers, ["6000"]);
    d.transfer(TransferOutcome::Busy);
    assert!(d.last_prompt().starts_with("客服坐席全忙"));
}

#[test]
fn agent_digit_zero_transfers() {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("", "95500");
    d.finish_prompt();
    d.press("0");
    assert_eq!(d.transfers, ["6000"]);
}

#[test]
fn repeated_no_match_ends_with_a_polite_goodbye() {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("", "95500");
    d.finish_prompt();
    for _ in 0..3 {
        d.say("今天天气怎么样", None);
        if d.prompt.is_some() && !d.last_prompt().starts_with("抱歉") {
            d.finish_prompt();
        }
    }
    assert!(
        d.last_prompt().starts_with("抱歉没能听清"),
        "{}",
        d.last_prompt()
    );
    d.finish_prompt();
    assert_eq!(d.ended, Some(EndReason::Flow));
}

#[test]
fn backend_timeout_apologises_and_transfers() {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("", "95500");
    d.finish_prompt();
    d.press("1");
    d.press("4111111111111111#");
    d.press("123456");
    assert_eq!(d.http.len(), 1);
    d.advance(3000);
    assert_eq!(d.http.len(), 2, "one retry after the 3000 ms timeout");
    d.advance(3000);
    assert!(d.last_prompt().starts_with("抱歉，系统暂时无法处理"));
    d.finish_prompt();
    assert_eq!(d.transfers, ["6000"]);
}

#[test]
fn nurse_no_answer_records_a_message_only_after_consent() {
    let mut d = Driver::new(sample("hospital.toml"), MONDAY_10AM);
    d.start("13800138000", "4008100100");
    d.finish_prompt();
    d.press("0");
    assert_eq!(d.transfers, ["8001"]);
    d.transfer(TransferOutcome::NoAnswer);
    assert!(d.last_prompt().starts_with("护士站暂时无人接听"));
    assert!(
        !d.actions.iter().any(|a| matches!(a, Action::Record { .. })),
        "no recording before consent"
    );
    d.say("同意", Some("yes"));
    let Some(Action::Record { id, max_ms }) = d
        .actions
        .iter()
        .rev()
        .find(|a| matches!(a, Action::Record { .. }))
        .cloned()
    else {
        panic!("recording started")
    };
    assert_eq!(max_ms, 60_000);
    d.advance(20_000);
    d.send(Event::RecordingFinished {
        at_ms: d.now,
        id,
        path: "/var/lib/yingda/msg/1.wav".into(),
    });
    assert_eq!(d.call.var("message"), Some("/var/lib/yingda/msg/1.wav"));
    assert!(d.last_prompt().starts_with("留言已保存"));
}

#[test]
fn declined_recording_does_not_record() {
    let mut d = Driver::new(sample("hospital.toml"), MONDAY_10AM);
    d.start("", "4008100100");
    d.finish_prompt();
    d.press("0");
    d.transfer(TransferOutcome::NoAnswer);
    d.press("2");
    assert!(!d.actions.iter().any(|a| matches!(a, Action::Record { .. })));
    assert!(d.last_prompt().starts_with("护士站正忙"));
}

#[test]
fn circuit_opens_after_repeated_backend_failures_and_callers_hear_an_apology() {
    let flow = sample("bank.toml");
    let breakers = Arc::new(Breakers::default());
    let run = |start: i64| {
        let mut d = Driver::with_breakers(Arc::clone(&flow), start, Arc::clone(&breakers));
        d.start("", "95500");
        d.finish_prompt();
        d.press("1");
        d.press("4111111111111111#");
        d.press("123456");
        d
    };
    for i in 0..3 {
        let mut d = run(MONDAY_10AM + i * 10_000);
        d.reply(503, "");
        d.reply(500, "");
        assert_eq!(d.http.len(), 2, "call {i}: first try and one retry");
        assert!(d.last_prompt().starts_with("抱歉，系统暂时无法处理"));
    }
    // Open: the next caller gets the apology at once, no request is sent.
    let d = run(MONDAY_10AM + 40_000);
    assert!(d.http.is_empty());
    assert!(d.last_prompt().starts_with("抱歉，系统暂时无法处理"));
    assert!(d
        .call
        .log()
        .iter()
        .any(|e| matches!(e.what, LogWhat::CircuitOpen)));
    // The third failure (about 29 s in) opened it for circuit_open_ms (60 s); later it tries again.
    let d = run(MONDAY_10AM + 100_000);
    assert_eq!(d.http.len(), 1);
}

#[test]
fn reply_without_a_mapped_field_is_a_failure() {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("", "95500");
    d.finish_prompt();
    d.press("1");
    d.press("4111111111111111#");
    d.press("123456");
    d.reply(200, r#"{"ok": true}"#);
    assert!(d.call.log().iter().any(|e| matches!(&e.what, LogWhat::BackendFailed { error, .. } if error == "reply has no /balance")));
}

#[test]
fn language_by_voice_and_english_prompts() {
    let mut d = Driver::new(sample("hospital.toml"), MONDAY_10AM);
    d.start("", "4008100100");
    d.finish_prompt();
    d.press("9");
    d.press("1");
    assert_eq!(d.last_prompt(), "To register, press 1. For test results, press 2. For directions and hours, press 3. For the nurse station, press 0.");
    d.say("I'd like test results", Some("results"));
    assert!(d
        .last_prompt()
        .starts_with("Please key in your 18-digit ID number"));
}

#[test]
fn event_log_is_serialisable_with_timestamps() {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("13912345678", "95500");
    d.finish_prompt();
    d.press("1");
    let lines: Vec<serde_json::Value> = d
        .call
        .log_json_lines()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["event"], "call_started");
    assert_eq!(lines[0]["at_ms"], MONDAY_10AM);
    assert!(lines.iter().any(|l| l["event"] == "prompt_started"
        && l["prompt"]
            .as_str()
            .unwrap()
            .ends_with("prompts/bank-welcome.wav")));
    assert!(lines
        .iter()
        .any(|l| l["event"] == "input" && l["digits"] == "1" && l["at_ms"] == MONDAY_10AM + 1300));
}

#[test]
fn hospital_open_on_a_makeup_saturday() {
    // 2026-02-14 10:00 Beijing time is a Saturday worked in exchange for the Spring Festival.
    let mut d = Driver::new(sample("hospital.toml"), MONDAY_10AM - 16 * 86_400_000);
    d.start("", "4008100100");
    assert_eq!(d.last_prompt(), "file:hospital-welcome.wav");
    // The same time a week later (Saturday 21 Feb, inside the holiday) is closed.
    let mut d = Driver::new(sample("hospital.toml"), MONDAY_10AM - 9 * 86_400_000);
    d.start("", "4008100100");
    assert!(d.last_prompt().starts_with("您好，现在是非工作时间"));
}

#[test]
fn a_complaint_in_speech_escalates_to_the_agent_and_is_logged_by_keyword() {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("", "95500");
    d.finish_prompt();
    d.say("你们这服务太差了，我要投诉", None);
    assert_eq!(d.transfers, ["6000"]);
    let log = d.call.log_json_lines();
    assert!(
        log.contains(r#""event":"complaint","word":"投诉""#),
        "{log}"
    );
    let entry = log
        .lines()
        .find(|l| l.contains(r#""event":"complaint""#))
        .unwrap();
    assert!(
        !entry.contains("服务"),
        "only the keyword, not the caller's words: {entry}"
    );
}

#[test]
fn a_complaint_word_inside_a_matched_option_does_not_escalate() {
    let mut d = Driver::new(sample("bank.toml"), MONDAY_10AM);
    d.start("", "95500");
    d.finish_prompt();
    d.say("投诉一下我的余额", Some("balance"));
    assert!(d.transfers.is_empty());
    assert!(!d.call.log_json_lines().contains("complaint"));
}
