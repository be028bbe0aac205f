//! `airlock serve` driven by a real MCP client: the official Python SDK
//! (tests/servers/python/serve_client.py) over stdio and over Streamable
//! HTTP, with the Python "records" server behind Airlock.

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{
    cache_dir, customers_inbox, data_dir, names_in, python_client, records_config, serve_http, server_tmp,
    servers_config,
};
use serde_json::{Value, json};

/// Runs the Python client with `args` and returns what it saw.
fn client(args: &[&str]) -> Value {
    let (seen, stderr) = python_client(args);
    // Over HTTP the SDK ends each session with a DELETE, and warns when the
    // answer is not what it expects (in `drain` the server is gone by then).
    if args[0] != "drain" {
        assert!(!stderr.contains("Session termination failed"), "{stderr}");
    }
    seen
}

#[test]
fn a_python_sdk_client_over_stdio_with_an_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let config = records_config(dir.path());
    let audit = dir.path().join("audit.jsonl");
    let airlock = env!("CARGO_BIN_EXE_airlock");
    let seen = client(&["stdio", airlock, config.to_str().unwrap(), "--audit", audit.to_str().unwrap()]);
    check_scenario(&seen);

    // One line per execution and per tool call, with kinds and tokens only.
    let text = std::fs::read_to_string(&audit).unwrap();
    let records: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let executions = records.iter().filter(|r| r["event"] == "execution").count();
    assert_eq!(executions, 8, "{text}");
    let record_call = records.iter().find(|r| r["event"] == "tool_call" && r["tool"] == "get_record").unwrap();
    assert_eq!(record_call["server"], "records");
    assert_eq!(record_call["outcome"], "ok");
    let printed = records.iter().find(|r| r["event"] == "execution" && r["pii_tokens"] == json!(["[EMAIL_1]"]));
    assert_eq!(printed.unwrap()["pii_kinds"], json!(["EMAIL"]));
    assert!(records.iter().any(|r| r["outcome"] == "limit:timeout"));
    assert!(records.iter().any(|r| r["tool"] == "crash" && r["outcome"] == "unavailable"));
    assert!(!text.contains("@example."), "a real address reached the audit log");
    let sessions: std::collections::BTreeSet<&str> = records.iter().map(|r| r["session"].as_str().unwrap()).collect();
    assert_eq!(sessions.len(), 1);

    let verify = |path: &Path| Command::new(airlock).args(["audit", "verify"]).arg(path).output().unwrap();
    let intact = verify(&audit);
    assert_eq!(intact.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&intact.stdout),
        format!("ok: {} records, chain intact, matches its sealed head\n", records.len())
    );

    // Edit one line: verification fails at that line.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[2] = lines[2].replacen("\"duration_us\":", "\"duration_us\":1", 1);
    std::fs::write(&audit, lines.join("\n") + "\n").unwrap();
    let broken = verify(&audit);
    assert_eq!(broken.status.code(), Some(1));
    let report = String::from_utf8_lossy(&broken.stdout);
    assert!(report.contains("line 3:") && report.contains("was changed"), "{report}");
}

