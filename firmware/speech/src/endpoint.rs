//! Endpointing: turn per-frame speech decisions into "the caller started", "the caller
//! finished", "the caller said nothing" and "the caller will not stop".
//!
//! [`Endpointer`] is a sans-IO state machine. The flow engine builds one per prompt from an
//! [`EndpointConfig`], then feeds it one decision per 20 ms line frame ([`Endpointer::push`],
//! usually [`crate::vad::VadFrame::speech`]); it answers with at most one [`EndpointEvent`] per
//! frame. It reads no clock: time is the count of frames pushed, so every rule is exact and
//! testable without waiting.
//!
//! **Timeline.** Frame `k` (0-based since construction or [`Endpointer::reset`]) covers
//! `[20k, 20k + 20)` ms of the *decision* stream; an event returned by the push of frame `k`
//! happens at `20k + 20` ms. Event times are in that timeline: to place them in the audio,
//! subtract the detector's [`crate::vad::Vad::latency_ms`].
//!
//! **Rules** (all durations are compared in whole frames: `n` frames last `20n` ms):
//! - *Start*: a run of speech frames opens a candidate at its first frame. Gaps of non-speech
//!   up to `start_hangover_ms` inside the candidate are bridged; a longer gap drops it. Once
//!   the candidate holds `min_speech_ms` of speech frames, [`EndpointEvent::SpeechStart`] is
//!   returned with the candidate's first frame as `at_ms` (barge-in stops the prompt here).
//!   Clicks and coughs shorter than `min_speech_ms` never start an utterance.
//! - *End*: after the start, `trailing_silence_ms` of consecutive non-speech ends the
//!   utterance: [`EndpointEvent::SpeechEnd`] with `end_ms` at the end of the last speech frame.
//!   Any speech frame before that resumes the utterance (pauses between words).
//! - *Max length*: once an utterance has lasted `max_utterance_ms` from its start,
//!   [`EndpointEvent::MaxLength`] cuts it off (`end_ms` = the cut). Checked from the frame
//!   after `SpeechStart`; if the trailing silence completes on the same frame, `SpeechEnd` wins.
//! - *No input*: if no utterance has started `no_speech_timeout_ms` after listening began,
//!   [`EndpointEvent::NoInput`]. A candidate still open at the timeout is let finish: it
//!   either starts the utterance or, when dropped, gives `NoInput` at once.
//!
//! `SpeechEnd`, `MaxLength` and `NoInput` are terminal: after one, pushes return nothing until
//! [`Endpointer::reset`].
//!
//! What this module must never do: panic or allocate on any decision sequence (times
//! saturate), or emit an event out of order (start before end, one terminal event).

use crate::vad::FRAME_MS;

/// Errors from endpointer configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// A setting is outside its meaningful range.
    #[error("endpoint setting {name} = {value} ms out of range {min}..={max}")]
    OutOfRange {
        /// Field name.
        name: &'static str,
        /// Offending value, ms.
        value: u32,
        /// Smallest allowed value, ms.
        min: u32,
        /// Largest allowed value, ms.
        max: u32,
    },
    /// `min_speech_ms` is not below `max_utterance_ms`: every utterance would be cut off.
    #[error("min_speech_ms {min_speech_ms} must be below max_utterance_ms {max_utterance_ms}")]
    MinSpeechNotBelowMax {
        /// The minimum speech length, ms.
        min_speech_ms: u32,
        /// The maximum utterance length, ms.
        max_utterance_ms: u32,
    },
}

