//! Skills saved from guest code with `saveSkill`, imported by later
//! executions, and reported stale when a tool they call changes its schema.

use crate::support::{assert_ok, builder, run_in};
use airlock::skills::{BuildRequest, SkillLanguage};
use airlock::{Language, Limits, Runtime, ToolDefinition};
use serde_json::{Value, json};

/// A runtime whose `crm.find` takes an `id` of `id_type`, with skills in `folder`.
async fn runtime(folder: &std::path::Path, id_type: &str) -> Runtime {
    let find = ToolDefinition::new("find")
        .input_schema(json!({"type": "object", "properties": {"id": {"type": id_type}}, "required": ["id"]}));
    builder()
        .tool("crm", find, |args: Value| async move { Ok(json!({"id": args["id"], "status": "active"})) })
        .skill_folders(vec![folder.to_path_buf()])
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn code_saves_a_skill_that_later_executions_import() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime(dir.path(), "integer").await;
    let session = runtime.session().unwrap();
    let save = r#"
        import { saveSkill } from "airlock";
        const code = `import * as crm from "./servers/crm";
export async function nameOf(id) { return (await crm.find({ id })).status; }`;
        console.log(JSON.stringify(await saveSkill({ name: "name-of", description: "A customer's status.", code })));
        for (const bad of [{ name: "../x", description: "d", code }, { name: "name-of", description: "d", code }, { name: "y", description: "d", code: "let x: = 1", language: "typescript" }]) {
            try { await saveSkill(bad); console.log("SAVED") } catch (e) { console.log(e.message) }
        }"#;
    let saved = run_in(&session, save, Language::JavaScript, &Limits::default()).await;
    assert_ok(&saved);
    let lines: Vec<&str> = saved.stdout.lines().collect();
    assert_eq!(lines[0], r#"{"name":"name-of","tools":["crm.find"]}"#);
    assert!(lines[1].contains("not a skill name"), "{}", lines[1]);
    assert!(lines[2].contains("exists already"), "{}", lines[2]);
    assert!(!lines[3].contains("SAVED"), "{}", lines[3]);

    // A later execution of another session imports it; it shares the
    // execution's limits and counts its tool calls.
    let import = r#"import { nameOf } from "./skills/name-of"; console.log(await nameOf(7));"#;
    let other = runtime.session().unwrap();
    let used = run_in(&other, import, Language::JavaScript, &Limits::default()).await;
    assert_ok(&used);
    assert_eq!(used.stdout, "active\n");
    assert_eq!(used.stderr, "");
    assert_eq!(used.stats.tool_calls, 1);

    // Skills are found by search_tools too, with their code at detail full.
    let search = r#"import { searchTools } from "airlock";
        const [found] = await searchTools("customer status", "full", 1);
        console.log(found.name, "|", found.description, "|", found.declaration.split("\n")[0]);"#;
    let found = run_in(&other, search, Language::JavaScript, &Limits::default()).await;
    assert_ok(&found);
    assert_eq!(found.stdout, "skills.name-of | A customer's status. | // import { ... } from \"./skills/name-of\"\n");

    // The tool's schema changes: importing warns, naming the tool.
    let changed = runtime_changed(dir.path()).await;
    let stale = run_in(&changed.session().unwrap(), import, Language::JavaScript, &Limits::default()).await;
    assert!(
        stale.stderr.contains("skill 'name-of' may be stale: crm.find: its input or output schema changed"),
        "{}",
        stale.stderr
    );
}

async fn runtime_changed(folder: &std::path::Path) -> Runtime {
    runtime(folder, "string").await
}

#[tokio::test]
async fn the_bundled_skills_page_through_a_real_server_and_export_csv() {
    let runtime = crate::support::runtime_with(&["records"], Value::Null).await;
    let session = runtime.session().unwrap();
    let code = r#"
        import { listRecords } from "./servers/records";
        import { collectPages } from "./skills/collect-pages";
        import { writeCsv } from "./skills/export-csv";
        const all = await collectPages(listRecords, {}, { pageSize: 2500 });
        const overdue = all.filter((r) => r.status === "overdue");
        console.log(all.length, new Set(all.map((r) => r.id)).size);
        console.log(JSON.stringify(writeCsv("overdue.csv", overdue, ["id", "status", "amount", "tags"]).rows === overdue.length));"#;
    let result = run_in(&session, code, Language::JavaScript, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "10000 10000\ntrue\n");
    // Four pages of 2500.
    assert_eq!(result.stats.tool_calls, 4);
    let csv = std::fs::read_to_string(session.workspace().join("overdue.csv")).unwrap();
    let mut lines = csv.split("\r\n");
    assert_eq!(lines.next(), Some("id,status,amount,tags"));
    assert!(lines.filter(|line| !line.is_empty()).all(|line| line.contains(",overdue,")), "{csv}");
    runtime.shutdown().await;
}

#[test]
fn the_bundled_skills_are_embedded_and_match_their_manifests() {
    // Written from the binary into a cache folder: a copied binary has them.
    let cache = tempfile::tempdir().unwrap();
    let folder = airlock::skills::bundled_folder_in(cache.path()).unwrap();
    assert!(folder.starts_with(cache.path()), "{}", folder.display());
    let store = airlock::skills::SkillStore::new(vec![folder.clone()]);
    let names: Vec<String> =
        store.list().into_iter().map(|entry| entry.skill.map(|_| entry.name)).collect::<Result<_, _>>().unwrap();
    assert_eq!(names, ["collect-pages", "export-csv"]);
    // Written once: a second call finds the same folder.
    assert_eq!(airlock::skills::bundled_folder_in(cache.path()).unwrap(), folder);
}

/// The source of the example Rust component skill, in the repository.
fn meeting_times_source() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../skills/meeting-times")
}

