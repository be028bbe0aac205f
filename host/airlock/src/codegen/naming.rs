//! Turning MCP tool and property names into JS and WIT identifiers.

use std::collections::{BTreeMap, BTreeSet};

/// Words reserved in strict-mode ES modules, plus the names that cannot be
/// bound there (`arguments`, `eval`).
const JS_RESERVED: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// Words the WIT lexer treats as keywords; identifiers spelled like them
/// need the `%` escape.
const WIT_KEYWORDS: &[&str] = &[
    "as",
    "async",
    "bool",
    "borrow",
    "char",
    "constructor",
    "enum",
    "error-context",
    "export",
    "f32",
    "f64",
    "flags",
    "from",
    "func",
    "future",
    "import",
    "include",
    "interface",
    "list",
    "map",
    "option",
    "own",
    "package",
    "record",
    "resource",
    "result",
    "s16",
    "s32",
    "s64",
    "s8",
    "static",
    "stream",
    "string",
    "tuple",
    "type",
    "u16",
    "u32",
    "u64",
    "u8",
    "use",
    "variant",
    "with",
    "world",
];

/// Splits a name into words: on anything but ASCII letters and digits, on
/// lower→upper boundaries (`searchRepos`) and before the last capital of
/// an acronym (`HTTPServer` → `HTTP`, `Server`).
fn words(name: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for run in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let bytes = run.as_bytes();
        let mut start = 0;
        for i in 1..bytes.len() {
            let (prev, cur) = (bytes[i - 1], bytes[i]);
            let next_lower = bytes.get(i + 1).is_some_and(u8::is_ascii_lowercase);
            let lower_to_upper = !prev.is_ascii_uppercase() && cur.is_ascii_uppercase();
            let acronym_end = prev.is_ascii_uppercase() && cur.is_ascii_uppercase() && next_lower;
            if lower_to_upper || acronym_end {
                words.push(&run[start..i]);
                start = i;
            }
        }
        if start < run.len() {
            words.push(&run[start..]);
        }
    }
    words
}

