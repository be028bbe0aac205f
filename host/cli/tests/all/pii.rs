//! PII end to end through `airlock run`, against the "customers" MCP server
//! (tests/servers/python/customers_server.py, official Python SDK). The
//! server keeps what it receives in an inbox folder; the tests read it to
//! see what really crossed the boundary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A config with the customers server (inbox in a fresh folder) and
    /// the given `airlock.pii` settings.
    fn new(pii: Value) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let servers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/servers");
        let config = serde_json::json!({
            "mcpServers": {"customers": {
                "command": servers.join(".venv/bin/python"),
                "args": [servers.join("python/customers_server.py")],
                "env": {"CUSTOMERS_INBOX": dir.path().join("inbox")}
            }},
            "airlock": {"pii": pii}
        });
        std::fs::write(dir.path().join("mcp.json"), config.to_string()).unwrap();
        Fixture { dir }
    }

    fn run(&self, code: &str) -> Output {
        let script = self.dir.path().join("main.js");
        std::fs::write(&script, code).unwrap();
        let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("airlock-cache");
        Command::new(env!("CARGO_BIN_EXE_airlock"))
            .arg("run")
            .arg("--config")
            .arg(self.dir.path().join("mcp.json"))
            .arg(&script)
            .env("AIRLOCK_CACHE_DIR", cache)
            .output()
            .expect("airlock runs")
    }

    fn inbox(&self, file: &str) -> PathBuf {
        self.dir.path().join("inbox").join(file)
    }

    /// Every message the server received.
    fn messages(&self) -> Vec<Value> {
        match std::fs::read_to_string(self.inbox("messages.jsonl")) {
            Ok(text) => text.lines().map(|line| serde_json::from_str(line).unwrap()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn ok_stdout(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn only_tokens_leave_and_tools_receive_real_values() {
    let fixture = Fixture::new(serde_json::json!({}));
    let out = fixture.run(
        r#"
        import { listCustomers, sendMessage, spell } from "./servers/customers";
        const { customers } = await listCustomers();
        for (const c of customers) console.log(JSON.stringify(c));
        const c = customers[0];
        const fields = { name: c.full_name, email: c.email, phone: c.phone, card: c.card, inn: c.inn };
        const receipt = await sendMessage({ to: c.email, text: JSON.stringify(fields) });
        console.log("receipt", JSON.stringify(receipt));
        // The server spells the real email out, a shape no detector sees;
        // joining the letters here gives the real value back, which the
        // output pass still catches.
        const spelled = await spell({ text: c.email });
        console.log("spelled", spelled.length > 20, spelled.includes("[EMAIL"));
        console.log("rebuilt", spelled.split(" ").join(""));
        console.error("stderr too:", spelled.split(" ").join(""));
        "#,
    );
    let stdout = ok_stdout(&out);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();

    // The server got the real values, with no token left in them.
    let messages = fixture.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let real: Value = serde_json::from_str(messages[0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(messages[0]["to"], real["email"]);
    let real_values: Vec<&str> = ["name", "email", "phone", "card", "inn"].map(|k| real[k].as_str().unwrap()).into();
    for value in &real_values {
        assert!(!value.contains('[') && value.len() > 5, "the server received a token: {value}");
        assert!(!stdout.contains(value), "{value} leaked to stdout:\n{stdout}");
        assert!(!stderr.contains(value), "{value} leaked to stderr:\n{stderr}");
    }
    // The script saw tokens of every kind.
    for token in ["[PERSON_1]", "[EMAIL_1]", "[PHONE_1]", "[CREDIT_CARD_1]", "[RU_INN_1]"] {
        assert!(stdout.contains(token), "{token} missing:\n{stdout}");
    }
    assert!(stdout.contains("receipt {\"chars\":"), "{stdout}");
    assert!(stdout.contains("\"to\":\"[EMAIL_1]\""), "{stdout}");
    assert!(stdout.contains("spelled true false\nrebuilt [EMAIL_1]\n"), "{stdout}");
    assert!(stderr.contains("stderr too: [EMAIL_1]"), "{stderr}");
    // No e-mail address at all reaches the output.
    assert!(!stdout.contains("@example.com"), "{stdout}");
}

#[test]
fn a_100kb_document_arrives_byte_identical() {
    let fixture = Fixture::new(serde_json::json!({}));
    let out = fixture.run(
        r#"
        import { getDocument, storeDocument } from "./servers/customers";
        const doc = await getDocument({ name: "review" });
        console.log(doc.content.length > 50000, doc.content.includes("@example.com"));
        console.log(JSON.stringify(await storeDocument({ name: "review", content: doc.content })));
        "#,
    );
    let stdout = ok_stdout(&out);
    let original = std::fs::read(fixture.inbox("original-review")).unwrap();
    let stored = std::fs::read(fixture.inbox("stored-review")).unwrap();
    assert!(original.len() >= 100 * 1024, "{}", original.len());
    assert!(original == stored, "the stored document differs from the original");
    assert_eq!(stdout, format!("true false\n{{\"bytes\":{},\"name\":\"review\"}}\n", original.len()));
}

#[test]
fn a_denied_flow_fails_and_the_server_receives_nothing() {
    let fixture = Fixture::new(serde_json::json!({"flows": {"customers": {"deny": ["CREDIT_CARD"]}}}));
    let out = fixture.run(
        r#"
        import { getCustomer, sendMessage } from "./servers/customers";
        const c = await getCustomer({ id: 2 });
        try {
            await sendMessage({ to: c.email, text: `card on file: ${c.card}` });
            console.log("sent");
        } catch (e) {
            console.log(e.kind, "|", e.message);
        }
        const ok = await sendMessage({ to: c.email, text: "no card here" });
        console.log(ok.delivered);
        "#,
    );
    let stdout = ok_stdout(&out);
    let mut lines = stdout.lines();
    let denied = lines.next().unwrap();
    assert!(denied.starts_with("denied | "), "{stdout}");
    assert!(denied.contains("CREDIT_CARD") && denied.contains("'customers'"), "{denied}");
    let longest_digit_run = denied.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    assert!(longest_digit_run < 4 && !denied.contains('@'), "a value leaked: {denied}");
    assert_eq!(lines.next(), Some("true"));
    // Only the allowed message arrived.
    let messages = fixture.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["text"], "no card here");
}

#[test]
fn with_pii_off_values_pass_untouched() {
    let fixture = Fixture::new(serde_json::json!({"enabled": false}));
    let out = fixture.run(
        r#"
        import { getCustomer } from "./servers/customers";
        console.log((await getCustomer({ id: 1 })).email);
        "#,
    );
    assert_eq!(ok_stdout(&out), "ivan.1@example.com\n");
}

/// Runs `airlock pii redact` with `args` on `input`.
fn redact(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["pii", "redact"])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn redact_json_keeps_layout_and_key_order() {
    let input = r#"{"z": 1, "name": "Ivan Petrov", "contact": {"email": "ivan@example.com", "card": 4111111111111111},
        "note": "write to ivan@example.com, order 1234567812345678 on 2024-05-01, v1.2.3"}"#;
    let out = redact(&["--report"], input);
    let stdout = ok_stdout(&out);
    assert_eq!(
        stdout,
        r#"{"z": 1, "name": "[PERSON_1]", "contact": {"email": "[EMAIL_1]", "card": "[CREDIT_CARD_1]"},
        "note": "write to [EMAIL_1], order 1234567812345678 on 2024-05-01, v1.2.3"}"#
    );
    let report = String::from_utf8_lossy(&out.stderr);
    let email_line = report.lines().find(|l| l.starts_with("EMAIL")).unwrap_or_default();
    assert_eq!(email_line.split_whitespace().collect::<Vec<_>>(), ["EMAIL", "2", "1"], "{report}");
    assert!(report.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["total", "4", "3"]), "{report}");
}

#[test]
fn redact_jsonl_shares_tokens_across_lines_and_text_passes_through() {
    let stdout = ok_stdout(&redact(&["--format", "jsonl"], "{\"a\": \"x@y.io\"}\n\n[\"x@y.io\", \"z@y.io\"]\n"));
    assert_eq!(stdout, "{\"a\": \"[EMAIL_1]\"}\n\n[\"[EMAIL_1]\", \"[EMAIL_2]\"]\n");
    let stdout = ok_stdout(&redact(&["--format", "text"], "call +44 20 7946 0958\nor 10.0.0.1\n"));
    assert_eq!(stdout, "call [PHONE_1]\nor [IP_1]\n");
}

#[test]
fn redact_rejects_invalid_json_with_the_line() {
    let out = redact(&["--format", "jsonl"], "{\"a\": 1}\n{oops\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = redact(&[], "not json");
    assert_eq!(out.status.code(), Some(2));
}
