//! Serving a [`CodeModeServer`] per client: one session over stdio, or
//! Streamable HTTP at `/mcp` (a session per MCP session) with a bearer
//! token, `Host` and `Origin` checks, a cap on live sessions, an idle
//! expiry and OpenMetrics at `/metrics`.
//!
//! Either way a stop (the future the caller passes) is graceful: new
//! executions are refused, running ones finish within their deadlines and
//! their results reach their clients before the sessions close.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use airlock::{Language, Runtime, Session};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::registry::Registry;
use rmcp::transport::IntoTransport;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{RoleServer, ServiceExt};

use crate::answers::{Pending, Tracked};
use crate::caps::{ExecutionCaps, ExecutionLimits};
use crate::front::{Guard, McpFront, OriginPattern};
use crate::server::CodeModeServer;
use crate::sessions::{SessionMetrics, Sessions};

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The MCP client never completed `initialize`.
    #[error("the MCP client did not initialise: {0}")]
    Initialise(String),
    /// A session could not be created (its workspace folder).
    #[error(transparent)]
    Session(#[from] airlock::Error),
    /// Serving HTTP failed.
    #[error("serving HTTP failed: {0}")]
    Io(#[from] std::io::Error),
    /// An allowed origin is not an origin.
    #[error("{0}")]
    Origin(String),
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

/// Removes expired paused executions from the runtime's store, every
/// quarter of their expiry (between 1 s and 5 min), for as long as the
/// returned handle lives; nothing without approval rules or a store.
fn purge_expired_executions(runtime: &Runtime) -> Option<AbortOnDrop> {
    if runtime.approval_settings().require.is_empty() || !runtime.has_store() {
        return None;
    }
    let every = (runtime.approval_settings().paused_expiry / 4).clamp(Duration::from_secs(1), Duration::from_secs(300));
    let runtime = runtime.clone();
    Some(AbortOnDrop(tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            // Listing removes the expired ones.
            if let Err(error) = runtime.paused_executions().await {
                tracing::warn!(error = %error.report(), "cannot remove expired paused executions");
            }
        }
    })))
}

/// Aborts its task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves one MCP client on stdin/stdout, in `session`, until it
/// disconnects or `stop` resolves.
pub async fn serve_stdio(
    runtime: &Runtime,
    session: Session,
    language: Language,
    executions: ExecutionLimits,
    stop: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let caps = ExecutionCaps::new(executions);
    let server = CodeModeServer::new(runtime.clone(), session).with_language(language).with_execution_caps(&caps);
    let pending = Pending::new();
    let stdio = IntoTransport::<RoleServer, std::io::Error, _>::into_transport(rmcp::transport::stdio());
    let transport = Tracked::new(stdio, pending.clone());
    let service = server.serve(transport).await.map_err(|e| ServeError::Initialise(e.to_string()))?;
    tracing::info!("serving on stdio");
    let _purging = purge_expired_executions(runtime);
    let cancel = service.cancellation_token();
    let waiting = service.waiting();
    tokio::pin!(waiting);
    tokio::select! {
        finished = &mut waiting => {
            if let Err(error) = finished {
                tracing::warn!(%error, "the MCP connection ended with an error");
            }
        }
        () = stop => {
            finish_running(runtime, &pending).await;
            cancel.cancel();
            // The service drops the session (and its temporary folders) as
            // it ends; the process may exit right after this returns.
            if tokio::time::timeout(SESSIONS_END_WAIT, waiting).await.is_err() {
                tracing::warn!("the session is still open {SESSIONS_END_WAIT:?} after the stop; its folders may remain");
            }
        }
    }
    Ok(())
}

/// How to serve Streamable HTTP.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Where to listen (port 0 picks one; [`HttpServer::local_addr`] says which).
    pub addr: SocketAddr,
    /// Host names (or `host:port`) accepted in the `Host` header besides
    /// loopback.
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted in the `Origin` header besides loopback
    /// ones (`https://app.example`, `http://app.example:8080`,
    /// `http://app.example:*`; see [`check_origin`]). A request without
    /// `Origin` (not from a browser) is not checked.
    pub allowed_origins: Vec<String>,
    /// How many MCP sessions may be open at once; past it `initialize`
    /// gets 503 with `Retry-After` and a [`crate::SERVER_BUSY`] error.
    pub max_sessions: usize,
    /// A session without a request in flight for this long is closed, and
    /// its workspace (when temporary), PII vault and memory released.
    pub session_idle_timeout: Duration,
    /// The executions in flight allowed per session and per server.
    pub executions: ExecutionLimits,
    /// The bearer token every request must carry, if any.
    pub token: Option<String>,
    /// A folder for session workspaces (a numbered subfolder each); `None`:
    /// temporary folders, removed when their session ends.
    pub workspace: Option<PathBuf>,
    /// The language `execute_code` runs when a call names none.
    pub language: Language,
    /// Keep each MCP session's handshake and PII vault in the runtime's
    /// store, so that every instance sharing the store (and the journal
    /// key) serves any request of any session: no stickiness needed.
    pub shared_sessions: bool,
}

