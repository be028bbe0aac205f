//! `airlock bench search`: how well and how fast `search_tools` finds the
//! tools a task needs, on labelled task sets (`bench/search/*.json`) over
//! real servers (the 500-tool catalog and the others of
//! `bench/discovery.json`).
//!
//! Two views. Task-level: a simulated agent ([`agent`]) searches for each
//! task and follows up on the ids the results say are missing, at most
//! three searches; a task is solved when every labelled tool (or an
//! alternative, [`labels`]) was listed. Ranking: where the labelled tools
//! stand in one search's ranking (recall@k, MRR).

mod agent;
mod labels;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use airlock::Runtime;
use airlock::discovery::{DEFAULT_DETAIL, DEFAULT_LIMIT, Detail, SearchResults, ToolIndex};
use anyhow::{Context, bail};
use serde::Deserialize;

use super::core::{micros, millis, percentile};
use labels::Alternatives;

#[derive(Deserialize)]
struct QuerySet {
    queries: Vec<LabelledQuery>,
}

#[derive(Deserialize)]
struct LabelledQuery {
    query: String,
    /// The tools the task needs, as `server.tool`.
    tools: Vec<String>,
}

/// Results per query looked at for recall.
const TOP: usize = 5;
/// Deeper cut-offs, also reported: how many needed tools the ranking
/// holds at all near the top, which bounds what reordering it could gain.
const DEEPER: [usize; 2] = [10, 50];
/// Timed repetitions of each query.
const REPEATS: usize = 20;
/// Timed index rebuilds.
const REBUILDS: usize = 20;
/// The result sizes the task-level evaluation compares; the default is
/// the largest whose tasks stay within [`TOKEN_BUDGET`] on the tuning set.
const SETTINGS: [(Detail, usize); 10] = [
    (Detail::Name, 5),
    (Detail::Name, 10),
    (Detail::Name, 20),
    (Detail::Name, 25),
    (Detail::Name, 30),
    (Detail::Name, 35),
    (Detail::Name, 40),
    (Detail::Name, 50),
    (Detail::Description, 5),
    (Detail::Description, 10),
];
/// Result tokens a task may cost, all its searches together.
const TOKEN_BUDGET: f64 = 300.0;

/// Evaluates search quality and speed on each labelled set and prints the
/// figures; with `show_misses`, also the tasks the agent left unsolved at
/// the default result size.
pub async fn bench_search(config: &airlock::Config, sets: &[PathBuf], show_misses: bool) -> anyhow::Result<()> {
    let mut loaded = Vec::new();
    for path in sets {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let set: QuerySet =
            serde_json::from_str(&text).with_context(|| format!("{} is not a query set", path.display()))?;
        loaded.push((path.as_path(), set));
    }
    let runtime = Runtime::builder().config(config).build().await?;
    let outcome = evaluate(&runtime, &loaded, show_misses).await;
    runtime.shutdown().await;
    outcome
}

async fn evaluate(runtime: &Runtime, sets: &[(&Path, QuerySet)], show_misses: bool) -> anyhow::Result<()> {
    let mut listings = Vec::new();
    for server in runtime.tools().servers() {
        let listing = runtime.tools().listing(server).await.with_context(|| format!("listing {server}"))?;
        listings.push((server.to_string(), listing));
    }
    let known: BTreeSet<String> = listings
        .iter()
        .flat_map(|(server, listing)| listing.definitions.iter().map(move |tool| format!("{server}.{}", tool.name)))
        .collect();
    for (path, set) in sets {
        let unknown: Vec<&str> = set
            .queries
            .iter()
            .flat_map(|q| &q.tools)
            .filter(|tool| !known.contains(*tool))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            bail!("{} names tools no server offers: {}", path.display(), unknown.join(", "));
        }
    }
    // Quality, through the same index the runtime searches.
    let index = ToolIndex::new(&listings);
    let alternatives = Alternatives::new(known.iter().map(String::as_str));
    println!(
        "Tool search: {} tools on {} servers ({} cores); tokens counted with {}",
        index.len(),
        listings.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        airlock_serve::tokens::TOKENIZER
    );
    println!(
        "A task is solved when every tool it needs (or an alternative: a list/search/find sibling) was listed \
         within {} searches.",
        agent::MAX_SEARCHES
    );
    for (path, set) in sets {
        println!();
        println!("{} ({} tasks)", path.display(), set.queries.len());
        print_tasks(&index, &alternatives, set, show_misses);
        print_ranking(&index, &alternatives, set);
    }
    println!();
    print_speed(runtime, &index, &listings, sets).await;
    Ok(())
}

