//! The guest sees no network, no environment and no host filesystem
//! beyond its session's workspace.

use crate::support::{assert_ok, builder, run_in, run_js};
use airlock::{Language, Limits};

#[tokio::test]
async fn files_outside_the_workspace_are_unreachable() {
    let runtime = builder().build().await.unwrap();
    let code = r#"
        import * as fs from "fs";
        for (const path of ["/etc/passwd", "../etc/passwd", "./workspace/../../etc/passwd", "/workspace/../etc/hostname"]) {
            try { fs.readFileSync(path); console.log(path, "READ") } catch (e) { console.log(path, e.code) }
        }"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert!(!result.stdout.contains("READ"), "{}", result.stdout);
    assert_eq!(result.stdout.matches("EACCES").count(), 4, "{}", result.stdout);
}

#[tokio::test]
async fn a_symlink_out_of_the_workspace_is_refused_by_wasi() {
    let runtime = builder().build().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("escape")).unwrap();
    std::os::unix::fs::symlink("/etc", dir.path().join("etc")).unwrap();
    let session = runtime.session_in(dir.path()).unwrap();
    let code = r#"
        import * as fs from "fs";
        for (const path of ["./workspace/escape", "./workspace/etc/passwd"]) {
            try { console.log(path, "READ", fs.readFileSync(path).length) } catch (e) { console.log(path, "refused", e.code) }
        }"#;
    let result = run_in(&session, code, Language::JavaScript, &Limits::default()).await;
    assert_ok(&result);
    assert!(!result.stdout.contains("READ"), "{}", result.stdout);
    assert_eq!(result.stdout.matches("refused").count(), 2, "{}", result.stdout);
}

#[tokio::test]
async fn the_workspace_is_readable_writable_and_kept_across_executions() {
    let runtime = builder().build().await.unwrap();
    let session = runtime.session().unwrap();
    let write = r#"
        import { writeFileSync, mkdirSync } from "fs";
        mkdirSync("./workspace/out", { recursive: true });
        writeFileSync("./workspace/out/report.txt", "42 rows");"#;
    assert_ok(&run_in(&session, write, Language::JavaScript, &Limits::default()).await);
    assert_eq!(std::fs::read_to_string(session.workspace().join("out/report.txt")).unwrap(), "42 rows");

    let read = r#"
        import { promises as fs, readdirSync } from "fs";
        console.log(readdirSync("./workspace/out"), await fs.readFile("./workspace/out/report.txt"));"#;
    let result = run_in(&session, read, Language::JavaScript, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "[ \"report.txt\" ] 42 rows\n");
}

#[tokio::test]
async fn no_host_environment_variable_is_visible() {
    // The test process has plenty of variables (PATH, HOME, CARGO_*).
    assert!(std::env::vars().count() > 3);
    let runtime = builder().build().await.unwrap();
    let result = run_js(&runtime, "console.log(JSON.stringify(process.env))", &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "{}\n");
}

#[tokio::test]
async fn there_is_no_network_or_host_api() {
    let runtime = builder().build().await.unwrap();
    let code = "console.log(typeof fetch, typeof require, typeof XMLHttpRequest, typeof WebSocket)";
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "undefined undefined undefined undefined\n");
}

#[tokio::test]
async fn imports_cannot_leave_the_virtual_tree() {
    let runtime = builder().build().await.unwrap();
    for specifier in ["../../etc/passwd", "/etc/passwd", "./servers/../../x", "node:child_process", "./servers/nope"] {
        let code = format!("import x from {specifier:?}; console.log(x)");
        let result = run_js(&runtime, &code, &Limits::default()).await;
        match &result.error {
            Some(airlock::ExecutionError::Exception { message, .. }) => {
                assert!(message.contains("cannot import"), "{specifier}: {message}")
            }
            other => panic!("{specifier}: expected an import error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn nothing_carries_over_between_executions() {
    let runtime = builder().build().await.unwrap();
    let session = runtime.session().unwrap();
    let first = "globalThis.leak = 'secret'; Math.random = () => 4;";
    assert_ok(&run_in(&session, first, Language::JavaScript, &Limits::default()).await);
    let second = "console.log(typeof globalThis.leak, Math.random() === 4)";
    let result = run_in(&session, second, Language::JavaScript, &Limits::default()).await;
    assert_eq!(result.stdout, "undefined false\n");
}

#[tokio::test]
async fn math_random_is_reseeded_in_every_instance() {
    let runtime = builder().build().await.unwrap();
    let code = "console.log(Math.random(), Math.random())";
    let a = run_js(&runtime, code, &Limits::default()).await;
    let b = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&a);
    assert_ne!(a.stdout, b.stdout, "pre-initialisation must not freeze the random state");
    for value in a.stdout.split_whitespace() {
        let x: f64 = value.parse().unwrap();
        assert!((0.0..1.0).contains(&x));
    }
}

#[tokio::test]
async fn the_monotonic_clock_starts_with_the_execution_not_the_host_process() {
    let runtime = builder().build().await.unwrap();
    let read = "import time\nprint(time.monotonic())\n";
    let first = crate::support::run_py(&runtime, read, &Limits::default()).await;
    assert_ok(&first);
    // The host has run for a while since: a later execution's clock does
    // not show it.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let later = crate::support::run_py(&runtime, read, &Limits::default()).await;
    let seconds: f64 = later.stdout.trim().parse().unwrap();
    assert!(seconds < 1.0, "the guest read {seconds} s: the host's uptime");
    // And it still runs forward within one execution.
    let forward = "import time\na = time.monotonic()\nb = time.monotonic()\nprint(b >= a)\n";
    assert_eq!(crate::support::run_py(&runtime, forward, &Limits::default()).await.stdout, "True\n");
}
