//! Skills through the binary: saved with `airlock skills add` against the
//! real records server, imported and browsed by agent code, refused when
//! tampered with, removed.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{cache_dir, records_config};

fn airlock(args: &[&str], skills: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .env("AIRLOCK_CACHE_DIR", cache_dir())
        .env("AIRLOCK_SKILLS_DIR", skills)
        .output()
        .expect("airlock runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_saved_skill_is_imported_browsed_and_guarded() {
    let dir = tempfile::tempdir().unwrap();
    let skills = dir.path().join("skills");
    let config = records_config(dir.path());
    let config = config.to_str().unwrap();
    let source = dir.path().join("record_email.ts");
    std::fs::write(
        &source,
        "import { getRecord } from \"./servers/records\";\n\
         export async function emailOf(id: number): Promise<string> { return (await getRecord({ id })).email; }\n",
    )
    .unwrap();

    let add =
        ["skills", "add", source.to_str().unwrap(), "--name", "record-email", "--description", "A record's email."];
    let saved = airlock(&[&add[..], &["--config", config]].concat(), &skills);
    assert_eq!(saved.status.code(), Some(0), "{}", text(&saved.stderr));
    assert!(text(&saved.stdout).contains("(calls: records.get_record)"), "{}", text(&saved.stdout));
    let again = airlock(&[&add[..], &["--config", config]].concat(), &skills);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("exists already"), "{}", text(&again.stderr));

    let listed = airlock(&["skills", "list", "--config", config], &skills);
    let record_line = text(&listed.stdout).lines().find(|line| line.starts_with("record-email")).map(str::to_string);
    let record_line = record_line.unwrap_or_else(|| panic!("{}", text(&listed.stdout)));
    assert!(record_line.contains("typescript") && !record_line.contains("stale"), "{record_line}");

    // Agent code imports it (the TypeScript is compiled on the way) and
    // browses ./skills.
    let script = dir.path().join("task.js");
    std::fs::write(
        &script,
        "import { emailOf } from \"./skills/record-email\";\nimport * as fs from \"fs\";\n\
         console.log(await emailOf(7));\nconsole.log(fs.readdirSync(\"./skills\"), fs.readdirSync(\"./skills/record-email\"));\n\
         console.log(fs.readFileSync(\"./skills/record-email/SKILL.md\", \"utf8\").includes(\"records.get_record\"));\n",
    )
    .unwrap();
    let run = airlock(&["run", "--config", config, script.to_str().unwrap()], &skills);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let lines: Vec<String> = text(&run.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines[0], "[EMAIL_1]");
    assert_eq!(lines[1], r#"[ "collect-pages", "export-csv", "record-email" ] [ "SKILL.md", "index.ts" ]"#);
    assert_eq!(lines[2], "true");

    // The real server changes get_record's schema (its id becomes a string):
    // the skill is listed stale, and importing it warns, naming the tool.
    let changed = dir.path().join("changed.json");
    let mut document: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(config).unwrap()).unwrap();
    document["mcpServers"]["records"]["env"] = serde_json::json!({"RECORDS_IDS_AS_TEXT": "1"});
    std::fs::write(&changed, document.to_string()).unwrap();
    let changed = changed.to_str().unwrap();
    let listed = airlock(&["skills", "list", "--config", changed], &skills);
    assert!(text(&listed.stdout).contains("[stale: records.get_record]"), "{}", text(&listed.stdout));
    let stale = airlock(&["run", "--config", changed, script.to_str().unwrap()], &skills);
    assert!(
        text(&stale.stderr)
            .contains("skill 'record-email' may be stale: records.get_record: its input or output schema changed"),
        "{}",
        text(&stale.stderr)
    );

    // Code that no longer matches SKILL.md is refused, by import and in lists.
    std::fs::write(skills.join("record-email/index.ts"), "export const emailOf = () => 'changed';\n").unwrap();
    let refused = airlock(&["run", "--config", config, script.to_str().unwrap()], &skills);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("does not match SKILL.md"), "{}", text(&refused.stderr));
    let listed = airlock(&["skills", "list", "--config", config], &skills);
    let row = text(&listed.stdout).lines().find(|line| line.starts_with("record-email ")).map(str::to_owned);
    assert!(row.as_deref().is_some_and(|row| row.contains(" refused: ")), "{}", text(&listed.stdout));

    // Names cannot leave the folder; removal works once.
    let bad = airlock(
        &[
            &["skills", "add", source.to_str().unwrap(), "--name", "../x", "--description", "d"][..],
            &["--config", config],
        ]
        .concat(),
        &skills,
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("not a skill name"), "{}", text(&bad.stderr));
    assert_eq!(airlock(&["skills", "rm", "record-email"], &skills).status.code(), Some(0));
    assert_eq!(airlock(&["skills", "rm", "record-email"], &skills).status.code(), Some(1));
}

#[test]
fn skills_build_refuses_what_it_cannot_build_and_lists_the_unbuilt_source() {
    let dir = tempfile::tempdir().unwrap();
    let skills = dir.path().join("skills");
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../skills");
    let javascript = airlock(&["skills", "build", bundled.join("collect-pages").to_str().unwrap()], &skills);
    assert_eq!(javascript.status.code(), Some(1));
    assert!(text(&javascript.stderr).contains("only component skills are built"), "{}", text(&javascript.stderr));
    let missing = airlock(&["skills", "build", dir.path().join("nope").to_str().unwrap()], &skills);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("nope/SKILL.md"), "{}", text(&missing.stderr));
    // A crate that does not compile: cargo's own error reaches the user.
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(broken.join("src")).unwrap();
    std::fs::write(
        broken.join("SKILL.md"),
        "---\nname: broken\ndescription: Does not compile.\nlanguage: component\n---\nBroken.\n",
    )
    .unwrap();
    std::fs::write(
        broken.join("Cargo.toml"),
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2024\"\n[lib]\ncrate-type = [\"cdylib\"]\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(broken.join("src/lib.rs"), "pub fn answer() -> u32 { \"forty-two\" }\n").unwrap();
    let failed = airlock(&["skills", "build", broken.to_str().unwrap()], &skills);
    assert_eq!(failed.status.code(), Some(1));
    assert!(text(&failed.stderr).contains("mismatched types"), "{}", text(&failed.stderr));
    assert!(!skills.exists(), "nothing saved");

    // The example Rust skill's source is listed with how to build it.
    let listed = airlock(&["skills", "list", "--skills-dir", bundled.to_str().unwrap()], &skills);
    let stdout = text(&listed.stdout);
    assert!(
        stdout.contains(
            "meeting-times            component  skill 'meeting-times' is not built: run `airlock skills build"
        ),
        "{stdout}"
    );
}
