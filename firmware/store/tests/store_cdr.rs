//! CDR and config behaviour of `SledStore` through the `Store` trait.

use std::collections::BTreeSet;
use std::sync::Arc;

use yingda_store::{
    CallId, Cdr, CdrEvent, ConfigExt, Direction, DisconnectCause, SledStore, Store, StoreError,
};

fn open() -> (tempfile::TempDir, SledStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("db")).unwrap();
    (dir, store)
}

fn cdr(id: CallId, start_ms: i64) -> Cdr {
    Cdr {
        id,
        channel: 1,
        direction: Direction::Inbound,
        caller: None,
        called: None,
        start_ms,
        answer_ms: None,
        end_ms: start_ms.saturating_add(1000),
        cause: DisconnectCause::LocalHangup,
        digits: String::new(),
        events: Vec::new(),
    }
}

#[test]
fn every_cdr_field_round_trips_through_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut written = Vec::new();
    {
        let store = SledStore::open(&path).unwrap();
        for (i, cause) in DisconnectCause::ALL.into_iter().enumerate() {
            let id = store.next_call_id().unwrap();
            let full = Cdr {
                id,
                channel: 30 + i as u32,
                direction: if i % 2 == 0 {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                caller: Some("075512345678".into()),
                called: Some("8001".into()),
                start_ms: 1_700_000_000_000 + i as i64,
                answer_ms: Some(1_700_000_002_000),
                end_ms: 1_700_000_062_000,
                cause,
                digits: "1#23*".into(),
                events: vec![
                    CdrEvent {
                        offset_ms: 0,
                        what: "ring".into(),
                    },
                    CdrEvent {
                        offset_ms: 2_000,
                        what: "prompt 欢迎致电.wav".into(),
                    },
                ],
            };
            store.put_cdr(&full).unwrap();
            written.push(full);
        }
        // And one with every optional field empty.
        let bare = cdr(store.next_call_id().unwrap(), -5);
        store.put_cdr(&bare).unwrap();
        written.push(bare);
    }
    let store = SledStore::open(&path).unwrap();
    assert!(!store.open_report().created);
    assert_eq!(store.open_report().migrated_from, None);
    for c in &written {
        assert_eq!(store.get_cdr(c.id).unwrap().as_ref(), Some(c));
    }
    assert_eq!(store.cdr_count().unwrap(), written.len());
    assert_eq!(store.get_cdr(CallId::new(999_999)).unwrap(), None);
}

#[test]
fn call_ids_increase_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut last = None;
    for _ in 0..3 {
        let store = SledStore::open(&path).unwrap();
        for _ in 0..5 {
            let id = store.next_call_id().unwrap();
            assert!(Some(id) > last, "{id} not after {last:?}");
            last = Some(id);
        }
    }
}

#[test]
fn list_returns_range_newest_first_with_limit() {
    let (_dir, store) = open();
    // Start times deliberately out of id order, with a tie at 300.
    let starts = [500, 100, 300, 200, 300, 400, 99, 600];
    let mut ids = Vec::new();
    for s in starts {
        let id = store.next_call_id().unwrap();
        store.put_cdr(&cdr(id, s)).unwrap();
        ids.push((s, id));
    }
    let page = store.list_cdrs(100..500, 100).unwrap();
    assert!(page.corrupt.is_empty());
    let got: Vec<(i64, CallId)> = page.cdrs.iter().map(|c| (c.start_ms, c.id)).collect();
    let mut want: Vec<(i64, CallId)> = ids
        .iter()
        .copied()
        .filter(|(s, _)| (100..500).contains(s))
        .collect();
    want.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        got, want,
        "start inclusive, end exclusive, newest first, ties by id desc"
    );

    let top2 = store.list_cdrs(0..1000, 2).unwrap();
    let top2: Vec<i64> = top2.cdrs.iter().map(|c| c.start_ms).collect();
    assert_eq!(top2, vec![600, 500]);

    assert!(store.list_cdrs(0..1000, 0).unwrap().cdrs.is_empty());
    assert!(store.list_cdrs(500..500, 10).unwrap().cdrs.is_empty());
    // A reversed range (callers compute these from user input) is empty, not an error.
    let (late, early) = (600, 100);
    assert!(store.list_cdrs(late..early, 10).unwrap().cdrs.is_empty());
    assert_eq!(
        store.list_cdrs(i64::MIN..i64::MAX, 100).unwrap().cdrs.len(),
        8
    );
}

