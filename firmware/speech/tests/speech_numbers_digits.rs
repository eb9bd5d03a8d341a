//! Digit-string mode: card, phone and ID numbers as the recogniser writes them.

use yingda_speech::numbers::{digits, id_digits, NumberError, MAX_INPUT_CHARS};

fn ok(text: &str) -> String {
    digits(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

#[test]
fn mandarin_digit_words() {
    assert_eq!(ok("零一二三四五六七八九"), "0123456789");
    assert_eq!(ok("一三八"), "138");
    assert_eq!(ok("幺三八 幺二三四 五六七八"), "13812345678");
}

#[test]
fn mandarin_alternative_digit_words() {
    assert_eq!(ok("〇"), "0");
    assert_eq!(ok("洞洞幺"), "001");
    assert_eq!(ok("两两二"), "222");
    assert_eq!(ok("兩"), "2");
}

#[test]
fn english_digit_words() {
    assert_eq!(
        ok("zero one two three four five six seven eight nine"),
        "0123456789"
    );
    assert_eq!(ok("One-Three-Eight"), "138");
}

#[test]
fn numerals_as_the_recogniser_writes_them() {
    assert_eq!(ok("138 1234 5678"), "13812345678");
    assert_eq!(ok("138-1234-5678。"), "13812345678");
    assert_eq!(ok("１３８"), "138");
    assert_eq!(ok("幺三8 one 2"), "13812");
}

#[test]
fn double_and_triple() {
    assert_eq!(ok("double five"), "55");
    assert_eq!(ok("triple two"), "222");
    assert_eq!(ok("one double oh seven"), "1007");
    assert_eq!(ok("double 56"), "556");
    assert_eq!(ok("Triple 9 double 8"), "99988");
}

#[test]
fn double_without_a_digit() {
    assert_eq!(
        digits("one double"),
        Err(NumberError::DanglingRepeat {
            token: "double".into(),
            column: 5
        })
    );
    assert_eq!(
        digits("double triple five"),
        Err(NumberError::DanglingRepeat {
            token: "double".into(),
            column: 1
        })
    );
}

#[test]
fn filler_is_skipped() {
    assert_eq!(ok("呃 一三八 嗯 幺二"), "13812");
    assert_eq!(ok("um one uh two er three"), "123");
    assert_eq!(ok("啊，一，二。"), "12");
}

#[test]
fn oh_between_digits_is_zero() {
    assert_eq!(ok("one oh five"), "105");
    assert_eq!(ok("one o five"), "105");
    assert_eq!(ok("one oh oh five"), "1005");
    assert_eq!(ok("five oh"), "50");
    assert_eq!(ok("1 oh 5"), "105");
}

#[test]
fn oh_before_digits_without_punctuation_is_zero() {
    assert_eq!(ok("oh two one"), "021");
    assert_eq!(ok("oh oh seven"), "007");
    assert_eq!(ok("oh um two one"), "021", "filler does not separate");
}

#[test]
fn oh_cut_off_by_punctuation_is_an_interjection() {
    assert_eq!(ok("Oh, one three eight"), "138");
    assert_eq!(ok("oh! oh seven"), "07");
    assert_eq!(ok("one three eight. Oh"), "138");
}

#[test]
fn oh_alone_is_no_number() {
    assert_eq!(digits("oh"), Err(NumberError::Empty));
    assert_eq!(digits("Oh, oh."), Err(NumberError::Empty));
}

#[test]
fn quantity_words_are_not_digits() {
    assert_eq!(
        digits("一三十"),
        Err(NumberError::NotADigit {
            token: "十".into(),
            column: 3
        })
    );
    assert_eq!(
        digits("one twenty three"),
        Err(NumberError::NotADigit {
            token: "twenty".into(),
            column: 5
        })
    );
}

#[test]
fn carrier_words_are_errors_naming_the_token() {
    assert_eq!(
        digits("我的号码是一三八"),
        Err(NumberError::NotADigit {
            token: "我".into(),
            column: 1
        })
    );
    assert_eq!(
        digits("one two Three four five six seven eight nine ten"),
        Err(NumberError::NotADigit {
            token: "ten".into(),
            column: 46
        })
    );
}

#[test]
fn token_is_reported_as_written() {
    assert_eq!(
        digits("one ＴＷＥＮＴＹ"),
        Err(NumberError::NotADigit {
            token: "ＴＷＥＮＴＹ".into(),
            column: 5
        })
    );
}

#[test]
fn empty_input() {
    assert_eq!(digits(""), Err(NumberError::Empty));
    assert_eq!(digits("呃，嗯。"), Err(NumberError::Empty));
    assert_eq!(digits(" - - "), Err(NumberError::Empty));
}

#[test]
fn too_long() {
    let long = "1".repeat(MAX_INPUT_CHARS + 1);
    assert_eq!(
        digits(&long),
        Err(NumberError::TooLong {
            chars: MAX_INPUT_CHARS + 1,
            max: MAX_INPUT_CHARS
        })
    );
    assert_eq!(ok(&"1".repeat(MAX_INPUT_CHARS)).len(), MAX_INPUT_CHARS);
}

#[test]
fn x_is_not_a_digit_in_digit_mode() {
    assert_eq!(
        digits("一二X"),
        Err(NumberError::NotADigit {
            token: "X".into(),
            column: 3
        })
    );
}

#[test]
fn id_numbers_end_in_x() {
    assert_eq!(
        id_digits("一一零一零五 一九四九 一二三一 零零二 X").unwrap(),
        "11010519491231002X"
    );
    assert_eq!(
        id_digits("11010519491231002x").unwrap(),
        "11010519491231002X"
    );
    assert_eq!(id_digits("一二叉").unwrap(), "12X");
    assert_eq!(
        id_digits("one two ex"),
        Err(NumberError::NotADigit {
            token: "ex".into(),
            column: 9
        })
    );
}

#[test]
fn x_must_be_last() {
    assert_eq!(id_digits("12X3"), Err(NumberError::XNotLast { column: 3 }));
    assert_eq!(
        id_digits("一叉二"),
        Err(NumberError::XNotLast { column: 2 })
    );
    assert_eq!(
        id_digits("12 X, oh"),
        Ok("12X".into()),
        "a trailing interjection is fine"
    );
}

#[test]
fn error_message_names_token_and_column() {
    assert_eq!(
        digits("一三十").unwrap_err().to_string(),
        "\"十\" at column 3 is not a digit"
    );
}