#[test]
fn a_python_sdk_client_over_streamable_http_with_isolated_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let config = records_config(dir.path());
    let skills = dir.path().join("skills");
    let (mut server, url) =
        serve_http(&config, &[("AIRLOCK_TOKEN", "t0ken"), ("AIRLOCK_SKILLS_DIR", skills.to_str().unwrap())]);

    // Without the token: 401, before any MCP processing.
    let authority = url.trim_start_matches("http://").trim_end_matches("/mcp");
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    write!(stream, "POST /mcp HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");

    let seen = client(&["http", &url, "t0ken"]);
    check_scenario(&seen);
    let isolation = &seen["isolation"];
    assert_eq!(isolation["one_write"]["text"], "[EMAIL_1]\n");
    assert_eq!(isolation["two_read"]["text"], "false\n", "a session saw another's workspace");
    // The token resolves in the session that minted it (the server echoes the
    // real address, which comes back as the same token); in the other it is
    // plain text, escaped on the way back.
    assert_eq!(isolation["one_echo"]["text"], "[EMAIL_1]\n");
    assert_eq!(isolation["two_echo"]["text"], "[TOKEN_1]\n");

    // A skill saved through save_skill runs in the session that saved it and
    // in another, against the real server.
    assert_eq!(isolation["skill_saved"]["is_error"], false, "{}", isolation["skill_saved"]);
    assert!(isolation["skill_saved"]["text"].as_str().unwrap().contains("calls records.get_record"));
    for session in ["skill_one", "skill_two"] {
        let printed = isolation[session]["text"].as_str().unwrap();
        assert!(printed.starts_with("[EMAIL_") && !printed.contains('@'), "{session}: {printed}");
    }
    // Listed with the bundled skills, and named in execute_code's description.
    let listed = isolation["skill_list"].as_str().unwrap();
    assert!(listed.starts_with("Skills:\n- collect-pages: "), "{listed}");
    assert!(listed.contains("\n- record-email: The email address of a record.\n"), "{listed}");
    let described = isolation["skill_description"].as_str().unwrap();
    assert!(described.ends_with(listed), "{described}");
    assert!(skills.join("record-email/SKILL.md").is_file());

    // /metrics parses as OpenMetrics (by the Prometheus client) and moves.
    let before = &seen["metrics_before"]["samples"];
    let after = &seen["metrics_after"]["samples"];
    assert!(seen["metrics_after"]["content_type"].as_str().unwrap().starts_with("application/openmetrics-text"));
    let value = |samples: &Value, key: &str| samples[key].as_f64().unwrap_or(0.0);
    // The scenario's one TypeScript execution is counted under its language.
    let executions = |samples: &Value, outcome: &str| {
        let key = |language: &str| format!("airlock_executions_total{{language={language},outcome={outcome}}}");
        value(samples, &key("javascript")) + value(samples, &key("typescript"))
    };
    assert_eq!(executions(before, "ok"), 0.0);
    assert_eq!(executions(after, "ok"), 12.0, "{after}");
    assert_eq!(value(after, "airlock_executions_total{language=typescript,outcome=ok}"), 1.0, "{after}");
    assert_eq!(executions(after, "exception"), 1.0);
    assert_eq!(executions(after, "limit:timeout"), 1.0);
    assert_eq!(value(after, "airlock_tool_calls_total{outcome=ok,server=records}"), 7.0, "{after}");
    assert_eq!(value(after, "airlock_tool_calls_total{outcome=unavailable,server=records}"), 1.0);
    assert!(value(after, "airlock_pii_tokens_minted_total{kind=EMAIL}") >= 2.0, "{after}");
    let durations =
        |language: &str| value(after, &format!("airlock_execution_duration_seconds_count{{language={language}}}"));
    assert_eq!(durations("javascript") + durations("typescript"), 14.0);
    assert!(value(after, "airlock_tool_call_duration_seconds_count{server=records}") >= 8.0);

    // SIGTERM: a clean stop.
    Command::new("kill").arg(server.id().to_string()).status().unwrap();
    let status = server.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn a_stop_signal_lets_the_running_execution_finish() {
    let dir = tempfile::tempdir().unwrap();
    let config = records_config(dir.path());
    let tmp = server_tmp(dir.path());
    let (mut server, url) = serve_http(&config, &[("TMPDIR", tmp.to_str().unwrap())]);
    let seen = client(&["drain", &url, &server.id().to_string()]);
    assert_eq!(seen["in_flight_before_signal"], 1, "{seen}");
    // The execution was waiting on a 1.5 s tool call when SIGTERM came: it
    // finished, and its result reached the client.
    assert_eq!(seen["running"]["text"], "done 9\n", "{seen}");
    assert_eq!(seen["running"]["is_error"], false);
    let status = server.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    // The session was still open at the signal: its folders went with it.
    assert_eq!(names_in(&tmp), Vec::<String>::new());
}

