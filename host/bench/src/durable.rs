//! Durable executions, in one run: what resuming a paused execution costs
//! when its journal holds 100 answered calls, beside the same code run
//! unpaused; and what keeping the journal costs an execution that never
//! pauses, beside a runtime that keeps none (no approval rules).

use std::time::{Duration, Instant};

use airlock::{ApprovalRequest, ApprovalSettings, Decision, Language, Runtime, RuntimeBuilder, ToolDefinition};
use anyhow::Context;
use serde_json::{Value, json};

use super::core::{FILTER_JS, check, micros, millis, percentile, records_result};

/// Calls answered before the pause.
const CALLS: usize = 100;
/// Measured runs of each kind.
const RUNS: usize = 30;

/// A lookup per id, then the gated delete: the delete waits for approval.
fn code() -> String {
    format!(
        "import {{ lookup, remove }} from './servers/crm';\n\
         let total = 0;\n\
         for (let id = 0; id < {CALLS}; id++) total += (await lookup({{ id }})).balance;\n\
         const removed = await remove({{ id: 1 }});\n\
         console.log(total, removed.removed);"
    )
}

/// `crm.lookup` (in-process, answers at once) and `crm.remove` (gated),
/// keeping paused executions in `data`.
fn crm(data: &std::path::Path) -> anyhow::Result<RuntimeBuilder> {
    let lookup = |args: Value| async move { Ok(json!({"id": args["id"], "name": "Customer", "balance": 10})) };
    let remove = |_: Value| async { Ok(json!({"removed": true})) };
    let rules: ApprovalSettings = serde_json::from_value(json!({"require": [{"tools": "crm.remove"}]}))?;
    Ok(Runtime::builder()
        .data_dir(Some(data.to_path_buf()))
        .tool("crm", ToolDefinition::new("lookup"), lookup)
        .tool("crm", ToolDefinition::new("remove"), remove)
        .approvals(rules))
}

/// Prints the replay and journaling figures.
pub async fn bench_durable() -> anyhow::Result<()> {
    bench_replay().await?;
    bench_journaling().await
}

/// Resuming after 100 recorded calls, beside running unpaused.
async fn bench_replay() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let approving = crm(data.path())?.approver(|_: ApprovalRequest| async { Decision::Approve }).build().await?;
    let pausing = crm(data.path())?.approver(|_: ApprovalRequest| async { Decision::Pause }).build().await?;
    let code = code();
    let expected = format!("{} true\n", CALLS * 10);
    let (mut unpaused, mut to_pause, mut resumes) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..RUNS + 3 {
        let started = Instant::now();
        let whole = check(approving.session()?.execute(&code, Language::JavaScript).await?)?;
        let whole_time = started.elapsed();
        anyhow::ensure!(whole.stdout == expected, "the unpaused run printed {:?}", whole.stdout);

        let started = Instant::now();
        let paused = pausing.session()?.execute(&code, Language::JavaScript).await?;
        let pause_time = started.elapsed();
        let id = paused.paused.context("the execution did not pause")?.execution_id;
        // Resumed in a session of its own, as after a restart.
        let session = approving.session()?;
        let started = Instant::now();
        let resumed = check(session.resume(&id, Decision::Approve).await?)?;
        let resume_time = started.elapsed();
        anyhow::ensure!(resumed.stdout == expected, "the resumed run printed {:?}", resumed.stdout);
        if round >= 3 {
            unpaused.push(whole_time);
            to_pause.push(pause_time);
            resumes.push(resume_time);
        }
    }
    approving.shutdown().await;
    pausing.shutdown().await;
    for times in [&mut unpaused, &mut to_pause, &mut resumes] {
        times.sort_unstable();
    }
    let (whole, paused, resumed) = (percentile(&unpaused, 50), percentile(&to_pause, 50), percentile(&resumes, 50));
    println!();
    println!("Durable executions ({CALLS} in-process calls, then a gated one; p50 of {RUNS})");
    let row = |name: &str, value: String| println!("{name:<58} {value:>14}");
    row("the code run unpaused, approved at once", millis(whole));
    row("run until it pauses (journal sealed and stored)", millis(paused));
    row(&format!("resume: replay {CALLS} recorded calls, then go live"), millis(resumed));
    row("resume beyond the unpaused run (difference)", signed_millis(resumed, whole));
    Ok(())
}

