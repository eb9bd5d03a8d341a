//! Normalisation and the transcript matcher: carrier words, word boundaries, longest phrase
//! wins, ties between labels are ambiguous.

use yingda_speech::grammar::{fold_width, normalise, Grammar, GrammarOption};

fn grammar(text: &str) -> Grammar {
    Grammar::parse(text.as_bytes()).unwrap()
}

fn label<'g>(g: &'g Grammar, text: &str) -> Option<&'g str> {
    g.match_text(text).map(|m| m.label)
}

const MENU: &str = "\
口腔科: 口腔科 | 牙科 | dentistry | dentist
挂号: 挂号 | 预约挂号 | appointment
yes: yes | yeah | correct | 是 | 对 | 是的
no: no | not correct | 不是 | 不对
";

#[test]
fn width_folding() {
    assert_eq!(fold_width('Ａ'), 'A');
    assert_eq!(fold_width('９'), '9');
    assert_eq!(fold_width('！'), '!');
    assert_eq!(fold_width('\u{3000}'), ' ');
    assert_eq!(fold_width('口'), '口');
    assert_eq!(fold_width('a'), 'a');
}

#[test]
fn normalise_folds_width_and_case() {
    assert_eq!(normalise("ＹＥＳ Please"), "yes please");
    assert_eq!(normalise("Ｄｅｎｔｉｓｔ１２３"), "dentist123");
}

#[test]
fn normalise_strips_chinese_and_ascii_punctuation() {
    assert_eq!(normalise("是的。"), "是的");
    assert_eq!(normalise("呃，我要、挂号？！"), "呃我要挂号");
    assert_eq!(normalise("yes, please!"), "yes please");
    assert_eq!(normalise("“牙科”（口腔）"), "牙科口腔");
    assert_eq!(normalise("don't"), "don t");
}

#[test]
fn normalise_collapses_whitespace_and_drops_it_around_chinese() {
    assert_eq!(normalise("  yes \t\n  please  "), "yes please");
    assert_eq!(normalise("我 要 挂号"), "我要挂号");
    assert_eq!(normalise("挂号 please"), "挂号please");
    assert_eq!(normalise("one,two"), "one two");
    assert_eq!(normalise("。，？"), "");
    assert_eq!(normalise(""), "");
}

#[test]
fn phrase_inside_chinese_carrier_words() {
    let g = grammar(MENU);
    let m = g.match_text("我想看牙科").unwrap();
    assert_eq!((m.label, m.phrase), ("口腔科", "牙科"));
    assert_eq!(label(&g, "呃 我要挂号"), Some("挂号"));
    assert_eq!(label(&g, "嗯，我 要 挂 号。"), Some("挂号"));
}

#[test]
fn phrase_inside_english_carrier_words() {
    let g = grammar(MENU);
    let m = g.match_text("Dentistry, please.").unwrap();
    assert_eq!((m.label, m.phrase), ("口腔科", "dentistry"));
    assert_eq!(label(&g, "I'd like to make an APPOINTMENT"), Some("挂号"));
}

#[test]
fn latin_phrases_match_only_on_word_boundaries() {
    let g = grammar(MENU);
    assert_eq!(label(&g, "yesterday"), None);
    assert_eq!(label(&g, "eyes"), None);
    assert_eq!(label(&g, "nobody"), None);
    assert_eq!(label(&g, "dentists"), None);
    assert_eq!(label(&g, "yes."), Some("yes"));
    assert_eq!(label(&g, "是的yes"), Some("yes"));
}

#[test]
fn boundary_search_does_not_stop_at_a_failed_occurrence() {
    // The first "ab ab" (inside "xab ab") fails the boundary; the overlapping one after it
    // does not.
    let g = grammar("x: ab ab\n");
    assert_eq!(label(&g, "xab ab ab"), Some("x"));
    assert_eq!(label(&g, "xab ab"), None);
}

#[test]
fn longest_phrase_wins() {
    let g = grammar(MENU);
    let m = g.match_text("不是").unwrap();
    assert_eq!((m.label, m.phrase), ("no", "不是"));
    assert_eq!(label(&g, "不对不对"), Some("no"));
    assert_eq!(label(&g, "that's not correct"), Some("no"));
    assert_eq!(label(&g, "correct"), Some("yes"));
    // Length is counted in characters, across scripts: yes (3) beats no (2).
    assert_eq!(label(&g, "yes no"), Some("yes"));
    // 预约挂号 (4) beats 挂号 (2) within one label, and the longer phrase is reported.
    assert_eq!(g.match_text("我要预约挂号").unwrap().phrase, "预约挂号");
}

#[test]
fn equal_length_phrases_of_different_labels_are_ambiguous() {
    let g = grammar(MENU);
    assert_eq!(
        label(&g, "是的，不对"),
        None,
        "yes: 是的 vs no: 不对, both 2"
    );
    // 不对 (2) beats 是 (1): not a tie.
    assert_eq!(label(&g, "是 不对"), Some("no"));
    assert_eq!(g.match_text("牙科还是挂号"), None);
}

#[test]
fn equal_length_phrases_of_one_label_are_not_ambiguous() {
    let g = grammar(MENU);
    let m = g.match_text("对，是").unwrap();
    assert_eq!((m.label, m.phrase), ("yes", "是"), "first in file order");
}

#[test]
fn nothing_matches() {
    let g = grammar(MENU);
    assert_eq!(g.match_text("我想问一下"), None);
    assert_eq!(g.match_text(""), None);
    assert_eq!(g.match_text("。。。"), None);
}

#[test]
fn score_is_the_share_of_the_transcript_covered() {
    let g = grammar(MENU);
    assert_eq!(g.match_text("牙科").unwrap().score, 1.0);
    assert_eq!(g.match_text("牙科。").unwrap().score, 1.0);
    assert_eq!(g.match_text("我想看牙科").unwrap().score, 0.4);
    let s = g.match_text("dentist please").unwrap().score;
    assert!((s - 7.0 / 14.0).abs() < 1e-6, "{s}");
}

#[test]
fn full_width_and_upper_case_transcripts_match() {
    let g = grammar(MENU);
    assert_eq!(label(&g, "ＹＥＳ"), Some("yes"));
    assert_eq!(label(&g, "Yeah!"), Some("yes"));
}

#[test]
fn phrases_with_punctuation_match_their_normalised_form() {
    let g = grammar("yes: yes, please\n");
    assert_eq!(label(&g, "oh yes please"), Some("yes"));
}

#[test]
fn hand_built_grammar_with_a_shared_phrase_is_ambiguous_not_a_panic() {
    let g = Grammar {
        options: vec![
            GrammarOption {
                label: "a".into(),
                phrases: vec!["same".into(), "".into(), "!!".into()],
            },
            GrammarOption {
                label: "b".into(),
                phrases: vec!["same".into()],
            },
        ],
    };
    assert_eq!(g.match_text("same"), None);
    assert_eq!(g.match_text(""), None);
}
