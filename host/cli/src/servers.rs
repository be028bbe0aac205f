//! `airlock servers list`, `airlock tools list [SERVER]`, `airlock tools
//! search QUERY`, `airlock wit SERVER`.

use std::path::PathBuf;

use airlock::{Language, Runtime, ToolDefinition};
use clap::{Args, Subcommand};

use super::{EXIT_OK, EXIT_THREW, EXIT_USAGE};

/// Where the servers come from.
#[derive(Args)]
pub struct ConfigArg {
    /// An `{"mcpServers": {...}}` config file; default: $AIRLOCK_CONFIG.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Whose declarations to print.
#[derive(Args)]
pub struct LanguageArg {
    /// `javascript`/`typescript` (TypeScript declarations) or `python`
    /// (Python signatures).
    #[arg(long, default_value = "javascript", value_parser = super::run::parse_language)]
    language: Language,
}

/// `airlock servers ...`
#[derive(Subcommand)]
pub enum ServersCommand {
    /// List the configured servers, their transport and whether they run.
    List(ConfigArg),
}

/// `airlock tools ...`
#[derive(Subcommand)]
pub enum ToolsCommand {
    /// List the tools of every server, or of one (starting it).
    List {
        /// Only this server.
        server: Option<String>,
        /// Print the declarations agent code is written against.
        #[arg(long)]
        declarations: bool,
        #[command(flatten)]
        language: LanguageArg,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Find the tools a task needs across every server (BM25), as agents
    /// do with `search_tools`.
    Search {
        /// The task or the words to look for.
        query: String,
        /// What to print per tool: `name`, `description` or `full` (adds
        /// the declaration).
        #[arg(long, default_value = "name")]
        detail: airlock::discovery::Detail,
        /// How many tools (companions included).
        #[arg(long, default_value_t = airlock::discovery::DEFAULT_LIMIT)]
        limit: usize,
        #[command(flatten)]
        language: LanguageArg,
        #[command(flatten)]
        config: ConfigArg,
    },
}

/// `airlock wit SERVER`
#[derive(Args)]
pub struct WitArgs {
    /// The server whose WIT to print.
    server: String,
    /// An `{"mcpServers": {...}}` config file; default: $AIRLOCK_CONFIG.
    #[arg(long)]
    config: Option<PathBuf>,
}

async fn runtime(config: Option<&std::path::Path>) -> anyhow::Result<Option<Runtime>> {
    let Some(config) = super::load_config_with_servers(config) else { return Ok(None) };
    Ok(Some(super::runtime_builder().config(&config).build().await?))
}

/// Runs `airlock servers ...`.
pub async fn servers(command: ServersCommand) -> anyhow::Result<u8> {
    let ServersCommand::List(args) = command;
    let Some(runtime) = runtime(args.config.as_deref()).await? else { return Ok(EXIT_USAGE) };
    let status = match runtime.tools().upstream() {
        Some(pool) => pool.status().await,
        None => Vec::new(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        println!("{:<20} {:<6} {:<8} TARGET", "SERVER", "KIND", "STATE");
        for s in &status {
            println!(
                "{:<20} {:<6} {:<8} {}",
                s.name,
                s.transport,
                if s.running { "running" } else { "idle" },
                s.target
            );
        }
    }
    Ok(EXIT_OK)
}

/// Runs `airlock tools ...`.
pub async fn tools(command: ToolsCommand) -> anyhow::Result<u8> {
    match command {
        ToolsCommand::List { server, declarations, language, config } => {
            let declarations = declarations.then_some(language.language);
            list_tools(server, declarations, config).await
        }
        ToolsCommand::Search { query, detail, limit, language, config } => {
            search_tools(&query, detail, limit, language.language, config).await
        }
    }
}

async fn search_tools(
    query: &str,
    detail: airlock::discovery::Detail,
    limit: usize,
    language: Language,
    config: ConfigArg,
) -> anyhow::Result<u8> {
    let Some(runtime) = runtime(config.config.as_deref()).await? else { return Ok(EXIT_USAGE) };
    let found = runtime.search_tools_for(language, query, detail, limit).await;
    runtime.shutdown().await;
    if config.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        print!("{}", found.to_text());
    }
    Ok(if found.unavailable.is_empty() { EXIT_OK } else { EXIT_THREW })
}

/// Lists tools, or with `declarations`, prints them as code in that language
/// reads them.
async fn list_tools(server: Option<String>, declarations: Option<Language>, config: ConfigArg) -> anyhow::Result<u8> {
    let Some(runtime) = runtime(config.config.as_deref()).await? else { return Ok(EXIT_USAGE) };
    let names: Vec<String> = match server {
        Some(server) => vec![server],
        None => runtime.tools().servers().into_iter().map(String::from).collect(),
    };
    let mut listed: Vec<(String, Vec<ToolDefinition>)> = Vec::new();
    let mut status = EXIT_OK;
    for name in names {
        match runtime.tools().tools(&name).await {
            Ok(tools) => listed.push((name, tools)),
            Err(e) => {
                eprintln!("error: {name}: {e}");
                status = EXIT_THREW;
            }
        }
    }
    let configured: Vec<String> = runtime.tools().servers().into_iter().map(str::to_string).collect();
    runtime.shutdown().await;
    if let Some(language) = declarations {
        let configured: Vec<&str> = configured.iter().map(String::as_str).collect();
        for (server, tools) in &listed {
            // TypeScript declarations are a module's: name its path.
            if language != Language::Python {
                println!("// ./servers/{server}");
            }
            println!("{}", language.declarations().declarations_of(server, &configured, tools, &|_| true));
        }
    } else if config.json {
        let map: serde_json::Map<String, serde_json::Value> =
            listed.into_iter().map(|(name, tools)| (name, serde_json::to_value(tools).unwrap_or_default())).collect();
        println!("{}", serde_json::to_string_pretty(&map)?);
    } else {
        for (server, tools) in &listed {
            println!("{server} ({} tools)", tools.len());
            for tool in tools {
                let description = tool.description.as_deref().unwrap_or("").lines().next().unwrap_or("");
                println!("  {:<32} {}", tool.name, description);
            }
        }
    }
    Ok(status)
}

/// Runs `airlock wit SERVER`.
pub async fn wit(args: WitArgs) -> anyhow::Result<u8> {
    let Some(runtime) = runtime(args.config.as_deref()).await? else { return Ok(EXIT_USAGE) };
    let tools = runtime.tools().tools(&args.server).await;
    runtime.shutdown().await;
    match tools {
        Ok(tools) => {
            print!("{}", airlock::wit_interface(&args.server, &tools));
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(EXIT_THREW)
        }
    }
}
