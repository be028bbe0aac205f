//! Several `airlock serve --http` instances over one PostgreSQL store,
//! behind HAProxy round-robin with no stickiness, driven by the official
//! Python SDK client: all started by the test on loopback.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use airlock_fixtures::postgres::Postgres;
use serde_json::{Value, json};

use crate::common::{customers_inbox, python_client, python_client_started, serve_http_with, servers_config};

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

/// PostgreSQL, three `airlock serve --http` instances over it (each with
/// its own data folder and audit log, sharing the journal key) serving
/// the customers server with `customers.send_message` gated, and HAProxy
/// round-robin in front.
struct Topology {
    postgres: Postgres,
    instances: Vec<Instance>,
    haproxy: Haproxy,
}

struct Instance {
    child: Child,
    audit: std::path::PathBuf,
}

impl Drop for Topology {
    fn drop(&mut self) {
        for instance in &mut self.instances {
            let _ = instance.child.kill();
            let _ = instance.child.wait();
        }
    }
}

impl Topology {
    /// With `customers.send_message` gated.
    fn start(dir: &Path) -> Topology {
        Topology::start_with(dir, true)
    }

    fn start_with(dir: &Path, gated: bool) -> Topology {
        // One skill folder for all: a skill saved through one instance is
        // found by the others.
        let skills = dir.join("skills");
        let postgres = Postgres::start();
        let mut settings = json!({"store": postgres.url});
        if gated {
            settings["approvals"] = json!({"require": [{"tools": "customers.send_message"}]});
        }
        let config = servers_config(dir, &["customers"], settings);
        let mut instances = Vec::new();
        let mut backends = Vec::new();
        for i in 0..3 {
            // Nothing local is shared: each instance has its own data folder.
            let data = dir.join(format!("data{i}"));
            let audit = dir.join(format!("audit{i}.jsonl"));
            let envs = [("AIRLOCK_DATA_DIR", data.to_str().unwrap()), ("AIRLOCK_JOURNAL_KEY", SHARED_KEY)];
            let args = ["--audit", audit.to_str().unwrap(), "--skills-dir", skills.to_str().unwrap()];
            let (child, url, _log) = serve_http_with(&config, &args, &envs);
            backends.push(url.trim_start_matches("http://").trim_end_matches("/mcp").to_string());
            instances.push(Instance { child, audit });
        }
        let haproxy = Haproxy::start(dir, &backends);
        Topology { postgres, instances, haproxy }
    }

    fn url(&self) -> &str {
        &self.haproxy.url
    }

    /// SIGKILLs instance `i`.
    fn kill(&mut self, i: usize) {
        self.instances[i].child.kill().unwrap();
        self.instances[i].child.wait().unwrap();
    }

    /// Every instance's audit chain verifies (after stopping them).
    fn verify_audits(&mut self) {
        for instance in &mut self.instances {
            let _ = instance.child.kill();
            let _ = instance.child.wait();
        }
        let audits: Vec<&Path> = self.instances.iter().map(|i| i.audit.as_path()).collect();
        let verified =
            Command::new(env!("CARGO_BIN_EXE_airlock")).args(["audit", "verify"]).args(&audits).output().unwrap();
        let printed = String::from_utf8_lossy(&verified.stdout);
        assert_eq!(verified.status.code(), Some(0), "{printed}");
        assert_eq!(printed.lines().filter(|line| line.starts_with("ok: ")).count(), 3, "{printed}");
    }
}

/// A 2026-07-28 client's gated call: its `requestState`.
fn ask(url: &str) -> String {
    let asked = python_client(&["ask", "http", url]).0;
    asked["state"].as_str().unwrap_or_else(|| panic!("no requestState: {asked}")).to_string()
}

/// The answer (yes) to the question under `state`: what the code printed.
fn answer(url: &str, state: &str) -> Vec<String> {
    let answered = python_client(&["answer", "http", url, state]).0;
    assert_eq!(answered["is_error"], false, "{answered}");
    answered["text"].as_str().unwrap().lines().map(str::to_string).collect()
}

#[test]
fn through_haproxy_a_question_paused_on_one_instance_is_answered_on_another_after_it_dies() {
    let dir = tempfile::tempdir().unwrap();
    let mut topology = Topology::start(dir.path());
    let state = ask(topology.url());
    let instances = &topology.instances;
    let paused_on = instances.iter().position(|i| decided(&i.audit, "paused")).expect("an instance paused it");
    // Read raw, the stored row holds tokens and ciphertext, no personal data.
    let raw = Command::new("psql")
        .arg(&topology.postgres.url)
        .args(["-At", "-c", "SELECT encode(sealed, 'escape') FROM airlock_paused_executions"])
        .output()
        .unwrap();
    let raw = String::from_utf8_lossy(&raw.stdout);
    assert!(raw.contains("[EMAIL_1]"), "one paused execution, as the guest saw it: {raw}");
    assert!(!raw.contains("anna.2@example.com") && !raw.contains("Smirnova"), "{raw}");
    // The instance that paused it dies before the human answers.
    topology.kill(paused_on);

    let printed = answer(topology.url(), &state);
    assert!(printed[0].starts_with("found [EMAIL_") && printed[1].starts_with("true [EMAIL_"), "{printed:?}");
    let approved_on = topology.instances.iter().position(|i| decided(&i.audit, "approved")).expect("approved");
    assert_ne!(approved_on, paused_on, "resumed on another instance");
    // The token minted on the first instance resolved on the second: the
    // server received the real address, and the lookup was made once.
    assert_eq!(customers_inbox(dir.path()), [json!({"to": "anna.2@example.com", "text": "hi Anna Smirnova"})]);
    let lookups = std::fs::read_to_string(dir.path().join("inbox/lookups.jsonl")).unwrap();
    assert_eq!(lookups.lines().count(), 1);
    topology.verify_audits();
}

