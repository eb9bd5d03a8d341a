//! Schema version handling and migration, checked against databases written directly with
//! sled in the documented layout (see `yingda_store::schema`).

use std::path::Path;

use yingda_store::schema::{CURRENT_VERSION, VERSION_KEY};
use yingda_store::verify::synthetic_cdr;
use yingda_store::{CallId, ConfigExt, SledStore, Store, StoreError};

fn raw(path: &Path) -> sled::Db {
    sled::Config::new().path(path).open().unwrap()
}

fn stored_version(path: &Path) -> Option<u32> {
    let db = raw(path);
    let v = db.open_tree("meta").unwrap().get(VERSION_KEY).unwrap();
    v.map(|v| u32::from_be_bytes(v.as_ref().try_into().unwrap()))
}

#[test]
fn new_database_is_created_at_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store = SledStore::open(&path).unwrap();
        assert!(store.open_report().created);
        assert_eq!(store.open_report().migrated_from, None);
    }
    assert_eq!(stored_version(&path), Some(CURRENT_VERSION));
    let store = SledStore::open(&path).unwrap();
    assert!(
        !store.open_report().created,
        "second open must not claim creation"
    );
}

#[test]
fn newer_schema_is_refused_without_touching_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let db = raw(&path);
        let meta = db.open_tree("meta").unwrap();
        meta.insert(VERSION_KEY, &(CURRENT_VERSION + 1).to_be_bytes())
            .unwrap();
        db.open_tree("config").unwrap().insert("k", "v").unwrap();
        db.flush().unwrap();
    }
    match SledStore::open(&path) {
        Err(StoreError::SchemaTooNew {
            path: p,
            found,
            supported,
        }) => {
            assert_eq!(p, path);
            assert_eq!(found, CURRENT_VERSION + 1);
            assert_eq!(supported, CURRENT_VERSION);
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    let msg = SledStore::open(&path).unwrap_err().to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert_eq!(stored_version(&path), Some(CURRENT_VERSION + 1));
}

#[test]
fn malformed_version_key_is_a_corrupt_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let db = raw(&path);
        db.open_tree("meta")
            .unwrap()
            .insert(VERSION_KEY, "one")
            .unwrap();
        db.flush().unwrap();
    }
    match SledStore::open(&path) {
        Err(StoreError::Corrupt { key, .. }) => assert_eq!(key, "meta/schema_version"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// Version 0: the prototype's layout, `config` and `cdr` without version key or index.
#[test]
fn version_0_database_with_data_is_migrated_and_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let good: Vec<_> = (1..=5)
        .map(|n| synthetic_cdr(CallId::new(n), 1_000 * n as i64))
        .collect();
    {
        let db = raw(&path);
        let cdr = db.open_tree("cdr").unwrap();
        for c in &good {
            cdr.insert(c.id.get().to_be_bytes(), serde_json::to_vec(c).unwrap())
                .unwrap();
        }
        cdr.insert(9u64.to_be_bytes(), &b"{not json"[..]).unwrap();
        db.open_tree("config")
            .unwrap()
            .insert("lines", &b"{\"ports\":[1,2]}"[..])
            .unwrap();
        db.flush().unwrap();
    }
    {
        let store = SledStore::open(&path).unwrap();
        let report = store.open_report();
        assert!(!report.created);
        assert_eq!(report.migrated_from, Some(0));
        assert_eq!(report.unindexed.len(), 1);
        assert_eq!(report.unindexed[0].key, "cdr/c-000000000009");

        // Old data is all reachable, through the rebuilt index too.
        let page = store.list_cdrs(0..i64::MAX, 100).unwrap();
        let mut want = good.clone();
        want.reverse();
        assert_eq!(page.cdrs, want);
        for c in &good {
            assert_eq!(store.get_cdr(c.id).unwrap().as_ref(), Some(c));
        }
        assert!(matches!(
            store.get_cdr(CallId::new(9)),
            Err(StoreError::Corrupt { .. })
        ));
        assert_eq!(store.cdr_count().unwrap(), 6);
        let lines: serde_json::Value = store.get_config_value("lines").unwrap().unwrap();
        assert_eq!(lines["ports"][1], 2);
    }
    assert_eq!(stored_version(&path), Some(CURRENT_VERSION));
    let store = SledStore::open(&path).unwrap();
    assert_eq!(
        store.open_report().migrated_from,
        None,
        "migration runs once"
    );
}

#[test]
fn migration_rebuild_drops_stale_index_entries() {
    // A crash between creating the trees and writing the version leaves version 0 with a
    // partial index; the migration rebuilds it from the records.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let db = raw(&path);
        let c = synthetic_cdr(CallId::new(1), 5_000);
        db.open_tree("cdr")
            .unwrap()
            .insert(1u64.to_be_bytes(), serde_json::to_vec(&c).unwrap())
            .unwrap();
        let mut stale = [0u8; 16];
        stale[..8].copy_from_slice(&((7_000u64) ^ (1 << 63)).to_be_bytes());
        stale[8..].copy_from_slice(&2u64.to_be_bytes());
        db.open_tree("cdr_by_start")
            .unwrap()
            .insert(stale, &[])
            .unwrap();
        db.flush().unwrap();
    }
    let store = SledStore::open(&path).unwrap();
    let page = store.list_cdrs(0..i64::MAX, 10).unwrap();
    assert_eq!(page.cdrs.len(), 1);
    assert!(page.corrupt.is_empty(), "{:?}", page.corrupt);
}
