//! Progressive discovery from guest code: the `./servers` tree of generated
//! declarations, `searchTools`, and the rest of the tree staying shut.

use crate::support::{assert_ok, builder, run_in, run_js};
use airlock::{Language, Limits, Runtime, ToolDefinition};
use serde_json::{Value, json};

/// A runtime with two in-process servers.
async fn runtime() -> Runtime {
    let echo = |args: Value| async move { Ok(args) };
    let tool = |name: &str, description: &str, properties: Value| {
        ToolDefinition::new(name)
            .description(description)
            .input_schema(json!({"type": "object", "properties": properties}))
    };
    builder()
        .tool(
            "billing",
            tool(
                "list_invoices",
                "List invoices, newest first. Filter by status to find unpaid or overdue ones.",
                json!({"status": {"type": "string", "enum": ["paid", "overdue"]}}),
            ),
            echo,
        )
        .tool(
            "billing",
            tool("refund_payment", "Refund a captured card payment.", json!({"id": {"type": "string"}})),
            echo,
        )
        .tool(
            "mail",
            tool("send_email", "Send an email to one recipient.", json!({"to": {"type": "string", "format": "email"}})),
            echo,
        )
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn guest_code_browses_the_servers_tree() {
    let runtime = runtime().await;
    let code = r#"
        import * as fs from "fs";
        console.log(fs.readdirSync("."));
        console.log(fs.readdirSync("./servers"));
        console.log(await fs.promises.readdir("./servers/billing"));
        const index = fs.readFileSync("./servers/billing/index.ts", "utf8");
        console.log(index.includes("export function listInvoices"), index.includes("refundPayment"));
        const one = await fs.promises.readFile("./servers/billing/listInvoices.ts", "utf8");
        console.log(one.includes("listInvoices"), one.includes("refundPayment"), one.includes('"overdue"'));
        const s = fs.statSync("/servers/mail/sendEmail.ts");
        console.log(s.isFile(), s.size > 0, fs.statSync("./servers").isDirectory());
        console.log(fs.existsSync("./servers/mail/index.ts"), fs.existsSync("./servers/mail/nope.ts"), await fs.promises.exists("./skills"));
        for (const [op, path] of [["read", "./servers/nope/index.ts"], ["write", "./servers/mail/x.ts"], ["write", "./skills/x.js"], ["rm", "./servers/mail/index.ts"], ["readdir", "./servers/mail/index.ts"], ["read", "./servers"]]) {
            try {
                if (op === "read") fs.readFileSync(path);
                else if (op === "write") fs.writeFileSync(path, "x");
                else if (op === "rm") fs.rmSync(path);
                else fs.readdirSync(path);
                console.log(op, path, "ALLOWED");
            } catch (e) { console.log(op, path, e.code) }
        }"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(lines[0], r#"[ "servers", "skills", "workspace" ]"#);
    assert_eq!(lines[1], r#"[ "billing", "mail" ]"#);
    assert_eq!(lines[2], r#"[ "index.ts", "listInvoices.ts", "refundPayment.ts" ]"#);
    assert_eq!(lines[3], "true true");
    assert_eq!(lines[4], "true false true");
    assert_eq!(lines[5], "true true true");
    assert_eq!(lines[6], "true false true");
    assert_eq!(lines[7], "read ./servers/nope/index.ts ENOENT");
    assert_eq!(lines[8], "write ./servers/mail/x.ts EROFS");
    assert_eq!(lines[9], "write ./skills/x.js EROFS");
    assert_eq!(lines[10], "rm ./servers/mail/index.ts EROFS");
    assert_eq!(lines[11], "readdir ./servers/mail/index.ts ENOTDIR");
    assert_eq!(lines[12], "read ./servers EISDIR");
}

#[tokio::test]
async fn a_declaration_file_is_also_an_importable_module() {
    let runtime = runtime().await;
    let code = r#"
        import { listInvoices } from "./servers/billing/listInvoices.ts";
        console.log(JSON.stringify(await listInvoices({ status: "overdue" })));"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "{\"status\":\"overdue\"}\n");
}

#[tokio::test]
async fn search_tools_finds_the_tools_a_task_needs() {
    let runtime = runtime().await;
    let code = r#"
        import { searchTools } from "airlock";
        const names = (found) => found.map((f) => f.name).join(",");
        console.log(names(await searchTools("which customers have not paid their invoices", "name", 1)));
        console.log(names(await searchTools("email somebody", "name", 3)));
        const [described] = await searchTools("refund a card payment", "description", 1);
        console.log(described.server, described.tool, described.description, described.declaration);
        const [full] = await searchTools("refund", "full", 1);
        console.log(full.declaration.includes("export function refundPayment"));
        console.log((await searchTools("xylophone")).length);
        for (const bad of [() => searchTools("x", "everything"), () => searchTools(42), () => searchTools("x", "name", 0)]) {
            try { await bad(); console.log("ALLOWED") } catch (e) { console.log(e.name) }
        }"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(lines[0], "billing.list_invoices");
    assert_eq!(lines[1], "mail.send_email");
    assert_eq!(lines[2], "billing refund_payment Refund a captured card payment. undefined");
    assert_eq!(lines[3], "true");
    assert_eq!(lines[4], "0");
    assert_eq!(&lines[5..], ["TypeError", "TypeError", "TypeError"]);
    // Searching is not a tool call.
    assert_eq!(result.stats.tool_calls, 0);
}

#[tokio::test]
async fn the_workspace_is_the_only_writable_place_and_nothing_leaves_the_tree() {
    let runtime = runtime().await;
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc", dir.path().join("etc")).unwrap();
    let session = runtime.session_in(dir.path()).unwrap();
    let code = r#"
        import * as fs from "fs";
        fs.writeFileSync("./workspace/notes.txt", "kept");
        console.log(fs.readFileSync("./workspace/notes.txt", "utf8"));
        const tries = ["/etc/passwd", "../etc/passwd", "./servers/../../etc/passwd", "/servers/../etc/passwd",
                       "./workspace/etc/passwd", "./workspace/../../etc/passwd", "./main.js", "/"];
        for (const path of tries) {
            try { fs.readFileSync(path); console.log(path, "READ") } catch (e) { console.log(path, e.code) }
        }
        for (const path of ["./notes.txt", "/tmp/x", "../x"]) {
            try { fs.writeFileSync(path, "x"); console.log(path, "WRITTEN") } catch (e) { console.log(path, e.code) }
        }"#;
    let result = run_in(&session, code, Language::JavaScript, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(), "kept");
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(lines[0], "kept");
    assert!(!result.stdout.contains("READ") && !result.stdout.contains("WRITTEN"), "{}", result.stdout);
    let codes: Vec<&str> = lines[1..].iter().map(|line| line.rsplit(' ').next().unwrap()).collect();
    // Paths leaving the tree are refused by name; the symlink out of the
    // workspace by WASI; the root is a folder.
    assert_eq!(
        codes,
        ["EACCES", "EACCES", "EACCES", "EACCES", "EACCES", "EACCES", "EACCES", "EISDIR", "EACCES", "EACCES", "EACCES"]
    );
}

#[tokio::test]
async fn the_index_follows_a_real_server_s_tool_list_changes() {
    let runtime = crate::support::runtime_with(&["records"], Value::Null).await;
    let session = runtime.session().unwrap();
    let search = r#"
        import { searchTools } from "airlock";
        console.log((await searchTools("zebra crossing", "name", 1)).map((f) => f.name).join(","));"#;
    let before = run_in(&session, search, Language::JavaScript, &Limits::default()).await;
    assert_ok(&before);
    assert_eq!(before.stdout, "\n");
    // The server registers a tool and sends tools/list_changed.
    let add = r#"import { addTool } from "./servers/records"; console.log(await addTool({ name: "zebra_crossing" }));"#;
    assert_ok(&run_in(&session, add, Language::JavaScript, &Limits::default()).await);
    let after = run_in(&session, search, Language::JavaScript, &Limits::default()).await;
    assert_ok(&after);
    assert_eq!(after.stdout, "records.zebra_crossing\n");
    runtime.shutdown().await;
}
