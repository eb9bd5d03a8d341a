//! The grammar file format: what it accepts, and the exact error (line, column, kind) for
//! everything it rejects.

use yingda_speech::grammar::{
    Grammar, GrammarError, GrammarOption, MAX_FILE_BYTES, MAX_LINE_CHARS, MAX_OPTIONS, MAX_PHRASES,
};

fn parse(text: &str) -> Result<Grammar, GrammarError> {
    Grammar::parse(text.as_bytes())
}

fn option(label: &str, phrases: &[&str]) -> GrammarOption {
    GrammarOption {
        label: label.to_owned(),
        phrases: phrases.iter().map(|p| (*p).to_owned()).collect(),
    }
}

#[test]
fn parses_the_examples_from_the_contract() {
    let g = parse("口腔科: 口腔科 | 牙科\nyes: yes | yeah | correct | 是 | 对\n").unwrap();
    assert_eq!(
        g.options,
        vec![
            option("口腔科", &["口腔科", "牙科"]),
            option("yes", &["yes", "yeah", "correct", "是", "对"]),
        ]
    );
}

#[test]
fn comments_blank_lines_and_whitespace_are_ignored() {
    let text = "# menu\n\n   \n\t# indented comment\n  挂号 :  挂号|预约挂号  # trailing\n";
    let g = parse(text).unwrap();
    assert_eq!(g.options, vec![option("挂号", &["挂号", "预约挂号"])]);
}

#[test]
fn crlf_bom_and_missing_final_newline_are_accepted() {
    let g = Grammar::parse("\u{FEFF}yes: yes\r\nno: no".as_bytes()).unwrap();
    assert_eq!(
        g.options,
        vec![option("yes", &["yes"]), option("no", &["no"])]
    );
}

#[test]
fn full_width_colon_and_bar_separate_like_ascii() {
    let g = parse("口腔科：口腔科｜牙科\n").unwrap();
    assert_eq!(g.options, vec![option("口腔科", &["口腔科", "牙科"])]);
}

#[test]
fn only_the_first_colon_separates() {
    let g = parse("time: 10:30 | ten thirty\n").unwrap();
    assert_eq!(g.options, vec![option("time", &["10:30", "ten thirty"])]);
}

#[test]
fn parse_and_from_str_agree() {
    let text = "a: x | y\nb: z\n";
    assert_eq!(text.parse::<Grammar>(), parse(text));
}

#[test]
fn display_writes_the_file_format() {
    let g = parse("# c\nyes : yes|是\nno: no\n").unwrap();
    assert_eq!(g.to_string(), "yes: yes | 是\nno: no\n");
    assert_eq!(parse(&g.to_string()), Ok(g));
}

#[test]
fn missing_colon_names_the_line() {
    assert_eq!(
        parse("yes: yes\nno | nope\n"),
        Err(GrammarError::MissingColon { line: 2 })
    );
}

#[test]
fn empty_label() {
    assert_eq!(
        parse("\n  : yes\n"),
        Err(GrammarError::EmptyLabel { line: 2 })
    );
}

#[test]
fn bar_in_label_points_at_the_bar() {
    assert_eq!(
        parse("yes | yeah: yes\n"),
        Err(GrammarError::BarInLabel { line: 1, column: 5 })
    );
}

#[test]
fn label_without_phrases() {
    assert_eq!(
        parse("yes:   # nothing\n"),
        Err(GrammarError::NoPhrases {
            line: 1,
            label: "yes".into()
        })
    );
}

#[test]
fn empty_phrase_between_bars_points_at_the_gap() {
    // columns:   123456789012
    assert_eq!(
        parse("yes: yes || yeah\n"),
        Err(GrammarError::EmptyPhrase {
            line: 1,
            column: 11
        })
    );
}

#[test]
fn empty_phrase_after_last_bar() {
    assert_eq!(
        parse("a: x\nyes: yes |\n"),
        Err(GrammarError::EmptyPhrase {
            line: 2,
            column: 11
        })
    );
}

