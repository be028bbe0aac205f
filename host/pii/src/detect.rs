//! Detection: where personal data sits in a text, and whether a JSON value
//! is personal data because of the key it is stored under.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::sync::{Arc, OnceLock};

use regex::Regex;
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
    /// A Russian national number (`8 (912) 345-67-89`).
    PhoneRu,
    /// A North American number (`(555) 234-5678`).
    PhoneUs,
    /// A number with a trunk prefix 0 (`030 1234567`, `07700 900123`).
    PhoneZero,
    Card,
    Iban,
    Ssn,
    SsnPlain,
    Ipv4,
    Ipv6,
    Inn,
    Snils,
    Secret,
}

/// Built-in recognizers: kind, check, pattern (e-mail addresses are found
/// by [`find_emails`], not by a pattern). ASCII-only classes and word
/// boundaries keep the regex engine on its fast paths. Where two find the
/// same span, the earlier wins: the checksummed SSN and SNILS shapes come
/// before the looser national phone patterns.
///
/// The patterns are compiled once per process, each the first time a text
/// passes its prefilter (see [`Features::admits`]), and shared by every
/// [`Detector`].
const BUILTIN: [(PiiKind, Check, &str); 14] = [
    (
        PiiKind::Secret,
        Check::Secret,
        concat!(
            r"(?-u:\b)(?:sk-(?:proj-|ant-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}",
            r"|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|(?:AKIA|ASIA)[0-9A-Z]{16}",
            r"|xox[abprs]-[A-Za-z0-9-]{10,}|xapp-[0-9A-Za-z-]{20,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,}",
            r"|hf_[A-Za-z0-9]{30,}|npm_[A-Za-z0-9]{36}|pypi-AgE[A-Za-z0-9_-]{50,}",
            r"|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}|dop_v1_[a-f0-9]{64}",
            r"|ya29\.[0-9A-Za-z_-]{20,}|eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+)",
        ),
    ),
    (PiiKind::Email, Check::Email, ""),
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
        Check::PhoneRu,
        r"(?-u:\b)8[ -]?(?:\([3-9][0-9]{2}\)|9[0-9]{2})[ -]?[0-9]{3}[ -]?[0-9]{2}[ -]?[0-9]{2}(?-u:\b)",
    ),
    (
        PiiKind::Phone,
        Check::PhoneUs,
        r"(?:\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[-. ]|(?-u:\b)[2-9][0-9]{2}-[2-9][0-9]{2}-|(?-u:\b)[2-9][0-9]{2}\.[2-9][0-9]{2}\.|(?-u:\b)[2-9][0-9]{2} [2-9][0-9]{2} )[0-9]{4}(?-u:\b)",
    ),
    (
        PiiKind::Phone,
        Check::PhoneZero,
        r"(?:\(0[1-9][0-9]{1,4}\) ?|(?-u:\b)0[1-9][0-9]{1,4}[ /-])[0-9]{2,8}(?:[ -][0-9]{2,5}){0,2}(?-u:\b)",
    ),
    (PiiKind::RuInn, Check::Inn, r"(?-u:\b)(?:[0-9]{12}|[0-9]{10})(?-u:\b)"),
    (PiiKind::Ip, Check::Ipv4, r"(?-u:\b)(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?-u:\b)"),
    (PiiKind::Ip, Check::Ipv6, r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}"),
];

/// The compiled built-in patterns, by position in [`BUILTIN`].
static COMPILED: [OnceLock<Regex>; BUILTIN.len()] = [const { OnceLock::new() }; BUILTIN.len()];

/// The compiled pattern of built-in recognizer `index`.
fn builtin_regex(index: usize) -> &'static Regex {
    COMPILED[index].get_or_init(|| {
        // The built-in patterns are constants that the tests compile.
        Regex::new(BUILTIN[index].2).expect("built-in PII patterns compile")
    })
}

/// What a pass or two over a text's bytes tells about it: which
/// recognizers can possibly match, so that the others are not run at all
/// (running a pattern costs some 100 ns even on a short text).
///
/// A pattern match starts at an ASCII word boundary (`(?-u:\b)`), so the
/// stretches of digits below are counted from a digit that follows a byte
/// other than `[A-Za-z0-9_]`, and end at a digit followed by one.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Features {
    digits: usize,
    /// The lengths of the runs of digits on word boundaries (`1 << len`,
    /// lengths from 63 up as 63).
    bounded_runs: u64,
    /// Digit stretches joined by single spaces or dashes (`4111 1111 1111
    /// 1111`, `123-45-6789`): the most digits in one; whether one ends in
    /// groups of 3, 2 and 4 digits (an SSN) or of 3, 3, 3 and 2 (a SNILS).
    grouped: usize,
    ssn_shape: bool,
    snils_shape: bool,
    /// Digit stretches joined by one or two of ` -./()` (`+7 (912)
    /// 345-67-89`, `030/1234567`): the most digits in one; whether one
    /// holds 11 digits from a group starting with 8 (a Russian number),
    /// ends in groups of 3, 3 and 4 digits (North American), or has 9
    /// digits from a group starting with 0 followed by another group.
    phone: usize,
    phone_ru: bool,
    phone_us: bool,
    phone_zero: bool,
    /// Three or more digits followed by a dot and a digit (`10.0.0.1`).
    dotted_digits: usize,
    /// The longest stretch of capitals and digits joined by single spaces
    /// (`DE89 3704 0044 0532 0130 00`).
    iban_chars: usize,
    /// A word starts with the prefix of a secret format (`sk-`, `ghp_`,
    /// `AKIA`...).
    secret_prefix: bool,
    at: bool,
    plus: bool,
    colons: usize,
    double_colon: bool,
    /// A `[` (which a token lookalike starts with).
    pub(crate) bracket: bool,
}

/// Whether `b` is an ASCII word character, as `(?-u:\b)` sees words.
const fn ascii_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The prefixes of the secret formats of [`BUILTIN`]'s first pattern: a
/// secret can only start where a word starts with one of them.
const SECRET_PREFIXES: [&[u8]; 28] = [
    b"sk-",
    b"sk_live_",
    b"sk_test_",
    b"rk_live_",
    b"rk_test_",
    b"ghp_",
    b"gho_",
    b"ghu_",
    b"ghs_",
    b"ghr_",
    b"github_pat_",
    b"AKIA",
    b"ASIA",
    b"xox",
    b"xapp-",
    b"AIza",
    b"glpat-",
    b"hf_",
    b"npm_",
    b"pypi-AgE",
    b"SG.",
    b"shpat_",
    b"shpca_",
    b"shppa_",
    b"shpss_",
    b"dop_v1_",
    b"ya29.",
    b"eyJ",
];

/// Byte flags for [`secret_prefix_in`]: the first bytes of
/// [`SECRET_PREFIXES`], and what glues a secret to what precedes it (a
/// word character or `-`).
const SECRET_FIRST: u8 = 1;
const SECRET_GLUE: u8 = 2;
static SECRET_BYTES: [u8; 256] = {
    let mut table = [0; 256];
    let mut i = 0;
    while i < SECRET_PREFIXES.len() {
        table[SECRET_PREFIXES[i][0] as usize] |= SECRET_FIRST;
        i += 1;
    }
    let mut b = 0;
    while b < 256 {
        if ascii_word(b as u8) || b == b'-' as usize {
            table[b] |= SECRET_GLUE;
        }
        b += 1;
    }
    table
};

