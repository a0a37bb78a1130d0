#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tfplugin_fuzz::type_json(data));
