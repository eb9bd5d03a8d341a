//! Mapping of DAHDI signalling events to HAL line events.
//!
//! The kernel reports what the line did in its own words; what that means for the call
//! depends on our hook state (an on-hook event while off hook is the exchange dropping loop
//! current) and on what we asked for last (a hook-complete finishes our flash). The mapping is
//! a pure function so that it is tested without a card.

use yingda_hal::{HookCommand, LineEvent};

use crate::abi;

/// What the channel knows about its own state when an event arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HookState {
    /// We hold the line off hook.
    pub offhook: bool,
    /// Ringing has been reported and not yet ended.
    pub ringing: bool,
    /// A hook change we asked for whose completion the kernel will report (flash).
    pub pending: Option<HookCommand>,
}

/// The meaning of one raw DAHDI event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapped {
    /// Report this line event.
    Event(LineEvent),
    /// An audio buffer overflowed or ran dry in the kernel: count a slip.
    Slip,
    /// A known event that means nothing in this state (e.g. a second ring-start report).
    Ignored,
    /// The card was removed or its driver unloaded.
    Removed,
    /// An event code this back-end does not know; reported for logs, never fatal.
    Unknown(i32),
}

/// Map a raw `DAHDI_EVENT_*` code and update `state` accordingly.
pub fn map_event(code: i32, state: &mut HookState) -> Mapped {
    match code {
        abi::DAHDI_EVENT_NONE => Mapped::Ignored,
        abi::DAHDI_EVENT_RINGBEGIN | abi::DAHDI_EVENT_RINGOFFHOOK => {
            // DAHDI reports a ring both when it starts (RINGBEGIN) and once it is debounced
            // (RINGOFFHOOK); the call logic wants one RingOn per ring burst.
            if state.offhook || state.ringing {
                Mapped::Ignored
            } else {
                state.ringing = true;
                Mapped::Event(LineEvent::RingOn)
            }
        }
        abi::DAHDI_EVENT_RINGEROFF => {
            if state.ringing {
                state.ringing = false;
                Mapped::Event(LineEvent::RingOff)
            } else {
                Mapped::Ignored
            }
        }
        abi::DAHDI_EVENT_POLARITY => Mapped::Event(LineEvent::PolarityReversal),
        abi::DAHDI_EVENT_ONHOOK => {
            if state.offhook {
                Mapped::Event(LineEvent::LoopCurrentDrop)
            } else {
                state.ringing = false;
                Mapped::Ignored
            }
        }
        abi::DAHDI_EVENT_HOOKCOMPLETE => match state.pending.take() {
            Some(cmd) => Mapped::Event(LineEvent::HookComplete(cmd)),
            None => Mapped::Ignored,
        },
        abi::DAHDI_EVENT_ALARM => Mapped::Event(LineEvent::Alarm),
        abi::DAHDI_EVENT_NOALARM => Mapped::Event(LineEvent::AlarmCleared),
        abi::DAHDI_EVENT_OVERRUN
        | abi::DAHDI_EVENT_READ_OVERRUN
        | abi::DAHDI_EVENT_WRITE_UNDERRUN => Mapped::Slip,
        abi::DAHDI_EVENT_REMOVED => Mapped::Removed,
        other => Mapped::Unknown(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn onhook() -> HookState {
        HookState::default()
    }
    fn offhook() -> HookState {
        HookState {
            offhook: true,
            ..HookState::default()
        }
    }

    #[test]
    fn event_table() {
        use LineEvent as E;
        // (raw code, state before, expected meaning)
        let table: &[(i32, HookState, Mapped)] = &[
            (
                abi::DAHDI_EVENT_RINGBEGIN,
                onhook(),
                Mapped::Event(E::RingOn),
            ),
            (
                abi::DAHDI_EVENT_RINGOFFHOOK,
                onhook(),
                Mapped::Event(E::RingOn),
            ),
            (abi::DAHDI_EVENT_RINGOFFHOOK, offhook(), Mapped::Ignored),
            (
                abi::DAHDI_EVENT_RINGEROFF,
                HookState {
                    ringing: true,
                    ..onhook()
                },
                Mapped::Event(E::RingOff),
            ),
            (abi::DAHDI_EVENT_RINGEROFF, onhook(), Mapped::Ignored),
            (
                abi::DAHDI_EVENT_POLARITY,
                onhook(),
                Mapped::Event(E::PolarityReversal),
            ),
            (
                abi::DAHDI_EVENT_POLARITY,
                offhook(),
                Mapped::Event(E::PolarityReversal),
            ),
            (
                abi::DAHDI_EVENT_ONHOOK,
                offhook(),
                Mapped::Event(E::LoopCurrentDrop),
            ),
            (abi::DAHDI_EVENT_ONHOOK, onhook(), Mapped::Ignored),
            (
                abi::DAHDI_EVENT_HOOKCOMPLETE,
                HookState {
                    pending: Some(HookCommand::Flash),
                    ..offhook()
                },
                Mapped::Event(E::HookComplete(HookCommand::Flash)),
            ),
            (abi::DAHDI_EVENT_HOOKCOMPLETE, offhook(), Mapped::Ignored),
            (abi::DAHDI_EVENT_ALARM, onhook(), Mapped::Event(E::Alarm)),
            (
                abi::DAHDI_EVENT_NOALARM,
                offhook(),
                Mapped::Event(E::AlarmCleared),
            ),
            (abi::DAHDI_EVENT_READ_OVERRUN, offhook(), Mapped::Slip),
            (abi::DAHDI_EVENT_WRITE_UNDERRUN, offhook(), Mapped::Slip),
            (abi::DAHDI_EVENT_REMOVED, offhook(), Mapped::Removed),
            (abi::DAHDI_EVENT_NONE, offhook(), Mapped::Ignored),
            (3, onhook(), Mapped::Unknown(3)), // WINKFLASH: not used on FXO ports
            ((1 << 17) | 5, offhook(), Mapped::Unknown((1 << 17) | 5)), // DTMFDOWN | '5'
            (-1, onhook(), Mapped::Unknown(-1)),
            (i32::MAX, onhook(), Mapped::Unknown(i32::MAX)),
        ];
        for &(code, before, want) in table {
            let mut state = before;
            assert_eq!(
                map_event(code, &mut state),
                want,
                "event {code} in state {before:?}"
            );
        }
    }

    #[test]
    fn one_ring_on_per_burst_and_state_updates() {
        let mut s = onhook();
        assert_eq!(
            map_event(abi::DAHDI_EVENT_RINGBEGIN, &mut s),
            Mapped::Event(LineEvent::RingOn)
        );
        assert!(s.ringing);
        assert_eq!(
            map_event(abi::DAHDI_EVENT_RINGOFFHOOK, &mut s),
            Mapped::Ignored
        );
        assert_eq!(
            map_event(abi::DAHDI_EVENT_RINGEROFF, &mut s),
            Mapped::Event(LineEvent::RingOff)
        );
        assert!(!s.ringing);
        assert_eq!(
            map_event(abi::DAHDI_EVENT_RINGOFFHOOK, &mut s),
            Mapped::Event(LineEvent::RingOn)
        );

        let mut s = HookState {
            pending: Some(HookCommand::Flash),
            ..offhook()
        };
        map_event(abi::DAHDI_EVENT_HOOKCOMPLETE, &mut s);
        assert_eq!(s.pending, None, "a completion is reported once");
    }
}
