//! The fuzz targets as plain tests over the committed corpus (seeds and every past finding), so
//! CI replays them without nightly or cargo-fuzz:
//! `cargo test --manifest-path fuzz-api/Cargo.toml --no-default-features`.

use std::path::Path;

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("handshake_env", clouddb_fuzz_api::handshake_env),
    ("client_response", clouddb_fuzz_api::client_response),
    ("server_request", clouddb_fuzz_api::server_request),
];

#[test]
fn corpus_replays_through_every_target() {
    for (name, f) in TARGETS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{name}: empty corpus");
        for file in files {
            let data = std::fs::read(&file).expect("corpus file");
            f(&data);
        }
    }
}
