//! The configuration file: the standard `{"mcpServers": {...}}` file that
//! Claude Desktop, Claude Code and Cursor use, plus Airlock's own settings
//! under an optional `"airlock"` key.
//!
//! ```json
//! {
//!   "mcpServers": {
//!     "memory": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"] },
//!     "docs": { "url": "http://127.0.0.1:8080/mcp", "headers": { "Authorization": "Bearer ${DOCS_TOKEN}" } }
//!   },
//!   "airlock": {
//!     "limits": { "timeout": "10s", "memory_bytes": 134217728 },
//!     "pii": { "flows": { "docs": { "deny": ["CREDIT_CARD", "SECRET"] } } }
//!   }
//! }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::approval::ApprovalSettings;
use crate::limits::Limits;
use crate::pii::{Detector, PiiSettings};

/// A parsed and validated configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Upstream MCP servers by name, as in every MCP client's config.
    #[serde(rename = "mcpServers", default)]
    pub servers: BTreeMap<String, ServerConfig>,
    /// Airlock's own settings.
    #[serde(default)]
    pub airlock: Settings,
    /// Top-level keys Airlock does not use (a client's own settings, such
    /// as Claude Desktop's `globalShortcut`), for a warning.
    #[serde(skip)]
    pub ignored_keys: Vec<String>,
}

/// The top-level keys Airlock reads.
const KNOWN_KEYS: [&str; 2] = ["mcpServers", "airlock"];

/// Airlock's own settings (the `"airlock"` key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Default limits for every execution.
    pub limits: Limits,
    /// How long one upstream tool call may take. Default: 60 s.
    #[serde(with = "crate::limits::duration_text")]
    pub tool_timeout: Duration,
    /// How long an upstream server may take to start and initialise.
    /// Default: 60 s (`npx` may download the server first).
    #[serde(with = "crate::limits::duration_text")]
    pub startup_timeout: Duration,
    /// PII handling: on by default; what is detected and which servers may
    /// receive which kinds.
    pub pii: PiiSettings,
    /// How `airlock serve` serves.
    pub serve: ServeSettings,
    /// Tool calls that need a human's approval.
    pub approvals: ApprovalSettings,
    /// Where paused executions are kept: a `postgres://` URL that several
    /// instances share (read by the command line; `$AIRLOCK_STORE`
    /// overrides it). Default: `executions.sqlite` in the data folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

/// Settings of `airlock serve` (the `"airlock.serve"` key).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeSettings {
    /// The bearer token HTTP clients must send (`${VAR}` is expanded);
    /// `$AIRLOCK_TOKEN` overrides it. Required when serving beyond
    /// loopback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Browser origins (`https://app.example`, `http://app.example:8080`,
    /// `http://app.example:*`) allowed in the `Origin` header besides
    /// loopback ones; `--allow-origin` adds more.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_origins: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            limits: Limits::default(),
            tool_timeout: Duration::from_secs(60),
            startup_timeout: Duration::from_secs(60),
            pii: PiiSettings::default(),
            serve: ServeSettings::default(),
            approvals: ApprovalSettings::default(),
            store: None,
        }
    }
}

/// One upstream server: a command to start (stdio) or a URL (Streamable
/// HTTP). Exactly one of `command` and `url` is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Transport hint some clients write (`stdio`, `http`,
    /// `streamable-http`); inferred from `command`/`url` when absent.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// The program that runs a stdio server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Its arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Variables added to its minimal environment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Its working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
    /// The endpoint of a Streamable HTTP server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// HTTP headers sent with every request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Some clients mark servers as disabled; they are skipped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// What is wrong with a configuration, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", file.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default(), if field.is_empty() { "config" } else { field.as_str() })]
