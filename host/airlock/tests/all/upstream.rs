//! Agent code against real MCP servers: our Python SDK server, the time
//! server from PyPI, and the memory and everything reference servers from
//! npm (stdio and Streamable HTTP).

use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use crate::support::{assert_ok, builder, run_in, run_js, runtime_with, servers_dir};
use airlock::{ExecutionError, Language, Limits};
use serde_json::json;

fn stdout_lines(result: &airlock::ExecutionResult) -> Vec<&str> {
    result.stdout.lines().collect()
}

#[tokio::test]
async fn filtering_a_large_structured_result_in_the_sandbox() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
        import * as records from "./servers/records";
        const { records: rows, total } = await records.listRecords({ limit: 10000 });
        const pending = rows.filter((r) => r.status === "pending" && r.amount > 1000);
        console.log(total, rows.length, pending.length > 0, pending.every((r) => r.status === "pending"));"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "10000 10000 true true\n");
    assert_eq!(result.stats.tool_calls, 1);
    runtime.shutdown().await;
}

#[tokio::test]
async fn typescript_against_real_servers_with_every_import_form() {
    let runtime = runtime_with(&["records", "time"], json!(null)).await;
    let code = r#"
import * as records from "./servers/records/index.ts";
import { add } from "./servers/records";
import { getCurrentTime } from "./servers/time/get_current_time.ts";
import echo from "./servers/records/echoText";
interface Time { timezone: string; datetime: string }
const sum: number = await add({ a: 2, b: 40 });
const text: string = await echo({ text: "plain text" });
const now = (await getCurrentTime({ timezone: "UTC" })) as Time;
const one = await records.getRecord({ id: 7 });
console.log(sum, text, now.timezone, typeof now.datetime, one.id);
"#;
    let session = runtime.session().unwrap();
    let result = run_in(&session, code, Language::TypeScript, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "42 plain text UTC string 7\n");
    runtime.shutdown().await;
}

#[tokio::test]
async fn the_memory_server_round_trips_a_graph() {
    let runtime = runtime_with(&["memory"], json!(null)).await;
    let code = r#"
        import * as memory from "./servers/memory";
        await memory.createEntities({ entities: [{ name: "Ada", entityType: "person", observations: ["writes code"] }] });
        await memory.addObservations({ observations: [{ entityName: "Ada", contents: ["likes tea"] }] });
        const { entities } = await memory.searchNodes({ query: "Ada" });
        console.log(entities.map((e) => `${e.name}: ${e.observations.join(", ")}`).join("; "));
        try { await memory.openNodes({ names: 5 }) } catch (e) { console.log(e.kind) }"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    // The entity's `name` comes back as a person's name: tokenized.
    assert_eq!(result.stdout, "[PERSON_1]: writes code, likes tea\ninvalid-arguments\n");
    runtime.shutdown().await;
}

#[tokio::test]
async fn the_everything_server_over_stdio() {
    let runtime = runtime_with(&["everything"], json!(null)).await;
    let code = r#"
        import * as everything from "./servers/everything";
        console.log(await everything.echo({ message: "hi" }));
        console.log(await everything.getSum({ a: 1, b: 2 }));
        const weather = await everything.getStructuredContent({ location: "Chicago" });
        console.log(typeof weather);"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(stdout_lines(&result), ["Echo: hi", "The sum of 1 and 2 is 3.", "object"]);
    runtime.shutdown().await;
}

/// Kills the HTTP server when the test ends, however it ends.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts an HTTP server on a free loopback port and waits (at most 30 s)
/// until it accepts connections; `configure` adds the port to the command.
async fn http_server(
    program: std::path::PathBuf,
    configure: impl FnOnce(&mut std::process::Command, u16),
) -> (ChildGuard, u16) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = std::process::Command::new(&program);
    configure(&mut command, port);
    let server =
        ChildGuard(command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start the HTTP server"));
    let ready = async {
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), ready).await.expect("the HTTP server listens");
    (server, port)
}

#[tokio::test]
async fn the_everything_server_over_streamable_http() {
    let binary = servers_dir().join("node/node_modules/.bin/mcp-server-everything");
    let (_server, port) = http_server(binary, |command, port| {
        command.arg("streamableHttp").env("PORT", port.to_string());
    })
    .await;

    let config = airlock::Config::from_json(
        &json!({"mcpServers": {"web": {"url": format!("http://127.0.0.1:{port}/mcp")}}}).to_string(),
    )
    .unwrap();
    let runtime = builder().config(&config).build().await.unwrap();
    let code = r#"
        import { echo, getSum } from "./servers/web";
        console.log(await echo({ message: "over http" }), await getSum({ a: 20, b: 22 }));"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "Echo: over http The sum of 20 and 22 is 42.\n");
    runtime.shutdown().await;
}

