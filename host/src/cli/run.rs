//! `airlock run`: one execution from the command line.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use airlock::{ExecutionError, ExecutionResult, Language, Limits, Runtime};
use anyhow::Context;
use clap::Args;

use super::{EXIT_LIMIT, EXIT_OK, EXIT_THREW, EXIT_USAGE};

/// Arguments of `airlock run`.
#[derive(Args)]
pub struct RunArgs {
    /// The code to run; `-` reads it from stdin.
    file: PathBuf,
    /// An `{"mcpServers": {...}}` config file (Claude Desktop's format).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The code's language; default: from the file extension, else JavaScript.
    #[arg(long, value_parser = parse_language)]
    language: Option<Language>,
    /// Wall-clock deadline, such as `500ms` or `10s`.
    #[arg(long, value_parser = humantime::parse_duration)]
    timeout: Option<Duration>,
    /// Linear-memory cap, such as `64MiB`.
    #[arg(long, value_parser = airlock::parse_size)]
    memory: Option<u64>,
    /// Instruction budget (wasmtime fuel units).
    #[arg(long)]
    fuel: Option<u64>,
    /// Print the whole result (stdout, stderr, error, stats) as one JSON object.
    #[arg(long)]
    json: bool,
}

pub(super) fn parse_language(text: &str) -> Result<Language, String> {
    text.parse()
}

/// Runs the file and returns the exit status.
pub async fn run(args: RunArgs) -> anyhow::Result<u8> {
    let Some(config) = super::load_config(args.config.as_deref()) else {
        return Ok(EXIT_USAGE);
    };
    let code = match read_code(&args.file) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(EXIT_USAGE);
        }
    };
    let language = args.language.unwrap_or_else(|| Language::from_path(&args.file));
    let limits = Limits {
        timeout: args.timeout.unwrap_or(config.airlock.limits.timeout),
        memory_bytes: args.memory.unwrap_or(config.airlock.limits.memory_bytes),
        fuel: args.fuel.unwrap_or(config.airlock.limits.fuel),
        ..config.airlock.limits.clone()
    };

    let runtime = Runtime::builder().config(&config).limits(limits).build().await?;
    let session = runtime.session()?;
    let result = session.execute(&code, language).await;
    runtime.shutdown().await;
    let result = result?;
    print_result(&result, args.json)?;
    Ok(exit_status(&result))
}

fn read_code(file: &PathBuf) -> anyhow::Result<String> {
    if file.as_os_str() == "-" {
        let mut code = String::new();
        std::io::stdin().read_to_string(&mut code).context("cannot read the code from stdin")?;
        Ok(code)
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
    }
}

fn print_result(result: &ExecutionResult, json: bool) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut stdout, result)?;
        writeln!(stdout)?;
        return Ok(());
    }
    stdout.write_all(result.stdout.as_bytes())?;
    stdout.flush()?;
    let mut stderr = std::io::stderr().lock();
    stderr.write_all(result.stderr.as_bytes())?;
    if let Some(error) = &result.error {
        match error {
            ExecutionError::Exception { stack: Some(stack), .. } => writeln!(stderr, "{error}\n{}", stack.trim_end())?,
            _ => writeln!(stderr, "error: {error}")?,
        }
    }
    Ok(())
}

fn exit_status(result: &ExecutionResult) -> u8 {
    match &result.error {
        None => EXIT_OK,
        Some(ExecutionError::Limit { .. }) => EXIT_LIMIT,
        Some(_) => EXIT_THREW,
    }
}
