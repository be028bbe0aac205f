//! Tokenizing JSON text as it stands: strings and numbers are visited in
//! place and everything between them is copied, so no document tree is
//! built and the output keeps the input's layout, key order and escapes
//! wherever nothing was replaced.

use std::borrow::Cow;

use serde_json::Number;

use crate::detect::{Detector, KeyClass};
use crate::vault::{Plan, Plans, Tokens, Vault, push_json_string};

/// Where a string stands.
enum Role {
    /// An object key: the depth of its object and its position there.
    Key(usize, usize),
    /// A value, under a key of this class (the key of the nearest
    /// enclosing object; arrays pass their key on to their items).
    Value(KeyClass),
}

/// A string or number of the document.
enum Item<'t> {
    Str { span: (usize, usize), text: Cow<'t, str>, role: Role },
    Num { span: (usize, usize), raw: &'t str, class: KeyClass },
}

/// An open object or array, with the class of the key its values stand
/// under.
enum Frame {
    Object { class: KeyClass, expecting_key: bool, keys: usize },
    Array { class: KeyClass },
}

/// The class of the key values at the top of `stack` stand under.
fn value_class(stack: &[Frame]) -> KeyClass {
    match stack.last() {
        Some(Frame::Object { class, .. } | Frame::Array { class }) => *class,
        None => KeyClass::NONE,
    }
}

/// The end (exclusive, past the closing quote) of the string whose opening
/// quote is at `open`, and whether it holds escapes.
fn string_end(bytes: &[u8], open: usize) -> (usize, bool) {
    let mut i = open + 1;
    let mut escaped = false;
    while let Some(offset) = memchr::memchr2(b'"', b'\\', &bytes[i.min(bytes.len())..]) {
        i += offset;
        if bytes[i] == b'"' {
            return (i + 1, escaped);
        }
        escaped = true;
        i += 2;
    }
    (bytes.len(), escaped)
}

/// Calls `visit` on every string and number of `json` (valid JSON), in
/// document order; for an object key it gives the key's class.
fn walk<'t>(json: &'t str, mut visit: impl FnMut(Item<'t>) -> KeyClass) {
    let bytes = json.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                stack.push(Frame::Object { class: KeyClass::NONE, expecting_key: true, keys: 0 });
                i += 1;
            }
            b'[' => {
                let class = value_class(&stack);
                stack.push(Frame::Array { class });
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                i += 1;
            }
            b',' => {
                if let Some(Frame::Object { expecting_key, .. }) = stack.last_mut() {
                    *expecting_key = true;
                }
                i += 1;
            }
            b':' => {
                if let Some(Frame::Object { expecting_key, .. }) = stack.last_mut() {
                    *expecting_key = false;
                }
                i += 1;
            }
            b'"' => {
                let (end, escaped) = string_end(bytes, i);
                let text: Cow<'t, str> = if escaped {
                    // Valid JSON: the string literal always decodes.
                    Cow::Owned(serde_json::from_str(&json[i..end]).unwrap_or_default())
                } else {
                    Cow::Borrowed(&json[i + 1..end - 1])
                };
                let span = (i, end);
                let depth = stack.len();
                if let Some(Frame::Object { class, expecting_key: true, keys }) = stack.last_mut() {
                    *class = visit(Item::Str { span, text, role: Role::Key(depth, *keys) });
                    *keys += 1;
                } else {
                    visit(Item::Str { span, text, role: Role::Value(value_class(&stack)) });
                }
                i = end;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                    i += 1;
                }
                visit(Item::Num { span: (start, i), raw: &json[start..i], class: value_class(&stack) });
            }
            _ => i += 1,
        }
    }
}

/// Where rendered JSON text goes.
trait Out {
    /// Appends `text`; every call ends outside any string of the output.
    fn put(&mut self, vault: &Vault, text: &str) -> std::io::Result<()>;
}

impl Out for String {
    fn put(&mut self, _: &Vault, text: &str) -> std::io::Result<()> {
        self.push_str(text);
        Ok(())
    }
}

/// Output handed to a sink in chunks of about [`CHUNK`] bytes: a large
/// document is never held twice, and each chunk is still in cache when
/// the sink copies it.
struct Chunks<F> {
    buffer: String,
    sink: F,
}

/// The size of the chunks [`Vault::tokenize_json_text_with`] hands on.
const CHUNK: usize = 1 << 16;

impl<F: FnMut(&Vault, &str) -> std::io::Result<()>> Chunks<F> {
    fn flush(&mut self, vault: &Vault) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            (self.sink)(vault, &self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }
}

impl<F: FnMut(&Vault, &str) -> std::io::Result<()>> Out for Chunks<F> {
    fn put(&mut self, vault: &Vault, text: &str) -> std::io::Result<()> {
        if self.buffer.len() + text.len() > CHUNK {
            self.flush(vault)?;
            if text.len() > CHUNK {
                // A long stretch of unchanged input goes on without a copy.
                return (self.sink)(vault, text);
            }
        }
        self.buffer.push_str(text);
        Ok(())
    }
}

