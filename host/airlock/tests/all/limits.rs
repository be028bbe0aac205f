//! Every limit ends only the execution that hit it, with its typed error,
//! and the runtime serves the next execution normally.

use std::time::Duration;

use crate::support::{assert_ok, bytes_in, local_tools_runtime, run_in, run_js};
use airlock::{ExecutionError, Language, Limit, Limits, Runtime};

/// Runs JavaScript `code` and expects `limit` (see [`crate::support::expect_limit`]).
async fn expect_limit(runtime: &Runtime, code: &str, limits: Limits, limit: Limit) -> airlock::ExecutionResult {
    crate::support::expect_limit(runtime, Language::JavaScript, code, limits, limit).await
}

#[tokio::test]
async fn an_infinite_loop_runs_out_of_fuel() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { fuel: 50_000_000, ..Limits::default() };
    let result = expect_limit(&runtime, "while (true) {}", limits, Limit::Fuel).await;
    assert_eq!(result.stats.fuel_used, 50_000_000);
}

#[tokio::test]
async fn an_infinite_loop_hits_the_deadline_when_fuel_is_plenty() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { fuel: u64::MAX, timeout: Duration::from_millis(200), ..Limits::default() };
    expect_limit(&runtime, "while (true) {}", limits, Limit::Timeout).await;
}

#[tokio::test]
async fn the_deadline_covers_time_spent_in_tool_calls() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { timeout: Duration::from_millis(200), ..Limits::default() };
    let code =
        r#"import { callTool } from "airlock"; await callTool("local", "slow", {}); console.log("unreachable");"#;
    let result = expect_limit(&runtime, code, limits, Limit::Timeout).await;
    assert_eq!(result.stdout, "");
    assert_eq!(result.stats.tool_calls, 1);
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_cap() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { memory_bytes: 32 << 20, ..Limits::default() };
    let code = "const hoard = []; while (true) hoard.push('x'.repeat(1 << 20) + hoard.length);";
    let result = expect_limit(&runtime, code, limits, Limit::Memory).await;
    assert!(result.stats.peak_memory <= 32 << 20, "peak {}", result.stats.peak_memory);
}

#[tokio::test]
async fn an_output_flood_is_cut_at_the_cap() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { stdout_bytes: 4096, ..Limits::default() };
    let result = expect_limit(&runtime, "while (true) console.log('flood')", limits, Limit::Output).await;
    assert!(result.stdout.starts_with("flood\nflood\n"));
    assert!(result.stdout.ends_with("[airlock: stdout truncated at 4096 bytes]\n"), "{}", &result.stdout[4000..]);
    assert!(result.stdout.len() < 4096 + 100);
}

#[tokio::test]
async fn a_stderr_flood_is_cut_too() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { stderr_bytes: 1024, ..Limits::default() };
    let result = expect_limit(&runtime, "while (true) console.error('oops')", limits, Limit::Output).await;
    assert!(result.stderr.ends_with("[airlock: stderr truncated at 1024 bytes]\n"));
}

#[tokio::test]
async fn too_many_tool_calls_hit_the_cap() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { tool_calls: 5, ..Limits::default() };
    let code = r#"import { callTool } from "airlock";
        for (let i = 0; i < 10; i++) await callTool("local", "echo", { i });"#;
    let result = expect_limit(&runtime, code, limits, Limit::ToolCalls).await;
    assert_eq!(result.stats.tool_calls, 5);
}

#[tokio::test]
async fn a_parallel_batch_past_the_cap_is_refused_whole() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { tool_calls: 3, ..Limits::default() };
    let code = r#"import { callTool } from "airlock";
        await Promise.all([1, 2, 3, 4].map((i) => callTool("local", "echo", { i })));"#;
    let result = expect_limit(&runtime, code, limits, Limit::ToolCalls).await;
    assert_eq!(result.stats.tool_calls, 0);
}

#[tokio::test]
async fn unbounded_recursion_is_stopped() {
    let runtime = local_tools_runtime().await;
    let result = run_js(&runtime, "function f(n) { return f(n + 1) + 1 } f(0);", &Limits::default()).await;
    match &result.error {
        Some(ExecutionError::Trap { message }) => assert!(message.contains("stack"), "{message}"),
        other => panic!("expected a stack trap, got {other:?}"),
    }
    assert_ok(&run_js(&runtime, "console.log(1)", &Limits::default()).await);
}