/// Per-prompt endpointing settings. Durations in ms; they act in whole 20 ms frames (a value
/// that is not a multiple of 20 acts as the next multiple up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointConfig {
    /// Caller says nothing this long after listening starts → [`EndpointEvent::NoInput`].
    /// 500…120 000; default 5 000.
    pub no_speech_timeout_ms: u32,
    /// Silence after speech that ends the utterance. 100…10 000; default 700 (long enough for
    /// the pauses between words and between the groups of a spoken number).
    pub trailing_silence_ms: u32,
    /// Utterances are cut off at this length. 1 000…600 000; default 15 000.
    pub max_utterance_ms: u32,
    /// Speech needed before an utterance starts; shorter bursts (clicks, coughs, line hits)
    /// are ignored. 20…2 000; default 160.
    pub min_speech_ms: u32,
    /// Non-speech gaps up to this long do not break a starting utterance (detector flicker on
    /// the first syllable). 0…1 000; default 60.
    pub start_hangover_ms: u32,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            no_speech_timeout_ms: 5_000,
            trailing_silence_ms: 700,
            max_utterance_ms: 15_000,
            min_speech_ms: 160,
            start_hangover_ms: 60,
        }
    }
}

fn check(name: &'static str, value: u32, min: u32, max: u32) -> Result<(), EndpointError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(EndpointError::OutOfRange {
            name,
            value,
            min,
            max,
        })
    }
}

impl EndpointConfig {
    /// Check every setting.
    ///
    /// # Errors
    /// [`EndpointError::OutOfRange`] for a value outside its documented range;
    /// [`EndpointError::MinSpeechNotBelowMax`] if `min_speech_ms >= max_utterance_ms`.
    pub fn validate(&self) -> Result<(), EndpointError> {
        check(
            "no_speech_timeout_ms",
            self.no_speech_timeout_ms,
            500,
            120_000,
        )?;
        check("trailing_silence_ms", self.trailing_silence_ms, 100, 10_000)?;
        check("max_utterance_ms", self.max_utterance_ms, 1_000, 600_000)?;
        check("min_speech_ms", self.min_speech_ms, 20, 2_000)?;
        check("start_hangover_ms", self.start_hangover_ms, 0, 1_000)?;
        if self.min_speech_ms >= self.max_utterance_ms {
            return Err(EndpointError::MinSpeechNotBelowMax {
                min_speech_ms: self.min_speech_ms,
                max_utterance_ms: self.max_utterance_ms,
            });
        }
        Ok(())
    }
}

/// What the endpointer saw. Times in ms of the decision timeline (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointEvent {
    /// An utterance has started at `at_ms` (start of its first speech frame): stop the prompt
    /// (barge-in) and start collecting audio from there.
    SpeechStart {
        /// Start of the utterance.
        at_ms: u64,
    },
    /// The utterance is complete (terminal): speech ran from `start_ms` to `end_ms` and was
    /// followed by the configured trailing silence.
    SpeechEnd {
        /// Start of the utterance (the `at_ms` of its `SpeechStart`).
        start_ms: u64,
        /// End of its last speech frame.
        end_ms: u64,
    },
    /// Nothing was said before the no-speech timeout (terminal).
    NoInput,
    /// The utterance reached the maximum length and was cut off at `end_ms` (terminal).
    MaxLength {
        /// Start of the utterance.
        start_ms: u64,
        /// The cut: `start_ms + max_utterance_ms`, rounded up to a frame.
        end_ms: u64,
    },
}

impl EndpointEvent {
    /// True for the events that end listening: `SpeechEnd`, `NoInput`, `MaxLength`.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, EndpointEvent::SpeechStart { .. })
    }
}

/// Where the endpointer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for speech.
    Idle,
    /// Speech seen but not yet long enough to count.
    Candidate { start: u64, speech: u64, gap: u64 },
    /// Utterance in progress; `last_end` is the frame after its last speech frame.
    Speaking {
        start: u64,
        last_end: u64,
        silence: u64,
    },
    /// A terminal event was returned.
    Done,
}

/// Frames spanning at least `ms`.
fn frames(ms: u32) -> u64 {
    u64::from(ms.div_ceil(FRAME_MS))
}

fn to_ms(frame: u64) -> u64 {
    frame.saturating_mul(u64::from(FRAME_MS))
}

/// Per-prompt endpointer; see the module docs for the rules.
#[derive(Debug, Clone)]
pub struct Endpointer {
    cfg: EndpointConfig,
    /// Rules in frames.
    no_speech: u64,
    trailing: u64,
    max_len: u64,
    min_speech: u64,
    hangover: u64,
    /// Frames pushed so far.
    n: u64,
    state: State,
}

