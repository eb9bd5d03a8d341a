//! Versioned activation: atomic switch, running calls keep their version, history, rollback,
//! invalid flows refused with the validator's errors, state survives reopening the store.

use std::path::PathBuf;
use std::sync::Arc;
use yingda_flow::activation::{ActivationError, Activations};
use yingda_flow::flow::RealFs;
use yingda_flow::interp::{Breakers, Call, Event};
use yingda_store::{SledStore, Store};

fn flows_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../flows")
}

fn bank() -> String {
    std::fs::read_to_string(flows_dir().join("bank.toml")).unwrap()
}

fn open(dir: &std::path::Path) -> Activations {
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir).unwrap());
    let (a, problems) = Activations::open(store, flows_dir(), Box::new(RealFs)).unwrap();
    assert!(problems.is_empty());
    a
}

#[test]
fn activate_history_rollback_and_running_calls_keep_their_version() {
    let tmp = tempfile::tempdir().unwrap();
    let acts = open(tmp.path());
    assert_eq!(acts.activate(&bank(), "bank.toml", 1000).unwrap(), 1);
    let (v, flow1) = acts.for_did("95500").unwrap();
    assert_eq!(v, 1);
    let mut call = Call::new(Arc::clone(&flow1), Arc::new(Breakers::default()));
    call.handle(Event::CallStarted {
        at_ms: 0,
        caller: String::new(),
        did: "95500".into(),
    });

    let v2src = bank().replace("感谢您的来电，再见。", "谢谢，再见。");
    assert_eq!(acts.activate(&v2src, "bank.toml", 2000).unwrap(), 2);
    let (v, flow2) = acts.current("bank").unwrap();
    assert_eq!(v, 2);
    assert!(flow2.source.contains("谢谢，再见。"));
    assert!(
        Arc::ptr_eq(call.flow(), &flow1),
        "the running call keeps version 1"
    );
    assert!(!call.flow().source.contains("谢谢，再见。"));

    let hist = acts.history("bank").unwrap();
    assert_eq!(
        hist.iter()
            .map(|r| (r.version, r.activated_at_ms))
            .collect::<Vec<_>>(),
        [(1, 1000), (2, 2000)]
    );
    acts.rollback("bank", 1).unwrap();
    assert_eq!(acts.current("bank").unwrap().0, 1);
    assert!(matches!(
        acts.rollback("bank", 7),
        Err(ActivationError::NoSuchVersion { version: 7, .. })
    ));
    drop(acts);

    // Reopened: version 1 is still the active one, history intact.
    let acts = open(tmp.path());
    assert_eq!(acts.current("bank").unwrap().0, 1);
    assert_eq!(acts.history("bank").unwrap().len(), 2);
}

#[test]
fn invalid_flow_is_refused_and_the_old_version_stays() {
    let tmp = tempfile::tempdir().unwrap();
    let acts = open(tmp.path());
    acts.activate(&bank(), "bank.toml", 1).unwrap();
    let broken = bank().replace("next = \"card\"", "next = \"kard\"");
    let err = acts.activate(&broken, "bank.toml", 2).unwrap_err();
    let ActivationError::Invalid(errors) = &err else {
        panic!("{err}")
    };
    assert!(
        errors[0].to_string().contains("unknown target node `kard`"),
        "{errors:?}"
    );
    assert!(err.to_string().starts_with("flow is invalid ("));
    assert_eq!(acts.current("bank").unwrap().0, 1);
    assert_eq!(
        acts.history("bank").unwrap().len(),
        1,
        "nothing stored for the refused flow"
    );
}

#[test]
fn a_number_served_by_another_flow_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let acts = open(tmp.path());
    acts.activate(&bank(), "bank.toml", 1).unwrap();
    let clash = bank().replace("name = \"bank\"", "name = \"bank2\"");
    let err = acts.activate(&clash, "bank2.toml", 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "number 95500 is already served by flow `bank`"
    );
}
