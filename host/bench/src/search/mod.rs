//! `airlock bench search`: how well and how fast `search_tools` finds the
//! tools a task needs, on a labelled query set (`bench/search/queries.json`)
//! over real servers (the 500-tool catalog and the others of
//! `bench/discovery.json`).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use airlock::Runtime;
use airlock::discovery::{Detail, ToolIndex};
use anyhow::{Context, bail};
use serde::Deserialize;

use super::core::{micros, millis, percentile};

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

/// Evaluates search quality and speed and prints the figures; with
/// `show_misses`, also the queries whose tools were not all in the top 5.
pub async fn bench_search(config: &airlock::Config, queries: &Path, show_misses: bool) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(queries).with_context(|| format!("cannot read {}", queries.display()))?;
    let set: QuerySet =
        serde_json::from_str(&text).with_context(|| format!("{} is not a query set", queries.display()))?;
    let runtime = Runtime::builder().config(config).build().await?;
    let outcome = evaluate(&runtime, &set, show_misses).await;
    runtime.shutdown().await;
    outcome
}

async fn evaluate(runtime: &Runtime, set: &QuerySet, show_misses: bool) -> anyhow::Result<()> {
    let mut listings = Vec::new();
    for server in runtime.tools().servers() {
        let listing = runtime.tools().listing(server).await.with_context(|| format!("listing {server}"))?;
        listings.push((server.to_string(), listing));
    }
    let known: BTreeSet<String> = listings
        .iter()
        .flat_map(|(server, listing)| listing.definitions.iter().map(move |tool| format!("{server}.{}", tool.name)))
        .collect();
    let unknown: Vec<&str> =
        set.queries.iter().flat_map(|q| &q.tools).filter(|tool| !known.contains(*tool)).map(String::as_str).collect();
    if !unknown.is_empty() {
        bail!("the query set names tools no server offers: {}", unknown.join(", "));
    }

    // Quality, through the same index the runtime searches.
    let index = ToolIndex::new(&listings);
    let (mut recall, mut complete, mut reciprocal) = (0.0, 0, 0.0);
    let mut deeper_recall = [0.0; DEEPER.len()];
    for labelled in &set.queries {
        let ranked: Vec<String> =
            index.search(&labelled.query, Detail::Name, index.len()).into_iter().map(|found| found.name).collect();
        let needed: BTreeSet<&str> = labelled.tools.iter().map(String::as_str).collect();
        let found_in_top =
            |depth: usize| ranked.iter().take(depth).filter(|name| needed.contains(name.as_str())).count();
        let found = found_in_top(TOP);
        recall += found as f64 / needed.len() as f64;
        for (sum, depth) in deeper_recall.iter_mut().zip(DEEPER) {
            *sum += found_in_top(depth) as f64 / needed.len() as f64;
        }
        complete += usize::from(found == needed.len());
        reciprocal +=
            ranked.iter().position(|name| needed.contains(name.as_str())).map_or(0.0, |i| 1.0 / (i + 1) as f64);
        if show_misses && found < needed.len() {
            println!(
                "miss: {:?}\n  needs {:?}\n  got   {:?}",
                labelled.query,
                labelled.tools,
                &ranked[..TOP.min(ranked.len())]
            );
        }
    }
    let queries = set.queries.len() as f64;

    // Speed: through the runtime (listing checks, cached index), and the
    // index alone.
    let mut through_runtime = Vec::new();
    let mut index_only = Vec::new();
    for _ in 0..REPEATS {
        for labelled in &set.queries {
            let started = Instant::now();
            std::hint::black_box(runtime.search_tools(&labelled.query, Detail::Description, 10).await);
            through_runtime.push(started.elapsed());
            let started = Instant::now();
            std::hint::black_box(index.search(&labelled.query, Detail::Description, 10));
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
    let (all_tools, all_rebuilds) = rebuild(&listings);
    let catalog: Vec<_> = listings.iter().filter(|(server, _)| server == "catalog").cloned().collect();
    let (catalog_tools, catalog_rebuilds) = rebuild(&catalog);

    println!(
        "Tool search: {} labelled queries over {} tools on {} servers ({} cores)",
        set.queries.len(),
        all_tools,
        listings.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("{:<58} {:>10}", "figure", "value");
    println!("{:<58} {:>10.3}", format!("recall@{TOP} (share of the needed tools in the top {TOP})"), recall / queries);
    println!("{:<58} {:>10.3}", format!("queries with every needed tool in the top {TOP}"), complete as f64 / queries);
    println!("{:<58} {:>10.3}", "MRR (rank of the first needed tool)", reciprocal / queries);
    for (sum, depth) in deeper_recall.iter().zip(DEEPER) {
        println!("{:<58} {:>10.3}", format!("recall@{depth} (needed tools in the top {depth})"), sum / queries);
    }
    println!(
        "{:<58} {:>10}",
        "search_tools p50 (through the runtime, detail description)",
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
    Ok(())
}