pub struct ConfigError {
    /// The file, when the config came from one.
    pub file: Option<PathBuf>,
    /// The path of the bad field (`mcpServers.crm.args[1]`); empty for the
    /// document as a whole.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: Some(path.to_path_buf()),
            field: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        Config::from_json(&text).map_err(|e| ConfigError { file: Some(path.to_path_buf()), ..e })
    }

    /// Parses and validates a configuration document, expanding `${VAR}`
    /// (and `${VAR:-default}`) from the process environment.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        Config::from_json_with_env(text, |name| std::env::var(name).ok())
    }

    /// Like [`Config::from_json`], with variables looked up by `lookup`.
    pub fn from_json_with_env(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut config = Config::parse(text)?;
        config.expand(&lookup)?;
        config.validate()?;
        Ok(config)
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let ignored_keys = Config::check_top_level(text)?;
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let config: Config = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let field = e.path().to_string();
            ConfigError {
                file: None,
                field: if field == "." { String::new() } else { field },
                message: e.into_inner().to_string(),
            }
        })?;
        Ok(Config { ignored_keys, ..config })
    }

    /// The document must be an object; a key that looks like a misspelt
    /// `mcpServers` or `airlock` is an error (a typo would otherwise drop
    /// every server or setting), other keys are returned to be ignored.
    fn check_top_level(text: &str) -> Result<Vec<String>, ConfigError> {
        let error = |field: &str, message: String| ConfigError { file: None, field: field.to_string(), message };
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(value) => value,
            // Reported with its position by the typed parse.
            Err(_) => return Ok(Vec::new()),
        };
        let Some(object) = value.as_object() else {
            let found = match value {
                serde_json::Value::Array(_) => "an array",
                serde_json::Value::String(_) => "a string",
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::Bool(_) => "a boolean",
                _ => "null",
            };
            return Err(error("", format!("expected an object such as {{\"mcpServers\": {{...}}}}, found {found}")));
        };
        let mut ignored = Vec::new();
        for key in object.keys().filter(|key| !KNOWN_KEYS.contains(&key.as_str())) {
            if let Some(known) = crate::suggest::closest(key, KNOWN_KEYS) {
                return Err(error(key, format!("unknown key (did you mean `{known}`?)")));
            }
            ignored.push(key.clone());
        }
        Ok(ignored)
    }

    /// How many servers will run (configured and not `disabled`).
    pub fn enabled_servers(&self) -> usize {
        self.servers.values().filter(|server| !server.disabled).count()
    }

    /// An error unless at least one server is configured and enabled, for
    /// commands that are about servers: an empty set after `--config` is a
    /// mistake, not a request for nothing.
    pub fn require_servers(&self) -> Result<(), ConfigError> {
        let message = match self.servers.len() {
            0 => {
                "no servers: add them under `mcpServers` ({\"mcpServers\": {\"name\": {\"command\": ...}}})".to_string()
            }
            n if self.enabled_servers() == 0 => format!("all {n} servers under `mcpServers` are disabled"),
            _ => return Ok(()),
        };
        Err(ConfigError { file: None, field: "mcpServers".into(), message })
    }

    /// Expands `${VAR}` in every string a server's launch uses.
    fn expand(&mut self, lookup: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for (name, server) in &mut self.servers {
            let at = |field: String| format!("mcpServers.{name}.{field}");
            let one = |value: &mut String, field: String| -> Result<(), ConfigError> {
                *value = expand_vars(value, lookup).map_err(|message| ConfigError {
                    file: None,
                    field: at(field),
                    message,
                })?;
                Ok(())
            };
            if let Some(command) = &mut server.command {
                one(command, "command".into())?;
            }
            for (i, arg) in server.args.iter_mut().enumerate() {
                one(arg, format!("args[{i}]"))?;
            }
            for (key, value) in &mut server.env {
                one(value, format!("env.{key}"))?;
            }
            if let Some(url) = &mut server.url {
                one(url, "url".into())?;
            }
            for (key, value) in &mut server.headers {
                one(value, format!("headers.{key}"))?;
            }
            if let Some(cwd) = &mut server.cwd {
                let mut text = cwd.to_string_lossy().into_owned();
                one(&mut text, "cwd".into())?;
                *cwd = PathBuf::from(text);
            }
        }
        if let Some(token) = &mut self.airlock.serve.token {
            *token = expand_vars(token, lookup).map_err(|message| ConfigError {
                file: None,
                field: "airlock.serve.token".into(),
                message,
            })?;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let error = |field: String, message: &str| ConfigError { file: None, field, message: message.to_string() };
        for (name, server) in &self.servers {
            let at = |field: &str| format!("mcpServers.{name}{field}");
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(error(at(""), "server names may hold only letters, digits, '-' and '_'"));
            }
            match (&server.command, &server.url) {
                (Some(_), Some(_)) => {
                    return Err(error(at(""), "set either `command` (stdio) or `url` (HTTP), not both"));
                }
                (None, None) => {
                    return Err(error(at(""), "needs `command` (stdio) or `url` (HTTP)"));
                }
                (Some(command), None) if command.trim().is_empty() => {
                    return Err(error(at(".command"), "must not be empty"));
                }
                (None, Some(url)) if !(url.starts_with("http://") || url.starts_with("https://")) => {
                    return Err(error(at(".url"), "must be an http:// or https:// URL"));
                }
                _ => {}
            }
            let expected = if server.command.is_some() {
                ["stdio"].as_slice()
            } else {
                &["http", "streamable-http", "streamableHttp"]
            };
            if let Some(transport) = &server.transport
                && transport.eq_ignore_ascii_case("sse")
            {
                return Err(error(
                    at(".type"),
                    "the HTTP+SSE transport (protocol 2024-11-05) is not supported: point `url` at the \
                     server's Streamable HTTP endpoint and set `type` to \"http\" (or leave it out)",
                ));
            }
            if let Some(transport) = &server.transport
                && !expected.contains(&transport.as_str())
            {
                return Err(error(
                    at(".type"),
                    &format!("'{transport}' does not fit this server (expected {})", expected.join(" or ")),
                ));
            }
            if server.command.is_none() && (!server.args.is_empty() || !server.env.is_empty() || server.cwd.is_some()) {
                return Err(error(at(""), "`args`, `env` and `cwd` belong to stdio servers (with `command`)"));
            }
            if server.url.is_none() && !server.headers.is_empty() {
                return Err(error(at(".headers"), "`headers` belong to HTTP servers (with `url`)"));
            }
        }
        self.airlock.approvals.validate().map_err(|(field, message)| ConfigError { file: None, field, message })?;
        self.validate_pii()
    }

    /// A flow rule for a server that does not exist would protect nothing:
    /// most likely a typo, so it is an error, as is a custom recognizer
    /// that does not compile.
    fn validate_pii(&self) -> Result<(), ConfigError> {
        let pii = &self.airlock.pii;
        for server in pii.flows.servers() {
            if !self.servers.contains_key(server) {
                return Err(ConfigError {
                    file: None,
                    field: format!("airlock.pii.flows.{server}"),
                    message: format!(
                        "no server '{server}' in mcpServers{} (use \"*\" for every server)",
                        crate::suggest::did_you_mean(server, self.servers.keys().map(String::as_str))
                    ),
                });
            }
        }
        let pii_error = |e: crate::pii::PiiConfigError| ConfigError {
            file: None,
            field: format!("airlock.pii.{}", e.field()),
            message: e.to_string(),
        };
        pii.validate().map_err(pii_error)?;
        Detector::new(&pii.detect).map_err(pii_error)?;
        Ok(())
    }
}

