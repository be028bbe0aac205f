//! `airlock serve`: Airlock as an MCP server over stdio or Streamable
//! HTTP, for Claude Desktop, Claude Code, Cursor or any agent.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use airlock::serve::CodeModeServer;
use airlock::{AuditLog, Language, Runtime, Session};
use anyhow::Context;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clap::Args;
use rmcp::transport::IntoTransport;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{RoleServer, ServiceExt};

use super::answers::{Pending, Tracked};
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
}

/// The environment variable holding the bearer token HTTP clients must send.
const TOKEN_VAR: &str = "AIRLOCK_TOKEN";

/// Serves one MCP client on stdin/stdout until it disconnects or the
/// process is asked to stop (SIGINT, SIGTERM).
pub async fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    let Some(config) = super::load_config(args.config.as_deref()) else {
        return Ok(EXIT_USAGE);
    };
    // Serving plain code execution is allowed, but rarely meant.
    if let Err(error) = config.require_servers() {
        eprintln!("warning: {}: executions can call no tools", error.message);
    }
    let token = std::env::var(TOKEN_VAR).ok().or_else(|| config.airlock.serve.token.clone()).filter(|t| !t.is_empty());
    if let Some(addr) = args.http
        && !addr.ip().is_loopback()
        && token.is_none()
    {
        eprintln!(
            "error: serving on {addr}, beyond loopback, needs a bearer token (${TOKEN_VAR} or airlock.serve.token in the config)"
        );
        return Ok(EXIT_USAGE);
    }
    // execute_code results report their token counts: load the vocabulary
    // while the runtime starts.
    airlock::tokens::warm_up();
    let mut builder = super::runtime_builder().config(&config);
    if !args.skill_folders.is_empty() {
        builder = builder.skill_folders(args.skill_folders.clone());
    }
    let audit = match &args.audit {
        Some(path) => {
            let log = AuditLog::open(path).context("cannot open the audit log")?;
            Some(Arc::new(log))
        }
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
    let result = serve_on(&runtime, &args, token).await;
    // Stopping: executions still running finish (within their deadlines)
    // before their upstream servers go away.
    runtime.drain().await;
    runtime.shutdown().await;
    if let Some(log) = &audit {
        log.sync();
    }
    result
}

/// Serves on the transport `args` choose until the client leaves or a stop
/// signal comes.
async fn serve_on(runtime: &Runtime, args: &ServeArgs, token: Option<String>) -> anyhow::Result<u8> {
    if let Some(addr) = args.http {
        serve_http(runtime.clone(), addr, args, token).await?;
        return Ok(EXIT_OK);
    }
    let session = match &args.workspace {
        Some(dir) => runtime.session_in(dir)?,
        None => runtime.session()?,
    };
    let server = CodeModeServer::new(runtime.clone(), session).with_language(args.language);
    let pending = Pending::new();
    let stdio = IntoTransport::<RoleServer, std::io::Error, _>::into_transport(rmcp::transport::stdio());
    let transport = Tracked::new(stdio, pending.clone());
    let service = server.serve(transport).await.context("the MCP client did not initialise")?;
    tracing::info!("serving on stdio");
    let cancel = service.cancellation_token();
    tokio::select! {
        finished = service.waiting() => {
            if let Err(error) = finished {
                tracing::warn!(%error, "the MCP connection ended with an error");
            }
        }
        () = stop_signal() => {
            finish_running(runtime, &pending).await;
            cancel.cancel();
        }
    }
    Ok(EXIT_OK)
}

/// Serves Streamable HTTP until SIGINT or SIGTERM: each MCP session gets
/// its own Airlock session.
async fn serve_http(runtime: Runtime, addr: SocketAddr, args: &ServeArgs, token: Option<String>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    let mut hosts = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    hosts.extend(args.allow_hosts.iter().cloned());
    let config = StreamableHttpServerConfig::default().with_allowed_hosts(hosts);
    let cancel = config.cancellation_token.clone();
    let workspaces = args.workspace.clone();
    let counter = Arc::new(AtomicU64::new(0));
    let factory_runtime = runtime.clone();
    let language = args.language;
    let service = StreamableHttpService::new(
        move || {
            let session =
                new_session(&factory_runtime, workspaces.as_deref(), &counter).map_err(std::io::Error::other)?;
            Ok(CodeModeServer::new(factory_runtime.clone(), session).with_language(language))
        },
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let token = token.map(Arc::new);
    let pending = Pending::new();
    let tracker = pending.clone();
    let metrics_runtime = runtime.clone();
    let metrics = move || {
        let runtime = metrics_runtime.clone();
        async move {
            let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
            ([(header::CONTENT_TYPE, content_type)], runtime.metrics().encode())
        }
    };
    let router = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| tracker.clone().track_http(request, next)))
        .route("/metrics", axum::routing::get(metrics))
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            let token = token.clone();
            async move { authorize(token.as_deref().map(String::as_str), request, next).await }
        }));
    // The address on stderr, for whoever started us with port 0.
    eprintln!("airlock: serving MCP at http://{bound}/mcp");
    // On a stop signal, running executions finish and their results reach
    // their clients before the MCP sessions (and their open streams) close.
    let stopping = async move {
        stop_signal().await;
        finish_running(&runtime, &pending).await;
        cancel.cancel();
    };
    axum::serve(listener, router).with_graceful_shutdown(stopping).await?;
    Ok(())
}

/// How long a stopping server waits, once no execution runs, for the
/// answers still owed to reach their clients.
const ANSWER_GRACE: Duration = Duration::from_secs(10);

/// Lets running executions finish (each within its deadline), refusing new
/// ones, and waits until their results have been sent.
async fn finish_running(runtime: &Runtime, pending: &Pending) {
    tracing::info!("stopping: letting running executions finish");
    runtime.drain().await;
    pending.settled(ANSWER_GRACE).await;
}

/// A session for a new MCP client: in a numbered subfolder of `dir`, or
/// in a temporary folder.
fn new_session(
    runtime: &Runtime,
    dir: Option<&std::path::Path>,
    counter: &AtomicU64,
) -> Result<Session, airlock::Error> {
    match dir {
        Some(dir) => {
            let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
            runtime.session_in(dir.join(format!("session-{n}")))
        }
        None => runtime.session(),
    }
}

/// Lets a request through when no token is set or it carries
/// `Authorization: Bearer <token>`.
async fn authorize(token: Option<&str>, request: Request, next: Next) -> Response {
    let Some(token) = token else { return next.run(request).await };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if presented.is_some_and(|presented| same_secret(presented, token)) {
        next.run(request).await
    } else {
        (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a bearer token is required\n")
            .into_response()
    }
}

/// Compares in time that does not depend on where the strings differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Resolves on SIGINT or SIGTERM.
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return interrupt.await.unwrap_or(()),
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await.unwrap_or(());
}
