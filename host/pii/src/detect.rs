//! Detection: where personal data sits in a text, and whether a JSON value
//! is personal data because of the key it is stored under.

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv6Addr;

use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

use super::checksums;
use super::kinds::PiiKind;

/// What the PII engine looks for; part of the Airlock configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PiiConfig {
    /// Built-in kinds to detect (default: all). Custom kinds are always on.
    pub enabled: Vec<PiiKind>,
    /// JSON keys whose string values are person names (compared ignoring
    /// case, `_`, `-`, `.` and spaces: `fullName` equals `full_name`).
    pub context_keys_person: Vec<String>,
    /// JSON keys whose string values are postal addresses (compared like
    /// [`context_keys_person`](Self::context_keys_person)).
    pub context_keys_address: Vec<String>,
    /// JSON keys whose values are credentials: a key matches if, compared
    /// like the person keys, it ends with one of these (`access_token`
    /// ends with `token`). Values under keys mentioning `pass` or `pwd`
    /// are always secret; others must look random (at least 8 characters,
    /// no whitespace after an optional `Bearer `/`Basic `/`Token ` scheme,
    /// at least 3 bits of entropy per character).
    pub secret_keys: Vec<String>,
    /// Custom recognizers: kind name (upper-cased, `[A-Z][A-Z0-9_]*`) →
    /// regular expression (Rust `regex` syntax), e.g.
    /// `{"EMPLOYEE_ID": "EMP-[0-9]{6}"}`.
    pub custom: BTreeMap<String, String>,
    /// Values never tokenized, compared exactly with the whole match.
    pub allow: Vec<String>,
}

impl Default for PiiConfig {
    fn default() -> Self {
        let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        PiiConfig {
            enabled: PiiKind::BUILTIN.to_vec(),
            context_keys_person: strings(&[
                "name",
                "full_name",
                "first_name",
                "last_name",
                "middle_name",
                "given_name",
                "family_name",
                "surname",
                "patronymic",
                "fio",
                "ФИО",
                "имя",
                "фамилия",
                "отчество",
                "contact_name",
                "customer_name",
                "display_name",
            ]),
            context_keys_address: strings(&[
                "address",
                "street",
                "street_address",
                "address_line1",
                "address_line2",
                "home_address",
                "billing_address",
                "shipping_address",
                "postal_address",
                "адрес",
            ]),
            secret_keys: strings(&[
                "token",
                "secret",
                "password",
                "passwd",
                "pwd",
                "api_key",
                "apikey",
                "access_key",
                "private_key",
                "authorization",
                "credential",
                "credentials",
            ]),
            custom: BTreeMap::new(),
            allow: Vec::new(),
        }
    }
}

/// A [`PiiConfig`] that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PiiConfigError {
    /// A custom kind name is not `[A-Z][A-Z0-9_]*` once upper-cased, or is
    /// taken by a built-in kind or by the engine (`TOKEN`).
    #[error("custom PII kind name `{0}` must be [A-Z][A-Z0-9_]* and not a built-in name")]
    InvalidName(String),
    /// A custom regular expression does not compile.
    #[error("custom PII recognizer `{name}`: {source}")]
    Regex {
        /// The custom kind name.
        name: String,
        /// Why it does not compile.
        source: regex::Error,
    },
    /// A kind name that is neither built in nor a configured custom kind.
    /// Most likely a typo: accepted, it would switch detection of the
    /// intended kinds off, or leave a flow unguarded.
    #[error(
        "unknown PII kind `{name}`{}; the kinds are {}",
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(),
        valid.join(", ")
    )]
    UnknownKind {
        /// Where it was named, in the PII settings (`detect.enabled[0]`,
        /// `flows.*.deny[1]`).
        field: String,
        /// The name as written.
        name: String,
        /// The closest valid name, if one is close.
        suggestion: Option<String>,
        /// Every name valid there.
        valid: Vec<String>,
    },
}

impl PiiConfigError {
    /// The field of the PII settings (the `"pii"` key) that is wrong:
    /// `detect.custom`, `detect.enabled[0]`, `flows.mailer.allow[2]`...
    pub fn field(&self) -> String {
        match self {
            PiiConfigError::InvalidName(_) | PiiConfigError::Regex { .. } => "detect.custom".to_owned(),
            PiiConfigError::UnknownKind { field, .. } => field.clone(),
        }
    }
}

/// Checks that every kind in `kinds` is one of `valid`; `field` names the
/// list (`detect.enabled`).
pub(crate) fn check_kinds(field: &str, kinds: &[PiiKind], valid: &[String]) -> Result<(), PiiConfigError> {
    for (i, kind) in kinds.iter().enumerate() {
        if !valid.iter().any(|name| name == kind.as_str()) {
            return Err(PiiConfigError::UnknownKind {
                field: format!("{field}[{i}]"),
                name: kind.as_str().to_owned(),
                suggestion: closest(kind.as_str(), valid).map(str::to_owned),
                valid: valid.to_vec(),
            });
        }
    }
    Ok(())
}

/// The name in `candidates` closest to `name`, if it is close enough to be
/// a likely typo.
fn closest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    let (best, distance) = candidates
        .iter()
        .map(|candidate| (candidate.as_str(), strsim::levenshtein(name, candidate)))
        .min_by_key(|(_, distance)| *distance)?;
    (distance <= (name.chars().count() / 3).max(2)).then_some(best)
}

