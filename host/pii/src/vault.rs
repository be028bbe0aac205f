//! The per-session vault: mints tokens for personal data and turns them
//! back into the values they stand for.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Number, Value};

use super::detect::{Detector, Match, select_leftmost_longest};
use super::kinds::PiiKind;
use crate::known::KnownValues;

/// Kind name of token-shaped text found in the input (`[EMAIL_1]` typed by
/// a user): it is tokenized like a value so that it round-trips.
const LOOKALIKE: &str = "TOKEN";

/// Known values shorter than this (in characters) are tokenized where they
/// are detected but not searched for elsewhere.
const MIN_PROPAGATED_CHARS: usize = 3;

/// What a token stands for.
#[derive(Debug, Clone)]
enum Original {
    Text(String),
    Number(Number),
}

/// What to do with token-shaped text (`[EMAIL_1]`) found in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tokens {
    /// Tokenize it like a value (kind `TOKEN`), so that detokenizing gives
    /// back exactly the input: for data entering the sandbox.
    Escape,
    /// Keep it as it is: for output leaving the sandbox.
    Keep,
}

/// A minted token's kind and value.
#[derive(Debug, Clone)]
struct Entry {
    kind: PiiKind,
    original: Original,
}

/// What phase one decided for one JSON string or number.
#[derive(Debug)]
pub(crate) enum Plan {
    /// A number left as it is.
    Keep,
    /// A number replaced by this token.
    NumberToken(String),
    /// A string that is personal data as a whole.
    Whole,
    /// A string with token lookalikes and detections inside.
    Spans { lookalikes: Vec<Match>, detected: Vec<Match> },
}

/// Tokens and values of one session, in memory only; dropped with it.
///
/// Tokens are `[KIND_N]` with `N` counting from 1 per kind in this vault;
/// the same value always gets the same token. A vault resolves only the
/// tokens it minted, so a token from another session's vault passes
/// through [`detokenize_text`](Vault::detokenize_text) unchanged.
#[derive(Debug)]
pub struct Vault {
    id: u64,
    entries: HashMap<String, Entry>,
    text_tokens: HashMap<String, String>,
    number_tokens: HashMap<String, String>,
    counters: HashMap<PiiKind, u64>,
    known: KnownValues,
}

impl Default for Vault {
    fn default() -> Self {
        Vault::new()
    }
}

/// A random 64-bit id (std's per-process random hash keys, a counter and
/// the clock).
fn random_id() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    hasher.finish()
}

/// The spans of token-shaped text `[KIND_N]` (`KIND` is `[A-Z][A-Z0-9_]*`,
/// `N` is digits) in `text`.
fn token_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(offset) = bytes.get(from..).and_then(|rest| rest.iter().position(|&b| b == b'[')) {
        let open = from + offset;
        let inner_start = open + 1;
        let inner_len = bytes[inner_start..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
            .count();
        let close = inner_start + inner_len;
        if bytes.get(close) == Some(&b']') && is_token_inner(&text[inner_start..close]) {
            spans.push((open, close + 1));
            from = close + 1;
        } else {
            from = inner_start;
        }
    }
    spans
}