#[tokio::test]
async fn executions_run_concurrently_and_independently() {
    let runtime = local_tools_runtime().await;
    let looping = Limits { fuel: 20_000_000, ..Limits::default() };
    let normal = Limits::default();
    let (bad, good) = tokio::join!(
        run_js(&runtime, "while (true) {}", &looping),
        run_js(&runtime, "let s = 0; for (let i = 0; i < 1000; i++) s += i; console.log(s)", &normal),
    );
    assert_eq!(bad.limit(), Some(Limit::Fuel));
    assert_ok(&good);
    assert_eq!(good.stdout, "499500\n");
}

#[tokio::test]
async fn stats_report_what_was_used() {
    let runtime = local_tools_runtime().await;
    let code = r#"import { callTool } from "airlock"; await callTool("local", "echo", {}); console.log("x")"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert!(result.stats.fuel_used > 0);
    assert!(result.stats.peak_memory > 0);
    assert!(result.stats.wall_time > Duration::ZERO);
    assert_eq!(result.stats.tool_calls, 1);
}

#[tokio::test]
async fn a_search_limit_from_raw_bindings_is_capped_by_the_host() {
    // More tools than the cap.
    let mut builder = crate::support::builder();
    for n in 0..1200 {
        builder =
            builder.tool("many", airlock::ToolDefinition::new(format!("tool_{n}")), |_: serde_json::Value| async {
                Ok(serde_json::Value::Null)
            });
    }
    let runtime = builder.build().await.unwrap();
    // The guests' own wrappers cap the limit; code can call the bindings
    // underneath with any number (u32::MAX made the host allocate 64 GiB).
    let code = "from wit_world.imports import tools\n\
                print(len(tools.find('tool', tools.Detail.NAME, 4294967295)))\n";
    let result = crate::support::run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "1000\n");
}

