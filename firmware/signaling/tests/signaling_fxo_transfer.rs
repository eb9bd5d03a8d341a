//! Hook-flash transfer: success, and flash-back to the caller on every failure.

mod common;

use common::*;
use yingda_hal::HookCommand;
use yingda_hal::LineEvent::{HookComplete, LoopCurrentDrop};
use yingda_signaling::fxo::{
    Action, Cause, Fxo, FxoConfig, LineSignalling, LineState, Progress, Report, RequestError,
};

/// Connected at 0; transfer to 8001 at 10 000; flash completes at 10 300; dial tone at
/// 10 600 → digits; digits sent at 11 200.
fn transferring(cfg: FxoConfig) -> Fxo {
    let mut fxo = line(cfg);
    answer_call(&mut fxo, 0);
    assert_eq!(vec(fxo.transfer(10_000, "8001").unwrap()), [hook(Flash)]);
    assert_eq!(fxo.state(), LineState::Transferring);
    assert_eq!(ev(&mut fxo, 10_300, HookComplete(HookCommand::Flash)), []);
    assert_eq!(fxo.next_timeout(), Some(13_300));
    assert_eq!(prog(&mut fxo, 10_600, Progress::DialTone), [digits("8001")]);
    assert_eq!(sent(&mut fxo, 11_200), []);
    assert_eq!(fxo.next_timeout(), Some(41_200));
    fxo
}

fn retrieved(fxo: &mut Fxo, t: u64, reason: Cause) {
    assert_eq!(
        ev(fxo, t, HookComplete(HookCommand::Flash)),
        [rep(Report::TransferFailed { reason })]
    );
    assert_eq!(fxo.state(), LineState::Connected);
    assert!(fxo.is_off_hook());
}

#[test]
fn blind_transfer_completes_when_the_extension_answers() {
    let mut fxo = transferring(quick_answer());
    assert_eq!(prog(&mut fxo, 12_000, Progress::Ringback), []);
    assert_eq!(
        prog(&mut fxo, 16_000, Progress::Voice),
        ended(Report::TransferCompleted)
    );
    assert_eq!(fxo.state(), LineState::Guard);
}

#[test]
fn transfer_completes_when_ringback_ends() {
    let mut fxo = transferring(quick_answer());
    assert_eq!(prog(&mut fxo, 11_500, Progress::Silence), []);
    prog(&mut fxo, 12_000, Progress::Ringback);
    assert_eq!(
        prog(&mut fxo, 20_000, Progress::Silence),
        ended(Report::TransferCompleted)
    );
}

#[test]
fn busy_extension_flashes_back_to_the_caller() {
    let mut fxo = transferring(quick_answer());
    assert_eq!(prog(&mut fxo, 12_000, Progress::Busy { cycles: 3 }), []);
    assert_eq!(
        prog(&mut fxo, 12_350, Progress::Busy { cycles: 4 }),
        [hook(Flash)]
    );
    assert_eq!(fxo.state(), LineState::Transferring);
    retrieved(&mut fxo, 12_700, Cause::Busy);
    // The call goes on: the app can hang up normally.
    assert!(
        vec(fxo.hangup(20_000).unwrap()).contains(&rep(Report::Disconnected {
            cause: Cause::LocalHangup
        }))
    );
}

#[test]
fn unanswered_extension_flashes_back_exactly_at_the_timeout() {
    let mut fxo = transferring(quick_answer());
    prog(&mut fxo, 12_000, Progress::Ringback);
    assert_eq!(poll(&mut fxo, 41_199), []);
    assert_eq!(poll(&mut fxo, 41_200), [hook(Flash)]);
    // No HookComplete from the back-end: the flash timer (300 + 500 grace) carries on.
    assert_eq!(poll(&mut fxo, 41_999), []);
    assert_eq!(
        poll(&mut fxo, 42_000),
        [rep(Report::TransferFailed {
            reason: Cause::NoAnswer
        })]
    );
    assert_eq!(fxo.state(), LineState::Connected);
}

