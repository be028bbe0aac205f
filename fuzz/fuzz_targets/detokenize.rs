//! `Vault::detokenize_text` (and `kinds_in`, `detokenize_json`) on arbitrary
//! input with a vault that has minted tokens: no panic, and text without `[`
//! comes back unchanged.

#![no_main]

use std::sync::OnceLock;

use airlock_pii::{Detector, PiiConfig, Vault};
use libfuzzer_sys::fuzz_target;

/// Fixed text that mints e-mail, phone, card, IBAN, IP and lookalike tokens.
const SEED_TEXT: &str = "ivan@example.com, anna@example.org, +7 912 345 67 89, (555) 234-5678, \
    4111 1111 1111 1111, DE89370400440532013000, 192.168.0.1, typed [EMAIL_1]";

fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| Detector::new(&PiiConfig::default()).expect("default config compiles"))
}

fn vault() -> &'static Vault {
    static VAULT: OnceLock<Vault> = OnceLock::new();
    VAULT.get_or_init(|| {
        let mut vault = Vault::new();
        let doc = serde_json::json!({"name": "Ivan Petrov", "password": 1234, "card": 4111111111111111u64});
        vault.tokenize_json(detector(), &doc);
        let tokenized = vault.tokenize_text(detector(), SEED_TEXT).into_owned();
        assert_eq!(vault.detokenize_text(&tokenized), SEED_TEXT);
        vault
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let vault = vault();
    let restored = vault.detokenize_text(&text);
    if !text.contains('[') {
        assert_eq!(restored, text, "text without `[` changed");
    }
    vault.kinds_in(&text);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        vault.detokenize_json(&value);
    }
});
