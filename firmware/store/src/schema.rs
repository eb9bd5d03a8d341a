//! On-disk layout, schema version and migrations.
//!
//! # Layout (version 1)
//!
//! | sled tree       | key                                        | value            |
//! |-----------------|--------------------------------------------|------------------|
//! | `meta`          | `schema_version`                           | u32 big-endian   |
//! | `config`        | config key (UTF-8)                         | document bytes   |
//! | `cdr`           | call id, u64 big-endian                    | CDR as JSON      |
//! | `cdr_by_start`  | start time (i64, sign bit flipped, BE) ‖ id (u64 BE) | empty  |
//!
//! `cdr_by_start` sorts by start time then id, so a time-range listing is one reverse range
//! scan. It is derived data: it can always be rebuilt from `cdr`.
//!
//! # Versions
//!
//! The version lives in `meta/schema_version`. On open:
//!
//! * version newer than [`CURRENT_VERSION`]: [`StoreError::SchemaTooNew`], nothing is
//!   written (a downgraded firmware must not touch data it does not understand);
//! * version older: each migration from that version up runs in turn; after each step the
//!   new version is written and flushed, so a crash mid-way resumes at the failed step.
//!   Every migration must therefore be safe to run twice;
//! * no version key (**version 0**): either a brand-new database, one whose creation was
//!   interrupted before the version was written, or one written by the pre-release
//!   prototype, which stored `config` and `cdr` in the version 1 layout but kept no
//!   `cdr_by_start` index. All three are handled by the 0 → 1 migration, which keeps
//!   `config` and `cdr` as they are and rebuilds `cdr_by_start` from `cdr`. Records that
//!   cannot be decoded stay in `cdr` (so [`Store::get_cdr`](crate::Store::get_cdr) still
//!   reports them) and are listed in [`OpenReport::unindexed`].
//!
//! To add version 2: append a function to `MIGRATIONS` and bump [`CURRENT_VERSION`].

use std::path::Path;

use serde::Deserialize;

use crate::error::{Result, StoreError};
use crate::sled_store::{OpenReport, StoreTrees};
use crate::{CallId, CorruptRecord};

/// The schema version this build writes and reads.
pub const CURRENT_VERSION: u32 = 1;

/// The `meta` key holding the schema version.
pub const VERSION_KEY: &[u8] = b"schema_version";

pub(crate) const TREE_META: &str = "meta";
pub(crate) const TREE_CONFIG: &str = "config";
pub(crate) const TREE_CDR: &str = "cdr";
pub(crate) const TREE_CDR_BY_START: &str = "cdr_by_start";

/// A migration from version `i` to `i + 1` is `MIGRATIONS[i]`.
type Migration = fn(&StoreTrees, &mut OpenReport) -> Result<()>;
const MIGRATIONS: [Migration; CURRENT_VERSION as usize] = [migrate_0_to_1];

/// Key of a CDR in `cdr`.
pub(crate) fn cdr_key(id: CallId) -> [u8; 8] {
    id.get().to_be_bytes()
}

/// Key of a CDR in `cdr_by_start`.
pub(crate) fn start_key(start_ms: i64, id: u64) -> [u8; 16] {
    // Flipping the sign bit maps i64 order onto unsigned byte order.
    let t = (start_ms as u64) ^ (1 << 63);
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&t.to_be_bytes());
    k[8..].copy_from_slice(&id.to_be_bytes());
    k
}

/// Inverse of [`start_key`]; `None` if the key has the wrong length.
pub(crate) fn parse_start_key(k: &[u8]) -> Option<(i64, CallId)> {
    let t: [u8; 8] = k.get(..8)?.try_into().ok()?;
    let id: [u8; 8] = k.get(8..)?.try_into().ok()?;
    let start = (u64::from_be_bytes(t) ^ (1 << 63)) as i64;
    Some((start, CallId::new(u64::from_be_bytes(id))))
}

/// Inverse of [`cdr_key`]; `None` if the key has the wrong length.
pub(crate) fn parse_cdr_key(k: &[u8]) -> Option<CallId> {
    let b: [u8; 8] = k.try_into().ok()?;
    Some(CallId::new(u64::from_be_bytes(b)))
}

/// Human-readable name of a key in `cdr`, for errors.
pub(crate) fn cdr_key_name(k: &[u8]) -> String {
    match parse_cdr_key(k) {
        Some(id) => format!("{TREE_CDR}/{id}"),
        None => raw_key_name(TREE_CDR, k),
    }
}