/// Whether a secret format's prefix starts a word of `bytes` (where no
/// word character or `-` precedes it).
fn secret_prefix_in(bytes: &[u8]) -> bool {
    let mut glued = false;
    for (i, &b) in bytes.iter().enumerate() {
        let flags = SECRET_BYTES[usize::from(b)];
        if !glued && flags & SECRET_FIRST != 0 && secret_prefix_at(&bytes[i..]) {
            return true;
        }
        glued = flags & SECRET_GLUE != 0;
    }
    false
}

/// Whether a secret format's prefix starts `rest`.
fn secret_prefix_at(rest: &[u8]) -> bool {
    SECRET_PREFIXES.iter().any(|prefix| rest.starts_with(prefix))
}

/// Whether `b` may stand between the digit groups of a phone number.
const fn is_phone_separator(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'/' | b'(' | b')')
}

/// Byte classes for [`Features::measure_digits`]: 1 for a digit, 2 for a
/// phone separator, 0 for anything else (one load per byte instead of two
/// tests in its hottest loop).
static STRETCH_BYTES: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        if (b as u8).is_ascii_digit() {
            table[b] = 1;
        } else if is_phone_separator(b as u8) {
            table[b] = 2;
        }
        b += 1;
    }
    table
};

/// The most digits in one stretch of digits and phone separators of
/// `bytes`: [`Features::measure_digits`] has work only from nine. Without
/// branches, so that text where digits and letters alternate (hashes,
/// dates) costs no mispredictions.
fn most_stretch_digits(bytes: &[u8]) -> usize {
    let (mut run, mut most) = (0usize, 0usize);
    for &b in bytes {
        let class = STRETCH_BYTES[usize::from(b)];
        run = (run + usize::from(class & 1)) * usize::from(class != 0);
        most = most.max(run);
    }
    most
}

/// A stretch of digit groups joined by separators, counted from the
/// earliest digit a match may start at.
#[derive(Debug, Default, Clone, Copy)]
struct Stretch {
    active: bool,
    counting: bool,
    digits: usize,
    groups: usize,
    /// The lengths of the last four groups, the current one in the low
    /// byte (each up to 255).
    shape: u32,
    /// The digits before the first group starting with 8.
    eight_from: Option<usize>,
    /// The digits before, and the number of, the first group starting
    /// with 0.
    zero_from: Option<(usize, usize)>,
}

/// The shape of an ending stretch.
#[derive(Debug, Clone, Copy)]
struct Ending {
    digits: usize,
    groups: usize,
    shape: u32,
    eight_from: Option<usize>,
    zero_from: Option<(usize, usize)>,
}

impl Ending {
    /// Whether the last groups have these lengths (the last one last).
    fn ends_in(&self, lengths: &[u32]) -> bool {
        self.groups >= lengths.len()
            && lengths.iter().rev().enumerate().all(|(i, &len)| (self.shape >> (8 * i)) & 0xFF == len)
    }
}

impl Stretch {
    /// A group of `len` digits starting with `first`; `after_boundary`: no
    /// word character precedes it; `joined`: only separators this stretch
    /// allows, and few enough, stand between it and the previous group.
    fn group(&mut self, first: u8, len: usize, after_boundary: bool, joined: bool) {
        if !self.active || !joined {
            *self = Stretch { active: true, counting: after_boundary, groups: 1, ..Stretch::default() };
        } else if self.counting {
            self.groups += 1;
            self.shape <<= 8;
        } else {
            // A separator is a word boundary: matches may start here.
            self.counting = true;
            self.groups = 1;
        }
        if !self.counting {
            return;
        }
        if first == b'8' && self.eight_from.is_none() {
            self.eight_from = Some(self.digits);
        }
        if first == b'0' && self.zero_from.is_none() {
            self.zero_from = Some((self.digits, self.groups));
        }
        self.digits += len;
        self.shape |= len.min(255) as u32;
    }

    /// The stretch so far, if a match may end here (just after a group).
    fn ending(&self) -> Option<Ending> {
        (self.active && self.counting).then_some(Ending {
            digits: self.digits,
            groups: self.groups,
            shape: self.shape,
            eight_from: self.eight_from,
            zero_from: self.zero_from,
        })
    }
}

