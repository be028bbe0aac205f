//! `airlock run`: one execution from the command line.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use airlock::{ExecutionError, ExecutionResult, Language, Limits};
use anyhow::Context;
use clap::Args;

use super::{EXIT_LIMIT, EXIT_OK, EXIT_PAUSED, EXIT_THREW, EXIT_USAGE};

/// Arguments of `airlock run`.
#[derive(Args)]
pub struct RunArgs {
    /// The code to run (`.js`, `.ts` or `.py`); `-` reads it from stdin.
    file: PathBuf,
    /// An `{"mcpServers": {...}}` config file (Claude Desktop's format).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The code's language (javascript, typescript or python); default:
    /// from the file extension, else JavaScript.
    #[arg(long, value_parser = parse_language)]
    language: Option<Language>,
    /// The folder the code sees as `./workspace/` (created if missing,
    /// kept afterwards). Default: a temporary folder, removed at the end.
    #[arg(long, value_name = "DIR")]
    workspace: Option<PathBuf>,
    /// A skill folder, searched in order (repeatable); `saveSkill` saves
    /// into the first. Default: $AIRLOCK_SKILLS_DIR (else
    /// ~/.local/share/airlock/skills), then the bundled skills.
    #[arg(long = "skills-dir", value_name = "DIR")]
    skill_folders: Vec<PathBuf>,
    /// Append a hash-chained audit record for the execution and each of
    /// its tool calls to this file (`airlock audit verify` checks it).
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// Wall-clock deadline, such as `500ms` or `10s`.
    #[arg(long, value_parser = humantime::parse_duration)]
    timeout: Option<Duration>,
    /// Linear-memory cap, such as `64MiB`.
    #[arg(long, value_parser = airlock::parse_size)]
    memory: Option<u64>,
    /// Instruction budget (wasmtime fuel units).
    #[arg(long)]
    fuel: Option<u64>,
    /// Print the whole result (stdout, stderr, value, error, stats) as one
    /// JSON object; a usage or configuration error is printed as
    /// `{"error": {"kind": "usage", "message": ...}}`.
    #[arg(long)]
    json: bool,
}

pub(super) fn parse_language(text: &str) -> Result<Language, String> {
    text.parse()
}

/// Runs the file and returns the exit status.
pub async fn run(args: RunArgs) -> anyhow::Result<u8> {
    let Some(config) = super::load_config(args.config.as_deref()) else {
        if args.json {
            usage_error_json("the configuration is not valid (see stderr)")?;
        }
        return Ok(EXIT_USAGE);
    };
    let code = match read_code(&args.file) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if args.json {
                usage_error_json(&format!("{e:#}"))?;
            }
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

    // One execution per process: a pool sized for one starts and stops in
    // a fraction of the default's time (no guard pages for 256 instances).
    let builder = super::runtime_builder().config(&config).limits(limits).max_concurrent_executions(1);
    let mut builder = super::with_store(builder, &config).await?;
    if !args.skill_folders.is_empty() {
        builder = builder.skill_folders(args.skill_folders.clone());
    }
    let audit = match &args.audit {
        Some(path) => Some(std::sync::Arc::new(airlock::AuditLog::open(path).context("cannot open the audit log")?)),
        None => None,
    };
    if let Some(log) = &audit {
        builder = builder.audit(log.clone());
    }
    let runtime = builder.build().await?;
    let session = match &args.workspace {
        Some(dir) => runtime.session_in(dir)?,
        None => runtime.session()?,
    };
    // Nobody can be asked mid-run: a gated call pauses the execution, for
    // `airlock executions resume`.
    let result = session.execute_with_approver(&code, language, runtime.limits(), deferring()).await;
    runtime.shutdown().await;
    if let Some(log) = &audit {
        log.sync();
    }
    let result = result?;
    let again = resume_options(args.config.as_deref(), args.workspace.as_deref());
    print_result(&result, args.json, &again)?;
    Ok(exit_status(&result))
}

/// The options `airlock executions resume` needs to replay an execution
/// the way it ran: the same servers and the same workspace files.
pub(super) fn resume_options(config: Option<&std::path::Path>, workspace: Option<&std::path::Path>) -> String {
    let mut options = String::new();
    for (flag, path) in [("--config", config), ("--workspace", workspace)] {
        if let Some(path) = path {
            options.push_str(&format!(" {flag} {}", shell_quoted(&path.to_string_lossy())));
        }
    }
    options
}

/// `text` as one shell word.
fn shell_quoted(text: &str) -> String {
    let plain = !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@".contains(&b));
    if plain { text.to_string() } else { format!("'{}'", text.replace('\'', "'\\''")) }
}

/// For `--json` callers: a usage error as the one JSON object they parse.
fn usage_error_json(message: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer(&mut stdout, &serde_json::json!({"error": {"kind": "usage", "message": message}}))?;
    writeln!(stdout)?;
    Ok(())
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

/// The approver of a command line: every gated call pauses its execution.
pub(super) fn deferring() -> std::sync::Arc<dyn airlock::Approver> {
    std::sync::Arc::new(|_: airlock::ApprovalRequest| async { airlock::Decision::Pause })
}

/// Prints `result`; a paused one with the command that continues it,
/// with `resume_options` (see [`resume_options`]).
pub(super) fn print_result(result: &ExecutionResult, json: bool, resume_options: &str) -> anyhow::Result<()> {
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
    if let Some(paused) = &result.paused {
        writeln!(
            stderr,
            "paused: {}.{} {} needs a human's approval ({}); continue with\n  airlock executions resume {}{resume_options} --approve   (or --decline)",
            paused.server, paused.tool, paused.arguments, paused.rule, paused.execution_id
        )?;
    }
    if let Some(error) = &result.error {
        match error {
            ExecutionError::Exception { stack: Some(stack), .. } => writeln!(stderr, "{error}\n{}", stack.trim_end())?,
            _ => writeln!(stderr, "error: {error}")?,
        }
    }
    Ok(())
}

pub(super) fn exit_status(result: &ExecutionResult) -> u8 {
    match &result.error {
        None if result.paused.is_some() => EXIT_PAUSED,
        None => EXIT_OK,
        Some(ExecutionError::Limit { .. }) => EXIT_LIMIT,
        Some(_) => EXIT_THREW,
    }
}
