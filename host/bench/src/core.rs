//! The core runtime benchmark (`airlock-bench` with no scenario): latency,
//! throughput, host-call overhead, the 10,000-record filter, memory, and
//! `airlock run` as a whole process beside `node -e`, in one run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use airlock::{Language, Limits, Runtime, ToolDefinition};
use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};

/// Measures latency, throughput and memory, and prints the figures; a
/// scenario runs a narrower benchmark instead.
#[derive(Parser)]
#[command(name = "airlock-bench", version)]
pub struct BenchArgs {
    /// Sequential executions for the latency percentiles.
    #[arg(long, default_value_t = 2000)]
    executions: usize,
    /// Seconds to run the throughput test.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Whole-process runs of `airlock run` and `node -e`.
    #[arg(long, default_value_t = 30)]
    process_runs: usize,
    /// Also measure upstream tool calls against the `records` server of
    /// this config (`bench/mcp.json`).
    #[arg(long)]
    upstream: Option<std::path::PathBuf>,
    /// A narrower benchmark instead of the runtime's figures.
    #[command(subcommand)]
    scenario: Option<BenchScenario>,
}

/// The benchmarks of `airlock-bench <scenario>`.
#[derive(clap::Subcommand)]
pub enum BenchScenario {
    /// Context tokens, direct tool calling vs code mode, on four scenarios
    /// replayed against real servers.
    Tokens {
        /// The servers, with the 500-tool catalog server.
        #[arg(long, default_value = "bench/discovery.json")]
        config: std::path::PathBuf,
    },
    /// The cost of calling a JS skill and a component skill over inlining
    /// their work; the component skill's build and precompile times.
    Skills {
        /// Executions each way.
        #[arg(long, default_value_t = 500)]
        runs: usize,
        /// Servers with the `time` server, which the component skill calls.
        #[arg(long, default_value = "bench/discovery.json")]
        config: std::path::PathBuf,
        /// Cargo's target folder for the component skill; default: a fresh
        /// one, so its build is a first build.
        #[arg(long)]
        target_dir: Option<std::path::PathBuf>,
    },
    /// Only the durable-execution figures (also printed by the default run):
    /// resuming a paused execution against running it unpaused.
    Durable,
    /// Only the upstream figures (also printed by `--upstream`): what
    /// Airlock adds to a tool call on a real MCP server over calling it
    /// with rmcp directly.
    Upstream {
        /// The servers, with the `records` server.
        #[arg(long, default_value = "bench/mcp.json")]
        config: std::path::PathBuf,
    },
    /// Search quality on labelled task sets (task recall of a simulated
    /// agent within three searches, tokens per task, recall@5, MRR), search
    /// latency and index rebuild time.
    Search {
        /// The servers the queries are labelled against.
        #[arg(long, default_value = "bench/discovery.json")]
        config: std::path::PathBuf,
        /// A labelled task set; repeat for several (default: the tuning set
        /// and both held-out sets).
        #[arg(long = "queries")]
        queries: Vec<std::path::PathBuf>,
        /// Also print each task the agent left unsolved at the default
        /// result size, with its searches.
        #[arg(long)]
        show_misses: bool,
    },
}

const TRIVIAL: &str = "console.log(1+1)";
const TRIVIAL_PYTHON: &str = "print(1+1)";
const RECORDS: u64 = 10_000;

