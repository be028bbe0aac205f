//! The `airlock` binary: exit statuses, output streams and `--json`.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn airlock(args: &[&str], stdin: Option<&str>) -> Output {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("airlock-cache");
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .env("AIRLOCK_CACHE_DIR", cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("airlock starts");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.unwrap_or("").as_bytes()).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("airlock finishes")
}

fn script(dir: &tempfile::TempDir, name: &str, code: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, code).expect("write script");
    path.to_string_lossy().into_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn prints_stdout_and_stderr_and_exits_zero() {
    let out = airlock(&["run", "-"], Some("console.log('out'); console.error('err')"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "out\n");
    assert_eq!(text(&out.stderr), "err\n");
}

#[test]
fn a_throw_exits_one_with_the_message_and_line() {
    let out = airlock(&["run", "-"], Some("\nthrow new Error('kaput')"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("Error: kaput") && stderr.contains("main.js:2"), "{stderr}");
}

#[test]
fn a_limit_exits_three() {
    let out = airlock(&["run", "--fuel", "1000000", "-"], Some("while (true) {}"));
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("fuel"), "{}", text(&out.stderr));
    let out = airlock(&["run", "--timeout", "100ms", "--fuel", "100000000000000", "-"], Some("while (true) {}"));
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("timeout"), "{}", text(&out.stderr));
    let out = airlock(
        &["run", "--memory", "16MiB", "-"],
        Some("const a = []; while (true) a.push('y'.repeat(1 << 20) + a.length)"),
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("memory"), "{}", text(&out.stderr));
}

#[test]
fn json_output_parses_and_carries_stats() {
    let out = airlock(&["run", "--json", "-"], Some("console.log('hi'); export default [1, 2];"));
    assert_eq!(out.status.code(), Some(0));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(result["stdout"], "hi\n");
    assert_eq!(result["value"], serde_json::json!([1, 2]));
    assert!(result["error"].is_null());
    let stats = &result["stats"];
    for field in ["fuel_used", "wall_time", "peak_memory"] {
        assert!(stats[field].as_u64().is_some_and(|v| v > 0), "{field}: {stats}");
    }
    assert_eq!(stats["tool_calls"], 0);

    let limited = airlock(&["run", "--json", "--fuel", "1000000", "-"], Some("while (true) {}"));
    assert_eq!(limited.status.code(), Some(3));
    let result: serde_json::Value = serde_json::from_slice(&limited.stdout).expect("one JSON object");
    assert_eq!(result["error"]["kind"], "limit");
    assert_eq!(result["error"]["limit"], "fuel");
}

#[test]
fn typescript_files_are_recognised_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(&dir, "task.ts", "const n: number = 40 + 2;\nconsole.log(n);\n");
    let out = airlock(&["run", &file], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "42\n");
    let out = airlock(&["run", "--language", "ts", "-"], Some("let s: string = 'typed'; console.log(s)"));
    assert_eq!(text(&out.stdout), "typed\n");
}

#[test]
fn python_files_run_with_python_exit_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(&dir, "task.py", "rows = [{'n': i} for i in range(5)]\nprint(sum(r['n'] for r in rows))\n");
    let out = airlock(&["run", &file], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "10\n");
    let out = airlock(&["run", "--language", "python", "-"], Some("print('before')\n\nraise KeyError('gone')\n"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "before\n");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("KeyError") && stderr.contains("gone") && stderr.contains("line 3"), "{stderr}");
    let out = airlock(&["run", "--language", "python", "--fuel", "1000000", "-"], Some("while True:\n    pass\n"));
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("fuel"), "{}", text(&out.stderr));
    let out = airlock(
        &["run", "--language", "python", "--timeout", "100ms", "--fuel", "100000000000000", "-"],
        Some("while True:\n    pass\n"),
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("timeout"), "{}", text(&out.stderr));
    let out = airlock(
        &["run", "--language", "python", "--memory", "16MiB", "-"],
        Some("a = []\nwhile True:\n    a.append('y' * 1048576 + str(len(a)))\n"),
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("memory"), "{}", text(&out.stderr));
}

#[test]
fn python_against_a_real_server_through_airlock_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::records_config(dir.path());
    let code = "from airlock import tool_error_kind\n\
                from servers import records\n\
                rows = records.list_records(limit=10000)['records']\n\
                overdue = [r for r in rows if r['status'] == 'overdue']\n\
                try:\n    records.get_record(id='seven')\n\
                except ToolError as e:\n    print(tool_error_kind(e))\n\
                print(len(rows), len(overdue) > 0, overdue[0]['email'])\n";
    let file = script(&dir, "task.py", code);
    let out = airlock(&["run", "--config", config.to_str().unwrap(), &file], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("invalid-arguments\n10000 True [EMAIL_"), "{stdout}");
    assert!(!stdout.contains('@'), "{stdout}");
}

