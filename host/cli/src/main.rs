//! The `airlock` command line: argument parsing, logging and the
//! subcommands, over the `airlock` library and the `airlock-serve` server.

mod audit;
mod executions;
mod pii;
mod run;
mod serve;
mod servers;
mod skills;
mod tokens;
mod warm;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status when the code ran to completion.
pub const EXIT_OK: u8 = 0;
/// Exit status when the code threw, or a tool error went uncaught.
pub const EXIT_THREW: u8 = 1;
/// Exit status for usage and configuration errors.
pub const EXIT_USAGE: u8 = 2;
/// Exit status when the execution hit a limit.
pub const EXIT_LIMIT: u8 = 3;
/// Exit status when the execution paused at a call that needs a human's
/// approval (`airlock executions resume` continues it).
pub const EXIT_PAUSED: u8 = 4;

/// Airlock runs code that LLM agents write against MCP tools inside
/// WebAssembly sandboxes.
#[derive(Parser)]
#[command(name = "airlock", version, about, long_about = None)]
pub struct Cli {
    /// Log level for messages on stderr (error, warn, info, debug, trace);
    /// RUST_LOG takes precedence.
    #[arg(long, global = true)]
    pub log_level: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Run a JavaScript, TypeScript or Python file (or `-` for stdin) in
    /// the sandbox.
    Run(run::RunArgs),
    /// Serve MCP (stdio, or Streamable HTTP with --http): code-mode tools
    /// over the configured servers.
    Serve(serve::ServeArgs),
    /// Compile the guests for this machine into the cache now, so that
    /// the first `run` or `serve` starts at once.
    Warm(warm::WarmArgs),
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
    /// Executions paused for a human's approval: list, show, resume, cancel.
    #[command(subcommand)]
    Executions(executions::ExecutionsCommand),
    /// Saved skills: code agents import from `./skills/<name>`.
    #[command(subcommand)]
    Skills(skills::SkillsCommand),
    /// Count the tokens of files as a model sees them (o200k_base).
    Tokens(tokens::TokensArgs),
}

/// Logs go to stderr; stdout belongs to the code's output.
pub fn init_logging(level: Option<&str>) {
    // By default rmcp's own logs stay quiet: a failure it logs reaches the
    // user as Airlock's error, with its cause and without type names.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level.unwrap_or("warn,rmcp=off")));
    // Colour only for a terminal: MCP clients keep a server's stderr in
    // log files.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
}

/// Runs a subcommand and returns the process exit status.
pub async fn dispatch(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Run(args) => run::run(args).await,
        Command::Serve(args) => serve::serve(args).await,
        Command::Warm(args) => warm::warm(args).await,
        Command::Servers(command) => servers::servers(command).await,
        Command::Tools(command) => servers::tools(command).await,
        Command::Wit(args) => servers::wit(args).await,
        Command::Pii(command) => pii::pii(command),
        Command::Audit(command) => audit::audit(command),
        Command::Tokens(args) => tokens::tokens(args),
        Command::Skills(command) => skills::skills(command).await,
        Command::Executions(command) => executions::executions(command).await,
    }
}

/// A runtime builder that tells the user, on stderr, when a guest is
/// compiled for this machine (the first run takes seconds, once).
pub fn runtime_builder() -> airlock::RuntimeBuilder {
    airlock::Runtime::builder().on_progress(|progress| match progress {
        airlock::Progress::Compiling { language, cache } => {
            let cached = match cache {
                Some(dir) => format!("cached in {}", dir.display()),
                None => "not cached: no cache folder".to_string(),
            };
            eprintln!("airlock: compiling the {language} guest for this machine (once, a few seconds; {cached})");
        }
        airlock::Progress::Compiled { language, elapsed } => {
            eprintln!("airlock: compiled the {language} guest in {:.1} s", elapsed.as_secs_f64());
        }
        _ => {}
    })
}

/// The variable naming the store of paused executions (overrides
/// `airlock.store`).
pub const STORE_VAR: &str = "AIRLOCK_STORE";

/// `builder` keeping paused executions where `$AIRLOCK_STORE` or
/// `airlock.store` says (a `postgres://` URL); else as it was (the data
/// folder's SQLite file).
pub async fn with_store(
    builder: airlock::RuntimeBuilder,
    config: &airlock::Config,
) -> anyhow::Result<airlock::RuntimeBuilder> {
    let named = std::env::var(STORE_VAR).ok().filter(|url| !url.is_empty()).or_else(|| config.airlock.store.clone());
    let Some(url) = named else { return Ok(builder) };
    // Never print the URL: it may hold a password.
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        anyhow::bail!(
            "airlock.store (or ${STORE_VAR}) is not a postgres:// URL; leave it out for the data folder's SQLite file"
        );
    }
    let store = airlock_postgres::PostgresStore::connect(&url).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(builder.execution_store(std::sync::Arc::new(store)))
}

/// Reads the config file (`--config`, else `$AIRLOCK_CONFIG`, else none);
/// prints the error and returns `None` when it is malformed. Top-level keys
/// Airlock does not use are named in a warning.
pub fn load_config(path: Option<&std::path::Path>) -> Option<airlock::Config> {
    load(path).map(|(config, _)| config)
}

/// [`load_config`] for commands about servers: a config without an
/// enabled server (or no config at all) is an error naming the file.
pub fn load_config_with_servers(path: Option<&std::path::Path>) -> Option<airlock::Config> {
    let (config, file) = load(path)?;
    let Some(file) = file else {
        eprintln!(
            "error: no servers configured: pass --config FILE (an {{\"mcpServers\": {{...}}}} file) or set AIRLOCK_CONFIG"
        );
        return None;
    };
    match config.require_servers() {
        Ok(()) => Some(config),
        Err(e) => {
            eprintln!("error: {}", airlock::ConfigError { file: Some(file), ..e });
            None
        }
    }
}

fn load(path: Option<&std::path::Path>) -> Option<(airlock::Config, Option<std::path::PathBuf>)> {
    let from_env = std::env::var_os("AIRLOCK_CONFIG").map(std::path::PathBuf::from);
    match path.map(std::path::Path::to_path_buf).or(from_env) {
        None => Some((airlock::Config::default(), None)),
        Some(path) => match airlock::Config::from_file(&path) {
            Ok(config) => {
                for key in &config.ignored_keys {
                    eprintln!("warning: {}: ignoring the key `{key}` (not an Airlock setting)", path.display());
                }
                Some((config, Some(path)))
            }
            Err(e) => {
                eprintln!("error: {e}");
                None
            }
        },
    }
}

fn main() -> ExitCode {
    let args = Cli::parse();
    init_logging(args.log_level.as_deref());
    // Only the server serves several clients at once; a one-shot command
    // starts sooner on the calling thread (no worker threads to spawn, no
    // probe of the CPU count).
    let mut builder = match args.command {
        Command::Serve(_) => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let code = match runtime.block_on(dispatch(args.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            EXIT_USAGE
        }
    };
    // The command has finished its work and shut its runtime down. Exit
    // without dropping the async runtime, whose blocking threads would
    // first reset pooled guest memory for executions that never come.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    std::process::exit(code.into())
}
