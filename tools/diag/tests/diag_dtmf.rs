//! DTMF digits from spandsp's `dtmf_tx` at known times: `yingda-diag decode --json` must
//! report exactly the digits sent, each with start and end within 20 ms of the tone edges
//! (the receiver's own limit is about ±4 ms plus one 6.4 ms hop).

mod common;

use common::{decode, digits, ms, of_kind, spandsp_dtmf};

const TOLERANCE_MS: u64 = 20;

fn check_times(sent: &str, on: u32, off: u32, lead: u32) {
    let f = decode(&spandsp_dtmf(sent, on, off, lead));
    assert_eq!(digits(&f), sent, "{f:?}");
    for (i, v) in of_kind(&f, "dtmf").iter().enumerate() {
        let start = u64::from(lead + i as u32 * (on + off));
        let end = start + u64::from(on);
        let (s, e) = (ms(v, "start_ms"), ms(v, "end_ms"));
        assert!(
            s.abs_diff(start) <= TOLERANCE_MS,
            "digit {i} start {s}, sent {start}: {v}"
        );
        assert!(
            e.abs_diff(end) <= TOLERANCE_MS,
            "digit {i} end {e}, sent {end}: {v}"
        );
    }
}

#[test]
fn dtmf_every_digit_at_known_times() {
    check_times("123A456B789C*0#D", 100, 100, 500);
}

#[test]
fn dtmf_fast_dialling_and_long_presses() {
    // 50/50 ms is the fastest Q.24 dialling; 1 s presses are what callers do in menus.
    check_times("13800138000", 50, 50, 120);
    check_times("5#", 1000, 300, 2000);
}

#[test]
fn dtmf_json_has_exactly_the_contract_fields() {
    let f = decode(&spandsp_dtmf("5", 70, 70, 120));
    assert_eq!(f.len(), 1, "{f:?}");
    let obj = f[0].as_object().expect("object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["digit", "end_ms", "kind", "start_ms"]);
    assert_eq!(f[0]["kind"], "dtmf");
    assert_eq!(f[0]["digit"], "5");
}
