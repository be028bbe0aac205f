//! The HTTP front of `airlock serve --http` as attackers, strict clients and
//! careless ones meet it, over real HTTP: `Origin` checks, malformed
//! bodies, the session cap, idle expiry and the caps on executions in
//! flight. Clients: raw HTTP/1.1 and the official Python SDK
//! (tests/servers/python/serve_client.py).

use std::io::{Read, Write};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{names_in, python_client, records_config, serve_http_with, server_tmp};

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

/// `/metrics` as `{"name{label=value}": value}`.
fn metrics(url: &str) -> std::collections::BTreeMap<String, f64> {
    let reply = send(url, "GET", "/metrics", &[], b"");
    assert_eq!(reply.status, 200, "{reply:?}");
    reply
        .body
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter_map(|(name, value)| Some((name.to_string(), value.parse().ok()?)))
        .collect()
}

fn metric(url: &str, name: &str) -> f64 {
    metrics(url).get(name).copied().unwrap_or(0.0)
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
    // Closed already, or never opened: 404, as for any request of it.
    for unknown in [id.as_str(), "no-such-session"] {
        let again = send(&url, "DELETE", "/mcp", &[("Mcp-Session-Id", unknown)], b"");
        assert_eq!(again.status, 404, "{unknown}: {again:?}");
    }
    stop(server);
}

#[test]
fn a_delete_at_another_instance_removes_the_stored_session_and_then_is_404() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let envs = [("AIRLOCK_DATA_DIR", data.to_str().unwrap())];
    // Two instances sharing one store.
    let (one, url_one, _) = serve(&records_config(dir.path()), &[], &envs);
    let (two, url_two, _) = serve(&records_config(dir.path()), &[], &envs);
    let opened = post(&url_one, &[], INITIALIZE);
    let id = opened.header("mcp-session-id").unwrap().to_string();
    assert_eq!(send(&url_two, "DELETE", "/mcp", &[("Mcp-Session-Id", &id)], b"").status, 200, "kept in the store");
    let again = send(&url_two, "DELETE", "/mcp", &[("Mcp-Session-Id", &id)], b"");
    assert_eq!(again.status, 404, "gone from the store: {again:?}");
    stop(one);
    stop(two);
}

#[test]
fn sessions_open_at_a_stop_signal_leave_no_folders_behind() {
    let dir = tempfile::tempdir().unwrap();
    let config = records_config(dir.path());
    let tmp = server_tmp(dir.path());
    let (server, url, _log) = serve(&config, &[], &[("TMPDIR", tmp.to_str().unwrap())]);
    for _ in 0..2 {
        assert_eq!(post(&url, &[], INITIALIZE).status, 200);
    }
    // A workspace and a skill folder each, until the stop.
    assert_eq!(names_in(&tmp).len(), 4);
    stop(server);
    let left = names_in(&tmp);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_thousand_abandoned_sessions_expire_and_their_folders_go() {
    let dir = tempfile::tempdir().unwrap();
    let config = records_config(dir.path());
    // The server's temporary folders (workspaces) in a folder of the test's.
    let tmp = server_tmp(dir.path());
    let (server, url, _log) = serve(&config, &["--session-idle-timeout", "1s"], &[("TMPDIR", tmp.to_str().unwrap())]);
    let workspaces = {
        let tmp = tmp.clone();
        move || {
            std::fs::read_dir(&tmp)
                .unwrap()
                .filter(|entry| entry.as_ref().unwrap().file_name().to_string_lossy().starts_with("airlock-workspace-"))
                .count()
        }
    };

    // Watch the folders while the client works: they exist while their
    // sessions live.
    let watching = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = {
        let watching = watching.clone();
        let workspaces = workspaces.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while watching.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(workspaces());
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        })
    };
    let (seen, _) = python_client(&["abandon", &url, "1000"]);
    watching.store(false, std::sync::atomic::Ordering::Relaxed);
    let peak = watcher.join().unwrap();
    assert_eq!(seen, json!({"opened": 1000, "ran": 1000}), "{seen}");
    assert!(peak > 0, "no workspace folder was ever seen in {}", tmp.display());

    // Wait (no deadline but a generous guard against hanging) until every
    // session has been expired and every folder removed.
    let guard = Instant::now() + Duration::from_secs(300);
    while (metric(&url, "airlock_http_sessions") > 0.0 || workspaces() > 0) && Instant::now() < guard {
        std::thread::sleep(Duration::from_millis(100));
    }
    let samples = metrics(&url);
    assert_eq!(samples["airlock_http_sessions"], 0.0, "{samples:?}");
    assert_eq!(samples["airlock_http_sessions_expired_total"], 1000.0, "{samples:?}");
    assert_eq!(samples["airlock_http_sessions_refused_total"], 0.0, "{samples:?}");
    assert_eq!(samples["airlock_active_sessions"], 0.0, "{samples:?}");
    assert_eq!(workspaces(), 0, "workspace folders left in {}", tmp.display());
    stop(server);
}

