//! Resources read and write attributes through their typed models only.
//!
//! A string-keyed read (`value.get("tier")`) compiles whatever the string says and yields a
//! silent null when it is misspelt; a model field is checked against the schema at the first
//! test that touches it. This test keeps `src/resources` and `src/data_sources` free of the former outside the model
//! declarations (`model.rs` files).

use std::path::Path;

/// Calls that reach into a `tfplugin::value::Value` by attribute name.
const STRING_KEYED: &[&str] = &[
    ".get(\"",
    ".get_mut(\"",
    ".set_attr(",
    ".at_path(",
    "Value::object([",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_string_keyed_attribute_access_in_resources() {
    let mut files = Vec::new();
    for dir in ["src/resources", "src/data_sources", "src/actions"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let before = files.len();
        rust_files(&root, &mut files);
        assert!(files.len() > before, "no sources under {}", root.display());
    }
    let mut hits = Vec::new();
    for f in files.iter().filter(|f| !f.ends_with("model.rs")) {
        let text = std::fs::read_to_string(f).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            if STRING_KEYED.iter().any(|p| line.contains(p)) {
                hits.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "string-keyed attribute access outside model declarations:\n{}",
        hits.join("\n")
    );
}