impl Features {
    pub(crate) fn of(text: &str) -> Features {
        let bytes = text.as_bytes();
        // Phase one: counts and flags, in a loop the compiler vectorises
        // (byte-wide counters over chunks short enough not to overflow).
        let (mut digits, mut upper, mut dots, mut colons, mut flags) = (0usize, 0usize, 0usize, 0usize, 0u8);
        for chunk in bytes.chunks(255) {
            let (mut d, mut u, mut o, mut c, mut f) = (0u8, 0u8, 0u8, 0u8, 0u8);
            for &x in chunk {
                d += u8::from(x.wrapping_sub(b'0') < 10);
                u += u8::from(x.wrapping_sub(b'A') < 26);
                o += u8::from(x == b'.');
                c += u8::from(x == b':');
                f |= u8::from(x == b'@') | u8::from(x == b'+') << 1 | u8::from(x == b'[') << 2;
                f |= u8::from(x == b'_' || x == b'-') << 3;
            }
            digits += usize::from(d);
            upper += usize::from(u);
            dots += usize::from(o);
            colons += usize::from(c);
            flags |= f;
        }
        let joiners = flags & 8 != 0;
        let mut f = Features {
            digits,
            at: flags & 1 != 0,
            plus: flags & 2 != 0,
            colons,
            double_colon: colons >= 2 && memchr::memmem::find(bytes, b"::").is_some(),
            bracket: flags & 4 != 0,
            ..Features::default()
        };
        // Phase two, only where it could matter: the digit stretches where
        // there are digits enough for a phone (nine) or capitals and digits
        // for an IBAN; the secret prefixes where there is a `_`, `-`, `.`
        // or capital (every prefix has one).
        let long = bytes.len() >= 15;
        if digits >= 9 && most_stretch_digits(bytes) >= 9 {
            f.measure_digits(bytes);
        }
        if dots >= 3 && digits >= 4 {
            f.dotted_digits = memchr::memchr_iter(b'.', bytes)
                .filter(|&i| i > 0 && bytes[i - 1].is_ascii_digit() && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
                .count();
        }
        if long && digits >= 2 && upper >= 2 {
            f.measure_iban(bytes);
        }
        if long && (joiners || dots + upper > 0) {
            f.secret_prefix = secret_prefix_in(bytes);
        }
        f
    }

    /// Phase two of [`Features::of`] for the numeric recognizers: the
    /// stretches around each digit, skipping what lies between them.
    fn measure_digits(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while let Some(offset) = bytes[i..].iter().position(u8::is_ascii_digit) {
            i += offset;
            // Every numeric recognizer needs nine digits in one stretch of
            // digits and phone separators: skip shorter ones unmeasured.
            let (mut end, mut digits) = (i, 0);
            while let Some(&b) = bytes.get(end) {
                let class = STRETCH_BYTES[usize::from(b)];
                if class == 0 {
                    break;
                }
                digits += usize::from(class & 1);
                end += 1;
            }
            if digits >= 9 {
                if digits == end - i {
                    self.measure_run(bytes, i, end);
                } else {
                    self.measure_stretch(bytes, i, end);
                }
            }
            i = end;
        }
    }

    /// Measures a run of digits `start..end` with no separator around it
    /// (what [`measure_stretch`](Self::measure_stretch) finds for it).
    fn measure_run(&mut self, bytes: &[u8], start: usize, end: usize) {
        let before = start == 0 || !ascii_word(bytes[start - 1]);
        let after = end == bytes.len() || !ascii_word(bytes[end]);
        if !(before && after) {
            return;
        }
        let len = end - start;
        self.bounded_runs |= 1 << len.min(63);
        self.grouped = self.grouped.max(len);
        self.phone = self.phone.max(len);
        self.phone_ru |= bytes[start] == b'8' && len >= 11;
    }

    /// Measures the stretches in `start..end`, digit groups and the phone
    /// separators between them, a group at a time.
    fn measure_stretch(&mut self, bytes: &[u8], start: usize, end: usize) {
        let (mut grouped, mut phone) = (Stretch::default(), Stretch::default());
        let (mut grouped_joined, mut phone_joined) = (false, false);
        let mut i = start;
        while i < end {
            let group_start = i;
            while i < end && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let len = i - group_start;
            let first = bytes[group_start];
            let after_boundary = group_start == 0 || !ascii_word(bytes[group_start - 1]);
            grouped.group(first, len, after_boundary, grouped_joined);
            phone.group(first, len, after_boundary, phone_joined);
            if bytes.get(i).is_none_or(|&b| !ascii_word(b)) {
                // A match may end here.
                if after_boundary {
                    self.bounded_runs |= 1 << len.min(63);
                }
                if let Some(end) = grouped.ending() {
                    self.grouped = self.grouped.max(end.digits);
                    self.ssn_shape |= end.ends_in(&[3, 2, 4]);
                    self.snils_shape |= end.ends_in(&[3, 3, 3, 2]);
                }
                if let Some(end) = phone.ending() {
                    self.phone = self.phone.max(end.digits);
                    self.phone_ru |= end.eight_from.is_some_and(|from| end.digits - from >= 11);
                    self.phone_us |= end.ends_in(&[3, 3, 4]);
                    self.phone_zero |=
                        end.zero_from.is_some_and(|(from, group)| end.groups > group && end.digits - from >= 9);
                }
            }
            let separators = i;
            while i < end && !bytes[i].is_ascii_digit() {
                i += 1;
            }
            // Cards, SSNs and SNILS take one space or dash between groups,
            // phones one or two of ` -./()`.
            grouped_joined = i - separators == 1 && matches!(bytes[separators], b' ' | b'-');
            phone_joined = i - separators <= 2;
        }
    }

    /// Phase two of [`Features::of`] for IBANs: the longest stretch of
    /// capitals and digits joined by single spaces.
    fn measure_iban(&mut self, bytes: &[u8]) {
        let (mut iban, mut iban_space) = (0usize, false);
        for &b in bytes {
            if b.is_ascii_digit() || b.is_ascii_uppercase() {
                iban += 1;
                iban_space = false;
                self.iban_chars = self.iban_chars.max(iban);
            } else if b == b' ' && !iban_space {
                iban_space = true;
            } else {
                iban = 0;
                iban_space = false;
            }
        }
    }

    /// Whether a bounded run of `len` digits was seen.
    fn bounded_run(&self, len: u32) -> bool {
        self.bounded_runs & (1 << len) != 0
    }

    /// Whether a value `check` accepts can be in the text: each needs its
    /// digits in one stretch on word boundaries (a card 13, a phone 9, an
    /// INN a run of 10 or 12), an `@`, a `+`, dots or colons, or a secret
    /// format's prefix.
    fn admits(&self, check: Check) -> bool {
        match check {
            Check::Secret => self.secret_prefix,
            Check::Email => self.at,
            // The shortest IBAN (Norway's) has 15 characters.
            Check::Iban => self.iban_chars >= 15 && self.digits >= 2,
            Check::Card => self.grouped >= 13,
            Check::Ssn => self.ssn_shape,
            Check::SsnPlain => self.bounded_run(9),
            Check::Snils => self.snils_shape || self.bounded_run(11),
            Check::PhoneIntl => self.plus && self.phone >= 9,
            Check::PhoneRu => self.phone_ru,
            Check::PhoneUs => self.phone_us,
            Check::PhoneZero => self.phone_zero,
            Check::Inn => self.bounded_run(10) || self.bounded_run(12),
            Check::Ipv4 => self.dotted_digits >= 3,
            // Eight groups have seven colons, six and an IPv4 address five;
            // fewer groups need `::`.
            Check::Ipv6 => (self.double_colon || self.colons >= 5) && self.digits >= 1,
        }
    }

    /// The built-in recognizers (bits by position in [`BUILTIN`]) that can
    /// match.
    fn admitted(&self) -> u16 {
        let mut bits = 0;
        for (index, (_, check, _)) in BUILTIN.iter().enumerate() {
            if self.admits(*check) {
                bits |= 1 << index;
            }
        }
        bits
    }
}

/// A set of built-in kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct KindSet(u16);

impl KindSet {
    fn insert(&mut self, kind: &PiiKind) {
        if let Some(i) = kind.builtin_index() {
            self.0 |= 1 << i;
        }
    }

    fn contains(self, kind: &PiiKind) -> bool {
        kind.builtin_index().is_some_and(|i| self.0 & (1 << i) != 0)
    }
}

/// What the key a JSON value stands under says about the value: computed
/// once per key by [`Detector::key_class`] (and remembered per document by
/// the vault), then applied to every value under it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct KeyClass {
    /// There is a key at all.
    keyed: bool,
    /// A person key (and person names are detected).
    person: bool,
    /// The person key also names things (`name`): the value must look
    /// like a person's name.
    ambiguous_person: bool,
    /// An address key (and addresses are detected).
    address: bool,
    /// A credential key (and secrets are detected).
    secret: bool,
    /// A password key: any value is a secret.
    password: bool,
    /// A US SSN or taxpayer-number key (and SSNs are detected).
    ssn: bool,
    /// A time key: numbers under it are not identifiers.
    pub(crate) time: bool,
    /// A Russian taxpayer-number key (`inn`): context for an INN that
    /// could otherwise be a Unix time.
    tax: bool,
}

impl KeyClass {
    /// Whether the key says nothing about the values under it: they are
    /// detected in like free text.
    pub(crate) fn is_inert(&self) -> bool {
        !(self.person || self.address || self.secret || self.ssn || self.tax)
    }

    /// What is known about values that stand under no key.
    pub(crate) const NONE: KeyClass = KeyClass {
        keyed: false,
        person: false,
        ambiguous_person: false,
        address: false,
        secret: false,
        password: false,
        ssn: false,
        time: false,
        tax: false,
    };
}

