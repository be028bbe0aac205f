//! JSON text ↔ Monty values.
//!
//! Monty has no JSON bridge of its own at the host boundary, so this module
//! parses tool results straight into [`MontyObject`]s (one pass, objects keep
//! their key order, integers of any size stay exact) and writes values back
//! as JSON for tool arguments and the execution's result.
//!
//! Parsing is iterative, so hostile nesting cannot exhaust the wasm stack
//! here; the depth is still capped at [`MAX_DEPTH`] because Monty converts
//! values into its heap recursively.

use std::fmt::Write;

use monty_types::{MontyObject, StringRepr};
use num_bigint::BigInt;

/// The deepest nesting accepted in either direction. Monty's own conversion
/// of a value into its heap recurses once per level, so this keeps it well
/// inside a 512 KiB stack.
pub const MAX_DEPTH: usize = 200;

/// CPython refuses to convert integers with more digits than this (the
/// quadratic-time guard of `sys.set_int_max_str_digits`).
const MAX_INT_DIGITS: usize = 4300;

/// Why JSON text could not become a value.
#[derive(Debug)]
pub struct ParseError {
    pub message: String,
}

fn error<T>(message: impl Into<String>, at: usize) -> Result<T, ParseError> {
    Err(ParseError { message: format!("{} at byte {at}", message.into()) })
}

/// A container being filled while parsing.
enum Frame {
    List(Vec<MontyObject>),
    /// The pairs so far and the key whose value comes next.
    Dict(Vec<(MontyObject, MontyObject)>, String),
}

