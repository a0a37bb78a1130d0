#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| clouddb_fuzz_api::handshake_env(data));
