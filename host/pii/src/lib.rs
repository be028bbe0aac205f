//! The PII engine: finds personal data in tool results and replaces it with
//! tokens such as `[EMAIL_1]` before guest code or the model sees it.
//!
//! - [`Detector`] (built from a [`PiiConfig`]) finds e-mails (ASCII and
//!   internationalised), phones, payment cards, IBANs, US SSNs, IP
//!   addresses, Russian INN (with or without a KPP) and SNILS numbers and
//!   secrets in text, validating checksums so that order numbers, dates,
//!   Unix times, versions, UUIDs and prices survive; and it classifies
//!   JSON values as person names, addresses or secrets by their key. It is
//!   cheap to build (its patterns are compiled once per process, on first
//!   use) and to clone (clones share everything).
//! - [`Vault`] (one per session, in memory) mints tokens `[KIND_N]`, gives
//!   the same value the same token, tokenizes every later occurrence of a
//!   known value, and turns its own tokens back into values losslessly:
//!   `detokenize_json(tokenize_json(x)) == x` for any JSON value.
//! - [`FlowPolicy`] says which servers may receive which kinds;
//!   [`PiiSettings`] bundles it with the [`PiiConfig`] and the on switch.
//!
//! ```
//! use airlock_pii::{Detector, PiiConfig, Vault};
//!
//! let detector = Detector::new(&PiiConfig::default()).unwrap();
//! let mut vault = Vault::new();
//! let doc = serde_json::json!({"name": "Ivan Petrov", "email": "ivan@example.com"});
//! let safe = vault.tokenize_json(&detector, &doc);
//! assert_eq!(safe, serde_json::json!({"name": "[PERSON_1]", "email": "[EMAIL_1]"}));
//! assert_eq!(vault.detokenize_json(&safe), doc);
//! ```

#![warn(missing_docs)]

pub mod checksums;
mod detect;
mod kinds;
mod known;
mod policy;
mod stream;
mod vault;

pub use detect::{Detector, Match, PiiConfig, PiiConfigError};
pub use kinds::PiiKind;
pub use policy::{ANY_SERVER, FlowPolicy, FlowRule, PiiSettings};
pub use vault::{Vault, VaultEntry};