/// The names of the built-in kinds.
pub(crate) fn builtin_names() -> Vec<String> {
    PiiKind::BUILTIN.iter().map(|kind| kind.as_str().to_owned()).collect()
}

/// One detection in a text: bytes `start..end` hold a value of `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// What the value is.
    pub kind: PiiKind,
}

/// How a recognizer's candidates are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Email,
    PhoneIntl,
    PhoneNational,
    Card,
    Iban,
    Ssn,
    SsnPlain,
    Ipv4,
    Ipv6,
    Inn,
    Snils,
    Secret,
    Custom,
}

/// A compiled recognizer.
#[derive(Debug)]
struct Recognizer {
    kind: PiiKind,
    regex: Regex,
    check: Check,
}

/// Built-in recognizers: kind, check, pattern. ASCII-only classes and word
/// boundaries keep the regex engine on its fast paths. Where two find the
/// same span, the earlier wins: the checksummed SSN and SNILS shapes come
/// before the looser national phone patterns.
const BUILTIN: &[(PiiKind, Check, &str)] = &[
    (
        PiiKind::Secret,
        Check::Secret,
        r"(?-u:\b)(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|(?:AKIA|ASIA)[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+)",
    ),
    (
        PiiKind::Email,
        Check::Email,
        r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}",
    ),
    (PiiKind::Iban, Check::Iban, r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}"),
    (PiiKind::CreditCard, Check::Card, r"(?-u:\b)[1-9](?:[ -]?[0-9]){12,18}(?-u:\b)"),
    (PiiKind::UsSsn, Check::Ssn, r"(?-u:\b)(?:[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4})(?-u:\b)"),
    (PiiKind::UsSsn, Check::SsnPlain, r"(?-u:\b)[0-9]{9}(?-u:\b)"),
    (
        PiiKind::RuSnils,
        Check::Snils,
        r"(?-u:\b)(?:[0-9]{3}-[0-9]{3}-[0-9]{3}[ -][0-9]{2}|[0-9]{3} [0-9]{3} [0-9]{3} [0-9]{2}|[0-9]{11})(?-u:\b)",
    ),
    (PiiKind::Phone, Check::PhoneIntl, r"\+[0-9]{1,3}(?:[ .-]?\([0-9]{1,4}\))?(?:[ .-]?[0-9]{1,6}){1,6}"),
    (
        PiiKind::Phone,
        Check::PhoneNational,
        r"(?-u:\b)8[ -]?(?:\([3-9][0-9]{2}\)|9[0-9]{2})[ -]?[0-9]{3}[ -]?[0-9]{2}[ -]?[0-9]{2}(?-u:\b)",
    ),
    (
        PiiKind::Phone,
        Check::PhoneNational,
        r"(?:\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[-. ]|(?-u:\b)[2-9][0-9]{2}-[2-9][0-9]{2}-|(?-u:\b)[2-9][0-9]{2}\.[2-9][0-9]{2}\.|(?-u:\b)[2-9][0-9]{2} [2-9][0-9]{2} )[0-9]{4}(?-u:\b)",
    ),
    (
        PiiKind::Phone,
        Check::PhoneNational,
        r"(?:\(0[1-9][0-9]{1,4}\) ?|(?-u:\b)0[1-9][0-9]{1,4}[ /-])[0-9]{2,8}(?:[ -][0-9]{2,5}){0,2}(?-u:\b)",
    ),
    (PiiKind::RuInn, Check::Inn, r"(?-u:\b)(?:[0-9]{12}|[0-9]{10})(?-u:\b)"),
    (PiiKind::Ip, Check::Ipv4, r"(?-u:\b)(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?-u:\b)"),
    (PiiKind::Ip, Check::Ipv6, r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}"),
];

/// Finds personal data in text and classifies JSON values by their key.
///
/// Built once from a [`PiiConfig`] (all regular expressions are compiled
/// then) and shared; [`find`](Detector::find) allocates nothing for a
/// text without a digit or `@` unless custom recognizers are configured.
#[derive(Debug)]
pub struct Detector {
    recognizers: Vec<Recognizer>,
    set: RegexSet,
    has_custom: bool,
    enabled: HashSet<PiiKind>,
    person_keys: HashSet<String>,
    address_keys: HashSet<String>,
    secret_keys: Vec<String>,
    allow: HashSet<String>,
}

/// A key as compared with the configured lists: lower case without `_`,
/// `-`, `.` and spaces.
fn normalize_key(key: &str) -> std::borrow::Cow<'_, str> {
    if key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        return std::borrow::Cow::Borrowed(key);
    }
    key.chars().filter(|c| !matches!(c, '_' | '-' | '.' | ' ')).flat_map(char::to_lowercase).collect()
}

/// Person keys that also name documents, products, tools and files: their
/// values count as people only if they look like a person's name.
const AMBIGUOUS_PERSON_KEYS: &[&str] = &["name", "displayname"];

/// Whether `value` is shaped like a person's name: one to six words of
/// letters (and `'`, `-`, `.`), at least one of them capitalised.
fn looks_like_person_name(value: &str) -> bool {
    let words: Vec<&str> = value.split_whitespace().collect();
    (1..=6).contains(&words.len())
        && words.iter().all(|w| w.chars().all(|c| c.is_alphabetic() || matches!(c, '\'' | '-' | '.' | ',')))
        && words.iter().any(|w| w.chars().next().is_some_and(char::is_uppercase))
}

