//! Embedding Airlock in a tokio application with an in-process tool.
//!
//! Run with `cargo run -p airlock --example embed`.

use airlock::{Language, Limits, Runtime, ToolDefinition, ToolError};
use serde_json::{Value, json};

/// The application's own data, offered to agent code as a tool.
async fn list_orders(args: Value) -> Result<Value, ToolError> {
    let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(100);
    if limit > 10_000 {
        return Err(ToolError::InvalidArguments("limit must be at most 10000".into()));
    }
    let orders: Vec<Value> = (0..limit)
        .map(|i| json!({ "id": i, "amount": (i * 37) % 2000, "status": if i % 3 == 0 { "pending" } else { "paid" } }))
        .collect();
    Ok(json!({ "orders": orders }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Built once at start-up; clone it freely across tasks.
    let runtime = Runtime::builder()
        .tool(
            "shop",
            ToolDefinition::new("listOrders")
                .description("Lists recent orders.")
                .input_schema(json!({"type": "object", "properties": {"limit": {"type": "integer"}}})),
            list_orders,
        )
        .limits(Limits { timeout: std::time::Duration::from_secs(5), ..Limits::default() })
        .build()
        .await?;

    // Code an agent wrote: the 10,000 orders stay in the sandbox; only
    // the summary comes back.
    let code = r#"
        import { callTool } from "airlock";
        const { orders } = await callTool("shop", "listOrders", { limit: 10000 });
        const pending = orders.filter((o) => o.status === "pending" && o.amount > 1000);
        console.log(`${pending.length} large pending orders, first: ${pending[0].id}`);
    "#;
    let session = runtime.session()?;
    let result = session.execute(code, Language::JavaScript).await?;
    print!("{}", result.stdout);
    if let Some(error) = &result.error {
        eprintln!("the code failed: {error}");
    }
    println!(
        "stats: {} fuel, {:?}, {} KiB peak memory, {} tool call(s)",
        result.stats.fuel_used,
        result.stats.wall_time,
        result.stats.peak_memory / 1024,
        result.stats.tool_calls
    );
    Ok(())
}
