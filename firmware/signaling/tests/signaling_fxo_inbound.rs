//! Inbound calls: ring counting, caller ID, abandon, answer, guard time. China cadence:
//! ring 1 s on / 4 s off, so rings start at 0, 5000, 10000 ms.

mod common;

use common::*;
use yingda_hal::LineEvent::{PolarityReversal, RingOff, RingOn};
use yingda_signaling::fxo::{
    Absence, Action, CallerId, CidReceiver, CidSignalling, CidStart, FxoConfig, LineState, Report,
};

#[test]
fn abandoned_call_reports_exactly_ring_timeout_after_last_ring_end() {
    let mut fxo = line(FxoConfig::default());
    assert_eq!(ev(&mut fxo, 0, RingOn), [rep(Report::Ringing { count: 1 })]);
    assert_eq!(fxo.state(), LineState::Ringing);
    // FSK caller ID is expected between rings 1 and 2 (Bell 202 tones by default).
    assert_eq!(
        ev(&mut fxo, 1000, RingOff),
        [Action::StartCidReceiver(CidReceiver::FskBell)]
    );
    assert_eq!(fxo.next_timeout(), Some(7000));
    assert_eq!(poll(&mut fxo, 6999), []);
    assert_eq!(
        poll(&mut fxo, 7000),
        [
            Action::StopCidReceiver,
            rep(Report::Disconnected {
                cause: yingda_signaling::fxo::Cause::Abandoned
            })
        ]
    );
    assert_eq!(fxo.state(), LineState::Idle);
    assert!(!fxo.is_off_hook());
    assert_eq!(fxo.next_timeout(), None);
}

#[test]
fn abandoned_after_two_rings_uses_the_last_ring() {
    let mut fxo = line(FxoConfig {
        answer_after_rings: 4,
        ..FxoConfig::default()
    });
    ev(&mut fxo, 0, RingOn);
    ev(&mut fxo, 1000, RingOff);
    ev(&mut fxo, 5000, RingOn);
    ev(&mut fxo, 6000, RingOff);
    assert_eq!(poll(&mut fxo, 11_999), []);
    assert_eq!(
        poll(&mut fxo, 12_000),
        [rep(Report::Disconnected {
            cause: yingda_signaling::fxo::Cause::Abandoned
        })]
    );
}

#[test]
fn answers_exactly_at_the_start_of_ring_n() {
    let mut fxo = line(FxoConfig {
        answer_after_rings: 3,
        ..quick_answer()
    });
    assert_eq!(ev(&mut fxo, 0, RingOn), [rep(Report::Ringing { count: 1 })]);
    assert_eq!(ev(&mut fxo, 1000, RingOff), []);
    assert_eq!(
        ev(&mut fxo, 5000, RingOn),
        [rep(Report::Ringing { count: 2 })]
    );
    assert_eq!(ev(&mut fxo, 6000, RingOff), []);
    assert_eq!(
        ev(&mut fxo, 10_000, RingOn),
        [
            rep(Report::Ringing { count: 3 }),
            hook(OffHook),
            Action::StartProgressDetection,
            rep(Report::Incoming { caller_id: None }),
            rep(Report::Answered),
        ]
    );
    assert_eq!(fxo.state(), LineState::Connected);
    assert!(fxo.is_off_hook());
    assert_eq!(fxo.next_timeout(), None);
}

#[test]
fn duplicate_ring_on_is_not_counted() {
    let mut fxo = line(FxoConfig {
        answer_after_rings: 2,
        ..quick_answer()
    });
    ev(&mut fxo, 0, RingOn);
    assert_eq!(ev(&mut fxo, 300, RingOn), []);
    ev(&mut fxo, 1000, RingOff);
    assert_eq!(ev(&mut fxo, 1100, RingOff), []);
    assert!(ev(&mut fxo, 5000, RingOn).contains(&hook(OffHook)));
}

