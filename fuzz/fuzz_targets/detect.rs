//! `Detector::find` on arbitrary text: spans are in bounds, on char
//! boundaries, sorted and disjoint, and the result is deterministic.

#![no_main]

use std::sync::OnceLock;

use airlock_pii::{Detector, PiiConfig};
use libfuzzer_sys::fuzz_target;

fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| Detector::new(&PiiConfig::default()).expect("default config compiles"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let found = detector().find(&text);
    let mut previous_end = 0;
    for m in &found {
        assert!(m.start < m.end && m.end <= text.len(), "span {}..{} out of bounds ({})", m.start, m.end, text.len());
        assert!(
            text.is_char_boundary(m.start) && text.is_char_boundary(m.end),
            "span {}..{} splits a char",
            m.start,
            m.end
        );
        assert!(
            m.start >= previous_end,
            "span {}..{} overlaps or precedes the one ending at {previous_end}",
            m.start,
            m.end
        );
        previous_end = m.end;
    }
    assert_eq!(detector().find(&text), found, "find is not deterministic");
});
