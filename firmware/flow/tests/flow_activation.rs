//! Versioned activation: atomic switch, running calls keep their version, history, rollback,
//! invalid flows refused with the validator's errors, state survives reopening the store.

use std::path::PathBuf;
use std::sync::Arc;
use yingda_dsp::wav;
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

/// A private copy of the sample flows, so a test can edit and delete their files.
fn copy_flows(to: &std::path::Path) {
    for sub in ["", "grammars", "prompts"] {
        std::fs::create_dir_all(to.join(sub)).unwrap();
        for e in std::fs::read_dir(flows_dir().join(sub)).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), to.join(sub).join(e.file_name())).unwrap();
            }
        }
    }
}

#[test]
fn a_version_keeps_its_prompts_and_grammars_as_they_were_at_activation() {
    let tmp = tempfile::tempdir().unwrap();
    let flows = tmp.path().join("flows");
    copy_flows(&flows);
    let db = tmp.path().join("db");
    let open_here = || {
        let store: Arc<dyn Store> = Arc::new(SledStore::open(&db).unwrap());
        Activations::open(store, flows.clone(), Box::new(RealFs)).unwrap()
    };
    let wav = flows.join("prompts/bank-welcome.wav");
    let original = std::fs::read(&wav).unwrap();
    let (acts, _) = open_here();
    assert_eq!(acts.activate(&bank(), "bank.toml", 1000).unwrap(), 1);
    let rec = &acts.history("bank").unwrap()[0];
    assert!(
        rec.files.keys().any(|k| k.ends_with("bank-welcome.wav"))
            && rec.files.keys().any(|k| k.ends_with("bank-menu.txt")),
        "{:?}",
        rec.files
    );

    // A greeting recorded at the wrong rate is refused; version 1 stays.
    let v2 = bank().replace("感谢您的来电，再见。", "谢谢，再见。");
    let wide = wav::write(16000, wav::Encoding::Pcm16, &[100; 16000]);
    std::fs::write(&wav, &wide).unwrap();
    let err = acts.activate(&v2, "bank.toml", 1500).unwrap_err();
    assert!(err.to_string().contains("8000 Hz mono"), "{err}");
    assert_eq!(acts.current("bank").unwrap().0, 1);
    // The admin records a new greeting and activates version 2 ...
    let greeting = wav::write(8000, wav::Encoding::Pcm16, &[100; 8000]);
    std::fs::write(&wav, &greeting).unwrap();
    assert_eq!(acts.activate(&v2, "bank.toml", 2000).unwrap(), 2);
    assert_eq!(acts.file("bank", 2, &wav).unwrap().unwrap(), greeting);
    // ... then deletes the prompt and the grammar from disk by mistake.
    std::fs::remove_file(&wav).unwrap();
    std::fs::remove_file(flows.join("grammars/bank-menu.txt")).unwrap();

    // Version 1 still rolls back, with its own greeting; a restart still serves it.
    acts.rollback("bank", 1).unwrap();
    assert_eq!(acts.file("bank", 1, &wav).unwrap().unwrap(), original);
    drop(acts);
    let (acts, problems) = open_here();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(acts.current("bank").unwrap().0, 1);
    assert_eq!(acts.file("bank", 1, &wav).unwrap().unwrap(), original);
    assert_eq!(
        acts.file("bank", 1, &flows.join("prompts/nope.wav"))
            .unwrap(),
        None
    );

    // A new version is validated against the live files: the deleted grammar is an error.
    let err = acts.activate(&v2, "bank.toml", 3000).unwrap_err();
    assert!(err.to_string().contains("bank-menu.txt"), "{err}");
    assert_eq!(acts.current("bank").unwrap().0, 1);
}

#[test]
fn a_damaged_stored_copy_is_reported_not_served() {
    let tmp = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(tmp.path()).unwrap());
    let (acts, _) = Activations::open(Arc::clone(&store), flows_dir(), Box::new(RealFs)).unwrap();
    acts.activate(&bank(), "bank.toml", 1000).unwrap();
    let rec = &acts.history("bank").unwrap()[0];
    let (path, sha) = rec.files.iter().find(|(k, _)| k.ends_with(".wav")).unwrap();
    store
        .put_config(&format!("flow-file/{sha}"), b"tampered")
        .unwrap();
    let err = acts
        .file("bank", 1, std::path::Path::new(path))
        .unwrap_err();
    assert!(
        matches!(err, ActivationError::File { .. }) && err.to_string().contains("sha256"),
        "{err}"
    );
}

#[test]
fn re_reading_an_unchanged_flow_stores_no_new_version() {
    let tmp = tempfile::tempdir().unwrap();
    let flows = tmp.path().join("flows");
    copy_flows(&flows);
    let store: Arc<dyn Store> = Arc::new(SledStore::open(tmp.path().join("db")).unwrap());
    let (acts, _) = Activations::open(store, flows.clone(), Box::new(RealFs)).unwrap();
    assert_eq!(
        acts.activate_if_changed(&bank(), "bank.toml", 1).unwrap(),
        Some(("bank".into(), 1))
    );
    assert_eq!(
        acts.activate_if_changed(&bank(), "bank.toml", 2).unwrap(),
        None
    );
    // A new recording of a prompt, same text: a new version.
    let wav = flows.join("prompts/bank-welcome.wav");
    std::fs::write(&wav, wav::write(8000, wav::Encoding::Pcm16, &[9; 8000])).unwrap();
    assert_eq!(
        acts.activate_if_changed(&bank(), "bank.toml", 3).unwrap(),
        Some(("bank".into(), 2))
    );
    // A rollback stays in force when the unchanged file is read again (a restart) ...
    acts.rollback("bank", 1).unwrap();
    assert_eq!(
        acts.activate_if_changed(&bank(), "bank.toml", 4).unwrap(),
        None
    );
    assert_eq!(acts.current("bank").unwrap().0, 1);
    // ... until the file changes.
    let v3 = bank().replace("感谢您的来电，再见。", "谢谢，再见。");
    assert_eq!(
        acts.activate_if_changed(&v3, "bank.toml", 5).unwrap(),
        Some(("bank".into(), 3))
    );
    assert_eq!(acts.history("bank").unwrap().len(), 3);
}
