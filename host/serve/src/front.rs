//! What the Streamable HTTP front checks and fixes around rmcp's service:
//!
//! - [`guard`] (every route): the `Host` header must be loopback or listed
//!   (against DNS rebinding) and an `Origin` header, when a browser sends
//!   one, loopback or listed (against cross-site use); else 403.
//! - [`mcp`] (`/mcp`): a body that is not JSON gets 400 with a JSON-RPC
//!   parse error (-32700) and valid JSON that is not a JSON-RPC message 400
//!   with -32600, where rmcp 3.11 answers both with 415; `initialize` past
//!   the session cap gets 503 with `Retry-After`, and so does a request of
//!   a session to be restored from the store at the cap; a `DELETE` that closed
//!   the session gets 200, where rmcp answers 202, which the official
//!   Python SDK logs as "Session termination failed: 202", and a `DELETE`
//!   of a session neither open here nor kept in the store 404, where rmcp
//!   answers 202 for any id.

use std::cell::RefCell;
use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::caps::SERVER_BUSY;
use crate::sessions::{ADMITTED, Sessions};
use crate::shared::StoredSessions;
use rmcp::transport::streamable_http_server::session::store::SessionStore as _;

/// JSON-RPC's "invalid JSON" code.
const PARSE_ERROR: i32 = -32700;
/// JSON-RPC's "not a valid request object" code.
const INVALID_REQUEST: i32 = -32600;

/// The hosts and browser origins a request may name.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    /// Host names or `host:port` authorities (loopback ones included).
    pub hosts: Vec<String>,
    /// Origins allowed besides loopback ones.
    pub origins: Vec<OriginPattern>,
}

/// Refuses a request whose `Host` or `Origin` is not allowed, with 403, and
/// logs it.
pub(crate) async fn guard(guard: Arc<Guard>, request: Request, next: Next) -> Response {
    if let Err(refusal) = guard.check(request.uri(), request.headers()) {
        return refusal;
    }
    next.run(request).await
}

impl Guard {
    fn check(&self, uri: &axum::http::Uri, headers: &HeaderMap) -> Result<(), Response> {
        let forbidden = |what: &str| (StatusCode::FORBIDDEN, format!("Forbidden: {what}\n")).into_response();
        let host = match headers.get(header::HOST) {
            Some(value) => value.to_str().ok().and_then(|text| text.parse::<axum::http::uri::Authority>().ok()),
            None => uri.authority().cloned(),
        };
        let allowed_host = host.as_ref().is_some_and(|host| {
            let name = normalize_host(host.host());
            self.hosts
                .iter()
                .map(|entry| host_entry(entry))
                .any(|(entry, port)| entry == name && port.is_none_or(|port| host.port_u16() == Some(port)))
        });
        if !allowed_host {
            let host = headers.get(header::HOST);
            tracing::warn!(?host, "rejected request with disallowed Host header (possible DNS rebinding attempt)");
            return Err(forbidden("Host header is not allowed"));
        }
        let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
        let allowed =
            origin.to_str().ok().and_then(Origin::parse).is_some_and(|origin| {
                origin.is_loopback() || self.origins.iter().any(|pattern| pattern.matches(&origin))
            });
        if !allowed {
            tracing::warn!(?origin, "rejected request with disallowed Origin header (possible cross-origin attack)");
            return Err(forbidden("Origin header is not allowed"));
        }
        Ok(())
    }
}

/// An allowed-hosts entry, `host` or `host:port` (a bare IPv6 address is
/// a host), as rmcp reads it.
fn host_entry(entry: &str) -> (String, Option<u16>) {
    match entry.trim().parse::<axum::http::uri::Authority>() {
        Ok(authority) => (normalize_host(authority.host()), authority.port_u16()),
        Err(_) => (normalize_host(entry.trim()), None),
    }
}

fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// A browser origin: scheme, host and port (the scheme's default when the
/// header leaves it out).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    /// `scheme://host[:port]`; `None` for anything else (`null`, a path).
    fn parse(text: &str) -> Option<Origin> {
        let uri: axum::http::Uri = text.trim().parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let authority = uri.authority()?;
        let bare = matches!(uri.path(), "" | "/") && uri.query().is_none() && !authority.as_str().contains('@');
        bare.then(|| Origin {
            host: normalize_host(authority.host()),
            port: authority.port_u16().or_else(|| default_port(&scheme)),
            scheme,
        })
    }

    /// A page served from this machine: `localhost` (and its subdomains,
    /// RFC 6761), 127.0.0.0/8 or `::1`, over http or https.
    fn is_loopback(&self) -> bool {
        matches!(self.scheme.as_str(), "http" | "https")
            && (self.host == "localhost"
                || self.host.ends_with(".localhost")
                || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()))
    }
}

