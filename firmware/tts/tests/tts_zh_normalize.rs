//! The IVR normaliser, one reading rule at a time: what each kind of prompt text is read
//! as before segmentation. Needs no installed model.

use yingda_tts::zh::{normalize, ZhOptions};

fn norm(text: &str) -> String {
    normalize(text, &ZhOptions::default())
}

fn norm_with(text: &str, edit: impl FnOnce(&mut ZhOptions)) -> String {
    let mut o = ZhOptions::default();
    edit(&mut o);
    normalize(text, &o)
}

#[test]
fn integers_decimals_negatives_percentages() {
    assert_eq!(norm("请按1"), "请按一");
    assert_eq!(norm("共12580分"), "共一万二千五百八十分");
    assert_eq!(norm("0.25个百分点"), "零点二五个百分点");
    assert_eq!(norm("气温-3度"), "气温负三度");
    assert_eq!(norm("年利率3.5%"), "年利率百分之三点五");
    assert_eq!(norm("50％"), "百分之五十");
    assert_eq!(norm("1/3的患者"), "三分之一的患者");
}

#[test]
fn thousands_separators() {
    assert_eq!(norm("共1,000名"), "共一千名");
    assert_eq!(norm("12,345,678.9"), "一千二百三十四万五千六百七十八点九");
    // Not a thousands group: a list.
    assert_eq!(norm("1,2,3"), "一,二,三");
}

#[test]
fn money() {
    assert_eq!(norm("余额12.50元"), "余额十二元五角");
    assert_eq!(norm("¥1,288.00"), "一千二百八十八元");
    assert_eq!(norm("￥356.8元"), "三百五十六元八角");
    assert_eq!(norm("1,024.05元"), "一千零二十四元零五分");
    assert_eq!(norm("0.5元"), "五角");
    assert_eq!(norm("0.05元"), "五分");
    assert_eq!(norm("2元"), "两元");
    assert_eq!(norm("2000元"), "两千元");
    assert_eq!(norm("12.345元"), "十二点三四五元");
    assert_eq!(norm("12.5万元"), "十二点五万元");
    assert_eq!(norm("$9.99"), "九点九九美元");
    assert_eq!(norm("€5"), "五欧元");
    // As misaki reads money, when asked.
    assert_eq!(
        norm_with("余额12.50元", |o| o.money_yuan_jiao_fen = false),
        "余额十二点五零元"
    );
}

#[test]
fn dates() {
    assert_eq!(norm("2026年11月22日"), "二零二六年十一月二十二日");
    assert_eq!(norm("2026-11-22"), "二零二六年十一月二十二日");
    assert_eq!(norm("2026/12/31"), "二零二六年十二月三十一日");
    assert_eq!(norm("2027.06.30"), "二零二七年六月三十日");
    assert_eq!(norm("2026-11-22号"), "二零二六年十一月二十二号");
    assert_eq!(norm("11月22日"), "十一月二十二日");
    // No month 13: not a date.
    assert!(!norm("2026-13-01").contains('年'));
}

#[test]
fn clock_times() {
    assert_eq!(norm("14:30"), "十四点三十分");
    assert_eq!(norm("下午2:30"), "下午两点三十分");
    assert_eq!(norm("2点"), "两点");
    assert_eq!(norm("22:15"), "二十二点十五分");
    assert_eq!(norm("9:05"), "九点零五分");
    assert_eq!(norm("0:00"), "零点");
    assert_eq!(norm("8:30:15"), "八点三十分十五秒");
    assert_eq!(norm("8:30-17:00"), "八点三十分到十七点");
    assert_eq!(norm("8:30至17:00"), "八点三十分至十七点");
    assert_eq!(norm("14：30"), "十四点三十分");
    // Not times: a score, an hour that does not exist.
    assert_eq!(norm("1:2"), "一:二");
    assert_eq!(norm("25:00"), "二十五:零");
}