/// How one task went for the agent.
struct TaskOutcome {
    solved: bool,
    solved_by_first: bool,
    primary_in_first: bool,
    tokens: usize,
    searches: usize,
}

/// Runs the agent on `task` at one result size and scores it against the
/// labels; the agent itself sees only the task's text.
fn run_task(
    index: &ToolIndex,
    alternatives: &Alternatives,
    task: &LabelledQuery,
    (detail, limit): (Detail, usize),
) -> (TaskOutcome, agent::Transcript) {
    let transcript = agent::solve(
        &task.query,
        |query, limit| SearchResults { matches: index.search(query, detail, limit), unavailable: Vec::new() },
        limit,
    );
    let all =
        |found: &BTreeSet<String>, labels: &[String]| labels.iter().all(|label| alternatives.satisfied(label, found));
    let first: BTreeSet<String> = transcript.searches[0].names.iter().cloned().collect();
    let primary = primary_tools(index, alternatives, &task.tools);
    let outcome = TaskOutcome {
        solved: all(&transcript.found, &task.tools),
        solved_by_first: all(&first, &task.tools),
        primary_in_first: all(&first, &primary),
        tokens: transcript.tokens(),
        searches: transcript.searches.len(),
    };
    (outcome, transcript)
}

/// The labelled tools that are not prerequisites: a prerequisite gives an
/// id another labelled tool needs (by the same companion rule the index
/// applies). All of them when every one is a prerequisite of another.
fn primary_tools(index: &ToolIndex, alternatives: &Alternatives, labels: &[String]) -> Vec<String> {
    let givers: BTreeSet<String> = labels.iter().flat_map(|label| index.needs(label)).map(|(_, giver)| giver).collect();
    let primary: Vec<String> =
        labels.iter().filter(|label| alternatives.of(label).is_disjoint(&givers)).cloned().collect();
    if primary.is_empty() { labels.to_vec() } else { primary }
}

/// The task-level table of one set: a row per result size.
fn print_tasks(index: &ToolIndex, alternatives: &Alternatives, set: &QuerySet, show_misses: bool) {
    let n = set.queries.len();
    println!(
        "  {:<18} {:>21} {:>13} {:>13} {:>20} {:>9}",
        "results (detail)", "task recall [95% CI]", "first search", "primary@k", "tokens/task [95% CI]", "searches"
    );
    let mut within_budget: Option<(Detail, usize)> = None;
    for setting in SETTINGS {
        let outcomes: Vec<TaskOutcome> =
            set.queries.iter().map(|task| run_task(index, alternatives, task, setting).0).collect();
        let share = |f: fn(&TaskOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
        let solved = share(|o| o.solved);
        let (low, high) = wilson(solved, n);
        let tokens: Vec<f64> = outcomes.iter().map(|o| o.tokens as f64).collect();
        let (mean, half) = mean_interval(&tokens);
        let searches = outcomes.iter().map(|o| o.searches).sum::<usize>() as f64 / n as f64;
        let default = setting == (DEFAULT_DETAIL, DEFAULT_LIMIT);
        if mean <= TOKEN_BUDGET && within_budget.is_none_or(|(_, limit)| limit < setting.1) {
            within_budget = Some(setting);
        }
        println!(
            "  {:<18} {:>6.3} [{:.3}, {:.3}] {:>13.3} {:>13.3} {:>7.0} [{:>4.0}, {:>4.0}] {:>9.2}{}",
            format!("{} ({})", setting.1, detail_name(setting.0)),
            solved as f64 / n as f64,
            low,
            high,
            share(|o| o.solved_by_first) as f64 / n as f64,
            share(|o| o.primary_in_first) as f64 / n as f64,
            mean,
            mean - half,
            mean + half,
            searches,
            if default { "  <- search_tools default" } else { "" }
        );
    }
    println!(
        "  largest result size within {TOKEN_BUDGET:.0} tokens per task: {}",
        within_budget.map_or("none".to_string(), |(detail, limit)| format!("{limit} ({})", detail_name(detail)))
    );
    if show_misses {
        for task in &set.queries {
            let (outcome, transcript) = run_task(index, alternatives, task, (DEFAULT_DETAIL, DEFAULT_LIMIT));
            if !outcome.solved {
                // Where each missed tool stands in the first search's whole ranking.
                let ranking: Vec<String> =
                    index.search(&task.query, Detail::Name, index.len()).into_iter().map(|found| found.name).collect();
                let missed: Vec<String> = task
                    .tools
                    .iter()
                    .filter(|label| !alternatives.satisfied(label, &transcript.found))
                    .map(|label| {
                        let alternatives = alternatives.of(label);
                        match ranking.iter().position(|name| alternatives.contains(name)) {
                            Some(rank) => format!("{label} (rank {})", rank + 1),
                            None => format!("{label} (no match)"),
                        }
                    })
                    .collect();
                println!("  miss: {:?}\n    needs {:?}\n    missed {}", task.query, task.tools, missed.join(", "));
                for search in &transcript.searches {
                    println!("    searched {:?}: {:?}", search.query, search.names);
                }
            }
        }
    }
}

fn detail_name(detail: Detail) -> &'static str {
    match detail {
        Detail::Name => "name",
        Detail::Description => "description",
        Detail::Full => "full",
    }
}