#[test]
fn a_new_session_never_gets_a_kept_workspace_folder_of_an_earlier_process() {
    let dir = tempfile::tempdir().unwrap();
    let workspaces = dir.path().join("workspaces");
    // Folders an earlier process kept for its sessions.
    for n in 1..=2 {
        std::fs::create_dir_all(workspaces.join(format!("session-{n}"))).unwrap();
        std::fs::write(workspaces.join(format!("session-{n}/secret.txt")), "earlier").unwrap();
    }
    // The scenario saves a skill: into a folder of the test's.
    let skills = dir.path().join("skills");
    let envs = [("AIRLOCK_SKILLS_DIR", skills.to_str().unwrap())];
    let (server, url, _log) = serve(&records_config(dir.path()), &["--workspace", workspaces.to_str().unwrap()], &envs);
    let (seen, _) = python_client(&["isolation", &url]);
    assert_eq!(seen["two_read"]["text"], "false\n", "{seen}");
    for n in 1..=2 {
        let kept = std::fs::read_to_string(workspaces.join(format!("session-{n}/secret.txt"))).unwrap();
        assert_eq!(kept, "earlier", "session-{n} was handed to a new session");
    }
    stop(server);
    // Of the scenario's two sessions, the one that wrote a file keeps its
    // folder; the other's, empty, went with it.
    let mut kept: Vec<(String, String)> = std::fs::read_dir(&workspaces)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(path.join("secret.txt")).unwrap_or_default())
        })
        .collect();
    kept.sort();
    let contents: Vec<&str> = kept.iter().map(|(_, secret)| secret.as_str()).collect();
    assert_eq!(contents, ["earlier", "earlier", "one"], "{kept:?}");
}

#[test]
fn stateless_requests_leave_no_empty_workspace_folders() {
    let dir = tempfile::tempdir().unwrap();
    let workspaces = dir.path().join("workspaces");
    let config = crate::common::servers_config(dir.path(), &["customers"], Value::Null);
    let (server, url, _log) = serve(&config, &["--workspace", workspaces.to_str().unwrap()], &[]);
    // 2026-07-28 clients: every request is served in a session of its own.
    let (load, _) = python_client(&["load", "http", &url, "2", "3"]);
    assert_eq!(load["done"], 6, "{load}");
    stop(server);
    let left: Vec<String> = std::fs::read_dir(&workspaces)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "one empty folder per request was left: {left:?}");
}

