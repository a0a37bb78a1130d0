#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tfplugin_fuzz::json_decode(data));
