//! Slot extractors in Mandarin and English, relative to an injected date.

use yingda_flow::calendar::Date;
use yingda_flow::slots::{extract, SlotError, SlotKind};

fn today() -> Date {
    // Sunday 22 November 2026.
    Date::new(2026, 11, 22).unwrap()
}

fn x(kind: SlotKind, text: &str) -> Result<String, SlotError> {
    extract(kind, text, today())
}

#[test]
fn numbers_zh_en() {
    assert_eq!(x(SlotKind::Number, "二十一").unwrap(), "21");
    assert_eq!(x(SlotKind::Number, "两百").unwrap(), "200");
    assert_eq!(x(SlotKind::Number, "十五").unwrap(), "15");
    assert_eq!(x(SlotKind::Number, "twenty-one").unwrap(), "21");
    assert_eq!(x(SlotKind::Digits, "幺三八").unwrap(), "138");
    assert_eq!(x(SlotKind::Number, "我们五个人").unwrap(), "5");
    // 十几 is a range, not a number: no-match, so the flow asks again.
    assert_eq!(
        x(SlotKind::Number, "十几个").unwrap_err().to_string(),
        "an approximate number (11 to 19), not an exact one"
    );
}

#[test]
fn dates_and_times() {
    assert_eq!(
        x(SlotKind::DateTime, "明天下午三点").unwrap(),
        "2026-11-23 15:00"
    );
    assert_eq!(x(SlotKind::Date, "下周二").unwrap(), "2026-11-24");
    assert_eq!(x(SlotKind::Date, "后天").unwrap(), "2026-11-24");
    assert_eq!(
        x(SlotKind::DateTime, "next Tuesday at 3").unwrap(),
        "2026-11-24 15:00"
    );
    assert_eq!(x(SlotKind::Time, "上午九点半").unwrap(), "09:30");
    assert_eq!(x(SlotKind::Time, "3:30 pm").unwrap(), "15:30");
    assert_eq!(x(SlotKind::Date, "十二月五号").unwrap(), "2026-12-05");
    assert_eq!(
        x(SlotKind::Date, "March 5th").unwrap(),
        "2027-03-05",
        "past dates roll to next year"
    );
    assert_eq!(
        x(SlotKind::Date, "随便").unwrap_err().to_string(),
        "no date found in the text"
    );
}

#[test]
fn money() {
    assert_eq!(x(SlotKind::Money, "三百五十块五").unwrap(), "350.50");
    assert_eq!(x(SlotKind::Money, "两块").unwrap(), "2.00");
    assert_eq!(x(SlotKind::Money, "十二元五角三分").unwrap(), "12.53");
    assert_eq!(x(SlotKind::Money, "$12.50").unwrap(), "12.50");
    assert_eq!(
        x(SlotKind::Money, "twelve dollars and fifty cents").unwrap(),
        "12.50"
    );
    assert!(x(SlotKind::Money, "很多钱").is_err());
}

#[test]
fn identifiers_with_checksums() {
    assert_eq!(
        x(SlotKind::Card, "四一一一 一一一一 一一一一 一一一一").unwrap(),
        "4111111111111111"
    );
    assert!(x(SlotKind::Card, "4111111111111112").is_err(), "Luhn");
    assert_eq!(
        x(SlotKind::ResidentId, "11010519491231002X").unwrap(),
        "11010519491231002X"
    );
    assert!(
        x(SlotKind::ResidentId, "110105194912310021").is_err(),
        "GB 11643 check character"
    );
    assert_eq!(
        x(SlotKind::Phone, "幺三八 零零幺三 八零零零").unwrap(),
        "13800138000"
    );
}

#[test]
fn department_names_from_the_shipped_list() {
    // Department slots are grammar labels: the sample's list, matched by the speech matcher.
    let flow = yingda_flow::validate_file(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../flows/hospital.toml"),
    )
    .unwrap();
    let g = &flow.grammars["departments"];
    assert_eq!(g.match_text("我想看牙").map(|m| m.label), Some("口腔科"));
    assert_eq!(g.match_text("小儿科").map(|m| m.label), Some("儿科"));
    assert_eq!(
        g.match_text("dentist please").map(|m| m.label),
        Some("口腔科")
    );
    assert_eq!(g.match_text("眼科"), None);
}
