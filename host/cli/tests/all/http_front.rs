//! The HTTP front of `airlock serve --http` as attackers and strict
//! clients meet it, over real HTTP: `Origin` checks and malformed bodies.

use std::io::{Read, Write};
use std::process::{Child, Command};

use serde_json::Value;

use crate::common::{records_config, serve_http_with};

/// An HTTP response: status, headers (names lowercased) and body.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

/// One request over its own connection (`Connection: close`).
fn send(url: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let authority = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {authority}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no header end: {raw}"));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_string() };
    Reply { status, headers, body }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#;

/// POSTs `body` to `/mcp` as an MCP client would, with `extra` headers.
fn post(url: &str, extra: &[(&str, &str)], body: &str) -> Reply {
    let mut headers = vec![("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream")];
    headers.extend_from_slice(extra);
    send(url, "POST", "/mcp", &headers, body.as_bytes())
}

/// A server that is killed if the test fails before it stops it.
struct Server(Option<Child>);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Stops the server with SIGTERM: it exits cleanly.
fn stop(mut server: Server) {
    let mut child = server.0.take().unwrap();
    Command::new("kill").arg(child.id().to_string()).status().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// [`serve_http_with`], killed when the test ends early.
fn serve(config: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> (Server, String, crate::common::Log) {
    let (child, url, log) = serve_http_with(config, args, envs);
    (Server(Some(child)), url, log)
}

#[test]
fn a_hostile_origin_is_refused_and_a_listed_one_served() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mcp.json");
    std::fs::write(&config, r#"{"airlock": {"serve": {"allowed_origins": ["https://ui.example"]}}}"#).unwrap();
    let (server, url, log) = serve(&config, &["--allow-origin", "http://app.example:8080"], &[]);

    // A page elsewhere: refused before anything runs, on every route, and
    // logged.
    let hostile = post(&url, &[("Origin", "http://evil.example")], INITIALIZE);
    assert_eq!(hostile.status, 403, "{hostile:?}");
    assert_eq!(hostile.header("mcp-session-id"), None);
    assert_eq!(send(&url, "GET", "/metrics", &[("Origin", "http://evil.example")], b"").status, 403);
    assert_eq!(post(&url, &[("Origin", "null")], INITIALIZE).status, 403);
    // The listed port only; and a name that merely starts like loopback.
    assert_eq!(post(&url, &[("Origin", "http://app.example:9090")], INITIALIZE).status, 403);
    assert_eq!(post(&url, &[("Origin", "http://localhost.evil.example")], INITIALIZE).status, 403);
    // The Host check, as before, now on /metrics too.
    assert_eq!(send(&url, "GET", "/metrics", &[("Host", "evil.example")], b"").status, 403);

    // Listed (flag or config), loopback, or no Origin at all (not a
    // browser): served, each a session.
    for origin in [Some("http://app.example:8080"), Some("https://ui.example"), Some("http://localhost:5173"), None] {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("Origin", o)).into_iter().collect();
        let served = post(&url, &headers, INITIALIZE);
        assert_eq!(served.status, 200, "{origin:?}: {served:?}");
        assert!(served.header("mcp-session-id").is_some(), "{origin:?}: {served:?}");
        assert!(served.body.contains(r#""serverInfo":{"name":"airlock""#), "{served:?}");
    }

    let log = log.lock().unwrap().clone();
    assert!(log.contains("rejected request with disallowed Origin header"), "{log}");
    assert!(log.contains("evil.example"), "{log}");
    assert!(log.contains("rejected request with disallowed Host header"), "{log}");
    stop(server);

    // A config entry that is not an origin is a usage error.
    std::fs::write(&config, r#"{"airlock": {"serve": {"allowed_origins": ["ui.example"]}}}"#).unwrap();
    let bad = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["serve", "--http", "127.0.0.1:0", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`ui.example` is not an origin"), "{bad:?}");
}

#[test]
fn malformed_bodies_get_json_rpc_errors_with_400() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url, _log) = serve(&records_config(dir.path()), &[], &[]);

    // Not JSON: a parse error, id null (none could be read).
    let broken = post(&url, &[], r#"{"jsonrpc": "2.0", "id": 1, "method": "#);
    assert_eq!(broken.status, 400, "{broken:?}");
    assert_eq!(broken.header("content-type"), Some("application/json"));
    let error = broken.json();
    assert_eq!(error["jsonrpc"], "2.0");
    assert_eq!(error["id"], Value::Null);
    assert_eq!(error["error"]["code"], -32700, "{error}");

    // JSON but no JSON-RPC message: an invalid request, with its id.
    for body in [r#"{"jsonrpc": "2.0", "id": 7, "params": {}}"#, "[1, 2]", r#""initialize""#] {
        let invalid = post(&url, &[], body);
        assert_eq!(invalid.status, 400, "{body}: {invalid:?}");
        assert_eq!(invalid.json()["error"]["code"], -32600, "{body}: {invalid:?}");
    }
    assert_eq!(post(&url, &[], r#"{"jsonrpc": "2.0", "id": 7, "params": {}}"#).json()["id"], 7);

    // What was right stays right: another content type is 415, a body
    // past the limit 413, a request outside a session 400 from rmcp.
    let accept = ("Accept", "application/json, text/event-stream");
    let text = send(&url, "POST", "/mcp", &[("Content-Type", "text/plain"), accept], b"{}");
    assert_eq!(text.status, 415, "{text:?}");
    let huge = vec![b' '; 5 << 20];
    let headers = [("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream")];
    assert_eq!(send(&url, "POST", "/mcp", &headers, &huge).status, 413);
    let outside = post(&url, &[], r#"{"jsonrpc": "2.0", "id": 2, "method": "tools/list"}"#);
    assert_eq!(outside.status, 400, "{outside:?}");

    // A session closed with DELETE: 200 (rmcp says 202; the SDKs expect
    // 200 or 204).
    let opened = post(&url, &[], INITIALIZE);
    let id = opened.header("mcp-session-id").unwrap().to_string();
    let closed = send(&url, "DELETE", "/mcp", &[("Mcp-Session-Id", &id)], b"");
    assert_eq!(closed.status, 200, "{closed:?}");
    let gone = post(&url, &[("Mcp-Session-Id", &id)], r#"{"jsonrpc": "2.0", "id": 3, "method": "ping"}"#);
    assert_eq!(gone.status, 404, "{gone:?}");
    stop(server);
}
