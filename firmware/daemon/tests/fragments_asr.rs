//! Replies assembled from fragments are understood: amounts, dates and times joined from
//! Kokoro-synthesised words, passed through the telephone channel (A-law), are told apart
//! by the box's recogniser from near misses (one digit or unit changed), as clearly as the
//! same sentences synthesised whole. Skips when the speech models are not installed.

use std::path::PathBuf;
use std::sync::Arc;

use yingda::flowctl::{tts_request, FlowOptions};
use yingda::fragments::{sentences, Fragments};
use yingda_speech::grammar::Grammar;
use yingda_speech::recognizer::{Lang, Recognizer, Request};

/// (right reading, near misses)
const CASES: &[(&str, &[&str])] = &[
    (
        "您的余额是一万二千三百四十五元六角。",
        &[
            "您的余额是一万二千三百五十四元六角",
            "您的余额是两万一千三百四十五元六角",
        ],
    ),
    (
        "您预约的是三月五日下午两点半。",
        &[
            "您预约的是三月九日下午两点半",
            "您预约的是三月五日上午两点半",
        ],
    ),
    (
        "您的就诊号是二零四一七。",
        &["您的就诊号是二零四幺九", "您的就诊号是三零四一七"],
    ),
];

fn alaw_channel(x: &[i16]) -> Vec<i16> {
    let mut y = x.to_vec();
    yingda_dsp::g711::round_trip(yingda_hal::Law::Alaw, &mut y);
    y
}

#[test]
fn assembled_replies_are_told_apart_from_near_misses() {
    let dir = yingda_speech::models::models_dir_from_env();
    let rec = match yingda_speech::whisper::recognizer::WhisperRecognizer::load(&dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("skipped: speech models not installed ({e})");
            return;
        }
    };
    let mut o = yingda_tts::synth::SynthOptions::new(&dir);
    o.cache_dir = Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tts-prompt-cache"));
    let synth = yingda_tts::synth::Synthesizer::load(&o);
    let opts = FlowOptions::default();
    let mut words: Vec<String> = ["您的余额是", "您预约的是", "您的就诊号是"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    words.extend(Fragments::vocabulary(&Default::default()));
    let (fragments, failed) = Fragments::build(&synth, &opts, &words);
    if fragments.is_empty() {
        eprintln!("skipped: Kokoro not available ({failed:?})");
        return;
    }
    assert!(failed.is_empty(), "{failed:?}");

    for (right, misses) in CASES {
        let mut g = format!("right: {}\n", right.trim_end_matches('。'));
        for (i, m) in misses.iter().enumerate() {
            g.push_str(&format!("miss{i}: {m}\n"));
        }
        let grammar = Arc::new(Grammar::parse(g.as_bytes()).unwrap());
        let assembled: Vec<i16> = sentences(right)
            .iter()
            .flat_map(|s| fragments.assemble(s).expect("every word has a fragment"))
            .collect();
        let whole = synth
            .synthesize(&tts_request(right, Lang::Zh, &opts))
            .unwrap();
        for (what, audio) in [("assembled", &assembled), ("whole", &whole)] {
            let r = rec
                .recognize(
                    &alaw_channel(audio),
                    Request::grammar(Some(Lang::Zh), grammar.clone()),
                )
                .unwrap();
            eprintln!(
                "{what:9} {right}: {:?} ({:.2}) heard {:?}",
                r.label, r.confidence, r.text
            );
            assert_eq!(r.label.as_deref(), Some("right"), "{what} {right}: {r:?}");
        }
    }
}