/// Whether `name` can be a custom kind name.
fn valid_custom_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && name != "TOKEN"
        && !PiiKind::BUILTIN.iter().any(|kind| kind.as_str() == name)
}

impl Detector {
    /// Compiles the detector for `config`.
    ///
    /// `enabled` may list only built-in kinds (custom kinds are always on):
    /// an unknown name is an error rather than a kind nothing detects.
    pub fn new(config: &PiiConfig) -> Result<Detector, PiiConfigError> {
        check_kinds("detect.enabled", &config.enabled, &builtin_names())?;
        let enabled: HashSet<PiiKind> = config.enabled.iter().cloned().collect();
        let mut recognizers = Vec::new();
        for (name, pattern) in &config.custom {
            let upper = name.to_uppercase();
            if !valid_custom_name(&upper) {
                return Err(PiiConfigError::InvalidName(name.clone()));
            }
            let regex = Regex::new(pattern).map_err(|source| PiiConfigError::Regex { name: name.clone(), source })?;
            recognizers.push(Recognizer { kind: PiiKind::Custom(upper), regex, check: Check::Custom });
        }
        let has_custom = !recognizers.is_empty();
        for (kind, check, pattern) in BUILTIN {
            if enabled.contains(kind) {
                // The built-in patterns are constants covered by the tests.
                let regex = Regex::new(pattern)
                    .map_err(|source| PiiConfigError::Regex { name: kind.as_str().to_owned(), source })?;
                recognizers.push(Recognizer { kind: kind.clone(), regex, check: *check });
            }
        }
        let set = RegexSet::new(recognizers.iter().map(|r| r.regex.as_str()))
            .map_err(|source| PiiConfigError::Regex { name: "*".to_owned(), source })?;
        Ok(Detector {
            recognizers,
            set,
            has_custom,
            enabled,
            person_keys: config.context_keys_person.iter().map(|k| normalize_key(k).into_owned()).collect(),
            address_keys: config.context_keys_address.iter().map(|k| normalize_key(k).into_owned()).collect(),
            secret_keys: config
                .secret_keys
                .iter()
                .map(|k| normalize_key(k).into_owned())
                .filter(|k| !k.is_empty())
                .collect(),
            allow: config.allow.iter().cloned().collect(),
        })
    }

    /// Whether `kind` is detected (custom kinds are always).
    pub fn is_enabled(&self, kind: &PiiKind) -> bool {
        matches!(kind, PiiKind::Custom(_)) || self.enabled.contains(kind)
    }

    /// Whether `value` is on the allow-list.
    pub fn is_allowed(&self, value: &str) -> bool {
        self.allow.contains(value)
    }

    /// The personal data in `text`: checksum-validated, not allow-listed,
    /// non-overlapping, leftmost-longest, in order. Among equal spans a
    /// custom recognizer wins, then the built-ins in a fixed order.
    pub fn find(&self, text: &str) -> Vec<Match> {
        let bytes = text.as_bytes();
        let has_digit = bytes.iter().any(u8::is_ascii_digit);
        let has_at = has_digit || bytes.contains(&b'@');
        if !has_digit && !has_at && !self.has_custom {
            return Vec::new();
        }
        let mut found: Vec<Match> = Vec::new();
        for index in self.set.matches(text).iter() {
            let Some(recognizer) = self.recognizers.get(index) else { continue };
            let applies = match recognizer.check {
                Check::Custom => true,
                Check::Email => has_at,
                _ => has_digit,
            };
            if !applies {
                continue;
            }
            for candidate in recognizer.regex.find_iter(text) {
                if let Some((start, end)) = validate(recognizer.check, text, candidate.start(), candidate.end())
                    && start < end
                    && !self.allow.contains(&text[start..end])
                {
                    found.push(Match { start, end, kind: recognizer.kind.clone() });
                }
            }
        }
        select_leftmost_longest(found)
    }

    /// `text` with every detection replaced by its kind in brackets
    /// (`[EMAIL]`): for logs, where no vault is at hand and nothing needs
    /// to be turned back. Borrows `text` when nothing is found.
    pub fn redact<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        let found = self.find(text);
        if found.is_empty() {
            return std::borrow::Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for m in found {
            out.push_str(&text[last..m.start]);
            out.push('[');
            out.push_str(m.kind.as_str());
            out.push(']');
            last = m.end;
        }
        out.push_str(&text[last..]);
        std::borrow::Cow::Owned(out)
    }

