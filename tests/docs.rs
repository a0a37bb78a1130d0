//! The registry docs in `docs/` (`index.md`, `resources/*.md`) are generated from the provider's
//! schemas and `examples/` by `tfplugin::docs`. This test fails when they are out of date;
//! `UPDATE_DOCS=1 cargo test --test docs` rewrites them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use terraform_provider_clouddb::CloudDbProvider;
use tfplugin::docs::{GENERATED_MARKER, render_provider_docs, undocumented};
use tfplugin::provider::Provider;

const REGENERATE: &str = "UPDATE_DOCS=1 cargo test --test docs";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn update_requested() -> bool {
    std::env::var("UPDATE_DOCS").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Generated pages currently in `docs/` (recognised by their front-matter marker), so pages of
/// removed resources are reported too. Hand-written files in `docs/` are left alone.
fn existing_generated(docs: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut dirs = vec![PathBuf::new()];
    while let Some(rel) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(docs.join(&rel)) else {
            continue;
        };
        for e in entries.flatten() {
            let rel = rel.join(e.file_name());
            let path = docs.join(&rel);
            if path.is_dir() {
                dirs.push(rel);
            } else if path.extension().is_some_and(|x| x == "md")
                && std::fs::read_to_string(&path).is_ok_and(|s| s.contains(GENERATED_MARKER))
            {
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out
}

#[test]
fn docs_are_up_to_date() {
    let provider = CloudDbProvider::new();
    let docs = root().join("docs");
    let pages = render_provider_docs(&provider, provider.type_name(), &root().join("examples"))
        .expect("read examples/");
    let paths: Vec<&str> = pages.iter().map(|(p, _)| p.as_str()).collect();
    assert!(
        paths.contains(&"index.md") && paths.contains(&"resources/instance.md"),
        "{paths:?}"
    );

    let update = update_requested();
    let mut problems = Vec::new();
    for (rel, content) in &pages {
        let path = docs.join(rel);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(content.as_str()) {
            continue;
        }
        if update {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("create docs dir");
            std::fs::write(&path, content).expect("write doc page");
            eprintln!("updated docs/{rel}");
        } else if current.is_none() {
            problems.push(format!("docs/{rel} is missing"));
        } else {
            problems.push(format!("docs/{rel} is out of date"));
        }
    }
    let rendered: BTreeSet<&str> = paths.iter().copied().collect();
    for stale in existing_generated(&docs) {
        if rendered.contains(stale.as_str()) {
            continue;
        }
        if update {
            std::fs::remove_file(docs.join(&stale)).expect("remove stale page");
            eprintln!("removed docs/{stale}");
        } else {
            problems.push(format!(
                "docs/{stale} documents nothing the provider serves"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "generated docs differ from the provider schema and examples/:\n  {}\nrun `{REGENERATE}` and commit docs/",
        problems.join("\n  ")
    );
}

#[test]
fn every_attribute_has_a_description() {
    let provider = CloudDbProvider::new();
    let mut missing = Vec::new();
    let schema = provider.schema();
    if schema.block.description.trim().is_empty() {
        missing.push("provider".to_string());
    }
    missing.extend(
        undocumented(&schema)
            .into_iter()
            .map(|p| format!("provider.{p}")),
    );
    for r in provider.resources() {
        let schema = r.schema();
        if schema.block.description.trim().is_empty() {
            missing.push(r.type_name().to_string());
        }
        missing.extend(
            undocumented(&schema)
                .into_iter()
                .map(|p| format!("{}.{p}", r.type_name())),
        );
    }
    assert!(
        missing.is_empty(),
        "add a markdown description to: {missing:?}"
    );
}

#[test]
fn tier_description_lists_every_tier() {
    use terraform_provider_clouddb::resources::instance::{TIERS, schema};
    let s = schema();
    let tier = s.block.attr("tier").expect("tier attribute");
    for t in TIERS {
        assert!(
            tier.description.contains(&format!("`{t}`")),
            "the `tier` description does not mention {t}; update it in src/resources/instance.rs"
        );
    }
}