#[test]
fn a_session_to_restore_from_the_store_at_the_cap_gets_the_busy_answer() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--max-sessions", "1", "--session-idle-timeout", "1s"];
    let (server, url, _log) = serve(&records_config(dir.path()), &args, &[]);
    let first = post(&url, &[], INITIALIZE);
    assert_eq!(first.status, 200, "{first:?}");
    let session = first.header("mcp-session-id").unwrap().to_string();
    // Closed here for being idle; its state stays in the store.
    let guard = Instant::now() + Duration::from_secs(30);
    while metric(&url, "airlock_http_sessions_expired_total") < 1.0 && Instant::now() < guard {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(post(&url, &[], INITIALIZE).status, 200, "another session takes the one place");
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let again = post(&url, &[("Mcp-Session-Id", &session), ("MCP-Protocol-Version", "2025-11-25")], list);
    assert_eq!(again.status, 503, "{again:?}");
    assert!(again.header("retry-after").is_some(), "{again:?}");
    let error = &again.json()["error"];
    assert_eq!(
        (&error["code"], &error["data"]["reason"]),
        (&json!(airlock_serve::SERVER_BUSY), &json!("max_sessions"))
    );
    stop(server);
}

#[test]
fn the_session_cap_refuses_the_next_session_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url, _log) = serve(&records_config(dir.path()), &["--max-sessions", "3"], &[]);
    let (seen, _) = python_client(&["cap", &url, "3"]);

    // Over HTTP: 503, Retry-After, and a JSON-RPC error that says why.
    let refused = &seen["refused_http"];
    assert_eq!(refused["status"], 503, "{refused}");
    assert_eq!(refused["retry_after"], "30", "{refused}");
    assert_eq!(refused["content_type"], "application/json");
    let error = &refused["body"]["error"];
    assert_eq!(error["code"], airlock_serve::SERVER_BUSY, "{error}");
    assert_eq!(error["data"], json!({"reason": "max_sessions", "limit": 3, "retryAfterSeconds": 30}));
    assert!(error["message"].as_str().unwrap().starts_with("server busy: 3 sessions are open"), "{error}");
    assert_eq!(refused["body"]["id"], 1);
    // The SDK hands the same error to its caller.
    assert_eq!(seen["refused_sdk"]["code"], airlock_serve::SERVER_BUSY, "{seen}");
    assert_eq!(seen["refused_sdk"]["data"]["reason"], "max_sessions", "{seen}");

    // The sessions already open went on working; closing one made room.
    assert_eq!(seen["held"], json!(["0\n", "2\n", "4\n"]), "{seen}");
    assert_eq!(seen["after_close"], "again\n", "{seen}");
    let samples = metrics(&url);
    assert_eq!(samples["airlock_http_sessions_refused_total"], 2.0, "{samples:?}");
    assert_eq!(samples["airlock_http_sessions"], 0.0, "{samples:?}");
    stop(server);
}

#[test]
fn executions_past_their_caps_are_refused_with_a_retry_hint() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--max-executions-per-session", "1", "--max-executions", "2"];
    let (server, url, _log) = serve(&records_config(dir.path()), &args, &[]);
    let (seen, _) = python_client(&["busy", &url]);

    let same = &seen["same_session"];
    assert_eq!(same["code"], airlock_serve::SERVER_BUSY, "{seen}");
    assert_eq!(same["data"], json!({"reason": "max_executions_per_session", "limit": 1, "retryAfterSeconds": 1}));
    let full = &seen["server_full"];
    assert_eq!(full["code"], airlock_serve::SERVER_BUSY, "{seen}");
    assert_eq!(full["data"], json!({"reason": "max_executions", "limit": 2, "retryAfterSeconds": 1}));
    // The executions admitted ran to their end; then there was room again.
    assert_eq!(seen["first"], "slept\n", "{seen}");
    assert_eq!(seen["second"], "slept\n", "{seen}");
    assert_eq!(seen["after"], "free again\n", "{seen}");
    let samples = &seen["metrics"];
    assert_eq!(samples["airlock_executions_refused_total{limit=session}"], 1.0, "{samples}");
    assert_eq!(samples["airlock_executions_refused_total{limit=server}"], 1.0, "{samples}");
    stop(server);
}