/// An allowed origin: `https://app.example` (the scheme's default port),
/// `http://app.example:8080` or `http://app.example:*` (any port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    scheme: String,
    host: String,
    /// `None`: any port.
    port: Option<u16>,
}

impl OriginPattern {
    fn matches(&self, origin: &Origin) -> bool {
        self.scheme == origin.scheme
            && self.host == origin.host
            && self.port.is_none_or(|port| origin.port == Some(port))
    }
}

impl std::str::FromStr for OriginPattern {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "`{text}` is not an origin such as https://app.example, http://app.example:8080 or http://app.example:*"
            )
        };
        let trimmed = text.trim().trim_end_matches('/');
        let (base, any_port) = match trimmed.strip_suffix(":*") {
            Some(base) => (base, true),
            None => (trimmed, false),
        };
        let origin = Origin::parse(base).ok_or_else(bad)?;
        let explicit_port = base.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_ok());
        if any_port && explicit_port {
            return Err(bad());
        }
        let port = if any_port { None } else { Some(origin.port.ok_or_else(bad)?) };
        Ok(OriginPattern { scheme: origin.scheme, host: origin.host, port })
    }
}

/// What the `/mcp` front needs.
pub(crate) struct McpFront {
    pub sessions: Arc<Sessions>,
    /// Where sessions are kept for other instances, when they are.
    pub stored: Option<StoredSessions>,
    /// The largest request body accepted (rmcp's limit too).
    pub max_body: usize,
}

/// Protocol-correct answers around rmcp's service on `/mcp`.
pub(crate) async fn mcp(front: Arc<McpFront>, request: Request, next: Next) -> Response {
    match *request.method() {
        Method::POST => post(&front, request, next).await,
        Method::DELETE => {
            let session = request.headers().get("mcp-session-id").and_then(|value| value.to_str().ok());
            if let Some(session) = session
                && !front.sessions.is_open(session)
                && !is_stored(front.stored.as_ref(), session).await
            {
                return (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response();
            }
            let mut response = next.run(request).await;
            // rmcp 3.11 answers a session's DELETE with 202 Accepted; the
            // official SDKs expect 200 or 204 (the Python client warns on
            // anything else).
            if response.status() == StatusCode::ACCEPTED {
                *response.status_mut() = StatusCode::OK;
            }
            response
        }
        _ => next.run(request).await,
    }
}

/// Whether `session` is kept in the store for other instances (a store
/// that cannot be read counts as keeping it: rmcp then answers).
async fn is_stored(stored: Option<&StoredSessions>, session: &str) -> bool {
    match stored {
        Some(stored) => !matches!(stored.load(session).await, Ok(None)),
        None => false,
    }
}

/// What a POST body says of itself, when it is a JSON object.
#[derive(serde::Deserialize)]
struct Peek {
    method: Option<String>,
    id: Option<Value>,
}

/// rmcp's check of the content type (the essence, any case); other
/// bodies are left to rmcp, which answers 415.
fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| {
        value.split_once(';').map_or(value, |(essence, _)| essence).trim().eq_ignore_ascii_case("application/json")
    })
}

async fn post(front: &McpFront, request: Request, next: Next) -> Response {
    if !is_json(request.headers()) {
        return next.run(request).await;
    }
    let in_session = request.headers().contains_key("mcp-session-id");
    let (parts, body) = request.into_parts();
    let body = match read_body(body, front.max_body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    // rmcp reads the body the same way and answers 415 when it does not
    // deserialise; JSON-RPC wants a parse error for text that is not JSON.
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
        return jsonrpc_error(StatusCode::BAD_REQUEST, Value::Null, PARSE_ERROR, format!("Parse error: {error}"), None);
    }
    let peek = serde_json::from_slice::<Peek>(&body).ok();
    let id = peek.as_ref().and_then(|peek| peek.id.clone()).unwrap_or(Value::Null);
    let initialize = !in_session && peek.as_ref().is_some_and(|peek| peek.method.as_deref() == Some("initialize"));
    // A session not open here (closed for being idle, or opened by another
    // instance) is restored from the store and takes a place like a new
    // one: at the cap, the same busy answer, not rmcp's plain 500.
    let session = parts.headers.get("mcp-session-id").and_then(|value| value.to_str().ok());
    if session.is_some_and(|session| !front.sessions.is_open(session)) && !front.sessions.has_room() {
        return sessions_full(&front.sessions, id);
    }
    let request = Request::from_parts(parts, Body::from(body));
    let response = if initialize {
        let Some(admission) = front.sessions.admit() else {
            return sessions_full(&front.sessions, id);
        };
        ADMITTED.scope(RefCell::new(Some(admission)), next.run(request)).await
    } else {
        next.run(request).await
    };
    if response.status() != StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return response;
    }
    // JSON, with the right content type: rmcp could not read it as a
    // JSON-RPC message.
    let detail = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&detail);
    let detail = detail.trim().trim_start_matches("fail to deserialize request body").trim();
    let message = format!("Invalid Request: not a JSON-RPC message MCP defines ({detail})");
    jsonrpc_error(StatusCode::BAD_REQUEST, id, INVALID_REQUEST, message, None)
}