#[test]
fn no_dial_tone_after_flash_flashes_back() {
    let mut fxo = line(quick_answer());
    answer_call(&mut fxo, 0);
    fxo.transfer(10_000, "8001").unwrap();
    // Flash timer instead of HookComplete: 10 000 + 300 + 500.
    assert_eq!(poll(&mut fxo, 10_799), []);
    assert_eq!(poll(&mut fxo, 10_800), []);
    assert_eq!(fxo.next_timeout(), Some(13_800));
    assert_eq!(poll(&mut fxo, 13_800), [hook(Flash)]);
    retrieved(&mut fxo, 14_100, Cause::NoDialTone);
}

#[test]
fn fixed_pause_instead_of_dial_tone() {
    let mut fxo = line(FxoConfig {
        transfer_wait_dialtone: false,
        transfer_pause_ms: 1200,
        ..quick_answer()
    });
    answer_call(&mut fxo, 0);
    fxo.transfer(10_000, "8001").unwrap();
    ev(&mut fxo, 10_300, HookComplete(HookCommand::Flash));
    assert_eq!(poll(&mut fxo, 11_499), []);
    assert_eq!(poll(&mut fxo, 11_500), [digits("8001")]);
}

#[test]
fn congestion_after_dialling_flashes_back() {
    let mut fxo = transferring(quick_answer());
    assert_eq!(
        prog(&mut fxo, 12_000, Progress::Congestion { cycles: 4 }),
        [hook(Flash)]
    );
    retrieved(&mut fxo, 12_400, Cause::Congestion);
}

#[test]
fn progress_detection_started_for_transfer_stops_after_failure_without_busydetect() {
    let mut fxo = line(FxoConfig {
        busydetect: false,
        ..quick_answer()
    });
    answer_call(&mut fxo, 0);
    assert_eq!(
        vec(fxo.transfer(1000, "8001").unwrap()),
        [hook(Flash), Action::StartProgressDetection]
    );
    ev(&mut fxo, 1300, HookComplete(HookCommand::Flash));
    prog(&mut fxo, 1600, Progress::DialTone);
    sent(&mut fxo, 2000);
    prog(&mut fxo, 3000, Progress::Busy { cycles: 4 });
    assert_eq!(
        ev(&mut fxo, 3300, HookComplete(HookCommand::Flash)),
        [
            Action::StopProgressDetection,
            rep(Report::TransferFailed {
                reason: Cause::Busy
            })
        ]
    );
}

#[test]
fn loop_current_drop_during_the_flash_is_not_a_disconnect() {
    let mut fxo = line(FxoConfig {
        signalling: LineSignalling::FxsKs,
        ..quick_answer()
    });
    answer_call(&mut fxo, 0);
    fxo.transfer(1000, "8001").unwrap();
    assert_eq!(ev(&mut fxo, 1100, LoopCurrentDrop), []);
    ev(&mut fxo, 1300, HookComplete(HookCommand::Flash));
    // After the flash a drop is the PBX hanging up on us.
    assert_eq!(
        ev(&mut fxo, 1400, LoopCurrentDrop),
        hung_up(Cause::LoopCurrentDrop)
    );
}

#[test]
fn hangup_during_transfer_goes_on_hook() {
    let mut fxo = transferring(quick_answer());
    assert_eq!(
        vec(fxo.hangup(12_000).unwrap()),
        hung_up(Cause::LocalHangup)
    );
}

#[test]
fn transfer_is_refused_unless_connected() {
    let mut fxo = line(quick_answer());
    assert_eq!(
        fxo.transfer(0, "8001"),
        Err(RequestError::InvalidState {
            request: "transfer",
            state: LineState::Idle
        })
    );
    answer_call(&mut fxo, 0);
    assert_eq!(
        fxo.transfer(10, "80 01"),
        Err(RequestError::InvalidDigit(' '))
    );
    fxo.transfer(20, "8001").unwrap();
    assert_eq!(
        fxo.transfer(30, "8002"),
        Err(RequestError::InvalidState {
            request: "transfer",
            state: LineState::Transferring
        })
    );
}
