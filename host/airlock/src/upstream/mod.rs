//! Upstream MCP servers: a pool of clients on the official Rust SDK
//! (`rmcp`). Servers start lazily on first use, are initialised once and
//! shared by every execution; a crashed server is restarted on the next
//! call; `notifications/tools/list_changed` refreshes the tool list.

mod connection;
mod results;
mod stdio;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;

use crate::codegen;
use crate::config::{Config, ServerConfig};
use crate::pii::Detector;
use crate::tool::{Listing, ToolError};
use crate::validation::Validators;
use connection::Connection;

/// Every configured upstream server, by name.
pub struct UpstreamPool {
    servers: BTreeMap<String, Arc<Upstream>>,
    redact: Arc<StderrRedaction>,
}

/// What redacts the servers' stderr: the runtime's detector, or one built
/// from the config's PII settings when a server first starts without one.
struct StderrRedaction {
    settings: Option<crate::pii::PiiConfig>,
    detector: std::sync::OnceLock<Option<Arc<Detector>>>,
}

impl StderrRedaction {
    fn detector(&self) -> Option<Arc<Detector>> {
        let built = || self.settings.as_ref().and_then(|settings| Detector::new(settings).ok().map(Arc::new));
        self.detector.get_or_init(built).clone()
    }
}

/// What `airlock servers list` shows of one server.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerStatus {
    /// The server's name in the config.
    pub name: String,
    /// `stdio` or `http`.
    pub transport: &'static str,
    /// The command line or URL.
    pub target: String,
    /// Whether a connection is open now.
    pub running: bool,
}

struct Upstream {
    name: String,
    config: ServerConfig,
    tool_timeout: Duration,
    startup_timeout: Duration,
    /// Redacts personal data from the server's stderr before it is logged.
    redact: Arc<StderrRedaction>,
    /// The live connection, if any; replaced after a crash.
    connection: Mutex<Option<Arc<Connection>>>,
    /// The tool list, with a validator per tool; cleared by list_changed.
    tools: Mutex<Option<Arc<ToolSet>>>,
    modules: ModuleCache,
}

/// A server's tools as last listed.
pub(crate) struct ToolSet {
    /// Sorted by name, with their digest.
    pub listing: Listing,
    /// The JS module served at `./servers/<server>`.
    pub js_module: Arc<str>,
    validators: Validators,
}

/// Generated server modules by (server, sha256 of the tool list): a server
/// that restarts or re-lists the same tools costs no regeneration.
#[derive(Default)]
struct ModuleCache(std::sync::Mutex<BTreeMap<(String, String), Arc<str>>>);

impl ModuleCache {
    fn module(&self, server: &str, listing: &Listing) -> Arc<str> {
        let (tools, key) = (&listing.definitions, (server.to_string(), listing.digest.to_string()));
        let mut cache = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.entry(key).or_insert_with(|| codegen::js_module(server, tools).into()).clone()
    }
}

impl UpstreamPool {
    /// A pool for the servers of `config` (nothing starts yet). With PII
    /// handling on, the servers' stderr is redacted before it is logged.
    pub fn new(config: &Config) -> Self {
        let pii = &config.airlock.pii;
        let redact = Arc::new(StderrRedaction {
            settings: pii.enabled.then(|| pii.detect.clone()),
            detector: std::sync::OnceLock::new(),
        });
        let servers = config
            .servers
            .iter()
            .filter(|(_, server)| !server.disabled)
            .map(|(name, server)| {
                let upstream = Upstream {
                    name: name.clone(),
                    config: server.clone(),
                    tool_timeout: config.airlock.tool_timeout,
                    startup_timeout: config.airlock.startup_timeout,
                    redact: redact.clone(),
                    connection: Mutex::new(None),
                    tools: Mutex::new(None),
                    modules: ModuleCache::default(),
                };
                (name.clone(), Arc::new(upstream))
            })
            .collect();
        UpstreamPool { servers, redact }
    }

    /// Redacts the servers' stderr with `detector` (the runtime's own, so
    /// that a process builds one), unless a server has started already.
    pub(crate) fn redact_stderr_with(&self, detector: Option<&Detector>) {
        let _ = self.redact.detector.set(detector.cloned().map(Arc::new));
    }

