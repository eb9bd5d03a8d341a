//! Properties of grammars: no bytes make the parser panic, no transcript makes the matcher
//! panic, a parsed grammar written out reads back unchanged, and saying exactly one phrase
//! always selects that phrase's option with score 1.

use proptest::prelude::*;
use yingda_speech::grammar::{normalise, Grammar, GrammarOption};

/// Grammars the parser must accept: distinct labels, phrases distinct after normalisation.
fn grammar() -> impl Strategy<Value = Grammar> {
    let phrase = prop_oneof![
        "[a-z]{1,6}( [a-z]{1,6})?",
        "[\u{4e00}-\u{4e0f}]{1,4}",
        "[A-Z][a-z]{0,5}[!?]?",
    ];
    (
        proptest::collection::btree_set("[a-z\u{53e3}\u{79d1}]{1,8}", 1..8),
        proptest::collection::vec(phrase, 1..40),
    )
        .prop_map(|(labels, phrases)| {
            let labels: Vec<String> = labels.into_iter().collect();
            let mut seen = std::collections::HashSet::new();
            let mut options: Vec<GrammarOption> = labels
                .iter()
                .map(|l| GrammarOption {
                    label: l.clone(),
                    phrases: Vec::new(),
                })
                .collect();
            for (i, p) in phrases.into_iter().enumerate() {
                if seen.insert(normalise(&p)) {
                    options[i % labels.len()].phrases.push(p);
                }
            }
            options.retain(|o| !o.phrases.is_empty());
            Grammar { options }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Grammar::parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_grammar_like_text(
        parts in proptest::collection::vec(prop_oneof![
            Just(":"), Just("："), Just("|"), Just("｜"), Just("#"), Just("\n"), Just("\r\n"),
            Just(" "), Just("yes"), Just("是"), Just("。"), Just("\u{0}"), Just("\u{FEFF}"),
        ], 0..60),
    ) {
        let _ = Grammar::parse(parts.concat().as_bytes());
    }

    #[test]
    fn match_never_panics(g in grammar(), text in ".{0,60}") {
        let _ = g.match_text(&text);
    }

    #[test]
    fn written_grammar_reads_back(g in grammar()) {
        prop_assert_eq!(Grammar::parse(g.to_string().as_bytes()), Ok(g));
    }

    #[test]
    fn saying_exactly_a_phrase_selects_it(g in grammar(), pick: prop::sample::Index) {
        let all: Vec<(&str, &str)> = g
            .options
            .iter()
            .flat_map(|o| o.phrases.iter().map(move |p| (o.label.as_str(), p.as_str())))
            .collect();
        let (label, phrase) = all[pick.index(all.len())];
        let m = g.match_text(phrase).unwrap();
        prop_assert_eq!((m.label, m.phrase, m.score), (label, phrase, 1.0));
    }
}
