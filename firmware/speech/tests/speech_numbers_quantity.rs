//! Quantity mode: cardinal numbers in Mandarin and English.

use yingda_speech::numbers::{quantity, NumberError};

fn q(text: &str) -> u64 {
    quantity(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn misplaced(text: &str, token: &str, column: usize) {
    assert_eq!(
        quantity(text),
        Err(NumberError::Misplaced {
            token: token.into(),
            column
        }),
        "{text:?}"
    );
}

#[test]
fn mandarin_small_numbers() {
    assert_eq!(q("零"), 0);
    assert_eq!(q("五"), 5);
    assert_eq!(q("十"), 10);
    assert_eq!(q("十五"), 15);
    assert_eq!(q("一十五"), 15);
    assert_eq!(q("十一"), 11, "一 inside 十一 is the ones digit");
    assert_eq!(q("二十三"), 23);
    assert_eq!(q("一百零五"), 105);
    assert_eq!(q("一百一十"), 110);
    assert_eq!(q("一百十"), 110);
    assert_eq!(q("九百九十九"), 999);
}

#[test]
fn mandarin_large_numbers() {
    assert_eq!(q("三千二百零五"), 3205);
    assert_eq!(q("一千零五十"), 1050);
    assert_eq!(q("一千零一十"), 1010);
    assert_eq!(q("一千零十"), 1010);
    assert_eq!(q("两万"), 20_000);
    assert_eq!(q("十五万"), 150_000);
    assert_eq!(q("三万零五"), 30_005);
    assert_eq!(q("一百万"), 1_000_000);
    assert_eq!(q("百万"), 1_000_000);
    assert_eq!(q("千万"), 10_000_000);
    assert_eq!(q("三亿五千万"), 350_000_000);
    assert_eq!(q("一亿零一"), 100_000_001);
    assert_eq!(q("一万亿"), 1_000_000_000_000);
    assert_eq!(
        q("九千九百九十九万九千九百九十九亿九千九百九十九万九千九百九十九"),
        9_999_999_999_999_999
    );
    assert_eq!(q("万"), 10_000);
}

#[test]
fn liang_and_er_are_both_two() {
    assert_eq!(q("两百"), 200);
    assert_eq!(q("二百"), 200);
    assert_eq!(q("两千两百二十二"), 2222);
    assert_eq!(q("两"), 2);
    assert_eq!(q("兩萬"), 20_000);
    assert_eq!(q("二億"), 200_000_000);
}

#[test]
fn colloquial_shortening_after_a_unit() {
    assert_eq!(q("一百二"), 120);
    assert_eq!(q("三千二"), 3200);
    assert_eq!(q("两万五"), 25_000);
    assert_eq!(q("两万三千五"), 23_500);
    assert_eq!(q("一亿五"), 150_000_000);
    assert_eq!(q("十五"), 15, "after 十 the digit is the ones");
    assert_eq!(q("一百零二"), 102, "零 blocks the shortening");
}

#[test]
fn numerals_mixed_with_units() {
    assert_eq!(q("3205"), 3205);
    assert_eq!(q("3,205"), 3205);
    assert_eq!(q("1,234,567"), 1_234_567);
    assert_eq!(q("3千"), 3000);
    assert_eq!(q("2万5000"), 25_000);
    assert_eq!(q("2万5"), 25_000);
    assert_eq!(q("35万"), 350_000);
    assert_eq!(q("３千"), 3000);
    assert_eq!(q("18446744073709551615"), u64::MAX);
}

#[test]
fn yao_and_dong_are_digits_only() {
    misplaced("幺百", "幺", 1);
    misplaced("幺", "幺", 1);
    misplaced("洞", "洞", 1);
}

#[test]
fn mandarin_word_order_errors() {
    misplaced("五十三百", "百", 4);
    misplaced("三百三百", "百", 4);
    misplaced("一三八", "三", 2);
    misplaced("五零", "零", 2);
    misplaced("一万两万", "万", 4);
    misplaced("一亿亿", "亿", 3);
    misplaced("零百", "百", 2);
    misplaced("三百五万", "万", 4);
    misplaced("3百500", "500", 3);
    misplaced("12345万", "万", 6);
    misplaced("一亿万", "万", 3);
    // Regression: the numeral after 万 once overflowed the sum before 亿 was checked.
    misplaced("一万18446744073709551615亿", "亿", 23);
}

#[test]
fn three_hundred_and_five_ten_thousands_is_unambiguous_with_zero() {
    assert_eq!(q("三百零五万"), 3_050_000);
    assert_eq!(q("三百五十万"), 3_500_000);
}

#[test]
fn filler_and_punctuation_are_skipped() {
    assert_eq!(q("呃，三千 嗯 二百零五。"), 3205);
    assert_eq!(q("um, two thousand... uh, and five"), 2005);
    assert_eq!(q("oh, twenty"), 20, "oh is always filler in quantities");
}

#[test]
fn carrier_words_are_not_numbers() {
    assert_eq!(
        quantity("三个"),
        Err(NumberError::NotANumber {
            token: "个".into(),
            column: 2
        })
    );
    assert_eq!(
        quantity("twenty people"),
        Err(NumberError::NotANumber {
            token: "people".into(),
            column: 8
        })
    );
}

#[test]
fn fractions_are_rejected() {
    assert_eq!(
        quantity("三点五"),
        Err(NumberError::Fraction {
            token: "点".into(),
            column: 2
        })
    );
    assert_eq!(
        quantity("2.5"),
        Err(NumberError::Fraction {
            token: "5".into(),
            column: 3
        })
    );
    assert_eq!(
        quantity("two point five"),
        Err(NumberError::Fraction {
            token: "point".into(),
            column: 5
        })
    );
}

#[test]
fn english_numbers() {
    assert_eq!(q("zero"), 0);
    assert_eq!(q("seven"), 7);
    assert_eq!(q("thirteen"), 13);
    assert_eq!(q("twenty three"), 23);
    assert_eq!(q("Twenty-Three"), 23);
    assert_eq!(q("ninety"), 90);
    assert_eq!(q("one hundred"), 100);
    assert_eq!(q("a hundred"), 100);
    assert_eq!(q("hundred"), 100);
    assert_eq!(q("one hundred and five"), 105);
    assert_eq!(q("one hundred five"), 105);
    assert_eq!(q("two thousand and five"), 2005);
    assert_eq!(q("a thousand"), 1000);
    assert_eq!(q("fifteen hundred"), 1500);
    assert_eq!(q("twenty five hundred"), 2500);
    assert_eq!(
        q("three million two hundred thousand and forty-one"),
        3_200_041
    );
    assert_eq!(q("2 thousand"), 2000);
    assert_eq!(q("twenty 5"), 25);
    assert_eq!(q("one hundred 5"), 105);
}

#[test]
fn english_u64_max() {
    let words = "eighteen quintillion four hundred forty six quadrillion seven hundred forty four \
                 trillion seventy three billion seven hundred nine million five hundred fifty one \
                 thousand six hundred fifteen";
    assert_eq!(q(words), u64::MAX);
}

#[test]
fn english_overflow() {
    let words = "eighteen quintillion four hundred forty six quadrillion seven hundred forty four \
                 trillion seventy three billion seven hundred nine million five hundred fifty one \
                 thousand six hundred sixteen";
    assert_eq!(quantity(words), Err(NumberError::Overflow));
    assert_eq!(quantity("nineteen quintillion"), Err(NumberError::Overflow));
    assert_eq!(quantity("99999999999999999999"), Err(NumberError::Overflow));
}

#[test]
fn english_word_order_errors() {
    misplaced("twenty twenty", "twenty", 8);
    misplaced("five five", "five", 6);
    misplaced("thirteen four", "four", 10);
    misplaced("five twenty", "twenty", 6);
    misplaced("one thousand one million", "million", 18);
    misplaced("thousand thousand", "thousand", 10);
    misplaced("one hundred two hundred", "hundred", 17);
    misplaced("zero five", "five", 6);
    misplaced("five zero", "zero", 6);
    misplaced("a five", "five", 3);
    misplaced("two and", "and", 5);
    misplaced("one hundred and", "and", 13);
    misplaced("two thousand a", "a", 14);
    // Without any English number word "a" is just a word.
    assert_eq!(
        quantity("a"),
        Err(NumberError::NotANumber {
            token: "a".into(),
            column: 1
        })
    );
    misplaced("two thousand 5000", "5000", 14);
    misplaced("twenty 三", "三", 8);
}

#[test]
fn empty() {
    assert_eq!(quantity(""), Err(NumberError::Empty));
    assert_eq!(quantity("um, oh"), Err(NumberError::Empty));
}

fn approx(text: &str) -> (u64, u64) {
    match quantity(text) {
        Err(NumberError::Approximate { low, high }) => (low, high),
        other => panic!("{text:?}: {other:?}, not an approximation"),
    }
}

#[test]
fn approximate_mandarin_numbers_are_ranges() {
    assert_eq!(approx("十几"), (11, 19));
    assert_eq!(approx("二十几"), (21, 29));
    assert_eq!(approx("十多"), (11, 19));
    assert_eq!(approx("三十多"), (31, 39));
    assert_eq!(approx("一百多"), (101, 199));
    assert_eq!(approx("一百二十多"), (121, 129));
    assert_eq!(approx("两千多"), (2001, 2999));
    assert_eq!(approx("一千两百多"), (1201, 1299));
    assert_eq!(approx("20多"), (21, 29), "as the recogniser writes it");
    assert_eq!(approx("几"), (2, 9));
    assert_eq!(approx("几十"), (20, 90));
    assert_eq!(approx("几百"), (200, 900));
    assert_eq!(approx("几十万"), (200_000, 900_000));
    assert_eq!(approx("一百几十"), (120, 190));
    assert_eq!(approx("十几万"), (110_000, 190_000));
    assert_eq!(approx("三百多万"), (3_010_000, 3_990_000));
}

#[test]
fn approximate_english_numbers_are_ranges() {
    assert_eq!(approx("twenty-something"), (21, 29));
    assert_eq!(approx("thirty odd"), (31, 39));
    assert_eq!(approx("a hundred odd"), (101, 199));
    assert_eq!(approx("two thousand something"), (2001, 2999));
}

#[test]
fn approximation_markers_in_the_wrong_place_are_errors() {
    misplaced("五多", "多", 2);
    misplaced("多", "多", 1);
    misplaced("twenty-five something", "something", 13);
    misplaced("几五", "五", 2);
    assert!(quantity("十几") != Ok(10) && quantity("十几") != Ok(19));
}

#[test]
fn carrier_words_around_a_quantity_are_dropped() {
    use yingda_speech::numbers::quantity_in;
    assert_eq!(quantity_in("我们一共五个人"), Ok(5));
    assert_eq!(quantity_in("嗯，三千二百零五块"), Ok(3205));
    assert_eq!(quantity_in("two tickets, please"), Ok(2));
    assert_eq!(quantity_in("I need a hundred and five"), Ok(105));
    assert_eq!(
        quantity_in("我查一下，五个"),
        Ok(5),
        "the last run is the answer"
    );
    assert_eq!(
        quantity_in("我们有十几个人"),
        Err(NumberError::Approximate { low: 11, high: 19 })
    );
    assert_eq!(
        quantity_in("twenty-something people"),
        Err(NumberError::Approximate { low: 21, high: 29 })
    );
    assert_eq!(quantity_in("我不知道"), Err(NumberError::Empty));
}