#[test]
fn phone_numbers_digit_by_digit_with_yao() {
    assert_eq!(norm("请拨打95588"), "请拨打九五五八八");
    assert_eq!(norm("请拨打120"), "请拨打幺二零");
    assert_eq!(norm("致电400-820-8820"), "致电四零零，八二零，八八二零");
    assert_eq!(norm("13812345678"), "幺三八，幺二三四，五六七八");
    assert_eq!(norm("电话：010-65432100"), "电话：零幺零，六五四三二幺零零");
    assert_eq!(norm("拨打 400 820 8820"), "拨打 四零零，八二零，八八二零");
    assert_eq!(
        norm_with("请拨打120", |o| o.yao_in_phone_numbers = false),
        "请拨打一二零"
    );
    // Quantities stay numbers even after a phone word.
    assert_eq!(norm("电话费100元"), "电话费一百元");
}

#[test]
fn card_id_and_code_numbers_digit_by_digit() {
    assert_eq!(norm("尾号1234"), "尾号一二三四");
    assert_eq!(norm("验证码是362851"), "验证码是三六二八五一");
    assert_eq!(
        norm("卡号6222021234567890123"),
        "卡号六二二二零二一二三四五六七八九零一二三"
    );
    assert_eq!(
        norm("身份证110101199003071234"),
        "身份证一一零一零一一九九零零三零七一二三四"
    );
    assert_eq!(norm("就诊号0315"), "就诊号零三一五");
    assert_eq!(norm("编号12345678"), "编号一二三四五六七八");
    assert_eq!(
        norm_with("尾号1234", |o| o.yao_in_digit_strings = true),
        "尾号幺二三四"
    );
    // Seven digits or more without a keyword, or a leading zero: still a code.
    assert_eq!(norm("1234567"), "一二三四五六七");
    assert_eq!(norm("007"), "零零七");
    // Short numbers without a keyword stay numbers.
    assert_eq!(norm("请按10"), "请按十");
}

#[test]
fn ordinals_ranges_and_liang() {
    assert_eq!(norm("第3个窗口"), "第三个窗口");
    assert_eq!(norm("第2名"), "第二名");
    assert_eq!(norm("3-5天"), "三到五天");
    assert_eq!(norm("1~3个工作日"), "一到三个工作日");
    assert_eq!(norm("2个"), "两个");
    assert_eq!(norm("2楼2号"), "二楼二号");
    assert_eq!(norm("22个"), "二十二个");
    assert_eq!(norm_with("2个", |o| o.liang = false), "二个");
}

#[test]
fn temperatures_and_units() {
    assert_eq!(norm("37.3℃"), "三十七点三摄氏度");
    assert_eq!(norm("-3℃"), "零下三摄氏度");
    assert_eq!(norm("30°C"), "三十摄氏度");
    assert_eq!(norm("5kg"), "五公斤");
    assert_eq!(norm("10ml"), "十毫升");
    assert_eq!(norm("3KM"), "三公里");
}

#[test]
fn letters_and_keys() {
    assert_eq!(norm("CT室"), "西提室");
    assert_eq!(norm("ATM机"), "诶提艾姆机");
    assert_eq!(norm("vip"), "维艾批");
    assert_eq!(norm("ＡＢＣ"), "诶必西");
    assert_eq!(norm_with("CT室", |o| o.spell_letters = false), "CT室");
    assert_eq!(norm("按#号键"), "按井号键");
    assert_eq!(norm("按#键"), "按井号键");
    assert_eq!(norm("按*号键"), "按星号键");
    assert_eq!(norm("7*24小时"), "七乘二十四小时");
    assert_eq!(norm("3×4"), "三乘四");
    assert_eq!(norm("1+1"), "一加一");
    assert_eq!(norm("a@b"), "诶艾特必");
}

#[test]
fn width_folding_and_invisible_characters() {
    assert_eq!(norm("请按１"), "请按一");
    assert_eq!(norm("１２个"), "十二个");
    assert_eq!(norm("请\u{200b}按\u{feff}1"), "请按一");
    assert_eq!(norm("请\u{7}按\u{1b}1"), "请按一");
    // Chinese punctuation is left for misaki's own mapping.
    assert_eq!(norm("您好，再见！"), "您好，再见！");
}