/// Cargo's target folder for skill builds: the guests' own, so the
/// dependencies the build step compiled already are reused.
fn skill_target_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("guests")
}

#[tokio::test]
async fn the_bundled_rust_skill_builds_and_runs_against_the_real_time_server() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::support::config_with(&["time"], Value::Null);
    let runtime = builder().config(&config).skill_folders(vec![dir.path().to_path_buf()]).build().await.unwrap();
    let request = BuildRequest { source: meeting_times_source(), target_dir: Some(skill_target_dir()) };
    let built = runtime.build_skill(&request).await.expect("builds");
    let manifest = &built.skill.manifest;
    assert_eq!(manifest.language, SkillLanguage::Component);
    assert_eq!(manifest.tools.keys().collect::<Vec<_>>(), ["time.convert_time"], "its typed calls are recorded");
    let saved = dir.path().join("meeting-times");
    assert!(saved.join("skill.wasm").is_file() && saved.join("source/src/lib.rs").is_file());
    assert!(!saved.join("source/target").exists());

    let code = r#"import { run } from "./skills/meeting-times";
        const { times } = await run({ time: "12:00", to: ["Asia/Tokyo", "Asia/Kolkata"] });
        for (const t of times) console.log(t.timezone, t.datetime.slice(11, 16), t.difference, t.dst);"#;
    let result = run_in(&runtime.session().unwrap(), code, Language::JavaScript, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "Asia/Tokyo 21:00 +9.0h false\nAsia/Kolkata 17:30 +5.5h false\n");
    assert_eq!(result.stats.tool_calls, 2);

    // Agents find it, with how to call it.
    let found = runtime.search_tools("time zones for scheduling a meeting", airlock::discovery::Detail::Full, 3).await;
    let skill = found.matches.iter().find(|m| m.tool == "meeting-times").expect("found");
    assert!(skill.declaration.as_deref().unwrap().contains("export function run(input: unknown)"));
    runtime.shutdown().await;
}

#[tokio::test]
async fn building_against_a_server_whose_schema_changed_names_the_tool_and_field() {
    let dir = tempfile::tempdir().unwrap();
    // A `time` server whose `convert_time` now wants `when` instead of `time`.
    let convert = ToolDefinition::new("convert_time").input_schema(json!({
        "type": "object",
        "properties": {"source_timezone": {"type": "string"}, "target_timezone": {"type": "string"}, "when": {"type": "string"}},
        "required": ["source_timezone", "target_timezone", "when"]
    }));
    let runtime = builder()
        .tool("time", convert, |_: Value| async { Ok(json!(null)) })
        .skill_folders(vec![dir.path().to_path_buf()])
        .build()
        .await
        .unwrap();
    let request = BuildRequest { source: meeting_times_source(), target_dir: Some(skill_target_dir()) };
    let error = runtime.build_skill(&request).await.expect_err("must not build").to_string();
    assert!(error.contains("time.convert_time argument: field `time` is no longer in the server's schema"), "{error}");
    assert!(!dir.path().join("meeting-times").exists(), "nothing saved");
}