#[test]
fn empty_phrase_before_first_bar() {
    assert_eq!(
        parse("yes:| yes\n"),
        Err(GrammarError::EmptyPhrase { line: 1, column: 5 })
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    // 口腔科：牙科｜｜ -> the empty slot starts at character 8.
    assert_eq!(
        parse("口腔科：牙科｜｜口腔\n"),
        Err(GrammarError::EmptyPhrase { line: 1, column: 8 })
    );
}

#[test]
fn punctuation_only_phrase_is_rejected() {
    assert_eq!(
        parse("yes: yes | ？！\n"),
        Err(GrammarError::PhraseWithoutText {
            line: 1,
            column: 12,
            phrase: "？！".into()
        })
    );
}

#[test]
fn duplicate_label_names_both_lines() {
    assert_eq!(
        parse("yes: yes\nno: no\nyes: yeah\n"),
        Err(GrammarError::DuplicateLabel {
            line: 3,
            label: "yes".into(),
            first_line: 1
        })
    );
}

#[test]
fn labels_are_case_sensitive() {
    assert!(parse("Yes: yes\nyes: yeah\n").is_ok());
}

#[test]
fn same_phrase_under_two_labels() {
    assert_eq!(
        parse("yes: yes | 对\nno: no | 对\n"),
        Err(GrammarError::PhraseUnderTwoLabels {
            line: 2,
            column: 10,
            phrase: "对".into(),
            other_label: "yes".into(),
            other_line: 1
        })
    );
}

#[test]
fn phrases_are_compared_after_normalisation() {
    assert_eq!(
        parse("yes: Yes!\nok: ｙｅｓ\n"),
        Err(GrammarError::PhraseUnderTwoLabels {
            line: 2,
            column: 5,
            phrase: "ｙｅｓ".into(),
            other_label: "yes".into(),
            other_line: 1
        })
    );
}

#[test]
fn same_phrase_twice_under_one_label() {
    assert_eq!(
        parse("yes: 是 | 对 | 是。\n"),
        Err(GrammarError::RepeatedPhrase {
            line: 1,
            column: 14,
            phrase: "是。".into(),
            label: "yes".into()
        })
    );
}

#[test]
fn bad_utf8_gives_line_and_column() {
    let mut bytes = "yes: yes\nno: 不".as_bytes().to_vec();
    bytes.push(0xFF);
    bytes.extend_from_slice(b"\n");
    assert_eq!(
        Grammar::parse(&bytes),
        Err(GrammarError::BadUtf8 { line: 2, column: 6 })
    );
}

#[test]
fn gbk_file_is_reported_as_bad_utf8_on_line_one() {
    // "是" in GBK is 0xCA 0xC7.
    assert_eq!(
        Grammar::parse(b"yes: \xCA\xC7\n"),
        Err(GrammarError::BadUtf8 { line: 1, column: 6 })
    );
}

#[test]
fn control_character_outside_comment() {
    assert_eq!(
        parse("yes: y\u{0}es\n"),
        Err(GrammarError::ControlCharacter {
            line: 1,
            column: 7,
            code: 0
        })
    );
    assert!(parse("yes: yes # \u{7}\n").is_ok());
    assert!(parse("yes:\tyes\n").is_ok());
}

#[test]
fn line_too_long() {
    let ok = format!("a: {}\n", "x".repeat(MAX_LINE_CHARS - 3));
    assert!(parse(&ok).is_ok());
    let long = format!("a: x\nb: {}\n", "口".repeat(MAX_LINE_CHARS - 2));
    assert_eq!(
        parse(&long),
        Err(GrammarError::LineTooLong {
            line: 2,
            chars: MAX_LINE_CHARS + 1,
            max: MAX_LINE_CHARS
        })
    );
}

#[test]
fn too_many_options() {
    let text: String = (0..=MAX_OPTIONS).map(|i| format!("l{i}: p{i}\n")).collect();
    assert_eq!(
        parse(&text),
        Err(GrammarError::TooManyOptions {
            line: MAX_OPTIONS + 1,
            max: MAX_OPTIONS
        })
    );
    let fits: String = (0..MAX_OPTIONS).map(|i| format!("l{i}: p{i}\n")).collect();
    assert_eq!(parse(&fits).unwrap().options.len(), MAX_OPTIONS);
}

#[test]
fn too_many_phrases() {
    let phrases: Vec<String> = (0..=MAX_PHRASES).map(|i| format!("p{i}")).collect();
    assert_eq!(
        parse(&format!("a: {}\n", phrases.join("|"))),
        Err(GrammarError::TooManyPhrases {
            line: 1,
            label: "a".into(),
            max: MAX_PHRASES
        })
    );
    let fits = phrases.get(..MAX_PHRASES).unwrap().join("|");
    assert_eq!(
        parse(&format!("a: {fits}\n")).unwrap().options[0]
            .phrases
            .len(),
        MAX_PHRASES
    );
}

#[test]
fn file_too_large() {
    let bytes = vec![b'\n'; MAX_FILE_BYTES + 1];
    assert_eq!(
        Grammar::parse(&bytes),
        Err(GrammarError::FileTooLarge {
            bytes: MAX_FILE_BYTES + 1,
            max: MAX_FILE_BYTES
        })
    );
}

#[test]
fn comments_only_is_no_options() {
    assert_eq!(parse("# nothing\n\n"), Err(GrammarError::NoOptions));
    assert_eq!(Grammar::parse(b""), Err(GrammarError::NoOptions));
}

#[test]
fn error_messages_say_where_and_what() {
    let e = parse("yes: yes\nno | nope\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2: no ':' between label and phrases (expected `label: phrase | synonym`)"
    );
    let e = parse("yes: 是\nno: 是\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2, column 5: phrase \"是\" is already a phrase of label \"yes\" (line 1)"
    );
}