#[tokio::test]
async fn tool_errors_have_their_kinds() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
        import { callTool } from "airlock";
        import * as records from "./servers/records";
        const attempts = [
            () => records.fail({ message: "boom" }),
            () => records.getRecord({ id: 99999999 }),
            () => callTool("records", "no_such_tool", {}),
            () => callTool("nowhere", "x", {}),
            () => records.getRecord({ id: "seven" }),
            () => records.getRecord({}),
        ];
        for (const attempt of attempts) {
            try { await attempt(); console.log("no error") } catch (e) { console.log(e.kind, "|", e.message) }
        }"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let lines = stdout_lines(&result);
    assert!(lines[0].starts_with("failed | ") && lines[0].contains("boom"), "{}", lines[0]);
    assert!(lines[1].starts_with("failed | ") && lines[1].contains("99999999"), "{}", lines[1]);
    assert!(lines[2].starts_with("not-found | server 'records' has no tool 'no_such_tool'"), "{}", lines[2]);
    assert!(lines[3].starts_with("not-found | no server 'nowhere'"), "{}", lines[3]);
    assert!(lines[4].starts_with("invalid-arguments | get_record: at /id"), "{}", lines[4]);
    assert!(lines[5].starts_with("invalid-arguments | ") && lines[5].contains("id"), "{}", lines[5]);
    runtime.shutdown().await;
}

#[tokio::test]
async fn invalid_arguments_never_reach_the_server() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
        import * as records from "./servers/records";
        await records.resetConcurrency({});
        for (const bad of [{ ms: "slow" }, { ms: 5, id: 1.5 }, {}]) {
            try { await records.sleep(bad) } catch (e) { console.log(e.kind) }
        }
        console.log((await records.concurrency({})).calls);"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(stdout_lines(&result), ["invalid-arguments", "invalid-arguments", "invalid-arguments", "0"]);
    runtime.shutdown().await;
}

#[tokio::test]
async fn a_crashed_server_is_unavailable_then_restarted() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let session = runtime.session().unwrap();
    let code = r#"
        import * as records from "./servers/records";
        const before = await records.pid({});
        try { await records.crash({}) } catch (e) { console.log(e.kind) }
        const after = await records.pid({});
        console.log(before !== after, await records.add({ a: 1, b: 1 }));"#;
    let result = run_in(&session, code, Language::JavaScript, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(stdout_lines(&result), ["unavailable", "true 2"]);
    runtime.shutdown().await;
}

#[tokio::test]
async fn a_hung_call_times_out_and_the_server_keeps_serving() {
    let runtime = runtime_with(&["records"], json!({"tool_timeout": "500ms"})).await;
    let code = r#"
        import * as records from "./servers/records";
        try { await records.hang({}) } catch (e) { console.log(e.kind, e.message.includes("within")) }
        console.log(await records.add({ a: 20, b: 22 }));"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(stdout_lines(&result), ["unavailable true", "42"]);
    runtime.shutdown().await;
}

/// Has the records server of `runtime` echo 17 MiB (a reply over the cap),
/// then add 20 and 22; the lines printed: the error's kind and message, and
/// the sum.
async fn echo_17_mib_then_add(runtime: &airlock::Runtime) -> Vec<String> {
    let code = r#"
        import { echo_text, add } from "./servers/records";
        try { await echo_text({ text: "x".repeat(17 << 20) }) } catch (e) { console.log(e.kind, e.message) }
        console.log(await add({ a: 20, b: 22 }));"#;
    let limits = Limits { timeout: Duration::from_secs(50), memory_bytes: 512 << 20, ..Limits::default() };
    let result = run_js(runtime, code, &limits).await;
    assert_ok(&result);
    stdout_lines(&result).into_iter().map(String::from).collect()
}

#[tokio::test]
async fn a_reply_over_16_mib_fails_its_call_at_once_saying_why() {
    // A timeout long enough that waiting for it would fail the test's
    // expectation of the size error.
    let runtime = runtime_with(&["records"], json!({"tool_timeout": "60s"})).await;
    let lines = echo_17_mib_then_add(&runtime).await;
    assert!(lines[0].starts_with("failed "), "{lines:?}");
    assert!(lines[0].contains("over the 16 MiB a message may have"), "{lines:?}");
    assert_eq!(lines[1], "42");
    runtime.shutdown().await;
}