#[test]
fn one_of_three_instances_killed_under_fifty_sessions_loses_no_vault_and_no_paused_execution() {
    let dir = tempfile::tempdir().unwrap();
    let mut topology = Topology::start(dir.path());
    // Three questions wait in the store before the load.
    let states: Vec<String> = (0..3).map(|_| ask(topology.url())).collect();
    // 50 MCP sessions, each handing its token to the server 6 times; one
    // instance dies while they run.
    let load = python_client_started(&["load-sessions", topology.url(), "50", "6"]);
    let lookups = dir.path().join("inbox/lookups.jsonl");
    let started = Instant::now();
    while std::fs::read_to_string(&lookups).unwrap_or_default().lines().count() < 30 {
        assert!(started.elapsed() < Duration::from_secs(120), "the load made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    topology.kill(1);
    let out = load.wait_with_output().unwrap();
    let loaded: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert_eq!(loaded["done"], 300, "{loaded}");
    assert_eq!(loaded["wrong"], json!([]), "every session's token still resolved after the kill");
    let failures = loaded["failures"].as_array().unwrap();
    eprintln!("failed requests, sent again in the same session: {} (first: {:?})", failures.len(), failures.first());
    // Every paused execution still resumes, through the instances left.
    for state in &states {
        let printed = answer(topology.url(), state);
        assert!(printed[1].starts_with("true [EMAIL_"), "{printed:?}");
    }
    topology.verify_audits();
}

#[test]
fn an_mcp_session_is_served_by_every_instance_and_its_tokens_resolve_on_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut topology = Topology::start_with(dir.path(), false);
    // initialize, then four calls: round-robin spreads them (and the
    // session's other requests) over the three instances.
    let seen = python_client(&["session", "http", topology.url()]).0;
    let calls = seen["calls"].as_array().unwrap();
    for call in calls {
        assert_eq!(call["is_error"], false, "{call}");
    }
    let token = calls[0]["text"].as_str().unwrap().trim().to_string();
    assert!(token.starts_with("[EMAIL_"), "{token}");
    // Each message reached the server with the real address; the code saw
    // the token again in the answer.
    let inbox = customers_inbox(dir.path());
    assert_eq!(inbox.len(), 3, "{inbox:?}");
    assert!(inbox.iter().all(|m| m["to"] == "anna.2@example.com"), "{inbox:?}");
    assert!(calls[1..].iter().all(|call| call["text"].as_str().unwrap().trim() == token), "{calls:?}");
    // More than one instance ran executions of the session.
    let serving =
        topology.instances.iter().filter(|i| events(&i.audit).iter().any(|e| e["event"] == "execution")).count();
    assert!(serving >= 2, "the session's executions ran on {serving} instance(s)");
    // The vault row holds no personal data.
    let raw = Command::new("psql")
        .arg(&topology.postgres.url)
        .args(["-At", "-c", "SELECT part, encode(bytes, 'escape') FROM airlock_session_state"])
        .output()
        .unwrap();
    let raw = String::from_utf8_lossy(&raw.stdout);
    assert!(raw.contains("vault|"), "the session's vault is stored: {raw}");
    assert!(!raw.contains("anna.2@example.com") && !raw.contains("Smirnova"), "{raw}");
    topology.verify_audits();
}

#[test]
fn skills_saved_through_one_instance_run_through_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let mut topology = Topology::start_with(dir.path(), false);
    let seen = python_client(&["skill", "http", topology.url()]).0;
    assert_eq!(seen["saved"]["is_error"], false, "{seen}");
    // The skill saved for the session only reaches the other instances
    // through the store.
    assert_eq!(seen["saved_for_session"]["is_error"], false, "{seen}");
    let printed: Vec<&str> = seen["runs"].as_array().unwrap().iter().map(|run| run["text"].as_str().unwrap()).collect();
    assert_eq!(printed, ["hi 0!\n", "hi 1!\n", "hi 2!\n"], "{seen}");
    let serving =
        topology.instances.iter().filter(|i| events(&i.audit).iter().any(|e| e["event"] == "execution")).count();
    assert!(serving >= 2, "the skill ran on {serving} instance(s)");
    topology.verify_audits();
}
