//! `airlock skills list|show|add|rm|build`: the skills agents import from
//! `./skills/<name>`.

use std::path::PathBuf;

use airlock::Runtime;
use airlock::skills::{BuildRequest, SaveRequest, SkillError, SkillLanguage, SkillStore, save_source, stale_tools};
use clap::{Args, Subcommand};

use super::{EXIT_OK, EXIT_THREW, EXIT_USAGE};

/// Where skills live and which servers they call.
#[derive(Args)]
pub struct SkillArgs {
    /// A skill folder, searched in order (repeatable); skills are saved into
    /// the first. Default: the user's folder ($AIRLOCK_SKILLS_DIR, else
    /// ~/.local/share/airlock/skills), then the bundled skills.
    #[arg(long = "skills-dir", value_name = "DIR")]
    folders: Vec<PathBuf>,
    /// The servers the skills call, to check that they still fit; default:
    /// $AIRLOCK_CONFIG.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// `airlock skills ...`
#[derive(Subcommand)]
pub enum SkillsCommand {
    /// List the skills, with any that no longer fit their tools marked stale.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        skills: SkillArgs,
    },
    /// Print a skill's SKILL.md and whether it is stale.
    Show {
        /// The skill's name.
        name: String,
        #[command(flatten)]
        skills: SkillArgs,
    },
    /// Save a JS, TS or Python file as a skill, recording the tools it
    /// calls and their current schemas.
    Add {
        /// The code (`.js`, `.ts` or `.py`).
        file: PathBuf,
        /// The skill's name (lowercase letters, digits, hyphens).
        #[arg(long)]
        name: String,
        /// One line on what it does.
        #[arg(long)]
        description: String,
        /// Its version.
        #[arg(long, default_value = "1.0.0")]
        version: String,
        /// Replace a skill of the same name.
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        skills: SkillArgs,
    },
    /// Build a Rust component skill (a crate with SKILL.md) for
    /// wasm32-wasip2, check its typed imports against the servers,
    /// precompile it and save it into the first skill folder.
    Build {
        /// The skill crate's folder.
        dir: PathBuf,
        /// Cargo's target folder; default: $AIRLOCK_SKILL_TARGET_DIR, else
        /// the cache folder's skill-target/.
        #[arg(long, value_name = "DIR")]
        target_dir: Option<PathBuf>,
        #[command(flatten)]
        skills: SkillArgs,
    },
    /// Remove a saved skill (from the first folder).
    Rm {
        /// The skill's name.
        name: String,
        #[command(flatten)]
        skills: SkillArgs,
    },
}

impl SkillArgs {
    fn store(&self) -> SkillStore {
        match self.folders.is_empty() {
            true => SkillStore::new(airlock::skills::default_folders()),
            false => SkillStore::new(self.folders.clone()),
        }
    }

    async fn runtime(&self) -> anyhow::Result<Option<Runtime>> {
        let Some(config) = super::load_config(self.config.as_deref()) else { return Ok(None) };
        Ok(Some(super::runtime_builder().config(&config).skill_folders(self.store().folders().to_vec()).build().await?))
    }
}

/// Runs `airlock skills ...`.
pub async fn skills(command: SkillsCommand) -> anyhow::Result<u8> {
    match command {
        SkillsCommand::List { json, skills } => list(&skills, json).await,
        SkillsCommand::Show { name, skills } => show(&name, &skills).await,
        SkillsCommand::Add { file, name, description, version, replace, skills } => {
            add(&file, name, description, version, replace, &skills).await
        }
        SkillsCommand::Build { dir, target_dir, skills } => build(dir, target_dir, &skills).await,
        SkillsCommand::Rm { name, skills } => match skills.store().remove(&name) {
            Ok(()) => Ok(EXIT_OK),
            Err(error) => {
                eprintln!("error: {error}");
                Ok(EXIT_THREW)
            }
        },
    }
}