/// Where the labelled tools stand in one search's ranking (companions
/// included, as agents see it).
fn print_ranking(index: &ToolIndex, alternatives: &Alternatives, set: &QuerySet) {
    let (mut recall, mut complete, mut reciprocal) = (0.0, 0, 0.0);
    let mut deeper_recall = [0.0; DEEPER.len()];
    for labelled in &set.queries {
        let ranked: Vec<String> =
            index.search(&labelled.query, Detail::Name, index.len()).into_iter().map(|found| found.name).collect();
        let found_in_top = |depth: usize| {
            let top: BTreeSet<String> = ranked.iter().take(depth).cloned().collect();
            labelled.tools.iter().filter(|label| alternatives.satisfied(label, &top)).count()
        };
        let needed = labelled.tools.len() as f64;
        let found = found_in_top(TOP);
        recall += found as f64 / needed;
        for (sum, depth) in deeper_recall.iter_mut().zip(DEEPER) {
            *sum += found_in_top(depth) as f64 / needed;
        }
        complete += usize::from(found == labelled.tools.len());
        let needed: BTreeSet<String> = labelled.tools.iter().flat_map(|label| alternatives.of(label)).collect();
        reciprocal += ranked.iter().position(|name| needed.contains(name)).map_or(0.0, |i| 1.0 / (i + 1) as f64);
    }
    let n = set.queries.len() as f64;
    let deeper: Vec<String> =
        deeper_recall.iter().zip(DEEPER).map(|(sum, depth)| format!("recall@{depth} {:.3}", sum / n)).collect();
    println!(
        "  one search's ranking: recall@{TOP} {:.3}, every tool in the top {TOP} {:.3}, MRR {:.3}, {}",
        recall / n,
        complete as f64 / n,
        reciprocal / n,
        deeper.join(", ")
    );
}

/// Search latency through the runtime and the index alone, and index
/// rebuild time.
async fn print_speed(
    runtime: &Runtime,
    index: &ToolIndex,
    listings: &[(String, airlock::Listing)],
    sets: &[(&Path, QuerySet)],
) {
    let mut through_runtime = Vec::new();
    let mut index_only = Vec::new();
    for _ in 0..REPEATS {
        for labelled in sets.iter().flat_map(|(_, set)| &set.queries) {
            let started = Instant::now();
            std::hint::black_box(runtime.search_tools(&labelled.query, DEFAULT_DETAIL, DEFAULT_LIMIT).await);
            through_runtime.push(started.elapsed());
            let started = Instant::now();
            std::hint::black_box(index.search(&labelled.query, DEFAULT_DETAIL, DEFAULT_LIMIT));
            index_only.push(started.elapsed());
        }
    }
    through_runtime.sort_unstable();
    index_only.sort_unstable();
    let rebuild = |servers: &[(String, airlock::Listing)]| -> (usize, Vec<Duration>) {
        let mut times: Vec<Duration> = (0..REBUILDS)
            .map(|_| {
                let started = Instant::now();
                std::hint::black_box(ToolIndex::new(servers));
                started.elapsed()
            })
            .collect();
        times.sort_unstable();
        (ToolIndex::new(servers).len(), times)
    };
    let (all_tools, all_rebuilds) = rebuild(listings);
    let catalog: Vec<_> = listings.iter().filter(|(server, _)| server == "catalog").cloned().collect();
    let (catalog_tools, catalog_rebuilds) = rebuild(&catalog);
    println!("{:<58} {:>10}", "speed", "value");
    println!(
        "{:<58} {:>10}",
        "search_tools p50 (through the runtime, default result size)",
        micros(percentile(&through_runtime, 50))
    );
    println!("{:<58} {:>10}", "search_tools p99 (through the runtime)", micros(percentile(&through_runtime, 99)));
    println!("{:<58} {:>10}", "index search alone p50", micros(percentile(&index_only, 50)));
    println!(
        "{:<58} {:>10}",
        format!("index rebuild, {catalog_tools} catalog tools, p50"),
        millis(percentile(&catalog_rebuilds, 50))
    );
    println!(
        "{:<58} {:>10}",
        format!("index rebuild, all {all_tools} tools, p50"),
        millis(percentile(&all_rebuilds, 50))
    );
    println!(
        "{:<58} {:>10}",
        format!("index rebuild, all {all_tools} tools, max"),
        millis(all_rebuilds[all_rebuilds.len() - 1])
    );
}