#[test]
fn fsk_caller_id_between_rings_is_reported_at_answer_on_ring_two() {
    let mut fxo = line(FxoConfig::default());
    ev(&mut fxo, 0, RingOn);
    ev(&mut fxo, 1000, RingOff);
    let id = CallerId::with_number("13800138000").and_name("张三");
    assert_eq!(cid(&mut fxo, 2500, id.clone()), [Action::StopCidReceiver]);
    assert_eq!(
        ev(&mut fxo, 5000, RingOn),
        [
            rep(Report::Ringing { count: 2 }),
            hook(OffHook),
            Action::StartProgressDetection,
            rep(Report::Incoming {
                caller_id: Some(id)
            }),
            rep(Report::Answered),
        ]
    );
}

#[test]
fn with_one_ring_configured_answers_as_soon_as_caller_id_arrives() {
    let mut fxo = line(FxoConfig {
        answer_after_rings: 1,
        ..FxoConfig::default()
    });
    // Ring 1 alone does not answer: caller ID has not had its chance yet.
    assert_eq!(ev(&mut fxo, 0, RingOn), [rep(Report::Ringing { count: 1 })]);
    ev(&mut fxo, 1000, RingOff);
    let id = CallerId::absent(Absence::Private);
    assert_eq!(
        cid(&mut fxo, 2300, id.clone()),
        [
            Action::StopCidReceiver,
            hook(OffHook),
            Action::StartProgressDetection,
            rep(Report::Incoming {
                caller_id: Some(id)
            }),
            rep(Report::Answered),
        ]
    );
}

#[test]
fn missing_caller_id_answers_at_ring_two_without_it() {
    let mut fxo = line(FxoConfig {
        answer_after_rings: 1,
        ..FxoConfig::default()
    });
    ev(&mut fxo, 0, RingOn);
    ev(&mut fxo, 1000, RingOff);
    assert_eq!(
        ev(&mut fxo, 5000, RingOn),
        [
            rep(Report::Ringing { count: 2 }),
            Action::StopCidReceiver,
            hook(OffHook),
            Action::StartProgressDetection,
            rep(Report::Incoming { caller_id: None }),
            rep(Report::Answered),
        ]
    );
}

fn dtmf_cid() -> FxoConfig {
    FxoConfig {
        cidsignalling: CidSignalling::Dtmf,
        cidstart: CidStart::Dtmf,
        answer_after_rings: 1,
        ..FxoConfig::default()
    }
}

#[test]
fn dtmf_caller_id_before_first_ring() {
    let mut fxo = yingda_signaling::fxo::Fxo::new(dtmf_cid()).unwrap();
    assert_eq!(
        poll(&mut fxo, 0),
        [hook(OnHook), Action::StartCidReceiver(CidReceiver::Dtmf)]
    );
    let id = CallerId::with_number("075512345678");
    assert_eq!(cid(&mut fxo, 100, id.clone()), []);
    assert_eq!(
        ev(&mut fxo, 800, RingOn),
        [
            Action::StopCidReceiver,
            rep(Report::Ringing { count: 1 }),
            hook(OffHook),
            Action::StartProgressDetection,
            rep(Report::Incoming {
                caller_id: Some(id)
            }),
            rep(Report::Answered),
        ]
    );
}

#[test]
fn stale_dtmf_caller_id_is_not_given_to_a_later_call() {
    let mut fxo = line(dtmf_cid());
    cid(&mut fxo, 0, CallerId::with_number("110"));
    assert_eq!(fxo.next_timeout(), Some(5000));
    assert_eq!(poll(&mut fxo, 5000), []);
    let a = ev(&mut fxo, 6000, RingOn);
    assert!(
        a.contains(&rep(Report::Incoming { caller_id: None })),
        "{a:?}"
    );
}

