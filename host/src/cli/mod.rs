//! Command-line front end: argument parsing and the subcommands.

mod bench;
mod run;

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
    /// Measure latency, throughput and memory, and print the figures.
    Bench(bench::BenchArgs),
}

/// Logs go to stderr; stdout belongs to the code's output.
pub fn init_logging(level: Option<&str>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level.unwrap_or("warn")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Runs a subcommand and returns the process exit status.
pub async fn dispatch(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Run(args) => run::run(args).await,
        Command::Bench(args) => bench::bench(args).await,
    }
}
