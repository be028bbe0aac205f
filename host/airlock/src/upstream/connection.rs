//! One live MCP client connection (stdio child process or Streamable
//! HTTP), on `rmcp`.

use std::collections::HashMap;
use std::future::Future;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, Peer, RoleClient, ServiceError, ServiceExt};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt};
use tokio::sync::Mutex;

use super::results;
use super::stdio::{MAX_MESSAGE, StdioServer};
use crate::config::ServerConfig;
use crate::pii::Detector;
use crate::tool::{ToolAnnotations, ToolDefinition, ToolError};

/// Variables a stdio server inherits from Airlock's environment, as MCP
/// clients do, so that `node`, `npx` and `uvx` servers start; nothing else
/// leaks to them.
const INHERITED_ENV: [&str; 12] = [
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "TZ",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
];

/// Receives the server's notifications.
#[derive(Clone)]
struct Hooks {
    server: String,
    tools_changed: Arc<AtomicBool>,
}

impl ClientHandler for Hooks {
    fn on_tool_list_changed(&self, _: NotificationContext<RoleClient>) -> impl Future<Output = ()> + Send + '_ {
        tracing::debug!(server = %self.server, "tools/list_changed");
        self.tools_changed.store(true, Ordering::SeqCst);
        std::future::ready(())
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(ClientCapabilities::default(), Implementation::new("airlock", env!("CARGO_PKG_VERSION")))
    }
}

/// An initialised session with one upstream server.
pub struct Connection {
    server: String,
    peer: Peer<RoleClient>,
    service: Mutex<Option<RunningService<RoleClient, Hooks>>>,
    tools_changed: Arc<AtomicBool>,
    /// Over Streamable HTTP, where rmcp closes the connection on a reply
    /// stream it will not read (an event over [`MAX_MESSAGE`]).
    http: bool,
}

impl Connection {
    /// Starts (stdio) or connects to (HTTP) the server and initialises it.
    /// Personal data found in the server's stderr is replaced by its kind
    /// (`[EMAIL]`) before it is logged, when `redact` is given.
    pub async fn open(
        server: &str,
        config: &ServerConfig,
        startup: Duration,
        redact: Option<Arc<Detector>>,
    ) -> Result<Connection, ToolError> {
        let tools_changed = Arc::new(AtomicBool::new(false));
        let hooks = Hooks { server: server.to_string(), tools_changed: tools_changed.clone() };
        let unavailable = |what: String| ToolError::Unavailable(format!("server '{server}': {what}"));
        let mut stderr = None;
        let started = match (&config.command, &config.url) {
            (Some(command), _) => {
                let (transport, tail) = spawn_stdio(server, command, config, redact)
                    .map_err(|e| unavailable(format!("cannot start `{}`: {e}", command_line(command, &config.args))))?;
                stderr = tail;
                tokio::time::timeout(startup, hooks.serve(transport)).await
            }
            (None, Some(url)) => {
                let transport =
                    StreamableHttpClientTransport::from_config(http_config(url, &config.headers).map_err(unavailable)?);
                tokio::time::timeout(startup, hooks.serve(transport)).await
            }
            (None, None) => return Err(unavailable("neither `command` nor `url` is configured".into())),
        };
        let failure = match started {
            Ok(Ok(service)) => {
                tracing::info!(server, "upstream server initialised");
                return Ok(Connection {
                    server: server.to_string(),
                    peer: service.peer().clone(),
                    service: Mutex::new(Some(service)),
                    tools_changed,
                    http: config.command.is_none(),
                });
            }
            Err(_) => format!("did not initialise within {startup:?}"),
            Ok(Err(e)) => format!("initialisation failed: {}", describe_init_error(&e)),
        };
        // What the user needs to fix it: the command run and what the
        // server said before it failed.
        let mut message = failure;
        match (&config.command, &config.url) {
            (Some(command), _) => message.push_str(&format!("\n  command: {}", command_line(command, &config.args))),
            (None, Some(url)) => message.push_str(&format!("\n  url: {}", without_queries(url))),
            (None, None) => {}
        }
        if let Some(tail) = stderr {
            let lines = tail.lines(STDERR_WAIT).await;
            if !lines.is_empty() {
                message.push_str("\n  stderr (last lines):");
                for line in lines {
                    message.push_str(&format!("\n    {line}"));
                }
            }
        }
        Err(unavailable(message))
    }

    /// Whether the session can still carry requests.
    pub fn is_alive(&self) -> bool {
        !self.peer.is_transport_closed()
    }

    /// Whether the server said its tools changed since the last call.
    pub fn take_tools_changed(&self) -> bool {
        self.tools_changed.swap(false, Ordering::SeqCst)
    }