async fn list(args: &SkillArgs, json: bool) -> anyhow::Result<u8> {
    let Some(runtime) = args.runtime().await? else { return Ok(EXIT_USAGE) };
    let listed = runtime.skills().list();
    let mut rows = Vec::new();
    for entry in listed {
        let row = match entry.skill {
            Ok(skill) => {
                let stale = stale_tools(&skill.manifest, runtime.tools()).await;
                serde_json::json!({
                    "name": entry.name,
                    "language": skill.manifest.language.name(),
                    "version": skill.manifest.version,
                    "description": skill.manifest.description,
                    "folder": skill.folder,
                    "stale": stale.iter().map(|s| serde_json::json!({"tool": s.tool, "change": s.change})).collect::<Vec<_>>(),
                })
            }
            Err(error @ SkillError::NotBuilt { .. }) => {
                serde_json::json!({"name": entry.name, "language": "component", "error": error.to_string()})
            }
            Err(error) => {
                serde_json::json!({"name": entry.name, "language": "-", "error": format!("refused: {error}")})
            }
        };
        rows.push(row);
    }
    runtime.shutdown().await;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(EXIT_OK);
    }
    if rows.is_empty() {
        println!("no skills in {}", folders_text(&args.store()));
        return Ok(EXIT_OK);
    }
    println!("{:<24} {:<10} DESCRIPTION", "SKILL", "LANGUAGE");
    let text = |row: &serde_json::Value, key: &str| row[key].as_str().unwrap_or_default().to_string();
    for row in &rows {
        let about = match row.get("error") {
            Some(error) => error.as_str().unwrap_or_default().to_string(),
            None => {
                let stale = row["stale"].as_array().and_then(|s| s.first()).and_then(|s| s["tool"].as_str());
                let mark = stale.map(|first| format!(" [stale: {first}]")).unwrap_or_default();
                format!("{}{mark}", text(row, "description"))
            }
        };
        println!("{:<24} {:<10} {about}", text(row, "name"), text(row, "language"));
    }
    Ok(EXIT_OK)
}

async fn show(name: &str, args: &SkillArgs) -> anyhow::Result<u8> {
    let Some(runtime) = args.runtime().await? else { return Ok(EXIT_USAGE) };
    let outcome = match runtime.skills().load(name) {
        Ok(skill) => {
            print!("{}", skill.manifest.render(&skill.documentation));
            println!("# in {}", skill.folder.display());
            for stale in stale_tools(&skill.manifest, runtime.tools()).await {
                println!("# stale: {stale}");
            }
            EXIT_OK
        }
        Err(error) => {
            eprintln!("error: {error}");
            EXIT_THREW
        }
    };
    runtime.shutdown().await;
    Ok(outcome)
}

async fn add(
    file: &std::path::Path,
    name: String,
    description: String,
    version: String,
    replace: bool,
    args: &SkillArgs,
) -> anyhow::Result<u8> {
    let code = match std::fs::read_to_string(file) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", file.display());
            return Ok(EXIT_USAGE);
        }
    };
    let Some(runtime) = args.runtime().await? else { return Ok(EXIT_USAGE) };
    let language = SkillLanguage::from(airlock::Language::from_path(file));
    let request = SaveRequest {
        name,
        description,
        code,
        language,
        documentation: None,
        version: Some(version),
        replace,
        session: false,
    };
    let saved = save_source(runtime.tools(), runtime.skills(), request).await;
    runtime.shutdown().await;
    match saved {
        Ok(skill) => {
            let tools: Vec<&str> = skill.manifest.tools.keys().map(String::as_str).collect();
            println!("saved {} in {} (calls: {})", skill.manifest.name, skill.folder.display(), tools.join(", "));
            Ok(EXIT_OK)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Ok(EXIT_THREW)
        }
    }
}

async fn build(source: PathBuf, target_dir: Option<PathBuf>, args: &SkillArgs) -> anyhow::Result<u8> {
    let Some(runtime) = args.runtime().await? else { return Ok(EXIT_USAGE) };
    eprintln!("building {} for wasm32-wasip2 ...", source.display());
    let built = runtime.build_skill(&BuildRequest { source, target_dir }).await;
    runtime.shutdown().await;
    match built {
        Ok(built) => {
            let manifest = &built.skill.manifest;
            let tools: Vec<&str> = manifest.tools.keys().map(String::as_str).collect();
            println!(
                "built {} ({} KiB, sha256 {}) in {:.1} s; precompiled in {:.0} ms",
                manifest.name,
                built.skill.code.len() / 1024,
                &manifest.code_sha256[..12],
                built.cargo_time.as_secs_f64(),
                built.precompile_time.as_secs_f64() * 1000.0
            );
            println!("typed calls: {}", if tools.is_empty() { "none".into() } else { tools.join(", ") });
            println!("saved in {}", built.skill.folder.display());
            Ok(EXIT_OK)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Ok(EXIT_THREW)
        }
    }
}

fn folders_text(store: &SkillStore) -> String {
    let folders: Vec<String> = store.folders().iter().map(|f| f.display().to_string()).collect();
    if folders.is_empty() { "(no skill folder)".into() } else { folders.join(", ") }
}