impl HttpOptions {
    /// The default of [`HttpOptions::max_sessions`].
    pub const DEFAULT_MAX_SESSIONS: usize = 1000;
    /// The default of [`HttpOptions::session_idle_timeout`].
    pub const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

    /// Serving at `addr` with the defaults: loopback hosts and origins
    /// only, no token, temporary workspaces, JavaScript, the default caps.
    pub fn new(addr: SocketAddr) -> HttpOptions {
        HttpOptions {
            addr,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_sessions: Self::DEFAULT_MAX_SESSIONS,
            session_idle_timeout: Self::DEFAULT_SESSION_IDLE_TIMEOUT,
            executions: ExecutionLimits::default(),
            token: None,
            workspace: None,
            language: Language::JavaScript,
            shared_sessions: false,
        }
    }
}

/// Checks that `text` is an origin [`HttpOptions::allowed_origins`] can
/// hold: `scheme://host` (the scheme's default port), `scheme://host:port`
/// or `scheme://host:*` (any port).
pub fn check_origin(text: &str) -> Result<String, String> {
    text.parse::<OriginPattern>().map(|_| text.to_string())
}

/// A bound Streamable HTTP server, not yet serving.
pub struct HttpServer {
    listener: tokio::net::TcpListener,
    runtime: Runtime,
    options: HttpOptions,
    /// `options.allowed_origins`, parsed (and so checked) by `bind`.
    origins: Vec<OriginPattern>,
}

impl HttpServer {
    /// Binds `options.addr`.
    pub async fn bind(runtime: Runtime, options: HttpOptions) -> Result<HttpServer, ServeError> {
        let origins =
            options.allowed_origins.iter().map(|o| o.parse()).collect::<Result<_, _>>().map_err(ServeError::Origin)?;
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .map_err(|source| ServeError::Bind { addr: options.addr, source })?;
        Ok(HttpServer { listener, runtime, options, origins })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `stop` resolves: each MCP session gets its own Airlock
    /// session.
    pub async fn run(self, stop: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        let HttpServer { listener, runtime, options, origins } = self;
        let mut hosts = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
        hosts.extend(options.allowed_hosts.iter().cloned());
        let guard = Arc::new(Guard { hosts: hosts.clone(), origins });
        // rmcp checks `Host` on /mcp as well (the same list); the guard
        // checks it on every route, with `Origin`.
        let mut config = StreamableHttpServerConfig::default().with_allowed_hosts(hosts);
        if options.shared_sessions {
            config.session_store = Some(Arc::new(crate::shared::StoredSessions(runtime.clone())));
        }
        let max_body = config.max_request_body_bytes;
        let cancel = config.cancellation_token.clone();
        let session_metrics = SessionMetrics::default();
        let sessions =
            Arc::new(Sessions::new(options.max_sessions, options.session_idle_timeout, session_metrics.clone()));
        let caps = ExecutionCaps::new(options.executions);
        let registry = Arc::new(front_metrics(&session_metrics, &caps));
        let workspaces = options.workspace.clone();
        let counter = Arc::new(AtomicU64::new(0));
        let factory_runtime = runtime.clone();
        let language = options.language;
        let shared = options.shared_sessions;
        // Each session's server holds a sender; all gone: all sessions ended.
        let (ended, mut all_ended) = tokio::sync::mpsc::channel::<()>(1);
        let service = StreamableHttpService::new(
            move || {
                let (session, folder) = new_session(&factory_runtime, workspaces.as_deref(), &counter)?;
                Ok(CodeModeServer::new(factory_runtime.clone(), session)
                    .with_language(language)
                    .with_execution_caps(&caps)
                    .with_shared_sessions(shared)
                    .removing_if_empty(folder)
                    .reporting_end_to(ended.clone()))
            },
            sessions.clone(),
            config,
        );
        let expiring = cancel.clone();
        tokio::spawn(sessions.clone().expire_idle(async move { expiring.cancelled().await }));
        let _purging = purge_expired_executions(&runtime);
        if options.shared_sessions {
            let purging = cancel.clone();
            let idle = options.session_idle_timeout;
            tokio::spawn(crate::shared::purge_idle(runtime.clone(), idle, async move { purging.cancelled().await }));
        }
        let stored = options.shared_sessions.then(|| crate::shared::StoredSessions(runtime.clone()));
        let front = Arc::new(McpFront { sessions, stored, max_body });
        let token = options.token.map(Arc::new);
        let pending = Pending::new();
        let tracker = pending.clone();
        let metrics_runtime = runtime.clone();
        let metrics = move || {
            let runtime = metrics_runtime.clone();
            let registry = registry.clone();
            async move {
                let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
                ([(header::CONTENT_TYPE, content_type)], encode_metrics(&runtime, &registry))
            }
        };
        let router = axum::Router::new()
            .nest_service("/mcp", service)
            .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
                tracker.clone().track_http(request, next)
            }))
            .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
                crate::front::mcp(front.clone(), request, next)
            }))
            .route("/metrics", axum::routing::get(metrics))
            .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
                let token = token.clone();
                async move { authorize(token.as_deref().map(String::as_str), request, next).await }
            }))
            .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
                crate::front::guard(guard.clone(), request, next)
            }));
        // On a stop, running executions finish and their results reach
        // their clients before the MCP sessions (and their streams) close.
        let stopping = async move {
            stop.await;
            finish_running(&runtime, &pending).await;
            cancel.cancel();
        };
        axum::serve(listener, router).with_graceful_shutdown(stopping).await?;
        // The sessions' workers were cancelled; their servers, sessions and
        // temporary folders go as the workers wind down. The process may
        // exit right after this returns: wait for them (briefly).
        if tokio::time::timeout(SESSIONS_END_WAIT, all_ended.recv()).await.is_err() {
            tracing::warn!("sessions still open {SESSIONS_END_WAIT:?} after the stop; their folders may remain");
        }
        Ok(())
    }
}

