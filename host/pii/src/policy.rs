//! Which servers may receive which kinds of personal data, and the PII
//! settings as a whole.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::detect::{PiiConfig, PiiConfigError, builtin_names, check_kinds};
use crate::kinds::PiiKind;

/// The rule for one server: it may receive a kind if `allow` is absent or
/// lists it, and `deny` does not list it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowRule {
    /// The only kinds the server may receive; absent means every kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<PiiKind>>,
    /// Kinds the server may never receive.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<PiiKind>,
}

impl FlowRule {
    /// Whether this rule lets `kind` through.
    pub fn permits(&self, kind: &PiiKind) -> bool {
        self.allow.as_ref().is_none_or(|allowed| allowed.contains(kind)) && !self.deny.contains(kind)
    }
}

/// Flow rules by server name. A server without a rule of its own follows
/// the rule under `"*"`; without that either, it may receive every kind.
///
/// ```
/// use airlock_pii::{FlowPolicy, PiiKind};
///
/// let policy: FlowPolicy = serde_json::from_str(
///     r#"{"mailer": {"allow": ["EMAIL"]}, "*": {"deny": ["CREDIT_CARD"]}}"#,
/// ).unwrap();
/// assert!(policy.permits("mailer", &PiiKind::Email));
/// assert!(!policy.permits("mailer", &PiiKind::Phone));
/// assert!(!policy.permits("crm", &PiiKind::CreditCard));
/// assert!(policy.permits("crm", &PiiKind::Phone));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FlowPolicy {
    /// The rules, by server name or `"*"`.
    pub rules: BTreeMap<String, FlowRule>,
}

/// The key of the rule for servers without one of their own.
pub const ANY_SERVER: &str = "*";

impl FlowPolicy {
    /// Whether `server` may receive values of `kind`.
    pub fn permits(&self, server: &str, kind: &PiiKind) -> bool {
        self.rules.get(server).or_else(|| self.rules.get(ANY_SERVER)).is_none_or(|rule| rule.permits(kind))
    }

    /// The first of `kinds` that `server` may not receive.
    pub fn first_denied<'k>(&self, server: &str, kinds: &'k [PiiKind]) -> Option<&'k PiiKind> {
        kinds.iter().find(|kind| !self.permits(server, kind))
    }

    /// Server names the rules mention, other than `"*"`.
    pub fn servers(&self) -> impl Iterator<Item = &str> {
        self.rules.keys().map(String::as_str).filter(|name| *name != ANY_SERVER)
    }
}

/// Everything about PII handling: whether it is on, what is detected and
/// where values may flow (the `"pii"` key of Airlock's settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PiiSettings {
    /// Tokenize tool results and output (default `true`).
    pub enabled: bool,
    /// What is detected.
    pub detect: PiiConfig,
    /// Which servers may receive which kinds.
    pub flows: FlowPolicy,
}

impl Default for PiiSettings {
    fn default() -> Self {
        PiiSettings { enabled: true, detect: PiiConfig::default(), flows: FlowPolicy::default() }
    }
}

impl PiiSettings {
    /// Settings with PII handling switched off.
    pub fn disabled() -> Self {
        PiiSettings { enabled: false, ..PiiSettings::default() }
    }

    /// Checks every kind name: `detect.enabled` may list built-in kinds, a
    /// flow rule built-in and custom ones. A misspelt kind fails here
    /// instead of switching detection off or leaving a flow unguarded.
    /// Custom recognizers are checked when a [`crate::Detector`] is built.
    pub fn validate(&self) -> Result<(), PiiConfigError> {
        let builtin = builtin_names();
        check_kinds("detect.enabled", &self.detect.enabled, &builtin)?;
        let mut valid = builtin;
        valid.extend(self.detect.custom.keys().map(|name| name.to_uppercase()));
        for (server, rule) in &self.flows.rules {
            if let Some(allow) = &rule.allow {
                check_kinds(&format!("flows.{server}.allow"), allow, &valid)?;
            }
            check_kinds(&format!("flows.{server}.deny"), &rule.deny, &valid)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_and_deny_combine() {
        let rule = FlowRule { allow: Some(vec![PiiKind::Email, PiiKind::Phone]), deny: vec![PiiKind::Phone] };
        assert!(rule.permits(&PiiKind::Email));
        assert!(!rule.permits(&PiiKind::Phone));
        assert!(!rule.permits(&PiiKind::Ip));
        assert!(FlowRule::default().permits(&PiiKind::custom("EMPLOYEE_ID")));
    }

    #[test]
    fn servers_without_rules_receive_everything() {
        let policy = FlowPolicy::default();
        assert!(policy.permits("any", &PiiKind::CreditCard));
        let kinds = [PiiKind::Email, PiiKind::CreditCard];
        let policy: FlowPolicy = serde_json::from_str(r#"{"mailer": {"deny": ["credit_card"]}}"#).unwrap();
        assert_eq!(policy.first_denied("mailer", &kinds), Some(&PiiKind::CreditCard));
        assert_eq!(policy.first_denied("crm", &kinds), None);
        assert_eq!(policy.servers().collect::<Vec<_>>(), ["mailer"]);
    }

    #[test]
    fn settings_parse_strictly() {
        let settings: PiiSettings =
            serde_json::from_str(r#"{"detect": {"allow": ["ops@example.com"]}, "flows": {"*": {"deny": ["SECRET"]}}}"#)
                .unwrap();
        assert!(settings.enabled);
        assert_eq!(settings.detect.allow, ["ops@example.com"]);
        assert!(!settings.flows.permits("x", &PiiKind::Secret));
        assert!(serde_json::from_str::<PiiSettings>(r#"{"enable": false}"#).is_err());
        assert!(serde_json::from_str::<FlowPolicy>(r#"{"a": {"alow": []}}"#).is_err());
        assert!(!PiiSettings::disabled().enabled);
    }

    #[test]
    fn a_misspelt_kind_fails_closed() {
        let parse = |json: &str| serde_json::from_str::<PiiSettings>(json).unwrap();
        let error = parse(r#"{"detect": {"enabled": ["EMAIL", "PHON"]}}"#).validate().unwrap_err();
        assert_eq!(error.field(), "detect.enabled[1]");
        let message = error.to_string();
        assert!(message.contains("`PHON` (did you mean `PHONE`?)"), "{message}");
        assert!(message.contains("EMAIL, PHONE, CREDIT_CARD"), "{message}");
        // The detector refuses it too, for embedders that skip validation.
        assert!(crate::Detector::new(&parse(r#"{"detect": {"enabled": ["PHON"]}}"#).detect).is_err());

        let error = parse(r#"{"flows": {"*": {"deny": ["CREDITCARD"]}}}"#).validate().unwrap_err();
        assert_eq!(error.field(), "flows.*.deny[0]");
        assert!(error.to_string().contains("did you mean `CREDIT_CARD`"), "{error}");
        let error = parse(r#"{"flows": {"mail": {"allow": ["EMAIL", "BADGE"]}}}"#).validate().unwrap_err();
        assert_eq!(error.field(), "flows.mail.allow[1]");

        // Custom kinds may be named in flows, not in `enabled` (they are always on).
        let custom =
            r#"{"detect": {"custom": {"badge": "B-[0-9]+"}}, "flows": {"mail": {"deny": ["BADGE", "email"]}}}"#;
        parse(custom).validate().unwrap();
        let error = parse(r#"{"detect": {"custom": {"badge": "B-[0-9]+"}, "enabled": ["BADGE"]}}"#).validate();
        assert_eq!(error.unwrap_err().field(), "detect.enabled[0]");
        PiiSettings::default().validate().unwrap();
    }
}