#[test]
fn a_stop_signal_removes_the_stdio_sessions_temporary_folders() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = server_tmp(dir.path());
    let mut server = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["serve", "--config"])
        .arg(records_config(dir.path()))
        .env("AIRLOCK_CACHE_DIR", cache_dir())
        .env("AIRLOCK_DATA_DIR", data_dir())
        .env("TMPDIR", &tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}});
    let mut stdin = server.stdin.take().unwrap();
    writeln!(stdin, "{initialize}").unwrap();
    let mut answer = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap()).read_line(&mut answer).unwrap();
    assert!(answer.contains("\"serverInfo\""), "{answer}");
    let held = names_in(&tmp);
    assert!(held.len() == 2 && held[0].starts_with("airlock-session-skills-"), "{held:?}");
    assert!(held[1].starts_with("airlock-workspace-"), "{held:?}");
    // SIGTERM while the client is still connected (stdin open).
    Command::new("kill").arg(server.id().to_string()).status().unwrap();
    assert_eq!(server.wait().unwrap().code(), Some(0));
    assert_eq!(names_in(&tmp), Vec::<String>::new());
    drop(stdin);
}

#[test]
fn the_bearer_token_can_come_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mcp.json");
    std::fs::write(&config, r#"{"airlock": {"serve": {"token": "${SERVE_SECRET}"}}}"#).unwrap();
    let (mut server, url) = serve_http(&config, &[("SERVE_SECRET", "from-config")]);
    let authority = url.trim_start_matches("http://").trim_end_matches("/mcp");
    let get_metrics = |authorization: &str| {
        let mut stream = std::net::TcpStream::connect(authority).unwrap();
        write!(stream, "GET /metrics HTTP/1.1\r\nHost: {authority}\r\n{authorization}Connection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    assert!(get_metrics("").starts_with("HTTP/1.1 401"));
    assert!(get_metrics("Authorization: Bearer wrong\r\n").starts_with("HTTP/1.1 401"));
    let allowed = get_metrics("Authorization: Bearer from-config\r\n");
    assert!(allowed.starts_with("HTTP/1.1 200") && allowed.contains("airlock_active_sessions"), "{allowed}");
    // The scheme is case-insensitive.
    assert!(get_metrics("Authorization: bearer from-config\r\n").starts_with("HTTP/1.1 200"));
    Command::new("kill").arg(server.id().to_string()).status().unwrap();
    assert_eq!(server.wait().unwrap().code(), Some(0));

    // Beyond loopback, no token at all is a usage error.
    std::fs::write(&config, "{}").unwrap();
    let open = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["serve", "--http", "0.0.0.0:0", "--config"])
        .arg(&config)
        .env_remove("AIRLOCK_TOKEN")
        .output()
        .unwrap();
    assert_eq!(open.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&open.stderr).contains("needs a bearer token"));
}