    /// Configured server names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.servers.keys().map(String::as_str)
    }

    /// Whether `server` is configured.
    pub fn contains(&self, server: &str) -> bool {
        self.servers.contains_key(server)
    }

    /// Status of every server, without starting any.
    pub async fn status(&self) -> Vec<ServerStatus> {
        let mut out = Vec::new();
        for upstream in self.servers.values() {
            let running = upstream.connection.lock().await.as_ref().is_some_and(|c| c.is_alive());
            let (transport, target) = match (&upstream.config.command, &upstream.config.url) {
                (Some(command), _) => (
                    "stdio",
                    std::iter::once(command.clone())
                        .chain(upstream.config.args.iter().cloned())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                (None, Some(url)) => ("http", url.clone()),
                (None, None) => ("stdio", String::new()),
            };
            out.push(ServerStatus { name: upstream.name.clone(), transport, target, running });
        }
        out
    }

    /// The tools of `server`, starting it if needed.
    pub(crate) async fn tools(&self, server: &str) -> Result<Arc<ToolSet>, ToolError> {
        self.get(server)?.tools().await
    }

    /// Calls `tool` on `server` with `arguments` (a JSON object).
    pub async fn call(&self, server: &str, tool: &str, arguments: Value) -> Result<Value, ToolError> {
        self.get(server)?.call(tool, arguments).await
    }

    /// Stops every running server and waits for the processes to exit.
    pub async fn shutdown(&self) {
        for upstream in self.servers.values() {
            if let Some(connection) = upstream.connection.lock().await.take() {
                connection.close().await;
            }
        }
    }

    fn get(&self, server: &str) -> Result<&Arc<Upstream>, ToolError> {
        self.servers.get(server).ok_or_else(|| {
            let known: Vec<&str> = self.names().collect();
            ToolError::NotFound(format!(
                "no server '{server}' (configured: {})",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ))
        })
    }
}

impl Upstream {
    /// The live connection, started (or restarted) as needed.
    async fn connection(&self) -> Result<Arc<Connection>, ToolError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref().filter(|c| c.is_alive()) {
            return Ok(connection.clone());
        }
        if slot.take().is_some() {
            tracing::warn!(server = %self.name, "upstream server stopped; restarting it");
            // Its tools may have changed with it.
            *self.tools.lock().await = None;
        }
        let connection =
            Arc::new(Connection::open(&self.name, &self.config, self.startup_timeout, self.redact.detector()).await?);
        *slot = Some(connection.clone());
        Ok(connection)
    }

    async fn tools(&self) -> Result<Arc<ToolSet>, ToolError> {
        let connection = self.connection().await?;
        self.tools_on(&connection).await
    }

    /// The tool list as `connection` last reported it, re-listed after
    /// list_changed.
    async fn tools_on(&self, connection: &Connection) -> Result<Arc<ToolSet>, ToolError> {
        let mut cached = self.tools.lock().await;
        if let Some(tools) = cached.as_ref().filter(|_| !connection.take_tools_changed()) {
            return Ok(tools.clone());
        }
        let listing = Listing::new(connection.list_tools(self.tool_timeout).await?);
        let tools = Arc::new(ToolSet {
            validators: Validators::new(&listing.definitions),
            js_module: self.modules.module(&self.name, &listing),
            listing,
        });
        *cached = Some(tools.clone());
        Ok(tools)
    }

    async fn call(&self, tool: &str, arguments: Value) -> Result<Value, ToolError> {
        let connection = self.connection().await?;
        let tools = self.tools_on(&connection).await?;
        if tools.listing.definition(tool).is_none() {
            return Err(ToolError::NotFound(format!("server '{}' has no tool '{tool}'", self.name)));
        }
        tools.validators.check(tool, &arguments)?;
        let outcome = connection.call_tool(tool, arguments, self.tool_timeout).await;
        if matches!(outcome, Err(ToolError::Unavailable(_))) && !connection.is_alive() {
            // Drop the dead connection now; the next call starts a new one.
            let mut slot = self.connection.lock().await;
            if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, &connection)) {
                *slot = None;
            }
        }
        outcome
    }
}