/// Finds personal data in text and classifies JSON values by their key.
///
/// Cheap to build and to clone: the built-in patterns are compiled once
/// per process, lazily, each the first time a text could hold a value it
/// matches, and shared by every detector; a clone shares everything with
/// the original. Build one per configuration and clone it (or put it in an
/// [`Arc`]) wherever it is needed.
///
/// [`find`](Detector::find) makes one pass over the text to learn which
/// recognizers could match it (e-mail addresses need an `@`, cards 13
/// digits, INNs a run of 10...) and runs only those.
#[derive(Debug, Clone)]
pub struct Detector {
    inner: Arc<Inner>,
}

/// What a [`Detector`] holds.
#[derive(Debug)]
struct Inner {
    custom: Vec<(PiiKind, Regex)>,
    enabled: KindSet,
    /// The enabled built-in recognizers, by position in [`BUILTIN`].
    builtin: u16,
    person_keys: hashbrown::HashSet<String>,
    address_keys: hashbrown::HashSet<String>,
    secret_keys: Vec<String>,
    allow: hashbrown::HashSet<String>,
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

/// Words that name things, not people: under the bare `name` key, a value
/// with one of them is a product, plan, project, file or organisation
/// (`Wireless Mouse`, `Premium Plan`, `Project Phoenix`, `Acme Ltd`). None
/// is a common given name or surname. Sorted, lower case.
const THING_WORDS: &[&str] = &[
    "adapter",
    "agenda",
    "agreement",
    "annual",
    "api",
    "app",
    "basic",
    "board",
    "budget",
    "build",
    "bundle",
    "cable",
    "camera",
    "catalog",
    "chair",
    "channel",
    "charger",
    "cluster",
    "company",
    "contract",
    "corp",
    "corporation",
    "dashboard",
    "database",
    "deluxe",
    "department",
    "desk",
    "document",
    "draft",
    "edition",
    "enterprise",
    "ergonomic",
    "folder",
    "gmbh",
    "group",
    "headphones",
    "hub",
    "inc",
    "invoice",
    "keyboard",
    "kit",
    "laptop",
    "llc",
    "ltd",
    "meeting",
    "monitor",
    "monthly",
    "mouse",
    "office",
    "order",
    "pipeline",
    "plan",
    "platform",
    "policy",
    "portal",
    "premium",
    "product",
    "project",
    "proposal",
    "quarterly",
    "release",
    "report",
    "repository",
    "server",
    "service",
    "services",
    "speaker",
    "sprint",
    "standing",
    "starter",
    "subscription",
    "summary",
    "team",
    "template",
    "tier",
    "trial",
    "version",
    "widget",
    "wireless",
    "workspace",
    "зао",
    "оао",
    "ооо",
];

/// The lengths of the ASCII [`THING_WORDS`] (bits) by first letter: most
/// words are ruled out without a search.
static THING_SHAPES: [u32; 26] = {
    let mut shapes = [0; 26];
    let mut i = 0;
    while i < THING_WORDS.len() {
        let word = THING_WORDS[i].as_bytes();
        if word[0].is_ascii_lowercase() && word.len() < 32 {
            shapes[(word[0] - b'a') as usize] |= 1 << word.len();
        }
        i += 1;
    }
    shapes
};

/// Whether `word` (any case) is one of [`THING_WORDS`].
fn is_thing_word(word: &str) -> bool {
    if word.is_ascii() {
        let first = word.as_bytes().first().map(u8::to_ascii_lowercase).unwrap_or(0);
        let shape = THING_SHAPES.get(usize::from(first.wrapping_sub(b'a'))).copied().unwrap_or(0);
        if word.len() >= 32 || shape & (1 << word.len()) == 0 {
            return false;
        }
        let mut lower = [0u8; 16];
        let Some(buffer) = lower.get_mut(..word.len()) else { return false };
        for (to, from) in buffer.iter_mut().zip(word.bytes()) {
            *to = from.to_ascii_lowercase();
        }
        let lower = std::str::from_utf8(buffer).unwrap_or_default();
        return THING_WORDS.binary_search(&lower).is_ok();
    }
    THING_WORDS.binary_search(&word.to_lowercase().as_str()).is_ok()
}

/// Whether `value` is shaped like a person's name: one to six words of
/// letters (and `'`, `-`, `.`), at least one of them capitalised, none a
/// word for a thing ([`THING_WORDS`]) or a file name (`README.md`).
fn looks_like_person_name(value: &str) -> bool {
    let mut words = 0;
    let mut capitalised = false;
    for word in value.split_whitespace() {
        words += 1;
        if words > 6 || !word.chars().all(|c| c.is_alphabetic() || matches!(c, '\'' | '-' | '.' | ',')) {
            return false;
        }
        capitalised |= word.chars().next().is_some_and(char::is_uppercase);
        let file_name = word.find('.').is_some_and(|dot| dot > 0 && dot + 1 < word.len());
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        if file_name || bare.split('-').any(is_thing_word) {
            return false;
        }
    }
    words >= 1 && capitalised
}

/// Whether `name` can be a custom kind name.
fn valid_custom_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && name != "TOKEN"
        && !PiiKind::BUILTIN.iter().any(|kind| kind.as_str() == name)
}

/// What surrounds a text being searched, beyond the text itself.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Context {
    /// The text stands under a key naming a Russian taxpayer number.
    pub(crate) tax: bool,
}

impl From<KeyClass> for Context {
    fn from(class: KeyClass) -> Context {
        Context { tax: class.tax }
    }
}

impl Detector {
    /// Builds the detector for `config`: checks the kind names, compiles
    /// the custom recognizers and indexes the key lists. The built-in
    /// patterns are not compiled here (see [`Detector`]), so this takes
    /// microseconds without custom recognizers.
    ///
    /// `enabled` may list only built-in kinds (custom kinds are always on):
    /// an unknown name is an error rather than a kind nothing detects.
    pub fn new(config: &PiiConfig) -> Result<Detector, PiiConfigError> {
        check_kinds("detect.enabled", &config.enabled, &builtin_names())?;
        let mut enabled = KindSet::default();
        for kind in &config.enabled {
            enabled.insert(kind);
        }
        let mut custom = Vec::new();
        for (name, pattern) in &config.custom {
            let upper = name.to_uppercase();
            if !valid_custom_name(&upper) {
                return Err(PiiConfigError::InvalidName(name.clone()));
            }
            let regex = Regex::new(pattern).map_err(|source| PiiConfigError::Regex { name: name.clone(), source })?;
            custom.push((PiiKind::Custom(upper), regex));
        }
        let mut builtin = 0;
        for (index, (kind, _, _)) in BUILTIN.iter().enumerate() {
            if enabled.contains(kind) {
                builtin |= 1 << index;
            }
        }
        let inner = Inner {
            custom,
            enabled,
            builtin,
            person_keys: config.context_keys_person.iter().map(|k| normalize_key(k).into_owned()).collect(),
            address_keys: config.context_keys_address.iter().map(|k| normalize_key(k).into_owned()).collect(),
            secret_keys: config
                .secret_keys
                .iter()
                .map(|k| normalize_key(k).into_owned())
                .filter(|k| !k.is_empty())
                .collect(),
            allow: config.allow.iter().cloned().collect(),
        };
        Ok(Detector { inner: Arc::new(inner) })
    }

