//! The MCP conformance suite (`@modelcontextprotocol/conformance` 0.1.13,
//! installed by scripts/setup-servers.sh) against `airlock serve --http`
//! (server mode) and against Airlock's upstream client (client mode), with
//! the expected failures of tests/conformance/expected-failures.yml.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{cache_dir, records_config, serve_http};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn conformance(args: &[&str]) -> Output {
    let root = repo();
    Command::new(root.join("tests/servers/node/node_modules/.bin/conformance"))
        .args(args)
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
    let (mut server, url) = serve_http(&records_config(dir.path()), &[]);

    let out = conformance(&["server", "--url", &url]);
    server.kill().unwrap();
    server.wait().unwrap();
    let text = report(&out);
    assert!(out.status.success(), "{text}");
    for must_pass in [
        "server-initialize",
        "ping",
        "tools-list",
        "resources-list",
        "server-sse-multiple-streams",
        "dns-rebinding-protection",
    ] {
        assert!(text.contains(&format!("✓ {must_pass}:")), "{must_pass} did not pass:\n{text}");
    }
}

#[test]
fn the_upstream_client_passes_the_client_scenarios() {
    let client = format!("bash {}", repo().join("tests/conformance/client.sh").display());
    for scenario in ["initialize", "tools_call"] {
        let out = conformance(&["client", "--command", &client, "--scenario", scenario]);
        assert!(out.status.success(), "{scenario}:\n{}", report(&out));
    }
    let out = conformance(&["client", "--command", &client, "--scenario", "tools_call"]);
    assert!(report(&out).contains("Passed: 1/1"), "{}", report(&out));
}