#[tokio::test]
async fn a_reply_over_16_mib_over_http_fails_its_call_at_once_saying_why() {
    // Both ways a Streamable HTTP server answers: one JSON body, or an SSE
    // stream (where rmcp drops the connection, which is then reopened).
    for (json, why) in [(true, "its reply is over the 16 MiB"), (false, "its reply was over the 16 MiB")] {
        let (_server, port) = http_server(servers_dir().join(".venv/bin/python"), |command, port| {
            command.arg(servers_dir().join("python/records_server.py")).args(["--http", &port.to_string()]);
            if json {
                command.arg("--json");
            }
        })
        .await;
        let config = airlock::Config::from_json(
            &json!({"mcpServers": {"records": {"url": format!("http://127.0.0.1:{port}/mcp")}},
                    "airlock": {"tool_timeout": "60s"}})
            .to_string(),
        )
        .unwrap();
        let runtime = builder().config(&config).build().await.unwrap();
        let lines = echo_17_mib_then_add(&runtime).await;
        assert!(lines[0].starts_with("unavailable "), "json {json}: {lines:?}");
        assert!(lines[0].contains(why), "json {json}: {lines:?}");
        assert!(!lines[0].contains("::"), "no Rust type names: {lines:?}");
        assert_eq!(lines[1], "42", "json {json}");
        runtime.shutdown().await;
    }
}

#[tokio::test]
async fn the_execution_deadline_cuts_a_slow_upstream_call() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let limits = Limits { timeout: Duration::from_millis(1500), ..Limits::default() };
    let code = r#"import { hang } from "./servers/records"; await hang({});"#;
    let result = run_js(&runtime, code, &limits).await;
    assert_eq!(result.limit(), Some(airlock::Limit::Timeout), "{:?}", result.error);
    runtime.shutdown().await;
}

#[tokio::test]
async fn list_changed_refreshes_the_tools() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let session = runtime.session().unwrap();
    let add = r#"import { addTool } from "./servers/records"; console.log(await addTool({ name: "greet_later" }));"#;
    let result = run_in(&session, add, Language::JavaScript, &Limits::default()).await;
    assert_ok(&result);
    let call = r#"import { greetLater } from "./servers/records"; console.log(await greetLater({ text: "hi" }));"#;
    let result = run_in(&session, call, Language::JavaScript, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "greet_later: hi\n");
    runtime.shutdown().await;
}

