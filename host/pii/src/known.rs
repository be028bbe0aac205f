//! Values a session already knows as personal data, found again wherever
//! they occur as whole words.
//!
//! Indexed by one key per value, its only word or a pair of adjacent words
//! in it, so that adding a value costs O(1) and searching a text costs two
//! hashes per word in it, however many values are known (an automaton over
//! all of them would have to be rebuilt as values come). The key is the
//! first whose bucket is small when the value arrives, so values that
//! share a domain or a country code spread over their other words.
//!
//! The values themselves live in the vault's arena (one string holding
//! every value back to back): an entry here is a few integers, and adding
//! one allocates nothing but amortised growth.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

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

/// Whether the character starting at byte `i` of `text` is a word
/// character, and its length.
#[inline]
fn word_char_at(text: &str, i: usize) -> (bool, usize) {
    let b = text.as_bytes()[i];
    if b < 0x80 {
        return (ASCII_WORD[usize::from(b)], 1);
    }
    let c = text[i..].chars().next().unwrap_or(' ');
    (is_word_char(c), c.len_utf8())
}

/// Which ASCII bytes are word characters.
static ASCII_WORD: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    table
};

/// The byte ranges of the words of `text`.
fn words(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        // Skip to the next word: ASCII bytes by table, others by character.
        loop {
            let b = *bytes.get(i)?;
            if b < 0x80 {
                if ASCII_WORD[usize::from(b)] {
                    break;
                }
                i += 1;
            } else {
                let (word, len) = word_char_at(text, i);
                if word {
                    break;
                }
                i += len;
            }
        }
        let start = i;
        while let Some(&b) = bytes.get(i) {
            if b < 0x80 {
                if !ASCII_WORD[usize::from(b)] {
                    break;
                }
                i += 1;
            } else {
                let (word, len) = word_char_at(text, i);
                if !word {
                    break;
                }
                i += len;
            }
        }
        Some((start, i))
    })
}

/// No entry (the end of a bucket's list).
const NONE: u32 = u32::MAX;

/// A known value: where it is in the arena, where its key starts in it,
/// the caller's tag, and the next value in its bucket.
#[derive(Debug, Clone, Copy)]
struct Entry {
    start: usize,
    len: u32,
    key_at: u32,
    tag: u32,
    next: u32,
}

/// The values sharing one key, as a list through [`Entry::next`] (oldest
/// first). Buckets are told apart by the key's 64-bit hash alone: two keys
/// with one hash share a bucket, which costs a comparison, never a wrong
/// match (every candidate is compared with the text in full).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    hash: u64,
    first: u32,
    last: u32,
    len: u32,
}

/// A bucket this small is cheap to scan at every occurrence of its key.
const SMALL_BUCKET: u32 = 8;

