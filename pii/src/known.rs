//! Values a session already knows as personal data, found again wherever
//! they occur as whole words.
//!
//! The values sit in Aho-Corasick automata of doubling sizes (merged like
//! a binary counter), plus a short list of the newest: adding a value costs
//! amortised O(log n) rebuilding, and a search scans the text once per
//! automaton, however many values are known. One automaton over all values
//! would have to be rebuilt at every new value.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use crate::detect::{Match, select_leftmost_longest};
use crate::kinds::PiiKind;

/// Characters that make up words: a known value is only found where it is
/// not part of a longer word.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `text[start..end]` is not part of a longer word.
pub(crate) fn on_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let value = &text[start..end];
    let first_word = value.chars().next().is_some_and(is_word_char);
    let last_word = value.chars().next_back().is_some_and(is_word_char);
    let before_ok = !first_word || !text[..start].chars().next_back().is_some_and(is_word_char);
    let after_ok = !last_word || !text[end..].chars().next().is_some_and(is_word_char);
    before_ok && after_ok
}

/// Values not yet in an automaton: searched one by one, so kept few.
const PENDING: usize = 16;

/// One automaton and the values it holds, by pattern id.
#[derive(Debug)]
struct Level {
    automaton: AhoCorasick,
    values: Vec<String>,
}

impl Level {
    fn new(values: Vec<String>) -> Level {
        // A set of plain strings always compiles (the size limits of the
        // default builder are far above what a session holds).
        // A contiguous NFA: quick to build, which matters more here than
        // the DFA's faster scans, as levels are rebuilt while values come.
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&values)
            .expect("an automaton over plain strings");
        Level { automaton, values }
    }
}

/// The known values and their kinds.
#[derive(Debug, Default)]
pub(crate) struct KnownValues {
    kinds: HashMap<String, PiiKind>,
    levels: Vec<Level>,
    pending: Vec<String>,
}

impl KnownValues {
    /// Remembers `value` as `kind`; a value known already keeps its first
    /// kind.
    pub(crate) fn insert(&mut self, value: &str, kind: &PiiKind) {
        if value.is_empty() || self.kinds.contains_key(value) {
            return;
        }
        self.kinds.insert(value.to_owned(), kind.clone());
        self.pending.push(value.to_owned());
        if self.pending.len() >= PENDING {
            self.seal();
        }
    }

    /// Moves the newest values into an automaton, so that searches do not
    /// look for them one by one; worth it before many searches in a row.
    pub(crate) fn seal(&mut self) {
        if !self.pending.is_empty() {
            let mut values = std::mem::take(&mut self.pending);
            // Merge while the newest level is no bigger than the new one.
            while self.levels.last().is_some_and(|level| level.values.len() <= values.len()) {
                let level = self.levels.pop().expect("checked");
                values.extend(level.values);
            }
            self.levels.push(Level::new(values));
        }
    }

    /// Occurrences of known values in `text` on word boundaries,
    /// leftmost-longest, without overlaps.
    pub(crate) fn find(&self, text: &str) -> Vec<Match> {
        if self.kinds.is_empty() {
            return Vec::new();
        }
        let mut found = Vec::new();
        let mut keep = |start: usize, value: &str| {
            let end = start + value.len();
            if on_word_boundaries(text, start, end)
                && let Some(kind) = self.kinds.get(value)
            {
                found.push(Match { start, end, kind: kind.clone() });
            }
        };
        for level in &self.levels {
            for m in level.automaton.find_overlapping_iter(text) {
                keep(m.start(), &level.values[m.pattern().as_usize()]);
            }
        }
        for value in &self.pending {
            for (start, _) in text.match_indices(value.as_str()) {
                keep(start, value);
            }
        }
        select_leftmost_longest(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans<'t>(known: &KnownValues, text: &'t str) -> Vec<&'t str> {
        known.find(text).iter().map(|m| &text[m.start..m.end]).collect()
    }

    #[test]
    fn whole_words_only_longest_first() {
        let mut known = KnownValues::default();
        for value in ["Anna Maria", "Anna", "Maria Street 5", "+7 912 345", "Ann"] {
            known.insert(value, &PiiKind::Person);
        }
        known.insert("Anna", &PiiKind::Address);
        known.insert("...", &PiiKind::Person);
        let text = "Anna Maria Street 5, Anna, Annabel, Maria Street 5x, call +7 912 345, a+7 912 345";
        assert_eq!(spans(&known, text), ["Anna Maria", "Anna", "+7 912 345", "+7 912 345"]);
        assert_eq!(known.find("Anna")[0].kind, PiiKind::Person);
        assert_eq!(spans(&known, "Иван Anna_ Anna"), ["Anna"]);
        assert!(KnownValues::default().find("Anna").is_empty());
    }

    #[test]
    fn boundaries() {
        assert!(on_word_boundaries("x Ann y", 2, 5));
        assert!(!on_word_boundaries("Annabel", 0, 3));
        assert!(
            on_word_boundaries("+7 1", 0, 2) && on_word_boundaries("a+7", 1, 3) && !on_word_boundaries("a+7b", 1, 3)
        );
    }

    #[test]
    fn many_values_across_levels() {
        let mut known = KnownValues::default();
        let values: Vec<String> = (0..1000).map(|i| format!("user{i}@example.com")).collect();
        for value in &values {
            known.insert(value, &PiiKind::Email);
        }
        assert!(known.levels.len() < 12 && known.pending.len() < PENDING, "{}", known.levels.len());
        for i in [0, 15, 16, 500, 999] {
            let text = format!("to {} and user{i}@example.community", values[i]);
            assert_eq!(spans(&known, &text), [values[i].as_str()], "{text}");
        }
    }
}