/// Parses JSON `text` into a Monty value.
pub fn parse(text: &str) -> Result<MontyObject, ParseError> {
    let mut p = Parser { text, bytes: text.as_bytes(), pos: 0 };
    let mut stack: Vec<Frame> = Vec::new();
    'value: loop {
        p.skip_ws();
        let mut value = match p.peek() {
            Some(b'[') => {
                p.pos += 1;
                p.check_depth(stack.len())?;
                p.skip_ws();
                if p.peek() == Some(b']') {
                    p.pos += 1;
                    MontyObject::List(Vec::new())
                } else {
                    stack.push(Frame::List(Vec::new()));
                    continue 'value;
                }
            }
            Some(b'{') => {
                p.pos += 1;
                p.check_depth(stack.len())?;
                p.skip_ws();
                if p.peek() == Some(b'}') {
                    p.pos += 1;
                    MontyObject::dict(Vec::new())
                } else {
                    let key = p.key()?;
                    stack.push(Frame::Dict(Vec::new(), key));
                    continue 'value;
                }
            }
            Some(b'"') => MontyObject::String(p.string()?),
            Some(b't') => p.literal("true", MontyObject::Bool(true))?,
            Some(b'f') => p.literal("false", MontyObject::Bool(false))?,
            Some(b'n') => p.literal("null", MontyObject::None)?,
            Some(b'-' | b'0'..=b'9') => p.number()?,
            Some(_) => return error("unexpected character", p.pos),
            None => return error("unexpected end of JSON", p.pos),
        };
        // A value is complete: hand it to its container, closing every
        // container it completes in turn.
        loop {
            match stack.last_mut() {
                None => {
                    p.skip_ws();
                    if p.pos != p.bytes.len() {
                        return error("trailing characters after JSON", p.pos);
                    }
                    return Ok(value);
                }
                Some(Frame::List(items)) => {
                    items.push(value);
                    p.skip_ws();
                    match p.peek() {
                        Some(b',') => {
                            p.pos += 1;
                            continue 'value;
                        }
                        Some(b']') => {
                            p.pos += 1;
                            let Some(Frame::List(items)) = stack.pop() else { unreachable!("top frame is a list") };
                            value = MontyObject::List(items);
                        }
                        _ => return error("expected ',' or ']'", p.pos),
                    }
                }
                Some(Frame::Dict(pairs, key)) => {
                    pairs.push((MontyObject::String(std::mem::take(key)), value));
                    p.skip_ws();
                    match p.peek() {
                        Some(b',') => {
                            p.pos += 1;
                            p.skip_ws();
                            *key = p.key()?;
                            continue 'value;
                        }
                        Some(b'}') => {
                            p.pos += 1;
                            let Some(Frame::Dict(pairs, _)) = stack.pop() else { unreachable!("top frame is a dict") };
                            value = MontyObject::dict(pairs);
                        }
                        _ => return error("expected ',' or '}'", p.pos),
                    }
                }
            }
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn check_depth(&self, open: usize) -> Result<(), ParseError> {
        if open >= MAX_DEPTH {
            return error(format!("JSON nested deeper than {MAX_DEPTH} levels"), self.pos);
        }
        Ok(())
    }

    fn literal(&mut self, word: &str, value: MontyObject) -> Result<MontyObject, ParseError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            error("invalid literal", self.pos)
        }
    }

    /// An object key and the `:` after it.
    fn key(&mut self) -> Result<String, ParseError> {
        if self.peek() != Some(b'"') {
            return error("expected a string key", self.pos);
        }
        let key = self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return error("expected ':'", self.pos);
        }
        self.pos += 1;
        Ok(key)
    }

    /// A string, starting at its opening quote.
    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1;
        let start = self.pos;
        self.skip_plain();
        if self.peek() == Some(b'"') {
            // No escapes (the common case): one exact-size copy, which
            // Monty then takes over without reallocating.
            let text = self.text[start..self.pos].to_owned();
            self.pos += 1;
            return Ok(text);
        }
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return error("control character in string", self.pos),
                None => return error("unterminated string", self.pos),
            }
            let run = self.pos;
            self.skip_plain();
            out.push_str(&self.text[run..self.pos]);
        }
    }

    /// Skips to the next quote, backslash or control byte. Those are ASCII,
    /// so what is skipped is whole UTF-8.
    fn skip_plain(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if b == b'"' || b == b'\\' || b < 0x20 {
                break;
            }
            self.pos += 1;
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let Some(b) = self.peek() else { return error("unterminated escape", self.pos) };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                if (0xD800..0xDC00).contains(&first) && self.bytes[self.pos..].starts_with(b"\\u") {
                    let save = self.pos;
                    self.pos += 2;
                    let second = self.hex4()?;
                    if (0xDC00..0xE000).contains(&second) {
                        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                        char::from_u32(code).unwrap_or('\u{FFFD}')
                    } else {
                        // Not a pair: the lone surrogate has no Rust char;
                        // the second escape is read on its own.
                        self.pos = save;
                        '\u{FFFD}'
                    }
                } else {
                    // Lone surrogates cannot live in a Rust string.
                    char::from_u32(first).unwrap_or('\u{FFFD}')
                }
            }
            _ => return error("invalid escape", self.pos - 1),
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let Some(digits) = self.text.get(self.pos..self.pos + 4) else {
            return error("truncated \\u escape", self.pos);
        };
        let Ok(code) = u32::from_str_radix(digits, 16) else { return error("invalid \\u escape", self.pos) };
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return error("invalid \\u escape", self.pos);
        }
        self.pos += 4;
        Ok(code)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A number: an `int` when it has no fraction or exponent (as Python's
    /// `json` does), else a `float`.
    fn number(&mut self) -> Result<MontyObject, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return error("invalid number", self.pos),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            integer = false;
            if self.digits() == 0 {
                return error("invalid number", self.pos);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            integer = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return error("invalid number", self.pos);
            }
        }
        let text = &self.text[start..self.pos];
        if !integer {
            // Rust's float parsing rounds correctly; overflow gives ±inf
            // as in Python.
            return text.parse::<f64>().map(MontyObject::Float).or_else(|_| error("invalid number", start));
        }
        if let Ok(small) = text.parse::<i64>() {
            return Ok(MontyObject::Int(small));
        }
        if text.len() > MAX_INT_DIGITS {
            return error(format!("integer with more than {MAX_INT_DIGITS} digits"), start);
        }
        match text.parse::<BigInt>() {
            Ok(big) => Ok(MontyObject::BigInt(big)),
            Err(_) => error("invalid number", start),
        }
    }
}

/// How [`to_json`] treats values JSON has no form for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Tool arguments: only what Python's `json.dumps` accepts; anything
    /// else is an error the agent's code sees as a `TypeError`/`ValueError`.
    Strict,
    /// The execution's result: never fails; sets and tuples become arrays,
    /// dates ISO strings, NaN and infinities `null`, anything else its repr.
    Lenient,
}