/// Whether `inner` is `KIND_N`.
fn is_token_inner(inner: &str) -> bool {
    let Some((kind, number)) = inner.rsplit_once('_') else { return false };
    kind.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// The spans to replace: every lookalike, then leftmost-longest among the
/// detections and known values that do not touch a lookalike.
fn merge(lookalikes: &[Match], detected: &[Match], known: &[Match]) -> Vec<Match> {
    let overlaps = |m: &Match| lookalikes.iter().any(|l| m.start < l.end && l.start < m.end);
    let candidates: Vec<Match> = detected.iter().chain(known).filter(|m| !overlaps(m)).cloned().collect();
    let mut spans = select_leftmost_longest(candidates);
    spans.extend(lookalikes.iter().cloned());
    spans.sort_by_key(|m| m.start);
    spans
}

/// Whether `text` has a word character outside the sorted, disjoint
/// `spans`.
fn leaves_words(text: &str, spans: &[Match]) -> bool {
    let word = |part: &str| part.chars().any(|c| c.is_alphanumeric() || c == '_');
    let mut last = 0;
    for span in spans {
        if word(&text[last..span.start]) {
            return true;
        }
        last = span.end;
    }
    word(&text[last..])
}

/// `spans` plus the detections in the text between them, in order.
fn with_gaps_rescanned(detector: &Detector, text: &str, spans: Vec<Match>) -> Vec<Match> {
    let found_in = |from: usize, to: usize| {
        let shift = move |m: Match| Match { start: m.start + from, end: m.end + from, kind: m.kind };
        detector.find(&text[from..to]).into_iter().map(shift)
    };
    let mut out = Vec::with_capacity(spans.len() + 1);
    let mut last = 0;
    for span in spans {
        out.extend(found_in(last, span.start));
        last = span.end;
        out.push(span);
    }
    out.extend(found_in(last, text.len()));
    out
}

impl Vault {
    /// An empty vault with a fresh random id.
    pub fn new() -> Vault {
        Vault {
            id: random_id(),
            entries: HashMap::new(),
            text_tokens: HashMap::new(),
            number_tokens: HashMap::new(),
            counters: HashMap::new(),
            known: KnownValues::default(),
        }
    }

    /// This vault's random id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// How many tokens this vault has minted.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether this vault has minted no token yet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The next token for `kind`.
    fn next_token(&mut self, kind: &PiiKind) -> String {
        let counter = match self.counters.get_mut(kind) {
            Some(counter) => counter,
            None => self.counters.entry(kind.clone()).or_insert(0),
        };
        *counter += 1;
        format!("[{}_{}]", kind.as_str(), counter)
    }

    /// The token for the string `value`, minted as `kind` if new.
    fn mint_text(&mut self, kind: &PiiKind, value: &str) {
        if self.text_tokens.contains_key(value) {
            return;
        }
        let token = self.next_token(kind);
        self.entries.insert(token.clone(), Entry { kind: kind.clone(), original: Original::Text(value.to_owned()) });
        self.text_tokens.insert(value.to_owned(), token.clone());
        if kind.as_str() != LOOKALIKE && value.chars().count() >= MIN_PROPAGATED_CHARS {
            self.remember(kind, value);
        }
    }

    /// Appends the token of the string `value` to `out`, minting it as
    /// `kind` if new.
    fn push_token(&mut self, kind: &PiiKind, value: &str, out: &mut String) {
        self.mint_text(kind, value);
        if let Some(token) = self.text_tokens.get(value) {
            out.push_str(token);
        }
    }

    /// The token for the JSON number `value`, minted as `kind` if new.
    fn mint_number(&mut self, kind: &PiiKind, value: &Number) -> String {
        let text = value.to_string();
        if let Some(token) = self.number_tokens.get(&text) {
            return token.clone();
        }
        let token = self.next_token(kind);
        self.entries.insert(token.clone(), Entry { kind: kind.clone(), original: Original::Number(value.clone()) });
        self.number_tokens.insert(text.clone(), token.clone());
        if text.chars().count() >= MIN_PROPAGATED_CHARS {
            self.remember(kind, &text);
        }
        token
    }

    /// Records `value` to be tokenized wherever it occurs later.
    fn remember(&mut self, kind: &PiiKind, value: &str) {
        self.known.insert(value, kind);
    }

    /// Occurrences of known values in `text` that are not inside a longer
    /// word, leftmost-longest.
    fn known_occurrences(&self, text: &str) -> Vec<Match> {
        self.known.find(text)
    }

    /// Phase one for a string: decides and mints, without known values.
    /// In [`Tokens::Keep`] mode a string holding tokens is never taken as
    /// a whole.
    pub(crate) fn plan_string(&mut self, detector: &Detector, key: Option<&str>, text: &str, tokens: Tokens) -> Plan {
        let spans = token_spans(text);
        if let Some(kind) = detector.classify_value(key, text)
            && (tokens == Tokens::Escape || spans.is_empty())
        {
            self.mint_text(&kind, text);
            return Plan::Whole;
        }
        let lookalike_kind = PiiKind::Custom(LOOKALIKE.to_owned());
        let lookalikes: Vec<Match> =
            spans.into_iter().map(|(start, end)| Match { start, end, kind: lookalike_kind.clone() }).collect();
        let detected = detector.find(text);
        for m in &detected {
            self.mint_text(&m.kind, &text[m.start..m.end]);
        }
        Plan::Spans { lookalikes, detected }
    }

    /// Phase one for a number: a token if it is an identifier.
    pub(crate) fn plan_number(&mut self, detector: &Detector, key: Option<&str>, number: &Number) -> Plan {
        let text = number.to_string();
        if let Some(kind) = detector.classify_value(key, &text) {
            return Plan::NumberToken(self.mint_number(&kind, number));
        }
        if !detector.numbers_may_identify(key) {
            return Plan::Keep;
        }
        match detector.find(&text).as_slice() {
            [m] if m.start == 0 && m.end == text.len() => Plan::NumberToken(self.mint_number(&m.kind, number)),
            _ => Plan::Keep,
        }
    }

    /// Phase two for a string: replaces what phase one found and every
    /// known value.
    pub(crate) fn render_string<'t>(
        &mut self,
        detector: &Detector,
        text: &'t str,
        plan: Option<Plan>,
        tokens: Tokens,
    ) -> Cow<'t, str> {
        let (lookalikes, detected) = match plan {
            Some(Plan::Whole) => {
                let token = self.text_tokens.get(text).cloned();
                return token.map_or(Cow::Borrowed(text), Cow::Owned);
            }
            Some(Plan::Spans { lookalikes, detected }) => (lookalikes, detected),
            _ => (Vec::new(), Vec::new()),
        };
        // A string that detections cover but for separators (an e-mail or
        // phone field) holds no other value: skip the search.
        let known = if leaves_words(text, &detected) { self.known_occurrences(text) } else { Vec::new() };
        if lookalikes.is_empty() && detected.is_empty() && known.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut spans = merge(&lookalikes, &detected, &known);
        if detected.iter().chain(&known).any(|c| !spans.iter().any(|s| s.start <= c.start && c.end <= s.end)) {
            // A value lost to an overlapping one may leave personal data in
            // the text between the chosen spans: look there again.
            spans = with_gaps_rescanned(detector, text, spans);
        }
        let mut out = String::with_capacity(text.len() + 16 * spans.len());
        let mut last = 0;
        for m in spans {
            out.push_str(&text[last..m.start]);
            let value = &text[m.start..m.end];
            if tokens == Tokens::Keep && m.kind.as_str() == LOOKALIKE {
                out.push_str(value);
            } else {
                self.push_token(&m.kind, value, &mut out);
            }
            last = m.end;
        }
        out.push_str(&text[last..]);
        Cow::Owned(out)
    }

    /// Replaces the personal data in free `text` with tokens: detections,
    /// token-shaped text already there, and every value this vault knows
    /// (longest first). Borrows `text` when nothing is replaced.
    pub fn tokenize_text<'t>(&mut self, detector: &Detector, text: &'t str) -> Cow<'t, str> {
        let plan = self.plan_string(detector, None, text, Tokens::Escape);
        self.render_string(detector, text, Some(plan), Tokens::Escape)
    }

    /// Like [`tokenize_text`](Self::tokenize_text) for text leaving the
    /// sandbox (an execution's output): token-shaped text is kept as it is
    /// rather than escaped, since it is already safe and the reader must
    /// see the tokens the code printed. Not reversible.
    pub fn tokenize_output<'t>(&mut self, detector: &Detector, text: &'t str) -> Cow<'t, str> {
        let plan = self.plan_string(detector, None, text, Tokens::Keep);
        self.render_string(detector, text, Some(plan), Tokens::Keep)
    }

    /// Tokenizes every string (keys too) of a JSON document: a string under
    /// a person, address or secret key as a whole, others like
    /// [`tokenize_text`](Self::tokenize_text); numbers that are identifiers
    /// (a card, an INN, a SNILS, a credential under a secret key) become
    /// token strings. Values found anywhere in the document are tokenized
    /// everywhere in it.
    pub fn tokenize_json(&mut self, detector: &Detector, value: &Value) -> Value {
        self.tokenize_json_as(detector, value, Tokens::Escape)
    }

    /// Like [`tokenize_json`](Self::tokenize_json) for a value leaving the
    /// sandbox, keeping token-shaped text as
    /// [`tokenize_output`](Self::tokenize_output) does.
    pub fn tokenize_output_json(&mut self, detector: &Detector, value: &Value) -> Value {
        self.tokenize_json_as(detector, value, Tokens::Keep)
    }

    fn tokenize_json_as(&mut self, detector: &Detector, value: &Value, tokens: Tokens) -> Value {
        let mut plans = Vec::new();
        self.plan_value(detector, None, value, tokens, &mut plans);
        let mut plans = plans.into_iter();
        self.render_value(detector, value, &mut plans, tokens)
    }

    /// Phase one over a JSON value, in document order.
    fn plan_value(
        &mut self,
        detector: &Detector,
        key: Option<&str>,
        value: &Value,
        tokens: Tokens,
        plans: &mut Vec<Plan>,
    ) {
        match value {
            Value::String(s) => {
                let plan = self.plan_string(detector, key, s, tokens);
                plans.push(plan);
            }
            Value::Number(n) => {
                let plan = self.plan_number(detector, key, n);
                plans.push(plan);
            }
            Value::Array(items) => {
                for item in items {
                    self.plan_value(detector, key, item, tokens, plans);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    let plan = self.plan_string(detector, None, k, tokens);
                    plans.push(plan);
                    self.plan_value(detector, Some(k), item, tokens, plans);
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// Phase two over a JSON value, in the same order as phase one.
    fn render_value(
        &mut self,
        detector: &Detector,
        value: &Value,
        plans: &mut std::vec::IntoIter<Plan>,
        tokens: Tokens,
    ) -> Value {
        match value {
            Value::String(s) => {
                let plan = plans.next();
                Value::String(self.render_string(detector, s, plan, tokens).into_owned())
            }
            Value::Number(_) => match plans.next() {
                Some(Plan::NumberToken(token)) => Value::String(token),
                _ => value.clone(),
            },
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.render_value(detector, item, plans, tokens)).collect())
            }
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, item) in map {
                    let plan = plans.next();
                    let key = self.render_string(detector, k, plan, tokens).into_owned();
                    let item = self.render_value(detector, item, plans, tokens);
                    out.insert(key, item);
                }
                Value::Object(out)
            }
            Value::Null | Value::Bool(_) => value.clone(),
        }
    }

    /// Replaces the tokens this vault minted in `text` with their values
    /// (a number's as its JSON text); other token-shaped text is kept.
    /// Borrows `text` when nothing is replaced.
    pub fn detokenize_text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out: Option<String> = None;
        let mut last = 0;
        for (start, end) in token_spans(text) {
            let Some(entry) = self.entries.get(&text[start..end]) else { continue };
            let buf = out.get_or_insert_with(|| String::with_capacity(text.len() + 32));
            buf.push_str(&text[last..start]);
            match &entry.original {
                Original::Text(s) => buf.push_str(s),
                Original::Number(n) => buf.push_str(&n.to_string()),
            }
            last = end;
        }
        match out {
            Some(mut buf) => {
                buf.push_str(&text[last..]);
                Cow::Owned(buf)
            }
            None => Cow::Borrowed(text),
        }
    }

    /// The inverse of [`tokenize_json`](Self::tokenize_json) at any depth:
    /// tokens in strings and keys are replaced; a string that is exactly the
    /// token of a number becomes that number again.
    pub fn detokenize_json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => match self.entries.get(s.as_str()) {
                Some(Entry { original: Original::Number(n), .. }) => Value::Number(n.clone()),
                _ => Value::String(self.detokenize_text(s).into_owned()),
            },
            Value::Array(items) => Value::Array(items.iter().map(|item| self.detokenize_json(item)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, item)| (self.detokenize_text(k).into_owned(), self.detokenize_json(item)))
                    .collect(),
            ),
            Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
        }
    }

    /// The kinds of personal data `text` would hand to a tool: the kinds of
    /// this vault's tokens in it, of the values it knows that appear
    /// verbatim (code may have reassembled one), and of what the detector
    /// finds in it. Each kind once.
    pub fn flowing_kinds(&self, detector: &Detector, text: &str) -> Vec<PiiKind> {
        let mut kinds = self.kinds_in(text);
        for m in self.known_occurrences(text).into_iter().chain(detector.find(text)) {
            if !kinds.contains(&m.kind) {
                kinds.push(m.kind);
            }
        }
        kinds
    }

    /// How many of this vault's tokens `text` holds, by kind name (escaped
    /// token lookalikes count under `TOKEN`).
    pub fn count_tokens(&self, text: &str) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for (start, end) in token_spans(text) {
            if let Some(entry) = self.entries.get(&text[start..end]) {
                *counts.entry(entry.kind.as_str().to_owned()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// How many tokens this vault has minted, by kind name (escaped
    /// lookalikes left out).
    pub fn minted_per_kind(&self) -> BTreeMap<String, u64> {
        self.counters
            .iter()
            .filter(|(kind, _)| kind.as_str() != LOOKALIKE)
            .map(|(kind, n)| (kind.as_str().to_owned(), *n))
            .collect()
    }

    /// How many distinct values this vault holds, by kind name.
    pub fn values_per_kind(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for entry in self.entries.values() {
            *counts.entry(entry.kind.as_str().to_owned()).or_insert(0) += 1;
        }
        counts
    }

    /// The tokens of this vault in `text` (escaped lookalikes left out), each
    /// once, in order of first appearance: what an audit record may name.
    pub fn tokens_in(&self, text: &str) -> Vec<String> {
        let mut tokens: Vec<String> = Vec::new();
        for (start, end) in token_spans(text) {
            let token = &text[start..end];
            if self.entries.get(token).is_some_and(|e| e.kind.as_str() != LOOKALIKE)
                && !tokens.iter().any(|t| t == token)
            {
                tokens.push(token.to_owned());
            }
        }
        tokens
    }

    /// The kinds of the tokens of this vault in `text`, each once, in order
    /// of first appearance (re-tokenized token lookalikes are left out).
    pub fn kinds_in(&self, text: &str) -> Vec<PiiKind> {
        let mut kinds: Vec<PiiKind> = Vec::new();
        for (start, end) in token_spans(text) {
            if let Some(entry) = self.entries.get(&text[start..end])
                && entry.kind.as_str() != LOOKALIKE
                && !kinds.contains(&entry.kind)
            {
                kinds.push(entry.kind.clone());
            }
        }
        kinds
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PiiConfig;
    use proptest::prelude::*;
    use serde_json::json;

    fn detector() -> Detector {
        Detector::new(&PiiConfig::default()).unwrap()
    }

    #[test]
    fn token_shapes() {
        assert_eq!(token_spans("[EMAIL_1] x [CREDIT_CARD_12][A_B_3]"), [(0, 9), (12, 28), (28, 35)]);
        assert_eq!(token_spans("[[EMAIL_1]] [email_1] [EMAIL_] [_1] [EMAIL_1x] [1_2] [EMAIL 1]"), [(1, 10)]);
        assert_eq!(token_spans("[ÄÖ_1] [X_1"), []);
        assert!(is_token_inner("X_1_2"));
        assert!(!is_token_inner("X1"));
    }

    #[test]
    fn same_value_same_token_and_counters_per_kind() {
        let d = detector();
        let mut vault = Vault::new();
        assert!(vault.is_empty());
        let out = vault.tokenize_text(&d, "a@b.io, c@d.io, a@b.io, +7 912 345 67 89");
        assert_eq!(out, "[EMAIL_1], [EMAIL_2], [EMAIL_1], [PHONE_1]");
        assert_eq!(vault.tokenize_text(&d, "again a@b.io"), "again [EMAIL_1]");
        assert_eq!(vault.len(), 3);
        assert!(matches!(vault.tokenize_text(&d, "nothing here"), Cow::Borrowed(_)));
        assert!(matches!(vault.detokenize_text("nothing [EMAIL_9] here"), Cow::Borrowed(_)));
    }

    #[test]
    fn known_values_propagate_into_text() {
        let d = detector();
        let mut vault = Vault::new();
        let doc =
            json!({"customer": {"full_name": "Ivan Petrov", "note": "call Ivan Petrov"}, "log": "Ivan Petrovich"});
        let out = vault.tokenize_json(&d, &doc);
        assert_eq!(
            out,
            json!({"customer": {"full_name": "[PERSON_1]", "note": "call [PERSON_1]"}, "log": "Ivan Petrovich"})
        );
        assert_eq!(vault.tokenize_text(&d, "Ivan Petrov wrote"), "[PERSON_1] wrote");
        assert_eq!(vault.kinds_in("[PERSON_1] and [PERSON_1], [EMAIL_1]"), [PiiKind::Person]);
        assert_eq!(vault.tokens_in("[PERSON_1] and [PERSON_1], [EMAIL_1]"), ["[PERSON_1]"]);
        // Short values are tokenized where found but not searched for.
        let out = vault.tokenize_json(&d, &json!({"name": "Li", "text": "Li Na"}));
        assert_eq!(out, json!({"name": "[PERSON_2]", "text": "Li Na"}));
    }

    #[test]
    fn numbers_that_are_identifiers() {
        let d = detector();
        let mut vault = Vault::new();
        let doc = json!({"card": 4111111111111111u64, "order": 1234567812345678u64, "inn": 7707083893u64,
            "id": 1234567890u64, "price": 1234.56, "password": 1234, "count": 3, "copy": "4111111111111111"});
        let out = vault.tokenize_json(&d, &doc);
        assert_eq!(
            out,
            json!({"card": "[CREDIT_CARD_1]", "order": 1234567812345678u64, "inn": "[RU_INN_1]",
                "id": 1234567890u64, "price": 1234.56, "password": "[SECRET_1]", "count": 3, "copy": "[CREDIT_CARD_2]"})
        );
        assert_eq!(vault.detokenize_json(&out), doc);
        assert_eq!(vault.detokenize_text("[CREDIT_CARD_1] [CREDIT_CARD_2]"), "4111111111111111 4111111111111111");
        assert_eq!(vault.kinds_in("[RU_INN_1] [SECRET_1]"), [PiiKind::RuInn, PiiKind::Secret]);
    }

    #[test]
    fn keys_and_arrays() {
        let d = detector();
        let mut vault = Vault::new();
        let doc =
            json!({"a@b.io": {"names": ["x"], "name": ["Anna Smith", "Bob Stone"]}, "ip": ["10.0.0.1", null, true]});
        let out = vault.tokenize_json(&d, &doc);
        assert_eq!(
            out,
            json!({"[EMAIL_1]": {"names": ["x"], "name": ["[PERSON_1]", "[PERSON_2]"]}, "ip": ["[IP_1]", null, true]})
        );
        assert_eq!(vault.detokenize_json(&out), doc);
    }

    #[test]
    fn lookalikes_round_trip() {
        let d = detector();
        let mut vault = Vault::new();
        let first = vault.tokenize_text(&d, "mail a@b.io").into_owned();
        assert_eq!(first, "mail [EMAIL_1]");
        let typed = "user typed [EMAIL_1] and [EMAIL_7] and [EMAIL_1]";
        let out = vault.tokenize_text(&d, typed).into_owned();
        assert_eq!(out, "user typed [TOKEN_1] and [TOKEN_2] and [TOKEN_1]");
        assert_eq!(vault.detokenize_text(&out), typed);
        assert_eq!(vault.kinds_in(&out), []);
        let doc = json!({"name": "[EMAIL_1]", "[PHONE_1]": "x [EMAIL_1]y"});
        let out = vault.tokenize_json(&d, &doc);
        assert_eq!(vault.detokenize_json(&out), doc);
    }

    #[test]
    fn output_keeps_tokens_and_catches_reassembled_values() {
        let d = detector();
        let mut vault = Vault::new();
        vault.tokenize_json(&d, &json!({"name": "Ivan Petrov", "email": "ivan@example.com"}));
        let printed = "[PERSON_1] <[EMAIL_1]> [EMAIL_9] wrote from ivan@example.com and bob@b.io; Ivan Petrov";
        let out = vault.tokenize_output(&d, printed);
        assert_eq!(out, "[PERSON_1] <[EMAIL_1]> [EMAIL_9] wrote from [EMAIL_1] and [EMAIL_2]; [PERSON_1]");
        let value = json!({"name": "[PERSON_1]", "full_name": "Ivan Petrov", "to": ["ivan@example.com"]});
        assert_eq!(
            vault.tokenize_output_json(&d, &value),
            json!({"name": "[PERSON_1]", "full_name": "[PERSON_1]", "to": ["[EMAIL_1]"]})
        );
    }

    #[test]
    fn flowing_kinds_see_tokens_and_known_values() {
        let d = detector();
        let mut vault = Vault::new();
        vault.tokenize_json(&d, &json!({"email": "ivan@example.com", "card": "4111 1111 1111 1111"}));
        assert_eq!(vault.flowing_kinds(&d, "to [EMAIL_1]"), [PiiKind::Email]);
        let kinds = vault.flowing_kinds(&d, "pay 4111 1111 1111 1111 for [EMAIL_1]");
        assert_eq!(kinds, [PiiKind::Email, PiiKind::CreditCard]);
        vault.tokenize_json(&d, &json!({"full_name": "Ivan Petrov"}));
        assert_eq!(vault.flowing_kinds(&d, "dear Ivan Petrov"), [PiiKind::Person]);
        assert_eq!(vault.flowing_kinds(&d, "[EMAIL_7] unknown, nothing known"), []);
    }

    #[test]
    fn a_detection_lost_to_an_overlapping_known_value_leaves_nothing_behind() {
        let d = detector();
        let mut vault = Vault::new();
        let out = vault.tokenize_text(&d, "+7 912 345 67 89 and +7 912 345 67 89.x@ab.io").into_owned();
        assert!(d.find(&out).is_empty(), "{out}");
        assert!(!out.contains("x@ab.io"), "{out}");
        assert_eq!(vault.detokenize_text(&out), "+7 912 345 67 89 and +7 912 345 67 89.x@ab.io");
    }

    #[test]
    fn counts_by_kind() {
        let d = detector();
        let mut vault = Vault::new();
        let out = vault.tokenize_text(&d, "a@b.io a@b.io c@d.io 10.0.0.1 [EMAIL_7]").into_owned();
        let counts = vault.count_tokens(&out);
        assert_eq!(counts, BTreeMap::from([("EMAIL".into(), 3), ("IP".into(), 1), ("TOKEN".into(), 1)]));
        let values = vault.values_per_kind();
        assert_eq!(values, BTreeMap::from([("EMAIL".into(), 2), ("IP".into(), 1), ("TOKEN".into(), 1)]));
    }

    #[test]
    fn vaults_resolve_only_their_own_tokens() {
        let d = detector();
        let mut a = Vault::new();
        let mut b = Vault::new();
        assert_ne!(a.id(), b.id());
        assert_eq!(a.tokenize_text(&d, "alice@a.io"), "[EMAIL_1]");
        assert_eq!(b.tokenize_text(&d, "bob@b.io"), "[EMAIL_1]");
        assert_eq!(a.detokenize_text("[EMAIL_1]"), "alice@a.io");
        assert_eq!(b.detokenize_text("[EMAIL_1]"), "bob@b.io");
        assert_eq!(b.detokenize_text("[EMAIL_2] [PHONE_1]"), "[EMAIL_2] [PHONE_1]");
        assert!(!b.detokenize_text("[EMAIL_1]").contains("alice"));
        assert_eq!(Vault::default().detokenize_json(&json!(["[EMAIL_1]"])), json!(["[EMAIL_1]"]));
    }

    #[test]
    fn merge_prefers_lookalikes() {
        let look = Match { start: 4, end: 9, kind: PiiKind::custom("TOKEN") };
        let det = Match { start: 0, end: 6, kind: PiiKind::Email };
        let other = Match { start: 10, end: 12, kind: PiiKind::Ip };
        assert_eq!(merge(std::slice::from_ref(&look), &[det], std::slice::from_ref(&other)), [look, other]);
    }

    /// Strings mixing noise with personal data and token lookalikes.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ a-zA-Z0-9.,:@_+\\-\\[\\]()/]{0,12}",
            "\\PC{0,8}",
            Just("ivan@example.com".to_owned()),
            Just("4111 1111 1111 1111".to_owned()),
            Just("+7 (912) 345-67-89".to_owned()),
            Just("[EMAIL_1]".to_owned()),
            Just("[PERSON_2]".to_owned()),
            Just("[TOKEN_1]".to_owned()),
            Just("7707083893".to_owned()),
            Just("192.168.0.1".to_owned()),
            Just("Anna Smith".to_owned()),
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(piece(), 0..6).prop_map(|parts| parts.concat())
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![Just("name".to_owned()), Just("password".to_owned()), Just("note".to_owned()), text()]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            prop_oneof![Just(4111111111111111u64), Just(7707083893u64), Just(500100732259u64)].prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn json_round_trip(docs in prop::collection::vec(json_value(), 1..4)) {
            let d = detector();
            let mut vault = Vault::new();
            for doc in &docs {
                let tokenized = vault.tokenize_json(&d, doc);
                let restored = vault.detokenize_json(&tokenized);
                prop_assert_eq!(serde_json::to_string(&restored).unwrap(), serde_json::to_string(doc).unwrap());
            }
        }

        #[test]
        fn text_round_trip(texts in prop::collection::vec(text(), 1..5)) {
            let d = detector();
            let mut vault = Vault::new();
            for t in &texts {
                let tokenized = vault.tokenize_text(&d, t).into_owned();
                prop_assert_eq!(vault.detokenize_text(&tokenized), t.as_str());
                prop_assert!(!tokenized.contains("ivan@example.com"));
            }
        }
    }
}
