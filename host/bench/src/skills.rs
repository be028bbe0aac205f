//! `airlock bench skills`: what calling a skill costs over inlining its
//! code, measured side by side in one run: a JS skill imported into the
//! execution, and the bundled Rust component skill (built first, from
//! source, with its build and precompile times reported).

use std::path::PathBuf;
use std::time::Duration;

use airlock::skills::{BuildRequest, NewSkill, SkillLanguage, SkillManifest, SkillStore};
use airlock::{Language, Runtime, Session};
use anyhow::bail;

use super::core::{micros, percentile};

/// A small skill: a helper an agent would save.
const SKILL: &str = "export function summarise(rows) {\n  const total = rows.reduce((sum, r) => sum + r.amount, 0);\n  \
                     return `${rows.length} rows, ${total.toFixed(2)} in all`;\n}\n";
const CALL: &str = "console.log(summarise([{ amount: 1.5 }, { amount: 2.25 }]));";
/// The same skill in TypeScript: transpiled once, when first imported.
const TS_SKILL: &str = "type Row = { amount: number };\nexport function summarise(rows: Row[]): string {\n  \
                        const total: number = rows.reduce((sum: number, r: Row) => sum + r.amount, 0);\n  \
                        return `${rows.length} rows, ${total.toFixed(2)} in all`;\n}\n";

/// The bundled component skill, called with nothing to convert: an import,
/// an instance and a run, with no tool call.
const COMPONENT_CALL: &str = "import { run } from \"./skills/meeting-times\";\n\
                              console.log((await run({ time: \"12:00\", to: [] })).times.length);";
const COMPONENT_INLINE: &str = "console.log({ time: \"12:00\", times: [] }.times.length);";

/// Runs `runs` executions each way, interleaved, and prints the medians.
/// `config` must offer the `time` server the component skill imports;
/// `target_dir` is cargo's folder for the skill (default: a fresh one, so
/// the build figure is a first build).
pub async fn bench_skills(runs: usize, config: &airlock::Config, target_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let manifest = SkillManifest {
        name: "summarise".into(),
        description: "Summarise rows.".into(),
        language: SkillLanguage::JavaScript,
        version: "1.0.0".into(),
        code_sha256: String::new(),
        tools: Default::default(),
    };
    let store = SkillStore::new(vec![folder.path().to_path_buf()]);
    let typescript =
        SkillManifest { name: "summarise-ts".into(), language: SkillLanguage::TypeScript, ..manifest.clone() };
    store.save(NewSkill { manifest, documentation: "", code: SKILL.as_bytes() }, false)?;
    store.save(NewSkill { manifest: typescript, documentation: "", code: TS_SKILL.as_bytes() }, false)?;
    let cache = tempfile::tempdir()?;
    let runtime = Runtime::builder()
        .config(config)
        .cache_dir(Some(cache.path().to_path_buf()))
        .skill_folders(vec![folder.path().to_path_buf()])
        .build()
        .await?;

    let fresh_target = tempfile::tempdir()?;
    // The example Rust skill, in the repository the benchmark runs from.
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../skills/meeting-times");
    let request =
        BuildRequest { source, target_dir: Some(target_dir.unwrap_or_else(|| fresh_target.path().to_path_buf())) };
    eprintln!("building skills/meeting-times (a first build compiles its dependencies: a minute or two) ...");
    let built = runtime.build_skill(&request).await?;

    let session = runtime.session()?;
    let imported = format!("import {{ summarise }} from \"./skills/summarise\";\n{CALL}");
    let inlined = format!("{SKILL}{CALL}");
    let (js_import, js_inline) = side_by_side(&session, runs, [&imported, &inlined], "2 rows, 3.75 in all\n").await?;
    let imported_ts = format!("import {{ summarise }} from \"./skills/summarise-ts\";\n{CALL}");
    let (ts_import, ts_inline) =
        side_by_side(&session, runs, [&imported_ts, &inlined], "2 rows, 3.75 in all\n").await?;
    let (component, component_inline) = side_by_side(&session, runs, [COMPONENT_CALL, COMPONENT_INLINE], "0\n").await?;
    let (whole_call, instantiate_and_run) = direct_calls(&session, runs, false).await?;
    let (whole_after_js, instantiate_after_js) = direct_calls(&session, runs, true).await?;
    runtime.shutdown().await;

    println!("Skills: a skill called vs its work inlined, {runs} executions each, interleaved (p50)");
    println!("{:<62} {:>10}", "figure", "value");
    let row = |label: &str, value: String| println!("{label:<62} {value:>10}");
    row("JS skill: execution importing it", micros(js_import));
    row("JS skill: execution with its code inlined", micros(js_inline));
    row("JS skill: import overhead (difference)", micros(js_import.saturating_sub(js_inline)));
    row("TS skill: execution importing it", micros(ts_import));
    row("TS skill: import overhead over the JS inlined", micros(ts_import.saturating_sub(ts_inline)));
    row("component skill: execution calling it (import+instance+run)", micros(component));
    row("component skill: execution doing the same inline", micros(component_inline));
    row("component skill: call overhead (difference)", micros(component.saturating_sub(component_inline)));
    row("component skill: Session::run_skill, whole call", micros(whole_call));
    row("component skill: Session::run_skill, instantiate + run", micros(instantiate_and_run));
    row("component skill: the same, each after a JS execution: whole", micros(whole_after_js));
    row("component skill: the same, each after a JS execution: inst+run", micros(instantiate_after_js));
    row("component skill: cargo build of skills/meeting-times", format!("{:.1} s", built.cargo_time.as_secs_f64()));
    row("component skill: precompile (Cranelift)", format!("{:.0} ms", built.precompile_time.as_secs_f64() * 1e3));
    row("component skill: skill.wasm size", format!("{} KiB", built.skill.code.len() / 1024));
    Ok(())
}