#[test]
fn negative_and_extreme_start_times_sort_correctly() {
    let (_dir, store) = open();
    for (n, s) in [(1, i64::MIN), (2, -1), (3, 0), (4, 1), (5, i64::MAX - 1)] {
        store.put_cdr(&cdr(CallId::new(n), s)).unwrap();
    }
    let page = store.list_cdrs(i64::MIN..i64::MAX, 10).unwrap();
    let got: Vec<u64> = page.cdrs.iter().map(|c| c.id.get()).collect();
    assert_eq!(got, vec![5, 4, 3, 2, 1]);
    let page = store.list_cdrs(-1..1, 10).unwrap();
    let got: Vec<u64> = page.cdrs.iter().map(|c| c.id.get()).collect();
    assert_eq!(got, vec![3, 2]);
}

#[test]
fn replacing_a_cdr_moves_its_index_entry() {
    let (_dir, store) = open();
    let id = store.next_call_id().unwrap();
    store.put_cdr(&cdr(id, 1_000)).unwrap();
    let mut updated = cdr(id, 2_000);
    updated.cause = DisconnectCause::FarEndBusyTone;
    store.put_cdr(&updated).unwrap();
    assert_eq!(store.cdr_count().unwrap(), 1);
    assert!(store.list_cdrs(1_000..1_001, 10).unwrap().cdrs.is_empty());
    assert_eq!(
        store.list_cdrs(2_000..2_001, 10).unwrap().cdrs,
        vec![updated.clone()]
    );
    assert_eq!(store.list_cdrs(0..10_000, 10).unwrap().cdrs, vec![updated]);
}

#[test]
fn concurrent_writers_lose_nothing_and_never_share_an_id() {
    let (_dir, store) = open();
    let store: Arc<dyn Store> = Arc::new(store);
    let threads = 4;
    let per_thread = 50;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..per_thread {
                    let id = store.next_call_id().unwrap();
                    let mut c = cdr(id, 1_000 + i);
                    c.channel = t;
                    store.put_cdr(&c).unwrap();
                    store
                        .put_config(&format!("thread/{t}"), id.to_string().as_bytes())
                        .unwrap();
                    ids.push(id);
                }
                ids
            })
        })
        .collect();
    let mut all = BTreeSet::new();
    for h in handles {
        for id in h.join().unwrap() {
            assert!(all.insert(id), "{id} handed out twice");
        }
    }
    let total = (threads * per_thread as u32) as usize;
    assert_eq!(all.len(), total);
    assert_eq!(store.cdr_count().unwrap(), total);
    let listed = store.list_cdrs(0..i64::MAX, usize::MAX).unwrap();
    assert_eq!(listed.cdrs.len(), total);
    for id in all {
        assert!(store.get_cdr(id).unwrap().is_some());
    }
    assert_eq!(store.config_keys().unwrap().len(), threads as usize);
}

#[test]
fn config_bytes_and_typed_values_round_trip() {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Lines {
        ports: Vec<u32>,
        busy_tone_hz: u32,
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let lines = Lines {
        ports: vec![1, 2, 4],
        busy_tone_hz: 450,
    };
    {
        let store = SledStore::open(&path).unwrap();
        store.put_config("raw", b"\x00\xffbytes").unwrap();
        store.put_config_value("lines", &lines).unwrap();
        store.put_config("gone", b"x").unwrap();
        assert!(store.remove_config("gone").unwrap());
        assert!(!store.remove_config("gone").unwrap());
    }
    let store = SledStore::open(&path).unwrap();
    assert_eq!(store.get_config("raw").unwrap().unwrap(), b"\x00\xffbytes");
    assert_eq!(
        store.get_config_value::<Lines>("lines").unwrap(),
        Some(lines)
    );
    assert_eq!(store.get_config("gone").unwrap(), None);
    assert_eq!(store.get_config_value::<Lines>("absent").unwrap(), None);
    assert_eq!(store.config_keys().unwrap(), vec!["lines", "raw"]);
    match store.get_config_value::<Lines>("raw") {
        Err(StoreError::ConfigType { key, .. }) => assert_eq!(key, "raw"),
        other => panic!("expected ConfigType, got {other:?}"),
    }
}

#[test]
fn unencodable_config_value_is_an_error_not_a_panic() {
    let (_dir, store) = open();
    let mut m = std::collections::HashMap::new();
    m.insert(vec![1u8], 1);
    match store.put_config_value("bad", &m) {
        Err(StoreError::Encode { what, .. }) => assert!(what.contains("bad")),
        other => panic!("expected Encode, got {other:?}"),
    }
    assert_eq!(store.get_config("bad").unwrap(), None);
}