#[tokio::test]
async fn parallel_calls_are_in_flight_together_on_the_server() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
        import * as records from "./servers/records";
        await records.resetConcurrency({});
        const ids = Array.from({ length: 20 }, (_, i) => i);
        const results = await Promise.all(ids.map((id) => records.sleep({ ms: 200, id })));
        const stats = await records.concurrency({});
        console.log(results.map((r) => r.id).join(","), stats.calls, stats.peak);"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let expected_ids: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    assert_eq!(result.stdout, format!("{} 20 20\n", expected_ids.join(",")));
    runtime.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_server_fails_the_import_with_the_reason() {
    let config =
        airlock::Config::from_json(r#"{"mcpServers": {"ghost": {"command": "/nonexistent/server"}}}"#).unwrap();
    let runtime = builder().config(&config).build().await.unwrap();
    let result = run_js(&runtime, r#"import * as ghost from "./servers/ghost";"#, &Limits::default()).await;
    match &result.error {
        Some(ExecutionError::Exception { message, .. }) => {
            assert!(message.contains("ghost") && message.contains("cannot start"), "{message}")
        }
        other => panic!("expected an import error, got {other:?}"),
    }
    let next = run_js(&runtime, "console.log('fine')", &Limits::default()).await;
    assert_ok(&next);
}

#[tokio::test]
async fn shutdown_leaves_no_server_process_behind() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let result =
        run_js(&runtime, r#"import { pid } from "./servers/records"; console.log(await pid({}));"#, &Limits::default())
            .await;
    assert_ok(&result);
    let pid: u32 = result.stdout.trim().parse().unwrap();
    let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
    assert!(proc_dir.exists(), "the server runs while the runtime serves");
    runtime.shutdown().await;
    // Shutdown waits for the exit; a zombie would still have /proc/<pid>.
    assert!(!proc_dir.exists(), "server process {pid} outlived the shutdown");
}

#[tokio::test]
async fn a_failing_servers_stderr_is_shown_redacted() {
    // A server that says something personal on stderr and exits.
    let config = |pii: bool| {
        let document = json!({
            "mcpServers": {"talker": {"command": "sh", "args": ["-c", "echo 'no account for ada@example.com' >&2; exit 3"]}},
            "airlock": {"pii": {"enabled": pii}},
        });
        airlock::Config::from_json(&document.to_string()).unwrap()
    };
    let import = r#"import * as talker from "./servers/talker";"#;
    let message_with = async |pii: bool| {
        let runtime = builder().config(&config(pii)).build().await.unwrap();
        let result = run_js(&runtime, import, &Limits::default()).await;
        runtime.shutdown().await;
        match result.error {
            Some(ExecutionError::Exception { message, .. }) => message,
            other => panic!("expected an import error, got {other:?}"),
        }
    };
    let redacted = message_with(true).await;
    // Redacted by the upstream pool's detector (a plain `[EMAIL]`), before
    // the boundary tokenizes what else the message holds.
    assert!(redacted.contains("stderr (last lines):\n    no account for [EMAIL]"), "{redacted}");
    assert!(!redacted.contains("ada@example.com"), "{redacted}");
    // The same server with PII handling off: the address is what it said.
    let plain = message_with(false).await;
    assert!(plain.contains("no account for ada@example.com"), "{plain}");
}

#[tokio::test]
async fn a_server_writing_bytes_that_are_not_utf8_to_stderr_keeps_serving() {
    // Each call logs a stray byte and a long line, then answers its pid.
    let server = r#"
import os, sys
from mcp.server.mcpserver import MCPServer
server = MCPServer("noisy")

@server.tool()
def noisy() -> int:
    sys.stderr.buffer.write(b"caf\xe9 \xff\n" + b"x" * 200000 + b"\n")
    sys.stderr.buffer.flush()
    return os.getpid()

server.run()
"#;
    let python = servers_dir().join(".venv/bin/python");
    let document = json!({"mcpServers": {"noisy": {"command": python, "args": ["-c", server]}}});
    let config = airlock::Config::from_json(&document.to_string()).unwrap();
    let runtime = builder().config(&config).build().await.unwrap();
    let code = r#"import { noisy } from "./servers/noisy"; console.log(await noisy({}));"#;
    let mut pids = Vec::new();
    for _ in 0..3 {
        let result = run_js(&runtime, code, &Limits::default()).await;
        assert_ok(&result);
        pids.push(result.stdout);
        // Time for the host to read what the server wrote before it writes again.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(pids.iter().all(|pid| pid == &pids[0]), "the server was never restarted: {pids:?}");
    runtime.shutdown().await;
}

/// An execution driven by a multi-thread runtime's `block_on` (as in a
/// `main`) runs as a task, for its upstream answers to wake it where they
/// are read: its calls work, and dropping it mid-run still ends it. The
/// dropped execution calls the server in a loop; if it kept running, the
/// server's call count would keep growing.
#[test]
fn an_execution_driven_by_block_on_works_and_ends_when_dropped() {
    let workers = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    workers.block_on(async {
        let runtime = runtime_with(&["records"], json!(null)).await;
        let session = runtime.session().unwrap();
        let code = r#"import { add } from "./servers/records"; console.log(await add({ a: 2, b: 3 }));"#;
        let result = run_in(&session, code, Language::JavaScript, &Limits::default()).await;
        assert_ok(&result);
        assert_eq!(result.stdout, "5\n");

        let forever = r#"import { add } from "./servers/records"; for (;;) await add({ a: 1, b: 1 });"#;
        let limits = Limits { timeout: Duration::from_secs(120), tool_calls: u32::MAX, ..Limits::default() };
        let running = session.execute_with_limits(forever, Language::JavaScript, &limits);
        assert!(tokio::time::timeout(Duration::from_millis(500), running).await.is_err(), "it never ends by itself");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let calls = records_calls(&runtime);
        assert!(calls > 1.0, "the dropped execution made calls before it was dropped ({calls})");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(records_calls(&runtime), calls, "the dropped execution kept calling the server");
        runtime.shutdown().await;
    });
}

/// The `records` server's tool calls so far, from the runtime's metrics.
fn records_calls(runtime: &airlock::Runtime) -> f64 {
    let key = r#"airlock_tool_call_duration_seconds_count{server="records"} "#;
    let text = runtime.metrics().encode();
    text.lines().find_map(|line| line.strip_prefix(key)?.trim().parse().ok()).unwrap_or(0.0)
}