#[test]
fn python_round_trips_personal_data_and_gathers_calls_through_airlock_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::servers_config(dir.path(), &["records", "customers"], serde_json::Value::Null);
    let code = "import asyncio\n\
                from servers import customers, records\n\
                c = customers.get_customer(id=1)\n\
                customers.send_message(to=c['email'], text='hello ' + c['full_name'])\n\
                records.reset_concurrency()\n\
                async def main():\n    return await asyncio.gather(*[records.sleep(ms=200, id=i) for i in range(10)])\n\
                done = asyncio.run(main())\n\
                print(c['email'], c['full_name'], [r['id'] for r in done] == list(range(10)), records.concurrency()['peak'])\n";
    let file = script(&dir, "task.py", code);
    let out = airlock(&["run", "--config", config.to_str().unwrap(), &file], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The code saw tokens; the tool received the real values; the ten
    // gathered calls were in flight on the server together.
    assert_eq!(text(&out.stdout), "[EMAIL_1] [PERSON_1] True 10\n");
    assert_eq!(
        common::customers_inbox(dir.path()),
        [serde_json::json!({"to": "ivan.1@example.com", "text": "hello Ivan Petrov"})]
    );
}

#[test]
fn python_output_and_tool_call_limits_through_airlock_run() {
    let dir = tempfile::tempdir().unwrap();
    let limits = serde_json::json!({"limits": {"stdout_bytes": 1024, "tool_calls": 3}});
    let config = common::servers_config(dir.path(), &["records"], limits);
    let config = config.to_str().unwrap();

    let out =
        airlock(&["run", "--config", config, "--language", "python", "-"], Some("while True:\n    print('x' * 100)\n"));
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("output limit"), "{}", text(&out.stderr));
    assert!(out.stdout.len() < 2048, "{} bytes of stdout", out.stdout.len());

    let code = "from servers import records\nfor i in range(10):\n    print(records.add(a=i, b=1))\n";
    let out = airlock(&["run", "--config", config, "--language", "python", "-"], Some(code));
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(text(&out.stdout), "1\n2\n3\n");
    assert!(text(&out.stderr).contains("tool-calls limit"), "{}", text(&out.stderr));
}

#[test]
fn a_malformed_config_exits_two_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = script(&dir, "mcp.json", r#"{"mcpServers": {"crm": {"command": "x", "args": "not-a-list"}}}"#);
    let out = airlock(&["run", "--config", &config, "-"], Some("console.log(1)"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("mcp.json") && stderr.contains("mcpServers.crm.args"), "{stderr}");

    let broken = script(&dir, "broken.json", "{ not json");
    let out = airlock(&["run", "--config", &broken, "-"], Some("console.log(1)"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(airlock(&["run", "--memory", "lots", "-"], None).status.code(), Some(2));
    assert_eq!(airlock(&["run", "/no/such/file.js"], None).status.code(), Some(2));
    assert_eq!(airlock(&["frobnicate"], None).status.code(), Some(2));
}

#[test]
fn tools_search_finds_tools_of_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::records_config(dir.path());
    let config = config.to_str().unwrap();
    let out = airlock(&["tools", "search", "fetch one record by its id", "--limit", "2", "--config", config], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let found = text(&out.stdout);
    assert!(found.starts_with("records.get_record — "), "{found}");
    assert_eq!(found.lines().count(), 2, "{found}");

    let out = airlock(&["tools", "search", "add two numbers", "--detail", "full", "--json", "--config", config], None);
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(parsed["matches"][0]["name"], "records.add");
    assert!(parsed["matches"][0]["declaration"].as_str().unwrap().contains("export function add("));

    let out = airlock(&["tools", "search", "x", "--detail", "everything"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown detail 'everything'"), "{}", text(&out.stderr));
}

#[test]
fn tokens_counts_files_with_o200k_base() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(&dir, "text.txt", "hello world");
    let out = airlock(&["tokens", &file, "-"], Some("hello world hello world"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let counts: Vec<&str> = printed.lines().map(|line| line.split_whitespace().next().unwrap()).collect();
    assert_eq!(counts, ["2", "4", "6"], "{printed}");
    assert!(printed.ends_with("total (o200k_base)\n"), "{printed}");
    let missing = airlock(&["tokens", "/nonexistent/file"], None);
    assert_eq!(missing.status.code(), Some(2));
}
