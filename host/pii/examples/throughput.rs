//! Throughput of the PII engine on the paths the host uses, and what
//! building a detector costs.
//!
//! ```text
//! python3 bench/pii/corpus.py --n 1 --out /dev/null --big-json /tmp/dense.json --big-mb 24
//! cargo run --release -p airlock-pii --example throughput -- --dense /tmp/dense.json
//! ```
//!
//! Workloads: (a) `--dense FILE`, customer records dense with personal data
//! (`corpus.py --big-json`); (b) API-like records (ids, statuses, amounts,
//! ISO dates, tags) with an e-mail address in one record of a hundred;
//! (c) the 10,000 invoice records of `tests/servers/python/records_server.py`
//! (a name and an e-mail address in each). (b) and (c) are generated here.
//!
//! Each is measured on the paths the host can take: `tree`, a tool result
//! already parsed, through [`Vault::tokenize_json`] (it builds a new
//! document); `in-place`, the same through [`Vault::tokenize_json_in_place`]
//! on a document the caller owns (the copy it works on is made outside the
//! timing); `in-place+json`, that and then the document serialised, as the
//! boundary sent a result to the guest before; `to-text`, a parsed result
//! written straight as JSON text by [`Vault::tokenize_json_to_text`] (the
//! boundary today); `text`, JSON text through [`Vault::tokenize_json_text`]
//! (`airlock pii redact`). A fresh vault per run, as for a tool result in a
//! new session; dropping the output and the vault is not timed. MB/s are input bytes (of the compact JSON text) per second
//! on one thread, by wall time and, on Linux, by the thread's CPU time
//! (which a machine busy with other work disturbs less).
//!
//! `--file FILE` adds a JSON file (such as `compare.py`'s sparse
//! document, `corpus.py`'s `write_sparse_json`) as one more workload.
//! `--only a|b|c` and `--path tree|in-place|in-place+json|to-text|text` narrow the run (for
//! `perf record`); `--secs S` is the time spent on each measurement
//! (default 2).

use std::time::{Duration, Instant};

use airlock_pii::{Detector, PiiConfig, Vault};
use serde_json::{Value, json};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// (b): API-like records with an e-mail address in one of a hundred.
fn sparse_records(n: usize) -> Value {
    let mut rng = Rng(0x5eed_0001);
    let statuses = ["open", "pending", "paid", "shipped", "cancelled", "refunded"];
    let tags = ["priority", "backorder", "gift", "b2b", "retail", "promo", "eu", "us", "apac"];
    let currencies = ["USD", "EUR", "GBP", "JPY"];
    let records: Vec<Value> = (0..n)
        .map(|i| {
            let mut record = json!({
                "id": format!("ord_{:016x}", rng.next()),
                "number": 100_000 + i,
                "status": rng.pick(&statuses),
                "amount": (rng.below(10_000_000) as f64) / 100.0,
                "currency": rng.pick(&currencies),
                "quantity": rng.below(20) + 1,
                "created_at": format!(
                    "2024-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                    rng.below(12) + 1,
                    rng.below(28) + 1,
                    rng.below(24),
                    rng.below(60),
                    rng.below(60)
                ),
                "updated": format!("2025-{:02}-{:02}", rng.below(12) + 1, rng.below(28) + 1),
                "tags": (0..rng.below(4)).map(|_| rng.pick(&tags)).collect::<Vec<_>>(),
                "sku": format!("SKU-{:05}", rng.below(100_000)),
                "warehouse": {"code": format!("WH{}", rng.below(40)), "region": rng.pick(&["north", "south", "east"])},
                "paid": rng.below(2) == 0,
            });
            if i % 100 == 0 {
                record["customer_email"] = json!(format!("buyer{i}@example.org"));
            }
            record
        })
        .collect();
    json!({"data": records, "has_more": false, "total": n})
}

