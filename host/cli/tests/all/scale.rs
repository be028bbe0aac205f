//! Several `airlock serve --http` instances over one PostgreSQL store,
//! behind HAProxy round-robin with no stickiness, driven by the official
//! Python SDK client: all started by the test on loopback.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use airlock_fixtures::postgres::Postgres;
use serde_json::{Value, json};

use crate::common::{customers_inbox, python_client, serve_http_with, servers_config};

/// A journal key all instances share (hex of 32 bytes).
const SHARED_KEY: &str = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";

/// HAProxy round-robin over `backends` (`127.0.0.1:port`), no stickiness;
/// a connection refused by a dead instance is sent to another.
struct Haproxy {
    child: Child,
    url: String,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Haproxy {
    fn start(dir: &Path, backends: &[String]) -> Haproxy {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let servers: String =
            backends.iter().enumerate().map(|(i, address)| format!("    server airlock{i} {address}\n")).collect();
        let config = format!(
            "global\n    maxconn 512\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 120s\n    timeout server 120s\n\
             \x20   retries 3\n    option redispatch 1\n\
             frontend mcp\n    bind 127.0.0.1:{port}\n    default_backend airlock\n\
             backend airlock\n    balance roundrobin\n{servers}"
        );
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let child = Command::new("haproxy").arg("-f").arg(&path).arg("-db").stdout(Stdio::null()).spawn().unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "HAProxy did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Haproxy { child, url: format!("http://127.0.0.1:{port}/mcp") }
    }
}

/// The audit events of one instance's log.
fn events(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

fn decided(path: &Path, outcome: &str) -> bool {
    events(path).iter().any(|e| e["event"] == "approval_decided" && e["outcome"] == outcome)
}

#[test]
fn through_haproxy_a_question_paused_on_one_instance_is_answered_on_another_after_it_dies() {
    let postgres = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let settings = json!({
        "approvals": {"require": [{"tools": "customers.send_message"}]},
        "store": postgres.url,
    });
    let config = servers_config(dir.path(), &["customers"], settings);
    let mut instances = Vec::new();
    for i in 0..3 {
        // Nothing local is shared: each instance has its own data folder.
        let data = dir.path().join(format!("data{i}"));
        let audit = dir.path().join(format!("audit{i}.jsonl"));
        let envs = [("AIRLOCK_DATA_DIR", data.to_str().unwrap()), ("AIRLOCK_JOURNAL_KEY", SHARED_KEY)];
        let (child, url, _log) = serve_http_with(&config, &["--audit", audit.to_str().unwrap()], &envs);
        let address = url.trim_start_matches("http://").trim_end_matches("/mcp").to_string();
        instances.push((child, address, audit));
    }
    let backends: Vec<String> = instances.iter().map(|(_, address, _)| address.clone()).collect();
    let haproxy = Haproxy::start(dir.path(), &backends);

    // A 2026-07-28 client: the gated call comes back as a question.
    let asked = python_client(&["ask", "http", &haproxy.url]).0;
    let state = asked["state"].as_str().unwrap_or_else(|| panic!("no requestState: {asked}")).to_string();
    let paused_on = instances.iter().position(|(_, _, audit)| decided(audit, "paused")).expect("an instance paused it");
    // Read raw, the stored row holds tokens and ciphertext, no personal data.
    let raw = Command::new("psql")
        .arg(&postgres.url)
        .args(["-At", "-c", "SELECT encode(sealed, 'escape') FROM airlock_paused_executions"])
        .output()
        .unwrap();
    let raw = String::from_utf8_lossy(&raw.stdout);
    assert!(raw.contains("[EMAIL_1]"), "one paused execution, as the guest saw it: {raw}");
    assert!(!raw.contains("anna.2@example.com") && !raw.contains("Smirnova"), "{raw}");
    // The instance that paused it dies before the human answers.
    let (child, _, _) = &mut instances[paused_on];
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let answered = python_client(&["answer", "http", &haproxy.url, &state]).0;
    assert_eq!(answered["is_error"], false, "{answered}");
    let printed: Vec<&str> = answered["text"].as_str().unwrap().lines().collect();
    assert!(printed[0].starts_with("found [EMAIL_") && printed[1].starts_with("true [EMAIL_"), "{printed:?}");
    let approved_on = instances.iter().position(|(_, _, audit)| decided(audit, "approved")).expect("approved");
    assert_ne!(approved_on, paused_on, "resumed on another instance");
    // The token minted on the first instance resolved on the second: the
    // server received the real address, and the lookup was made once.
    assert_eq!(customers_inbox(dir.path()), [json!({"to": "anna.2@example.com", "text": "hi Anna Smirnova"})]);
    let lookups = std::fs::read_to_string(dir.path().join("inbox/lookups.jsonl")).unwrap();
    assert_eq!(lookups.lines().count(), 1);
    for (child, _, _) in &mut instances {
        let _ = child.kill();
        let _ = child.wait();
    }
    // Each instance's audit chain verifies, the killed one's included.
    let audits: Vec<&Path> = instances.iter().map(|(_, _, audit)| audit.as_path()).collect();
    let verified =
        Command::new(env!("CARGO_BIN_EXE_airlock")).args(["audit", "verify"]).args(&audits).output().unwrap();
    let printed = String::from_utf8_lossy(&verified.stdout);
    assert_eq!(verified.status.code(), Some(0), "{printed}");
    assert_eq!(printed.lines().filter(|line| line.starts_with("ok: ")).count(), 3, "{printed}");
}