    /// Every tool, through all pages, sorted by name.
    pub async fn list_tools(&self, timeout: Duration) -> Result<Vec<ToolDefinition>, ToolError> {
        let listed = tokio::time::timeout(timeout, self.peer.list_all_tools())
            .await
            .map_err(|_| {
                ToolError::Unavailable(format!("server '{}' did not list its tools within {timeout:?}", self.server))
            })?
            .map_err(|e| self.service_error("tools/list", e))?;
        let mut tools: Vec<ToolDefinition> = listed
            .into_iter()
            .map(|tool| ToolDefinition {
                name: tool.name.into_owned(),
                description: tool.description.map(|d| d.into_owned()),
                input_schema: Value::Object((*tool.input_schema).clone()),
                output_schema: tool.output_schema.map(|s| Value::Object((*s).clone())),
                annotations: tool.annotations.map(|a| ToolAnnotations {
                    read_only_hint: a.read_only_hint,
                    destructive_hint: a.destructive_hint,
                    idempotent_hint: a.idempotent_hint,
                }),
            })
            .collect();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tools)
    }

    /// Calls `tool`; transport failures and timeouts are `unavailable`.
    pub async fn call_tool(&self, tool: &str, arguments: Value, timeout: Duration) -> Result<Value, ToolError> {
        let Value::Object(arguments) = arguments else {
            return Err(ToolError::InvalidArguments("arguments must be a JSON object".into()));
        };
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        match tokio::time::timeout(timeout, self.peer.call_tool(params)).await {
            Err(_) => Err(ToolError::Unavailable(format!(
                "server '{}' did not answer {tool} within {timeout:?}",
                self.server
            ))),
            Ok(Err(e)) => Err(self.service_error(tool, e)),
            Ok(Ok(result)) => results::to_value(result),
        }
    }

    /// Ends the session and waits (briefly) for a child process to exit.
    pub async fn close(&self) {
        if let Some(service) = self.service.lock().await.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), service.cancel()).await;
        }
    }

    fn service_error(&self, what: &str, error: ServiceError) -> ToolError {
        match error {
            ServiceError::McpError(e) if e.code.0 == -32602 => ToolError::InvalidArguments(e.message.into_owned()),
            ServiceError::McpError(e) if e.code.0 == -32601 => ToolError::NotFound(e.message.into_owned()),
            ServiceError::McpError(e) => ToolError::Failed(e.message.into_owned()),
            ServiceError::TransportClosed if self.http => ToolError::Unavailable(format!(
                "server '{}' failed during {what}: the connection closed (the server failed, or its reply was over \
                 the {} MiB a message may have)",
                self.server,
                MAX_MESSAGE >> 20
            )),
            other => {
                let why = describe_error(&other);
                // rmcp's words for a JSON reply past max_json_response_size.
                let why = if why.contains("exceeded the maximum size") {
                    format!(
                        "its reply is over the {} MiB a message may have; ask it for less (a smaller page, a narrower \
                         query)",
                        MAX_MESSAGE >> 20
                    )
                } else {
                    why
                };
                ToolError::Unavailable(format!("server '{}' failed during {what}: {why}", self.server))
            }
        }
    }
}

/// Lines of a server's stderr kept to explain a failed start.
const STDERR_LINES: usize = 12;

/// How long a failed start waits for the server's last stderr lines.
const STDERR_WAIT: Duration = Duration::from_millis(500);

/// The last lines a stdio server wrote to stderr (redacted like the log).
#[derive(Clone, Default)]
struct StderrTail {
    lines: Arc<std::sync::Mutex<std::collections::VecDeque<String>>>,
    closed: Arc<tokio::sync::Notify>,
    done: Arc<AtomicBool>,
}

impl StderrTail {
    fn push(&self, line: &str) {
        let mut lines = self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if lines.len() == STDERR_LINES {
            lines.pop_front();
        }
        // A line is for a human to read in an error: cap it.
        let mut line = line.to_string();
        if line.len() > 400 {
            line.truncate(line.floor_char_boundary(400));
            line.push('…');
        }
        lines.push_back(line);
    }

    fn close(&self) {
        self.done.store(true, Ordering::SeqCst);
        self.closed.notify_waiters();
    }

    /// The lines so far, after waiting up to `wait` for the stream to end
    /// (a server that exits writes its reason just before).
    async fn lines(&self, wait: Duration) -> Vec<String> {
        let closed = self.closed.notified();
        if !self.done.load(Ordering::SeqCst) {
            let _ = tokio::time::timeout(wait, closed).await;
        }
        self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).iter().cloned().collect()
    }
}

/// `command arg1 arg2`, as a user would type it.
fn command_line(command: &str, args: &[String]) -> String {
    std::iter::once(command).chain(args.iter().map(String::as_str)).collect::<Vec<_>>().join(" ")
}

/// Why initialisation failed; a transport error by its causes (rmcp
/// prints the transport's type name instead).
fn describe_init_error(error: &rmcp::service::ClientInitializeError) -> String {
    match error {
        rmcp::service::ClientInitializeError::TransportError { error, context } => {
            format!("{} (during {context})", describe_error(error.error.as_ref()))
        }
        other => describe_error(other),
    }
}

/// An error and its causes in one line, without the type names some
/// transport errors print (`Transport [rmcp::transport::worker::…]`).
fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        let text = without_type_names(&current.to_string());
        if !text.is_empty() && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    without_queries(&parts.join(": "))
}

