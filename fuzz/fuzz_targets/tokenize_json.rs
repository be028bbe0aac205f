//! `Vault::tokenize_json` then `detokenize_json` gives back the document
//! (compared as serialised JSON), twice through one vault so that values
//! known from the first pass are tokenized in the second.

#![no_main]

use std::sync::OnceLock;

use airlock_pii::{Detector, PiiConfig, Vault};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| Detector::new(&PiiConfig::default()).expect("default config compiles"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else { return };
    let expected = serde_json::to_string(&doc).expect("a parsed document serialises");
    let mut vault = Vault::new();
    for pass in 0..2 {
        let tokenized = vault.tokenize_json(detector(), &doc);
        let restored = vault.detokenize_json(&tokenized);
        let restored = serde_json::to_string(&restored).expect("a restored document serialises");
        assert_eq!(restored, expected, "round trip failed in pass {pass}; tokenized: {tokenized}");
    }
});
