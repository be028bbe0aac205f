//! `airlock pii redact`: the runtime's PII engine as a filter from stdin to
//! stdout.

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::PathBuf;

use airlock::pii::{Detector, Vault};
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use super::{EXIT_OK, EXIT_USAGE};

/// `airlock pii …`
#[derive(Subcommand)]
pub enum PiiCommand {
    /// Read a document on stdin and write it to stdout with personal data
    /// replaced by tokens such as `[EMAIL_1]` (the same value always gets
    /// the same token within one run).
    Redact(RedactArgs),
}

/// Arguments of `airlock pii redact`.
#[derive(Args)]
pub struct RedactArgs {
    /// What stdin holds: one JSON document, JSON Lines (one document per
    /// line, written back one per line) or plain text. JSON keeps its
    /// layout: only the replaced strings and numbers change.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Print how many values of each kind were replaced to stderr.
    #[arg(long)]
    report: bool,
    /// A config file whose `airlock.pii.detect` settings to use (custom
    /// recognizers, allow-list, context keys, enabled kinds).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Input formats of `airlock pii redact`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Jsonl,
    Text,
}

/// Runs `airlock pii …` and returns the exit status.
pub fn pii(command: PiiCommand) -> anyhow::Result<u8> {
    match command {
        PiiCommand::Redact(args) => redact(args),
    }
}

fn redact(args: RedactArgs) -> anyhow::Result<u8> {
    let Some(config) = super::load_config(args.config.as_deref()) else {
        return Ok(EXIT_USAGE);
    };
    let detector = Detector::new(&config.airlock.pii.detect)?;
    let mut vault = Vault::new();
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut report = Report::default();
    match args.format {
        Format::Json => {
            let input = String::from_utf8(read_all(stdin)?).context("stdin is not UTF-8 text")?;
            // Written as it is made: a large document is never held twice.
            let written = vault.tokenize_json_text_with(&detector, &input, |vault, chunk| {
                report.count(vault, chunk, args.report);
                out.write_all(chunk.as_bytes())
            });
            match written {
                Ok(()) => {}
                Err(e) if e.is_io() => return Err(std::io::Error::from(e)).context("cannot write stdout"),
                Err(e) => {
                    eprintln!("error: stdin is not a JSON document: {e}");
                    return Ok(EXIT_USAGE);
                }
            }
        }
        Format::Jsonl => {
            for (number, line) in stdin.lines().enumerate() {
                let line = line.context("cannot read stdin")?;
                if line.trim().is_empty() {
                    out.write_all(b"\n")?;
                    continue;
                }
                let redacted = match vault.tokenize_json_text(&detector, &line) {
                    Ok(redacted) => redacted,
                    Err(e) => {
                        eprintln!("error: line {} is not a JSON document: {e}", number + 1);
                        return Ok(EXIT_USAGE);
                    }
                };
                report.count(&vault, &redacted, args.report);
                out.write_all(redacted.as_bytes())?;
                out.write_all(b"\n")?;
            }
        }
        Format::Text => {
            let input = read_all(stdin)?;
            let text = String::from_utf8(input).context("stdin is not UTF-8 text")?;
            let redacted = vault.tokenize_text(&detector, &text);
            report.count(&vault, &redacted, args.report);
            out.write_all(redacted.as_bytes())?;
        }
    }
    out.flush()?;
    if args.report {
        report.print(&vault)?;
    }
    Ok(EXIT_OK)
}

fn read_all(mut input: impl Read) -> anyhow::Result<Vec<u8>> {
    let mut buffer = Vec::new();
    input.read_to_end(&mut buffer).context("cannot read stdin")?;
    Ok(buffer)
}

/// Replacements per kind, summed over the documents written.
#[derive(Default)]
struct Report {
    replaced: std::collections::BTreeMap<String, usize>,
}

impl Report {
    fn count(&mut self, vault: &Vault, redacted: &str, wanted: bool) {
        if wanted {
            for (kind, n) in vault.count_tokens(redacted) {
                *self.replaced.entry(kind).or_insert(0) += n;
            }
        }
    }

    /// One line per kind: replacements and distinct values; `TOKEN` is
    /// token-shaped text that was in the input and got escaped.
    fn print(&self, vault: &Vault) -> std::io::Result<()> {
        let distinct = vault.values_per_kind();
        let mut err = std::io::stderr().lock();
        writeln!(err, "{:<14} {:>10} {:>10}", "kind", "replaced", "distinct")?;
        for (kind, replaced) in &self.replaced {
            writeln!(err, "{kind:<14} {replaced:>10} {:>10}", distinct.get(kind).copied().unwrap_or(0))?;
        }
        let total: usize = self.replaced.values().sum();
        writeln!(err, "{:<14} {total:>10} {:>10}", "total", distinct.values().sum::<usize>())
    }
}
