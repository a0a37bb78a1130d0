#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tfplugin_fuzz::round_trip(data));
