//! `airlock bench tokens`: the context a model pays for, direct tool
//! calling against code mode, on the scenarios the code-execution-with-MCP
//! literature quotes, replayed against real servers (the 500-tool catalog
//! server and the others of `bench/discovery.json`).
//!
//! Direct tool calling puts every tool definition in context, and every
//! call's arguments and result. Code mode puts Airlock's own tools, the
//! search results the agent needed, the code it wrote and what the code
//! printed. Results are counted as the text a model sees (compact JSON for
//! direct results, a lower bound; the text content of Airlock's results).

use airlock::discovery::Detail;
use airlock::{Language, Runtime, Session};
use airlock_serve::tokens::{TOKENIZER, count};
use airlock_serve::{CodeModeServer, tool_result};
use anyhow::{Context, bail};
use rmcp::model::CallToolResult;
use serde_json::{Value, json};

/// One scenario's context, part by part.
struct Scenario {
    title: String,
    direct: Vec<(String, usize)>,
    code: Vec<(String, usize)>,
}

impl Scenario {
    fn direct_total(&self) -> usize {
        self.direct.iter().map(|(_, n)| n).sum()
    }

    fn code_total(&self) -> usize {
        self.code.iter().map(|(_, n)| n).sum()
    }
}

/// The server every scenario runs against.
const CATALOG: &str = "catalog";

/// Runs the scenarios against the servers of `config` (which must include
/// the catalog server) and prints the table.
pub async fn bench_tokens(config: &airlock::Config) -> anyhow::Result<()> {
    if !config.servers.contains_key(CATALOG) {
        bail!("the config has no '{CATALOG}' server (use bench/discovery.json)");
    }
    let runtime = Runtime::builder().config(config).build().await?;
    let outcome = scenarios(&runtime).await;
    runtime.shutdown().await;
    let scenarios = outcome?;
    print_table(&scenarios);
    Ok(())
}

async fn scenarios(runtime: &Runtime) -> anyhow::Result<Vec<Scenario>> {
    let mut all_definitions = Vec::new();
    let servers: Vec<String> = runtime.tools().servers().into_iter().map(String::from).collect();
    for server in &servers {
        let listing = runtime.tools().listing(server).await.with_context(|| format!("listing {server}"))?;
        all_definitions.extend(listing.definitions.iter().cloned());
    }
    let session = runtime.session()?;
    let code_mode_tools = CodeModeServer::new(runtime.clone(), runtime.session()?).tools().await;

    let definitions = Scenario {
        title: format!("(a) tool definitions: {} tools on {} servers", all_definitions.len(), servers.len()),
        direct: vec![(
            "every definition, as tools/list returns it".into(),
            count(&serde_json::to_string(&all_definitions)?),
        )],
        code: vec![(
            format!("Airlock's {} tools, as tools/list returns them", code_mode_tools.len()),
            count(&serde_json::to_string(&code_mode_tools)?),
        )],
    };

    let filter = replay(
        runtime,
        &session,
        "(b) 10,000-row result filtered to a summary",
        "list the deals in the CRM",
        &[("crm_list_deals", json!({"limit": 10000}))],
        r#"import { crmListDeals } from "./servers/catalog";
const { deals } = await crmListDeals({ limit: 10000 });
const hot = deals.filter((d) => d.stage === "negotiation" && d.amount >= 20000);
const byRegion = {};
for (const d of hot) byRegion[d.region] = (byRegion[d.region] ?? 0) + d.amount;
console.log(`${hot.length} of ${deals.length} deals are in negotiation and worth 20k or more`);
for (const [region, total] of Object.entries(byRegion)) console.log(region, Math.round(total));
hot.sort((a, b) => b.amount - a.amount);
console.log("largest:", hot.slice(0, 3).map((d) => `${d.name} (${d.owner}, ${d.amount} ${d.currency})`).join("; "));"#,
    )
    .await?;

    let document = call_directly(runtime, "docs_get_document", json!({"document_id": "doc_7f3a9c21e4"})).await?;
    let content = document["content"].as_str().unwrap_or_default().to_string();
    let copy = replay(
        runtime,
        &session,
        &format!("(c) a {} KB document copied from one tool to another", content.len() / 1000),
        "read a document and create a new document",
        &[
            ("docs_get_document", json!({"document_id": "doc_7f3a9c21e4"})),
            (
                "docs_create_document",
                json!({"title": "Copy of the sync notes", "content": content, "format": "plain_text"}),
            ),
        ],
        r#"import { docsGetDocument, docsCreateDocument } from "./servers/catalog";
const doc = await docsGetDocument({ document_id: "doc_7f3a9c21e4" });
const copy = await docsCreateDocument({ title: "Copy of the sync notes", content: doc.content, format: "plain_text" });
console.log(`copied ${copy.bytes_received} bytes to ${copy.document_id}`);"#,
    )
    .await?;

    let calls: Vec<(&str, Value)> = (0..20).map(|i| ("tickets_get_ticket", json!({"ticket_id": 48200 + i}))).collect();
    let looped = replay(
        runtime,
        &session,
        "(d) a 20-step loop of tool calls",
        "get a support ticket by its id",
        &calls,
        r#"import { ticketsGetTicket } from "./servers/catalog";
const tickets = [];
for (let id = 48200; id < 48220; id++) tickets.push(await ticketsGetTicket({ ticket_id: id }));
const pressing = tickets.filter((t) => t.priority === "urgent" || t.priority === "high");
console.log(`${pressing.length} of ${tickets.length} are high or urgent:`);
for (const t of pressing) console.log(`#${t.ticket_id} ${t.status} ${t.subject}`);"#,
    )
    .await?;
    Ok(vec![definitions, filter, copy, looped])
}