/// The key of two adjacent words, from their hashes (which are random
/// enough that mixing them this simply spreads pairs as well).
fn pair_key(first: u64, second: u64) -> u64 {
    first.rotate_left(29) ^ second.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// One bit per key hash, set for the keys in use: most words of a text are
/// ruled out by one bit test instead of a probe of the (large) table. It
/// grows with the table to stay at most an eighth full.
#[derive(Debug, Default)]
struct KeyFilter {
    bits: Vec<u64>,
}

impl KeyFilter {
    fn bit(&self, hash: u64) -> (usize, u64) {
        let index = (hash >> 32) as usize & (self.bits.len() * 64 - 1);
        (index / 64, 1 << (index % 64))
    }

    fn may_hold(&self, hash: u64) -> bool {
        if self.bits.is_empty() {
            return false;
        }
        let (word, bit) = self.bit(hash);
        self.bits[word] & bit != 0
    }

    fn insert(&mut self, hash: u64) {
        let (word, bit) = self.bit(hash);
        self.bits[word] |= bit;
    }
}

/// Which (first byte, length) pairs some words have: most words of a text
/// are ruled out by one bit test, before they are hashed.
#[derive(Debug)]
struct ShapeFilter {
    bits: Box<[u64; 256]>,
}

impl Default for ShapeFilter {
    fn default() -> Self {
        ShapeFilter { bits: Box::new([0; 256]) }
    }
}

impl ShapeFilter {
    fn slot(word: &str) -> (usize, u64) {
        let first = word.as_bytes().first().copied().unwrap_or(0);
        (usize::from(first), 1 << word.len().min(63))
    }

    fn insert(&mut self, word: &str) {
        let (row, bit) = ShapeFilter::slot(word);
        self.bits[row] |= bit;
    }

    fn may_hold(&self, word: &str) -> bool {
        let (row, bit) = ShapeFilter::slot(word);
        self.bits[row] & bit != 0
    }
}

/// A candidate key of a value: its hash, the offset of its first word in
/// the value, and its words' ranges (the second for a pair).
type Key = (u64, usize, (usize, usize), Option<(usize, usize)>);

/// The known values, each under one key: its only word, or a pair of
/// adjacent words (a pair is far more specific than either word: `james`
/// and `gmail` are in many addresses, `james` followed by `smith` in few).
#[derive(Debug, Default)]
pub(crate) struct KnownValues {
    entries: Vec<Entry>,
    buckets: HashTable<Bucket>,
    filter: KeyFilter,
    /// The shapes of one-word keys and of the first words of pair keys.
    firsts: ShapeFilter,
    /// The shapes of the second words of pair keys.
    seconds: ShapeFilter,
    /// The distinct first bytes of keys, while there are few: a text is
    /// then searched from their occurrences (found with `memchr`) rather
    /// than word by word.
    first_bytes: Vec<u8>,
    /// More than [`FEW_FIRST_BYTES`] distinct first bytes.
    many_first_bytes: bool,
    hasher: DefaultHashBuilder,
}

impl KnownValues {
    /// How many values are known.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn bucket_len(&self, hash: u64) -> u32 {
        self.buckets.find(hash, |b| b.hash == hash).map_or(0, |b| b.len)
    }

    /// Remembers `arena[start..end]` with `tag` (callers add each value
    /// once); values without a word character cannot be told apart from
    /// their surroundings and are not kept.
    pub(crate) fn insert(&mut self, arena: &str, start: usize, end: usize, tag: u32) {
        let value = &arena[start..end];
        // Candidate keys: the word of a one-word value, else each pair of
        // adjacent words, at the first word's offset. The first key whose
        // bucket is still small is taken, else the key whose bucket is
        // smallest: values that share words spread out.
        let mut chosen: Option<(Key, u32)> = None;
        let mut previous: Option<(u64, (usize, usize))> = None;
        for (from, to) in words(value) {
            let hash = self.hasher.hash_one(&value[from..to]);
            if let Some((first, word)) = previous {
                let key = (pair_key(first, hash), word.0, word, Some((from, to)));
                let len = self.bucket_len(key.0);
                if chosen.is_none_or(|(_, best)| len < best) {
                    chosen = Some((key, len));
                }
                if len < SMALL_BUCKET {
                    break;
                }
            }
            previous = Some((hash, (from, to)));
        }
        if chosen.is_none() {
            chosen = previous.map(|(hash, word)| ((hash, word.0, word, None), 0));
        }
        let Some(((hash, key_at, first, second), _)) = chosen else { return };
        self.firsts.insert(&value[first.0..first.1]);
        let first_byte = value.as_bytes()[first.0];
        if !self.many_first_bytes && !self.first_bytes.contains(&first_byte) {
            if self.first_bytes.len() < FEW_FIRST_BYTES {
                self.first_bytes.push(first_byte);
            } else {
                self.many_first_bytes = true;
            }
        }
        if let Some((from, to)) = second {
            self.seconds.insert(&value[from..to]);
        }
        let (Ok(index), Ok(len), Ok(key_at)) =
            (u32::try_from(self.entries.len()), u32::try_from(end - start), u32::try_from(key_at))
        else {
            return;
        };
        if index == NONE {
            return;
        }
        self.entries.push(Entry { start, len, key_at, tag, next: NONE });
        let entries = &mut self.entries;
        match self.buckets.find_mut(hash, |b| b.hash == hash) {
            Some(bucket) => {
                entries[bucket.last as usize].next = index;
                bucket.last = index;
                bucket.len += 1;
            }
            None => {
                self.buckets.insert_unique(hash, Bucket { hash, first: index, last: index, len: 1 }, |b| b.hash);
                if self.buckets.len() * 8 > self.filter.bits.len() * 64 {
                    let bits = (self.buckets.len() * 16).next_power_of_two().max(4096);
                    self.filter.bits = vec![0; bits / 64];
                    for b in &self.buckets {
                        self.filter.insert(b.hash);
                    }
                } else {
                    self.filter.insert(hash);
                }
            }
        }
    }

    /// Pushes the values of the bucket of `hash` that occur in `text` with
    /// their key at `key_start`.
    fn collect(&self, arena: &str, text: &str, hash: u64, key_start: usize, found: &mut Vec<(usize, usize, u32)>) {
        if !self.filter.may_hold(hash) {
            return;
        }
        let Some(bucket) = self.buckets.find(hash, |b| b.hash == hash) else { return };
        let mut index = bucket.first;
        while let Some(entry) = self.entries.get(index as usize) {
            index = entry.next;
            let Some(start) = key_start.checked_sub(entry.key_at as usize) else { continue };
            let end = start + entry.len as usize;
            if text.as_bytes().get(start..end) == Some(&arena.as_bytes()[entry.start..entry.start + entry.len as usize])
                && on_word_boundaries(text, start, end)
            {
                found.push((start, end, entry.tag));
            }
        }
    }

    /// Occurrences of known values in `text` on word boundaries,
    /// leftmost-longest, without overlaps: `(start, end, tag)`, in order.
    /// Among values found at the same span, the one added first wins.
    pub(crate) fn find(&self, arena: &str, text: &str) -> Vec<(usize, usize, u32)> {
        let mut found = Vec::new();
        if self.entries.is_empty() {
            return found;
        }
        if !self.many_first_bytes {
            self.find_from_first_bytes(arena, text, &mut found);
            return leftmost_longest(found);
        }
        // The previous word, if it may start a key: its hash and start.
        let mut previous: Option<(u64, usize)> = None;
        for (word_start, word_end) in words(text) {
            let word = &text[word_start..word_end];
            let first = self.firsts.may_hold(word);
            let second = previous.is_some() && self.seconds.may_hold(word);
            if !first && !second {
                previous = None;
                continue;
            }
            let hash = self.hasher.hash_one(word);
            if first {
                self.collect(arena, text, hash, word_start, &mut found);
            }
            if second && let Some((before, at)) = previous {
                self.collect(arena, text, pair_key(before, hash), at, &mut found);
            }
            previous = first.then_some((hash, word_start));
        }
        leftmost_longest(found)
    }

    /// [`find`](Self::find)'s candidates where keys start with few distinct
    /// bytes: each occurrence of one that starts a word is looked at, with
    /// the word after it.
    fn find_from_first_bytes(&self, arena: &str, text: &str, found: &mut Vec<(usize, usize, u32)>) {
        let bytes = text.as_bytes();
        let mut look = |start: usize| {
            if text[..start].chars().next_back().is_some_and(is_word_char) {
                return;
            }
            let end = word_end(text, start);
            let word = &text[start..end];
            if word.is_empty() || !self.firsts.may_hold(word) {
                return;
            }
            let hash = self.hasher.hash_one(word);
            self.collect(arena, text, hash, start, found);
            if let Some((next, next_end)) = words(&text[end..]).next() {
                let second = &text[end + next..end + next_end];
                if self.seconds.may_hold(second) {
                    self.collect(arena, text, pair_key(hash, self.hasher.hash_one(second)), start, found);
                }
            }
        };
        match *self.first_bytes.as_slice() {
            [a] => memchr::memchr_iter(a, bytes).for_each(&mut look),
            [a, b] => memchr::memchr2_iter(a, b, bytes).for_each(&mut look),
            [a, b, c] => memchr::memchr3_iter(a, b, c, bytes).for_each(&mut look),
            _ => {}
        }
    }
}