#[test]
fn dtmf_receiver_is_rearmed_as_soon_as_the_line_is_on_hook() {
    // Armed at hang-up, not at the end of the guard: the next call's DTMF caller ID may
    // arrive inside the guard time (see the regression test below).
    let mut fxo = line(dtmf_cid());
    answer_call(&mut fxo, 0);
    let a = vec(fxo.hangup(10_000).unwrap());
    assert!(a.contains(&hook(OnHook)));
    assert!(
        a.contains(&Action::StartCidReceiver(CidReceiver::Dtmf)),
        "{a:?}"
    );
    assert_eq!(poll(&mut fxo, 12_000), []);
    assert_eq!(fxo.state(), LineState::Idle);
}

fn polarity_cid() -> FxoConfig {
    FxoConfig {
        cidsignalling: CidSignalling::V23,
        cidstart: CidStart::Polarity,
        answer_after_rings: 1,
        ..FxoConfig::default()
    }
}

#[test]
fn fsk_caller_id_after_polarity_reversal() {
    let mut fxo = line(polarity_cid());
    assert_eq!(
        ev(&mut fxo, 0, PolarityReversal),
        [Action::StartCidReceiver(CidReceiver::FskV23)]
    );
    let id = CallerId::with_number("02088886666");
    assert_eq!(cid(&mut fxo, 700, id.clone()), []);
    let a = ev(&mut fxo, 1500, RingOn);
    assert_eq!(a[0], Action::StopCidReceiver);
    assert!(a.contains(&rep(Report::Incoming {
        caller_id: Some(id)
    })));
}

#[test]
fn polarity_reversal_without_ring_stops_the_receiver_after_the_window() {
    let mut fxo = line(polarity_cid());
    ev(&mut fxo, 0, PolarityReversal);
    assert_eq!(poll(&mut fxo, 4999), []);
    assert_eq!(poll(&mut fxo, 5000), [Action::StopCidReceiver]);
    assert_eq!(fxo.next_timeout(), None);
}

#[test]
fn caller_id_on_idle_line_is_ignored_when_not_expected() {
    let mut fxo = line(quick_answer());
    assert_eq!(cid(&mut fxo, 0, CallerId::with_number("1")), []);
    let a = ev(&mut fxo, 100, RingOn);
    assert!(a.contains(&rep(Report::Incoming { caller_id: None })));
}

#[test]
fn guard_time_ignores_a_late_ring_after_hangup() {
    let mut fxo = line(quick_answer());
    answer_call(&mut fxo, 0);
    fxo.hangup(20_000).unwrap();
    assert_eq!(fxo.state(), LineState::Guard);
    assert_eq!(fxo.next_timeout(), Some(22_000));
    assert_eq!(ev(&mut fxo, 20_500, RingOn), []);
    assert_eq!(ev(&mut fxo, 21_500, RingOff), []);
    assert_eq!(poll(&mut fxo, 21_999), []);
    assert_eq!(poll(&mut fxo, 22_000), []);
    assert_eq!(fxo.state(), LineState::Idle);
    assert!(answer_call(&mut fxo, 25_000).contains(&rep(Report::Answered)));
}

#[test]
fn late_poll_fires_the_abandon_timer_before_a_new_ring() {
    // Regression guard: without polling, a ring 20 s later must start a new call, not
    // count as ring 2 of the abandoned one.
    let mut fxo = line(FxoConfig {
        answer_after_rings: 3,
        ..quick_answer()
    });
    ev(&mut fxo, 0, RingOn);
    ev(&mut fxo, 1000, RingOff);
    assert_eq!(
        ev(&mut fxo, 20_000, RingOn),
        [
            rep(Report::Disconnected {
                cause: yingda_signaling::fxo::Cause::Abandoned
            }),
            rep(Report::Ringing { count: 1 })
        ]
    );
}

#[test]
fn hangup_while_ringing_is_refused() {
    let mut fxo = line(FxoConfig::default());
    ev(&mut fxo, 0, RingOn);
    assert_eq!(
        fxo.hangup(100),
        Err(yingda_signaling::fxo::RequestError::InvalidState {
            request: "hangup",
            state: LineState::Ringing
        })
    );
    assert_eq!(fxo.state(), LineState::Ringing);
}

