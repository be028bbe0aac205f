//! The house rules that keep the code easy to change, checked on every
//! test run: the top-level modules of each host crate form no cycle, and no
//! tests hide where no test harness is built.
//!
//! A module `a` depends on `b` when its code (outside `#[cfg(test)]`
//! modules) names `crate::b`. Layers then read bottom-up: base types, the
//! services built on them, the runtime on top.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `crate::` paths named in `source`, test modules left out: the first
/// segment of each (`crate::tool::ToolError` → `tool`, `crate::{a, b::c}`
/// → `a`, `b`).
fn named_modules(source: &str) -> BTreeSet<String> {
    let code = match source.find("#[cfg(test)]\nmod tests") {
        Some(at) => &source[..at],
        None => source,
    };
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group);
            // Top-level entries of the group only: `a, b::{c, d}, e`.
            let mut depth = 0;
            let mut entry = String::new();
            for c in group[..end].chars().chain([',']) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(first_segment(entry.trim()));
                        entry.clear();
                        continue;
                    }
                    _ => {}
                }
                entry.push(c);
            }
        } else {
            out.insert(first_segment(rest));
        }
    }
    out.retain(|name| !name.is_empty() && name != "self");
    out
}

fn matching_brace(text: &str) -> usize {
    let mut depth = 1;
    for (at, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return at;
                }
            }
            _ => {}
        }
    }
    text.len()
}

fn first_segment(path: &str) -> String {
    path.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())).flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Module → the other top-level modules of its crate it names.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(src) {
        let relative = file.strip_prefix(src).unwrap();
        let top = first_segment(&relative.to_string_lossy());
        if matches!(top.as_str(), "lib" | "main") {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        graph.entry(top.clone()).or_default().extend(named_modules(&source).into_iter().filter(|m| *m != top));
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for targets in graph.values_mut() {
        targets.retain(|t| modules.contains(t));
    }
    graph
}

/// A cycle of `graph` as `a → b → … → a`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_check_sees_a_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("engine", named_modules("use crate::sandbox::StoreState;")),
        ("sandbox", named_modules("use crate::{limits::Limits, tool::{ToolError, Listing}};")),
        ("limits", BTreeSet::new()),
        ("tool", named_modules("fn f() -> crate::engine::Engine { todo!() }")),
    ]
    .into_iter()
    .map(|(name, targets)| (name.to_string(), targets))
    .collect();
    let cycle = find_cycle(&graph).expect("engine → sandbox → tool → engine");
    assert_eq!(cycle.join(" → "), "engine → sandbox → tool → engine");
}

#[test]
fn the_modules_of_every_host_crate_form_no_cycle() {
    let host = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/");
    let mut crates = 0;
    for entry in std::fs::read_dir(host).unwrap().flatten() {
        let src = entry.path().join("src");
        if !src.is_dir() {
            continue;
        }
        crates += 1;
        let graph = module_graph(&src);
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "the modules of {} form a cycle: {}\n(a module may name only modules below it; \
                 move the shared part into a lower module)",
                entry.path().display(),
                cycle.join(" → ")
            );
        }
    }
    assert!(crates >= 4, "expected the host crates under {}", host.display());
}

/// A binary built without a test harness (`test = false`, which saves a
/// link step per test run) must have no tests, or they would never run.
#[test]
fn no_tests_hide_in_targets_built_without_a_harness() {
    let host = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/");
    for entry in std::fs::read_dir(host).unwrap().flatten() {
        let Ok(manifest) = std::fs::read_to_string(entry.path().join("Cargo.toml")) else { continue };
        if !manifest.lines().any(|line| line.trim() == "test = false") {
            continue;
        }
        for file in rust_files(&entry.path().join("src")) {
            let source = std::fs::read_to_string(&file).unwrap();
            assert!(
                !["#[test]", "#[tokio::test", "#[cfg(test)]"].iter().any(|marker| source.contains(marker)),
                "{} has tests, but its crate builds with `test = false`: they would never run \
                 (move them to tests/all or drop `test = false`)",
                file.display()
            );
        }
    }
}