/// Capitalises the first letter and lowercases the rest.
fn capitalise(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `list_customers` → `listCustomers`; the result uses only ASCII letters,
/// digits and `_`, and never starts with a digit.
pub fn lower_camel_case(name: &str) -> String {
    let mut out = String::new();
    for (i, word) in words(name).into_iter().enumerate() {
        if i == 0 {
            out.push_str(&word.to_ascii_lowercase());
        } else {
            out.push_str(&capitalise(word));
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Whether `name` has the shape of an ASCII identifier (letters, digits,
/// `$`, `_`; no leading digit). Reserved words pass: they are valid as
/// property names.
pub fn is_identifier_name(name: &str) -> bool {
    let mut chars = name.chars();
    let start_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$' || c == '_');
    start_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '$' || c == '_')
}

/// Whether `name` can be bound as a variable or function in an ES module.
pub fn is_js_identifier(name: &str) -> bool {
    is_identifier_name(name) && !JS_RESERVED.contains(&name)
}

/// The kebab-case WIT label for `name`, without the `%` keyword escape:
/// this is the name the component model sees.
pub fn wit_label(name: &str) -> String {
    let parts: Vec<String> = words(name)
        .into_iter()
        .map(|word| {
            let word = word.to_ascii_lowercase();
            // Older WIT parsers want every word to start with a letter.
            if word.starts_with(|c: char| c.is_ascii_digit()) { format!("x{word}") } else { word }
        })
        .collect();
    if parts.is_empty() { "x".to_string() } else { parts.join("-") }
}

/// Adds the `%` escape when `label` is a WIT keyword.
pub fn escape_wit(label: &str) -> String {
    if WIT_KEYWORDS.contains(&label) { format!("%{label}") } else { label.to_string() }
}

/// `getFileContents` → `get-file-contents`, `type` → `%type`: an
/// identifier that can be written in a WIT document.
pub fn wit_identifier(name: &str) -> String {
    escape_wit(&wit_label(name))
}

/// Converts every name and makes the results distinct: the first of equal
/// results keeps it, later ones get `2`, `3`… appended, skipping any name
/// another input converts to. A bare number keeps both WIT labels (where
/// older parsers reject a word starting with a digit) and JS identifiers
/// valid.
pub fn unique_names(names: &[String], convert: fn(&str) -> String) -> Vec<String> {
    let converted: Vec<String> = names.iter().map(|name| convert(name)).collect();
    let mut namer = Namer::default();
    // Natural names first, so a suffixed name never takes another's.
    for name in &converted {
        namer.reserve(name);
    }
    let mut given = BTreeSet::new();
    converted
        .into_iter()
        .map(|name| {
            if given.insert(key(&name)) {
                return name;
            }
            let claimed = namer.claim(&name);
            given.insert(key(&claimed));
            // Re-apply an escape the suffixed name may need (`u1` → `%u16`).
            let escaped = convert(&claimed);
            if key(&escaped) == claimed { escaped } else { claimed }
        })
        .collect()
}

/// `%type` and `type` are the same WIT identifier.
fn key(name: &str) -> String {
    name.trim_start_matches('%').to_string()
}

/// Hands out distinct names, suffixing `2`, `3`… on a clash.
#[derive(Debug, Default)]
pub struct Namer {
    used: BTreeSet<String>,
    /// The next number to try per base, so many equal names stay linear.
    next: BTreeMap<String, u64>,
}

impl Namer {
    /// Marks `name` as taken without handing it out.
    pub fn reserve(&mut self, name: &str) {
        self.used.insert(key(name));
    }

    /// Returns `base`, or `base` (without a `%` escape) with the smallest
    /// free number appended, and marks the result as taken.
    pub fn claim(&mut self, base: &str) -> String {
        if self.used.insert(key(base)) {
            return base.to_string();
        }
        let base = key(base);
        let mut n = self.next.get(&base).copied().unwrap_or(2);
        loop {
            let candidate = format!("{base}{n}");
            n += 1;
            if self.used.insert(candidate.clone()) {
                self.next.insert(base, n);
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn camel_case_of_mcp_names() {
        assert_eq!(lower_camel_case("list_customers"), "listCustomers");
        assert_eq!(lower_camel_case("get-file-contents"), "getFileContents");
        assert_eq!(lower_camel_case("searchRepos"), "searchRepos");
        assert_eq!(lower_camel_case("API.v2_fetch"), "apiV2Fetch");
        assert_eq!(lower_camel_case("getHTTPResponse"), "getHttpResponse");
        assert_eq!(lower_camel_case("2fa_check"), "_2faCheck");
        assert_eq!(lower_camel_case(""), "_");
        assert_eq!(lower_camel_case("__"), "_");
        assert_eq!(lower_camel_case("héllo wörld"), "hLloWRld");
    }

    #[test]
    fn js_identifiers() {
        for ok in ["listCustomers", "$x", "_", "a1", "undefined"] {
            assert!(is_js_identifier(ok), "{ok}");
        }
        for bad in ["", "1a", "a-b", "default", "delete", "class", "await", "é"] {
            assert!(!is_js_identifier(bad), "{bad}");
        }
        assert!(is_identifier_name("default"));
    }

    #[test]
    fn wit_identifiers() {
        assert_eq!(wit_identifier("list_customers"), "list-customers");
        assert_eq!(wit_identifier("getFileContents"), "get-file-contents");
        assert_eq!(wit_identifier("API.v2_fetch"), "api-v2-fetch");
        assert_eq!(wit_identifier("2fa"), "x2fa");
        assert_eq!(wit_identifier("page_2"), "page-x2");
        assert_eq!(wit_identifier("type"), "%type");
        assert_eq!(wit_identifier("error_context"), "%error-context");
        assert_eq!(wit_identifier("u8"), "%u8");
        assert_eq!(wit_identifier(""), "x");
        assert_eq!(wit_label("type"), "type");
    }

    #[test]
    fn collisions_are_resolved_in_input_order() {
        let names = strings(&["list_items", "listItems", "list-items", "listItems2"]);
        assert_eq!(unique_names(&names, lower_camel_case), ["listItems", "listItems3", "listItems4", "listItems2"]);
        assert_eq!(unique_names(&names, wit_identifier), ["list-items", "list-items3", "list-items4", "list-items2"]);
        let keywords = strings(&["type", "Type", "type2"]);
        assert_eq!(unique_names(&keywords, wit_identifier), ["%type", "type3", "type2"]);
        // A suffixed name that spells a keyword gets the escape back.
        let names = strings(&["u1", "u1", "u12", "u13", "u14", "u15"]);
        assert_eq!(unique_names(&names, wit_identifier)[1], "%u16");
        // Many equal names are numbered in order.
        let same = vec!["a".to_string(); 1000];
        let unique = unique_names(&same, lower_camel_case);
        assert_eq!((unique[1].as_str(), unique[999].as_str()), ("a2", "a1000"));
    }
}