/// The p50 of calling the component skill from the embedding API: the
/// whole call, and its instantiate + run (the execution's wall time).
/// With `after_js`, a JS execution runs before each call, as when agent
/// code calls the skill (its working set is then cold in the CPU caches).
async fn direct_calls(session: &Session, runs: usize, after_js: bool) -> anyhow::Result<(Duration, Duration)> {
    let input = serde_json::json!({ "time": "12:00", "to": [] });
    let (mut whole, mut inner) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for i in 0..runs + 50 {
        if after_js {
            session.execute(COMPONENT_INLINE, Language::JavaScript).await?;
        }
        let started = std::time::Instant::now();
        let result = session.run_skill("meeting-times", &input).await?;
        let elapsed = started.elapsed();
        if result.value["times"] != serde_json::json!([]) {
            bail!("the skill returned {} ({:?})", result.value, result.error);
        }
        if i >= 50 {
            whole.push(elapsed);
            inner.push(result.stats.wall_time);
        }
    }
    whole.sort_unstable();
    inner.sort_unstable();
    Ok((percentile(&whole, 50), percentile(&inner, 50)))
}

/// The p50 wall time of each of two scripts run `runs` times, interleaved,
/// after 50 warm-up rounds; both must print `expected`.
async fn side_by_side(
    session: &Session,
    runs: usize,
    scripts: [&str; 2],
    expected: &str,
) -> anyhow::Result<(Duration, Duration)> {
    let mut times = [Vec::with_capacity(runs), Vec::with_capacity(runs)];
    for i in 0..runs + 50 {
        for (script, times) in scripts.iter().zip(times.iter_mut()) {
            let result = session.execute(script, Language::JavaScript).await?;
            if result.stdout != expected {
                bail!("the benchmark script printed {:?} ({:?}): {script}", result.stdout, result.error);
            }
            if i >= 50 {
                times.push(result.stats.wall_time);
            }
        }
    }
    let [mut first, mut second] = times;
    first.sort_unstable();
    second.sort_unstable();
    Ok((percentile(&first, 50), percentile(&second, 50)))
}
