//! Approval of the tool calls that code makes: rules that say which calls
//! need a human's yes (`airlock.approvals`), and the [`Approver`] that asks.
//!
//! ```json
//! "approvals": {
//!   "require": [
//!     { "tools": "records.delete_*" },
//!     { "destructive": true }
//!   ]
//! }
//! ```
//!
//! A rule matches a call when every condition it names holds. Conditions
//! on annotations read them as MCP does: a tool without annotations is not
//! read-only and may destroy, so `{ "destructive": true }` gates it too.
//! A gated call with no approver to ask is declined: approval fails closed.

use std::future::Future;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::tool::ToolAnnotations;

/// The `"airlock.approvals"` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalSettings {
    /// Calls that need approval: a call needs it when any rule matches.
    pub require: Vec<ApprovalRule>,
    /// Whether a human may allow a tool for the rest of the session.
    /// Default: true.
    pub allow_for_session: bool,
    /// Show the human the real values of personal data in a gated call's
    /// arguments instead of their tokens. Default: false. The model never
    /// sees them either way (a paused result shows tokens).
    pub show_values: bool,
    /// How long a paused execution waits for its decision before it
    /// expires. Default: 24 hours. Counted in whole seconds, as the store's
    /// clock is: under 1 s, a paused execution expires at once.
    #[serde(with = "crate::limits::duration_text")]
    pub paused_expiry: Duration,
    /// How long a resume's hold on a stored execution lasts unless renewed
    /// (it is renewed every third of it while the code replays): when the
    /// resuming process dies mid-replay, the execution can be resumed again
    /// after this. Default: 30 s; at least 1 s.
    #[serde(with = "crate::limits::duration_text")]
    pub resume_lease: Duration,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        ApprovalSettings {
            require: Vec::new(),
            allow_for_session: true,
            show_values: false,
            paused_expiry: Duration::from_secs(24 * 60 * 60),
            resume_lease: Duration::from_secs(30),
        }
    }
}

impl ApprovalSettings {
    /// The first rule that gates `server.tool`, if any.
    pub fn gate(&self, server: &str, tool: &str, annotations: Option<&ToolAnnotations>) -> Option<&ApprovalRule> {
        self.require.iter().find(|rule| rule.matches(server, tool, annotations))
    }

    /// Checks each rule; the error is the rule's field path in the
    /// configuration (`airlock.approvals.require[1]`) and what is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.resume_lease < Duration::from_secs(1) {
            let message = "at least 1s: the store's clock counts whole seconds".to_string();
            return Err(("airlock.approvals.resume_lease".into(), message));
        }
        for (index, rule) in self.require.iter().enumerate() {
            rule.validate().map_err(|message| (format!("airlock.approvals.require[{index}]"), message))?;
        }
        Ok(())
    }
}

/// One rule of `airlock.approvals.require`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalRule {
    /// `server.tool`, where `*` stands for any run of characters
    /// (`records.delete_*`, `*.send_*`, `payments.*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<String>,
    /// Matches tools that may (true) or may not (false) destroy, as their
    /// MCP annotations say (`destructiveHint`, `readOnlyHint`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destructive: Option<bool>,
    /// Matches tools marked (true) or not marked (false) `readOnlyHint`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

impl ApprovalRule {
    /// Whether the rule gates a call of `server.tool`.
    pub fn matches(&self, server: &str, tool: &str, annotations: Option<&ToolAnnotations>) -> bool {
        let none = ToolAnnotations::default();
        let hints = annotations.unwrap_or(&none);
        self.tools.as_deref().is_none_or(|pattern| matches_pattern(pattern, server, tool))
            && self.destructive.is_none_or(|wanted| hints.destructive() == wanted)
            && self.read_only.is_none_or(|wanted| hints.read_only() == wanted)
    }

    /// The rule as a human reads it in an approval request.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(tools) = &self.tools {
            parts.push(format!("tools {tools}"));
        }
        if let Some(destructive) = self.destructive {
            parts.push(if destructive { "destructive tools" } else { "non-destructive tools" }.to_string());
        }
        if let Some(read_only) = self.read_only {
            parts.push(if read_only { "read-only tools" } else { "tools not marked read-only" }.to_string());
        }
        parts.join(", ")
    }

    /// The server names the rule's pattern can only mean (no `*` in its
    /// server part), for a check against the configured servers.
    pub fn named_server(&self) -> Option<&str> {
        let (server, _) = self.tools.as_deref()?.split_once('.')?;
        (!server.contains('*')).then_some(server)
    }

    fn validate(&self) -> Result<(), String> {
        if self.tools.is_none() && self.destructive.is_none() && self.read_only.is_none() {
            return Err("a rule needs `tools`, `destructive` or `read_only`; an empty rule would gate every call \
                        (write { \"tools\": \"*.*\" } if that is meant)"
                .into());
        }
        if let Some(pattern) = &self.tools {
            let Some((server, tool)) = pattern.split_once('.') else {
                return Err(format!("`tools` is server.tool (with `*` for any run of characters), not '{pattern}'"));
            };
            if server.is_empty() || tool.is_empty() {
                return Err(format!("'{pattern}' needs both a server and a tool part"));
            }
        }
        Ok(())
    }
}

/// Whether `server.tool` matches `pattern`, whose `*` matches any run of
/// characters (including `.`).
fn matches_pattern(pattern: &str, server: &str, tool: &str) -> bool {
    let name = format!("{server}.{tool}");
    wildcard(pattern.as_bytes(), name.as_bytes())
}

