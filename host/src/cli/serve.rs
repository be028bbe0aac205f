//! `airlock serve`: Airlock as an MCP server over stdio, for Claude
//! Desktop, Claude Code, Cursor or any agent.

use std::path::PathBuf;

use airlock::Runtime;
use airlock::serve::CodeModeServer;
use anyhow::Context;
use clap::Args;
use rmcp::ServiceExt;

use super::{EXIT_OK, EXIT_USAGE};

/// Arguments of `airlock serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// An `{"mcpServers": {...}}` config file (Claude Desktop's format);
    /// default: `$AIRLOCK_CONFIG`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Keep the session's workspace in this folder (default: a temporary
    /// folder, removed when the client disconnects).
    #[arg(long)]
    workspace: Option<PathBuf>,
}

/// Serves one MCP client on stdin/stdout until it disconnects or the
/// process is asked to stop (SIGINT, SIGTERM).
pub async fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    let Some(config) = super::load_config(args.config.as_deref()) else {
        return Ok(EXIT_USAGE);
    };
    let runtime = Runtime::builder().config(&config).build().await?;
    let session = match &args.workspace {
        Some(dir) => runtime.session_in(dir)?,
        None => runtime.session()?,
    };
    let server = CodeModeServer::new(runtime.clone(), session);
    let service = server.serve(rmcp::transport::stdio()).await.context("the MCP client did not initialise")?;
    tracing::info!("serving on stdio");
    let cancel = service.cancellation_token();
    tokio::select! {
        finished = service.waiting() => {
            if let Err(error) = finished {
                tracing::warn!(%error, "the MCP connection ended with an error");
            }
        }
        () = stop_signal() => {
            tracing::info!("stopping");
            cancel.cancel();
        }
    }
    runtime.shutdown().await;
    Ok(EXIT_OK)
}

/// Resolves on SIGINT or SIGTERM.
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return interrupt.await.unwrap_or(()),
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await.unwrap_or(());
}