#[test]
fn startup_puts_the_line_on_hook_and_arms_nothing_else_by_default() {
    let mut fxo = yingda_signaling::fxo::Fxo::new(FxoConfig::default()).unwrap();
    assert!(!fxo.is_off_hook());
    assert_eq!(poll(&mut fxo, 0), [hook(OnHook)]);
    assert_eq!(poll(&mut fxo, 1), []);
    assert_eq!(fxo.next_timeout(), None);
}

#[test]
fn back_to_back_calls_each_get_their_own_caller_id() {
    let mut fxo = line(FxoConfig::default());
    let first = CallerId::with_number("13800138000");
    ev(&mut fxo, 0, RingOn);
    ev(&mut fxo, 1000, RingOff);
    cid(&mut fxo, 2000, first.clone());
    let a = ev(&mut fxo, 5000, RingOn);
    assert!(a.contains(&rep(Report::Incoming {
        caller_id: Some(first)
    })));
    fxo.hangup(30_000).unwrap();
    poll(&mut fxo, 32_000);
    // Second call sends no caller ID: the first call's must not leak into it.
    ev(&mut fxo, 40_000, RingOn);
    ev(&mut fxo, 41_000, RingOff);
    let a = ev(&mut fxo, 45_000, RingOn);
    assert!(
        a.contains(&rep(Report::Incoming { caller_id: None })),
        "{a:?}"
    );
}

#[test]
fn dtmf_caller_id_sent_during_the_guard_time_belongs_to_the_next_call() {
    // Regression: the daemon crash test placed calls back to back; the exchange sent the
    // next call's DTMF caller ID within the 2 s guard after the box hung up, and the
    // number was lost because the receiver was stopped for the guard.
    let mut fxo = line(FxoConfig {
        cidsignalling: CidSignalling::Dtmf,
        cidstart: CidStart::Dtmf,
        answer_after_rings: 1,
        ..FxoConfig::default()
    });
    poll(&mut fxo, 0);
    answer_call(&mut fxo, 0);
    let hung_up = vec(fxo.hangup(20_000).unwrap());
    assert!(
        hung_up.contains(&Action::StartCidReceiver(CidReceiver::Dtmf)),
        "{hung_up:?}"
    );
    assert_eq!(fxo.state(), LineState::Guard);
    assert_eq!(
        cid(&mut fxo, 21_000, CallerId::with_number("13800138000")),
        []
    );
    assert_eq!(
        ev(&mut fxo, 21_500, RingOn),
        [],
        "rings inside the guard are still ignored"
    );
    assert_eq!(poll(&mut fxo, 22_000), []);
    assert_eq!(fxo.state(), LineState::Idle);
    let answered = answer_call(&mut fxo, 23_000);
    assert!(
        answered.contains(&rep(Report::Incoming {
            caller_id: Some(CallerId::with_number("13800138000"))
        })),
        "{answered:?}"
    );
}

#[test]
fn dtmf_caller_id_from_the_guard_goes_stale_without_a_ring() {
    let mut fxo = line(FxoConfig {
        cidsignalling: CidSignalling::Dtmf,
        cidstart: CidStart::Dtmf,
        answer_after_rings: 1,
        ..FxoConfig::default()
    });
    poll(&mut fxo, 0);
    answer_call(&mut fxo, 0);
    fxo.hangup(20_000).unwrap();
    cid(&mut fxo, 21_000, CallerId::with_number("13800138000"));
    // cid_prering_timeout_ms (5 s) after it arrived, it is dropped.
    poll(&mut fxo, 26_000);
    let answered = answer_call(&mut fxo, 30_000);
    assert!(
        answered.contains(&rep(Report::Incoming { caller_id: None })),
        "{answered:?}"
    );
}
