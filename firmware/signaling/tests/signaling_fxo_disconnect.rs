//! Ending a connected call: busy/congestion tone, polarity reversal, loop-current drop,
//! local hang-up; each puts the line on hook and starts the guard time.

mod common;

use common::*;
use yingda_hal::LineEvent::{LoopCurrentDrop, PolarityReversal, RingOn};
use yingda_signaling::fxo::{
    Action, Cause, FxoConfig, LineSignalling, LineState, Progress, RequestError,
};

#[test]
fn busy_tone_disconnects_exactly_at_busycount_cycles() {
    let mut fxo = line(FxoConfig {
        busycount: 4,
        ..quick_answer()
    });
    answer_call(&mut fxo, 0);
    for cycles in 0..4 {
        assert_eq!(
            prog(
                &mut fxo,
                30_000 + u64::from(cycles) * 700,
                Progress::Busy { cycles }
            ),
            []
        );
    }
    assert_eq!(
        prog(&mut fxo, 32_800, Progress::Busy { cycles: 4 }),
        hung_up(Cause::BusyTone)
    );
    assert_eq!(fxo.state(), LineState::Guard);
    assert_eq!(fxo.next_timeout(), Some(34_800));
    assert_eq!(poll(&mut fxo, 34_800), []);
    assert_eq!(fxo.state(), LineState::Idle);
}

#[test]
fn busycount_is_configurable() {
    let mut fxo = line(FxoConfig {
        busycount: 2,
        ..quick_answer()
    });
    answer_call(&mut fxo, 0);
    assert_eq!(prog(&mut fxo, 1000, Progress::Busy { cycles: 1 }), []);
    assert_eq!(
        prog(&mut fxo, 1700, Progress::Busy { cycles: 2 }),
        hung_up(Cause::BusyTone)
    );
}

#[test]
fn congestion_tone_disconnects() {
    let mut fxo = line(quick_answer());
    answer_call(&mut fxo, 0);
    assert_eq!(prog(&mut fxo, 5000, Progress::Congestion { cycles: 3 }), []);
    assert_eq!(
        prog(&mut fxo, 5700, Progress::Congestion { cycles: 4 }),
        hung_up(Cause::Congestion)
    );
}

#[test]
fn busy_tone_is_ignored_without_busydetect() {
    let mut fxo = line(FxoConfig {
        busydetect: false,
        ..quick_answer()
    });
    let a = answer_call(&mut fxo, 0);
    assert!(!a.contains(&Action::StartProgressDetection), "{a:?}");
    assert_eq!(prog(&mut fxo, 5000, Progress::Busy { cycles: 20 }), []);
    assert_eq!(fxo.state(), LineState::Connected);
}

#[test]
fn polarity_reversal_disconnects_with_hanguponpolarityswitch() {
    let mut fxo = line(FxoConfig {
        hanguponpolarityswitch: true,
        ..quick_answer()
    });
    answer_call(&mut fxo, 0);
    assert_eq!(
        ev(&mut fxo, 9000, PolarityReversal),
        hung_up(Cause::PolarityReversal)
    );
}

#[test]
fn polarity_reversal_is_ignored_without_hanguponpolarityswitch() {
    let mut fxo = line(quick_answer());
    answer_call(&mut fxo, 0);
    assert_eq!(ev(&mut fxo, 9000, PolarityReversal), []);
    assert_eq!(fxo.state(), LineState::Connected);
}

#[test]
fn loop_current_drop_disconnects_on_kewl_start() {
    let mut fxo = line(FxoConfig {
        signalling: LineSignalling::FxsKs,
        ..quick_answer()
    });
    answer_call(&mut fxo, 0);
    assert_eq!(
        ev(&mut fxo, 4000, LoopCurrentDrop),
        hung_up(Cause::LoopCurrentDrop)
    );
    assert!(!fxo.is_off_hook());
}

#[test]
fn loop_current_drop_is_ignored_on_loop_start() {
    let mut fxo = line(quick_answer());
    answer_call(&mut fxo, 0);
    assert_eq!(ev(&mut fxo, 4000, LoopCurrentDrop), []);
    assert!(fxo.is_off_hook());
}

#[test]
fn local_hangup_goes_on_hook() {
    let mut fxo = line(quick_answer());
    answer_call(&mut fxo, 0);
    assert_eq!(
        vec(fxo.hangup(60_000).unwrap()),
        hung_up(Cause::LocalHangup)
    );
    assert_eq!(fxo.state(), LineState::Guard);
    assert_eq!(
        fxo.hangup(60_001),
        Err(RequestError::InvalidState {
            request: "hangup",
            state: LineState::Guard
        })
    );
}

#[test]
fn rings_during_a_connected_call_are_ignored() {
    let mut fxo = line(quick_answer());
    answer_call(&mut fxo, 0);
    assert_eq!(ev(&mut fxo, 100, RingOn), []);
    assert_eq!(fxo.state(), LineState::Connected);
}