/// `a - b` in milliseconds, with its sign.
fn signed_millis(a: Duration, b: Duration) -> String {
    format!("{:+.2} ms", (a.as_secs_f64() - b.as_secs_f64()) * 1e3)
}

/// A runtime with the 10,000-record tool and an echo tool; `journaling`
/// adds an approval rule that gates nothing, so that every execution keeps
/// the journal a pause would need.
async fn tools_runtime(journaling: bool) -> anyhow::Result<Runtime> {
    let data = std::sync::Arc::new(records_result());
    let records = move |_: Value| {
        let data = data.clone();
        async move { Ok(Value::clone(&data)) }
    };
    let mut builder = Runtime::builder()
        .data_dir(None)
        .tool("bench", ToolDefinition::new("echo"), |args: Value| async move { Ok(args) })
        .tool("bench", ToolDefinition::new("records"), records);
    if journaling {
        builder = builder.approvals(serde_json::from_value(json!({"require": [{"tools": "bench.never_*"}]}))?);
    }
    Ok(builder.build().await?)
}

/// Echo calls per execution of the per-call figure.
const ECHO_CALLS: u32 = 2000;

/// The 10,000-record filter and a run of echo calls, each on a runtime that
/// keeps a journal and one that does not, alternating.
async fn bench_journaling() -> anyhow::Result<()> {
    let (plain, journaled) = (tools_runtime(false).await?, tools_runtime(true).await?);
    let (plain_session, journaled_session) = (plain.session()?, journaled.session()?);
    let echo = format!(
        "import {{ callTool }} from 'airlock'; for (let i = 0; i < {ECHO_CALLS}; i++) await callTool('bench', 'echo', {{ i }});"
    );
    let limits = airlock::Limits { tool_calls: ECHO_CALLS, ..airlock::Limits::default() };
    let (mut filters, mut echoes) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for round in 0..RUNS + 3 {
        for (side, session) in [&plain_session, &journaled_session].into_iter().enumerate() {
            let filtered = check(session.execute(FILTER_JS, Language::JavaScript).await?)?;
            let echoed = check(session.execute_with_limits(&echo, Language::JavaScript, &limits).await?)?;
            if round >= 3 {
                filters[side].push(filtered.stats.wall_time);
                echoes[side].push(echoed.stats.wall_time);
            }
        }
    }
    plain.shutdown().await;
    journaled.shutdown().await;
    let p50 = |times: &mut Vec<Duration>| {
        times.sort_unstable();
        percentile(times, 50)
    };
    let (filter_plain, filter_journaled) = (p50(&mut filters[0]), p50(&mut filters[1]));
    let (echo_plain, echo_journaled) = (p50(&mut echoes[0]), p50(&mut echoes[1]));
    println!();
    println!("Journaling an execution that never pauses (p50 of {RUNS}, alternating)");
    let row = |name: &str, value: String| println!("{name:<58} {value:>14}");
    row("10,000-record filter, no journal (no approval rules)", millis(filter_plain));
    row("10,000-record filter, journaled", millis(filter_journaled));
    row(
        "journaling cost on the filter",
        format!("{:+.1} %", (filter_journaled.as_secs_f64() / filter_plain.as_secs_f64() - 1.0) * 100.0),
    );
    let per_call = |total: Duration| total / ECHO_CALLS;
    row(&format!("tool call in a run of {ECHO_CALLS}, no journal"), micros(per_call(echo_plain)));
    row(&format!("tool call in a run of {ECHO_CALLS}, journaled"), micros(per_call(echo_journaled)));
    row(
        "journaling cost per call",
        format!("{:+.2} µs", (echo_journaled.as_secs_f64() - echo_plain.as_secs_f64()) * 1e6 / f64::from(ECHO_CALLS)),
    );
    Ok(())
}