/// Glob matching with `*` only, by the usual backtracking over the last
/// star: linear in practice, never exponential.
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// A call waiting for a human's decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalRequest {
    /// The server the code calls.
    pub server: String,
    /// The tool.
    pub tool: String,
    /// The arguments as the code passed them: personal data as tokens
    /// (`[EMAIL_1]`), which the tool receives as real values once approved.
    pub arguments: Value,
    /// The rule that gated the call, as a human reads it.
    pub rule: String,
    /// Whether [`Decision::AllowForSession`] is honoured.
    pub session_allowance: bool,
}

/// What the human decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run this call.
    Approve,
    /// Run this call, and calls of the same tool in this session without
    /// asking again (when `allow_for_session` is on; else as `Approve`).
    AllowForSession,
    /// Do not run it: the code gets a `denied` tool error with the reason.
    Decline {
        /// Why, shown to the code.
        reason: Option<String>,
    },
    /// Ask later: the execution stops here and is stored; its result is
    /// [`crate::ExecutionResult::paused`], and [`crate::Session::resume`]
    /// continues it with the decision (an approver whose human is not
    /// reachable now, such as a client that cannot be asked mid-call).
    Pause,
}

impl Decision {
    /// The outcome's name in the audit log and the metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::AllowForSession => "allowed_for_session",
            Decision::Decline { .. } => "declined",
            Decision::Pause => "paused",
        }
    }
}

/// Asks a human whether a gated call may run. The execution waits for the
/// answer; other calls of the same execution (in `Promise.all` or
/// `asyncio.gather`) go on meanwhile.
pub trait Approver: Send + Sync {
    /// The decision on `request`.
    fn decide<'a>(&'a self, request: &'a ApprovalRequest) -> BoxFuture<'a, Decision>;
}

impl<F, Fut> Approver for F
where
    F: Fn(ApprovalRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Decision> + Send + 'static,
{
    fn decide<'a>(&'a self, request: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(self(request.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> ApprovalRule {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn patterns_match_server_and_tool() {
        let delete = rule(serde_json::json!({"tools": "records.delete_*"}));
        assert!(delete.matches("records", "delete_record", None));
        assert!(!delete.matches("records", "list_records", None));
        assert!(!delete.matches("archive", "delete_record", None));
        let any_send = rule(serde_json::json!({"tools": "*.send_*"}));
        assert!(any_send.matches("mail", "send_message", None));
        assert!(!any_send.matches("mail", "resend", None));
        assert!(wildcard(b"a*b*c", b"aXXbYYc"));
        assert!(!wildcard(b"a*b*c", b"aXXbYY"));
        assert!(wildcard(b"*", b""));
    }

    #[test]
    fn annotation_rules_read_the_hints_as_mcp_does() {
        let destructive = rule(serde_json::json!({"destructive": true}));
        let read_only = ToolAnnotations { read_only_hint: Some(true), ..Default::default() };
        let additive = ToolAnnotations { destructive_hint: Some(false), ..Default::default() };
        // No annotations: not read-only, so possibly destructive.
        assert!(destructive.matches("s", "t", None));
        assert!(!destructive.matches("s", "t", Some(&read_only)));
        assert!(!destructive.matches("s", "t", Some(&additive)));
        let writes = rule(serde_json::json!({"read_only": false}));
        assert!(writes.matches("s", "t", Some(&additive)));
        assert!(!writes.matches("s", "t", Some(&read_only)));
        let both = rule(serde_json::json!({"tools": "db.*", "destructive": true}));
        assert!(both.matches("db", "drop", None));
        assert!(!both.matches("db", "drop", Some(&read_only)));
        assert!(!both.matches("fs", "drop", None));
    }

    #[test]
    fn malformed_rules_are_refused_with_the_reason() {
        let settings = |rules: serde_json::Value| -> ApprovalSettings {
            serde_json::from_value(serde_json::json!({"require": rules})).unwrap()
        };
        let (field, message) = settings(serde_json::json!([{"tools": "a.b"}, {}])).validate().unwrap_err();
        assert_eq!(field, "airlock.approvals.require[1]");
        assert!(message.contains("needs `tools`"), "{message}");
        let (_, message) = settings(serde_json::json!([{"tools": "delete_record"}])).validate().unwrap_err();
        assert!(message.contains("server.tool"), "{message}");
        assert!(serde_json::from_value::<ApprovalSettings>(serde_json::json!({"require": [{"tool": "a.b"}]})).is_err());
    }

    #[test]
    fn expiry_and_lease_read_as_text_durations_and_a_lease_under_a_second_is_refused() {
        let defaults = ApprovalSettings::default();
        assert_eq!(
            (defaults.paused_expiry, defaults.resume_lease),
            (Duration::from_secs(86_400), Duration::from_secs(30))
        );
        let read: ApprovalSettings =
            serde_json::from_value(serde_json::json!({"paused_expiry": "2h", "resume_lease": "10s"})).unwrap();
        assert_eq!((read.paused_expiry, read.resume_lease), (Duration::from_secs(7_200), Duration::from_secs(10)));
        assert!(read.validate().is_ok());
        let short: ApprovalSettings = serde_json::from_value(serde_json::json!({"resume_lease": "500ms"})).unwrap();
        let (field, message) = short.validate().unwrap_err();
        assert_eq!(field, "airlock.approvals.resume_lease");
        assert!(message.contains("at least 1s"), "{message}");
        assert!(serde_json::from_value::<ApprovalSettings>(serde_json::json!({"paused_expiry": "soon"})).is_err());
    }
}