/// Why a value could not be written as JSON (strict mode only).
#[derive(Debug)]
pub struct WriteError {
    /// `TypeError` or `ValueError`, as Python's `json.dumps` would raise.
    pub type_error: bool,
    pub message: String,
}

/// Writes `value` as JSON text.
pub fn to_json(value: &MontyObject, mode: Mode) -> Result<String, WriteError> {
    let mut out = String::new();
    write_value(&mut out, value, mode, 0)?;
    Ok(out)
}

/// Writes a JSON object from `(key, value)` pairs whose keys are strings.
pub fn object_to_json(pairs: &[(String, &MontyObject)], mode: Mode) -> Result<String, WriteError> {
    let mut out = String::from("{");
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(&mut out, key);
        out.push(':');
        write_value(&mut out, value, mode, 1)?;
    }
    out.push('}');
    Ok(out)
}

fn write_value(out: &mut String, value: &MontyObject, mode: Mode, depth: usize) -> Result<(), WriteError> {
    if depth > MAX_DEPTH {
        if mode == Mode::Lenient {
            out.push_str("null");
            return Ok(());
        }
        return Err(WriteError {
            type_error: false,
            message: format!("the value is nested deeper than {MAX_DEPTH} levels"),
        });
    }
    match value {
        MontyObject::None => out.push_str("null"),
        MontyObject::Bool(true) => out.push_str("true"),
        MontyObject::Bool(false) => out.push_str("false"),
        MontyObject::Int(i) => {
            let _ = write!(out, "{i}");
        }
        MontyObject::BigInt(i) => {
            let _ = write!(out, "{i}");
        }
        MontyObject::Float(f) => write_float(out, *f, mode)?,
        MontyObject::String(s) => write_string(out, s),
        MontyObject::List(items) | MontyObject::Tuple(items) => write_array(out, items, mode, depth)?,
        MontyObject::NamedTuple { values, .. } if mode == Mode::Lenient => write_array(out, values, mode, depth)?,
        MontyObject::Set(items) | MontyObject::FrozenSet(items) if mode == Mode::Lenient => {
            write_array(out, items, mode, depth)?;
        }
        MontyObject::Dict(pairs) => {
            out.push('{');
            for (i, (key, item)) in pairs.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_key(out, key, mode)?;
                out.push(':');
                write_value(out, item, mode, depth + 1)?;
            }
            out.push('}');
        }
        other if mode == Mode::Lenient => write_string(out, &lenient_text(other)),
        other => {
            return Err(WriteError {
                type_error: true,
                message: format!("Object of type {} is not JSON serializable", other.type_name()),
            });
        }
    }
    Ok(())
}

fn write_array(out: &mut String, items: &[MontyObject], mode: Mode, depth: usize) -> Result<(), WriteError> {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_value(out, item, mode, depth + 1)?;
    }
    out.push(']');
    Ok(())
}

/// Keys as `json.dumps` writes them: strings as they are, numbers, booleans
/// and `None` as their JSON text.
fn write_key(out: &mut String, key: &MontyObject, mode: Mode) -> Result<(), WriteError> {
    match key {
        MontyObject::String(s) => write_string(out, s),
        MontyObject::Int(i) => write_string(out, &i.to_string()),
        MontyObject::BigInt(i) => write_string(out, &i.to_string()),
        MontyObject::Bool(b) => write_string(out, if *b { "true" } else { "false" }),
        MontyObject::None => write_string(out, "null"),
        MontyObject::Float(f) => {
            let mut text = String::new();
            write_float(&mut text, *f, mode)?;
            write_string(out, &text);
        }
        other if mode == Mode::Lenient => write_string(out, &lenient_text(other)),
        other => {
            return Err(WriteError {
                type_error: true,
                message: format!("keys must be str, int, float, bool or None, not {}", other.type_name()),
            });
        }
    }
    Ok(())
}

fn write_float(out: &mut String, f: f64, mode: Mode) -> Result<(), WriteError> {
    if f.is_finite() {
        // `{:?}` is the shortest text that reads back as the same double,
        // and keeps a `.0` on whole numbers, as Python does.
        let _ = write!(out, "{f:?}");
        Ok(())
    } else if mode == Mode::Lenient {
        out.push_str("null");
        Ok(())
    } else {
        Err(WriteError { type_error: false, message: "Out of range float values are not JSON compliant".into() })
    }
}