/// The body, up to `limit` bytes; past it, 413 as rmcp answers it.
async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, Response> {
    let too_large = || {
        (StatusCode::PAYLOAD_TOO_LARGE, format!("Payload Too Large: request body exceeds {limit} bytes"))
            .into_response()
    };
    let mut collected = bytes::BytesMut::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            (StatusCode::BAD_REQUEST, format!("Bad Request: cannot read the body: {error}")).into_response()
        })?;
        if chunk.len() > limit.saturating_sub(collected.len()) {
            return Err(too_large());
        }
        collected.extend_from_slice(&chunk);
    }
    Ok(collected.freeze())
}

/// 503 for an `initialize` past the session cap: `Retry-After`, and the
/// [`SERVER_BUSY`] JSON-RPC error, which the SDKs surface to the caller.
fn sessions_full(sessions: &Sessions, id: Value) -> Response {
    sessions.refused();
    // Idle sessions expire within an idle period and a quarter; someone
    // closing theirs frees a place sooner.
    let retry = sessions.idle().as_secs().clamp(1, 30);
    let max = sessions.max();
    tracing::warn!(max, "refused a new session: the server holds its maximum");
    let message = format!(
        "server busy: {max} sessions are open, the server's limit; close one you no longer use, or retry in {retry} s"
    );
    let data = json!({"reason": "max_sessions", "limit": max, "retryAfterSeconds": retry});
    let mut response = jsonrpc_error(StatusCode::SERVICE_UNAVAILABLE, id, SERVER_BUSY, message, Some(data));
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry));
    response
}

fn jsonrpc_error(status: StatusCode, id: Value, code: i32, message: String, data: Option<Value>) -> Response {
    let mut error = json!({"code": code, "message": message});
    if let Some(data) = data {
        error["data"] = data;
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "error": error});
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(origins: &[&str]) -> Guard {
        Guard {
            hosts: ["localhost", "127.0.0.1", "::1", "airlock.internal:8443"].map(String::from).to_vec(),
            origins: origins.iter().map(|o| o.parse().unwrap()).collect(),
        }
    }

    fn allowed(guard: &Guard, host: &str, origin: Option<&str>) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, origin.parse().unwrap());
        }
        guard.check(&"/mcp".parse().unwrap(), &headers).is_ok()
    }

    #[test]
    fn hosts_are_loopback_or_listed() {
        let g = guard(&[]);
        assert!(allowed(&g, "127.0.0.1:8765", None));
        assert!(allowed(&g, "[::1]:8765", None));
        assert!(allowed(&g, "LOCALHOST", None));
        assert!(allowed(&g, "airlock.internal:8443", None));
        assert!(!allowed(&g, "airlock.internal:8444", None), "the listed port only");
        assert!(!allowed(&g, "evil.example", None));
    }

    #[test]
    fn origins_are_absent_loopback_or_listed() {
        let g = guard(&["https://app.example", "http://dev.example:8080", "http://any.example:*"]);
        let ok = |origin: &str| allowed(&g, "127.0.0.1:8765", Some(origin));
        for origin in [
            "http://localhost:5173",
            "https://localhost",
            "http://127.0.0.1:3000",
            "http://[::1]:8080",
            "http://app.localhost:1234",
            "https://app.example",
            "https://app.example:443",
            "http://dev.example:8080",
            "http://any.example:9999",
            "http://any.example",
        ] {
            assert!(ok(origin), "{origin} should be allowed");
        }
        for origin in [
            "http://evil.example",
            "null",
            "https://app.example:8443",
            "http://app.example",
            "http://dev.example",
            "https://dev.example:8080",
            "http://127.0.0.1.evil.example",
            "http://localhost.evil.example",
            "file://",
            "chrome-extension://abcdef",
            "http://app.example/path",
            "not an origin",
        ] {
            assert!(!ok(origin), "{origin} should be refused");
        }
        assert!(allowed(&g, "127.0.0.1:8765", None), "no Origin: not a browser");
    }

    #[test]
    fn origin_patterns_must_be_origins() {
        for good in ["https://app.example", "https://app.example/", "http://app.example:8080", "http://app.example:*"] {
            assert!(good.parse::<OriginPattern>().is_ok(), "{good}");
        }
        for bad in ["app.example", "https://app.example/path", "http://app.example:8080:*", "null", "ftp://x", ""] {
            assert!(bad.parse::<OriginPattern>().is_err(), "{bad}");
        }
    }
}
