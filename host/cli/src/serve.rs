//! `airlock serve`: Airlock as an MCP server over stdio or Streamable
//! HTTP, for Claude Desktop, Claude Code, Cursor or any agent.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use airlock::{AuditLog, Language};
use airlock_serve::{ExecutionLimits, HttpOptions, HttpServer, serve_stdio, stop_signal};
use anyhow::Context;
use clap::Args;

use super::{EXIT_OK, EXIT_USAGE};

/// Arguments of `airlock serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// An `{"mcpServers": {...}}` config file (Claude Desktop's format);
    /// default: `$AIRLOCK_CONFIG`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Keep session workspaces in this folder (stdio: the folder itself;
    /// HTTP: a subfolder per session). Default: temporary folders, removed
    /// when their session ends.
    #[arg(long)]
    workspace: Option<PathBuf>,
    /// Serve Streamable HTTP at this address (`127.0.0.1:8765`; port 0
    /// picks one) instead of stdio. The endpoint is `/mcp`, Prometheus
    /// metrics are at `/metrics`. Binding beyond loopback requires a bearer
    /// token, in `$AIRLOCK_TOKEN` or the config's `airlock.serve.token`.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Append a hash-chained audit record for every execution and tool
    /// call to this file (`airlock audit verify` checks it).
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// Host names (or `host:port`) accepted in the `Host` header besides
    /// loopback, for a server reached under a public name.
    #[arg(long = "allow-host", value_name = "HOST")]
    allow_hosts: Vec<String>,
    /// A browser origin allowed in the `Origin` header besides loopback
    /// ones (repeatable; also the config's `airlock.serve.allowed_origins`):
    /// `https://app.example` (its default port), `http://app.example:8080`
    /// or `http://app.example:*` (any port). Requests without `Origin`
    /// (not from a browser) are not checked; others get 403.
    #[arg(long = "allow-origin", value_name = "ORIGIN", value_parser = airlock_serve::check_origin)]
    allow_origins: Vec<String>,
    /// HTTP: the most MCP sessions open at once; past it `initialize` gets
    /// 503 with `Retry-After`.
    #[arg(long, value_name = "N", default_value_t = HttpOptions::DEFAULT_MAX_SESSIONS, value_parser = positive)]
    max_sessions: usize,
    /// HTTP: close a session after this long without a request (`30m`,
    /// `90s`), releasing its workspace, PII vault and memory.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = idle_timeout)]
    session_idle_timeout: Duration,
    /// The most executions in flight (running or waiting for an instance)
    /// across all sessions; past it `execute_code` is refused with a
    /// "server busy" error.
    #[arg(long, value_name = "N", default_value_t = ExecutionLimits::DEFAULT_PER_SERVER, value_parser = positive)]
    max_executions: usize,
    /// The most executions in flight in one session.
    #[arg(long, value_name = "N", default_value_t = ExecutionLimits::DEFAULT_PER_SESSION, value_parser = positive)]
    max_executions_per_session: usize,
    /// A skill folder, searched in order (repeatable); `save_skill` saves
    /// into the first. Default: $AIRLOCK_SKILLS_DIR (else
    /// ~/.local/share/airlock/skills), then the bundled skills.
    #[arg(long = "skills-dir", value_name = "DIR")]
    skill_folders: Vec<PathBuf>,
    /// The language `execute_code` runs when a call names none, and whose
    /// declarations `describe_tools` and `search_tools` show by default:
    /// javascript, typescript or python.
    #[arg(long, default_value = "javascript", value_parser = super::run::parse_language)]
    language: Language,
    /// Keep HTTP sessions in memory only. By default each session's
    /// handshake and PII vault (encrypted) are kept in the store (the data
    /// folder's, or `airlock.store`), so that the session outlives a
    /// restart and, with a shared store, is served by every instance;
    /// without a data folder or store they stay in memory.
    #[arg(long)]
    sessions_in_memory: bool,
}

/// The environment variable holding the bearer token HTTP clients must send.
const TOKEN_VAR: &str = "AIRLOCK_TOKEN";

fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn idle_timeout(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("must be longer than 0".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

/// Serves MCP clients on stdio or HTTP until the client leaves (stdio) or
/// the process is asked to stop (SIGINT, SIGTERM).
pub async fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    let Some(config) = super::load_config(args.config.as_deref()) else {
        return Ok(EXIT_USAGE);
    };
    // Serving plain code execution is allowed, but rarely meant.
    if let Err(error) = config.require_servers() {
        eprintln!("warning: {}: executions can call no tools", error.message);
    }
    let token = std::env::var(TOKEN_VAR).ok().or_else(|| config.airlock.serve.token.clone()).filter(|t| !t.is_empty());
    for origin in &config.airlock.serve.allowed_origins {
        if let Err(message) = airlock_serve::check_origin(origin) {
            eprintln!("error: airlock.serve.allowed_origins: {message}");
            return Ok(EXIT_USAGE);
        }
    }
    if let Some(addr) = args.http
        && !addr.ip().is_loopback()
        && token.is_none()
    {
        eprintln!(
            "error: serving on {addr}, beyond loopback, needs a bearer token (${TOKEN_VAR} or airlock.serve.token in the config)"
        );
        return Ok(EXIT_USAGE);
    }
    // From here a stop signal stops the server cleanly (once it serves),
    // also one that comes while it starts.
    let stop = stop_signal();
    // execute_code results report their token counts: load the vocabulary
    // while the runtime starts.
    airlock_serve::tokens::warm_up();
    let mut builder = super::with_store(super::runtime_builder().config(&config), &config).await?;
    if !args.skill_folders.is_empty() {
        builder = builder.skill_folders(args.skill_folders.clone());
    }
    let audit = match &args.audit {
        Some(path) => Some(Arc::new(AuditLog::open(path).context("cannot open the audit log")?)),
        None => None,
    };
    if let Some(log) = &audit {
        builder = builder.audit(log.clone());
    }
    let runtime = builder.build().await?;
    if args.language == Language::Python {
        // Loaded while the client initialises, not before: a first start
        // that compiles the guest must not hold up `initialize`. The first
        // Python execution waits for it if it comes sooner.
        let preloading = runtime.clone();
        tokio::spawn(async move {
            if let Err(error) = preloading.preload_python().await {
                tracing::error!(%error, "cannot load the Python guest");
            }
        });
    }
    let executions = ExecutionLimits { per_session: args.max_executions_per_session, per_server: args.max_executions };
    let served: anyhow::Result<()> = match args.http {
        Some(addr) => {
            let mut allowed_origins = config.airlock.serve.allowed_origins.clone();
            allowed_origins.extend(args.allow_origins.iter().cloned());
            let options = HttpOptions {
                allowed_hosts: args.allow_hosts.clone(),
                allowed_origins,
                max_sessions: args.max_sessions,
                session_idle_timeout: args.session_idle_timeout,
                executions,
                token,
                workspace: args.workspace.clone(),
                language: args.language,
                // Sessions outlive the process; instances over one store
                // serve each other's sessions.
                shared_sessions: !args.sessions_in_memory && runtime.has_store(),
                ..HttpOptions::new(addr)
            };
            let server = HttpServer::bind(runtime.clone(), options).await?;
            // The address on stderr, for whoever started us with port 0.
            eprintln!("airlock: serving MCP at http://{}/mcp", server.local_addr()?);
            server.run(stop).await.map_err(Into::into)
        }
        None => {
            let session = match &args.workspace {
                Some(dir) => runtime.session_in(dir)?,
                None => runtime.session()?,
            };
            serve_stdio(&runtime, session, args.language, executions, stop).await.map_err(Into::into)
        }
    };
    // Stopping: executions still running finish (within their deadlines)
    // before their upstream servers go away.
    runtime.drain().await;
    runtime.shutdown().await;
    if let Some(log) = &audit {
        log.sync();
    }
    served?;
    Ok(EXIT_OK)
}
