//! The README's commands behave as written: every `$ ` line of its
//! ```console blocks runs, in order, from the repository root (as a
//! newcomer would type it after the setup command), and what it prints must
//! match the lines under it.
//!
//! Matching: each expected line must equal an output line (trailing spaces
//! ignored), in order; `...` stands for any number of lines and `[..]`
//! inside a line for any text. Expected lines are matched against stdout
//! and stderr together, stdout first. A `? N` line right after the command
//! gives its exit status (default 0).

use std::path::{Path, PathBuf};
use std::process::Command;

/// One `$ command` of the README with what it must print.
#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    status: i32,
    expected: Vec<String>,
}

fn steps(readme: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    for (index, line) in readme.lines().enumerate() {
        let trimmed = line.trim_end();
        if !in_console {
            in_console = trimmed == "```console";
            continue;
        }
        if trimmed == "```" {
            in_console = false;
            continue;
        }
        if let Some(command) = trimmed.strip_prefix("$ ") {
            steps.push(Step { line: index + 1, command: command.to_string(), status: 0, expected: Vec::new() });
            continue;
        }
        let Some(step) = steps.last_mut() else { panic!("README.md:{}: output before any `$ ` command", index + 1) };
        match trimmed.strip_prefix("? ") {
            Some(status) if step.expected.is_empty() => {
                step.status = status.parse().unwrap_or_else(|_| panic!("README.md:{}: bad status", index + 1));
            }
            _ => step.expected.push(trimmed.to_string()),
        }
    }
    steps
}

/// Whether `line` matches `pattern`, where `[..]` stands for any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = line.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Whether the output `lines` hold `expected` in order (`...` skips any
/// number of lines; without it, lines must follow one another).
fn output_matches(expected: &[String], lines: &[&str]) -> bool {
    fn go(expected: &[String], lines: &[&str], anchored: bool) -> bool {
        let Some((first, rest)) = expected.split_first() else { return !anchored || lines.is_empty() };
        if first == "..." {
            return go(rest, lines, false);
        }
        if anchored {
            return lines.first().is_some_and(|line| line_matches(first, line.trim_end()))
                && go(rest, &lines[1..], true);
        }
        (0..lines.len()).any(|at| line_matches(first, lines[at].trim_end()) && go(rest, &lines[at + 1..], true))
    }
    go(expected, lines, true)
}

#[test]
fn the_readme_commands_behave_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("the repository").to_path_buf();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let steps = steps(&readme);
    assert!(steps.len() >= 10, "the README should show its commands in ```console blocks ({} found)", steps.len());
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_airlock"));
    let bin_dir = binary.parent().expect("the binary's folder");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    // The user's own folders stay untouched: skills and workspaces go to a
    // folder of the test's; the guest cache is the tests' shared one.
    let home = tempfile::tempdir().expect("a temporary folder");
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("airlock-cache");
    for step in &steps {
        let output = Command::new("sh")
            .arg("-c")
            .arg(&step.command)
            .current_dir(&root)
            .env("PATH", &path)
            .env("AIRLOCK_CACHE_DIR", &cache)
            .env("AIRLOCK_SKILLS_DIR", home.path().join("skills"))
            .env_remove("AIRLOCK_CONFIG")
            .env_remove("RUST_LOG")
            .output()
            .expect("sh runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        // Whether a guest compiles first depends on the cache, not the README.
        let notice = |line: &&str| line.starts_with("airlock: compil");
        let lines: Vec<&str> = stdout.lines().chain(stderr.lines().filter(|line| !notice(line))).collect();
        let shown = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
        assert_eq!(
            output.status.code(),
            Some(step.status),
            "README.md:{}: `{}` exited with {:?}, not {}\n{shown}",
            step.line,
            step.command,
            output.status.code(),
            step.status
        );
        assert!(
            output_matches(&step.expected, &lines),
            "README.md:{}: `{}` printed other lines than the README shows:\nexpected:\n{}\n{shown}",
            step.line,
            step.command,
            step.expected.join("\n")
        );
    }
}

#[test]
fn the_matcher_matches_what_it_should() {
    assert!(line_matches("ok: [..] records", "ok: 3 records"));
    assert!(!line_matches("ok: [..] records", "ok: 3 lines"));
    assert!(line_matches("[..]", "anything"));
    let lines = ["a", "b", "c"];
    let expect = |e: &[&str]| e.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(output_matches(&expect(&["a", "b", "c"]), &lines));
    assert!(output_matches(&expect(&["a", "...", "c"]), &lines));
    assert!(output_matches(&expect(&["...", "c"]), &lines));
    assert!(!output_matches(&expect(&["a", "c"]), &lines));
    assert!(!output_matches(&expect(&["a"]), &lines));
    assert!(output_matches(&expect(&["a", "..."]), &lines));
}
