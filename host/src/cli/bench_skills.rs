//! `airlock bench skills`: what importing a JS skill costs over inlining
//! its code, measured side by side in one run.

use airlock::skills::{NewSkill, SkillLanguage, SkillManifest, SkillStore};
use airlock::{Language, Runtime};
use anyhow::bail;

use super::bench::{micros, percentile};

/// A small skill: a helper an agent would save.
const SKILL: &str = "export function summarise(rows) {\n  const total = rows.reduce((sum, r) => sum + r.amount, 0);\n  \
                     return `${rows.length} rows, ${total.toFixed(2)} in all`;\n}\n";
const CALL: &str = "console.log(summarise([{ amount: 1.5 }, { amount: 2.25 }]));";

/// Runs `runs` executions each way, interleaved, and prints the medians.
pub async fn bench_skills(runs: usize) -> anyhow::Result<()> {
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
    store.save(NewSkill { manifest, documentation: "", code: SKILL.as_bytes() }, false)?;
    let runtime = Runtime::builder().skill_folders(vec![folder.path().to_path_buf()]).build().await?;
    let session = runtime.session()?;
    let imported = format!("import {{ summarise }} from \"./skills/summarise\";\n{CALL}");
    let inlined = format!("{SKILL}{CALL}");
    let (mut with_import, mut with_inline) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for i in 0..runs + 50 {
        for (code, times) in [(&imported, &mut with_import), (&inlined, &mut with_inline)] {
            let result = session.execute(code, Language::JavaScript).await?;
            if result.stdout != "2 rows, 3.75 in all\n" {
                bail!("the benchmark script printed {:?} ({:?})", result.stdout, result.error);
            }
            if i >= 50 {
                times.push(result.stats.wall_time);
            }
        }
    }
    with_import.sort_unstable();
    with_inline.sort_unstable();
    let (import, inline) = (percentile(&with_import, 50), percentile(&with_inline, 50));
    println!("Skills: a JS skill imported vs its code inlined, {runs} executions each, interleaved");
    println!("{:<58} {:>10}", "figure", "value");
    println!("{:<58} {:>10}", "execution importing the skill (p50)", micros(import));
    println!("{:<58} {:>10}", "execution with the code inlined (p50)", micros(inline));
    println!("{:<58} {:>10}", "import overhead (difference of the p50s)", micros(import.saturating_sub(inline)));
    Ok(())
}
