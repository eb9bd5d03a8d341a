//! Outbound calls: seize, dial tone, digits, answer detection, and every failure.

mod common;

use common::*;
use yingda_hal::LineEvent::{LoopCurrentDrop, PolarityReversal, RingOn};
use yingda_signaling::fxo::{
    Action, Cause, FxoConfig, LineSignalling, LineState, Progress, Report, RequestError,
};

/// Dial `12345` at 0, dial tone at 800, digits sent at 2000.
fn dialled(cfg: FxoConfig) -> yingda_signaling::fxo::Fxo {
    let mut fxo = line(cfg);
    assert_eq!(
        vec(fxo.dial(0, "12345").unwrap()),
        [hook(OffHook), Action::StartProgressDetection]
    );
    assert_eq!(fxo.state(), LineState::Seizing);
    assert_eq!(prog(&mut fxo, 800, Progress::DialTone), [digits("12345")]);
    assert_eq!(fxo.state(), LineState::Dialling);
    assert_eq!(sent(&mut fxo, 2000), []);
    assert_eq!(fxo.state(), LineState::AwaitingAnswer);
    fxo
}

#[test]
fn answered_by_voice_after_ringback() {
    let mut fxo = dialled(FxoConfig::default());
    assert_eq!(fxo.next_timeout(), Some(47_000));
    assert_eq!(prog(&mut fxo, 3000, Progress::Ringback), []);
    // Ringback does not restart the no-answer timer.
    assert_eq!(fxo.next_timeout(), Some(47_000));
    assert_eq!(
        prog(&mut fxo, 9000, Progress::Voice),
        [rep(Report::OutboundConnected)]
    );
    assert_eq!(fxo.state(), LineState::Connected);
    assert_eq!(fxo.next_timeout(), None);
    // Progress detection stays on for busy-tone disconnect.
    assert_eq!(
        prog(&mut fxo, 60_000, Progress::Busy { cycles: 4 }),
        hung_up(Cause::BusyTone)
    );
}

#[test]
fn answered_when_ringback_ends_in_silence() {
    let mut fxo = dialled(FxoConfig::default());
    assert_eq!(prog(&mut fxo, 2500, Progress::Silence), []);
    prog(&mut fxo, 3000, Progress::Ringback);
    assert_eq!(
        prog(&mut fxo, 12_000, Progress::Silence),
        [rep(Report::OutboundConnected)]
    );
}

#[test]
fn voice_is_not_answer_without_answeronvoice() {
    let mut fxo = dialled(FxoConfig {
        answeronvoice: false,
        ..FxoConfig::default()
    });
    assert_eq!(prog(&mut fxo, 9000, Progress::Voice), []);
    assert_eq!(fxo.state(), LineState::AwaitingAnswer);
}

#[test]
fn answered_by_polarity_reversal_then_hung_up_by_the_second() {
    let mut fxo = dialled(FxoConfig {
        answeronpolarityswitch: true,
        hanguponpolarityswitch: true,
        busydetect: false,
        ..FxoConfig::default()
    });
    assert_eq!(
        ev(&mut fxo, 8000, PolarityReversal),
        [
            Action::StopProgressDetection,
            rep(Report::OutboundConnected)
        ]
    );
    assert_eq!(
        ev(&mut fxo, 70_000, PolarityReversal),
        [
            hook(OnHook),
            rep(Report::Disconnected {
                cause: Cause::PolarityReversal
            })
        ]
    );
}

#[test]
fn no_dial_tone_fails_exactly_at_the_timeout() {
    let mut fxo = line(FxoConfig::default());
    fxo.dial(0, "12345").unwrap();
    assert_eq!(fxo.next_timeout(), Some(3000));
    assert_eq!(poll(&mut fxo, 2999), []);
    assert_eq!(poll(&mut fxo, 3000), failed(Cause::NoDialTone));
    assert!(!fxo.is_off_hook());
    assert_eq!(fxo.state(), LineState::Guard);
}

#[test]
fn blind_dial_sends_digits_after_the_delay() {
    let mut fxo = line(FxoConfig {
        blind_dial: true,
        blind_dial_delay_ms: 1500,
        ..FxoConfig::default()
    });
    fxo.dial(0, "9,8001").unwrap();
    assert_eq!(prog(&mut fxo, 500, Progress::DialTone), []);
    assert_eq!(poll(&mut fxo, 1499), []);
    assert_eq!(poll(&mut fxo, 1500), [digits("9,8001")]);
    assert_eq!(fxo.state(), LineState::Dialling);
}

#[test]
fn busy_callee_fails_with_busy() {
    let mut fxo = dialled(FxoConfig::default());
    assert_eq!(prog(&mut fxo, 3000, Progress::Busy { cycles: 3 }), []);
    assert_eq!(
        prog(&mut fxo, 3350, Progress::Busy { cycles: 4 }),
        failed(Cause::Busy)
    );
}

