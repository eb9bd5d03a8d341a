//! Checks flows run on spoken numbers: resident ID (MOD 11-2), bank card (Luhn), mobile.

use yingda_speech::numbers::check::{
    bank_card, luhn_check_digit, mobile, resident_id, resident_id_check_char, CheckError,
};
use yingda_speech::numbers::id_digits;

#[test]
fn resident_id_known_good() {
    assert_eq!(resident_id("11010519491231002X"), Ok(()));
    assert_eq!(resident_id("11010519491231002x"), Ok(()), "lower-case x");
    assert_eq!(resident_id("440300199003071234"), Ok(()));
    assert_eq!(
        resident_id("320106198002294562"),
        Ok(()),
        "29 February 1980"
    );
}

#[test]
fn resident_id_check_char_values() {
    assert_eq!(resident_id_check_char("11010519491231002"), Some('X'));
    assert_eq!(resident_id_check_char("44030019900307123"), Some('4'));
    assert_eq!(resident_id_check_char("1101051949123100"), None);
    assert_eq!(resident_id_check_char("1101051949123100A"), None);
}

#[test]
fn resident_id_wrong_check_char() {
    assert_eq!(
        resident_id("110105194912310021"),
        Err(CheckError::CheckCharacter {
            found: '1',
            expected: 'X'
        })
    );
    assert_eq!(
        resident_id("44030019900307123X"),
        Err(CheckError::CheckCharacter {
            found: 'X',
            expected: '4'
        })
    );
}

#[test]
fn resident_id_x_only_at_the_end() {
    assert_eq!(
        resident_id("1101051949123100X2"),
        Err(CheckError::NotDigit {
            position: 17,
            found: 'X'
        })
    );
    assert_eq!(
        resident_id("11010519491231002Y"),
        Err(CheckError::NotDigit {
            position: 18,
            found: 'Y'
        })
    );
}

#[test]
fn resident_id_length() {
    assert_eq!(
        resident_id("110105491231002"),
        Err(CheckError::Length {
            found: 15,
            expected: "18"
        })
    );
    assert_eq!(
        resident_id(""),
        Err(CheckError::Length {
            found: 0,
            expected: "18"
        })
    );
    assert_eq!(
        resident_id("一一〇一〇五一九四九一二三一〇〇二X"),
        Err(CheckError::NotDigit {
            position: 1,
            found: '一'
        }),
        "18 characters but not ASCII: no panic, an error"
    );
}

#[test]
fn resident_id_birth_date_must_exist() {
    // Check characters made right so only the date is wrong.
    for body in [
        "11010519491331002",
        "11010519490230002",
        "11010519490229002",
        "11010519491200002",
    ] {
        let id = format!("{body}{}", resident_id_check_char(body).unwrap());
        assert_eq!(
            resident_id(&id),
            Err(CheckError::BirthDate {
                date: body[6..14].to_owned()
            }),
            "{id}"
        );
    }
    let leap = "11010520000229002";
    let id = format!("{leap}{}", resident_id_check_char(leap).unwrap());
    assert_eq!(resident_id(&id), Ok(()), "2000 is a leap year");
}

#[test]
fn spoken_id_with_x_passes_the_check() {
    let id = id_digits("幺幺洞幺洞五 幺九四九 幺二三幺 洞洞二 叉").unwrap();
    assert_eq!(resident_id(&id), Ok(()));
}

#[test]
fn luhn_known_good() {
    assert_eq!(bank_card("4111111111111111"), Ok(()));
    assert_eq!(bank_card("6212260200001234562"), Ok(()));
    assert_eq!(bank_card("6222020200112230"), Ok(()));
    assert_eq!(luhn_check_digit("411111111111111"), Some('1'));
    assert_eq!(
        luhn_check_digit("7992739871"),
        Some('3'),
        "the usual worked example"
    );
    assert_eq!(luhn_check_digit(""), None);
    assert_eq!(luhn_check_digit("12a"), None);
}

#[test]
fn luhn_bad_check_digit() {
    assert_eq!(
        bank_card("4111111111111112"),
        Err(CheckError::CheckCharacter {
            found: '2',
            expected: '1'
        })
    );
}

#[test]
fn bank_card_length_and_characters() {
    assert_eq!(
        bank_card("411111111111"),
        Err(CheckError::Length {
            found: 12,
            expected: "13 to 19"
        })
    );
    assert_eq!(
        bank_card("41111111111111111111"),
        Err(CheckError::Length {
            found: 20,
            expected: "13 to 19"
        })
    );
    assert_eq!(
        bank_card("4111 1111 1111 1111"),
        Err(CheckError::NotDigit {
            position: 5,
            found: ' '
        })
    );
}

#[test]
fn mobile_numbers() {
    assert_eq!(mobile("13812345678"), Ok(()));
    assert_eq!(mobile("19912345678"), Ok(()));
    assert_eq!(
        mobile("12812345678"),
        Err(CheckError::MobilePrefix {
            prefix: "12".into()
        })
    );
    assert_eq!(
        mobile("23812345678"),
        Err(CheckError::MobilePrefix {
            prefix: "23".into()
        })
    );
    assert_eq!(
        mobile("1381234567"),
        Err(CheckError::Length {
            found: 10,
            expected: "11"
        })
    );
    assert_eq!(
        mobile("8613812345678"),
        Err(CheckError::Length {
            found: 13,
            expected: "11"
        })
    );
    assert_eq!(
        mobile("1381234567X"),
        Err(CheckError::NotDigit {
            position: 11,
            found: 'X'
        })
    );
}

#[test]
fn error_messages() {
    assert_eq!(
        resident_id("110105194912310021").unwrap_err().to_string(),
        "check character is '1' but the number needs 'X'"
    );
    assert_eq!(
        mobile("12812345678").unwrap_err().to_string(),
        "mobile numbers start with 13 to 19, not 12"
    );
}