/// How long a stopping server waits for its sessions to end.
const SESSIONS_END_WAIT: Duration = Duration::from_secs(5);

/// The HTTP front's own metrics: sessions and refusals.
fn front_metrics(sessions: &SessionMetrics, caps: &ExecutionCaps) -> Registry {
    let mut registry = Registry::with_prefix("airlock");
    registry.register("http_sessions", "MCP sessions open over HTTP now", sessions.live.clone());
    registry.register(
        "http_sessions_expired",
        "HTTP sessions closed after the idle timeout without a request",
        sessions.expired.clone(),
    );
    registry.register(
        "http_sessions_refused",
        "initialize requests refused because the server held its maximum of sessions",
        sessions.refused.clone(),
    );
    registry.register(
        "executions_refused",
        "execute_code calls refused by the limit of executions in flight (session or server)",
        caps.refused.clone(),
    );
    registry
}

/// The runtime's metrics and the front's, as one OpenMetrics exposition.
fn encode_metrics(runtime: &Runtime, front: &Registry) -> String {
    let mut text = runtime.metrics().encode();
    // Both registries in one exposition: before the runtime's closing
    // `# EOF`, the front's families.
    if text.ends_with("# EOF\n") {
        text.truncate(text.len() - "# EOF\n".len());
    }
    let _ = prometheus_client::encoding::text::encode_registry(&mut text, front);
    let _ = prometheus_client::encoding::text::encode_eof(&mut text);
    text
}

/// A session for a new MCP client: in a new numbered subfolder of `dir`
/// (returned too), or in a temporary folder. A number whose folder exists
/// (kept by an earlier process, or another instance) is skipped: a new
/// session never sees an earlier one's files.
fn new_session(
    runtime: &Runtime,
    dir: Option<&std::path::Path>,
    counter: &AtomicU64,
) -> std::io::Result<(Session, Option<PathBuf>)> {
    let Some(dir) = dir else { return Ok((runtime.session().map_err(std::io::Error::other)?, None)) };
    let cannot = |path: &std::path::Path, e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| cannot(dir, e))?;
    loop {
        let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
        let folder = dir.join(format!("session-{n}"));
        match std::fs::create_dir(&folder) {
            Ok(()) => {
                let session = runtime.session_in(folder.clone()).map_err(std::io::Error::other)?;
                return Ok((session, Some(folder)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(cannot(&folder, e)),
        }
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
        .and_then(|value| value.split_once(' '))
        // The scheme is case-insensitive (RFC 9110, 11.1).
        .and_then(|(scheme, credentials)| scheme.eq_ignore_ascii_case("bearer").then_some(credentials.trim_start()));
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

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when the future is first awaited: a signal that comes while
/// the server still starts (a stdio client's `initialize` in flight) stops
/// it cleanly too, instead of killing the process with its sessions'
/// folders left behind.
pub fn stop_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (interrupt, terminate) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()));
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                (Ok(mut only), Err(_)) | (Err(_), Ok(mut only)) => {
                    only.recv().await;
                }
                (Err(_), Err(_)) => std::future::pending().await,
            }
        }
    }
    #[cfg(not(unix))]
    async {
        tokio::signal::ctrl_c().await.unwrap_or(());
    }
}
