//! Helpers shared by the FXO scenario tests.
#![allow(dead_code, unused_imports, unreachable_pub)] // each test binary uses a different subset

use yingda_hal::{HookCommand, LineEvent, Millis};
use yingda_signaling::fxo::{
    Action, Actions, CallerId, Cause, Fxo, FxoConfig, Input, Progress, Report,
};

pub use yingda_hal::HookCommand::{Flash, OffHook, OnHook};

/// A line with `cfg`, start-up actions already taken and checked.
pub fn line(cfg: FxoConfig) -> Fxo {
    let mut fxo = Fxo::new(cfg).expect("valid config");
    let startup = fxo.poll(0);
    assert_eq!(startup.first(), Some(&Action::SetHook(HookCommand::OnHook)));
    fxo
}

/// Config without caller ID that answers on the first ring.
pub fn quick_answer() -> FxoConfig {
    FxoConfig {
        usecallerid: false,
        answer_after_rings: 1,
        ..FxoConfig::default()
    }
}

pub fn ev(fxo: &mut Fxo, now: Millis, e: LineEvent) -> Vec<Action> {
    fxo.handle(now, Input::Line(e)).into_iter().collect()
}

pub fn prog(fxo: &mut Fxo, now: Millis, p: Progress) -> Vec<Action> {
    fxo.handle(now, Input::Progress(p)).into_iter().collect()
}

pub fn cid(fxo: &mut Fxo, now: Millis, c: CallerId) -> Vec<Action> {
    fxo.handle(now, Input::CallerId(c)).into_iter().collect()
}

pub fn sent(fxo: &mut Fxo, now: Millis) -> Vec<Action> {
    fxo.handle(now, Input::DigitsSent).into_iter().collect()
}

pub fn poll(fxo: &mut Fxo, now: Millis) -> Vec<Action> {
    fxo.poll(now).into_iter().collect()
}

pub fn vec(a: Actions) -> Vec<Action> {
    a.into_iter().collect()
}

pub fn rep(r: Report) -> Action {
    Action::Report(r)
}

pub fn hook(cmd: HookCommand) -> Action {
    Action::SetHook(cmd)
}

/// What ending a call with the progress detector running produces: on hook, detector
/// off, then `report`.
pub fn ended(report: Report) -> Vec<Action> {
    vec![hook(OnHook), Action::StopProgressDetection, rep(report)]
}

/// A connected call ended by `cause`.
pub fn hung_up(cause: Cause) -> Vec<Action> {
    ended(Report::Disconnected { cause })
}

/// An outbound call that failed with `reason` after going off hook.
pub fn failed(reason: Cause) -> Vec<Action> {
    ended(Report::OutboundFailed { reason })
}

pub fn digits(s: &str) -> Action {
    Action::SendDigits(s.try_into().expect("short dial string"))
}

/// Answer an incoming call at `t` on a [`quick_answer`]-style line; returns the actions.
pub fn answer_call(fxo: &mut Fxo, t: Millis) -> Vec<Action> {
    let a = ev(fxo, t, LineEvent::RingOn);
    assert!(a.contains(&hook(OffHook)), "not answered: {a:?}");
    a
}