impl Vault {
    /// [`tokenize_json`](Vault::tokenize_json) on JSON text, without
    /// building a document: the output is the input with personal data in
    /// strings (keys too) and identifying numbers replaced by tokens, its
    /// layout, key order, duplicate keys and escapes kept as they are
    /// wherever nothing was replaced. Fails only if `json` is not JSON.
    pub fn tokenize_json_text(&mut self, detector: &Detector, json: &str) -> Result<String, serde_json::Error> {
        let mut out = String::with_capacity(json.len() + json.len() / 8);
        self.tokenize_json_text_into(detector, json, &mut out)?;
        Ok(out)
    }

    /// [`tokenize_json_text`](Vault::tokenize_json_text) handing the output
    /// to `sink` in chunks (of about 64 KiB) as it is made, instead of
    /// returning it whole: for documents too large to hold twice. A chunk
    /// never ends inside a JSON string, so no token is split between two;
    /// the sink also gets the vault (to count the tokens in a chunk, say).
    /// Nothing is handed on if `json` is not JSON; an error of the sink
    /// stops the output and comes back as a
    /// [`serde_json::Error`] whose [`is_io`](serde_json::Error::is_io)
    /// holds.
    pub fn tokenize_json_text_with(
        &mut self,
        detector: &Detector,
        json: &str,
        sink: impl FnMut(&Vault, &str) -> std::io::Result<()>,
    ) -> Result<(), serde_json::Error> {
        let mut chunks = Chunks { buffer: String::with_capacity(CHUNK.min(json.len() + json.len() / 8)), sink };
        self.tokenize_json_text_into(detector, json, &mut chunks)?;
        chunks.flush(self).map_err(serde_json::Error::io)
    }