/// (c): records like the test server's (a name and an e-mail in each).
fn invoice_records(n: usize) -> Value {
    let first = [
        "Ada",
        "Alan",
        "Grace",
        "Linus",
        "Margaret",
        "Dennis",
        "Barbara",
        "Ken",
        "Frances",
        "John",
        "Radia",
        "Edsger",
        "Sophie",
        "Tim",
        "Hedy",
        "Donald",
        "Katherine",
        "Niklaus",
        "Lynn",
        "Guido",
    ];
    let last = [
        "Lovelace",
        "Turing",
        "Hopper",
        "Torvalds",
        "Hamilton",
        "Ritchie",
        "Liskov",
        "Thompson",
        "Allen",
        "McCarthy",
        "Perlman",
        "Dijkstra",
        "Wilson",
        "Berners-Lee",
        "Lamarr",
        "Knuth",
        "Johnson",
        "Wirth",
        "Conway",
        "van Rossum",
    ];
    let domains = ["example.com", "example.org", "example.net", "mail.example.com"];
    let tags = ["vip", "new", "recurring", "discount", "priority", "wholesale", "retail", "trial"];
    let mut rng = Rng(20_240_101);
    let records: Vec<Value> = (1..=n)
        .map(|i| {
            let (f, l) = (rng.pick(&first), rng.pick(&last));
            let local = format!("{f}.{l}").to_lowercase().replace([' ', '-'], "");
            json!({
                "id": i,
                "name": format!("{f} {l}"),
                "email": format!("{local}{i}@{}", rng.pick(&domains)),
                "status": rng.pick(&["pending", "paid", "overdue"]),
                "amount": (rng.below(499_500) as f64 + 500.0) / 100.0,
                "region": rng.pick(&["north", "south", "east", "west", "central"]),
                "created": format!("20{}-{:02}-{:02}", 24 + rng.below(2), rng.below(12) + 1, rng.below(28) + 1),
                "tags": (0..rng.below(4)).map(|_| rng.pick(&tags)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"records": records, "total": n})
}

/// Time this thread has spent on a CPU, where Linux says
/// (`/proc/thread-self/schedstat`): on a machine busy with other work it
/// measures the engine rather than the scheduler.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

/// Runs `work` on what `setup` makes (untimed) for about `budget`, and
/// gives the median wall time and the median CPU time of one run. Runs are
/// timed in batches of at least 250 ms, since the kernel accounts CPU time
/// in scheduler ticks.
fn time_runs<T, R>(
    budget: Duration,
    mut setup: impl FnMut() -> T,
    mut work: impl FnMut(T) -> R,
) -> (Duration, Option<Duration>) {
    let t = Instant::now();
    drop(work(setup()));
    let batch = (Duration::from_millis(250).as_secs_f64() / t.elapsed().as_secs_f64().max(1e-6)).ceil() as usize;
    let batch = batch.clamp(1, 1000);
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let started = Instant::now();
    while walls.len() < 3 || started.elapsed() < budget {
        let inputs: Vec<T> = (0..batch).map(|_| setup()).collect();
        let mut outputs = Vec::with_capacity(batch);
        let cpu = cpu_time();
        let t = Instant::now();
        for input in inputs {
            outputs.push(work(input));
        }
        walls.push(t.elapsed() / batch as u32);
        if let (Some(before), Some(after)) = (cpu, cpu_time()) {
            cpus.push((after - before) / batch as u32);
        }
        // Dropping the outputs (and the vaults) is not timed: the host
        // drops a tool result whether or not it was tokenized.
        drop(outputs);
    }
    walls.sort();
    cpus.sort();
    (walls[walls.len() / 2], cpus.get(cpus.len() / 2).copied())
}

/// `MB/s (ms)` of a timed run, by wall and by CPU time.
fn rate(bytes: usize, (wall, cpu): (Duration, Option<Duration>)) -> String {
    let mut out = format!("{:>6.1} MB/s ({:>7.2} ms)", mb_per_s(bytes, wall), wall.as_secs_f64() * 1e3);
    if let Some(cpu) = cpu {
        out += &format!(" cpu {:>6.1} MB/s", mb_per_s(bytes, cpu));
    }
    out
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

fn main() {
    let mut dense: Option<String> = None;
    let mut files: Vec<String> = Vec::new();
    let mut only: Option<String> = None;
    let mut path: Option<String> = None;
    let mut secs = 2.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dense" => dense = args.next(),
            "--file" => files.extend(args.next()),
            "--only" => only = args.next(),
            "--path" => path = args.next(),
            "--secs" => secs = args.next().and_then(|s| s.parse().ok()).expect("--secs takes a number"),
            other => panic!("unknown argument {other:?} (see the example's doc comment)"),
        }
    }
    let budget = Duration::from_secs_f64(secs);

    // Construction, the first thing in the process as in the host.
    let config = PiiConfig::default();
    let t = Instant::now();
    let detector = Detector::new(&config).expect("default config");
    let built = t.elapsed();
    let mut vault = Vault::new();
    let t = Instant::now();
    let clean = vault.tokenize_json(&detector, &json!({"content": [{"type": "text", "text": "hello, world"}]}));
    let first_clean = t.elapsed();
    let t = Instant::now();
    let dirty = vault.tokenize_json(&detector, &json!({"email": "ivan@example.com", "card": "4111 1111 1111 1111"}));
    let first_dirty = t.elapsed();
    std::hint::black_box((clean, dirty));
    let t = Instant::now();
    let again = Detector::new(&config).expect("default config");
    let rebuilt = t.elapsed();
    std::hint::black_box(again);
    println!(
        "construction: Detector::new {:.3} ms (again {:.3} ms); then a result without PII {:.3} ms, one with PII {:.3} ms",
        built.as_secs_f64() * 1e3,
        rebuilt.as_secs_f64() * 1e3,
        first_clean.as_secs_f64() * 1e3,
        first_dirty.as_secs_f64() * 1e3
    );

    let mut workloads: Vec<(&str, Value)> = Vec::new();
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
    if wanted("a") {
        match &dense {
            Some(file) => {
                let text = std::fs::read_to_string(file).expect("read --dense file");
                workloads.push(("a dense customers", serde_json::from_str(&text).expect("--dense is JSON")));
            }
            None => println!("(a) skipped: pass --dense FILE (python3 bench/pii/corpus.py --big-json FILE)"),
        }
    }
    if wanted("b") {
        workloads.push(("b sparse API-like", sparse_records(10_000)));
    }
    if wanted("c") {
        workloads.push(("c records server", invoice_records(10_000)));
    }

    let names: Vec<String> = files.iter().map(|file| format!("file {file}")).collect();
    for (file, name) in files.iter().zip(&names) {
        let text = std::fs::read_to_string(file).expect("read --file");
        workloads.push((name, serde_json::from_str(&text).expect("--file is JSON")));
    }

    for (name, doc) in &workloads {
        let text = serde_json::to_string(doc).expect("serialise");
        let bytes = text.len();
        let mut line = format!("{name} ({:.1} MB)", bytes as f64 / 1e6);
        if path.as_deref().is_none_or(|p| p == "tree") {
            let time = time_runs(budget, Vault::new, |mut vault| (vault.tokenize_json(&detector, doc), vault));
            line += &format!("\n    {:<14}{}", "tree", rate(bytes, time));
        }
        if path.as_deref().is_none_or(|p| p == "in-place") {
            let time = time_runs(
                budget,
                || (Vault::new(), doc.clone()),
                |(mut vault, mut copy)| {
                    vault.tokenize_json_in_place(&detector, &mut copy);
                    (copy, vault)
                },
            );
            line += &format!("\n    {:<14}{}", "in-place", rate(bytes, time));
        }
        if path.as_deref().is_none_or(|p| p == "in-place+json") {
            let time = time_runs(
                budget,
                || (Vault::new(), doc.clone()),
                |(mut vault, mut copy)| {
                    vault.tokenize_json_in_place(&detector, &mut copy);
                    (copy.to_string(), vault)
                },
            );
            line += &format!("\n    {:<14}{}", "in-place+json", rate(bytes, time));
        }
        if path.as_deref().is_none_or(|p| p == "to-text") {
            let time = time_runs(budget, Vault::new, |mut vault| (vault.tokenize_json_to_text(&detector, doc), vault));
            line += &format!("\n    {:<14}{}", "to-text", rate(bytes, time));
        }
        if path.as_deref().is_none_or(|p| p == "text") {
            let time = time_runs(budget, Vault::new, |mut vault| {
                (vault.tokenize_json_text(&detector, &text).expect("valid JSON"), vault)
            });
            line += &format!("\n    {:<14}{}", "text", rate(bytes, time));
        }
        println!("{line}");
    }
}
