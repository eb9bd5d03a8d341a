//! Runs the installer's own tests (`tools/models/test_install.py`: fake wheels and npm
//! tarballs, split parts, size/sha256 mismatches, no half-written files) so the workspace
//! test suite covers `tools/models/install.py`. No network: the tests use --offline-cache.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn install_py_unit_tests_pass() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("python3")
        .arg("tools/models/test_install.py")
        .current_dir(&root)
        .output()
        .expect("python3 must be installed to test tools/models/install.py");
    assert!(
        out.status.success(),
        "tools/models/test_install.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
