//! Random decision sequences: the endpointer never panics and its events are well ordered.

use proptest::prelude::*;
use yingda_speech::endpoint::{EndpointConfig, EndpointEvent, Endpointer};

fn config() -> impl Strategy<Value = EndpointConfig> {
    (
        500u32..=3_000,
        100u32..=1_000,
        1_000u32..=4_000,
        20u32..=400,
        0u32..=200,
    )
        .prop_map(
            |(
                no_speech_timeout_ms,
                trailing_silence_ms,
                max_utterance_ms,
                min_speech_ms,
                start_hangover_ms,
            )| {
                EndpointConfig {
                    no_speech_timeout_ms,
                    trailing_silence_ms,
                    max_utterance_ms,
                    min_speech_ms,
                    start_hangover_ms,
                }
            },
        )
}

/// Runs of speech / non-speech, so utterances and pauses of every length occur.
fn decisions() -> impl Strategy<Value = Vec<bool>> {
    prop::collection::vec((any::<bool>(), 1usize..80), 0..40).prop_map(|runs| {
        runs.into_iter()
            .flat_map(|(s, n)| std::iter::repeat_n(s, n))
            .collect()
    })
}

proptest! {
    #[test]
    fn events_are_well_ordered(cfg in config(), d in decisions(), reset_at in any::<prop::sample::Index>()) {
        let mut ep = Endpointer::new(cfg).expect("strategy makes valid configs");
        let reset_at = if d.is_empty() { 0 } else { reset_at.index(d.len()) };
        let mut started: Option<u64> = None;
        let mut terminal = false;
        let mut t0 = 0u64;
        for (i, &s) in d.iter().enumerate() {
            if i == reset_at {
                ep.reset();
                started = None;
                terminal = false;
                t0 = i as u64;
            }
            let now = (i as u64 - t0 + 1) * 20;
            let Some(ev) = ep.push(s) else { continue };
            prop_assert!(!terminal, "event {ev:?} after a terminal event");
            match ev {
                EndpointEvent::SpeechStart { at_ms } => {
                    prop_assert!(started.is_none(), "second SpeechStart");
                    prop_assert!(at_ms + u64::from(cfg.min_speech_ms) <= now);
                    started = Some(at_ms);
                }
                EndpointEvent::SpeechEnd { start_ms, end_ms } => {
                    prop_assert_eq!(started, Some(start_ms));
                    prop_assert!(start_ms < end_ms && end_ms < now);
                    prop_assert!(end_ms + u64::from(cfg.trailing_silence_ms) <= now);
                    terminal = true;
                }
                EndpointEvent::MaxLength { start_ms, end_ms } => {
                    prop_assert_eq!(started, Some(start_ms));
                    prop_assert_eq!(end_ms, now);
                    prop_assert!(end_ms - start_ms >= u64::from(cfg.max_utterance_ms));
                    terminal = true;
                }
                EndpointEvent::NoInput => {
                    prop_assert!(started.is_none());
                    prop_assert!(now >= u64::from(cfg.no_speech_timeout_ms));
                    terminal = true;
                }
            }
            prop_assert_eq!(ep.is_done(), terminal);
        }
    }
}