/// A task done both ways: `calls` made directly (each call's arguments and
/// result in context) and `code` run by Airlock (the search for the tools,
/// the code, and what it printed).
async fn replay(
    runtime: &Runtime,
    session: &Session,
    title: &str,
    search: &str,
    calls: &[(&str, Value)],
    code: &str,
) -> anyhow::Result<Scenario> {
    let mut arguments = 0;
    let mut results = 0;
    for (tool, args) in calls {
        arguments += count(&json!({"name": tool, "arguments": args}).to_string());
        let result = call_directly(runtime, tool, args.clone()).await?;
        results += count(&serde_json::to_string(&result)?);
    }
    let plural = if calls.len() == 1 { "" } else { "s" };
    let direct = vec![
        (format!("{} call{plural}: arguments the model writes", calls.len()), arguments),
        (format!("{} result{plural} in context", calls.len()), results),
    ];

    let request = json!({"query": search, "detail": "full", "limit": 3});
    let found = runtime.search_tools(search, Detail::Full, 3).await;
    let executed = session.execute(code, Language::JavaScript).await?;
    if let Some(error) = &executed.error {
        bail!("{title}: the code failed: {error}\n{}", executed.stderr);
    }
    let returned = text_of(&tool_result(&executed, session.stats()));
    let code_mode = vec![
        ("search_tools call and result (detail full, 3)".into(), count(&request.to_string()) + count(&found.to_text())),
        ("the code (execute_code arguments)".into(), count(&json!({"code": code}).to_string())),
        ("what the code printed".into(), count(&returned)),
    ];
    Ok(Scenario { title: title.into(), direct, code: code_mode })
}

/// Calls a catalog tool the way a direct MCP client would: straight to the
/// server, with no Airlock boundary in between.
async fn call_directly(runtime: &Runtime, tool: &str, arguments: Value) -> anyhow::Result<Value> {
    let pool = runtime.tools().upstream().context("no upstream servers")?;
    pool.call(CATALOG, tool, arguments).await.map_err(|e| anyhow::anyhow!("{tool}: {e}"))
}

fn text_of(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|block| block.as_text().map(|text| text.text.as_str())).collect()
}

fn reduction(direct: usize, code: usize) -> String {
    if direct == 0 {
        return "-".into();
    }
    format!("{:.2}%", 100.0 * (1.0 - code as f64 / direct as f64))
}

fn print_table(scenarios: &[Scenario]) {
    println!("Context tokens ({TOKENIZER}): direct tool calling vs Airlock code mode, against real servers");
    println!("{:<62} {:>10} {:>10} {:>10}", "scenario", "direct", "code mode", "reduction");
    for scenario in scenarios {
        let (direct, code) = (scenario.direct_total(), scenario.code_total());
        println!("{:<62} {direct:>10} {code:>10} {:>10}", scenario.title, reduction(direct, code));
        for (part, tokens) in &scenario.direct {
            println!("    direct: {part:<50} {tokens:>10}");
        }
        for (part, tokens) in &scenario.code {
            println!("    code:   {part:<50} {:>10} {tokens:>10}", "");
        }
    }
    let (a, b) = (&scenarios[0], &scenarios[1]);
    let direct = a.direct_total() + b.direct_total();
    let code = a.code_total() + b.code_total();
    println!("{:<62} {direct:>10} {code:>10} {:>10}", "(a)+(b) overall", reduction(direct, code));
}
