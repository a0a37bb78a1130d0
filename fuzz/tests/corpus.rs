//! The fuzz targets as plain tests: every file of `corpus/<target>/` (the seeds plus what
//! fuzzing kept, including every past finding's reproducer) is fed to its target function,
//! so CI replays the corpus without nightly or cargo-fuzz:
//!
//! ```sh
//! cargo test --manifest-path fuzz/Cargo.toml --no-default-features
//! ```
//!
//! `write_seeds` (ignored) regenerates the `seed-*` files from realistic Terraform traffic
//! encoded with our own encoders: `cargo test ... -- --ignored write_seeds`.

use std::path::{Path, PathBuf};
use tfplugin_fuzz::schemas::{self, idx};
use tfplugin_fuzz::value::{Number, Refinements, Type, Value, json, msgpack, type_json};

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("msgpack_decode", tfplugin_fuzz::msgpack_decode),
    ("json_decode", tfplugin_fuzz::json_decode),
    ("raw_state", tfplugin_fuzz::raw_state),
    ("type_json", tfplugin_fuzz::type_json),
    ("round_trip", tfplugin_fuzz::round_trip),
];

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}

#[test]
fn corpus_replays_through_every_target() {
    for (name, f) in TARGETS {
        let dir = corpus_dir(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        files.sort();
        assert!(
            files.iter().any(|p| p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))),
            "{name}: no seeds"
        );
        for p in &files {
            let data = std::fs::read(p).expect("read corpus file");
            let r = std::panic::catch_unwind(|| f(&data));
            assert!(r.is_ok(), "{name}: {} fails", p.display());
        }
        eprintln!("{name}: {} inputs", files.len());
    }
}

#[test]
fn schema_types_parse() {
    assert_eq!(schemas::all().len(), 8);
    assert!(schemas::max_object_width(schemas::pick(idx::INSTANCE)) >= 21);
}

// ------------------------------------------------------------------ seeds

fn s(x: &str) -> Value {
    Value::from(x)
}

fn num(x: &str) -> Value {
    Value::Number(Number::parse(x).expect("number"))
}

fn refined(r: Refinements) -> Value {
    Value::refined_unknown(r)
}

/// A `clouddb_instance` value as Terraform sends it: the planned state of a create (computed
/// attributes unknown, some refined), or the state after apply.
fn instance(applied: bool) -> Value {
    let unknown_str = |prefix: Option<&str>| {
        refined(Refinements {
            not_null: true,
            string_prefix: prefix.map(str::to_string),
            ..Refinements::default()
        })
    };
    let known = |v: Value, u: Value| if applied { v } else { u };
    Value::object([
        ("admin_password", s("s3cr3t-Pa55")),
        ("admin_username", s("dbadmin")),
        ("allow_major_version_upgrade", Value::Bool(false)),
        (
            "backup",
            Value::object([
                ("enabled", Value::Bool(true)),
                ("retention_days", Value::int(14)),
                ("start_time", s("02:30")),
            ]),
        ),
        (
            "created_at",
            known(s("2025-01-02T03:04:05Z"), Value::unknown()),
        ),
        ("deletion_protection", Value::Bool(false)),
        (
            "endpoint_host",
            known(
                s("app-db.demo.clouddb.internal"),
                unknown_str(Some("app-db.")),
            ),
        ),
        (
            "endpoint_port",
            known(
                Value::int(5432),
                refined(Refinements {
                    not_null: true,
                    number_lower: Some((Number::from(1i64), true)),
                    number_upper: Some((Number::from(65535i64), true)),
                    ..Refinements::default()
                }),
            ),
        ),
        ("engine", s("postgres")),
        ("engine_version", s("16")),
        (
            "engine_version_actual",
            known(s("16.4"), unknown_str(Some("16"))),
        ),
        ("final_backup_name", Value::Null),
        ("high_availability", Value::Bool(false)),
        ("id", known(s("inst-0f3a9c"), unknown_str(None))),
        (
            "labels",
            Value::map([("env", s("prod")), ("team", s("data"))]),
        ),
        ("name", s("app-db")),
        ("skip_final_backup", Value::Bool(false)),
        ("state", known(s("READY"), Value::unknown())),
        ("storage_gb", Value::int(20)),
        ("tier", s("db-small")),
        (
            "timeouts",
            Value::object([
                ("create", s("20m")),
                ("delete", Value::Null),
                ("update", Value::Null),
            ]),
        ),
    ])
}