    /// The kind a JSON value is by context: the value of a person or
    /// address key (if it has a letter), or a credential under a secret
    /// key (see [`PiiConfig::secret_keys`]). `None` without a key, for
    /// allow-listed values, and for disabled kinds.
    pub fn classify_value(&self, key: Option<&str>, value: &str) -> Option<PiiKind> {
        let normalized = normalize_key(key?);
        let key: &str = &normalized;
        if value.is_empty() || self.is_allowed(value) {
            return None;
        }
        if self.enabled.contains(&PiiKind::Secret) && self.is_secret(key, value) {
            return Some(PiiKind::Secret);
        }
        if self.enabled.contains(&PiiKind::UsSsn) && is_ssn_key(key) && is_plain_ssn(value) {
            return Some(PiiKind::UsSsn);
        }
        let has_letter = value.chars().any(char::is_alphabetic);
        if has_letter
            && self.enabled.contains(&PiiKind::Person)
            && self.person_keys.contains(key)
            && (!AMBIGUOUS_PERSON_KEYS.contains(&key) || looks_like_person_name(value))
        {
            return Some(PiiKind::Person);
        }
        if has_letter && self.enabled.contains(&PiiKind::Address) && self.address_keys.contains(key) {
            return Some(PiiKind::Address);
        }
        None
    }

    /// Whether numbers under `key` may be identifiers (not under a time key
    /// such as `created_at`, where a Unix time can pass a checksum by luck).
    pub fn numbers_may_identify(&self, key: Option<&str>) -> bool {
        key.is_none_or(|key| !is_time_key(&normalize_key(key)))
    }

    /// Whether `value` under the normalised `key` is a credential.
    fn is_secret(&self, key: &str, value: &str) -> bool {
        if !self.secret_keys.iter().any(|k| key.ends_with(k.as_str())) {
            return false;
        }
        if key.contains("pass") || key.ends_with("pwd") {
            return true;
        }
        let mut rest = value;
        for scheme in ["Bearer ", "Basic ", "Token ", "bearer ", "basic ", "token "] {
            if let Some(stripped) = value.strip_prefix(scheme) {
                rest = stripped;
                break;
            }
        }
        rest.chars().count() >= 8 && !rest.chars().any(char::is_whitespace) && entropy(rest) >= 3.0
    }
}

/// Shannon entropy of `s` in bits per character.
pub(crate) fn entropy(s: &str) -> f64 {
    let mut counts: Vec<(char, u32)> = Vec::new();
    let mut total = 0u32;
    for c in s.chars() {
        total += 1;
        match counts.iter_mut().find(|(seen, _)| *seen == c) {
            Some((_, n)) => *n += 1,
            None => counts.push((c, 1)),
        }
    }
    if total == 0 {
        return 0.0;
    }
    let total = f64::from(total);
    counts
        .iter()
        .map(|(_, n)| {
            let p = f64::from(*n) / total;
            -p * p.log2()
        })
        .sum()
}

/// Keeps the leftmost match, the longest among those starting there, then
/// repeats after it. Stable: among equal spans the earlier one wins.
pub(crate) fn select_leftmost_longest(mut found: Vec<Match>) -> Vec<Match> {
    if found.len() < 2 {
        return found;
    }
    found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut chosen: Vec<Match> = Vec::with_capacity(found.len());
    for m in found {
        if chosen.last().is_none_or(|last| m.start >= last.end) {
            chosen.push(m);
        }
    }
    chosen
}

/// Whether a normalised key names a US social security or taxpayer number.
fn is_ssn_key(key: &str) -> bool {
    key.contains("ssn") || key.contains("socialsecurity") || key == "taxid" || key == "tin"
}

/// Whether `value` is nine digits (dashes or spaces allowed) in valid SSN
/// ranges.
fn is_plain_ssn(value: &str) -> bool {
    let digits: String = value.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    digits.len() == 9
        && digits.bytes().all(|b| b.is_ascii_digit())
        && checksums::us_ssn(&digits[..3], &digits[3..5], &digits[5..])
}

/// Whether a normalised key holds a time (`created_at`, `ts`,
/// `timestamp`, `updated`): numbers under it are not identifiers, however
/// their digits happen to check out.
pub(crate) fn is_time_key(key: &str) -> bool {
    key == "ts"
        || key.ends_with("at")
        || ["time", "date", "created", "updated", "modified", "expires", "epoch"].iter().any(|w| key.contains(w))
}

/// Whether `start..end` continues a run of digit groups (`9592 0766 2305
/// 2669`): a space or dash with a digit on its far side on either end.
fn inside_digit_groups(text: &str, start: usize, end: usize) -> bool {
    let spacer = |c: Option<char>| matches!(c, Some(' ' | '-'));
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    let before = char_before(text, start);
    let after = char_at(text, end);
    (spacer(before) && digit(char_before(text, start - 1))) || (spacer(after) && digit(char_at(text, end + 1)))
}

/// Whether "SSN" or "social security" stands near `start..end` (48 bytes
/// before, 32 after): nine plain digits are an SSN only when the text says
/// so.
fn mentions_ssn_near(text: &str, start: usize, end: usize) -> bool {
    let mut from = start.saturating_sub(48);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let mut to = (end + 32).min(text.len());
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    let says = |part: &str| {
        let part = part.to_ascii_lowercase();
        part.contains("ssn") || part.contains("social security")
    };
    says(&text[from..start]) || says(&text[end..to])
}

/// Whether `s` is laid out like an SSN (`NNN-NN-NNNN`, `NNN NN NNNN`):
/// such a number that fails the SSN ranges is no phone number either.
fn ssn_shaped(s: &str) -> bool {
    let parts: Vec<&str> = s.split(['-', ' ']).collect();
    parts.len() == 3
        && parts.iter().map(|p| p.len()).eq([3, 2, 4])
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// The character before byte `i`.
fn char_before(text: &str, i: usize) -> Option<char> {
    text.get(..i)?.chars().next_back()
}

/// The character at byte `i`.
fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..)?.chars().next()
}

