//! The project's own proto files must describe exactly the same wire contract
//! as the upstream reference copies in `../shared/reference/proto/`: packages,
//! services, methods (types and streaming), messages, fields (name, number,
//! type, label, optional/oneof membership, deprecation) and enums. Comments and
//! headers may differ. Skipped (with a note) where the reference folder is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorSet};

fn ours() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto")
}

fn reference() -> Option<PathBuf> {
    let candidates = [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/proto"),
        PathBuf::from("/work/shared/reference/proto"),
    ];
    candidates
        .into_iter()
        .find(|p| p.join("tfplugin6-latest.proto").exists())
}

type Shape = BTreeMap<String, String>;

fn walk_enum(prefix: &str, e: &EnumDescriptorProto, out: &mut Shape) {
    let name = format!("{prefix}.{}", e.name());
    let values: Vec<String> = e
        .value
        .iter()
        .map(|v| format!("{}={}", v.name(), v.number()))
        .collect();
    out.insert(format!("enum {name}"), values.join(","));
}

fn walk_message(prefix: &str, m: &DescriptorProto, out: &mut Shape) {
    let name = format!("{prefix}.{}", m.name());
    let oneofs: Vec<&str> = m.oneof_decl.iter().map(|o| o.name()).collect();
    out.insert(format!("message {name}"), format!("oneofs={oneofs:?}"));
    for f in &m.field {
        let deprecated = f
            .options
            .as_ref()
            .and_then(|o| o.deprecated)
            .unwrap_or(false);
        out.insert(
            format!("field {name}.{}", f.name()),
            format!(
                "number={} type={:?} label={:?} type_name={} oneof={:?} proto3_optional={:?} deprecated={}",
                f.number(),
                f.r#type(),
                f.label(),
                f.type_name(),
                f.oneof_index,
                f.proto3_optional,
                deprecated
            ),
        );
    }
    for nested in &m.nested_type {
        walk_message(&name, nested, out);
    }
    for e in &m.enum_type {
        walk_enum(&name, e, out);
    }
}

fn shape(set: &FileDescriptorSet, file: &str) -> Shape {
    let mut out = Shape::new();
    let Some(fd) = set.file.iter().find(|f| f.name() == file) else {
        panic!("{file} not in descriptor set");
    };
    let pkg = format!(".{}", fd.package());
    out.insert("package".into(), pkg.clone());
    out.insert("syntax".into(), fd.syntax().to_string());
    let deps: Vec<&str> = fd.dependency.iter().map(String::as_str).collect();
    out.insert("imports".into(), format!("{deps:?}"));
    for m in &fd.message_type {
        walk_message(&pkg, m, &mut out);
    }
    for e in &fd.enum_type {
        walk_enum(&pkg, e, &mut out);
    }
    for s in &fd.service {
        for m in &s.method {
            out.insert(
                format!("rpc {pkg}.{}/{}", s.name(), m.name()),
                format!(
                    "{}{} -> {}{}",
                    if m.client_streaming() { "stream " } else { "" },
                    m.input_type(),
                    if m.server_streaming() { "stream " } else { "" },
                    m.output_type()
                ),
            );
        }
    }
    out
}

fn compare(our_file: &str, ref_file: &str) {
    let Some(ref_dir) = reference() else {
        eprintln!("note: reference protos not found; skipping {our_file}");
        return;
    };
    let ours_set = protox::compile([our_file], [ours()]).expect("compile ours");
    let ref_set = protox::compile([ref_file], [ref_dir]).expect("compile reference");
    let a = shape(&ours_set, our_file);
    let b = shape(&ref_set, ref_file);
    let mut diffs = Vec::new();
    for (k, v) in &b {
        match a.get(k) {
            None => diffs.push(format!("missing in ours: {k} = {v}")),
            Some(w) if w != v => diffs.push(format!("differs: {k}: ours {w} / reference {v}")),
            _ => {}
        }
    }
    for k in a.keys().filter(|k| !b.contains_key(*k)) {
        diffs.push(format!("extra in ours: {k}"));
    }
    assert!(
        diffs.is_empty(),
        "{our_file} vs {ref_file}:\n{}",
        diffs.join("\n")
    );
    assert!(a.len() > 3, "suspiciously small shape for {our_file}");
}

#[test]
fn tfplugin6_matches_reference_6_11() {
    compare("tfplugin6.proto", "tfplugin6-latest.proto");
}

#[test]
fn grpc_controller_matches_reference() {
    compare("grpc_controller.proto", "grpc_controller.proto");
}

#[test]
fn grpc_stdio_matches_reference() {
    compare("grpc_stdio.proto", "grpc_stdio.proto");
}

#[test]
fn grpc_broker_matches_reference() {
    compare("grpc_broker.proto", "grpc_broker.proto");
}

#[test]
fn our_files_carry_no_upstream_headers() {
    for f in [
        "tfplugin6.proto",
        "grpc_controller.proto",
        "grpc_stdio.proto",
        "grpc_broker.proto",
        "grpc/health/v1/health.proto",
    ] {
        let text = std::fs::read_to_string(ours().join(f)).expect("read");
        assert!(!text.contains("Copyright"), "{f}");
        assert!(!text.contains("SPDX"), "{f}");
    }
}
