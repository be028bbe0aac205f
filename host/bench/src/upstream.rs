//! `airlock bench --upstream FILE`: what Airlock adds to a tool call on a
//! real MCP server, against calling the same server with `rmcp` directly
//! in the same process, side by side in one run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use airlock::{Config, Language, Limits, Runtime, Session};

use super::core::{check, micros, millis, percentile};
use anyhow::{Context, bail};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{Peer, RoleClient};
use rmcp::transport::TokioChildProcess;
use serde_json::json;

/// Executions (each of `CALLS_PER_EXECUTION` sequential calls) measured.
const EXECUTIONS: usize = 30;
const CALLS_PER_EXECUTION: usize = 50;

/// Prints the upstream figures for the `records` server of `config`.
pub async fn bench_upstream(config: &Config) -> anyhow::Result<()> {
    let server =
        config.servers.get("records").context("the --upstream config needs a `records` server (bench/mcp.json)")?;
    let command = server.command.clone().context("the records server must be a stdio server")?;

    // Direct: a plain rmcp client on its own copy of the server.
    let mut cmd = tokio::process::Command::new(&command);
    cmd.args(&server.args).kill_on_drop(true);
    let direct = ().serve(TokioChildProcess::new(cmd)?).await.context("starting the records server for rmcp")?;
    for _ in 0..50 {
        direct.call_tool(add()).await?;
    }

    // Through Airlock: guest → host → rmcp → server and back.
    let runtime = Runtime::builder().config(config).build().await?;
    let session = Arc::new(runtime.session()?);
    let limits = Limits { tool_calls: CALLS_PER_EXECUTION as u32 + 1, ..Limits::default() };
    let calls = format!(
        "import {{ add }} from './servers/records'; for (let i = 0; i < {CALLS_PER_EXECUTION}; i++) await add({{ a: 2, b: 3 }});"
    );
    check(session.execute_with_limits(&calls, Language::JavaScript, &limits).await?)?;
    // The host side alone: the pool's call (validation, rmcp, result
    // mapping) without the guest.
    let pool = runtime.tools().upstream().context("the runtime has no upstream pool")?.clone();
    // Each side is measured the same way (the mean of a batch of sequential
    // calls), in rounds ordered direct, pool, guest, pool, direct: a drift
    // of machine speed within a round, and whatever one batch leaves behind
    // for the next, then hit the direct and the pool side alike. Each
    // overhead is the median of the rounds' differences. The direct and
    // pool batches run as runtime tasks, where rmcp is at its fastest (an
    // answer wakes the task on the worker that read it) and where an
    // execution runs; rmcp is also timed from `block_on`, as this
    // function's own future runs, to show what that placement costs. The
    // guest's batch runs twice: driven from here (the runtime then runs it
    // as a task of its own) and started inside a task, as `airlock serve`
    // runs an execution.
    let peer = direct.peer().clone();
    let (mut direct_calls, mut airlock_calls, mut pool_calls) = (Vec::new(), Vec::new(), Vec::new());
    let (mut overheads, mut pool_overheads, mut outside_calls) = (Vec::new(), Vec::new(), Vec::new());
    let mut task_overheads = Vec::new();
    // The host's own timing of each call (the runtime's metrics), to split
    // a guest's call into the host's part and the guest's.
    let (mut in_host, mut host_calls) = (0.0, 0.0);
    for round in 0..EXECUTIONS {
        let direct_before = as_task(direct_batch(peer.clone())).await?;
        let pool_before = as_task(pool_batch(pool.clone())).await?;
        let timed_before = tool_call_seconds(&runtime, "records")?;
        // The two placements take turns going first: the first execution
        // after a batch runs slower, whichever it is.
        let (here, in_task) = if round % 2 == 0 {
            let here = guest_batch(&session, &calls, &limits).await?;
            (here, as_task(guest_batch_owned(session.clone(), calls.clone(), limits.clone())).await?)
        } else {
            let in_task = as_task(guest_batch_owned(session.clone(), calls.clone(), limits.clone())).await?;
            (guest_batch(&session, &calls, &limits).await?, in_task)
        };
        let timed_after = tool_call_seconds(&runtime, "records")?;
        in_host += timed_after.0 - timed_before.0;
        host_calls += timed_after.1 - timed_before.1;
        let pool_after = as_task(pool_batch(pool.clone())).await?;
        let direct_after = as_task(direct_batch(peer.clone())).await?;
        outside_calls.push(Duration::from_secs_f64(direct_batch(peer.clone()).await?));
        let (direct_call, pool_call) = ((direct_before + direct_after) / 2.0, (pool_before + pool_after) / 2.0);
        overheads.push(here - direct_call);
        task_overheads.push(in_task - direct_call);
        pool_overheads.push(pool_call - direct_call);
        direct_calls.push(Duration::from_secs_f64(direct_call));
        pool_calls.push(Duration::from_secs_f64(pool_call));
        airlock_calls.push(Duration::from_secs_f64(here));
        airlock_calls.push(Duration::from_secs_f64(in_task));
    }
    // The execution's own set-up (instance, module graph, no call): the
    // share of the per-call figure that is not per call.
    let idle = "import { add } from './servers/records'; void add;";
    let mut idle_runs = Vec::new();
    for _ in 0..EXECUTIONS {
        idle_runs.push(check(session.execute_with_limits(idle, Language::JavaScript, &limits).await?)?.stats.wall_time);
    }
    let filter = r#"
        import { listRecords } from "./servers/records";
        const { records } = await listRecords({ limit: 10000 });
        const pending = records.filter((r) => r.status === "pending" && r.amount > 1000);
        console.log(pending.length, records.length);"#;
    // Listed only after the rounds, on both servers alike: 10,000 records
    // leave a Python server's heap larger, and its next calls slower.
    let list = CallToolRequestParams::new("list_records")
        .with_arguments(json!({"limit": 10000}).as_object().cloned().unwrap_or_default());
    let (mut direct_lists, mut airlock_lists) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let started = Instant::now();
        direct.call_tool(list.clone()).await?;
        direct_lists.push(started.elapsed());
        let result = check(session.execute(filter, Language::JavaScript).await?)?;
        if !result.stdout.trim_end().ends_with(" 10000") {
            bail!("the filter printed {:?}", result.stdout);
        }
        airlock_lists.push(result.stats.wall_time);
    }
    runtime.shutdown().await;
    let _ = direct.cancel().await;

    let (direct_call, airlock_call) = (median(&mut direct_calls), median(&mut airlock_calls));
    let (direct_list, airlock_list) = (median(&mut direct_lists), median(&mut airlock_lists));
    println!();
    println!("Upstream tool calls (records server, Python MCP SDK, stdio)");
    let row = |name: &str, value: String| println!("{name:<58} {value:>14}");
    row("tool call, rmcp directly from a task (p50, 50-call means)", micros(direct_call));
    row("  the same from block_on, outside the workers (p50)", micros(median(&mut outside_calls)));
    row("tool call through Airlock's host pool, no guest (p50)", micros(median(&mut pool_calls)));
    row("tool call through Airlock, guest → server → guest (p50)", micros(airlock_call));
    let host_part = in_host / host_calls.max(1.0);
    row("  of which in the host's tool call (its metrics, mean)", format!("{:.1} µs", host_part * 1e6));
    row(
        "  of which in the guest: between calls, set-up (mean)",
        format!("{:.1} µs", (mean(&airlock_calls) - host_part) * 1e6),
    );
    row(
        "overhead of the host pool alone (p50 of paired rounds)",
        format!("{:.1} µs", median_f64(&mut pool_overheads) * 1e6),
    );
    row("overhead Airlock adds per call (p50 of paired rounds)", format!("{:.1} µs", median_f64(&mut overheads) * 1e6));
    row(
        "  the same, the execution started in a task, as serve does",
        format!("{:.1} µs", median_f64(&mut task_overheads) * 1e6),
    );
    row("execution set-up alone, no call (p50)", micros(median(&mut idle_runs)));
    row("10,000 records (list_records), rmcp directly (p50)", millis(direct_list));
    row("10,000 records reach the guest and are filtered (p50)", millis(airlock_list));
    row("beyond the server's own time (difference)", millis(airlock_list.saturating_sub(direct_list)));
    Ok(())
}

