//! Glare (a ring while seizing) and alarms.

mod common;

use common::*;
use yingda_hal::LineEvent::{Alarm, AlarmCleared, RingOff, RingOn};
use yingda_signaling::fxo::{Action, Cause, FxoConfig, LineState, Progress, Report, RequestError};

#[test]
fn ring_while_waiting_for_dial_tone_is_glare_and_the_incoming_call_wins() {
    let mut fxo = line(FxoConfig::default());
    fxo.dial(0, "12345").unwrap();
    assert_eq!(
        ev(&mut fxo, 200, RingOn),
        [
            rep(Report::OutboundFailed {
                reason: Cause::Glare
            }),
            rep(Report::Incoming { caller_id: None }),
            rep(Report::Answered),
        ]
    );
    assert_eq!(fxo.state(), LineState::Connected);
    assert!(fxo.is_off_hook());
    assert_eq!(fxo.next_timeout(), None);
    // Dial tone arriving late must not dial into the caller's ear.
    assert_eq!(prog(&mut fxo, 500, Progress::DialTone), []);
    assert_eq!(ev(&mut fxo, 1200, RingOff), []);
}

#[test]
fn glare_during_blind_dial_delay() {
    let mut fxo = line(FxoConfig {
        blind_dial: true,
        busydetect: false,
        ..FxoConfig::default()
    });
    fxo.dial(0, "12345").unwrap();
    assert_eq!(
        ev(&mut fxo, 1999, RingOn),
        [
            rep(Report::OutboundFailed {
                reason: Cause::Glare
            }),
            Action::StopProgressDetection,
            rep(Report::Incoming { caller_id: None }),
            rep(Report::Answered),
        ]
    );
    assert_eq!(poll(&mut fxo, 2000), []);
}

#[test]
fn dial_while_ringing_is_refused() {
    let mut fxo = line(FxoConfig::default());
    ev(&mut fxo, 0, RingOn);
    assert_eq!(
        fxo.dial(100, "123"),
        Err(RequestError::InvalidState {
            request: "dial",
            state: LineState::Ringing
        })
    );
}

#[test]
fn alarm_in_a_call_ends_it_and_line_is_out_of_service_until_cleared() {
    let mut fxo = line(quick_answer());
    answer_call(&mut fxo, 0);
    assert_eq!(
        ev(&mut fxo, 5000, Alarm),
        [
            hook(OnHook),
            Action::StopProgressDetection,
            rep(Report::Disconnected {
                cause: Cause::Alarm
            }),
            rep(Report::OutOfService),
        ]
    );
    assert_eq!(fxo.state(), LineState::OutOfService);
    assert_eq!(fxo.next_timeout(), None);
    assert_eq!(fxo.dial(6000, "123"), Err(RequestError::OutOfService));
    assert_eq!(fxo.hangup(6000), Err(RequestError::OutOfService));
    assert_eq!(ev(&mut fxo, 7000, RingOn), []);
    assert_eq!(ev(&mut fxo, 7500, Alarm), []);
    assert_eq!(ev(&mut fxo, 9000, AlarmCleared), [rep(Report::InService)]);
    assert_eq!(fxo.state(), LineState::Idle);
    assert!(answer_call(&mut fxo, 10_000).contains(&rep(Report::Answered)));
}

#[test]
fn alarm_during_outbound_setup_fails_the_call() {
    let mut fxo = line(FxoConfig::default());
    fxo.dial(0, "123").unwrap();
    assert_eq!(
        ev(&mut fxo, 100, Alarm),
        [
            hook(OnHook),
            Action::StopProgressDetection,
            rep(Report::OutboundFailed {
                reason: Cause::Alarm
            }),
            rep(Report::OutOfService),
        ]
    );
}

#[test]
fn alarm_while_ringing_ends_the_offered_call() {
    let mut fxo = line(FxoConfig::default());
    ev(&mut fxo, 0, RingOn);
    ev(&mut fxo, 1000, RingOff);
    assert_eq!(
        ev(&mut fxo, 1500, Alarm),
        [
            Action::StopCidReceiver,
            rep(Report::Disconnected {
                cause: Cause::Alarm
            }),
            rep(Report::OutOfService),
        ]
    );
    assert_eq!(fxo.next_timeout(), None);
}

#[test]
fn alarm_on_idle_line_only_marks_it_out_of_service() {
    let mut fxo = line(FxoConfig::default());
    assert_eq!(ev(&mut fxo, 0, Alarm), [rep(Report::OutOfService)]);
    assert_eq!(ev(&mut fxo, 10, AlarmCleared), [rep(Report::InService)]);
    assert_eq!(ev(&mut fxo, 20, AlarmCleared), []);
}
