//! Number reading against cn2an 0.5.24, the library misaki reads numbers with.
//!
//! Golden data (`tests/data/zh/`, made by `tools/models/zh_golden.py`): `numbers.tsv`,
//! ~3,900 integers and decimals (0..1200, powers of ten and their neighbours, random numbers
//! of 1-16 digits rich in zeros) with `cn2an.an2cn(x, "low")`; `transform.tsv`, strings with
//! dates, ranges, fractions, percentages, ℃ and signs with `cn2an.transform(s, "an2cn")`.
//! Needs no installed model.

use std::path::Path;

use yingda_tts::zh::cn2an::{digits_direct, int_words, number_words, transform};

fn rows(name: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/zh")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| {
            let (a, b) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("{name}: {l:?}"));
            (a.to_owned(), b.to_owned())
        })
        .collect()
}

#[test]
fn numbers_read_like_cn2an() {
    let rows = rows("numbers.tsv");
    assert!(rows.len() > 3500);
    let bad: Vec<String> = rows
        .iter()
        .filter_map(|(n, want)| {
            let got = number_words(n).unwrap_or_default();
            (&got != want).then(|| format!("{n}: ours {got}, cn2an {want}"))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} differ:\n{}",
        bad.len(),
        rows.len(),
        bad.join("\n")
    );
}

#[test]
fn transform_like_cn2an() {
    for (input, want) in rows("transform.tsv") {
        assert_eq!(transform(&input, false), want, "{input}");
    }
}

#[test]
fn integer_edges() {
    assert_eq!(int_words("0").as_deref(), Some("零"));
    assert_eq!(int_words("0000").as_deref(), Some("零"));
    assert_eq!(int_words("10").as_deref(), Some("十"));
    assert_eq!(
        int_words("9999999999999999")
            .as_deref()
            .map(|s| s.starts_with("九千九百")),
        Some(true)
    );
    // More than 16 digits, or not digits: cn2an gives up, and so do we.
    assert_eq!(int_words("12345678901234567"), None);
    assert_eq!(int_words(""), None);
    assert_eq!(int_words("1a"), None);
    assert_eq!(number_words("-0.50").as_deref(), Some("负零点五零"));
    assert_eq!(digits_direct("2026"), "二零二六");
}

#[test]
fn liang_only_where_asked() {
    assert_eq!(
        transform("2个人，2000元，第2名，2月2日，22岁", true),
        "两个人，两千元，第二名，二月二日，二十二岁"
    );
    assert_eq!(transform("2个人，2000元", false), "二个人，二千元");
    assert_eq!(transform("2年级", true), "二年级");
}
