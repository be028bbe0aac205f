//! Durable executions: what resuming a paused execution costs when its
//! journal holds 100 answered calls, beside the same code run unpaused, in
//! one run.

use std::time::{Duration, Instant};

use airlock::{ApprovalRequest, ApprovalSettings, Decision, Language, Runtime, RuntimeBuilder, ToolDefinition};
use anyhow::Context;
use serde_json::{Value, json};

use super::core::{check, millis, percentile};

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

/// Prints the replay figures.
pub async fn bench_durable() -> anyhow::Result<()> {
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