fn provider_config(token_known: bool) -> Value {
    Value::object([
        ("endpoint", s("http://127.0.0.1:8080")),
        ("max_retries", Value::int(3)),
        ("poll_interval", Value::Null),
        ("project", s("demo")),
        ("request_timeout", s("30s")),
        (
            "token",
            if token_known {
                s("tok-123")
            } else {
                Value::unknown()
            },
        ),
    ])
}

fn vector() -> Value {
    Value::object([
        ("computed_num", Value::Null),
        ("dyn", Value::object([("k", Value::int(1))])),
        ("id", Value::Null),
        ("items", Value::Set(vec![s("x"), s("y")])),
        ("name", s("n1")),
        (
            "rule",
            Value::List(vec![Value::object([("port", Value::int(80))])]),
        ),
        ("secret", Value::Null),
        ("tags", Value::map([("a", s("1")), ("b", s("2"))])),
    ])
}

fn nested(with_unknowns: bool) -> Value {
    let rule = |cidr: &str, ports: &[i64]| {
        Value::object([
            ("cidr", s(cidr)),
            (
                "ports",
                Value::Set(ports.iter().map(|p| Value::int(*p)).collect()),
            ),
            ("tags", Value::map([("k", s("v"))])),
        ])
    };
    let mut rules = vec![rule("10.0.0.0/8", &[22, 443]), rule("0.0.0.0/0", &[])];
    if with_unknowns {
        rules.push(refined(Refinements {
            not_null: true,
            ..Refinements::default()
        }));
    }
    Value::object([
        ("d", Value::List(vec![s("a"), s("b")])),
        (
            "l",
            Value::List(vec![Value::List(vec![s("x")]), Value::List(vec![])]),
        ),
        (
            "m",
            Value::map([
                (
                    "big",
                    Value::List(vec![num("123456789012345678901234567890.5")]),
                ),
                (
                    "small",
                    Value::List(vec![num("2.5"), num("-1"), num("1e-300")]),
                ),
            ]),
        ),
        (
            "n",
            if with_unknowns {
                refined(Refinements {
                    number_lower: Some((Number::zero(), false)),
                    ..Refinements::default()
                })
            } else {
                num("18446744073709551615")
            },
        ),
        ("rules", Value::Set(rules)),
        (
            "t",
            Value::Tuple(vec![
                s("t"),
                Value::Bool(true),
                if with_unknowns {
                    refined(Refinements {
                        length_lower: Some(1),
                        length_upper: Some(3),
                        ..Refinements::default()
                    })
                } else {
                    Value::Set(vec![s("only")])
                },
            ]),
        ),
    ])
}

fn v0_state_json() -> &'static str {
    r#"{"id":"db1","name":"db1","engine":"postgres","engine_version":"16","tier":"db-small","storage_gb":"20","high_availability":false,"admin_username":"dbadmin","admin_password":"pw","labels":{"a":"b"},"deletion_protection":true,"backup_enabled":false,"backup_start_time":"04:30","backup_retention_days":14,"endpoint":"db1.acc.internal:5432","state":"READY","created_at":"t","debug_blob":"x"}"#
}

fn with_sel(sel: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![sel];
    v.extend_from_slice(body);
    v
}

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = corpus_dir(target);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join(format!("seed-{name}")), data).expect("write seed");
}