/// Runs the benchmarks and prints a table of figures.
pub async fn bench(args: BenchArgs) -> anyhow::Result<u8> {
    match &args.scenario {
        Some(BenchScenario::Tokens { config }) => {
            let config = airlock::Config::from_file(config)?;
            super::tokens::bench_tokens(&config).await?;
            return Ok(0);
        }
        Some(BenchScenario::Skills { runs, config, target_dir }) => {
            let config = airlock::Config::from_file(config)?;
            super::skills::bench_skills(*runs, &config, target_dir.clone()).await?;
            return Ok(0);
        }
        Some(BenchScenario::Search { config, queries, show_misses }) => {
            let config = airlock::Config::from_file(config)?;
            let sets = if queries.is_empty() {
                ["queries.json", "heldout.json", "heldout-fresh.json"]
                    .iter()
                    .map(|name| std::path::Path::new("bench/search").join(name))
                    .collect()
            } else {
                queries.clone()
            };
            super::search::bench_search(&config, &sets, *show_misses).await?;
            return Ok(0);
        }
        Some(BenchScenario::Durable) => {
            super::durable::bench_durable().await?;
            return Ok(0);
        }
        Some(BenchScenario::Upstream { config }) => {
            super::upstream::bench_upstream(&airlock::Config::from_file(config)?).await?;
            return Ok(0);
        }
        None => {}
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -- bench` (or `just bench`) for real figures"
        );
    }
    let runtime = bench_runtime().await?;
    let session = runtime.session()?;
    let limits = Limits::default();
    runtime.preload_python().await?;
    // Warm the pool slots and caches.
    for _ in 0..100 {
        check(session.execute_with_limits(TRIVIAL, Language::JavaScript, &limits).await?)?;
        check(session.execute_with_limits(TRIVIAL_PYTHON, Language::Python, &limits).await?)?;
    }

    // One language at a time: a CPython execution touches more memory than
    // a whole JS one, and interleaved it would bill JS for its cache misses.
    let (mut js, mut python) = (Cold::default(), Cold::default());
    for _ in 0..args.executions {
        js.measure(&session, TRIVIAL, Language::JavaScript, &limits).await?;
    }
    for _ in 0..args.executions {
        python.measure(&session, TRIVIAL_PYTHON, Language::Python, &limits).await?;
    }
    js.latencies.sort_unstable();
    python.latencies.sort_unstable();

    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let seconds = Duration::from_secs_f64(args.seconds);
    let throughput_js = throughput(&runtime, cores * 2, seconds, TRIVIAL, Language::JavaScript).await?;
    let throughput_python = throughput(&runtime, cores * 2, seconds, TRIVIAL_PYTHON, Language::Python).await?;
    let per_call = host_call_overhead(&runtime).await?;
    let filter = filter_records(&runtime, FILTER_JS, Language::JavaScript).await?;
    let filter_python = filter_records(&runtime, FILTER_PYTHON, Language::Python).await?;
    let (airlock_process, node_process) = whole_process(args.process_runs)?;

    println!("Airlock core runtime benchmark ({cores} cores)");
    println!("{:<58} {:>14}", "figure", "value");
    let row = |name: &str, value: String| println!("{name:<58} {value:>14}");
    row("cold execution, fresh instance, console.log(1+1): p50", micros(percentile(&js.latencies, 50)));
    row("cold execution, fresh instance, console.log(1+1): p99", micros(percentile(&js.latencies, 99)));
    row("cold execution, fresh instance, CPython print(1+1): p50", micros(percentile(&python.latencies, 50)));
    row("cold execution, fresh instance, CPython print(1+1): p99", micros(percentile(&python.latencies, 99)));
    row(&format!("trivial JS executions per second ({cores} cores)"), format!("{throughput_js:.0}/s"));
    row(&format!("trivial CPython executions per second ({cores} cores)"), format!("{throughput_python:.0}/s"));
    row("per host call overhead (in-process echo tool)", micros(per_call));
    row(&format!("filter {RECORDS} records of an in-process tool result (p50)"), millis(filter.time));
    row("the same filter written in Python, CPython (p50)", millis(filter_python.time));
    let mib = |bytes: u64| format!("{:.2} MiB", bytes as f64 / (1 << 20) as f64);
    row("peak guest memory, trivial JS script", mib(js.peak_memory));
    row("peak guest memory, trivial CPython script", mib(python.peak_memory));
    row("peak guest memory, JS 10,000-record filter", mib(filter.peak_memory));
    row("peak guest memory, CPython 10,000-record filter", mib(filter_python.peak_memory));
    row("`airlock run hello.js`, whole process (p50)", millis(airlock_process));
    match node_process {
        Some(node) => {
            row("`node -e \"console.log(1+1)\"`, whole process (p50)", millis(node));
            row("ratio airlock / node", format!("{:.2}", airlock_process.as_secs_f64() / node.as_secs_f64()));
        }
        None => row("`node -e \"console.log(1+1)\"`", "node not found".into()),
    }
    super::durable::bench_durable().await?;
    if let Some(path) = &args.upstream {
        let config = airlock::Config::from_file(path)?;
        super::upstream::bench_upstream(&config).await?;
    }
    Ok(0)
}

async fn bench_runtime() -> anyhow::Result<Runtime> {
    let echo = |args: Value| async move { Ok(args) };
    // The tool holds its data in memory, as a database-backed tool would
    // have it ready; what is measured is Airlock's side.
    let data = std::sync::Arc::new(records_result());
    let records = move |_: Value| {
        let data = data.clone();
        async move { Ok(Value::clone(&data)) }
    };
    Ok(Runtime::builder()
        .tool("bench", ToolDefinition::new("echo"), echo)
        .tool("bench", ToolDefinition::new("records"), records)
        .build()
        .await?)
}

pub(super) fn records_result() -> Value {
    let rows: Vec<Value> = (0..RECORDS)
        .map(|i| {
            let status = ["pending", "paid", "overdue"][(i % 3) as usize];
            json!({
                "id": i,
                "name": format!("Customer {i}"),
                "status": status,
                "amount": (i * 7919) % 5000,
                "tags": ["retail", "eu"],
            })
        })
        .collect();
    json!({ "records": rows })
}

pub(super) fn check(result: airlock::ExecutionResult) -> anyhow::Result<airlock::ExecutionResult> {
    if let Some(error) = &result.error {
        bail!("a benchmark execution failed: {error}");
    }
    Ok(result)
}