/// Runs a batch as a runtime task and waits for its figure.
async fn as_task(batch: impl Future<Output = anyhow::Result<f64>> + Send + 'static) -> anyhow::Result<f64> {
    tokio::spawn(batch).await?
}

/// The mean seconds per call of the guest's batch of calls, one execution.
async fn guest_batch(session: &Session, calls: &str, limits: &Limits) -> anyhow::Result<f64> {
    let result = check(session.execute_with_limits(calls, Language::JavaScript, limits).await?)?;
    Ok(result.stats.wall_time.as_secs_f64() / CALLS_PER_EXECUTION as f64)
}

/// [`guest_batch`] for a task, which owns what it uses.
async fn guest_batch_owned(session: Arc<Session>, calls: String, limits: Limits) -> anyhow::Result<f64> {
    guest_batch(&session, &calls, &limits).await
}

/// The mean seconds per call of a batch of direct rmcp calls.
async fn direct_batch(direct: Peer<RoleClient>) -> anyhow::Result<f64> {
    let started = Instant::now();
    for _ in 0..CALLS_PER_EXECUTION {
        direct.call_tool(add()).await?;
    }
    Ok(started.elapsed().as_secs_f64() / CALLS_PER_EXECUTION as f64)
}

/// The mean seconds per call of a batch through the host pool, no guest.
async fn pool_batch(pool: Arc<airlock::UpstreamPool>) -> anyhow::Result<f64> {
    let started = Instant::now();
    for _ in 0..CALLS_PER_EXECUTION {
        pool.call("records", "add", json!({"a": 2, "b": 3})).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(started.elapsed().as_secs_f64() / CALLS_PER_EXECUTION as f64)
}

/// The call of `add` both sides make.
fn add() -> CallToolRequestParams {
    CallToolRequestParams::new("add").with_arguments(json!({"a": 2, "b": 3}).as_object().cloned().unwrap_or_default())
}

/// The sum of seconds and the count of `server`'s tool calls in the
/// runtime's metrics; an error if they are missing, rather than a split
/// computed from zeros.
fn tool_call_seconds(runtime: &Runtime, server: &str) -> anyhow::Result<(f64, f64)> {
    let text = runtime.metrics().encode();
    let value = |name: &str| {
        let key = format!("airlock_tool_call_duration_seconds_{name}{{server=\"{server}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&key)?.trim().parse::<f64>().ok())
            .with_context(|| format!("the runtime's metrics lack `{}`", key.trim_end()))
    };
    Ok((value("sum")?, value("count")?))
}

fn mean(values: &[Duration]) -> f64 {
    values.iter().map(Duration::as_secs_f64).sum::<f64>() / values.len().max(1) as f64
}

fn median_f64(values: &mut [f64]) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    values[values.len() / 2]
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort_unstable();
    percentile(values, 50)
}