    /// Compiles every built-in pattern now rather than on first use: for a
    /// server that would rather pay the few milliseconds at start-up than
    /// in its first request. Detection is the same either way.
    pub fn warm_up(&self) {
        for (index, (kind, check, _)) in BUILTIN.iter().enumerate() {
            if *check != Check::Email && self.inner.enabled.contains(kind) {
                builtin_regex(index);
            }
        }
    }

    /// Whether custom recognizers are configured.
    pub(crate) fn has_custom(&self) -> bool {
        !self.inner.custom.is_empty()
    }

    /// Whether `kind` is detected (custom kinds are always).
    pub fn is_enabled(&self, kind: &PiiKind) -> bool {
        matches!(kind, PiiKind::Custom(_)) || self.inner.enabled.contains(kind)
    }

    /// Whether `value` is on the allow-list.
    pub fn is_allowed(&self, value: &str) -> bool {
        !self.inner.allow.is_empty() && self.inner.allow.contains(value)
    }

    /// The personal data in `text`: checksum-validated, not allow-listed,
    /// non-overlapping, leftmost-longest, in order. Among equal spans a
    /// custom recognizer wins, then the built-ins in a fixed order.
    pub fn find(&self, text: &str) -> Vec<Match> {
        self.find_in(text, Context::default())
    }

    /// [`find`](Self::find) for a text in `context`.
    pub(crate) fn find_in(&self, text: &str, context: Context) -> Vec<Match> {
        self.find_with(text, &Features::of(text), context)
    }

    /// The custom recognizers' matches in `text`.
    fn find_custom(&self, text: &str, found: &mut Vec<Match>) {
        for (kind, regex) in &self.inner.custom {
            for m in regex.find_iter(text) {
                if m.start() < m.end() && !self.is_allowed(m.as_str()) {
                    found.push(Match { start: m.start(), end: m.end(), kind: kind.clone() });
                }
            }
        }
    }

    /// The built-in recognizers' matches in `text`, whose `features` are
    /// known.
    fn find_builtin(&self, text: &str, features: &Features, context: Context, found: &mut Vec<Match>) {
        let mut run = features.admitted() & self.inner.builtin;
        let mut push = |start: usize, end: usize, kind: &PiiKind| {
            if start < end && !self.is_allowed(&text[start..end]) {
                found.push(Match { start, end, kind: kind.clone() });
            }
        };
        while run != 0 {
            let index = run.trailing_zeros() as usize;
            run &= run - 1;
            let (kind, check, _) = &BUILTIN[index];
            if *check == Check::Email {
                find_emails(text, |start, end| push(start, end, kind));
                continue;
            }
            for candidate in builtin_regex(index).find_iter(text) {
                if let Some((start, end)) = validate(*check, text, candidate.start(), candidate.end(), context) {
                    push(start, end, kind);
                }
            }
        }
    }

    /// [`find_in`](Self::find_in) for a text whose `features` are known.
    pub(crate) fn find_with(&self, text: &str, features: &Features, context: Context) -> Vec<Match> {
        let mut found: Vec<Match> = Vec::new();
        if self.inner.custom.is_empty() && features.admitted() & self.inner.builtin == 0 {
            return found;
        }
        self.find_custom(text, &mut found);
        self.find_builtin(text, features, context, &mut found);
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
        self.classify(self.key_class(key), value)
    }

    /// Whether numbers under `key` may be identifiers (not under a time key
    /// such as `created_at`, where a Unix time can pass a checksum by luck).
    pub fn numbers_may_identify(&self, key: Option<&str>) -> bool {
        !self.key_class(key).time
    }

    /// What `key` says about the values under it.
    pub(crate) fn key_class(&self, key: Option<&str>) -> KeyClass {
        let Some(key) = key else { return KeyClass::NONE };
        let inner = &*self.inner;
        let key = normalize_key(key);
        let key: &str = &key;
        KeyClass {
            keyed: true,
            person: inner.enabled.contains(&PiiKind::Person) && inner.person_keys.contains(key),
            ambiguous_person: AMBIGUOUS_PERSON_KEYS.contains(&key),
            address: inner.enabled.contains(&PiiKind::Address) && inner.address_keys.contains(key),
            secret: inner.enabled.contains(&PiiKind::Secret)
                && inner.secret_keys.iter().any(|k| key.ends_with(k.as_str())),
            password: key.contains("pass") || key.ends_with("pwd"),
            ssn: inner.enabled.contains(&PiiKind::UsSsn) && is_ssn_key(key),
            time: is_time_key(key),
            tax: is_tax_key(key),
        }
    }

    /// [`classify_value`](Self::classify_value) under a key of `class`.
    pub(crate) fn classify(&self, class: KeyClass, value: &str) -> Option<PiiKind> {
        if !class.keyed || value.is_empty() || self.is_allowed(value) {
            return None;
        }
        if class.secret && (class.password || looks_like_credential(value)) {
            return Some(PiiKind::Secret);
        }
        if class.ssn && is_plain_ssn(value) {
            return Some(PiiKind::UsSsn);
        }
        if (class.person || class.address) && value.chars().any(char::is_alphabetic) {
            if class.person && (!class.ambiguous_person || looks_like_person_name(value)) {
                return Some(PiiKind::Person);
            }
            if class.address {
                return Some(PiiKind::Address);
            }
        }
        None
    }
}