/// What both transports must show.
fn check_scenario(seen: &Value) {
    assert_eq!(seen["server_name"], "airlock");
    let tools = [
        "delete_skill",
        "describe_tools",
        "execute_code",
        "get_skill",
        "list_servers",
        "list_skills",
        "save_skill",
        "search_tools",
    ];
    assert_eq!(seen["tools"], json!(tools));
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
    // The session's own running totals: eight executions so far, two of
    // them failed (the throw and the timeout), three tool calls.
    let totals = &seen["after_crash"]["structured"]["session"];
    assert_eq!(totals, &json!({"executions": 8, "failed": 2, "tool_calls": 3}), "{totals}");

    // The session's workspace lives across its executions.
    assert_eq!(seen["write"]["text"], "(no output)");
    assert_eq!(seen["read"]["text"], "kept\n");

    let described = seen["describe"]["text"].as_str().unwrap();
    assert!(described.contains("export function getRecord(args: GetRecordArgs)"), "{described}");
    assert!(!described.contains("listRecords"), "{described}");
    assert_eq!(seen["describe_unknown"]["is_error"], true);
    assert!(seen["list_servers"].as_str().unwrap().starts_with("- records (12 tools)"));

    // Every result says what it costs a model, in o200k_base tokens.
    let tokens = airlock_serve::tokens::count(seen["record"]["text"].as_str().unwrap());
    assert!(tokens > 0);
    assert_eq!(seen["record"]["structured"]["tokens"], tokens, "{}", seen["record"]);

    // Discovery: search, and the declarations as resources.
    let found = seen["search"]["text"].as_str().unwrap();
    assert!(found.starts_with("records: get_record"), "{found}");
    assert_eq!(seen["search"]["structured"]["matches"][0]["name"], "records.get_record");
    let full = seen["search_full"].as_str().unwrap();
    assert!(full.starts_with("records.add — ") && full.contains("export function add("), "{full}");
    let resources: Vec<&str> = seen["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert_eq!(resources.len(), 13, "{resources:?}");
    assert!(resources.contains(&"airlock://servers/records/index.ts"));
    assert!(resources.contains(&"airlock://servers/records/getRecord.ts"));
    let read = &seen["resource_get_record"][0];
    assert_eq!(read["uri"], "airlock://servers/records/getRecord.ts");
    assert_eq!(read["mime_type"], "text/x-typescript");
    assert!(read["text"].as_str().unwrap().contains("export function getRecord(args: GetRecordArgs)"));
    assert!(seen["resource_escape"].as_str().unwrap().contains("no resource"), "{}", seen["resource_escape"]);
    // Every tool's input schema holds as published: an unknown argument is
    // an invalid-params error, not JavaScript run instead of Python.
    // A tool error the model reads and corrects, not a protocol error.
    let unknown = &seen["unknown_argument"];
    assert_eq!((&unknown["raised"], &unknown["is_error"]), (&json!(false), &json!(true)), "{unknown}");
    assert!(
        unknown["text"].as_str().unwrap().contains("unknown argument `lang` (did you mean `language`?)"),
        "{unknown}"
    );
}

#[test]
fn python_code_through_serve_with_python_as_the_default_language() {
    let dir = tempfile::tempdir().unwrap();
    // Fuel keeps its default (10 billion, seconds of compute): the 300 ms
    // timeout scenario must hit its deadline long before it runs out.
    let limits = json!({"limits": {"memory_bytes": 64 << 20, "stdout_bytes": 4096, "tool_calls": 30}});
    let config = servers_config(dir.path(), &["records", "customers"], limits);
    let audit = dir.path().join("audit.jsonl");
    let seen = client(&[
        "python",
        env!("CARGO_BIN_EXE_airlock"),
        config.to_str().unwrap(),
        "--audit",
        audit.to_str().unwrap(),
    ]);

    let description = seen["execute_description"].as_str().unwrap();
    assert!(description.contains("Default language: python."), "{description}");
    assert!(description.contains("from servers import crm"), "{description}");

    // The large real result is filtered in the sandbox; PII arrives tokenized.
    assert_eq!(seen["filter"]["is_error"], false, "{}", seen["filter"]);
    let printed = seen["filter"]["text"].as_str().unwrap();
    assert!(printed.starts_with("10000 True [EMAIL_") && !printed.contains('@'), "{printed}");
    assert_eq!(seen["filter"]["structured"]["stats"]["tool_calls"], 1);

    // A failing tool is caught with its kind; an uncaught error names its line.
    let caught = seen["caught"]["text"].as_str().unwrap();
    assert!(caught.starts_with("failed failed records fail | records.fail failed (failed): "), "{caught}");
    assert!(caught.ends_with("boom\n"), "{caught}");
    // Python as agents write it: the acceptance scenario of issue 19.
    assert_eq!(seen["as_python"]["is_error"], false, "{}", seen["as_python"]);
    let lines: Vec<&str> = seen["as_python"]["text"].as_str().unwrap().lines().collect();
    assert_eq!(lines[0], "invalid-arguments records get_record");
    assert!(lines[1].starts_with("overdue: ") && lines[1].contains(" of 10000, mean "), "{lines:?}");
    assert_eq!(lines[2], "status,count");
    assert_eq!(seen["uncaught"]["is_error"], true);
    let uncaught = seen["uncaught"]["text"].as_str().unwrap();
    assert!(uncaught.starts_with("[error] ValueError: bad\n") && uncaught.contains("line 2"), "{uncaught}");
    // Personal data reaches the code as tokens and the tool as real values.
    let printed = seen["pii_round_trip"]["text"].as_str().unwrap();
    assert!(printed.starts_with("[EMAIL_") && printed.contains(" [PERSON_") && !printed.contains("Anna"), "{printed}");
    assert_eq!(customers_inbox(dir.path()), [json!({"to": "anna.2@example.com", "text": "hi Anna Smirnova"})]);
    // Ten gathered calls were in flight on the server at once.
    assert_eq!(seen["gathered"]["text"], "10 10\n", "{}", seen["gathered"]);
    // Each limit ends its execution with the limit named.
    for (scenario, limit) in [
        ("timeout", "timeout"),
        ("fuel_limit", "fuel"),
        ("memory_limit", "memory"),
        ("output_limit", "output"),
        ("tool_call_limit", "tool-calls"),
    ] {
        assert_eq!(seen[scenario]["is_error"], true, "{}", seen[scenario]);
        assert_eq!(seen[scenario]["structured"]["error"]["limit"], limit, "{}", seen[scenario]);
    }
    assert_eq!(seen["javascript"]["text"], "42\n");

    // Declarations follow the session's language unless a call names another.
    let described = seen["describe"].as_str().unwrap();
    assert!(described.contains("from servers import records"), "{described}");
    assert!(described.contains("def get_record(*, id: int) -> GetRecordResult:"), "{described}");
    assert!(seen["describe_ts"].as_str().unwrap().contains("export function getRecord("));
    let full = seen["search_full"].as_str().unwrap();
    assert!(full.starts_with("records.add — ") && full.contains("def add(*, a: int, b: int) -> int:"), "{full}");

    // The audit log names each execution's language.
    let text = std::fs::read_to_string(&audit).unwrap();
    let languages: Vec<String> = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|record| record["event"] == "execution")
        .map(|record| record["language"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(languages, [&["python"; 11][..], &["javascript"]].concat(), "{text}");
}

/// A gated call through `airlock serve`, asked of the human through the
/// official Python client's elicitation callback: approved, the customers
/// server receives it (its inbox, server-side); declined, it receives
/// nothing and the code catches `denied`.
fn gated_calls_are_asked_of_the_client(transport: &str) {
    let dir = tempfile::tempdir().unwrap();
    let approvals = json!({"approvals": {"require": [{"tools": "customers.send_message"}]}});
    let config = servers_config(dir.path(), &["customers"], approvals);
    let seen = if transport == "http" {
        let (mut server, url) = serve_http(&config, &[]);
        let seen = python_client(&["approve", "http", &url]).0;
        let _ = server.kill();
        let _ = server.wait();
        seen
    } else {
        python_client(&["approve", "stdio", env!("CARGO_BIN_EXE_airlock"), config.to_str().unwrap()]).0
    };
    for (handshake, protocol) in [("legacy", "2025-11-25"), ("modern", "2026-07-28")] {
        let seen = &seen[handshake];
        assert_eq!(seen["protocol"], protocol, "{seen}");
        assert_eq!(seen["result"]["is_error"], false, "{seen}");
        let printed = seen["result"]["text"].as_str().unwrap();
        let lines: Vec<&str> = printed.lines().collect();
        assert!(lines[0].starts_with("true [EMAIL_"), "{handshake}: {printed}");
        assert!(lines[1].starts_with("denied customers.send_message was declined"), "{handshake}: {printed}");
        let asked: Vec<&str> = seen["asked"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
        assert_eq!(asked.len(), 2, "{handshake}: {asked:?}");
        // The human sees the call with tokens, never the address.
        assert!(asked[0].contains("customers.send_message") && asked[0].contains("[EMAIL_"), "{}", asked[0]);
        assert!(!asked[0].contains('@'), "{}", asked[0]);
    }
    // Only the approved calls reached the server, with the real address.
    let approved = json!({"to": "anna.2@example.com", "text": "hi Anna Smirnova"});
    assert_eq!(customers_inbox(dir.path()), [approved.clone(), approved]);
}

#[test]
fn gated_calls_are_asked_of_a_python_sdk_client_over_http() {
    gated_calls_are_asked_of_the_client("http");
}

#[test]
fn gated_calls_are_asked_of_a_python_sdk_client_over_stdio() {
    gated_calls_are_asked_of_the_client("stdio");
}
