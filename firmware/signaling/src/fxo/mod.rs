//! FXO loop-start line state machine.
//!
//! An FXO port is the "telephone" end of an analogue line: the exchange (or PBX) rings it,
//! and it answers or seizes the line by going off hook. [`Fxo`] decides *when* to do what;
//! the daemon does it. It must never touch hardware, sleep, read a clock or allocate.
//!
//! # Driving it
//!
//! ```
//! use yingda_signaling::fxo::{Action, Fxo, FxoConfig, Input, Report};
//! use yingda_hal::{HookCommand, LineEvent};
//!
//! let mut line = Fxo::new(FxoConfig { usecallerid: false, answer_after_rings: 1, ..FxoConfig::default() })?;
//! let _startup = line.poll(0); // SetHook(OnHook)
//! let actions = line.handle(1_000, Input::Line(LineEvent::RingOn));
//! assert!(actions.contains(&Action::SetHook(HookCommand::OffHook)));
//! assert!(actions.contains(&Action::Report(Report::Answered)));
//! # Ok::<(), yingda_signaling::fxo::ConfigError>(())
//! ```
//!
//! * Inputs ([`Input`]): HAL [`yingda_hal::LineEvent`]s, call-progress results
//!   ([`Progress`]), decoded caller ID ([`CallerId`]), and [`Input::DigitsSent`] once the
//!   daemon has played the digits of an [`Action::SendDigits`]. Feed them with
//!   [`Fxo::handle`].
//! * Requests from the call flow: [`Fxo::dial`], [`Fxo::hangup`], [`Fxo::transfer`]. A
//!   request that makes no sense in the current state returns a [`RequestError`] and
//!   changes nothing.
//! * Time: every call takes `now` ([`yingda_hal::Millis`]). [`Fxo::next_timeout`] says when
//!   to call [`Fxo::poll`]; every call first fires the timers due at `now`, so a late poll
//!   never reorders a timeout after an event that came later.
//! * Outputs: [`Actions`], in order: hook changes, digits to send, detectors to start or
//!   stop, and [`Report`]s for the call flow. At most [`MAX_ACTIONS`] per call, no heap.
//!
//! In the daemon, one [`Fxo`] per FXO channel; each 20 ms tick:
//!
//! 1. drain [`yingda_hal::Channel::poll_event`] into [`Fxo::handle`];
//! 2. run the detectors the machine asked for on the received frame and feed their results
//!    ([`Progress`], [`CallerId`], [`Input::DigitsSent`] from the DTMF sender);
//! 3. call [`Fxo::poll`] (cheap when [`Fxo::next_timeout`] has not passed);
//! 4. pass call-flow requests ([`Fxo::dial`], [`Fxo::hangup`], [`Fxo::transfer`]);
//! 5. carry out every returned [`Action`] in order: `SetHook` → `Channel::set_hook`,
//!    `SendDigits` → DTMF generator, `Start…`/`Stop…` → detectors, `Report` → call flow.
//!
//! A refused request still fires the timers due at `now`; their actions come with the
//! next call's result, so nothing is lost.
//!
//! # States
//!
//! Inbound (line on hook until answered):
//!
//! ```text
//!  IDLE   cidstart=polarity: PolarityReversal starts the caller-ID receiver;
//!   │     cidstart=dtmf: the DTMF receiver always runs. A CallerId received here is
//!   │     kept for cid_prering_timeout_ms.
//!   │ RingOn: Ringing{1}
//!   ▼
//!  RINGING ── RingOn: Ringing{n}  /  RingOff (after ring 1, cidstart=ring): FSK receiver
//!   │   ├── no ring edge for ring_timeout_ms ─► Disconnected{Abandoned} ─► IDLE
//!   │   └── CallerId: kept, receiver stopped
//!   │ ring n ≥ answer_after_rings, and caller ID received or ring 2 started
//!   ▼ OffHook, Incoming{caller_id}, Answered
//!  CONNECTED
//! ```
//!
//! Outbound (off hook from `dial` on):
//!
//! ```text
//!  IDLE ── dial(number): OffHook, StartProgressDetection
//!   ▼
//!  SEIZING ── DialTone (or blind_dial_delay_ms) ─► SendDigits ─► DIALLING
//!   │  ├── RingOn: glare ─► OutboundFailed{Glare}, Incoming{None}, Answered ─► CONNECTED
//!   │  └── dialtone_timeout_ms ─► OutboundFailed{NoDialTone} ─► GUARD
//!  DIALLING ── DigitsSent ─► AWAITING ANSWER   (digits_timeout_ms ─► DigitsTimeout)
//!  AWAITING ANSWER
//!   │  ├── Ringback: keep waiting
//!   │  ├── Voice, or Silence after ringback (answeronvoice),
//!   │  │   or PolarityReversal (answeronpolarityswitch) ─► OutboundConnected ─► CONNECTED
//!   │  └── busy/congestion × busycount, no_answer_timeout_ms
//!   │        ─► OnHook, OutboundFailed{Busy|Congestion|NoAnswer} ─► GUARD
//! ```
//!
//! Connected call, transfer, and the end of every call:
//!
//! ```text
//!  CONNECTED
//!   ├── busy/congestion × busycount (busydetect), PolarityReversal
//!   │   (hanguponpolarityswitch), LoopCurrentDrop (fxs_ks), hangup()
//!   │     ─► OnHook, Disconnected{cause} ─► GUARD ── onhook_guard_ms ─► IDLE
//!   │                                       (rings and reversals ignored)
//!   └── transfer(ext): Flash
//!         ─ HookComplete(Flash) or flash_ms + grace ─► wait DialTone (or transfer_pause_ms)
//!         ─► SendDigits(ext) ─ DigitsSent ─► wait for the extension
//!              ├── Voice, or Silence after ringback ─► OnHook, TransferCompleted ─► GUARD
//!              └── busy/congestion, no dial tone, transfer_no_answer_timeout_ms
//!                    ─► Flash (retrieve caller) ─► TransferFailed{reason} ─► CONNECTED
//!
//!  any state ── Alarm ─► OnHook if off hook, Disconnected{Alarm} / OutboundFailed{Alarm},
//!                        OutOfService ─► OUT OF SERVICE ── AlarmCleared: InService ─► IDLE
//! ```
//!
//! # Rules worth knowing
//!
//! * **Ring counting and answer.** A ring is counted when it starts (`RingOn`); duplicate
//!   edges are ignored. The line answers at the start of ring `answer_after_rings`, but with
//!   `cidstart = "ring"` never before caller ID had its chance: it waits for the caller ID
//!   (and answers as soon as it arrives, if enough rings were heard) or for ring 2 to start.
//! * **Abandoned calls.** The ring timer restarts at every ring edge; when it runs out
//!   (default 6 s, which covers China's 4 s gap) the call is reported
//!   `Disconnected{Abandoned}` and the line goes straight back to idle (it never left hook).
//! * **Guard time.** After every hang-up the line ignores rings and reversals for
//!   `onhook_guard_ms`, so the tail of the old call's ringing is not taken for a new call.
//!   Requests other than those allowed in idle are refused during the guard.
//! * **Glare.** From going off hook for an outbound call until the first digit is sent, a
//!   `RingOn` means the exchange was already presenting a call: being off hook, we have
//!   answered it. The outbound request fails with [`Cause::Glare`] and the line continues
//!   as an answered inbound call without caller ID (`Incoming{None}`, `Answered`). Once
//!   dialling started, rings are ignored: the exchange owns the loop by then.
//! * **Disconnect supervision.** Busy or congestion tone counts only with `busydetect` and
//!   at `busycount` cycles; a polarity reversal only with `hanguponpolarityswitch`; a
//!   loop-current drop only on `fxs_ks` lines (on `fxs_ls` lines the current also dips at
//!   reversals). During a hook flash, loop-current drops are expected and ignored.
//! * **Alarm.** Any call ends (`Disconnected{Alarm}` or `OutboundFailed{Alarm}`), the line
//!   is put on hook and reported `OutOfService`; requests return
//!   [`RequestError::OutOfService`] until `AlarmCleared` (reported `InService`).
//! * **Hook completion.** `HookComplete(OffHook|OnHook)` is informational. After a flash
//!   the machine waits for `HookComplete(Flash)` or `flash_ms` + [`FLASH_GRACE_MS`].

mod config;
mod machine;
mod types;

pub use config::{CidSignalling, CidStart, ConfigError, FxoConfig, LineSignalling};
pub use machine::{parse_digits, Fxo, LineState, RequestError, FLASH_GRACE_MS};
pub use types::{
    Absence, Action, Actions, CallerId, Cause, CidReceiver, Digits, Input, Progress, Report,
    MAX_ACTIONS, MAX_CID_NAME, MAX_CID_NUMBER, MAX_DIGITS,
};
