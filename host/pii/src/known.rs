//! Values a session already knows as personal data, found again wherever
//! they occur as whole words.
//!
//! Indexed by one word of each value, so that adding a value costs O(1)
//! and searching a text costs one hash lookup per word in it, however many
//! values are known (an automaton over all of them would have to be
//! rebuilt as values come). The word is the one whose bucket is smallest
//! when the value arrives, so values that share a domain or a country code
//! spread over their other words.

use std::collections::HashMap;

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

/// The byte ranges of the words of `text`.
fn words(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = chars.by_ref().find(|(_, c)| is_word_char(*c))?;
        let mut end = text.len();
        while let Some(&(i, c)) = chars.peek() {
            if !is_word_char(c) {
                end = i;
                break;
            }
            chars.next();
        }
        Some((start, end))
    })
}

/// A known value: the whole text, where its key word starts in it, and its
/// kind.
#[derive(Debug, Clone)]
struct Entry {
    value: String,
    key_at: usize,
    kind: PiiKind,
}

/// A bucket this small is cheap to scan at every occurrence of its word.
const SMALL_BUCKET: usize = 8;

/// Which (first byte, length) pairs the index words have: most words of a
/// text are ruled out by one bit test instead of a hash lookup.
#[derive(Debug)]
struct WordFilter {
    bits: Box<[u64; 256]>,
}

impl Default for WordFilter {
    fn default() -> Self {
        WordFilter { bits: Box::new([0; 256]) }
    }
}

impl WordFilter {
    fn slot(word: &str) -> (usize, u64) {
        let first = word.as_bytes().first().copied().unwrap_or(0);
        (usize::from(first), 1 << word.len().min(63))
    }

    fn insert(&mut self, word: &str) {
        let (row, bit) = WordFilter::slot(word);
        self.bits[row] |= bit;
    }

    fn may_hold(&self, word: &str) -> bool {
        let (row, bit) = WordFilter::slot(word);
        self.bits[row] & bit != 0
    }
}

/// The known values, by one of their words.
#[derive(Debug, Default)]
pub(crate) struct KnownValues {
    by_word: HashMap<String, Vec<Entry>>,
    filter: WordFilter,
    count: usize,
}

impl KnownValues {
    /// Remembers `value` as `kind` (callers add each value once); values
    /// without a word character cannot be told apart from their
    /// surroundings and are not kept.
    pub(crate) fn insert(&mut self, value: &str, kind: &PiiKind) {
        // Key on the first word of three or more characters whose bucket
        // is still small, else on the word whose bucket is smallest: values
        // that share a domain or a country code spread out.
        let bucket = |(start, end): (usize, usize)| self.by_word.get(&value[start..end]).map_or(0, Vec::len);
        let roomy = words(value).find(|&(start, end)| end - start >= 3 && bucket((start, end)) < SMALL_BUCKET);
        let Some((start, end)) = roomy.or_else(|| words(value).min_by_key(|&word| bucket(word))) else { return };
        self.filter.insert(&value[start..end]);
        self.by_word.entry(value[start..end].to_owned()).or_default().push(Entry {
            value: value.to_owned(),
            key_at: start,
            kind: kind.clone(),
        });
        self.count += 1;
    }

    /// Occurrences of known values in `text` on word boundaries,
    /// leftmost-longest, without overlaps.
    pub(crate) fn find(&self, text: &str) -> Vec<Match> {
        if self.count == 0 {
            return Vec::new();
        }
        let mut found = Vec::new();
        for (word_start, word_end) in words(text) {
            if !self.filter.may_hold(&text[word_start..word_end]) {
                continue;
            }
            let Some(entries) = self.by_word.get(&text[word_start..word_end]) else { continue };
            for entry in entries {
                let Some(start) = word_start.checked_sub(entry.key_at) else { continue };
                let end = start + entry.value.len();
                if text.get(start..end) == Some(entry.value.as_str()) && on_word_boundaries(text, start, end) {
                    found.push(Match { start, end, kind: entry.kind.clone() });
                }
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
    fn many_values_sharing_words() {
        let mut known = KnownValues::default();
        let values: Vec<String> = (0..1000).map(|i| format!("+7 912 {i:03} 67 89")).collect();
        for value in &values {
            known.insert(value, &PiiKind::Phone);
        }
        assert_eq!(known.count, 1000);
        let largest = known.by_word.values().map(Vec::len).max().unwrap();
        assert!(largest <= 10, "a bucket of {largest}");
        for i in [0, 15, 500, 999] {
            let text = format!("to {} and +7 912 {i:03} 67 890", values[i]);
            assert_eq!(spans(&known, &text), [values[i].as_str()], "{text}");
        }
    }

    #[test]
    fn word_ranges() {
        let found: Vec<(usize, usize)> = words("  ab-c дом_1 ").collect();
        assert_eq!(found, [(2, 4), (5, 6), (7, 15)]);
    }
}