/// `text` without the Rust type names rmcp puts in brackets
/// (`Transport [rmcp::transport::worker::WorkerTransport<…>] error: …`
/// becomes `Transport error: …`); other brackets stay.
fn without_type_names(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(" [") {
        let inner = &rest[at + 2..];
        let path = inner
            .find("::")
            .is_some_and(|colons| colons > 0 && inner[..colons].chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        // The matching `]`, past nested brackets of generic arguments.
        let mut depth = 0usize;
        let close = inner.char_indices().find_map(|(i, c)| match c {
            '[' => {
                depth += 1;
                None
            }
            ']' if depth == 0 => Some(i),
            ']' => {
                depth -= 1;
                None
            }
            _ => None,
        });
        match close.filter(|_| path) {
            Some(close) => {
                out.push_str(&rest[..at]);
                rest = &inner[close + 1..];
            }
            None => {
                out.push_str(&rest[..at + 2]);
                rest = inner;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `text` with the query of every URL in it cut (`?…`): HTTP errors name
/// the URL they failed on, and a query may carry a key, which tool errors
/// would hand to guest code and the model.
fn without_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, url) = rest.split_at(at);
        out.push_str(before);
        let end = url.find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>')).unwrap_or(url.len());
        let (url, after) = url.split_at(end);
        match url.split_once('?') {
            Some((path, _)) => {
                out.push_str(path);
                out.push_str("?…");
            }
            None => out.push_str(url),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Starts a stdio server with a minimal environment; its stderr goes to
/// the log (redacted), never to the guest, and its last lines are kept to
/// explain a failed start.
fn spawn_stdio(
    server: &str,
    command: &str,
    config: &ServerConfig,
    redact: Option<Arc<Detector>>,
) -> std::io::Result<(StdioServer, Option<StderrTail>)> {
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(&config.args).env_clear().kill_on_drop(true);
    for name in INHERITED_ENV {
        if let Some(value) = std::env::var_os(name) {
            cmd.env(name, value);
        }
    }
    cmd.envs(&config.env);
    if let Some(cwd) = &config.cwd {
        cmd.current_dir(cwd);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let stderr = child.stderr.take();
    let transport = StdioServer::new(child)?;
    let Some(stderr) = stderr else { return Ok((transport, None)) };
    let tail = StderrTail::default();
    let (server, keep) = (server.to_string(), tail.clone());
    tokio::spawn(async move {
        // Read to the end whatever the server writes: a closed pipe would
        // kill a server at its next log line (SIGPIPE, EPIPE). Bytes that
        // are not UTF-8 are replaced, and a line is cut at STDERR_LINE_CAP.
        let mut reader = tokio::io::BufReader::new(stderr);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match (&mut reader).take(STDERR_LINE_CAP as u64).read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let raw = String::from_utf8_lossy(&buf);
            let raw = raw.trim_end_matches(['\n', '\r']);
            let line = match &redact {
                Some(detector) => detector.redact(raw),
                None => raw.into(),
            };
            keep.push(&line);
            tracing::info!(target: "airlock::upstream::stderr", server = %server, "{line}");
        }
        keep.close();
    });
    Ok((transport, Some(tail)))
}

/// The longest stderr line of a server kept as one log line; the rest of
/// a longer one follows as further lines.
const STDERR_LINE_CAP: usize = 64 << 10;

fn http_config(
    url: &str,
    headers: &std::collections::BTreeMap<String, String>,
) -> Result<StreamableHttpClientTransportConfig, String> {
    // The same cap on a message as over stdio (rmcp's defaults today).
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_string())
        .max_json_response_size(MAX_MESSAGE)
        .max_sse_event_size(MAX_MESSAGE);
    let mut custom = HashMap::new();
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("authorization")
            && let Some(token) = value.strip_prefix("Bearer ")
        {
            config = config.auth_header(token.to_string());
            continue;
        }
        let name = http::HeaderName::try_from(name.as_str()).map_err(|e| format!("header '{name}': {e}"))?;
        let value = http::HeaderValue::try_from(value.as_str()).map_err(|e| format!("header '{name}': {e}"))?;
        custom.insert(name, value);
    }
    Ok(config.custom_headers(custom))
}

#[cfg(test)]
mod tests {
    #[test]
    fn rust_type_names_in_brackets_are_left_out_and_other_brackets_stay() {
        assert_eq!(
            super::without_type_names(
                "Transport [rmcp::transport::worker::WorkerTransport<W<reqwest::Client>>] error: too big"
            ),
            "Transport error: too big"
        );
        assert_eq!(super::without_type_names("bad value [x] in field [a::b"), "bad value [x] in field [a::b");
        assert_eq!(super::without_type_names("list [1, 2] and [std::io::Error] end"), "list [1, 2] and end");
    }

    #[test]
    fn urls_in_errors_lose_their_queries() {
        assert_eq!(
            super::without_queries("error sending request for url (https://api.example/mcp?key=s3cret&x=1): refused"),
            "error sending request for url (https://api.example/mcp?…): refused"
        );
        assert_eq!(super::without_queries("no url here"), "no url here");
        assert_eq!(super::without_queries("http://a/b and http://c/d?e"), "http://a/b and http://c/d?…");
    }
}
