//! Caller ID as exchanges send it: China DTMF caller ID before the first ring (spandsp's
//! `dtmf_tx`, 70/70 ms digits), and FSK caller ID from spandsp's ADSI transmitter on V.23
//! (ETSI CLIP, China YDN 069) and Bell 202 (Telcordia CLASS), SDMF and MDMF.

mod common;

use common::{decode, digits, ms, of_kind, silence, spandsp_dtmf, spandsp_fsk_cid};
use serde_json::{json, Value};

fn one_cid(f: &[Value]) -> &Value {
    let c = of_kind(f, "cid");
    assert_eq!(c.len(), 1, "expected one cid finding in {f:?}");
    c[0]
}

/// The contract fields of a cid finding (times are checked separately).
fn fields(v: &Value) -> Value {
    json!({
        "format": v["format"],
        "number": v["number"],
        "name": v["name"],
        "datetime": v["datetime"],
        "absence": v["absence"],
    })
}

#[test]
fn cid_china_dtmf_number_before_ring() {
    let mut x = spandsp_dtmf("A13800138000C", 70, 70, 300);
    // Then the first ring: no audio on the line for 1 s.
    x.extend(silence(1000));
    let f = decode(&x);
    let c = one_cid(&f);
    assert_eq!(
        fields(c),
        json!({"format": "dtmf", "number": "13800138000", "name": null,
               "datetime": null, "absence": null})
    );
    // The record spans the A to the C: 13 digits of 140 ms from 300 ms.
    assert!(ms(c, "start_ms").abs_diff(300) <= 20, "{c}");
    assert!(ms(c, "end_ms").abs_diff(300 + 12 * 140 + 70) <= 20, "{c}");
    // The digits themselves are reported too.
    assert_eq!(digits(&f), "A13800138000C");
}

#[test]
fn cid_china_dtmf_hash_terminator_and_withheld_number() {
    let f = decode(&spandsp_dtmf("D075512345678#", 70, 70, 100));
    assert_eq!(one_cid(&f)["number"], "075512345678");
    assert_eq!(one_cid(&f)["format"], "dtmf");
    let f = decode(&spandsp_dtmf("B10C", 70, 70, 100));
    assert_eq!(
        fields(one_cid(&f)),
        json!({"format": "dtmf", "number": null, "name": null,
               "datetime": null, "absence": "private"})
    );
    let f = decode(&spandsp_dtmf("B00C", 70, 70, 100));
    assert_eq!(one_cid(&f)["absence"], "unavailable");
}

#[test]
fn cid_digits_without_a_record_are_not_caller_id() {
    let f = decode(&spandsp_dtmf("13800138000", 70, 70, 100));
    assert!(of_kind(&f, "cid").is_empty(), "{f:?}");
    assert_eq!(digits(&f), "13800138000");
}

#[test]
fn cid_fsk_v23_mdmf_with_name_and_date() {
    let f = decode(&spandsp_fsk_cid(
        "clip",
        "mdmf",
        &["dt=11221530", "num=13800138000", "name=ZHANG SAN"],
    ));
    assert_eq!(
        fields(one_cid(&f)),
        json!({"format": "v23", "number": "13800138000", "name": "ZHANG SAN",
               "datetime": "11221530", "absence": null})
    );
    // Nothing else: FSK is neither DTMF nor a call-progress tone.
    assert_eq!(f.len(), 1, "{f:?}");
}

#[test]
fn cid_fsk_bell202_mdmf_with_name_and_date() {
    let f = decode(&spandsp_fsk_cid(
        "class",
        "mdmf",
        &["dt=01020304", "num=4155551212", "name=JOHN DOE"],
    ));
    assert_eq!(
        fields(one_cid(&f)),
        json!({"format": "bell202", "number": "4155551212", "name": "JOHN DOE",
               "datetime": "01020304", "absence": null})
    );
    assert_eq!(f.len(), 1, "{f:?}");
}

#[test]
fn cid_fsk_sdmf_and_withheld_number() {
    let f = decode(&spandsp_fsk_cid(
        "clip",
        "sdmf",
        &["dt=12312359", "num=075583761234"],
    ));
    assert_eq!(
        fields(one_cid(&f)),
        json!({"format": "v23", "number": "075583761234", "name": null,
               "datetime": "12312359", "absence": null})
    );
    let f = decode(&spandsp_fsk_cid(
        "class",
        "mdmf",
        &["dt=06150800", "numabs=P"],
    ));
    assert_eq!(
        fields(one_cid(&f)),
        json!({"format": "bell202", "number": null, "name": null,
               "datetime": "06150800", "absence": "private"})
    );
    let f = decode(&spandsp_fsk_cid(
        "clip",
        "sdmf",
        &["dt=06150800", "numabs=O"],
    ));
    assert_eq!(one_cid(&f)["absence"], "unavailable");
}

#[test]
fn cid_fsk_times_cover_the_burst() {
    // spandsp writes 100 ms of silence, the burst, 100 ms of silence.
    let x = spandsp_fsk_cid("clip", "mdmf", &["dt=11221530", "num=13800138000"]);
    let burst_end = (x.len() / 8) as u64 - 100;
    let f = decode(&x);
    let c = one_cid(&f);
    assert!(ms(c, "start_ms").abs_diff(100) <= 10, "{c}");
    assert!(
        ms(c, "end_ms") <= burst_end && ms(c, "end_ms") + 30 >= burst_end,
        "{c}"
    );
}
