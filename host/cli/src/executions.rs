//! `airlock executions list|show|resume|cancel`: executions paused at a
//! tool call that needs a human's approval (kept in the data folder:
//! `$AIRLOCK_DATA_DIR`, else `~/.local/share/airlock`).

use std::path::PathBuf;

use airlock::{Decision, ResumeOptions, Runtime};
use clap::{Args, Subcommand};

use super::{EXIT_OK, EXIT_THREW, EXIT_USAGE};

/// `airlock executions ...`
#[derive(Subcommand)]
pub enum ExecutionsCommand {
    /// List the paused executions, oldest first.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// A config whose `airlock.store` names the store (default:
        /// $AIRLOCK_CONFIG; $AIRLOCK_STORE overrides).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Show what a paused execution waits on, and its code.
    Show {
        /// The execution id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// A config whose `airlock.store` names the store.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Continue a paused execution with the decision on the call it waits
    /// on, against the configured servers; prints what it prints from there.
    Resume(ResumeArgs),
    /// Cancel a paused execution: its waiting call never runs.
    Cancel {
        /// The execution id.
        id: String,
        /// A config whose `airlock.store` names the store.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// `airlock executions resume`.
#[derive(Args)]
pub struct ResumeArgs {
    /// The execution id.
    id: String,
    /// Run the call it waits on.
    #[arg(long, conflicts_with = "decline", required_unless_present = "decline")]
    approve: bool,
    /// Do not run it: the code gets a `denied` ToolError.
    #[arg(long)]
    decline: bool,
    /// Why it was declined, shown to the code.
    #[arg(long, requires = "decline")]
    reason: Option<String>,
    /// The MCP servers config (default: $AIRLOCK_CONFIG).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The folder the code sees as `./workspace/`: the one it ran with
    /// (`airlock run --workspace`), for the replay to read the same files.
    /// Default: a temporary folder, removed at the end.
    #[arg(long, value_name = "DIR")]
    workspace: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

fn unix_time(seconds: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds)).to_string()
}

/// Runs an `executions` subcommand.
pub async fn executions(command: ExecutionsCommand) -> anyhow::Result<u8> {
    if let ExecutionsCommand::Resume(args) = command {
        return resume(args).await;
    }
    let config = match &command {
        ExecutionsCommand::List { config, .. }
        | ExecutionsCommand::Show { config, .. }
        | ExecutionsCommand::Cancel { config, .. } => config.clone(),
        ExecutionsCommand::Resume(args) => args.config.clone(),
    };
    let Some(config) = super::load_config(config.as_deref()) else { return Ok(EXIT_USAGE) };
    // The store only: no servers are started.
    let builder = super::runtime_builder().max_concurrent_executions(1);
    let runtime = super::with_store(builder, &config).await?.build().await?;
    let status = match command {
        ExecutionsCommand::List { json, .. } => {
            let paused = runtime.paused_executions().await?;
            if json {
                println!("{}", serde_json::to_string(&paused)?);
            } else if paused.is_empty() {
                println!("no paused executions");
            } else {
                for p in paused {
                    let resuming = match p.leased_until {
                        Some(until) => format!("  being resumed (lease until {})", unix_time(until)),
                        None => String::new(),
                    };
                    println!(
                        "{}  {}.{}  {}  paused {}  expires {}{resuming}",
                        p.id,
                        p.server,
                        p.tool,
                        p.language,
                        unix_time(p.paused_at),
                        unix_time(p.expires_at)
                    );
                }
            }
            EXIT_OK
        }
        ExecutionsCommand::Show { id, json, .. } => match runtime.paused_execution(&id).await {
            Ok(shown) if json => {
                println!("{}", serde_json::to_string(&shown)?);
                EXIT_OK
            }
            Ok(shown) => {
                let p = &shown.paused;
                println!("execution {}", p.execution_id);
                println!("waits on  {}.{} {}", p.server, p.tool, p.arguments);
                println!("rule      {}", p.rule);
                println!("answered  {} tool calls before the pause", shown.calls_answered);
                println!("expires   {}", unix_time(p.expires_at));
                println!("code ({}):\n{}", shown.summary.language, shown.code.trim_end());
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {}", e.report());
                EXIT_USAGE
            }
        },
        ExecutionsCommand::Cancel { id, .. } => {
            if runtime.cancel_execution(&id).await? {
                println!("cancelled {id}");
                EXIT_OK
            } else {
                eprintln!("error: no paused execution '{id}'");
                EXIT_USAGE
            }
        }
        ExecutionsCommand::Resume(_) => EXIT_USAGE,
    };
    runtime.shutdown().await;
    Ok(status)
}

async fn resume(args: ResumeArgs) -> anyhow::Result<u8> {
    let Some(config) = super::load_config(args.config.as_deref()) else { return Ok(EXIT_USAGE) };
    let builder = super::runtime_builder().config(&config).max_concurrent_executions(1);
    let runtime: Runtime = super::with_store(builder, &config).await?.build().await?;
    let session = match &args.workspace {
        Some(dir) => runtime.session_in(dir)?,
        None => runtime.session()?,
    };
    let decision = if args.approve { Decision::Approve } else { Decision::Decline { reason: args.reason } };
    let options = ResumeOptions { approver: Some(super::run::deferring()), ..ResumeOptions::default() };
    let result = session.resume_with(&args.id, decision, options).await;
    runtime.shutdown().await;
    match result {
        Ok(result) => {
            let again = super::run::resume_options(args.config.as_deref(), args.workspace.as_deref());
            super::run::print_result(&result, args.json, &again)?;
            Ok(super::run::exit_status(&result))
        }
        Err(e) => {
            eprintln!("error: {}", e.report());
            Ok(if matches!(e, airlock::Error::Resume(_)) { EXIT_USAGE } else { EXIT_THREW })
        }
    }
}