/// Whether `c` continues a word.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `start..end` stands on its own as a number: no word character
/// next to it, and no `.`, `,`, `-`, `/` or `_` joining it to a word or
/// number (a date, a version, a decimal, an order id).
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let joiner = |c: char| matches!(c, '.' | ',' | '-' | '/' | '_');
    if let Some(before) = char_before(text, start) {
        if is_word(before) {
            return false;
        }
        if joiner(before) && char_before(text, start - before.len_utf8()).is_some_and(is_word) {
            return false;
        }
    }
    if let Some(after) = char_at(text, end) {
        if is_word(after) {
            return false;
        }
        if joiner(after) && char_at(text, end + after.len_utf8()).is_some_and(is_word) {
            return false;
        }
    }
    true
}

/// Number of ASCII digits in `s`.
fn digit_count(s: &str) -> usize {
    s.bytes().filter(u8::is_ascii_digit).count()
}

/// Checks a candidate at `start..end`; the span to keep, maybe narrowed.
fn validate(check: Check, text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let s = text.get(start..end)?;
    match check {
        Check::Custom => Some((start, end)),
        Check::Email => {
            let trimmed = s.trim_start_matches(['.', '%', '+', '-']);
            let start = end - trimmed.len();
            let local = trimmed.split('@').next()?;
            (!local.is_empty()).then_some((start, end))
        }
        Check::Secret => {
            let glued = |c: char| is_word(c) || c == '-';
            let ok = s.bytes().any(|b| b.is_ascii_digit())
                && !char_before(text, start).is_some_and(glued)
                && !char_at(text, end).is_some_and(is_word);
            ok.then_some((start, end))
        }
        Check::PhoneIntl => {
            let digits = digit_count(s) - usize::from(s.contains("(0)"));
            let ok = (9..=15).contains(&digits)
                && !char_before(text, start).is_some_and(is_word)
                && standalone(text, start + 1, end);
            ok.then_some((start, end))
        }
        Check::PhoneNational => {
            let digits = digit_count(s);
            let ok = (9..=12).contains(&digits) && s.matches('(').count() == s.matches(')').count();
            let ok = ok && standalone(text, start, end) && !inside_digit_groups(text, start, end) && !ssn_shaped(s);
            ok.then_some((start, end))
        }
        Check::Card => validate_card(text, start, end),
        Check::Iban => validate_iban(text, start, end),
        Check::Ssn => {
            let mut parts = s.split(['-', ' ']);
            let (area, group, serial) = (parts.next()?, parts.next()?, parts.next()?);
            (checksums::us_ssn(area, group, serial) && standalone(text, start, end)).then_some((start, end))
        }
        Check::SsnPlain => {
            let ok = checksums::us_ssn(&s[..3], &s[3..5], &s[5..])
                && standalone(text, start, end)
                && mentions_ssn_near(text, start, end);
            ok.then_some((start, end))
        }
        Check::Snils => {
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            (checksums::snils(&digits) && standalone(text, start, end)).then_some((start, end))
        }
        Check::Inn => {
            let ok = if s.len() == 10 { checksums::inn10(s) } else { checksums::inn12(s) };
            (ok && standalone(text, start, end)).then_some((start, end))
        }
        Check::Ipv4 => {
            let octets_ok =
                s.split('.').all(|octet| (octet == "0" || !octet.starts_with('0')) && octet.parse::<u8>().is_ok());
            (octets_ok && standalone(text, start, end)).then_some((start, end))
        }
        Check::Ipv6 => {
            let edge = |c: char| is_word(c) || c == ':' || c == '.';
            let ok = s.bytes().any(|b| b.is_ascii_digit())
                && !char_before(text, start).is_some_and(edge)
                && !char_at(text, end).is_some_and(|c| is_word(c) || c == ':')
                && s.parse::<Ipv6Addr>().is_ok();
            ok.then_some((start, end))
        }
    }
}

/// A card number: one run of 13–19 digits, or groups split by one kind of
/// separator (trailing groups dropped until the rest passes), Luhn-checked
/// and not a single repeated digit.
fn validate_card(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let s = text.get(start..end)?;
    let separators: Vec<usize> = s.match_indices([' ', '-']).map(|(i, _)| i).collect();
    let bytes = s.as_bytes();
    if let Some(&first) = separators.first()
        && separators.iter().any(|&i| bytes[i] != bytes[first])
    {
        // Mixed separators: keep only the groups before the first change.
        let change = separators.iter().copied().find(|&i| bytes[i] != bytes[first])?;
        return validate_card(text, start, start + change);
    }
    // Group ends, longest first: the whole candidate, then before each separator.
    let ends = std::iter::once(s.len()).chain(separators.iter().rev().copied());
    for group_end in ends {
        let part = &s[..group_end];
        let digits: String = part.chars().filter(char::is_ascii_digit).collect();
        if !(13..=19).contains(&digits.len()) {
            continue;
        }
        let repeated = digits.bytes().all(|b| b == digits.as_bytes()[0]);
        let groups_ok = part.split([' ', '-']).all(|g| g.len() >= 3 || separators.is_empty());
        if !repeated && groups_ok && checksums::luhn(&digits) && standalone(text, start, start + group_end) {
            return Some((start, start + group_end));
        }
    }
    None
}