/// At most this many distinct first bytes of keys are searched for with
/// `memchr`.
const FEW_FIRST_BYTES: usize = 3;

/// Where the word starting at `start` ends.
fn word_end(text: &str, start: usize) -> usize {
    let mut i = start;
    while i < text.len() {
        let (word, len) = word_char_at(text, i);
        if !word {
            break;
        }
        i += len;
    }
    i
}

/// Keeps the leftmost of `found`, the longest among those starting there,
/// then repeats after it. Stable, and values are pushed oldest first
/// within a key: among equal spans (the same text, as a string and as a
/// number) the older value usually wins.
fn leftmost_longest(mut found: Vec<(usize, usize, u32)>) -> Vec<(usize, usize, u32)> {
    if found.len() < 2 {
        return found;
    }
    found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut chosen: Vec<(usize, usize, u32)> = Vec::with_capacity(found.len());
    for m in found {
        if chosen.last().is_none_or(|last| m.0 >= last.1) {
            chosen.push(m);
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known values with their own arena; tags are insertion numbers.
    #[derive(Default)]
    struct Known {
        arena: String,
        values: KnownValues,
        count: u32,
    }

    impl Known {
        fn add(&mut self, value: &str) -> u32 {
            let start = self.arena.len();
            self.arena.push_str(value);
            let tag = self.count;
            self.count += 1;
            self.values.insert(&self.arena, start, self.arena.len(), tag);
            tag
        }

        fn spans<'t>(&self, text: &'t str) -> Vec<&'t str> {
            self.values.find(&self.arena, text).iter().map(|&(start, end, _)| &text[start..end]).collect()
        }
    }

    #[test]
    fn whole_words_only_longest_first() {
        let mut known = Known::default();
        for value in ["Anna Maria", "Anna", "Maria Street 5", "+7 912 345", "Ann"] {
            known.add(value);
        }
        let second_anna = known.add("Anna");
        known.add("...");
        let text = "Anna Maria Street 5, Anna, Annabel, Maria Street 5x, call +7 912 345, a+7 912 345";
        assert_eq!(known.spans(text), ["Anna Maria", "Anna", "+7 912 345", "+7 912 345"]);
        // The first of two equal values wins.
        assert_eq!(known.values.find(&known.arena, "Anna")[0].2, 1);
        assert_ne!(second_anna, 1);
        assert_eq!(known.spans("Иван Anna_ Anna"), ["Anna"]);
        assert!(Known::default().spans("Anna").is_empty());
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
        let mut known = Known::default();
        let values: Vec<String> = (0..1000).map(|i| format!("+7 912 {i:03} 67 89")).collect();
        for value in &values {
            known.add(value);
        }
        assert_eq!(known.values.entries.len(), 1000);
        let largest = known.values.buckets.iter().map(|b| b.len).max().unwrap();
        assert!(largest <= 10, "a bucket of {largest}");
        for i in [0, 15, 500, 999] {
            let text = format!("to {} and +7 912 {i:03} 67 890", values[i]);
            assert_eq!(known.spans(&text), [values[i].as_str()], "{text}");
        }
    }

    #[test]
    fn the_filter_grows_and_keeps_every_word() {
        let mut known = Known::default();
        for i in 0..20_000 {
            known.add(&format!("user{i}@example.org"));
        }
        assert!(known.values.filter.bits.len() * 64 >= known.values.buckets.len() * 8);
        let largest = known.values.buckets.iter().map(|b| b.len).max().unwrap();
        assert!(largest <= 10, "a bucket of {largest}");
        for i in [0, 4095, 4096, 19_999] {
            let text = format!("mail user{i}@example.org now");
            assert_eq!(known.spans(&text), [format!("user{i}@example.org")]);
        }
        assert!(known.spans("mail user20000@example.org").is_empty());
    }

    #[test]
    fn few_and_many_first_bytes_find_the_same() {
        let mut few = Known::default();
        for value in ["Anna Maria", "Anna", "+7 912 345", "Ann Lee"] {
            few.add(value);
        }
        assert!(!few.values.many_first_bytes);
        let mut many = Known::default();
        for value in ["Anna Maria", "Anna", "+7 912 345", "Ann Lee", "x1", "yes no", "zed", "bob"] {
            many.add(value);
        }
        assert!(many.values.many_first_bytes);
        for text in ["Anna Maria Street, Anna, Annabel, +7 912 345, a+7 912 345 Ann Lee, Ann", "_Anna Anna_ Иван Anna"]
        {
            let expected: Vec<&str> = many.spans(text).into_iter().filter(|s| *s != "zed" && *s != "bob").collect();
            assert_eq!(few.spans(text), expected, "{text}");
        }
    }

    #[test]
    fn word_ranges() {
        let found: Vec<(usize, usize)> = words("  ab-c дом_1 ").collect();
        assert_eq!(found, [(2, 4), (5, 6), (7, 15)]);
        assert_eq!(words("x").collect::<Vec<_>>(), [(0, 1)]);
        assert_eq!(words("…").count(), 0);
    }
}
