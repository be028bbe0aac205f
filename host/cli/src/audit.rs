//! `airlock audit verify`: checks an audit log's hash chain.

use std::io::BufReader;
use std::path::PathBuf;

use clap::Subcommand;

use super::{EXIT_OK, EXIT_THREW, EXIT_USAGE};

/// `airlock audit …`
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check that no line of an audit log was changed, removed, inserted or
    /// reordered, and (against its sealed head, `<file>.head`) that none was
    /// cut from the end; points at the first line that breaks. Whoever can
    /// rewrite both the log and its head can rewrite history: keep a copy
    /// of the head elsewhere when that matters.
    Verify {
        /// The audit logs (JSON lines written by `airlock serve --audit`):
        /// one, or one per instance of a deployment, each its own chain.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Check the chain only, for a log without its head (a cut tail
        /// then goes unnoticed).
        #[arg(long)]
        no_head: bool,
    },
}

/// Runs `airlock audit …` and returns the exit status: 0 when every log
/// checks out, 1 when one is broken, 2 when one cannot be read.
pub fn audit(command: AuditCommand) -> anyhow::Result<u8> {
    let AuditCommand::Verify { files, no_head } = command;
    let mut status = EXIT_OK;
    let many = files.len() > 1;
    for file in &files {
        // With several logs each line names its file.
        let label = if many { format!("{}: ", file.display()) } else { String::new() };
        status = status.max(verify(file, &label, no_head)?);
    }
    Ok(status)
}

/// Verifies one log, printing one line for it (after `label`).
fn verify(file: &std::path::Path, label: &str, no_head: bool) -> anyhow::Result<u8> {
    let reader = match std::fs::File::open(file) {
        Ok(reader) => BufReader::new(reader),
        Err(e) => {
            eprintln!("error: cannot open {}: {e}", file.display());
            return Ok(EXIT_USAGE);
        }
    };
    let broken = |reason: &dyn std::fmt::Display| {
        println!("broken: {}: {reason}", file.display());
        Ok(EXIT_THREW)
    };
    let verified = match airlock::audit::verify(reader) {
        Ok(verified) => verified,
        Err(line) => return broken(&line),
    };
    let records = verified.records;
    if no_head {
        println!("ok: {label}{records} records, chain intact (a cut tail is not checked without the head)");
        return Ok(EXIT_OK);
    }
    let head_path = airlock::audit::head_path(file);
    let head = match airlock::audit::read_head(file) {
        Ok(Some(head)) => head,
        Ok(None) => {
            return broken(&format!(
                "no sealed head ({}): lines cut from the end cannot be detected (--no-head checks the chain only)",
                head_path.display()
            ));
        }
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", head_path.display());
            return Ok(EXIT_USAGE);
        }
    };
    match verified.against(&head) {
        Ok(0) => {
            println!("ok: {label}{records} records, chain intact, matches its sealed head");
            Ok(EXIT_OK)
        }
        Ok(unsealed) => {
            println!(
                "ok: {label}{records} records, chain intact; the last {unsealed} were written after the last seal \
                 (a crash between writing a line and sealing it leaves this)"
            );
            Ok(EXIT_OK)
        }
        Err(line) => broken(&line),
    }
}
