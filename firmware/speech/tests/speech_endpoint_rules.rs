//! Exact timing of every endpointer rule on synthetic decisions (20 ms frames).

use yingda_speech::endpoint::{EndpointConfig, EndpointError, EndpointEvent, Endpointer};

/// Push `pattern` (`#` speech, `.` non-speech), return (frame index, event) pairs.
fn feed(ep: &mut Endpointer, pattern: &str) -> Vec<(usize, EndpointEvent)> {
    pattern
        .chars()
        .filter(|c| !c.is_whitespace())
        .enumerate()
        .filter_map(|(i, c)| ep.push(c == '#').map(|e| (i, e)))
        .collect()
}

fn cfg() -> EndpointConfig {
    EndpointConfig {
        no_speech_timeout_ms: 1_000, // 50 frames
        trailing_silence_ms: 200,    // 10 frames
        max_utterance_ms: 2_000,     // 100 frames
        min_speech_ms: 100,          // 5 frames
        start_hangover_ms: 40,       // gaps of up to 2 frames
    }
}

fn ep() -> Endpointer {
    Endpointer::new(cfg()).expect("valid")
}

fn rep(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

#[test]
fn speech_start_after_min_speech_at_first_frame() {
    // Speech from frame 3: the fifth speech frame (index 7) starts the utterance at 60 ms.
    let ev = feed(&mut ep(), &format!("...{}", rep('#', 10)));
    assert_eq!(ev, vec![(7, EndpointEvent::SpeechStart { at_ms: 60 })]);
}

#[test]
fn bursts_shorter_than_min_speech_are_ignored() {
    // Four-frame bursts (80 ms < 100 ms) separated by 3-frame gaps (> hangover): nothing.
    // The timeout (1000 ms, frame 49) falls on a burst's first frame; the burst is dropped on
    // its third gap frame (55), which gives NoInput.
    let ev = feed(&mut ep(), &"####...".repeat(10));
    assert_eq!(ev, vec![(55, EndpointEvent::NoInput)]);
}

#[test]
fn start_hangover_bridges_short_gaps_only() {
    // Gaps of 2 frames (40 ms) are bridged: 2+2+1 speech frames start at frame 0.
    let ev = feed(&mut ep(), "##..##..#");
    assert_eq!(ev, vec![(8, EndpointEvent::SpeechStart { at_ms: 0 })]);
    // A 3-frame gap drops the candidate; the utterance starts with the next run (frame 6).
    let ev = feed(&mut ep(), "###...#####");
    assert_eq!(ev, vec![(10, EndpointEvent::SpeechStart { at_ms: 120 })]);
}

#[test]
fn trailing_silence_ends_utterance_at_last_speech_frame() {
    // Speech frames 0..20, then silence: the tenth silent frame (index 29) ends it.
    let mut e = ep();
    let ev = feed(&mut e, &format!("{}{}", rep('#', 20), rep('.', 30)));
    assert_eq!(
        ev,
        vec![
            (4, EndpointEvent::SpeechStart { at_ms: 0 }),
            (
                29,
                EndpointEvent::SpeechEnd {
                    start_ms: 0,
                    end_ms: 400
                }
            ),
        ]
    );
    assert!(e.is_done());
}

#[test]
fn pauses_shorter_than_trailing_silence_do_not_end() {
    // 9-frame pauses (180 ms < 200 ms) between words; the last word ends at frame 48 (960 ms),
    // its tenth silent frame (57) ends the utterance.
    let words = format!("{}{}", rep('#', 10), rep('.', 9)).repeat(3);
    let ev = feed(&mut ep(), &format!("{words}{}", rep('.', 5)));
    assert_eq!(
        ev,
        vec![
            (4, EndpointEvent::SpeechStart { at_ms: 0 }),
            (
                57,
                EndpointEvent::SpeechEnd {
                    start_ms: 0,
                    end_ms: 960
                }
            ),
        ]
    );
}

#[test]
fn max_length_cuts_off_long_speech() {
    // Speech from frame 2 never stops: cut at 40 + 2000 ms, on frame 101.
    let ev = feed(&mut ep(), &rep('#', 200));
    assert_eq!(
        ev,
        vec![
            (4, EndpointEvent::SpeechStart { at_ms: 0 }),
            (
                99,
                EndpointEvent::MaxLength {
                    start_ms: 0,
                    end_ms: 2_000
                }
            ),
        ]
    );
    let ev = feed(&mut ep(), &format!("..{}", rep('#', 200)));
    assert_eq!(
        ev[1],
        (
            101,
            EndpointEvent::MaxLength {
                start_ms: 40,
                end_ms: 2_040
            }
        )
    );
}

#[test]
fn speech_end_wins_over_max_length_on_the_same_frame() {
    // Speech 0..90, silence from 90: the tenth silent frame (99) is also the 2000 ms mark.
    let ev = feed(&mut ep(), &format!("{}{}", rep('#', 90), rep('.', 20)));
    assert_eq!(
        ev[1],
        (
            99,
            EndpointEvent::SpeechEnd {
                start_ms: 0,
                end_ms: 1_800
            }
        )
    );
}

#[test]
fn no_input_at_the_timeout_exactly() {
    let ev = feed(&mut ep(), &rep('.', 80));
    assert_eq!(ev, vec![(49, EndpointEvent::NoInput)]);
}

#[test]
fn candidate_open_at_the_timeout_is_let_finish() {
    // Speech from frame 47 confirms at frame 51, after the 1000 ms mark: no NoInput.
    let ev = feed(&mut ep(), &format!("{}{}", rep('.', 47), rep('#', 6)));
    assert_eq!(ev, vec![(51, EndpointEvent::SpeechStart { at_ms: 940 })]);
    // A burst spanning the timeout that is dropped gives NoInput when dropped (frame 53).
    let ev = feed(&mut ep(), &format!("{}###...", rep('.', 48)));
    assert_eq!(ev, vec![(53, EndpointEvent::NoInput)]);
}

#[test]
fn utterance_started_before_timeout_is_not_no_input() {
    // Speech 0..20 then long silence: SpeechEnd, never NoInput.
    let ev = feed(&mut ep(), &format!("{}{}", rep('#', 20), rep('.', 200)));
    assert_eq!(ev.len(), 2);
    assert!(matches!(ev[1].1, EndpointEvent::SpeechEnd { .. }));
}

#[test]
fn nothing_after_a_terminal_event_until_reset() {
    let mut e = ep();
    assert_eq!(
        feed(&mut e, &rep('.', 50)),
        vec![(49, EndpointEvent::NoInput)]
    );
    assert_eq!(feed(&mut e, &rep('#', 200)), vec![]);
    assert!(e.is_done());
    e.reset();
    assert!(!e.is_done());
    assert_eq!(e.elapsed_ms(), 0);
    assert_eq!(
        feed(&mut e, &rep('#', 5)),
        vec![(4, EndpointEvent::SpeechStart { at_ms: 0 })]
    );
    assert!(e.in_utterance());
}

#[test]
fn durations_round_up_to_whole_frames() {
    // 90 ms of speech needed → 5 frames; 190 ms trailing silence → 10 frames.
    let c = EndpointConfig {
        min_speech_ms: 90,
        trailing_silence_ms: 190,
        ..cfg()
    };
    let mut e = Endpointer::new(c).expect("valid");
    let ev = feed(&mut e, &format!("{}{}", rep('#', 5), rep('.', 10)));
    assert_eq!(
        ev,
        vec![
            (4, EndpointEvent::SpeechStart { at_ms: 0 }),
            (
                14,
                EndpointEvent::SpeechEnd {
                    start_ms: 0,
                    end_ms: 100
                }
            )
        ]
    );
}

#[test]
fn terminal_events_are_marked() {
    assert!(!EndpointEvent::SpeechStart { at_ms: 0 }.is_terminal());
    assert!(EndpointEvent::NoInput.is_terminal());
    assert!(EndpointEvent::SpeechEnd {
        start_ms: 0,
        end_ms: 1
    }
    .is_terminal());
    assert!(EndpointEvent::MaxLength {
        start_ms: 0,
        end_ms: 1
    }
    .is_terminal());
}

#[test]
fn default_config_is_valid_and_bad_values_are_rejected() {
    assert_eq!(EndpointConfig::default().validate(), Ok(()));
    let bad = [
        EndpointConfig {
            no_speech_timeout_ms: 499,
            ..cfg()
        },
        EndpointConfig {
            no_speech_timeout_ms: 120_001,
            ..cfg()
        },
        EndpointConfig {
            trailing_silence_ms: 99,
            ..cfg()
        },
        EndpointConfig {
            trailing_silence_ms: 10_001,
            ..cfg()
        },
        EndpointConfig {
            max_utterance_ms: 999,
            ..cfg()
        },
        EndpointConfig {
            max_utterance_ms: 600_001,
            ..cfg()
        },
        EndpointConfig {
            min_speech_ms: 19,
            ..cfg()
        },
        EndpointConfig {
            min_speech_ms: 2_001,
            ..cfg()
        },
        EndpointConfig {
            start_hangover_ms: 1_001,
            ..cfg()
        },
    ];
    for c in bad {
        assert!(
            matches!(Endpointer::new(c), Err(EndpointError::OutOfRange { .. })),
            "{c:?}"
        );
    }
    let c = EndpointConfig {
        min_speech_ms: 1_500,
        max_utterance_ms: 1_500,
        ..cfg()
    };
    assert_eq!(
        c.validate(),
        Err(EndpointError::MinSpeechNotBelowMax {
            min_speech_ms: 1_500,
            max_utterance_ms: 1_500
        })
    );
}
