//! The published JSON Schema (docs/flow.schema.json) accepts the shipped samples and rejects
//! a broken flow. Checked with Python's `jsonschema` (Draft 2020-12) on the TOML read by
//! `tomllib`, so the schema is tested by an implementation other than ours.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const CHECK: &str = r#"
import json, sys, tomllib, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
for path in sys.argv[2:]:
    data = tomllib.load(open(path, "rb"))
    errs = sorted(v.iter_errors(data), key=lambda e: list(e.path))
    for e in errs:
        print(f"{path}: {list(e.path)}: {e.message}")
sys.exit(0)
"#;

/// The tools' Python environment (`tools/models/pyenv.sh`, which `tools/setup-deps.sh`
/// brings up with `jsonschema` from `requirements.txt`).
fn python() -> String {
    let out = Command::new(root().join("tools/models/pyenv.sh"))
        .output()
        .expect("tools/models/pyenv.sh runs");
    assert!(
        out.status.success(),
        "tools/models/pyenv.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn check(files: &[PathBuf]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(CHECK)
        .arg(root().join("docs/flow.schema.json"))
        .args(files)
        .output()
        .expect("the tools' python (tools/models/pyenv.sh) runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn shipped_samples_match_the_schema() {
    let out = check(&[
        root().join("flows/hospital.toml"),
        root().join("flows/bank.toml"),
    ]);
    assert_eq!(out, "");
}

#[test]
fn the_schema_rejects_a_broken_flow() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(
        &f,
        "schema = 2\nname = \"x\"\ndid = []\nstart = \"a\"\n[nodes.a]\ntype = \"collect\"\n",
    )
    .unwrap();
    let out = check(&[f]);
    assert!(
        out.contains("[]: 2 was expected") || out.contains("['schema']: 1 was expected"),
        "{out}"
    );
    assert!(out.contains("'retries' is a required property"), "{out}");
}
