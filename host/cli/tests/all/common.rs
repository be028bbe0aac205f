//! What the binary's tests share: the records-server config and a server
//! started on a free loopback port.
#![allow(dead_code)] // Each test file uses its own part.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// The real MCP servers the tests start.
pub fn servers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/servers")
}

/// The compiled-guest cache the tests share.
/// Runs the official Python SDK client (tests/servers/python/serve_client.py)
/// with `args`; what it printed (one JSON value) and its stderr. Fails the
/// test if the client fails.
pub fn python_client(args: &[&str]) -> (serde_json::Value, String) {
    let servers = servers_dir();
    let out = Command::new(servers.join(".venv/bin/python"))
        .arg(servers.join("python/serve_client.py"))
        .args(args)
        .env("AIRLOCK_CACHE_DIR", cache_dir())
        .env("AIRLOCK_DATA_DIR", data_dir())
        .output()
        .expect("the Python client runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "client failed: {stderr}");
    let seen =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (seen, stderr)
}

/// [`python_client`] started, not awaited: its stdout is piped (one JSON
/// value when it ends).
pub fn python_client_started(args: &[&str]) -> Child {
    let servers = servers_dir();
    Command::new(servers.join(".venv/bin/python"))
        .arg(servers.join("python/serve_client.py"))
        .args(args)
        .env("AIRLOCK_CACHE_DIR", cache_dir())
        .env("AIRLOCK_DATA_DIR", data_dir())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the Python client runs")
}

pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("airlock-cache")
}

/// The data folder (paused executions) of servers the tests start, unless
/// a test gives its own: never the user's.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("airlock-data")
}

/// A config with the Python records server, written into `dir`.
pub fn records_config(dir: &Path) -> PathBuf {
    servers_config(dir, &["records"], serde_json::Value::Null)
}

/// A config with the named Python test servers (`records`, `customers`)
/// and, unless null, `settings` as its `airlock` key, written into `dir`.
/// The customers server keeps the messages it is sent in
/// `dir/inbox/messages.jsonl`.
pub fn servers_config(dir: &Path, names: &[&str], settings: serde_json::Value) -> PathBuf {
    let servers = servers_dir();
    let entry = |name: &str| {
        let mut entry = serde_json::json!({
            "command": servers.join(".venv/bin/python"),
            "args": [servers.join(format!("python/{name}_server.py"))]
        });
        if name == "customers" {
            entry["env"] = serde_json::json!({"CUSTOMERS_INBOX": dir.join("inbox")});
        }
        entry
    };
    let mut config = serde_json::json!({
        "mcpServers": names.iter().map(|name| (name.to_string(), entry(name))).collect::<serde_json::Map<_, _>>()
    });
    if !settings.is_null() {
        config["airlock"] = settings;
    }
    let path = dir.join("mcp.json");
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

/// The messages the customers server of [`servers_config`] received, one
/// JSON object each.
pub fn customers_inbox(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("inbox/messages.jsonl")).unwrap_or_default();
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// Starts `airlock serve --http 127.0.0.1:0 --config <config>` with `envs`
/// and returns it with the URL it printed. Its log is drained so that it
/// never blocks on a full pipe.
pub fn serve_http(config: &Path, envs: &[(&str, &str)]) -> (Child, String) {
    let (server, url, _log) = serve_http_with(config, &[], envs);
    (server, url)
}

/// What a server wrote to stderr so far.
pub type Log = Arc<Mutex<String>>;

/// [`serve_http`] with more arguments to `airlock serve`; also returns its
/// log as it grows.
pub fn serve_http_with(config: &Path, args: &[&str], envs: &[(&str, &str)]) -> (Child, String, Log) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["serve", "--http", "127.0.0.1:0", "--config"])
        .arg(config)
        .args(args)
        .env("AIRLOCK_CACHE_DIR", cache_dir())
        .env("AIRLOCK_DATA_DIR", data_dir())
        .envs(envs.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    // A first start may say it compiles a guest before the address.
    while !line.contains("serving MCP at") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "airlock serve exited before it served");
    }
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"), "{line}");
    let log = Log::default();
    let kept = log.clone();
    std::thread::spawn(move || {
        let mut line = String::new();
        while stderr.read_line(&mut line).is_ok_and(|n| n > 0) {
            kept.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    (server, url, log)
}

/// A folder `tmp` in `dir`, for a server's `TMPDIR`: its temporary folders
/// (sessions' workspaces and skill folders) land where a test can check
/// that none is left behind.
pub fn server_tmp(dir: &Path) -> PathBuf {
    let tmp = dir.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    tmp
}

/// The names of what `dir` holds, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