#[tokio::test]
async fn a_skill_saved_for_the_session_is_seen_by_that_session_only() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime(dir.path(), "integer").await;
    let (mine, other) = (runtime.session().unwrap(), runtime.session().unwrap());
    let save = r#"import { saveSkill } from "airlock";
        await saveSkill({ name: "draft", description: "A draft.", code: "export const answer = 42;", session: true });
        const { answer } = await import("./skills/draft");
        import * as fs from "fs";
        console.log(answer, JSON.stringify(fs.readdirSync("./skills")));"#;
    let saved = run_in(&mine, save, Language::JavaScript, &Limits::default()).await;
    assert_ok(&saved);
    assert_eq!(saved.stdout, "42 [\"draft\"]\n");
    assert!(!mine.workspace().join(".skills").exists(), "not in the workspace, where code could reach it");
    assert!(!dir.path().join("draft").exists(), "not in the shared folder");

    // Later executions of the same session import it; other sessions do not see it.
    let import = r#"import { answer } from "./skills/draft"; console.log(answer);"#;
    let again = run_in(&mine, import, Language::JavaScript, &Limits::default()).await;
    assert_eq!(again.stdout, "42\n");
    let elsewhere = run_in(&other, import, Language::JavaScript, &Limits::default()).await;
    let error = elsewhere.error.expect("not found").to_string();
    assert!(error.contains("no skill 'draft'"), "{error}");
    assert!(mine.skills().load("draft").is_ok() && other.skills().load("draft").is_err());
}

#[tokio::test]
async fn code_cannot_point_the_sessions_skill_folder_at_a_host_folder() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime(dir.path(), "integer").await;
    let session = runtime.session().unwrap();
    // A host folder outside the workspace, with a file in it.
    let victim = tempfile::tempdir().unwrap();
    std::fs::create_dir(victim.path().join("precious")).unwrap();
    std::fs::write(victim.path().join("precious/file.txt"), "keep me").unwrap();
    let up = "../".repeat(session.workspace().components().count() + 2);
    let target = format!("{up}{}", victim.path().display().to_string().trim_start_matches('/'));
    // WASI refuses absolute link targets; a relative one climbs out.
    let code = format!(
        "import os\n\
         os.symlink({target:?}, '/workspace/.skills')\n\
         from airlock import save_skill\n\
         save_skill('precious', 'A planted skill.', 'answer = 1\\n', session=True, replace=True)\n\
         print('saved')\n"
    );
    let result = run_in(&session, &code, Language::Python, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "saved\n");
    assert_eq!(std::fs::read_to_string(victim.path().join("precious/file.txt")).unwrap(), "keep me");
    assert!(!victim.path().join("precious/SKILL.md").exists(), "the host wrote nothing there");
    assert!(session.skills().load("precious").is_ok(), "saved in the session's own folder");
}

#[tokio::test]
async fn a_skill_with_oversized_parts_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime(dir.path(), "integer").await;
    let code = r#"import { saveSkill } from "airlock";
        for (const skill of [
            { name: "big", description: "Big.", code: "// x\n".repeat(300000) },
            { name: "big", description: "d".repeat(2000), code: "export const a = 1;" },
        ]) {
            try { await saveSkill(skill); console.log("saved"); } catch (e) { console.log(e.message); }
        }"#;
    let result = crate::support::run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert!(lines[0].contains("the code is 1500000 bytes, over the 1048576"), "{}", result.stdout);
    assert!(lines[1].contains("the description is 2000 bytes, over the 1024"), "{}", result.stdout);
    // Documentation comes from a model through serve, or the command line.
    let request: airlock::skills::SaveRequest = serde_json::from_value(json!({
        "name": "big", "description": "Big.", "code": "export const a = 1;", "documentation": "d".repeat(100_000)
    }))
    .unwrap();
    let error = airlock::skills::save_source(runtime.tools(), runtime.skills(), request).await.unwrap_err();
    assert!(error.to_string().contains("the documentation is 100000 bytes, over the 65536"), "{error}");
    assert!(!dir.path().join("big").exists());
}
