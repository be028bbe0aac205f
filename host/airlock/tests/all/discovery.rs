//! Progressive discovery from guest code: the `./servers` tree of generated
//! declarations, `searchTools`, and the rest of the tree staying shut.

use crate::support::{assert_ok, builder, run_in, run_js, runtime_with};
use airlock::discovery::{Detail, ToolIndex, ToolMatch};
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

/// The index over the listed tools of `servers` of a running runtime.
async fn index_of(runtime: &Runtime) -> ToolIndex {
    let mut listings = Vec::new();
    for server in runtime.tools().servers() {
        listings.push((server.to_string(), runtime.tools().listing(server).await.expect("listing")));
    }
    ToolIndex::new(&listings)
}

/// The row named `name` and the one after it.
fn row_and_next<'a>(found: &'a [ToolMatch], name: &str) -> (&'a ToolMatch, Option<&'a ToolMatch>) {
    let at = found.iter().position(|m| m.name == name).unwrap_or_else(|| panic!("{name} not in {found:#?}"));
    (&found[at], found.get(at + 1))
}

#[tokio::test]
async fn on_the_catalog_server_a_tool_needing_an_id_brings_the_tool_that_lists_it() {
    let runtime = runtime_with(&["catalog"], Value::Null).await;
    let index = index_of(&runtime).await;

    // The rule holds for every tool of the catalog: each giver lists,
    // searches or finds (or `get`s, plural) the id's resource, on the same
    // server, and does not itself require the id.
    let listing = runtime.tools().listing("catalog").await.unwrap();
    let (mut ids, mut given) = (0, 0);
    for tool in listing.definitions.iter() {
        let required: Vec<&str> = tool.input_schema["required"]
            .as_array()
            .map(|r| {
                r.iter().filter_map(Value::as_str).filter(|id| id.ends_with("_id") || id.ends_with("_ids")).collect()
            })
            .unwrap_or_default();
        ids += required.len();
        for (id, giver) in index.needs(&format!("catalog.{}", tool.name)) {
            given += 1;
            assert!(required.contains(&id.as_str()), "{} does not require {id}", tool.name);
            let giver_tool = giver.strip_prefix("catalog.").expect("a giver on the same server");
            let resource = id.trim_end_matches("_ids").trim_end_matches("_id").rsplit('_').next().unwrap();
            let plural = airlock::discovery::plural(resource);
            assert!(
                ["list", "search", "find", "query", "get"].iter().any(|verb| giver_tool.contains(&format!("{verb}_")))
                    && (giver_tool.ends_with(&plural) || giver_tool.ends_with(resource)),
                "{} needs {id}: {giver} does not list it",
                tool.name
            );
            let giver_definition = listing.definitions.iter().find(|t| t.name == giver_tool).unwrap();
            let giver_required = giver_definition.input_schema["required"].as_array().cloned().unwrap_or_default();
            assert!(!giver_required.contains(&json!(id)), "{giver} requires {id} itself");
        }
    }
    // Most required ids have a giver (the rest name things no tool lists).
    eprintln!("{given} of {ids} required ids have a giver");
    assert!(given * 10 >= ids * 8, "{given} of {ids} required ids have a giver");
    assert_eq!(
        index.needs("catalog.billing_cancel_subscription"),
        [("subscription_id".to_string(), "catalog.billing_list_subscriptions".to_string())]
    );
    // A qualified id names its resource last.
    assert!(
        index
            .needs("catalog.inventory_transfer_stock")
            .contains(&("from_warehouse_id".to_string(), "catalog.inventory_list_warehouses".to_string())),
        "{:?}",
        index.needs("catalog.inventory_transfer_stock")
    );

    // A search brings the companion right after the tool, marked, and the
    // text says what each needs and gives.
    let found = runtime.search_tools("cancel the subscription at the end of the period", Detail::Name, 5).await;
    let (cancel, next) = row_and_next(&found.matches, "catalog.billing_cancel_subscription");
    assert_eq!(cancel.needs, ["subscription_id"]);
    let next = next.expect("a companion row");
    assert_eq!(
        (next.name.as_str(), next.gives.as_slice()),
        ("catalog.billing_list_subscriptions", &["subscription_id".to_string()][..])
    );
    let text = found.to_text();
    assert!(text.starts_with("catalog: "), "{text}");
    assert!(
        text.contains("billing_cancel_subscription(subscription_id), billing_list_subscriptions → subscription_id"),
        "{text}"
    );

    // Agent code sees the same needs and gives, in both languages.
    let session = runtime.session().unwrap();
    let js = r#"
        import { searchTools } from "airlock";
        const found = await searchTools("cancel the subscription at the end of the period", "name", 5);
        const at = found.findIndex((f) => f.name === "catalog.billing_cancel_subscription");
        console.log(JSON.stringify([found[at].needs, found[at + 1].name, found[at + 1].gives]));
        console.log(found.filter((f) => !f.needs && !f.gives).every((f) => !("needs" in f) && !("gives" in f)));"#;
    let result = run_in(&session, js, Language::JavaScript, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(
        result.stdout,
        "[[\"subscription_id\"],\"catalog.billing_list_subscriptions\",[\"subscription_id\"]]\ntrue\n"
    );
    let python = r#"
import json
from airlock import search_tools
found = search_tools("cancel the subscription at the end of the period", "name", 5)
at = [f["name"] for f in found].index("catalog.billing_cancel_subscription")
print(json.dumps([found[at]["needs"], found[at + 1]["name"], found[at + 1]["gives"]]))"#;
    let result = run_in(&session, python, Language::Python, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(
        result.stdout,
        "[[\"subscription_id\"], \"catalog.billing_list_subscriptions\", [\"subscription_id\"]]\n"
    );
    runtime.shutdown().await;
}

#[tokio::test]
async fn on_the_slack_reference_server_posting_brings_the_channel_list() {
    let runtime = runtime_with(&["slack"], Value::Null).await;
    let index = index_of(&runtime).await;
    let pair = |id: &str, giver: &str| (id.to_string(), giver.to_string());
    assert_eq!(index.needs("slack.slack_post_message"), [pair("channel_id", "slack.slack_list_channels")]);
    assert_eq!(index.needs("slack.slack_get_channel_history"), [pair("channel_id", "slack.slack_list_channels")]);
    // `slack_get_users` lists users: a plural after `get`.
    assert_eq!(index.needs("slack.slack_get_user_profile"), [pair("user_id", "slack.slack_get_users")]);
    // `thread_ts` is not an id parameter; listing tools need nothing.
    assert_eq!(index.needs("slack.slack_reply_to_thread"), [pair("channel_id", "slack.slack_list_channels")]);
    assert!(index.needs("slack.slack_list_channels").is_empty());

    let found = runtime.search_tools("post a message to the releases channel", Detail::Description, 4).await;
    let (post, next) = row_and_next(&found.matches, "slack.slack_post_message");
    assert_eq!(post.needs, ["channel_id"]);
    let next = next.expect("a companion row");
    assert_eq!(next.name, "slack.slack_list_channels");
    assert_eq!(next.gives, ["channel_id"]);
    let text = found.to_text();
    assert!(text.contains("slack.slack_post_message(channel_id) — Post a new message"), "{text}");
    // What `airlock serve` sends as structured content.
    let structured = serde_json::to_value(&found).unwrap();
    let rows = structured["matches"].as_array().unwrap();
    let post = rows.iter().position(|row| row["name"] == "slack.slack_post_message").unwrap();
    assert_eq!(rows[post]["needs"], json!(["channel_id"]));
    assert_eq!(rows[post + 1]["gives"], json!(["channel_id"]));
    assert!(rows[post + 1].get("needs").is_none(), "empty lists are left out: {}", rows[post + 1]);
    runtime.shutdown().await;
}