    fn tokenize_json_text_into(
        &mut self,
        detector: &Detector,
        json: &str,
        out: &mut impl Out,
    ) -> Result<(), serde_json::Error> {
        serde_json::from_str::<serde::de::IgnoredAny>(json)?;
        let mut plans = Plans::with_capacity(json.len() / 24);
        walk(json, |item| {
            match item {
                Item::Str { text, role: Role::Key(depth, position), .. } => {
                    return self.plan_key(detector, &text, (depth, position), Tokens::Escape, &mut plans);
                }
                Item::Str { text, role: Role::Value(class), .. } => {
                    self.plan_string(detector, class, &text, Tokens::Escape, &mut plans)
                }
                // As `plan_number` decides for an inert key, without parsing:
                // only an integer of nine or more digits can be an identifier.
                Item::Num { raw, class, .. }
                    if class.is_inert()
                        && !detector.has_custom()
                        && !(raw.len() >= 9 && raw.bytes().all(|b| b.is_ascii_digit())) =>
                {
                    plans.push_keep()
                }
                Item::Num { raw, class, .. } => match serde_json::from_str::<Number>(raw) {
                    Ok(number) => self.plan_number(detector, class, &number, &mut plans),
                    Err(_) => plans.push_keep(),
                },
            }
            KeyClass::NONE
        });
        let mut copied = 0;
        // The rendered string literal of the current item.
        let mut literal = String::new();
        let mut failed: Option<std::io::Error> = None;
        walk(json, |item| {
            let span = match item {
                Item::Str { span, text, .. } => {
                    literal.clear();
                    if let Some(Plan::Whole(index)) = plans.peek() {
                        // A token needs no escaping: written as it is made.
                        plans.next();
                        self.push_quoted_token(index, &mut literal);
                    } else if let Cow::Owned(replaced) = self.render_string(detector, &text, &mut plans, Tokens::Escape)
                    {
                        push_json_string(&mut literal, &replaced);
                    } else {
                        return KeyClass::NONE;
                    }
                    span
                }
                Item::Num { span, .. } => {
                    let Some(Plan::NumberToken(index)) = plans.next() else { return KeyClass::NONE };
                    literal.clear();
                    self.push_quoted_token(index, &mut literal);
                    span
                }
            };
            if failed.is_none()
                && let Err(e) = out.put(self, &json[copied..span.0]).and_then(|()| out.put(self, &literal))
            {
                failed = Some(e);
            }
            copied = span.1;
            KeyClass::NONE
        });
        if failed.is_none()
            && let Err(e) = out.put(self, &json[copied..])
        {
            failed = Some(e);
        }
        failed.map_or(Ok(()), |e| Err(serde_json::Error::io(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PiiConfig;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn detector() -> Detector {
        Detector::new(&PiiConfig::default()).unwrap()
    }

    #[test]
    fn keeps_layout_and_replaces_in_place() {
        let d = detector();
        let mut vault = Vault::new();
        let input = "{\n  \"z\": 1,  \"name\" : \"Ivan Petrov\",\n  \"list\": [\"a@b.io\", 4111111111111111, 2.50],\n  \
                     \"esc\": \"tab\\there \\u00e9\", \"a@b.io\": {\"note\": \"Ivan Petrov wrote\"}, \"z\": true }";
        let out = vault.tokenize_json_text(&d, input).unwrap();
        assert_eq!(
            out,
            "{\n  \"z\": 1,  \"name\" : \"[PERSON_1]\",\n  \"list\": [\"[EMAIL_1]\", \"[CREDIT_CARD_1]\", 2.50],\n  \
             \"esc\": \"tab\\there \\u00e9\", \"[EMAIL_1]\": {\"note\": \"[PERSON_1] wrote\"}, \"z\": true }"
        );
        assert!(vault.tokenize_json_text(&d, "{\"a\": ").is_err());
        assert_eq!(vault.tokenize_json_text(&d, " \"x@y.io\" ").unwrap(), " \"[EMAIL_2]\" ");
    }

    #[test]
    fn keys_pass_to_array_items_and_reset_in_nested_objects() {
        let d = detector();
        let mut vault = Vault::new();
        let input = r#"{"name": ["Anna Smith", {"title": "Chief Officer"}], "x": "Anna Smith"}"#;
        let out = vault.tokenize_json_text(&d, input).unwrap();
        assert_eq!(out, r#"{"name": ["[PERSON_1]", {"title": "Chief Officer"}], "x": "[PERSON_1]"}"#);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let text = prop_oneof![
            "[ a-zA-Z0-9.,:@_+\\-\\[\\]()/\"\\\\\t]{0,12}",
            Just("ivan@example.com".to_owned()),
            Just("Anna Smith".to_owned()),
            Just("+7 912 345-67-89".to_owned()),
            Just("[EMAIL_1]".to_owned()),
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            prop_oneof![Just(4111111111111111u64), Just(7707083893u64)].prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            text.clone().prop_map(Value::String),
        ];
        let key = prop_oneof![Just("name".to_owned()), Just("password".to_owned()), text];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The text path gives what the tree path gives, and round-trips.
        #[test]
        fn same_as_the_tree_path(doc in json_value(), pretty in any::<bool>()) {
            let d = detector();
            let text = if pretty { serde_json::to_string_pretty(&doc) } else { serde_json::to_string(&doc) }.unwrap();
            let mut by_text = Vault::new();
            let out: Value = serde_json::from_str(&by_text.tokenize_json_text(&d, &text).unwrap()).unwrap();
            // Both sides pass through the same float parsing.
            let mut by_tree = Vault::new();
            let tree = by_tree.tokenize_json(&d, &doc);
            prop_assert_eq!(&out, &serde_json::from_str::<Value>(&tree.to_string()).unwrap());
            let parsed: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(by_text.detokenize_json(&out), parsed);
        }
    }

    #[test]
    fn chunks_make_the_same_output_and_split_no_token() {
        let d = detector();
        let records: Vec<Value> = (0..4000)
            .map(|i| json!({"id": i, "email": format!("user{i}@example.com"), "note": format!("mail user{}@example.com", i / 2)}))
            .collect();
        let text = serde_json::to_string_pretty(&records).unwrap();
        let whole = Vault::new().tokenize_json_text(&d, &text).unwrap();
        let mut vault = Vault::new();
        let (mut chunks, mut joined, mut counted) = (0, String::new(), std::collections::BTreeMap::new());
        vault
            .tokenize_json_text_with(&d, &text, |vault, chunk| {
                chunks += 1;
                joined.push_str(chunk);
                for (kind, n) in vault.count_tokens(chunk) {
                    *counted.entry(kind).or_insert(0) += n;
                }
                Ok(())
            })
            .unwrap();
        assert!(chunks > 1);
        assert_eq!(joined, whole);
        assert_eq!(counted, vault.count_tokens(&whole));
        assert_eq!(counted.get("EMAIL"), Some(&8000));

        let failing = |_: &Vault, _: &str| Err(std::io::Error::other("disk full"));
        assert!(Vault::new().tokenize_json_text_with(&d, &text, failing).unwrap_err().is_io());
        let mut called = false;
        let not_json = Vault::new().tokenize_json_text_with(&d, "[\"a@b.io\"", |_, _| {
            called = true;
            Ok(())
        });
        assert!(!not_json.unwrap_err().is_io() && !called);
    }

    #[test]
    fn strings_with_escapes_are_decoded_before_detection() {
        let d = detector();
        let mut vault = Vault::new();
        let out = vault.tokenize_json_text(&d, r#"["ivan\u0040example.com", "say \"hi\""]"#).unwrap();
        assert_eq!(out, r#"["[EMAIL_1]", "say \"hi\""]"#);
        assert_eq!(vault.detokenize_json(&json!("[EMAIL_1]")), json!("ivan@example.com"));
    }
}
