//! China call-progress tones (450 Hz; busy 350/350 ms, ringback 1/4 s, dial continuous,
//! congestion 700/700 ms) from spandsp's `tone_gen`: one `tone` line per tone, with its
//! name, times and cadence cycles.

mod common;

use common::{decode, ms, of_kind, silence, spandsp_tone};
use serde_json::Value;

fn one_tone(f: &[Value]) -> &Value {
    let t = of_kind(f, "tone");
    assert_eq!(t.len(), 1, "expected one tone finding in {f:?}");
    assert_eq!(t.len(), f.len(), "unexpected other findings in {f:?}");
    t[0]
}

/// `lead` ms of silence, the tone, `tail` ms of silence.
fn capture(on: u32, off: u32, total: u32, lead: u32, tail: u32) -> Vec<i16> {
    let mut x = silence(lead);
    x.extend(spandsp_tone(on, off, total));
    x.extend(silence(tail));
    x
}

fn check(v: &Value, name: &str, start: u64, end: u64, cycles: u64) {
    assert_eq!(v["name"], name, "{v}");
    assert_eq!(v["cycles"], cycles, "{v}");
    // The detector works in 20 ms blocks.
    assert!(ms(v, "start_ms").abs_diff(start) <= 20, "start: {v}");
    assert!(ms(v, "end_ms").abs_diff(end) <= 20, "end: {v}");
}

#[test]
fn tones_busy_three_cycles() {
    let f = decode(&capture(350, 350, 2100, 400, 1500));
    // The third tone burst ends at 400 + 2·700 + 350 ms.
    check(one_tone(&f), "busy", 400, 2150, 3);
}

#[test]
fn tones_ringback_two_cycles() {
    let f = decode(&capture(1000, 4000, 10_000, 300, 1000));
    check(one_tone(&f), "ringback", 300, 6300, 2);
}

#[test]
fn tones_dial_tone() {
    let f = decode(&capture(3000, 0, 3000, 200, 500));
    check(one_tone(&f), "dial", 200, 3200, 1);
}

#[test]
fn tones_congestion() {
    let f = decode(&capture(700, 700, 4200, 100, 1500));
    check(one_tone(&f), "congestion", 100, 3600, 3);
}

#[test]
fn tones_still_sounding_at_end_of_file_are_reported() {
    // Dial tone to the very end of the file.
    let f = decode(&capture(2500, 0, 2500, 500, 0));
    check(one_tone(&f), "dial", 500, 3000, 1);
    // Busy cut off in its fourth "off" period: three whole cycles and the fourth burst.
    let f = decode(&capture(350, 350, 2600, 0, 0));
    let t = one_tone(&f);
    assert_eq!(t["name"], "busy", "{t}");
    assert!(ms(t, "end_ms") <= 2600, "{t}");
    assert!(ms(t, "cycles") >= 3, "{t}");
}

#[test]
fn tones_short_burst_is_not_a_tone() {
    // One 350 ms burst is no cadence yet.
    let f = decode(&capture(350, 0, 350, 200, 2000));
    assert!(f.is_empty(), "{f:?}");
}