impl Endpointer {
    /// An endpointer that starts listening now.
    ///
    /// # Errors
    /// As [`EndpointConfig::validate`].
    pub fn new(cfg: EndpointConfig) -> Result<Self, EndpointError> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            no_speech: frames(cfg.no_speech_timeout_ms),
            trailing: frames(cfg.trailing_silence_ms),
            max_len: frames(cfg.max_utterance_ms),
            min_speech: frames(cfg.min_speech_ms),
            // A gap is bridged while it lasts no more than the hangover: round down.
            hangover: u64::from(cfg.start_hangover_ms / FRAME_MS),
            n: 0,
            state: State::Idle,
        })
    }

    /// The settings in use.
    pub fn config(&self) -> EndpointConfig {
        self.cfg
    }

    /// Start listening again from time 0 (next prompt turn) with the same settings.
    pub fn reset(&mut self) {
        self.n = 0;
        self.state = State::Idle;
    }

    /// Time pushed so far, ms.
    pub fn elapsed_ms(&self) -> u64 {
        to_ms(self.n)
    }

    /// True once a terminal event has been returned.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// True between `SpeechStart` and the terminal event.
    pub fn in_utterance(&self) -> bool {
        matches!(self.state, State::Speaking { .. })
    }

    /// Feed the decision for the next 20 ms frame.
    pub fn push(&mut self, speech: bool) -> Option<EndpointEvent> {
        let k = self.n;
        self.n = self.n.saturating_add(1);
        let now = self.n;
        match self.state {
            State::Done => None,
            State::Idle => {
                if speech {
                    self.state = State::Candidate {
                        start: k,
                        speech: 0,
                        gap: 0,
                    };
                    self.candidate_speech(now)
                } else {
                    self.no_input_due(now)
                }
            }
            State::Candidate {
                start,
                speech: s,
                gap,
            } => {
                if speech {
                    self.state = State::Candidate {
                        start,
                        speech: s,
                        gap: 0,
                    };
                    self.candidate_speech(now)
                } else if gap + 1 > self.hangover {
                    self.state = State::Idle;
                    self.no_input_due(now)
                } else {
                    self.state = State::Candidate {
                        start,
                        speech: s,
                        gap: gap + 1,
                    };
                    None
                }
            }
            State::Speaking {
                start,
                last_end,
                silence,
            } => {
                let silence = if speech { 0 } else { silence + 1 };
                let last_end = if speech { now } else { last_end };
                if silence >= self.trailing {
                    self.state = State::Done;
                    return Some(EndpointEvent::SpeechEnd {
                        start_ms: to_ms(start),
                        end_ms: to_ms(last_end),
                    });
                }
                if now.saturating_sub(start) >= self.max_len {
                    self.state = State::Done;
                    return Some(EndpointEvent::MaxLength {
                        start_ms: to_ms(start),
                        end_ms: to_ms(now),
                    });
                }
                self.state = State::Speaking {
                    start,
                    last_end,
                    silence,
                };
                None
            }
        }
    }

    /// A speech frame joined the candidate: count it and start the utterance when enough.
    fn candidate_speech(&mut self, now: u64) -> Option<EndpointEvent> {
        let State::Candidate { start, speech, gap } = self.state else {
            return None;
        };
        let speech = speech + 1;
        if speech >= self.min_speech {
            self.state = State::Speaking {
                start,
                last_end: now,
                silence: 0,
            };
            Some(EndpointEvent::SpeechStart {
                at_ms: to_ms(start),
            })
        } else {
            self.state = State::Candidate { start, speech, gap };
            None
        }
    }

    /// In `Idle` at frame boundary `now`: is the no-speech timeout due?
    fn no_input_due(&mut self, now: u64) -> Option<EndpointEvent> {
        if now >= self.no_speech {
            self.state = State::Done;
            Some(EndpointEvent::NoInput)
        } else {
            None
        }
    }
}
