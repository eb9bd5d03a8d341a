//! Corrupt records and bad paths: errors that name the key or path, never a panic, and one
//! bad record never hides the others.

use std::path::Path;

use yingda_store::verify::{check_synthetic, synthetic_cdr, verify_acknowledged};
use yingda_store::{CallId, SledStore, Store, StoreError};

/// Write `n` good CDRs through the store, then damage record `bad` behind its back.
fn store_with_one_corrupt(path: &Path, n: u64, bad: u64, damage: &[u8]) {
    {
        let store = SledStore::open(path).unwrap();
        for i in 1..=n {
            store
                .put_cdr(&synthetic_cdr(CallId::new(i), 1_000 * i as i64))
                .unwrap();
        }
    }
    let db = sled::Config::new().path(path).open().unwrap();
    db.open_tree("cdr")
        .unwrap()
        .insert(bad.to_be_bytes(), damage)
        .unwrap();
    db.flush().unwrap();
}

#[test]
fn corrupt_cdr_is_an_error_naming_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    store_with_one_corrupt(&path, 3, 2, b"\xff\x00garbage");
    let store = SledStore::open(&path).unwrap();
    match store.get_cdr(CallId::new(2)) {
        Err(e @ StoreError::Corrupt { .. }) => {
            assert!(e.to_string().contains("cdr/c-000000000002"), "{e}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert!(store.get_cdr(CallId::new(1)).unwrap().is_some());
    assert!(store.get_cdr(CallId::new(3)).unwrap().is_some());
}

#[test]
fn listing_skips_and_reports_a_corrupt_cdr() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    store_with_one_corrupt(&path, 5, 3, b"{\"id\":\"c-000000000003\"");
    let store = SledStore::open(&path).unwrap();
    let page = store.list_cdrs(0..i64::MAX, 100).unwrap();
    let ids: Vec<u64> = page.cdrs.iter().map(|c| c.id.get()).collect();
    assert_eq!(ids, vec![5, 4, 2, 1]);
    assert_eq!(page.corrupt.len(), 1);
    assert_eq!(page.corrupt[0].key, "cdr/c-000000000003");
    assert_eq!(
        store.cdr_count().unwrap(),
        5,
        "count includes the corrupt record"
    );

    // The limit counts the corrupt entry, so paging stays predictable.
    let page = store.list_cdrs(0..i64::MAX, 3).unwrap();
    assert_eq!(page.cdrs.len() + page.corrupt.len(), 3);
}

#[test]
fn record_stored_under_the_wrong_id_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let other = serde_json::to_vec(&synthetic_cdr(CallId::new(77), 2_000)).unwrap();
    store_with_one_corrupt(&path, 2, 2, &other);
    let store = SledStore::open(&path).unwrap();
    match store.get_cdr(CallId::new(2)) {
        Err(StoreError::Corrupt { key, detail }) => {
            assert_eq!(key, "cdr/c-000000000002");
            assert!(detail.contains("c-000000000077"), "{detail}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn verify_reports_missing_and_corrupt_ids_without_failing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    store_with_one_corrupt(&path, 3, 2, b"nope");
    let store = SledStore::open(&path).unwrap();
    let ids = [1, 2, 3, 4].map(CallId::new);
    let report = verify_acknowledged(&store, &ids, &check_synthetic).unwrap();
    assert!(!report.is_ok());
    assert_eq!(report.checked, 4);
    assert_eq!(report.missing, vec![CallId::new(4)]);
    assert_eq!(report.bad.len(), 1);
    assert_eq!(report.bad[0].0, CallId::new(2));
    let all_good = verify_acknowledged(&store, &ids[..1], &check_synthetic).unwrap();
    assert!(all_good.is_ok(), "{all_good}");
}

#[test]
fn dangling_index_entry_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store = SledStore::open(&path).unwrap();
        store
            .put_cdr(&synthetic_cdr(CallId::new(1), 1_000))
            .unwrap();
    }
    {
        let db = sled::Config::new().path(&path).open().unwrap();
        let idx = db.open_tree("cdr_by_start").unwrap();
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&(2_000u64 ^ (1 << 63)).to_be_bytes());
        k[8..].copy_from_slice(&5u64.to_be_bytes());
        idx.insert(k, &[]).unwrap();
        idx.insert(b"short", &[]).unwrap();
        db.flush().unwrap();
    }
    let store = SledStore::open(&path).unwrap();
    let page = store.list_cdrs(i64::MIN..i64::MAX, 10).unwrap();
    assert_eq!(page.cdrs.len(), 1);
    let keys: Vec<&str> = page.corrupt.iter().map(|c| c.key.as_str()).collect();
    assert!(
        keys.contains(&"cdr_by_start/2000/c-000000000005"),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("cdr_by_start/0x")),
        "{keys:?}"
    );
}

#[test]
fn non_utf8_config_key_is_reported_by_key_listing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    drop(SledStore::open(&path).unwrap());
    {
        let db = sled::Config::new().path(&path).open().unwrap();
        db.open_tree("config")
            .unwrap()
            .insert(b"\xff\xfe", "v")
            .unwrap();
        db.flush().unwrap();
    }
    let store = SledStore::open(&path).unwrap();
    match store.config_keys() {
        Err(StoreError::Corrupt { key, .. }) => assert_eq!(key, "config/0xfffe"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn second_open_of_same_path_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let _first = SledStore::open(&path).unwrap();
    match SledStore::open(&path) {
        Err(e @ StoreError::Locked { .. }) => {
            assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[test]
fn regular_file_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("file");
    std::fs::write(&path, "hello").unwrap();
    match SledStore::open(&path) {
        Err(e @ StoreError::NotADatabase { .. }) => {
            assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        }
        other => panic!("expected NotADatabase, got {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello");
}

#[test]
fn directory_of_other_files_is_not_a_database_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    match SledStore::open(dir.path()) {
        Err(StoreError::NotADatabase { path, .. }) => assert_eq!(path, dir.path()),
        other => panic!("expected NotADatabase, got {other:?}"),
    }
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(
        names.len(),
        1,
        "nothing may be created in a foreign directory"
    );
}

#[test]
fn damaged_sled_metadata_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    drop(SledStore::open(&path).unwrap());
    std::fs::write(path.join("conf"), b"\x00\x01 this is not sled's config").unwrap();
    match SledStore::open(&path) {
        Err(e @ StoreError::NotADatabase { .. }) => {
            assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        }
        other => panic!("expected NotADatabase, got {other:?}"),
    }
}

#[test]
fn path_below_a_regular_file_cannot_be_created() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let path = file.join("db");
    match SledStore::open(&path) {
        Err(e @ StoreError::Open { .. }) => {
            assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        }
        other => panic!("expected Open, got {other:?}"),
    }
}