#[tokio::test]
async fn what_code_returns_or_throws_is_capped_like_its_output() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { stdout_bytes: 1024, stderr_bytes: 512, ..Limits::default() };
    let returned = run_js(&runtime, "export default 'x'.repeat(100000);", &limits).await;
    match &returned.error {
        Some(ExecutionError::Limit { limit: Limit::Output, message }) => {
            assert!(message.contains("over the 1024-byte output cap"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(returned.value, serde_json::Value::Null);
    let small = run_js(&runtime, "export default 'x'.repeat(10);", &limits).await;
    assert_eq!(small.value, serde_json::json!("xxxxxxxxxx"));
    // JSON the host cannot read is an error, not a silent null.
    let deep = run_js(&runtime, "export default JSON.parse('['.repeat(200) + ']'.repeat(200));", &limits).await;
    match &deep.error {
        Some(ExecutionError::Exception { message, .. }) => {
            assert!(message.starts_with("the returned value is not JSON this host reads"), "{message}")
        }
        other => panic!("{other:?}"),
    }

    for (language, code) in [
        (Language::JavaScript, "throw new Error('y'.repeat(1000000));"),
        (Language::Python, "raise ValueError('y' * 1000000)"),
    ] {
        let thrown = crate::support::run_in(&runtime.session().unwrap(), code, language, &limits).await;
        let Some(ExecutionError::Exception { message, stack, .. }) = &thrown.error else {
            panic!("{:?}", thrown.error)
        };
        assert!(
            message.len() < 600 && message.ends_with("[airlock: cut at 512 of 1000000 bytes]"),
            "{language:?}: {}",
            &message[message.len() - 60..]
        );
        assert!(stack.as_ref().is_none_or(|stack| stack.len() < 600), "{language:?}");
    }
}

#[tokio::test]
async fn a_workspace_flood_hits_the_workspace_cap_and_the_session_keeps_serving() {
    let runtime = local_tools_runtime().await;
    let session = runtime.session().unwrap();
    let limits = Limits { workspace_bytes: 1 << 20, ..Limits::default() };
    let code = r#"
        import { appendFileSync } from "fs";
        const chunk = "x".repeat(64 << 10);
        for (let i = 0; ; i++) { appendFileSync("./workspace/flood.txt", chunk); console.log(i); }"#;
    let result = run_in(&session, code, Language::JavaScript, &limits).await;
    assert_eq!(result.limit(), Some(Limit::Workspace), "{:?}", result.error);
    // The 4 KiB the file's entry costs leaves room for 15 chunks, not 16.
    assert_eq!(result.stdout.lines().count(), 15, "{}", result.stdout);
    assert_eq!(bytes_in(session.workspace()), 15 * (64 << 10));

    let next = run_in(
        &session,
        r#"import { readFileSync } from "fs"; console.log(readFileSync("./workspace/flood.txt").length)"#,
        Language::JavaScript,
        &limits,
    )
    .await;
    assert_ok(&next);
    assert_eq!(next.stdout, format!("{}\n", 15 * (64 << 10)));
}

#[tokio::test]
async fn rewriting_files_gives_their_room_back() {
    let runtime = local_tools_runtime().await;
    let session = runtime.session().unwrap();
    let limits = Limits { workspace_bytes: 1 << 20, ..Limits::default() };
    let code = r#"
        import { writeFileSync, rmSync, mkdirSync } from "fs";
        const big = "y".repeat(600 << 10);
        for (let i = 0; i < 20; i++) writeFileSync("./workspace/state.json", big);
        for (let i = 0; i < 100; i++) { mkdirSync("./workspace/d"); rmSync("./workspace/d", { recursive: true }); }
        console.log("done");"#;
    let result = run_in(&session, code, Language::JavaScript, &limits).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "done\n");
}

#[tokio::test]
async fn removed_files_give_their_bytes_back_to_the_next_execution() {
    let runtime = local_tools_runtime().await;
    let session = runtime.session().unwrap();
    let limits = Limits { workspace_bytes: 1 << 20, ..Limits::default() };
    // An open descriptor or another link may keep a removed file's bytes
    // on disk, so the execution that removes it does not get them back.
    let code = r#"
        import { writeFileSync, rmSync } from "fs";
        writeFileSync("./workspace/a.bin", "a".repeat(600 << 10));
        rmSync("./workspace/a.bin");
        writeFileSync("./workspace/b.bin", "b".repeat(600 << 10));"#;
    let result = run_in(&session, code, Language::JavaScript, &limits).await;
    assert_eq!(result.limit(), Some(Limit::Workspace), "{:?}", result.error);
    // The next one measures the folder: the room is there again.
    let code = r#"
        import { writeFileSync, rmSync } from "fs";
        rmSync("./workspace/b.bin", { force: true });
        writeFileSync("./workspace/c.bin", "c".repeat(900 << 10));
        console.log("done");"#;
    let result = run_in(&session, code, Language::JavaScript, &limits).await;
    assert_ok(&result);
}

#[tokio::test]
async fn empty_files_count_against_the_workspace_cap() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { workspace_bytes: 64 << 10, ..Limits::default() };
    let code = r#"
        import { writeFileSync } from "fs";
        for (let i = 0; i < 1000; i++) writeFileSync(`./workspace/empty${i}`, "");"#;
    expect_limit(&runtime, code, limits, Limit::Workspace).await;
}

#[tokio::test]
async fn a_workspace_already_past_its_cap_takes_no_more_but_stays_readable() {
    let runtime = local_tools_runtime().await;
    let session = runtime.session().unwrap();
    std::fs::write(session.workspace().join("given.csv"), vec![b'a'; 200 << 10]).unwrap();
    let limits = Limits { workspace_bytes: 100 << 10, ..Limits::default() };
    let read = r#"import { readFileSync } from "fs"; console.log(readFileSync("./workspace/given.csv").length)"#;
    let result = run_in(&session, read, Language::JavaScript, &limits).await;
    assert_ok(&result);
    assert_eq!(result.stdout, format!("{}\n", 200 << 10));
    let write = r#"import { writeFileSync } from "fs"; writeFileSync("./workspace/more.txt", "1");"#;
    let result = run_in(&session, write, Language::JavaScript, &limits).await;
    assert_eq!(result.limit(), Some(Limit::Workspace), "{:?}", result.error);
    assert!(!session.workspace().join("more.txt").exists());
}