#[test]
#[ignore = "regenerates fuzz/corpus/*/seed-*; run by hand"]
fn write_seeds() {
    let values: Vec<(&str, u8, Value)> = vec![
        ("instance-plan", idx::INSTANCE, instance(false)),
        ("instance-state", idx::INSTANCE, instance(true)),
        ("provider-config", idx::PROVIDER, provider_config(true)),
        (
            "provider-config-unknown",
            idx::PROVIDER,
            provider_config(false),
        ),
        ("vector", idx::VECTOR, vector()),
        ("nested", idx::NESTED, nested(false)),
        ("nested-unknowns", idx::NESTED, nested(true)),
        ("dynamic-object", idx::DYNAMIC, instance(true)),
        (
            "set-of-string",
            idx::SET_OF_STRING,
            Value::Set(vec![s("b"), s("a"), s("a")]),
        ),
        (
            "list-of-number",
            idx::LIST_OF_NUMBER,
            Value::List(vec![num("0"), num("-7"), num("0.1"), num("1e4000")]),
        ),
    ];
    for (name, i, v) in &values {
        let ty: &Type = schemas::pick(*i);
        let mp = msgpack::encode(ty, v).expect("msgpack seed");
        write("msgpack_decode", name, &with_sel(*i, &mp));
        write(
            "round_trip",
            &format!("{name}-msgpack"),
            &with_sel(*i << 1, &mp),
        );
        if let Ok(j) = json::encode(ty, v) {
            write("json_decode", name, &with_sel(*i, &j));
            write(
                "round_trip",
                &format!("{name}-json"),
                &with_sel(*i << 1 | 1, &j),
            );
            write("raw_state", &format!("{name}-json"), &with_sel(*i << 1, &j));
        }
    }
    // the Terraform 1.11.4 vector, byte for byte as Terraform sent it
    let hex = "88ac636f6d70757465645f6e756dc0a364796e92c4195b226f626a656374222c7b226b223a226e756d626572227d5d81a16b01a26964c0a56974656d7392a178a179a46e616d65a26e31a472756c659181a4706f727450a6736563726574c0a47461677382a161a131a162a132";
    let tf: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    write(
        "msgpack_decode",
        "terraform-1.11.4",
        &with_sel(idx::VECTOR, &tf),
    );
    // lenient JSON as older states have it
    write(
        "json_decode",
        "lenient",
        &with_sel(
            idx::PROVIDER,
            br#"{"endpoint":"http://x","max_retries":"5","token":7,"project":true}"#,
        ),
    );
    // stored state: schema version 0 JSON, and flatmap (pre-0.12) of v0 and nested types
    write(
        "raw_state",
        "v0-json",
        &with_sel(idx::INSTANCE_V0 << 1, v0_state_json().as_bytes()),
    );
    write(
        "raw_state",
        "v0-flatmap",
        &with_sel(
            idx::INSTANCE_V0 << 1 | 1,
            br#"{"id":"db1","name":"db1","storage_gb":"20","labels.%":"2","labels.a":"b","labels.c":"d","backup_enabled":"true","backup_retention_days":"7","endpoint":"db1:5432"}"#,
        ),
    );
    write(
        "raw_state",
        "nested-flatmap",
        &with_sel(
            idx::NESTED << 1 | 1,
            br#"{"n":"1.5","l.#":"2","l.0.#":"1","l.0.0":"x","l.1.#":"0","m.%":"1","m.k.#":"1","m.k.0":"3","rules.#":"1","rules.4711.cidr":"10.0.0.0/8","rules.4711.ports.#":"2","rules.4711.ports.1":"22","rules.4711.ports.2":"443","rules.4711.tags.%":"0"}"#,
        ),
    );
    write(
        "raw_state",
        "instance-flatmap",
        &with_sel(
            idx::INSTANCE << 1 | 1,
            br#"{"id":"inst-1","name":"app-db","backup.enabled":"true","backup.retention_days":"14","timeouts.create":"20m","labels.%":"1","labels.env":"prod","endpoint_port":"5432"}"#,
        ),
    );
    // reproducers of the findings (docs/fuzzing.md)
    let dynamic = |ty: &str, value: &[u8]| {
        let mut v = vec![0x92, 0xc4, ty.len() as u8];
        v.extend_from_slice(ty.as_bytes());
        v.extend_from_slice(value);
        v
    };
    let refined = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
    write(
        "round_trip",
        "finding-1-refined-in-dynamic",
        &with_sel(idx::DYNAMIC << 1, &dynamic("\"string\"", &refined)),
    );
    let mut mixed = vec![0x92];
    mixed.extend(dynamic("\"string\"", &[0xa1, b'a']));
    mixed.extend(dynamic("\"number\"", &[0x01]));
    write(
        "round_trip",
        "finding-2-mixed-dynamic-list",
        &with_sel(
            idx::DYNAMIC << 1,
            &dynamic("[\"list\",\"dynamic\"]", &mixed),
        ),
    );
    let attrs: Vec<String> = (0..200).map(|i| format!("\"a{i}\":\"bool\"")).collect();
    let ty = format!("[\"list\",[\"object\",{{{}}}]]", attrs.join(","));
    let mut wide = vec![0x92, 0xc5];
    wide.extend_from_slice(&(ty.len() as u16).to_be_bytes());
    wide.extend_from_slice(ty.as_bytes());
    wide.extend_from_slice(&[0xdc, 0x07, 0xd0]);
    wide.extend(std::iter::repeat_n(0x80, 2000));
    write(
        "msgpack_decode",
        "finding-3-wide-dynamic-object-fill",
        &with_sel(idx::DYNAMIC, &wide),
    );
    // type JSON: every schema, plus optional attributes and tuples
    for (i, t) in schemas::all().iter().enumerate() {
        write("type_json", &format!("schema-{i}"), &type_json::to_bytes(t));
    }
    write(
        "type_json",
        "optional-tuple",
        br#"["tuple",[["object",{"a":"string","b":["list","number"]},["b"]],["map","dynamic"],["set","bool"]]]"#,
    );
}