/// Executions of `code` per second with `tasks` concurrent tasks.
async fn throughput(
    runtime: &Runtime,
    tasks: usize,
    duration: Duration,
    code: &'static str,
    language: Language,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let runtime = runtime.clone();
            tokio::spawn(async move {
                let session = runtime.session()?;
                let mut count = 0u64;
                while started.elapsed() < duration {
                    check(session.execute(code, language).await?)?;
                    count += 1;
                }
                anyhow::Ok(count)
            })
        })
        .collect();
    let mut total = 0;
    for handle in handles {
        total += handle.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Time per `await callTool(...)`: a loop of calls minus the same loop
/// without them.
async fn host_call_overhead(runtime: &Runtime) -> anyhow::Result<Duration> {
    const CALLS: u32 = 10_000;
    let with_calls = format!(
        "import {{ callTool }} from 'airlock'; for (let i = 0; i < {CALLS}; i++) await callTool('bench', 'echo', {{ i }});"
    );
    let without = format!("for (let i = 0; i < {CALLS}; i++) await Promise.resolve({{ i }});");
    let limits = Limits { tool_calls: CALLS, ..Limits::default() };
    let session = runtime.session()?;
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let calls = check(session.execute_with_limits(&with_calls, Language::JavaScript, &limits).await?)?;
        let base = check(session.execute_with_limits(&without, Language::JavaScript, &limits).await?)?;
        best = best.min(calls.stats.wall_time.saturating_sub(base.stats.wall_time) / CALLS);
    }
    Ok(best)
}

/// Latencies of trivial executions in one language.
#[derive(Default)]
struct Cold {
    latencies: Vec<Duration>,
    peak_memory: u64,
}

impl Cold {
    async fn measure(
        &mut self,
        session: &airlock::Session,
        code: &str,
        language: Language,
        limits: &Limits,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let result = check(session.execute_with_limits(code, language, limits).await?)?;
        self.latencies.push(started.elapsed());
        self.peak_memory = self.peak_memory.max(result.stats.peak_memory);
        Ok(())
    }
}

pub(super) const FILTER_JS: &str = r#"
import { callTool } from "airlock";
const { records } = await callTool("bench", "records", {});
const pending = records.filter((r) => r.status === "pending" && r.amount > 1000);
console.log(`${pending.length} of ${records.length}`, pending.slice(0, 2));"#;

const FILTER_PYTHON: &str = r#"
from servers import bench
records = bench.records()["records"]
pending = [r for r in records if r["status"] == "pending" and r["amount"] > 1000]
print(f"{len(pending)} of {len(records)}", pending[:2])"#;

/// What filtering 10,000 records from an in-process tool takes.
struct Filter {
    /// Median wall time.
    time: Duration,
    /// The largest linear memory an execution reached.
    peak_memory: u64,
}

/// Fetches and filters 10,000 records from an in-process tool, 15 times.
async fn filter_records(runtime: &Runtime, code: &str, language: Language) -> anyhow::Result<Filter> {
    let session = runtime.session()?;
    let mut times = Vec::new();
    let mut peak_memory = 0;
    for _ in 0..15 {
        let result = check(session.execute(code, language).await?)?;
        if !result.stdout.contains("of 10000") {
            bail!("the filter script printed {:?}", result.stdout);
        }
        times.push(result.stats.wall_time);
        peak_memory = peak_memory.max(result.stats.peak_memory);
    }
    times.sort_unstable();
    Ok(Filter { time: percentile(&times, 50), peak_memory })
}

/// Median wall time of `airlock run hello.js` and `node -e`, side by side.
fn whole_process(runs: usize) -> anyhow::Result<(Duration, Option<Duration>)> {
    // The `airlock` binary built beside this one (`cargo build -p airlock-cli`).
    let exe = std::env::current_exe().context("cannot find this binary")?.with_file_name("airlock");
    if !exe.exists() {
        bail!("{} is missing: build it too (`cargo build --release -p airlock-cli`)", exe.display());
    }
    let dir = tempfile::tempdir()?;
    let hello = dir.path().join("hello.js");
    std::fs::write(&hello, TRIVIAL)?;
    let airlock_run = |exe: &Path| Command::new(exe).arg("run").arg(&hello).stdout(Stdio::null()).status();
    // Once to be sure the artifact is cached.
    airlock_run(&exe)?;
    let mut airlock_times = Vec::new();
    let mut node_times = Vec::new();
    let node_present = Command::new("node").arg("--version").stdout(Stdio::null()).status().is_ok();
    for _ in 0..runs {
        airlock_times.push(time(|| airlock_run(&exe))?);
        if node_present {
            node_times.push(time(|| Command::new("node").args(["-e", TRIVIAL]).stdout(Stdio::null()).status())?);
        }
    }
    airlock_times.sort_unstable();
    node_times.sort_unstable();
    let node = (!node_times.is_empty()).then(|| percentile(&node_times, 50));
    Ok((percentile(&airlock_times, 50), node))
}

fn time(run: impl FnOnce() -> std::io::Result<std::process::ExitStatus>) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let status = run()?;
    let elapsed = started.elapsed();
    if !status.success() {
        bail!("a timed process failed: {status}");
    }
    Ok(elapsed)
}

pub(super) fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

pub(super) fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

pub(super) fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}