/// The Wilson score interval (95%) of `hits` in `n`.
fn wilson(hits: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (z, n) = (1.96_f64, n as f64);
    let p = hits as f64 / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    (centre - half, centre + half)
}

/// The mean of `values` and the half-width of its 95% interval (normal
/// approximation).
fn mean_interval(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if n < 2.0 {
        return (values.first().copied().unwrap_or(0.0), 0.0);
    }
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, 1.96 * (variance / n).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock::{Listing, ToolDefinition};
    use serde_json::json;

    fn tool(name: &str, description: &str, required: &[&str]) -> ToolDefinition {
        let properties: serde_json::Map<String, serde_json::Value> =
            required.iter().map(|id| (id.to_string(), json!({"type": "string"}))).collect();
        ToolDefinition::new(name)
            .description(description)
            .input_schema(json!({"type": "object", "properties": properties, "required": required}))
    }

    #[test]
    fn the_agent_never_reads_labels() {
        let listings = vec![(
            "shop".to_string(),
            Listing::new(vec![
                tool("cancel_order", "Cancel an order before it ships.", &["order_id"]),
                tool("list_orders", "Orders of a customer.", &[]),
                tool("send_receipt", "Email a receipt.", &["receipt_id"]),
                tool("list_receipts", "Receipts issued.", &[]),
            ]),
        )];
        let index = ToolIndex::new(&listings);
        let names: Vec<String> = listings[0].1.definitions.iter().map(|tool| format!("shop.{}", tool.name)).collect();
        let alternatives = Alternatives::new(names.iter().map(String::as_str));
        let task = |tools: &[&str]| LabelledQuery {
            query: "cancel the order before it ships".into(),
            tools: tools.iter().map(|tool| tool.to_string()).collect(),
        };
        let right = task(&["shop.cancel_order", "shop.list_orders"]);
        let wrong = task(&["shop.list_receipts"]);
        for setting in [(Detail::Name, 1), (Detail::Name, 3)] {
            let (right_outcome, right_transcript) = run_task(&index, &alternatives, &right, setting);
            let (wrong_outcome, wrong_transcript) = run_task(&index, &alternatives, &wrong, setting);
            // Other labels, other scores; the same searches.
            let queries = |t: &agent::Transcript| t.searches.iter().map(|s| s.query.clone()).collect::<Vec<_>>();
            assert_eq!(queries(&right_transcript), queries(&wrong_transcript));
            assert_eq!(right_transcript.found, wrong_transcript.found);
            assert_eq!(right_outcome.tokens, wrong_outcome.tokens);
        }
        // With one result a search, the agent follows the need it was shown.
        let (outcome, transcript) = run_task(&index, &alternatives, &right, (Detail::Name, 1));
        assert_eq!(transcript.searches[1].query, "list orders");
        assert!(outcome.solved && !outcome.solved_by_first);
    }

    #[test]
    fn intervals_cover_their_estimate() {
        let (low, high) = wilson(90, 100);
        assert!(low < 0.9 && 0.9 < high && high - low < 0.13, "{low} {high}");
        let (mean, half) = mean_interval(&[100.0, 110.0, 90.0, 100.0]);
        assert!((mean - 100.0).abs() < 1e-9 && half > 0.0);
    }
}
