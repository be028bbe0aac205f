//! The `airlock` binary: exit statuses, output streams and `--json`.

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
    // A command that fails early (a config error) may exit before it
    // reads its input: the pipe is then closed, which is no failure here.
    if let Err(error) = input.write_all(stdin.unwrap_or("").as_bytes()) {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {error}");
    }
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
    let config = crate::common::records_config(dir.path());
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
    let config = crate::common::servers_config(dir.path(), &["records", "customers"], serde_json::Value::Null);
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
        crate::common::customers_inbox(dir.path()),
        [serde_json::json!({"to": "ivan.1@example.com", "text": "hello Ivan Petrov"})]
    );
}

#[test]
fn python_output_and_tool_call_limits_through_airlock_run() {
    let dir = tempfile::tempdir().unwrap();
    let limits = serde_json::json!({"limits": {"stdout_bytes": 1024, "tool_calls": 3}});
    let config = crate::common::servers_config(dir.path(), &["records"], limits);
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
    let config = crate::common::records_config(dir.path());
    let config = config.to_str().unwrap();
    let out = airlock(&["tools", "search", "fetch one record by its id", "--limit", "2", "--config", config], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Names by default, as agents get them: one line per server.
    let found = text(&out.stdout);
    assert!(found.starts_with("records: get_record"), "{found}");
    assert_eq!((found.lines().count(), found.matches(", ").count()), (1, 1), "{found}");
    let out = airlock(
        &[
            "tools",
            "search",
            "fetch one record by its id",
            "--limit",
            "2",
            "--detail",
            "description",
            "--config",
            config,
        ],
        None,
    );
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

/// `airlock` with its own, empty guest cache.
fn airlock_fresh(cache: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .env("AIRLOCK_CACHE_DIR", cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("airlock starts");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("airlock finishes")
}

#[test]
fn a_first_run_says_it_compiles_the_guest_and_stdout_is_unchanged() {
    let cache = tempfile::tempdir().unwrap();
    let first = airlock_fresh(cache.path(), &["run", "-"], "console.log(6 * 7)");
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout), "42\n");
    let stderr = text(&first.stderr);
    assert!(stderr.contains("compiling the JavaScript guest for this machine"), "{stderr}");
    assert!(stderr.contains(&cache.path().display().to_string()), "where it is cached: {stderr}");
    // Cached: the second run says nothing.
    let second = airlock_fresh(cache.path(), &["run", "-"], "console.log(6 * 7)");
    assert_eq!(text(&second.stdout), "42\n");
    assert_eq!(text(&second.stderr), "");
}

#[test]
fn a_misspelt_pii_kind_is_a_config_error_naming_the_valid_kinds() {
    let dir = tempfile::tempdir().unwrap();
    for (settings, field, hint) in [
        (r#"{"pii": {"detect": {"enabled": ["PHON"]}}}"#, "airlock.pii.detect.enabled[0]", "PHONE"),
        (r#"{"pii": {"flows": {"*": {"deny": ["CREDITCARD"]}}}}"#, "airlock.pii.flows.*.deny[0]", "CREDIT_CARD"),
    ] {
        let config = script(&dir, "mcp.json", &format!(r#"{{"airlock": {settings}}}"#));
        let out = airlock(&["run", "--config", &config, "-"], Some("console.log('ivan@example.com')"));
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "", "nothing ran");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(field), "{stderr}");
        assert!(stderr.contains(&format!("did you mean `{hint}`")), "{stderr}");
        assert!(stderr.contains("EMAIL, PHONE, CREDIT_CARD, IBAN"), "the valid kinds: {stderr}");
    }
}

#[test]
fn a_misspelt_or_empty_server_set_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let typo = script(&dir, "typo.json", r#"{"mcpServer": {"a": {"command": "x"}}}"#);
    let out = airlock(&["tools", "list", "--config", &typo], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("did you mean `mcpServers`"), "{}", text(&out.stderr));
    let array = script(&dir, "array.json", "[]");
    let out = airlock(&["servers", "list", "--config", &array], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected an object"), "{}", text(&out.stderr));
    let disabled = script(&dir, "disabled.json", r#"{"mcpServers": {"a": {"command": "x", "disabled": true}}}"#);
    let out = airlock(&["tools", "list", "--config", &disabled], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("all 1 servers under `mcpServers` are disabled"), "{}", text(&out.stderr));
    let out = airlock(&["tools", "list"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("pass --config"), "{}", text(&out.stderr));
    // Other clients' keys are named, not fatal.
    let other = script(&dir, "other.json", r#"{"globalShortcut": "Ctrl+Space", "airlock": {}}"#);
    let out = airlock(&["run", "--config", &other, "-"], Some("console.log(1)"));
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("ignoring the key `globalShortcut`"), "{}", text(&out.stderr));
}

#[test]
fn a_failing_upstream_shows_its_command_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let python = crate::common::servers_dir().join(".venv/bin/python");
    let missing = dir.path().join("no_such_server.py");
    let config = serde_json::json!({"mcpServers": {"broken": {"command": python, "args": [missing]}}});
    let config = script(&dir, "mcp.json", &config.to_string());
    let out = airlock(&["tools", "list", "--config", &config], None);
    let stderr = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(&format!("command: {} {}", python.display(), missing.display())), "{stderr}");
    assert!(stderr.contains("can't open file") && stderr.contains("no_such_server.py"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "no colour codes when stderr is not a terminal: {stderr}");

    let unreachable = script(&dir, "http.json", r#"{"mcpServers": {"web": {"url": "http://127.0.0.1:9/mcp"}}}"#);
    let out = airlock(&["tools", "list", "--config", &unreachable], None);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("url: http://127.0.0.1:9/mcp"), "{stderr}");
    assert!(!stderr.contains("rmcp::transport"), "no type names: {stderr}");
}

#[test]
fn an_uncaught_tool_error_points_at_the_users_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::common::records_config(dir.path());
    let code = "import { getRecord } from \"./servers/records\";\n\nawait getRecord({ record_id: 7 });\n";
    let file = script(&dir, "main.js", code);
    let out = airlock(&["run", "--config", config.to_str().unwrap(), &file], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ToolError: records.get_record failed (invalid-arguments)"), "{stderr}");
    assert!(stderr.contains("unknown argument `record_id` (did you mean `id`?)"), "{stderr}");
    assert!(stderr.contains("main.js:3"), "{stderr}");
    assert!(!stderr.contains("eval_script"), "{stderr}");

    let typo = script(&dir, "typo.js", "import { listRecord } from \"./servers/records\";\nconsole.log(1);\n");
    let out = airlock(&["run", "--config", config.to_str().unwrap(), &typo], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("did you mean `listRecords`?"), "{}", text(&out.stderr));
}

#[test]
fn json_mode_reports_usage_errors_as_json() {
    let out = airlock(&["run", "--json", "/no/such/file.js"], None);
    assert_eq!(out.status.code(), Some(2));
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(parsed["error"]["kind"], "usage");
    assert!(parsed["error"]["message"].as_str().unwrap().contains("/no/such/file.js"), "{parsed}");
}

#[test]
fn run_has_the_session_options_of_serve() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("ws");
    let skills = dir.path().join("skills");
    let ws = workspace.to_str().unwrap();
    let sk = skills.to_str().unwrap();
    let save = "import { writeFileSync } from \"fs\";\nimport { saveSkill } from \"airlock\";\n\
                writeFileSync(\"./workspace/kept.txt\", \"kept\");\n\
                await saveSkill({ name: \"answer\", description: \"The answer.\", code: \"export const answer = 42;\" });\n";
    let out = airlock(&["run", "--workspace", ws, "--skills-dir", sk, "-"], Some(save));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(workspace.join("kept.txt")).unwrap(), "kept");
    let use_it = "import { answer } from \"./skills/answer\";\nimport { readFileSync } from \"fs\";\n\
                  console.log(answer, readFileSync(\"./workspace/kept.txt\", \"utf8\"));\n";
    let out = airlock(&["run", "--workspace", ws, "--skills-dir", sk, "-"], Some(use_it));
    assert_eq!(text(&out.stdout), "42 kept\n", "{}", text(&out.stderr));

    let out = airlock(&["skills", "list", "--skills-dir", sk], None);
    let listed = text(&out.stdout);
    assert!(listed.starts_with("SKILL"), "a header: {listed}");
    assert!(listed.contains("answer") && listed.contains("The answer."), "{listed}");
    let out = airlock(&["skills", "list", "--json", "--skills-dir", sk], None);
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(parsed[0]["name"], "answer");
    assert_eq!(parsed[0]["language"], "javascript");
}

#[test]
fn a_skill_calling_an_unconfigured_server_is_not_saved() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(
        &dir,
        "skill.js",
        "import { getRecord } from \"./servers/records\";\nexport const f = (id) => getRecord({ id });\n",
    );
    let sk = dir.path().join("skills");
    let out = airlock(
        &["skills", "add", &file, "--name", "f", "--description", "d", "--skills-dir", sk.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("server 'records', which is not configured here"), "{}", text(&out.stderr));
    assert!(!sk.join("f").exists());
}

#[test]
fn audit_verify_finds_a_cut_tail_and_an_emptied_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let audit = airlock::AuditLog::open(&log).unwrap();
    for n in 0..3 {
        let mut record = serde_json::Map::new();
        record.insert("event".into(), serde_json::json!("test"));
        record.insert("n".into(), serde_json::json!(n));
        audit.append(record);
    }
    drop(audit);
    let path = log.to_str().unwrap();
    let out = airlock(&["audit", "verify", path], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("3 records, chain intact, matches its sealed head"));

    let full = std::fs::read_to_string(&log).unwrap();
    let cut: String = full.lines().take(2).map(|line| format!("{line}\n")).collect();
    std::fs::write(&log, cut).unwrap();
    let out = airlock(&["audit", "verify", path], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("cut from the end"), "{}", text(&out.stdout));

    std::fs::write(&log, "").unwrap();
    let out = airlock(&["audit", "verify", path], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("the log is empty"), "{}", text(&out.stdout));

    std::fs::remove_file(airlock::audit::head_path(&log)).unwrap();
    let out = airlock(&["audit", "verify", path], None);
    assert_eq!(out.status.code(), Some(1), "no head: cannot vouch for the tail");
    assert!(text(&out.stdout).contains("no sealed head"), "{}", text(&out.stdout));
}

/// The demo's agent (`scripts/just demo`, examples/demo): it finds both
/// tools by search, filters the 10,000 records, prints personal data as
/// tokens only, and the customers server receives the real address.
#[test]
fn the_demo_agent_searches_filters_and_the_server_gets_the_real_address() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap();
    let inbox = tempfile::tempdir().unwrap();
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("airlock-cache");
    let out = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .current_dir(root)
        .args(["run", "--config", "examples/demo/mcp.json", "examples/demo/agent.py"])
        .env("AIRLOCK_CACHE_DIR", cache)
        .env("DEMO_INBOX", inbox.path())
        .output()
        .expect("airlock runs");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("search 'list invoices': records.list_records"), "{stdout}");
    assert!(stdout.contains("search 'send a message': customers.send_message"), "{stdout}");
    assert!(stdout.contains("3322 of 10000 invoices overdue"), "{stdout}");
    assert!(stdout.contains("reminder sent to [EMAIL_"), "{stdout}");
    assert!(!stdout.contains('@'), "no address reaches the model: {stdout}");
    let received = std::fs::read_to_string(inbox.path().join("messages.jsonl")).expect("the server's inbox");
    let message: serde_json::Value = serde_json::from_str(received.trim()).unwrap();
    let to = message["to"].as_str().unwrap();
    assert!(to.contains('@') && !to.contains("[EMAIL"), "the server gets the real address: {received}");
}
