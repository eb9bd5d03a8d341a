//! Without `--json` the tool prints lines for people: times in seconds, what was heard.

mod common;

use common::{diag, mixed_call, silence, wav};
use yingda_dsp::wav::Encoding;

fn text(x: &[i16]) -> Vec<String> {
    let c = wav(x, Encoding::G711(yingda_dsp::Law::Alaw));
    let r = diag(&["decode", c.path.to_str().expect("utf-8 path")]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stderr.is_empty(), "{r:?}");
    r.stdout.lines().map(str::to_owned).collect()
}

#[test]
fn text_mode_prints_human_lines() {
    let (x, _) = mixed_call();
    let lines = text(&x);
    assert_eq!(lines.len(), 5, "{lines:#?}");
    // No JSON here.
    assert!(
        lines.iter().all(|l| !l.trim_start().starts_with('{')),
        "{lines:#?}"
    );
    assert!(
        lines[0].contains("caller ID (v23): number 13800138000"),
        "{lines:#?}"
    );
    assert!(lines[0].contains("name \"LI SI\""), "{lines:#?}");
    assert!(lines[0].contains("date/time 11221530"), "{lines:#?}");
    assert!(lines[1].contains("ringback tone until"), "{lines:#?}");
    assert!(lines[1].ends_with("2 cycles"), "{lines:#?}");
    assert!(lines[2].contains("DTMF 1"), "{lines:#?}");
    assert!(lines[3].contains("DTMF #"), "{lines:#?}");
    assert!(lines[4].contains("busy tone"), "{lines:#?}");
    assert!(lines[4].ends_with("3 cycles"), "{lines:#?}");
    // Times are seconds with milliseconds, first column: caller ID at 0.1 s.
    let secs: f64 = lines[0]
        .split_whitespace()
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no time in {lines:#?}"));
    assert!((secs - 0.1).abs() <= 0.02, "{lines:#?}");
    // Digits show how long they sounded: 100 ms sent.
    let dur: u64 = lines[2]
        .rsplit_once('(')
        .and_then(|(_, d)| d.strip_suffix(" ms)"))
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no duration in {lines:#?}"));
    assert!(dur.abs_diff(100) <= 20, "{lines:#?}");
}

#[test]
fn text_mode_says_when_nothing_was_found() {
    let lines = text(&silence(1000));
    assert_eq!(
        lines,
        ["nothing found: no DTMF, caller ID or call-progress tones"]
    );
}
