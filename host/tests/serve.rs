//! `airlock serve` driven by a real MCP client: the official Python SDK
//! (tests/servers/python/serve_client.py) over stdio, with the Python
//! "records" server behind Airlock.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Runs the client's scenario and returns what it saw.
fn scenario() -> Value {
    let servers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/servers");
    let dir = tempfile::tempdir().unwrap();
    let config = serde_json::json!({"mcpServers": {"records": {
        "command": servers.join(".venv/bin/python"),
        "args": [servers.join("python/records_server.py")]
    }}});
    let config_path = dir.path().join("mcp.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let out = Command::new(servers.join(".venv/bin/python"))
        .arg(servers.join("python/serve_client.py"))
        .arg(env!("CARGO_BIN_EXE_airlock"))
        .arg(&config_path)
        .env("AIRLOCK_CACHE_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("airlock-cache"))
        .output()
        .expect("the Python client runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "client failed: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn a_python_sdk_client_runs_code_against_upstream_servers() {
    let seen = scenario();
    assert_eq!(seen["server_name"], "airlock");
    assert_eq!(seen["tools"], serde_json::json!(["describe_tools", "execute_code", "list_servers"]));
    let description = seen["execute_description"].as_str().unwrap();
    assert!(description.contains("- records (12 tools): add, add_tool,"), "{description}");

    // Real upstream data, PII tokenized, stats as structured content.
    assert_eq!(seen["record"]["text"], "7 [EMAIL_1]\n");
    assert_eq!(seen["record"]["is_error"], false);
    assert_eq!(seen["record"]["structured"]["stats"]["tool_calls"], 1);
    assert_eq!(seen["typescript"]["text"], "42\n");

    // Failures are tool results with isError, and the server keeps serving.
    assert_eq!(seen["throw"]["is_error"], true);
    let thrown = seen["throw"]["text"].as_str().unwrap();
    assert!(thrown.starts_with("before\n[error] Error: boom\n") && thrown.contains("main.js:1"), "{thrown}");
    assert_eq!(seen["throw"]["structured"]["error"]["kind"], "exception");
    assert_eq!(seen["timeout"]["is_error"], true);
    assert_eq!(seen["timeout"]["structured"]["error"]["limit"], "timeout");
    assert_eq!(seen["crash"]["text"], "unavailable\n");
    assert_eq!(seen["after_crash"]["text"], "5\n");

    // The session's workspace lives across its executions.
    assert_eq!(seen["write"]["text"], "(no output)");
    assert_eq!(seen["read"]["text"], "kept\n");

    let described = seen["describe"]["text"].as_str().unwrap();
    assert!(described.contains("export function getRecord(args: GetRecordArgs)"), "{described}");
    assert!(!described.contains("listRecords"), "{described}");
    assert_eq!(seen["describe_unknown"]["is_error"], true);
    assert!(seen["list_servers"].as_str().unwrap().starts_with("- records (12 tools)"));
}