/// Whether a value under a credential key (not a password key) is a
/// credential: at least 8 characters without whitespace after an optional
/// `Bearer `/`Basic `/`Token ` scheme, and at least 3 bits of entropy per
/// character.
fn looks_like_credential(value: &str) -> bool {
    let mut rest = value;
    for scheme in ["Bearer ", "Basic ", "Token ", "bearer ", "basic ", "token "] {
        if let Some(stripped) = value.strip_prefix(scheme) {
            rest = stripped;
            break;
        }
    }
    rest.chars().count() >= 8 && !rest.chars().any(char::is_whitespace) && entropy(rest) >= 3.0
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

/// Whether a normalised key names a Russian taxpayer number (`inn`,
/// `supplier_inn`, `inn_kpp`, `tax_number`, `ИНН`).
fn is_tax_key(key: &str) -> bool {
    key.starts_with("inn")
        || key.ends_with("inn")
        || key.contains("инн")
        || key.contains("taxpayer")
        || key.contains("taxnumber")
        || key.contains("taxid")
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

/// The text around `start..end` (48 bytes before, 32 after), lower case.
fn surroundings(text: &str, start: usize, end: usize) -> (String, String) {
    let mut from = start.saturating_sub(48);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let mut to = (end + 32).min(text.len());
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    (text[from..start].to_lowercase(), text[end..to].to_lowercase())
}

/// Whether "SSN" or "social security" stands near `start..end` (48 bytes
/// before, 32 after): nine plain digits are an SSN only when the text says
/// so.
fn mentions_ssn_near(text: &str, start: usize, end: usize) -> bool {
    let (before, after) = surroundings(text, start, end);
    let says = |part: &str| part.contains("ssn") || part.contains("social security");
    says(&before) || says(&after)
}

/// Whether a word naming a Russian taxpayer number (ИНН, INN, КПП,
/// taxpayer, налог...) starts near `start..end`.
fn mentions_inn_near(text: &str, start: usize, end: usize) -> bool {
    let (before, after) = surroundings(text, start, end);
    let says = |part: &str| {
        ["инн", "inn", "кпп", "kpp", "taxpayer", "tax id", "tax number", "налог"].iter().any(|word| {
            part.match_indices(word).any(|(i, _)| !part[..i].chars().next_back().is_some_and(char::is_alphabetic))
        })
    };
    says(&before) || says(&after)
}

/// Where a KPP (`/773601001`: four digits, two digits or capital letters,
/// three digits) that follows an INN ending at `end` ends, if one does.
fn kpp_after(text: &str, end: usize) -> Option<usize> {
    let rest = text.as_bytes().get(end..)?;
    let kpp = rest.get(..10)?;
    let shape = kpp[0] == b'/'
        && kpp[1..5].iter().all(u8::is_ascii_digit)
        && kpp[5..7].iter().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        && kpp[7..10].iter().all(u8::is_ascii_digit);
    (shape && clear_after(text, end + 10)).then_some(end + 10)
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

/// Whether `c` joins numbers and words into one (a date, a version, a
/// decimal, an order id).
fn is_joiner(c: char) -> bool {
    matches!(c, '.' | ',' | '-' | '/' | '_')
}

/// Whether nothing glues a number starting at `start` to what precedes
/// it: no word character, and no joiner with a word character before it.
fn clear_before(text: &str, start: usize) -> bool {
    match char_before(text, start) {
        Some(before) if is_word(before) => false,
        Some(before) if is_joiner(before) => !char_before(text, start - before.len_utf8()).is_some_and(is_word),
        _ => true,
    }
}

/// Whether nothing glues a number ending at `end` to what follows it.
fn clear_after(text: &str, end: usize) -> bool {
    match char_at(text, end) {
        Some(after) if is_word(after) => false,
        Some(after) if is_joiner(after) => !char_at(text, end + after.len_utf8()).is_some_and(is_word),
        _ => true,
    }
}

/// Whether `start..end` stands on its own as a number: no word character
/// next to it, and no `.`, `,`, `-`, `/` or `_` joining it to a word or
/// number (a date, a version, a decimal, an order id).
fn standalone(text: &str, start: usize, end: usize) -> bool {
    clear_before(text, start) && clear_after(text, end)
}

/// Number of ASCII digits in `s`.
fn digit_count(s: &str) -> usize {
    s.bytes().filter(u8::is_ascii_digit).count()
}

/// Secret formats whose prefix says everything: their random part may be
/// all letters, all capitals or all lower-case hex.
const SELF_EVIDENT_SECRETS: [&str; 7] = ["AKIA", "ASIA", "AIza", "shp", "dop_v1_", "eyJ", "pypi-AgE"];

/// Whether a prefixed secret candidate looks random: a self-evident format,
/// or a digit or both cases of letters after its prefix (which rules out
/// `sk-learn-is-a-python-library`).
fn looks_random(s: &str) -> bool {
    if SELF_EVIDENT_SECRETS.iter().any(|prefix| s.starts_with(prefix)) {
        return true;
    }
    let body = s.find(['-', '_', '.']).map_or(s, |i| &s[i + 1..]);
    let bytes = body.as_bytes();
    bytes.iter().any(u8::is_ascii_digit)
        || (bytes.iter().any(u8::is_ascii_uppercase) && bytes.iter().any(u8::is_ascii_lowercase))
}

/// Whether `start` follows the head of an IBAN-shaped run (`DE89 3704 `,
/// `NL39 SNSB 0270 `): two capitals and two digits, then groups of four
/// capitals or digits, each followed by one space. Digit groups there are
/// part of an account number (valid or not), not cards or phones.
fn inside_iban_shape(text: &str, start: usize) -> bool {
    let bytes = text.as_bytes();
    let mut at = start;
    // Up to eight groups back (the longest IBANs have 34 characters).
    for _ in 0..8 {
        if at < 5 || bytes[at - 1] != b' ' {
            return false;
        }
        let group = &bytes[at - 5..at - 1];
        if !group.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            return false;
        }
        let head = group[..2].iter().all(u8::is_ascii_uppercase) && group[2..].iter().all(u8::is_ascii_digit);
        if head && (at == 5 || !ascii_word(bytes[at - 6])) {
            return true;
        }
        at -= 5;
    }
    false
}

/// Checks a candidate at `start..end`; the span to keep, maybe narrowed.
fn validate(check: Check, text: &str, start: usize, end: usize, context: Context) -> Option<(usize, usize)> {
    let s = text.get(start..end)?;
    if matches!(check, Check::Card | Check::PhoneRu | Check::PhoneUs | Check::PhoneZero | Check::Ssn | Check::Snils)
        && inside_iban_shape(text, start)
    {
        return None;
    }
    match check {
        Check::Email => Some((start, end)),
        Check::Secret => {
            let glued = |c: char| is_word(c) || c == '-';
            let ok = looks_random(s)
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
        Check::PhoneRu | Check::PhoneUs | Check::PhoneZero => {
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
        Check::Inn => validate_inn(text, start, end, context),
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

/// An INN: checksummed, standing on its own or followed by a KPP
/// (`7707083893/773601001`). Ten digits starting with 1 are also a Unix
/// time (2001 to 2033): such a number is an INN only where the text or the
/// key mentions one, or a KPP follows.
fn validate_inn(text: &str, start: usize, end: usize, context: Context) -> Option<(usize, usize)> {
    let s = &text[start..end];
    let valid = if s.len() == 10 { checksums::inn10(s) } else { checksums::inn12(s) };
    if !valid || !clear_before(text, start) {
        return None;
    }
    let kpp = s.len() == 10 && kpp_after(text, end).is_some();
    if !kpp && !clear_after(text, end) {
        return None;
    }
    let maybe_time = s.len() == 10 && s.starts_with('1');
    if maybe_time && !kpp && !context.tax && !mentions_inn_near(text, start, end) {
        return None;
    }
    Some((start, end))
}

/// Whether `c`, not ASCII, may stand in an internationalised e-mail
/// address (RFC 6531 allows any): anything but white space, control
/// characters and the punctuation and symbols that end an address in
/// running text (`«»`, `“”`, `—`, `…`, `。`, `，`...).
fn is_intl_email_char(c: char) -> bool {
    !c.is_whitespace()
        && !c.is_control()
        && !matches!(c,
            '\u{A0}'..='\u{BF}' | '\u{D7}' | '\u{F7}'
            // General punctuation but the zero-width (non-)joiners.
            | '\u{2000}'..='\u{200B}' | '\u{200E}'..='\u{206F}'
            // Arrows, mathematical and technical symbols, box drawing, dingbats...
            | '\u{2190}'..='\u{2BFF}' | '\u{2E00}'..='\u{2E7F}'
            // CJK symbols and punctuation, full-width ASCII punctuation.
            | '\u{3000}'..='\u{303F}' | '\u{FF00}'..='\u{FF0F}' | '\u{FF1A}'..='\u{FF20}'
            | '\u{FF3B}'..='\u{FF40}' | '\u{FF5B}'..='\u{FF65}'
            | '\u{FE10}'..='\u{FE1F}' | '\u{FE30}'..='\u{FE6F}' | '\u{FFF0}'..='\u{FFFF}'
            // Emoji and other pictographs.
            | '\u{1F000}'..='\u{1FAFF}')
}

/// Whether `c` may stand in the local part of an e-mail address as found
/// in text.
fn is_local_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
    } else {
        is_intl_email_char(c)
    }
}

/// Whether `c` may stand in a domain label (ASCII letters, digits and
/// hyphens, or any script's letters and digits).
fn is_label_char(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_alphanumeric() || c == '-' } else { is_intl_email_char(c) }
}

/// How much of `label` can end a domain: all of a punycode label
/// (`xn--p1ai`) or of a label of two or more letters of any script
/// (`com`, `рф`), else its leading ASCII letters if there are two or more.
fn top_level_len(label: &str) -> Option<usize> {
    let bytes = label.as_bytes();
    if bytes.len() > 4
        && bytes[..4].eq_ignore_ascii_case(b"xn--")
        && bytes[4..].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    {
        return Some(label.len());
    }
    // Letters, or any script's characters (which may include marks that
    // are not letters, such as the virama of `.संगठन`).
    let letters = |c: char| c.is_ascii_alphabetic() || !c.is_ascii();
    if label.chars().nth(1).is_some() && label.chars().all(letters) && label.chars().any(char::is_alphabetic) {
        return Some(label.len());
    }
    let letters = bytes.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    (letters >= 2).then_some(letters)
}

/// Where the domain of an e-mail address starting at `from` (just after the
/// `@`) ends: two or more labels of which the last can end a domain.
fn domain_end(text: &str, from: usize) -> Option<usize> {
    let mut best = None;
    let mut labels = 0;
    let mut pos = from;
    loop {
        let rest = &text[pos..];
        let len = rest.char_indices().find(|&(_, c)| !is_label_char(c)).map_or(rest.len(), |(i, _)| i);
        // A label starts and ends with a letter or digit: trailing hyphens
        // end the domain.
        let label = rest[..len].trim_end_matches('-');
        if label.is_empty() || label.starts_with('-') {
            break;
        }
        labels += 1;
        if labels >= 2
            && let Some(tld) = top_level_len(label)
        {
            best = Some(pos + tld);
        }
        if label.len() < len {
            break;
        }
        let next = pos + len;
        if text.as_bytes().get(next) == Some(&b'.') && char_at(text, next + 1).is_some_and(is_label_char) {
            pos = next + 1;
        } else {
            break;
        }
    }
    best
}

/// Calls `found` with the span of every e-mail address in `text`, ASCII or
/// internationalised (RFC 6531: `ivanov@пример.рф`, `josé@exämple.de`,
/// `ivanov@xn--e1afmkfd.xn--p1ai`): a local part, `@`, and a domain of two
/// or more labels ending in a top-level one.
fn find_emails(text: &str, mut found: impl FnMut(usize, usize)) {
    let bytes = text.as_bytes();
    // Like a regex search, each address starts after the previous one ends.
    let mut last_end = 0;
    for at in memchr::memchr_iter(b'@', bytes) {
        if at < last_end {
            continue;
        }
        let mut start = at;
        for (i, c) in text[last_end..at].char_indices().rev() {
            if !is_local_char(c) {
                break;
            }
            start = last_end + i;
        }
        while start < at && matches!(bytes[start], b'.' | b'%' | b'+' | b'-') {
            start += 1;
        }
        if start == at {
            continue;
        }
        if let Some(end) = domain_end(text, at + 1) {
            found(start, end);
            last_end = end;
        }
    }
}

/// Whether `digits` (a Luhn-valid run) has a card's length for its first
/// digit: no network issues 13-digit cards but Visa (4), and 1 begins only
/// 15-digit airline cards, so ten- to thirteen-digit Unix times (which
/// begin with 1) are no cards.
fn card_length_fits(digits: &str) -> bool {
    match digits.as_bytes().first() {
        Some(b'1') => digits.len() == 15,
        Some(b'4') => true,
        Some(_) => digits.len() != 13,
        None => false,
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
        if !repeated
            && groups_ok
            && card_length_fits(&digits)
            && checksums::luhn(&digits)
            && standalone(text, start, start + group_end)
        {
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
        for thing in [
            "README.md",
            "Wireless Mouse",
            "Ergonomic Office Chair",
            "USB-C Hub",
            "Premium Plan",
            "Project Phoenix",
            "Acme Ltd.",
            "ООО Ромашка",
        ] {
            assert_eq!(d.classify_value(Some("name"), thing), None, "{thing}");
        }
        for person in ["J. R. R. Tolkien", "Petrov I. I.", "Mary-Kate Olsen", "Grace King", "Kim Park"] {
            assert_eq!(d.classify_value(Some("name"), person), Some(PiiKind::Person), "{person}");
        }
        // Under a specific key the words do not matter.
        assert_eq!(d.classify_value(Some("full_name"), "Project Phoenix"), Some(PiiKind::Person));
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
    fn digit_groups_of_an_iban_shaped_run_are_no_cards_or_phones() {
        // Invalid IBANs (check digits wrong) whose groups pass Luhn or look
        // like phone numbers.
        assert_none("Invalid IBAN ES04 6383 5666 3498 9556 2662 entered by user.");
        assert_none("Rejected account NL39 SNSB 0270 7083 80: checksum mismatch.");
        // The same groups elsewhere are still found.
        assert_one("card 6383 5666 3498 9556 ok", "6383 5666 3498 9556", PiiKind::CreditCard);
        assert_one("ES04 is a code, card 4111 1111 1111 1111", "4111 1111 1111 1111", PiiKind::CreditCard);
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
    fn internationalised_emails() {
        for (text, email) in [
            ("пишите на ivanov@пример.рф, ответим", "ivanov@пример.рф"),
            ("Иван.Петров@почта.рф", "Иван.Петров@почта.рф"),
            ("from josé@exämple.de.", "josé@exämple.de"),
            ("<δοκιμή@παράδειγμα.δοκιμή>", "δοκιμή@παράδειγμα.δοκιμή"),
            ("联系 用户@例子.广告 谢谢", "用户@例子.广告"),
            ("मेल: उपयोगकर्ता@उदाहरण.भारत", "उपयोगकर्ता@उदाहरण.भारत"),
            ("«ivanov@пример.рф»", "ivanov@пример.рф"),
            ("почта — ivanov@пример.рф… ответ", "ivanov@пример.рф"),
            ("邮箱：用户@例子.广告。谢谢", "用户@例子.广告"),
            ("org ivanov@пример.организация", "ivanov@пример.организация"),
            ("punycode ivanov@xn--e1afmkfd.xn--p1ai ok", "ivanov@xn--e1afmkfd.xn--p1ai"),
            ("mixed user@xn--80ak6aa92e.com.", "user@xn--80ak6aa92e.com"),
            ("ivan@пример.com", "ivan@пример.com"),
            ("ivan@example.рф", "ivan@example.рф"),
            ("ivan_petrov-1@mail.example.co.uk-", "ivan_petrov-1@mail.example.co.uk"),
        ] {
            assert_one(text, email, PiiKind::Email);
        }
        // No local part, one label, a one-letter or numeric top level.
        assert_none("@пользователь, цена@ 100, имя@домен, x@пример.р, x@пример.123, x@-пример.рф, x@.рф");
    }

    #[test]
    fn inn_with_kpp() {
        assert_one("ИНН/КПП 7707083893/773601001", "7707083893", PiiKind::RuInn);
        assert_one("ИНН/КПП: 7707083893/7736AB001.", "7707083893", PiiKind::RuInn);
        assert_one("supplier 1655012344/165501001", "1655012344", PiiKind::RuInn);
        // Not a KPP: the INN stays glued to another number.
        assert_none("ref 7707083893/77360100 and 7707083893/7736010011 and 7707083893/773601001x");
    }

    #[test]
    fn unix_times_are_not_inns_or_cards() {
        // 1655012344 passes the INN check, 1610571174643 the Luhn check.
        assert_none("Updated 1655012344 by the scheduler. Last sync: 1610571174643, 1610571174643000");
        assert_one("ИНН 1655012344", "1655012344", PiiKind::RuInn);
        assert_one("Taxpayer number (INN) 1655012344 confirmed", "1655012344", PiiKind::RuInn);
        assert_one("налоговый номер: 1655012344", "1655012344", PiiKind::RuInn);
        // A tax key is context too.
        let d = detector();
        let tax = d.key_class(Some("supplier_inn"));
        let found = d.find_in("1655012344", Context::from(tax));
        assert_eq!(found.len(), 1);
        assert!(d.find_in("1655012344", Context::from(d.key_class(Some("order_id")))).is_empty());
        // Ten digits not starting with 1 are no Unix time of this century.
        assert_one("id 7707083893", "7707083893", PiiKind::RuInn);
        // Visa issued 13-digit numbers; nobody else did.
        assert_one("card 4222222222222 ok", "4222222222222", PiiKind::CreditCard);
        assert_none("code 5222222222228");
    }

    #[test]
    fn letter_only_and_newer_secrets() {
        for secret in [
            "AKIAIOSFODNNEXAMPLEZ",
            "ASIAQWERTYUIOPASDFGH",
            "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",
            "rk_test_lyiUdnswxZPnhHGEggOzutTz",
            "ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
            "glpat-wawRLxQrLFmGANIFzSkt",
            "sk-ant-api03-abcdefGHIJKLmnopqrSTUVwxyz",
            "npm_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
            "shpat_0123456789abcdef0123456789abcdef",
            "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
            "ya29.a0AfH6SMBxyzABCDEFGHIJKLMNOP",
        ] {
            assert_one(&format!("key={secret} "), secret, PiiKind::Secret);
        }
        assert_eq!("AKIAIOSFODNNEXAMPLEZ".len(), 20);
        // Identifiers that share a prefix but are words, not random.
        assert_none(
            "hf_hub_download_function_for_models, npm_package_json_version_number, \
             ASIA_PACIFIC_REGION_OFFICE, glpat-personal-access-token-name, sk-learn-is-a-python-library",
        );
    }

    /// What `find` gives with the prefilter skipped: every enabled
    /// recognizer run on the whole text.
    fn find_unfiltered(d: &Detector, text: &str) -> Vec<Match> {
        let mut found = Vec::new();
        let features = Features {
            digits: usize::MAX,
            bounded_runs: u64::MAX,
            grouped: usize::MAX,
            ssn_shape: true,
            snils_shape: true,
            phone: usize::MAX,
            phone_ru: true,
            phone_us: true,
            phone_zero: true,
            dotted_digits: usize::MAX,
            iban_chars: usize::MAX,
            secret_prefix: true,
            at: true,
            plus: true,
            colons: usize::MAX,
            double_colon: true,
            bracket: true,
        };
        d.find_builtin(text, &features, Context::default(), &mut found);
        select_leftmost_longest(found)
    }

    proptest::proptest! {
        /// The prefilter never hides a detection: `find` equals running
        /// every recognizer.
        #[test]
        fn the_prefilter_loses_nothing(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    "[0-9 .()/+:-]{1,24}",
                    "[08]?[0-9]{1,4}[ ./()-]{0,2}[0-9]{2,4}[ ./()-]{0,2}[0-9]{2,5}([ -][0-9]{2,4}){0,2}",
                    "[0-9A-Z ]{1,30}",
                    "[a-zA-Z0-9_.@-]{1,30}",
                    proptest::strategy::Just("4111 1111 1111 1111".to_owned()),
                    proptest::strategy::Just("+7 (912) 345-67-89".to_owned()),
                    proptest::strategy::Just("DE89 3704 0044 0532 0130 00".to_owned()),
                    proptest::strategy::Just("SSN 123-45-6789".to_owned()),
                    proptest::strategy::Just("ИНН 7707083893/773601001".to_owned()),
                    proptest::strategy::Just("AKIAIOSFODNN7EXAMPLE".to_owned()),
                    proptest::strategy::Just("::ffff:10.0.0.1".to_owned()),
                    proptest::strategy::Just("89123456789".to_owned()),
                    proptest::strategy::Just("112-233-445 95".to_owned()),
                ],
                1..6,
            )
        ) {
            let d = detector();
            let text = parts.concat();
            proptest::prop_assert_eq!(d.find(&text), find_unfiltered(&d, &text), "{:?}", text);
        }
    }

    #[test]
    fn the_prefilter_admits_each_shape() {
        let d = detector();
        for text in [
            "4111 1111 1111 1111",
            "x 4111-1111-1111-1111.",
            "+7 (912) 345-67-89",
            "8 (495) 672-04-95",
            "89123456789",
            "(555) 234-5678",
            "030/12345678",
            "SSN 123 45 6789",
            "social security number 137072464",
            "112-233-445 95",
            "11223344595",
            "DE89 3704 0044 0532 0130 00",
            "NO9386011117947",
            "fe80::1",
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            "::ffff:192.0.2.1",
            "10.0.0.1",
            "ИНН 500100732259",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        ] {
            let found = d.find(text);
            assert!(!found.is_empty(), "{text}");
            assert_eq!(found, find_unfiltered(&d, text), "{text}");
        }
    }

    #[test]
    fn detectors_are_cheap_to_share() {
        let d = detector();
        let shared = d.clone();
        assert!(Arc::ptr_eq(&d.inner, &shared.inner));
        d.warm_up();
        assert_eq!(shared.find("a@b.io").len(), 1);
        for (index, (_, check, _)) in BUILTIN.iter().enumerate() {
            if *check != Check::Email {
                assert!(COMPILED[index].get().is_some(), "pattern {index} compiled by warm_up");
            }
        }
        fn sync_send<T: Send + Sync>(_: &T) {}
        sync_send(&d);
    }

    #[test]
    fn thing_words_are_sorted() {
        assert!(THING_WORDS.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(is_thing_word("Plan") && is_thing_word("ООО") && !is_thing_word("Anna"));
        assert!(!is_thing_word("enterprisesolutionsltd"));
    }

    #[test]
    fn entropy_values() {
        assert_eq!(entropy(""), 0.0);
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
    }
}
