#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tfplugin_fuzz::msgpack_decode(data));
