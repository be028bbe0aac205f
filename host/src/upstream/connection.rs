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
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, Peer, RoleClient, ServiceError, ServiceExt};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;
use tokio::sync::Mutex;

use super::results;
use crate::config::ServerConfig;
use crate::pii::Detector;
use crate::tools::{ToolDefinition, ToolError};

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
        let started = match (&config.command, &config.url) {
            (Some(command), _) => {
                let transport = spawn_stdio(server, command, config, redact)
                    .map_err(|e| unavailable(format!("cannot start '{command}': {e}")))?;
                tokio::time::timeout(startup, hooks.serve(transport)).await
            }
            (None, Some(url)) => {
                let transport =
                    StreamableHttpClientTransport::from_config(http_config(url, &config.headers).map_err(unavailable)?);
                tokio::time::timeout(startup, hooks.serve(transport)).await
            }
            (None, None) => return Err(unavailable("neither `command` nor `url` is configured".into())),
        };
        let service = match started {
            Err(_) => return Err(unavailable(format!("did not initialise within {startup:?}"))),
            Ok(Err(e)) => return Err(unavailable(format!("initialisation failed: {e}"))),
            Ok(Ok(service)) => service,
        };
        tracing::info!(server, "upstream server initialised");
        Ok(Connection {
            server: server.to_string(),
            peer: service.peer().clone(),
            service: Mutex::new(Some(service)),
            tools_changed,
        })
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
            other => ToolError::Unavailable(format!("server '{}' failed during {what}: {other}", self.server)),
        }
    }
}

/// Starts a stdio server with a minimal environment; its stderr goes to
/// the log (redacted), never to the guest.
fn spawn_stdio(
    server: &str,
    command: &str,
    config: &ServerConfig,
    redact: Option<Arc<Detector>>,
) -> std::io::Result<TokioChildProcess> {
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
    let (transport, stderr) = TokioChildProcess::builder(cmd).stderr(Stdio::piped()).spawn()?;
    if let Some(stderr) = stderr {
        let server = server.to_string();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let line = match &redact {
                    Some(detector) => detector.redact(&line),
                    None => line.as_str().into(),
                };
                tracing::info!(target: "airlock::upstream::stderr", server = %server, "{line}");
            }
        });
    }
    Ok(transport)
}

fn http_config(
    url: &str,
    headers: &std::collections::BTreeMap<String, String>,
) -> Result<StreamableHttpClientTransportConfig, String> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_string());
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