/// Name of a key that does not decode, for errors: the tree and the key's bytes in hex,
/// e.g. `config/0xfffe`.
pub(crate) fn raw_key_name(tree: &str, k: &[u8]) -> String {
    let hex: String = k.iter().map(|b| format!("{b:02x}")).collect();
    format!("{tree}/0x{hex}")
}

/// Only the field the index needs; decoding this tolerates everything else being new.
#[derive(Deserialize)]
pub(crate) struct StartOnly {
    pub(crate) start_ms: i64,
}

/// Read the stored version; `None` if absent.
pub(crate) fn read_version(trees: &StoreTrees) -> Result<Option<u32>> {
    let raw = trees
        .meta
        .get(VERSION_KEY)
        .map_err(|e| StoreError::backend("read schema version", e))?;
    match raw {
        None => Ok(None),
        Some(v) => {
            let b: [u8; 4] = v.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                key: format!("{TREE_META}/schema_version"),
                detail: format!("expected 4 bytes, found {}", v.len()),
            })?;
            Ok(Some(u32::from_be_bytes(b)))
        }
    }
}

fn write_version(trees: &StoreTrees, v: u32) -> Result<()> {
    trees
        .meta
        .insert(VERSION_KEY, &v.to_be_bytes())
        .map_err(|e| StoreError::backend("write schema version", e))?;
    trees
        .db
        .flush()
        .map_err(|e| StoreError::backend("flush schema version", e))?;
    Ok(())
}

/// Bring the database to [`CURRENT_VERSION`], or refuse if it is newer.
pub(crate) fn upgrade(trees: &StoreTrees, path: &Path, report: &mut OpenReport) -> Result<()> {
    let found = read_version(trees)?;
    let from = match found {
        Some(v) if v > CURRENT_VERSION => {
            return Err(StoreError::SchemaTooNew {
                path: path.to_path_buf(),
                found: v,
                supported: CURRENT_VERSION,
            })
        }
        Some(v) => v,
        None => {
            report.created = trees.config.is_empty() && trees.cdr.is_empty();
            0
        }
    };
    if from < CURRENT_VERSION && !report.created {
        report.migrated_from = Some(from);
    }
    for v in from..CURRENT_VERSION {
        MIGRATIONS[v as usize](trees, report)?;
        write_version(trees, v + 1)?;
    }
    Ok(())
}

/// Version 0 → 1: keep `config` and `cdr`, rebuild `cdr_by_start` from `cdr`.
fn migrate_0_to_1(trees: &StoreTrees, report: &mut OpenReport) -> Result<()> {
    let op = "migrate schema 0 -> 1";
    trees
        .cdr_by_start
        .clear()
        .map_err(|e| StoreError::backend(op, e))?;
    for item in trees.cdr.iter() {
        let (k, v) = item.map_err(|e| StoreError::backend(op, e))?;
        let Some(id) = parse_cdr_key(&k) else {
            report.unindexed.push(CorruptRecord {
                key: cdr_key_name(&k),
                detail: format!("key is {} bytes, expected 8", k.len()),
            });
            continue;
        };
        match serde_json::from_slice::<StartOnly>(&v) {
            Ok(s) => {
                trees
                    .cdr_by_start
                    .insert(start_key(s.start_ms, id.get()), &[])
                    .map_err(|e| StoreError::backend(op, e))?;
            }
            Err(e) => report.unindexed.push(CorruptRecord {
                key: cdr_key_name(&k),
                detail: e.to_string(),
            }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_keys_sort_like_time_then_id() {
        let samples = [
            (i64::MIN, 0),
            (-5, 9),
            (-1, u64::MAX),
            (0, 0),
            (0, 1),
            (1, 0),
            (1_700_000_000_000, 3),
            (i64::MAX, u64::MAX),
        ];
        for w in samples.windows(2) {
            assert!(
                start_key(w[0].0, w[0].1) < start_key(w[1].0, w[1].1),
                "{w:?}"
            );
        }
        for (t, id) in samples {
            assert_eq!(
                parse_start_key(&start_key(t, id)),
                Some((t, CallId::new(id)))
            );
        }
        assert_eq!(parse_start_key(&[0; 15]), None);
        assert_eq!(parse_start_key(&[0; 17]), None);
    }
}