#[test]
fn congestion_while_waiting_for_dial_tone_fails() {
    let mut fxo = line(FxoConfig::default());
    fxo.dial(0, "12345").unwrap();
    assert_eq!(
        prog(&mut fxo, 2900, Progress::Congestion { cycles: 4 }),
        failed(Cause::Congestion)
    );
}

#[test]
fn no_answer_fails_exactly_at_the_timeout() {
    let mut fxo = dialled(FxoConfig::default());
    prog(&mut fxo, 3000, Progress::Ringback);
    assert_eq!(poll(&mut fxo, 46_999), []);
    assert_eq!(poll(&mut fxo, 47_000), failed(Cause::NoAnswer));
}

#[test]
fn digits_not_confirmed_fails() {
    let mut fxo = line(FxoConfig::default());
    fxo.dial(0, "1").unwrap();
    prog(&mut fxo, 500, Progress::DialTone);
    assert_eq!(poll(&mut fxo, 15_499), []);
    assert_eq!(poll(&mut fxo, 15_500), failed(Cause::DigitsTimeout));
}

#[test]
fn loop_current_drop_fails_an_outbound_call_on_kewl_start() {
    let mut fxo = dialled(FxoConfig {
        signalling: LineSignalling::FxsKs,
        ..FxoConfig::default()
    });
    assert_eq!(
        ev(&mut fxo, 4000, LoopCurrentDrop),
        failed(Cause::LoopCurrentDrop)
    );
}

#[test]
fn hangup_cancels_an_outbound_call() {
    let mut fxo = dialled(FxoConfig::default());
    assert_eq!(vec(fxo.hangup(5000).unwrap()), failed(Cause::Cancelled));
}

#[test]
fn rings_after_dialling_started_are_ignored() {
    let mut fxo = dialled(FxoConfig::default());
    assert_eq!(ev(&mut fxo, 2100, RingOn), []);
    assert_eq!(fxo.state(), LineState::AwaitingAnswer);
}

#[test]
fn dial_is_refused_in_a_call_and_for_bad_numbers() {
    let mut fxo = line(quick_answer());
    assert_eq!(fxo.dial(0, ""), Err(RequestError::EmptyNumber));
    assert_eq!(fxo.dial(0, "12x4"), Err(RequestError::InvalidDigit('x')));
    assert_eq!(
        fxo.dial(0, &"1".repeat(33)),
        Err(RequestError::NumberTooLong { len: 33, max: 32 })
    );
    assert_eq!(fxo.state(), LineState::Idle);
    answer_call(&mut fxo, 100);
    assert_eq!(
        fxo.dial(200, "123"),
        Err(RequestError::InvalidState {
            request: "dial",
            state: LineState::Connected
        })
    );
    assert_eq!(fxo.state(), LineState::Connected);
}

#[test]
fn lower_case_dtmf_letters_are_normalised() {
    let mut fxo = line(FxoConfig::default());
    fxo.dial(0, "*a#d").unwrap();
    assert_eq!(prog(&mut fxo, 500, Progress::DialTone), [digits("*A#D")]);
}

#[test]
fn refused_request_keeps_the_actions_of_timers_it_fired() {
    use yingda_hal::LineEvent::{RingOff, RingOn};
    use yingda_signaling::fxo::{Cause, Report};
    let mut fxo = line(FxoConfig::default());
    ev(&mut fxo, 0, RingOn);
    ev(&mut fxo, 1000, RingOff);
    // At 7000 the abandon timer fires (back to idle), then the transfer is refused.
    assert_eq!(
        fxo.transfer(7000, "8001"),
        Err(RequestError::InvalidState {
            request: "transfer",
            state: LineState::Idle
        })
    );
    assert_eq!(
        poll(&mut fxo, 7001),
        [
            Action::StopCidReceiver,
            rep(Report::Disconnected {
                cause: Cause::Abandoned
            })
        ]
    );
}

#[test]
fn malformed_number_still_fires_due_timers_first() {
    use yingda_hal::LineEvent::{RingOff, RingOn};
    use yingda_signaling::fxo::{Cause, Report};
    let mut fxo = line(FxoConfig::default());
    ev(&mut fxo, 0, RingOn);
    ev(&mut fxo, 1000, RingOff);
    // The abandon timer is due at 7000: a bad request at 7000 must not postpone it.
    assert_eq!(fxo.dial(7000, "12x"), Err(RequestError::InvalidDigit('x')));
    assert_eq!(fxo.state(), LineState::Idle);
    assert_eq!(
        poll(&mut fxo, 7001),
        [
            Action::StopCidReceiver,
            rep(Report::Disconnected {
                cause: Cause::Abandoned
            })
        ]
    );
}
