//! The example in docs/flows.md (its "Example" section) is a valid flow.

use std::path::Path;
use yingda_flow::flow::{validate, RealFs};

#[test]
fn docs_example_validates() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/flows.md"))
            .unwrap();
    let example = doc.find("## Example").expect("an Example section");
    let start =
        example + doc[example..].find("```toml\n").expect("a toml example") + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let flow = validate(&doc[start..end], "docs/flows.md", Path::new("."), &RealFs)
        .unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(flow.file.name, "demo");
}
