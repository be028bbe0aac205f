//! A component skill for the budget tests: `{"count": n}` counts to `n`
//! and returns the sum; `{"forever": true}` never returns; `{"print": n}`
//! prints `n` lines; `{"calls": n}` calls `records.add` `n` times.

use airlock_skill::{Skill, Value, call_tool, export_skill, json};

struct Spin;

impl Skill for Spin {
    fn run(input: Value) -> Result<Value, String> {
        if input["forever"] == true {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        if let Some(lines) = input["print"].as_u64() {
            for line in 0..lines {
                println!("line {line} of a skill that prints too much");
            }
        }
        let mut calls = 0;
        for i in 0..input["calls"].as_i64().unwrap_or(0) {
            call_tool("records", "add", &json!({"a": i, "b": 1}))
                .map_err(|e| format!("{}: {}", e.kind(), e.message()))?;
            calls += 1;
        }
        let count = input["count"].as_u64().unwrap_or(0);
        let sum: u64 = (0..count).map(std::hint::black_box).sum();
        Ok(json!({ "sum": sum, "calls": calls }))
    }
}

export_skill!(Spin);
