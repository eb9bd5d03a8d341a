//! Property tests: any sequence of inputs, requests and times keeps the machine sane.
//!
//! Invariants checked after every step:
//! * nothing panics and no action is ever dropped;
//! * the hook state implied by the emitted `SetHook` actions equals `is_off_hook()`, and
//!   the line is off hook exactly in the call states;
//! * no timer is left overdue, and every off-hook state except a connected call has a
//!   timer, so only a connected call can hold the line without a deadline;
//! * a local hang-up, and a loop-current drop on a kewl-start line in a call, always emit
//!   `SetHook(OnHook)`;
//! * after the sequence, time running out plus a hang-up always leave the line on hook.

use proptest::prelude::*;
use yingda_hal::{HookCommand, LineEvent, Millis};
use yingda_signaling::fxo::{
    Action, CallerId, CidSignalling, CidStart, Fxo, FxoConfig, Input, LineSignalling, LineState,
    Progress, RequestError, MAX_ACTIONS,
};

#[derive(Debug, Clone)]
enum Op {
    Line(LineEvent),
    Progress(Progress),
    CallerId,
    DigitsSent,
    Dial(&'static str),
    Hangup,
    Transfer(&'static str),
    Poll,
}

fn line_event() -> impl Strategy<Value = LineEvent> {
    prop_oneof![
        4 => Just(LineEvent::RingOn),
        4 => Just(LineEvent::RingOff),
        2 => Just(LineEvent::PolarityReversal),
        2 => Just(LineEvent::LoopCurrentDrop),
        1 => Just(LineEvent::HookComplete(HookCommand::Flash)),
        1 => Just(LineEvent::HookComplete(HookCommand::OffHook)),
        1 => Just(LineEvent::HookComplete(HookCommand::OnHook)),
        1 => Just(LineEvent::Alarm),
        1 => Just(LineEvent::AlarmCleared),
    ]
}

fn progress() -> impl Strategy<Value = Progress> {
    prop_oneof![
        Just(Progress::DialTone),
        (0u8..8).prop_map(|cycles| Progress::Busy { cycles }),
        (0u8..8).prop_map(|cycles| Progress::Congestion { cycles }),
        Just(Progress::Ringback),
        Just(Progress::Voice),
        Just(Progress::Silence),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => line_event().prop_map(Op::Line),
        4 => progress().prop_map(Op::Progress),
        1 => Just(Op::CallerId),
        2 => Just(Op::DigitsSent),
        2 => prop_oneof![Just("12345"), Just("9,8001"), Just("12x"), Just("")].prop_map(Op::Dial),
        2 => Just(Op::Hangup),
        2 => prop_oneof![Just("8001"), Just("8 01")].prop_map(Op::Transfer),
        3 => Just(Op::Poll),
    ]
}

fn config() -> impl Strategy<Value = FxoConfig> {
    let cid = prop_oneof![
        Just((CidSignalling::Bell, CidStart::Ring)),
        Just((CidSignalling::V23, CidStart::Ring)),
        Just((CidSignalling::Dtmf, CidStart::Ring)),
        Just((CidSignalling::V23, CidStart::Polarity)),
        Just((CidSignalling::Dtmf, CidStart::Polarity)),
        Just((CidSignalling::Dtmf, CidStart::Dtmf)),
    ];
    (
        prop_oneof![Just(LineSignalling::FxsLs), Just(LineSignalling::FxsKs)],
        1u8..4,
        any::<bool>(),
        cid,
        any::<[bool; 6]>(),
        1u8..5,
    )
        .prop_map(
            |(signalling, rings, usecallerid, (sig, start), flags, busycount)| FxoConfig {
                signalling,
                answer_after_rings: rings,
                usecallerid,
                cidsignalling: sig,
                cidstart: start,
                busydetect: flags[0],
                busycount,
                hanguponpolarityswitch: flags[1],
                answeronpolarityswitch: flags[2],
                answeronvoice: flags[3],
                blind_dial: flags[4],
                transfer_wait_dialtone: flags[5],
                ..FxoConfig::default()
            },
        )
}

/// Tracks the hook state the daemon would have after carrying out the actions.
struct Checker {
    off_hook: bool,
}

impl Checker {
    fn apply(&mut self, fxo: &Fxo, actions: &[Action], now: Millis) -> Result<(), TestCaseError> {
        prop_assert!(actions.len() < MAX_ACTIONS, "{} actions", actions.len());
        prop_assert_eq!(fxo.actions_dropped(), 0);
        for a in actions {
            if let Action::SetHook(cmd) = a {
                self.off_hook = *cmd != HookCommand::OnHook;
            }
        }
        prop_assert_eq!(self.off_hook, fxo.is_off_hook());
        let in_call = matches!(
            fxo.state(),
            LineState::Connected
                | LineState::Seizing
                | LineState::Dialling
                | LineState::AwaitingAnswer
                | LineState::Transferring
        );
        prop_assert_eq!(fxo.is_off_hook(), in_call, "state {:?}", fxo.state());
        if let Some(t) = fxo.next_timeout() {
            prop_assert!(t > now, "timer {} overdue at {}", t, now);
        }
        if fxo.is_off_hook() && fxo.state() != LineState::Connected {
            prop_assert!(
                fxo.next_timeout().is_some(),
                "off hook forever in {:?}",
                fxo.state()
            );
        }
        Ok(())
    }
}

fn step(fxo: &mut Fxo, now: Millis, op: &Op) -> (Vec<Action>, Option<Result<(), RequestError>>) {
    let collect = |r: Result<yingda_signaling::fxo::Actions, RequestError>| match r {
        Ok(a) => (a.into_iter().collect(), Some(Ok(()))),
        Err(e) => (Vec::new(), Some(Err(e))),
    };
    match op {
        Op::Line(e) => (fxo.handle(now, Input::Line(*e)).into_iter().collect(), None),
        Op::Progress(p) => (
            fxo.handle(now, Input::Progress(*p)).into_iter().collect(),
            None,
        ),
        Op::CallerId => (
            fxo.handle(now, Input::CallerId(CallerId::with_number("13800138000")))
                .into_iter()
                .collect(),
            None,
        ),
        Op::DigitsSent => (
            fxo.handle(now, Input::DigitsSent).into_iter().collect(),
            None,
        ),
        Op::Dial(n) => collect(fxo.dial(now, n)),
        Op::Hangup => collect(fxo.hangup(now)),
        Op::Transfer(x) => collect(fxo.transfer(now, x)),
        Op::Poll => (fxo.poll(now).into_iter().collect(), None),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_inputs_never_break_the_line(
        cfg in config(),
        steps in prop::collection::vec((0u64..8000, op()), 0..80),
    ) {
        let kewl = cfg.signalling == LineSignalling::FxsKs;
        let mut fxo = Fxo::new(cfg).unwrap();
        let mut check = Checker { off_hook: true };
        let mut now: Millis = 0;
        let startup: Vec<Action> = fxo.poll(now).into_iter().collect();
        check.apply(&fxo, &startup, now)?;
        // Actions of timers fired by a refused request come with the next call.
        let mut carried: Vec<Action> = Vec::new();
        for (dt, op) in &steps {
            now += dt;
            let before = fxo.state();
            let (actions, result) = step(&mut fxo, now, op);
            carried.extend(actions);
            if matches!(result, Some(Err(_))) {
                continue;
            }
            check.apply(&fxo, &carried, now)?;
            let hung_up = carried.contains(&Action::SetHook(HookCommand::OnHook));
            if matches!(op, Op::Hangup) {
                prop_assert!(hung_up, "hangup accepted without OnHook: {:?}", carried);
            }
            if kewl
                && before == LineState::Connected
                && matches!(op, Op::Line(LineEvent::LoopCurrentDrop))
            {
                prop_assert!(hung_up && !fxo.is_off_hook(), "drop left the line off hook");
            }
            carried.clear();
        }
        // Let every timer run out; then only a connected call may hold the line, and a
        // hang-up releases it.
        for _ in 0..8 {
            now += 700_000;
            let a: Vec<Action> = carried.drain(..).chain(fxo.poll(now)).collect();
            check.apply(&fxo, &a, now)?;
        }
        if fxo.state() == LineState::Connected {
            let a: Vec<Action> = fxo.hangup(now).unwrap().into_iter().collect();
            check.apply(&fxo, &a, now)?;
        }
        prop_assert!(!fxo.is_off_hook(), "still off hook in {:?}", fxo.state());
    }

    #[test]
    fn arbitrary_times_never_panic(
        cfg in config(),
        steps in prop::collection::vec((any::<u64>(), op()), 0..60),
    ) {
        let mut fxo = Fxo::new(cfg).unwrap();
        for (now, op) in &steps {
            let _ = step(&mut fxo, *now, op);
            prop_assert_eq!(fxo.actions_dropped(), 0);
        }
    }
}
