//! Shared helpers for the integration tests.

use std::path::{Path, PathBuf};
use std::time::Duration;

use airlock::{ExecutionError, ExecutionResult, Language, Limit, Limits, Runtime, Session, ToolDefinition};

/// The folder the tests cache precompiled guests in: shared by every test
/// process of one build, so the guest is pre-initialised once.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("airlock-cache")
}

/// A runtime builder with the test cache folder.
pub fn builder() -> airlock::RuntimeBuilder {
    Runtime::builder().cache_dir(Some(cache_dir()))
}

/// Runs JavaScript in a fresh session of `runtime` under `limits`.
pub async fn run_js(runtime: &Runtime, code: &str, limits: &Limits) -> ExecutionResult {
    let session = runtime.session().expect("a session");
    run_in(&session, code, Language::JavaScript, limits).await
}

/// Runs Python in a fresh session of `runtime` under `limits`.
pub async fn run_py(runtime: &Runtime, code: &str, limits: &Limits) -> ExecutionResult {
    let session = runtime.session().expect("a session");
    run_in(&session, code, Language::Python, limits).await
}

/// A runtime with the in-process tools the limit tests call: `local.slow`
/// (sleeps 30 s) and `local.echo` (returns its arguments).
pub async fn local_tools_runtime() -> Runtime {
    let slow = |_: serde_json::Value| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(serde_json::json!({}))
    };
    let echo = |args: serde_json::Value| async move { Ok(args) };
    builder()
        .tool("local", ToolDefinition::new("slow"), slow)
        .tool("local", ToolDefinition::new("echo"), echo)
        .build()
        .await
        .expect("runtime")
}

/// Runs `code` in `language`, expects it to end on `limit` with a message,
/// then checks that the runtime still serves that language.
pub async fn expect_limit(
    runtime: &Runtime,
    language: Language,
    code: &str,
    limits: Limits,
    limit: Limit,
) -> ExecutionResult {
    let session = runtime.session().expect("a session");
    let result = run_in(&session, code, language, &limits).await;
    assert_eq!(result.limit(), Some(limit), "expected the {limit} limit, got {:?}", result.error);
    match &result.error {
        Some(ExecutionError::Limit { message, .. }) => assert!(!message.is_empty()),
        other => panic!("not a limit error: {other:?}"),
    }
    let probe = match language {
        Language::Python => "print('still serving')",
        Language::JavaScript | Language::TypeScript => "console.log('still serving')",
    };
    let next = run_in(&runtime.session().expect("a session"), probe, language, &Limits::default()).await;
    assert_ok(&next);
    assert_eq!(next.stdout, "still serving\n");
    result
}

/// What `folder` holds: its files' lengths, subfolders' included.
pub fn bytes_in(folder: &Path) -> u64 {
    std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .map(|entry| {
            let metadata = entry.metadata().unwrap();
            if metadata.is_dir() { bytes_in(&entry.path()) } else { metadata.len() }
        })
        .sum()
}

/// Runs `code` in `session`, panicking only on host failures (which no
/// guest code may cause).
pub async fn run_in(session: &Session, code: &str, language: Language, limits: &Limits) -> ExecutionResult {
    session.execute_with_limits(code, language, limits).await.expect("the host itself must not fail")
}

/// Asserts that `result` succeeded, showing what went wrong if not.
pub fn assert_ok(result: &ExecutionResult) {
    assert!(
        result.is_success(),
        "execution failed: {:?}\nstdout: {}\nstderr: {}",
        result.error,
        result.stdout,
        result.stderr
    );
}

/// `tests/servers`, where `scripts/setup-servers.sh` installs the real MCP
/// servers the tests start.
pub fn servers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/servers")
}

/// The launch config of a real test server, by name: `records` (our own
/// Python SDK server), `catalog` (our 500-tool Python server), `time`
/// (mcp-server-time), `memory`, `everything` and `slack` (the npm
/// reference servers, over stdio).
pub fn server_config(name: &str) -> serde_json::Value {
    let dir = servers_dir();
    let path = |p: &str| {
        let full = dir.join(p);
        assert!(full.exists(), "{} is missing: run scripts/setup-servers.sh (or `just setup`)", full.display());
        full.to_string_lossy().into_owned()
    };
    match name {
        "records" => {
            serde_json::json!({"command": path(".venv/bin/python"), "args": [path("python/records_server.py")]})
        }
        "time" => {
            serde_json::json!({"command": path(".venv/bin/mcp-server-time"), "args": ["--local-timezone", "UTC"]})
        }
        "memory" => {
            let file = std::env::temp_dir().join(format!("airlock-memory-{}.jsonl", std::process::id()));
            serde_json::json!({"command": path("node/node_modules/.bin/mcp-server-memory"),
                               "env": {"MEMORY_FILE_PATH": file.to_string_lossy()}})
        }
        "everything" => {
            serde_json::json!({"command": path("node/node_modules/.bin/mcp-server-everything"), "args": ["stdio"]})
        }
        "catalog" => {
            serde_json::json!({"command": path(".venv/bin/python"), "args": [path("python/catalog_server.py")]})
        }
        // It lists its tools without reaching Slack; the token is never used.
        "slack" => serde_json::json!({"command": path("node/node_modules/.bin/mcp-server-slack"),
                                      "env": {"SLACK_BOT_TOKEN": "xoxb-unused", "SLACK_TEAM_ID": "T0UNUSED"}}),
        other => panic!("no test server '{other}'"),
    }
}

/// A config with the named test servers and optional `airlock` settings.
pub fn config_with(servers: &[&str], settings: serde_json::Value) -> airlock::Config {
    let servers: serde_json::Map<String, serde_json::Value> =
        servers.iter().map(|name| (name.to_string(), server_config(name))).collect();
    let mut document = serde_json::json!({ "mcpServers": servers });
    if !settings.is_null() {
        document["airlock"] = settings;
    }
    airlock::Config::from_json(&document.to_string()).expect("a valid test config")
}

/// A runtime over the Python `customers` server (personal data), which
/// writes the messages it is sent to `inbox/messages.jsonl`.
pub async fn customers_runtime(inbox: &Path) -> Runtime {
    let dir = servers_dir();
    let config = airlock::Config::from_json(
        &serde_json::json!({"mcpServers": {"customers": {
            "command": dir.join(".venv/bin/python"),
            "args": [dir.join("python/customers_server.py")],
            "env": {"CUSTOMERS_INBOX": inbox}
        }}})
        .to_string(),
    )
    .expect("a valid test config");
    builder().config(&config).build().await.expect("runtime")
}

/// A runtime over the named test servers.
pub async fn runtime_with(servers: &[&str], settings: serde_json::Value) -> Runtime {
    builder().config(&config_with(servers, settings)).build().await.expect("runtime")
}