/// Replaces `${VAR}` and `${VAR:-default}` in `text`; `$$` stays `$$`.
fn expand_vars(text: &str, lookup: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| format!("unclosed '${{' in '{text}'"))?;
        let (name, default) = match after[..end].split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (&after[..end], None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("'${{{}}}' is not a variable name", &after[..end]));
        }
        match (lookup(name), default) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(default)) => out.push_str(default),
            (None, None) => return Err(format!("the environment variable {name} is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_standard_file() {
        let config = Config::from_json(
            r#"{"mcpServers": {
                "memory": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"], "env": {"A": "1"}},
                "web": {"type": "http", "url": "http://127.0.0.1:9/mcp", "headers": {"X": "y"}}
              },
              "globalShortcut": "ignored: other clients' keys are allowed",
              "airlock": {"limits": {"timeout": "2s"}}}"#,
        )
        .unwrap();
        assert_eq!(config.servers["memory"].args, ["-y", "@modelcontextprotocol/server-memory"]);
        assert_eq!(config.servers["web"].url.as_deref(), Some("http://127.0.0.1:9/mcp"));
        assert_eq!(config.airlock.limits.timeout, std::time::Duration::from_secs(2));
    }

    #[test]
    fn errors_name_the_bad_field() {
        let cases = [
            (r#"{"mcpServers": {"a": {"command": "x", "args": [1]}}}"#, "mcpServers.a.args[0]"),
            (r#"{"mcpServers": {"a": {"command": "x", "argz": []}}}"#, "mcpServers.a.argz"),
            (r#"{"mcpServers": {"a": {}}}"#, "mcpServers.a"),
            (r#"{"mcpServers": {"a": {"url": "ftp://x"}}}"#, "mcpServers.a.url"),
            (r#"{"mcpServers": {"a b": {"command": "x"}}}"#, "mcpServers.a b"),
            (r#"{"mcpServers": {"a": {"command": "x", "type": "http"}}}"#, "mcpServers.a.type"),
            (r#"{"airlock": {"limits": {"timeout": "soon"}}}"#, "airlock.limits.timeout"),
            (r#"{"airlock": {"limitz": {}}}"#, "airlock.limitz"),
            (r#"{"airlock": {"pii": {"flows": {"nope": {"deny": ["EMAIL"]}}}}}"#, "airlock.pii.flows.nope"),
            (r#"{"airlock": {"pii": {"detect": {"custom": {"X": "("}}}}}"#, "airlock.pii.detect.custom"),
            (r#"{"airlock": {"pii": {"flows": {"*": {"alow": []}}}}}"#, "airlock.pii.flows.*.alow"),
            (r#"{"airlock": {"pii": {"detect": {"enabled": ["PHON"]}}}}"#, "airlock.pii.detect.enabled[0]"),
            (r#"{"airlock": {"pii": {"flows": {"*": {"deny": ["CREDITCARD"]}}}}}"#, "airlock.pii.flows.*.deny[0]"),
            (r#"{"mcpServer": {"a": {"command": "x"}}}"#, "mcpServer"),
            (r#"{"mcp_servers": {}}"#, "mcp_servers"),
            (r#"{"airlok": {}}"#, "airlok"),
            (r#"[]"#, ""),
            (r#"{"mcpServers": {"a": {"url": "http://x/sse", "type": "sse"}}}"#, "mcpServers.a.type"),
        ];
        for (text, field) in cases {
            let error = Config::from_json(text).unwrap_err();
            assert_eq!(error.field, field, "{text}: {error}");
        }
    }

    #[test]
    fn variables_expand_from_the_environment() {
        let env = |name: &str| (name == "TOKEN").then(|| "s3cret".to_string());
        let config = Config::from_json_with_env(
            r#"{"mcpServers": {
                "a": {"command": "${BIN:-npx}", "args": ["--key=${TOKEN}"], "env": {"T": "${TOKEN}"}},
                "b": {"url": "http://127.0.0.1:${PORT:-8080}/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}}
            }}"#,
            env,
        )
        .unwrap();
        assert_eq!(config.servers["a"].command.as_deref(), Some("npx"));
        assert_eq!(config.servers["a"].args, ["--key=s3cret"]);
        assert_eq!(config.servers["a"].env["T"], "s3cret");
        assert_eq!(config.servers["b"].url.as_deref(), Some("http://127.0.0.1:8080/mcp"));
        assert_eq!(config.servers["b"].headers["Authorization"], "Bearer s3cret");
        let serve = Config::from_json_with_env(r#"{"airlock": {"serve": {"token": "${TOKEN}"}}}"#, env).unwrap();
        assert_eq!(serve.airlock.serve.token.as_deref(), Some("s3cret"));

        let missing =
            Config::from_json_with_env(r#"{"mcpServers": {"a": {"command": "x", "args": ["${NOPE}"]}}}"#, env)
                .unwrap_err();
        assert_eq!(missing.field, "mcpServers.a.args[0]");
        assert!(missing.message.contains("NOPE"), "{missing}");
    }

    #[test]
    fn misspelt_names_get_suggestions() {
        let error = Config::from_json(r#"{"mcpServer": {}}"#).unwrap_err();
        assert!(error.message.contains("did you mean `mcpServers`"), "{error}");
        let error = Config::from_json(r#"{"airlock": {"pii": {"detect": {"enabled": ["PHON"]}}}}"#).unwrap_err();
        assert!(error.message.contains("did you mean `PHONE`"), "{error}");
        assert!(error.message.contains("EMAIL, PHONE, CREDIT_CARD"), "{error}");
        let error = Config::from_json(
            r#"{"mcpServers": {"mailer": {"command": "x"}}, "airlock": {"pii": {"flows": {"mailr": {"deny": ["EMAIL"]}}}}}"#,
        )
        .unwrap_err();
        assert!(error.message.contains("did you mean `mailer`"), "{error}");
        assert!("pyhton".parse::<crate::Language>().unwrap_err().contains("did you mean `python`"));
        let error = Config::from_json("[]").unwrap_err();
        assert!(error.message.contains("found an array"), "{error}");
        let error = Config::from_json(r#"{"mcpServers": {"a": {"url": "http://x/sse", "type": "sse"}}}"#).unwrap_err();
        assert!(error.message.contains("not supported"), "{error}");
    }

    #[test]
    fn other_clients_keys_are_ignored_and_listed() {
        let config = Config::from_json(r#"{"globalShortcut": "x", "mcpServers": {}}"#).unwrap();
        assert_eq!(config.ignored_keys, ["globalShortcut"]);
    }

    #[test]
    fn an_empty_or_disabled_server_set_is_reported() {
        let none = Config::from_json(r#"{"airlock": {}}"#).unwrap();
        assert!(none.require_servers().unwrap_err().message.contains("no servers"));
        let disabled = Config::from_json(r#"{"mcpServers": {"a": {"command": "x", "disabled": true}}}"#).unwrap();
        assert!(disabled.require_servers().unwrap_err().message.contains("all 1 servers"));
        let one = Config::from_json(r#"{"mcpServers": {"a": {"command": "x"}}}"#).unwrap();
        one.require_servers().unwrap();
    }

    #[test]
    fn malformed_json_is_reported_with_its_position() {
        let error = Config::from_json(r#"{"mcpServers": {"#).unwrap_err();
        assert!(error.message.contains("line 1"), "{error}");
    }
}