/// An IBAN: as long as its country requires (spaces allowed between
/// characters), mod-97 checked, not followed by a word character.
fn validate_iban(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let s = text.get(start..end)?;
    let len = checksums::iban_length(s.get(..2)?)?;
    let mut compact = String::with_capacity(len);
    let mut cut = None;
    for (i, c) in s.char_indices() {
        if c != ' ' {
            compact.push(c);
            if compact.len() == len {
                cut = Some(i + c.len_utf8());
                break;
            }
        }
    }
    let cut = cut?;
    let ok = checksums::iban(&compact) && !char_at(text, start + cut).is_some_and(is_word);
    ok.then_some((start, start + cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Detector {
        Detector::new(&PiiConfig::default()).unwrap()
    }

    /// The single match in `text`, as (matched text, kind).
    fn found(d: &Detector, text: &str) -> Vec<(String, PiiKind)> {
        d.find(text).into_iter().map(|m| (text[m.start..m.end].to_owned(), m.kind)).collect()
    }

    fn assert_one(text: &str, value: &str, kind: PiiKind) {
        let d = detector();
        assert_eq!(found(&d, text), vec![(value.to_owned(), kind)], "in {text:?}");
    }

    fn assert_none(text: &str) {
        let d = detector();
        assert_eq!(found(&d, text), vec![], "in {text:?}");
    }

    #[test]
    fn phones_with_short_and_long_groups() {
        let d = Detector::new(&PiiConfig::default()).unwrap();
        for phone in ["+33 6 28 46 95 05", "+44 7471 526318", "+81 3-7406-8052", "+31 6 52882251", "8 (495) 672-04-95"]
        {
            let text = format!("call {phone} today");
            let found = d.find(&text);
            assert_eq!(found.len(), 1, "{phone}: {found:?}");
            assert_eq!((&text[found[0].start..found[0].end], &found[0].kind), (phone, &PiiKind::Phone));
        }
    }

    #[test]
    fn ssns_by_shape_context_and_key() {
        let d = Detector::new(&PiiConfig::default()).unwrap();
        let kinds = |text: &str| d.find(text).into_iter().map(|m| m.kind).collect::<Vec<_>>();
        assert_eq!(kinds("SSN: 097-69-4761"), [PiiKind::UsSsn]);
        assert_eq!(kinds("social security number is 137072464."), [PiiKind::UsSsn]);
        assert_eq!(kinds("order 137072464 shipped"), []);
        assert_eq!(kinds("The form lists 137072464 as the SSN."), [PiiKind::UsSsn]);
        assert_eq!(kinds("SSN 064-00-0598 is invalid"), []);
        assert_eq!(kinds("SSN 666072464 or 000123456"), []);
        assert_eq!(kinds("SNILS 077-712-710 82"), [PiiKind::RuSnils]);
        assert_eq!(kinds("order 9592 0766 2305 2669"), []);
        assert_eq!(kinds("Tel. 030 1234567"), [PiiKind::Phone]);
        assert_eq!(d.classify_value(Some("ssn"), "137072464"), Some(PiiKind::UsSsn));
        assert_eq!(d.classify_value(Some("social_security_number"), "137-07-2464"), Some(PiiKind::UsSsn));
        assert_eq!(d.classify_value(Some("order_id"), "137072464"), None);
        assert!(!d.numbers_may_identify(Some("created_at")) && !d.numbers_may_identify(Some("ts")));
        assert!(d.numbers_may_identify(Some("inn")) && d.numbers_may_identify(None));
    }

    #[test]
    fn the_generic_name_key_needs_a_name_shaped_value() {
        let d = Detector::new(&PiiConfig::default()).unwrap();
        for person in ["Ivan Petrov", "Guido van Rossum", "Anne-Marie O'Neil", "Иван Петров", "Li"] {
            assert_eq!(d.classify_value(Some("name"), person), Some(PiiKind::Person), "{person}");
        }
        for thing in ["review", "report-2024.pdf", "list_customers", "Q3 budget 2024", "get user by id"] {
            assert_eq!(d.classify_value(Some("name"), thing), None, "{thing}");
        }
        // Specific keys take any value with a letter.
        assert_eq!(d.classify_value(Some("full_name"), "ivan petrov"), Some(PiiKind::Person));
    }

    #[test]
    fn redact_names_kinds_only() {
        let d = Detector::new(&PiiConfig::default()).unwrap();
        assert_eq!(d.redact("mail a@b.io from 10.0.0.1"), "mail [EMAIL] from [IP]");
        assert!(matches!(d.redact("nothing"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn emails() {
        assert_one(
            "write to ivan.petrov+crm@mail.example.co.uk.",
            "ivan.petrov+crm@mail.example.co.uk",
            PiiKind::Email,
        );
        assert_one("<a@b.io>", "a@b.io", PiiKind::Email);
        assert_one("..x@y.com", "x@y.com", PiiKind::Email);
        assert_none("user@localhost or @handle or a@b");
    }

    #[test]
    fn phones() {
        for (text, phone) in [
            ("call +7 (912) 345-67-89 now", "+7 (912) 345-67-89"),
            ("call +79123456789.", "+79123456789"),
            ("tel:8 (912) 345-67-89", "8 (912) 345-67-89"),
            ("моб. 8 912 345 67 89", "8 912 345 67 89"),
            ("моб. 89123456789", "89123456789"),
            ("US +1 (555) 123-4567", "+1 (555) 123-4567"),
            ("US (555) 234-5678", "(555) 234-5678"),
            ("US 555-234-5678", "555-234-5678"),
            ("US 555.234.5678", "555.234.5678"),
            ("US 555 234 5678", "555 234 5678"),
            ("UK +44 20 7946 0958", "+44 20 7946 0958"),
            ("UK +44 (0)20 7946 0958", "+44 (0)20 7946 0958"),
            ("UK 020 7946 0958", "020 7946 0958"),
            ("UK 07700 900123", "07700 900123"),
            ("DE +49 30 12345678", "+49 30 12345678"),
            ("DE 030/12345678", "030/12345678"),
            ("DE (030) 1234567", "(030) 1234567"),
            ("DE 0171-1234567", "0171-1234567"),
        ] {
            assert_one(text, phone, PiiKind::Phone);
        }
        assert_none("555-234.5678 and 555-123-4567 and +12 34 and 0123 45");
        assert_none("ORD-0123-456789");
    }

    #[test]
    fn cards() {
        assert_one("card 4111 1111 1111 1111 exp 12/27", "4111 1111 1111 1111", PiiKind::CreditCard);
        assert_one("card 4111-1111-1111-1111", "4111-1111-1111-1111", PiiKind::CreditCard);
        assert_one("card 4111111111111111", "4111111111111111", PiiKind::CreditCard);
        assert_one("amex 3782 822463 10005", "3782 822463 10005", PiiKind::CreditCard);
        assert_one("4111 1111 1111 1111 12", "4111 1111 1111 1111", PiiKind::CreditCard);
        // Order numbers failing Luhn, mixed separators, repeated digits.
        assert_none("order 1234567812345678");
        assert_none("order 1234 5678 1234 5678");
        assert_none("0000 0000 0000 0000 and 4444444444444444");
        assert_none("a4111111111111111");
    }

    #[test]
    fn ibans() {
        assert_one("IBAN DE89370400440532013000.", "DE89370400440532013000", PiiKind::Iban);
        assert_one("IBAN DE89 3704 0044 0532 0130 00 EUR", "DE89 3704 0044 0532 0130 00", PiiKind::Iban);
        assert_one("GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32", PiiKind::Iban);
        assert_none("DE89370400440532013001 and DE8937040044053201300X");
    }

    #[test]
    fn ssns() {
        assert_one("SSN 123-45-6789", "123-45-6789", PiiKind::UsSsn);
        assert_one("SSN 123 45 6789", "123 45 6789", PiiKind::UsSsn);
        assert_none("666-45-6789 000-12-3456 912-34-5678 123-00-4567 123-45-0000 123-45 6789");
    }

    #[test]
    fn ips() {
        assert_one("from 192.168.1.10:8080", "192.168.1.10", PiiKind::Ip);
        assert_one("version 1.2.3.4", "1.2.3.4", PiiKind::Ip);
        assert_one("host fe80::1%eth0", "fe80::1", PiiKind::Ip);
        assert_one("[2001:db8:85a3::8a2e:370:7334]", "2001:db8:85a3::8a2e:370:7334", PiiKind::Ip);
        assert_one("mapped ::ffff:192.0.2.1 ok", "::ffff:192.0.2.1", PiiKind::Ip);
        assert_none("v1.2.3.4 1.2.3 1.2.3.4.5 256.1.1.1 01.02.03.04");
        assert_none("std::fmt::Display at 12:30:45, mac 00:1A:2B:3C:4D:5E, Foo::bar");
    }

    #[test]
    fn inns_and_snils() {
        assert_one("ИНН 7707083893", "7707083893", PiiKind::RuInn);
        assert_one("ИНН: 500100732259;", "500100732259", PiiKind::RuInn);
        assert_none("id 1234567890 and 123456789012 and 0000000000");
        assert_one("СНИЛС 112-233-445 95", "112-233-445 95", PiiKind::RuSnils);
        assert_one("СНИЛС 112-233-445-95", "112-233-445-95", PiiKind::RuSnils);
        assert_one("snils 11223344595", "11223344595", PiiKind::RuSnils);
        assert_none("112-233-445 96 and 12345678901");
    }

    #[test]
    fn secrets() {
        for secret in [
            "sk-proj-abcdefghijklmnop1234567890",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "AKIAIOSFODNN7EXAMPLE",
            "sk_live_abcdefgh12345678",
            "xoxb-1234567890-abcdef",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ] {
            assert_one(&format!("key={secret} "), secret, PiiKind::Secret);
        }
        assert_none("use sk-learn-is-a-python-library ok, task-sk-12345678901234567890abc, AKIAIOSFODNN7EXAMPLE1");
    }

    #[test]
    fn decoys_survive() {
        assert_none("on 2024-05-17 at 10:30, 17.05.2024, 17/05/2024");
        assert_none("release 1.2.3 or v1.2.3.4, build 2.0.1-beta");
        assert_none("id 123e4567-e89b-12d3-a456-426614174000");
        assert_none("price 1234.56 USD, 1 234 567.89 RUB, total 99.99");
        assert_none("order #ORD-2024-000123, ticket 48213, sku 1234567890123");
        assert_none("no digits here at all");
    }

    #[test]
    fn several_in_order_and_overlaps() {
        let d = detector();
        let text = "a@b.io, +7 912 345 67 89, 4111111111111111";
        let kinds: Vec<PiiKind> = d.find(text).into_iter().map(|m| m.kind).collect();
        assert_eq!(kinds, [PiiKind::Email, PiiKind::Phone, PiiKind::CreditCard]);
        let picked = select_leftmost_longest(vec![
            Match { start: 5, end: 9, kind: PiiKind::Ip },
            Match { start: 0, end: 4, kind: PiiKind::Phone },
            Match { start: 0, end: 6, kind: PiiKind::Email },
            Match { start: 6, end: 8, kind: PiiKind::Secret },
        ]);
        assert_eq!(
            picked,
            [Match { start: 0, end: 6, kind: PiiKind::Email }, Match { start: 6, end: 8, kind: PiiKind::Secret }]
        );
    }

    #[test]
    fn config_enable_custom_allow() {
        let config = PiiConfig {
            enabled: vec![PiiKind::Email],
            custom: [("employee_id".into(), r"EMP-[0-9]{6}".into())].into(),
            allow: vec!["support@example.com".into()],
            ..PiiConfig::default()
        };
        let d = Detector::new(&config).unwrap();
        assert_eq!(
            found(&d, "EMP-123456 support@example.com x@y.org 4111111111111111"),
            [("EMP-123456".to_owned(), PiiKind::custom("EMPLOYEE_ID")), ("x@y.org".to_owned(), PiiKind::Email)]
        );
        assert!(d.is_enabled(&PiiKind::custom("ANY")));
        assert!(!d.is_enabled(&PiiKind::Phone));
        assert_eq!(
            found(&d, "EMP-000001 no digits otherwise"),
            [("EMP-000001".to_owned(), PiiKind::custom("EMPLOYEE_ID"))]
        );
        for name in ["EMAIL", "token", "1X", "a b", ""] {
            let bad = PiiConfig { custom: [(name.into(), "x".into())].into(), ..PiiConfig::default() };
            assert!(matches!(Detector::new(&bad), Err(PiiConfigError::InvalidName(_))), "{name}");
        }
        let bad = PiiConfig { custom: [("X".into(), "(".into())].into(), ..PiiConfig::default() };
        assert!(matches!(Detector::new(&bad), Err(PiiConfigError::Regex { .. })));
    }

    #[test]
    fn config_serde() {
        let config: PiiConfig = serde_json::from_str(r#"{"enabled": ["EMAIL", "phone"], "allow": ["x"]}"#).unwrap();
        assert_eq!(config.enabled, [PiiKind::Email, PiiKind::Phone]);
        assert_eq!(config.context_keys_person, PiiConfig::default().context_keys_person);
        assert!(serde_json::from_str::<PiiConfig>(r#"{"enabeld": []}"#).is_err());
        let round: PiiConfig = serde_json::from_value(serde_json::to_value(&config).unwrap()).unwrap();
        assert_eq!(round, config);
    }

    #[test]
    fn classify_by_key() {
        let d = detector();
        assert_eq!(d.classify_value(Some("full_name"), "Иван Петров"), Some(PiiKind::Person));
        assert_eq!(d.classify_value(Some("fullName"), "Ivan Petrov"), Some(PiiKind::Person));
        assert_eq!(d.classify_value(Some("ФИО"), "Петров И. И."), Some(PiiKind::Person));
        assert_eq!(d.classify_value(Some("street"), "221B Baker Street"), Some(PiiKind::Address));
        assert_eq!(d.classify_value(Some("name"), "12345"), None);
        assert_eq!(d.classify_value(Some("name"), ""), None);
        assert_eq!(d.classify_value(None, "Ivan"), None);
        assert_eq!(d.classify_value(Some("email_address"), "a@b.io"), None);
        assert_eq!(d.classify_value(Some("password"), "hunter2"), Some(PiiKind::Secret));
        assert_eq!(d.classify_value(Some("access_token"), "Bearer 9f8a7b6c5d4e3f2a1b0c"), Some(PiiKind::Secret));
        assert_eq!(d.classify_value(Some("apiKey"), "AbC9xYz1QwErTy77"), Some(PiiKind::Secret));
        assert_eq!(d.classify_value(Some("token"), "aaaaaaaaaaaa"), None);
        assert_eq!(d.classify_value(Some("secret"), "not a secret at all"), None);
        assert_eq!(d.classify_value(Some("max_tokens"), "AbC9xYz1QwErTy77"), None);
        let config = PiiConfig { allow: vec!["Admin".into()], enabled: vec![PiiKind::Address], ..PiiConfig::default() };
        let d = Detector::new(&config).unwrap();
        assert_eq!(d.classify_value(Some("name"), "Admin"), None);
        assert_eq!(d.classify_value(Some("name"), "Ivan"), None);
        assert_eq!(d.classify_value(Some("password"), "x"), None);
        assert_eq!(d.classify_value(Some("address"), "Main St 1"), Some(PiiKind::Address));
    }

    #[test]
    fn entropy_values() {
        assert_eq!(entropy(""), 0.0);
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
    }
}