/// The text the result carries for a value JSON has no form for.
fn lenient_text(value: &MontyObject) -> String {
    match value {
        MontyObject::Date(d) => format!("{:04}-{:02}-{:02}", d.year, d.month, d.day),
        MontyObject::DateTime(d) => {
            let mut text =
                format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", d.year, d.month, d.day, d.hour, d.minute, d.second);
            if d.microsecond != 0 {
                let _ = write!(text, ".{:06}", d.microsecond);
            }
            if let Some(offset) = d.offset_seconds {
                let sign = if offset < 0 { '-' } else { '+' };
                let offset = offset.unsigned_abs();
                let _ = write!(text, "{sign}{:02}:{:02}", offset / 3600, offset % 3600 / 60);
            }
            text
        }
        MontyObject::Exception { exc_type, arg } => match arg {
            Some(arg) => format!("{exc_type}: {arg}"),
            None => exc_type.to_string(),
        },
        other => other.to_string(),
    }
}

/// Writes `s` as a JSON string: quotes, backslashes and control characters
/// escaped, everything else as UTF-8.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escaped);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// `repr()` of a string, for messages that quote agent-supplied names.
pub fn quoted(s: &str) -> String {
    StringRepr(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &MontyObject) -> String {
        to_json(value, Mode::Strict).expect("writable")
    }

    #[test]
    fn parses_what_python_would() {
        let value = parse(r#" {"b": [1, -0, 2.5, 1e2, true, null], "a": "x\"\\\/\n\u00e9\ud83d\ude00"} "#).unwrap();
        assert_eq!(text(&value), r#"{"b":[1,0,2.5,100.0,true,null],"a":"x\"\\/\né😀"}"#);
        assert!(matches!(parse("123456789012345678901234567890").unwrap(), MontyObject::BigInt(_)));
        assert!(matches!(parse("-9223372036854775808").unwrap(), MontyObject::Int(i64::MIN)));
        assert_eq!(text(&parse(r#""\ud800""#).unwrap()), "\"\u{FFFD}\"");
        assert_eq!(text(&parse(r#""\ud800\u0041""#).unwrap()), "\"\u{FFFD}A\"");
        assert_eq!(text(&parse(r#"{"a": 1, "a": 2}"#).unwrap()), r#"{"a":1,"a":2}"#);
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "",
            "01",
            "1.",
            "-",
            "1e",
            "[1,]",
            "{\"a\" 1}",
            "{1: 2}",
            "\"\u{1}\"",
            "[1] 2",
            "tru",
            "\"\\x\"",
            "\"\\u12\"",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).unwrap_err().message.contains("nested deeper"));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn never_panics_on_damaged_input() {
        let good = r#"{"k": [1, 2.5e-3, "a\u00e9\\", {"x": null}], "é": "日本", "n": -12345678901234567890123}"#;
        for end in 0..good.len() {
            if let Some(prefix) = good.get(..end) {
                let _ = parse(prefix);
            }
        }
        let bytes = good.as_bytes();
        for i in 0..bytes.len() {
            for replacement in *b"\"\\{]u0-e " {
                let mut damaged = bytes.to_vec();
                damaged[i] = replacement;
                if let Ok(damaged) = String::from_utf8(damaged) {
                    let _ = parse(&damaged);
                }
            }
        }
    }

    #[test]
    fn writes_strict_and_lenient() {
        let nan = MontyObject::Float(f64::NAN);
        assert!(to_json(&nan, Mode::Strict).is_err());
        assert_eq!(to_json(&nan, Mode::Lenient).unwrap(), "null");
        let set = MontyObject::Set(vec![MontyObject::Int(1)]);
        assert!(to_json(&set, Mode::Strict).unwrap_err().type_error);
        assert_eq!(to_json(&set, Mode::Lenient).unwrap(), "[1]");
        let keys = MontyObject::dict(vec![
            (MontyObject::Int(1), MontyObject::None),
            (MontyObject::Bool(true), MontyObject::None),
        ]);
        assert_eq!(text(&keys), r#"{"1":null,"true":null}"#);
        assert_eq!(text(&MontyObject::String("\u{1}\t".into())), r#""\u0001\t""#);
    }
}
