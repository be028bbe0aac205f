//! Command-line front end: argument parsing and the subcommands.

mod answers;
mod audit;
mod bench;
mod bench_search;
mod bench_skills;
mod bench_tokens;
mod bench_upstream;
mod pii;
mod run;
mod serve;
mod servers;
mod skills;
mod tokens;

use clap::{Parser, Subcommand};

/// Exit status when the code ran to completion.
pub const EXIT_OK: u8 = 0;
/// Exit status when the code threw, or a tool error went uncaught.
pub const EXIT_THREW: u8 = 1;
/// Exit status for usage and configuration errors.
pub const EXIT_USAGE: u8 = 2;
/// Exit status when the execution hit a limit.
pub const EXIT_LIMIT: u8 = 3;

/// Airlock runs code that LLM agents write against MCP tools inside
/// WebAssembly sandboxes.
#[derive(Parser)]
#[command(name = "airlock", version, about, long_about = None)]
pub struct Cli {
    /// Log level for messages on stderr (error, warn, info, debug, trace);
    /// RUST_LOG takes precedence.
    #[arg(long, global = true)]
    pub log_level: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Run a JavaScript or TypeScript file (or `-` for stdin) in the sandbox.
    Run(run::RunArgs),
    /// Serve MCP on stdio: code-mode tools over the configured servers.
    Serve(serve::ServeArgs),
    /// Measure latency, throughput and memory, and print the figures.
    Bench(bench::BenchArgs),
    /// The configured MCP servers.
    #[command(subcommand)]
    Servers(servers::ServersCommand),
    /// The tools the configured servers offer.
    #[command(subcommand)]
    Tools(servers::ToolsCommand),
    /// Print the WIT interface generated for a server's tools.
    Wit(servers::WitArgs),
    /// The PII engine on its own.
    #[command(subcommand)]
    Pii(pii::PiiCommand),
    /// Audit logs.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Saved skills: code agents import from `./skills/<name>`.
    #[command(subcommand)]
    Skills(skills::SkillsCommand),
    /// Count the tokens of files as a model sees them (o200k_base).
    Tokens(tokens::TokensArgs),
}

/// Logs go to stderr; stdout belongs to the code's output.
pub fn init_logging(level: Option<&str>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level.unwrap_or("warn")));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// Runs a subcommand and returns the process exit status.
pub async fn dispatch(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Run(args) => run::run(args).await,
        Command::Serve(args) => serve::serve(args).await,
        Command::Bench(args) => bench::bench(args).await,
        Command::Servers(command) => servers::servers(command).await,
        Command::Tools(command) => servers::tools(command).await,
        Command::Wit(args) => servers::wit(args).await,
        Command::Pii(command) => pii::pii(command),
        Command::Audit(command) => audit::audit(command),
        Command::Tokens(args) => tokens::tokens(args),
        Command::Skills(command) => skills::skills(command).await,
    }
}

/// Reads the config file (`--config`, else `$AIRLOCK_CONFIG`, else none);
/// prints the error and returns `None` when it is malformed.
pub fn load_config(path: Option<&std::path::Path>) -> Option<airlock::Config> {
    let from_env = std::env::var_os("AIRLOCK_CONFIG").map(std::path::PathBuf::from);
    match path.map(std::path::Path::to_path_buf).or(from_env) {
        None => Some(airlock::Config::default()),
        Some(path) => match airlock::Config::from_file(&path) {
            Ok(config) => Some(config),
            Err(e) => {
                eprintln!("error: {e}");
                None
            }
        },
    }
}
