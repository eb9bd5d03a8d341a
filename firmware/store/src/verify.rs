//! Checking that acknowledged CDRs survived a crash.
//!
//! Used by this crate's crash test (`tests/store_crash.rs`, with the
//! `yingda-store-crashtest` helper) and meant for the daemon-level crash test too: a child
//! prints each call id on its own line after the store acknowledged it, the parent kills
//! the child, reads the complete lines with [`parse_acknowledged`], reopens the store and
//! calls [`verify_acknowledged`].
//!
//! Nothing here panics; problems are collected in a [`VerifyReport`].

use std::fmt;

use crate::{CallId, Cdr, CdrEvent, Direction, DisconnectCause, Result, Store};

/// The outcome of [`verify_acknowledged`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// How many ids were checked.
    pub checked: usize,
    /// Acknowledged ids with no record.
    pub missing: Vec<CallId>,
    /// Acknowledged ids whose record is corrupt, fails the caller's check, or is absent
    /// from the start-time index; with the reason.
    pub bad: Vec<(CallId, String)>,
}

impl VerifyReport {
    /// Every acknowledged id is present and intact.
    pub fn is_ok(&self) -> bool {
        self.missing.is_empty() && self.bad.is_empty()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "checked {} acknowledged ids: {} missing, {} bad",
            self.checked,
            self.missing.len(),
            self.bad.len()
        )?;
        for id in self.missing.iter().take(10) {
            write!(f, "\n  missing {id}")?;
        }
        for (id, why) in self.bad.iter().take(10) {
            write!(f, "\n  bad {id}: {why}")?;
        }
        Ok(())
    }
}

/// The call ids on complete lines of `output` (a line counts only once its `\n` was
/// written, so a line cut by the kill is ignored). Blank lines and lines that are not call
/// ids are skipped.
pub fn parse_acknowledged(output: &str) -> Vec<CallId> {
    let complete = match output.rfind('\n') {
        Some(i) => &output[..i],
        None => "",
    };
    complete
        .lines()
        .filter_map(|l| l.trim().parse::<CallId>().ok())
        .collect()
}

/// Check that every id in `acknowledged` is stored, decodes, passes `check`, and is found
/// by a time-range listing at its start time.
///
/// Errors only if the store itself fails; record problems go into the report.
pub fn verify_acknowledged(
    store: &dyn Store,
    acknowledged: &[CallId],
    check: &dyn Fn(&Cdr) -> Result<(), String>,
) -> Result<VerifyReport> {
    let mut report = VerifyReport {
        checked: acknowledged.len(),
        ..VerifyReport::default()
    };
    for &id in acknowledged {
        let cdr = match store.get_cdr(id) {
            Ok(Some(c)) => c,
            Ok(None) => {
                report.missing.push(id);
                continue;
            }
            Err(crate::StoreError::Corrupt { key, detail }) => {
                report.bad.push((id, format!("corrupt {key}: {detail}")));
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Err(why) = check(&cdr) {
            report.bad.push((id, why));
            continue;
        }
        let at = cdr.start_ms..cdr.start_ms.saturating_add(1);
        let page = store.list_cdrs(at, usize::MAX)?;
        if !page.cdrs.iter().any(|c| c.id == id) {
            report
                .bad
                .push((id, "not found by start-time listing".to_owned()));
        }
    }
    Ok(report)
}

/// The CDR the crash-test helper writes for `id`: every field derived from the id (so
/// [`check_synthetic`] can tell an intact record from a damaged one) except `start_ms`.
pub fn synthetic_cdr(id: CallId, start_ms: i64) -> Cdr {
    let n = id.get();
    let answered = n % 3 != 0;
    Cdr {
        id,
        channel: (n % 30) as u32 + 1,
        direction: if n % 2 == 0 {
            Direction::Inbound
        } else {
            Direction::Outbound
        },
        caller: (n % 5 != 0).then(|| format!("1380013{:04}", n % 10_000)),
        called: Some(format!("8{:03}", n % 1000)),
        start_ms,
        answer_ms: answered.then_some(start_ms.saturating_add(3_000)),
        end_ms: start_ms.saturating_add(60_000),
        cause: DisconnectCause::ALL[(n % DisconnectCause::ALL.len() as u64) as usize],
        digits: n.to_string(),
        events: vec![
            CdrEvent {
                offset_ms: 0,
                what: format!("seize {id}"),
            },
            CdrEvent {
                offset_ms: 60_000,
                what: "release".to_owned(),
            },
        ],
    }
}

/// Check a record written by [`synthetic_cdr`].
pub fn check_synthetic(cdr: &Cdr) -> Result<(), String> {
    let expected = synthetic_cdr(cdr.id, cdr.start_ms);
    if *cdr == expected {
        Ok(())
    } else {
        Err(format!("record differs: {cdr:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_acknowledged_ignores_a_cut_last_line() {
        let out = "c-000000000001\nc-000000000002\nc-0000000";
        assert_eq!(
            parse_acknowledged(out),
            vec![CallId::new(1), CallId::new(2)]
        );
        assert_eq!(parse_acknowledged("c-000000000001"), vec![]);
        assert_eq!(parse_acknowledged(""), vec![]);
        assert_eq!(
            parse_acknowledged("ready\nc-000000000003\n"),
            vec![CallId::new(3)]
        );
    }

    #[test]
    fn check_synthetic_spots_a_changed_field() {
        let mut c = synthetic_cdr(CallId::new(17), 1_000);
        assert_eq!(check_synthetic(&c), Ok(()));
        c.digits.push('9');
        assert!(check_synthetic(&c).is_err());
    }
}
