//! Digit strings inside carrier words, as callers say them and the recogniser writes them:
//! `digits_in` drops the words before the first and after the last digit word.

use yingda_speech::numbers::{digits_in, id_digits_in, NumberError};

#[test]
fn carrier_words_around_the_digits_are_dropped() {
    assert_eq!(digits_in("我的卡号是六二二八四八").unwrap(), "622848");
    assert_eq!(digits_in("My number is 8642.").unwrap(), "8642");
    assert_eq!(digits_in("it's one three eight, thanks").unwrap(), "138");
    assert_eq!(
        digits_in("号码是幺三八零零一三八零零零吧").unwrap(),
        "13800138000"
    );
}

#[test]
fn every_spoken_form_is_normalised() {
    assert_eq!(digits_in("幺两三").unwrap(), "123");
    assert_eq!(digits_in("138-0013 8000").unwrap(), "13800138000");
    assert_eq!(digits_in("nine oh five double one").unwrap(), "90511");
    assert_eq!(digits_in("oh two one, triple seven").unwrap(), "021777");
    assert_eq!(digits_in("2 double 5 一二").unwrap(), "25512");
}

#[test]
fn words_between_digits_are_still_errors() {
    assert!(matches!(
        digits_in("one two hello three"),
        Err(NumberError::NotADigit { .. })
    ));
}

#[test]
fn no_digit_at_all_is_empty() {
    assert_eq!(digits_in("我不知道"), Err(NumberError::Empty));
    assert_eq!(digits_in(""), Err(NumberError::Empty));
}

#[test]
fn id_check_character_after_carrier_words() {
    assert_eq!(
        id_digits_in("身份证号是11010519491231002X").unwrap(),
        "11010519491231002X"
    );
}
