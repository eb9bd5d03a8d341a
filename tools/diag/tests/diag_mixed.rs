//! A whole call as a capture shows it: FSK caller ID, ringback, the caller keying digits
//! into a menu, then busy after the far end hangs up. Findings come out in time order.

mod common;

use common::{decode, digits, mixed_call, ms};

#[test]
fn mixed_call_findings_in_time_order() {
    let (x, [cid_at, ringback_at, digits_at, busy_at]) = mixed_call();
    let f = decode(&x);
    let kinds: Vec<String> = f
        .iter()
        .map(|v| match v["kind"].as_str() {
            Some("dtmf") => format!("dtmf {}", v["digit"].as_str().unwrap_or("?")),
            Some("tone") => format!("tone {}", v["name"].as_str().unwrap_or("?")),
            Some(k) => k.to_string(),
            None => panic!("no kind in {v}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["cid", "tone ringback", "dtmf 1", "dtmf #", "tone busy"],
        "{f:?}"
    );
    assert_eq!(f[0]["number"], "13800138000");
    assert_eq!(f[0]["name"], "LI SI");
    assert_eq!(f[1]["cycles"], 2);
    assert_eq!(f[4]["cycles"], 3);
    assert_eq!(digits(&f), "1#");
    for (v, at) in [
        (&f[0], cid_at),
        (&f[1], ringback_at),
        (&f[2], digits_at),
        (&f[4], busy_at),
    ] {
        assert!(
            ms(v, "start_ms").abs_diff(at) <= 20,
            "expected start {at}: {v}"
        );
    }
    let starts: Vec<u64> = f.iter().map(|v| ms(v, "start_ms")).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
}
