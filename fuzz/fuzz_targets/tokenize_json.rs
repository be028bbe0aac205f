//! `Vault::tokenize_json` then `detokenize_json` gives back the document
//! (compared as serialised JSON), twice through one vault so that values
//! known from the first pass are tokenized in the second. The text the
//! boundary hands the guest (`tokenize_json_to_text`) parses to the
//! document `tokenize_json` builds, pass after pass.

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
    // The text form against the tree form through a vault of its own. Both
    // go through the parser, which rounds some floats: the same digits must
    // give the same document.
    let (mut writing, mut copying) = (Vault::new(), Vault::new());
    for pass in 0..2 {
        let text = writing.tokenize_json_to_text(detector(), &doc);
        let parsed: Value = serde_json::from_str(&text).expect("the text form is JSON");
        let tree = serde_json::to_string(&copying.tokenize_json(detector(), &doc)).expect("it serialises");
        let copied: Value = serde_json::from_str(&tree).expect("serialised JSON parses");
        assert_eq!(parsed, copied, "text and tree forms differ in pass {pass}; text: {text}");
        assert_eq!(writing.detokenize_json(&parsed), copying.detokenize_json(&copied));
    }
});
