//! `airlock audit verify`: checks an audit log's hash chain.

use std::io::BufReader;
use std::path::PathBuf;

use clap::Subcommand;

use super::{EXIT_OK, EXIT_THREW, EXIT_USAGE};

/// `airlock audit …`
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check that no line of an audit log was changed, removed, inserted or
    /// reordered; points at the first line that breaks the chain.
    Verify {
        /// The audit log (JSON lines written by `airlock serve --audit`).
        file: PathBuf,
    },
}

/// Runs `airlock audit …` and returns the exit status: 0 when the chain
/// holds, 1 when it is broken, 2 when the file cannot be read.
pub fn audit(command: AuditCommand) -> anyhow::Result<u8> {
    match command {
        AuditCommand::Verify { file } => {
            let reader = match std::fs::File::open(&file) {
                Ok(reader) => BufReader::new(reader),
                Err(e) => {
                    eprintln!("error: cannot open {}: {e}", file.display());
                    return Ok(EXIT_USAGE);
                }
            };
            match airlock::audit::verify(reader) {
                Ok(records) => {
                    println!("ok: {records} records, chain intact");
                    Ok(EXIT_OK)
                }
                Err(broken) => {
                    println!("broken: {}: {broken}", file.display());
                    Ok(EXIT_THREW)
                }
            }
        }
    }
}
