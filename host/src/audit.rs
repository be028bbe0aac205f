//! The audit log: one JSON line per execution and per tool call, chained by
//! hashes so that an edited, removed or inserted line is detected.
//!
//! Each line holds `prev` (the `hash` of the line before; 64 zeros for the
//! first) and `hash`: sha256 of `prev` followed by the line's JSON without
//! `hash` (keys sorted, as serde_json writes them). Lines never hold a real
//! personal value: only kinds and tokens.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// `prev` of the first line.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An append-only, hash-chained audit log file.
pub struct AuditLog {
    path: PathBuf,
    state: Mutex<Chain>,
}

struct Chain {
    file: File,
    last_hash: String,
}

/// Why a log does not verify, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct AuditBreak {
    /// The first line (1-based) that does not check out.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// The hash a line must carry, given the previous hash and its other fields.
fn line_hash(prev: &str, body: &Map<String, Value>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(Value::Object(body.clone()).to_string().as_bytes());
    // sha2 0.11 digests (hybrid-array) have no `LowerHex`.
    crate::bindings::hex(&hasher.finalize())
}

impl AuditLog {
    /// Opens (or creates) the log at `path` and continues its chain.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let mut file = OpenOptions::new().create(true).read(true).append(true).open(path)?;
        let last_hash = last_hash(&mut file)?.unwrap_or_else(|| GENESIS.to_string());
        Ok(AuditLog { path: path.to_path_buf(), state: Mutex::new(Chain { file, last_hash }) })
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record (an object; `time`, `prev` and `hash` are added)
    /// and flushes it to the file. Failures are logged, not returned: an
    /// audit write must not fail the call it describes.
    pub fn append(&self, mut record: Map<String, Value>) {
        let time = humantime::format_rfc3339_micros(SystemTime::now()).to_string();
        record.insert("time".into(), Value::String(time));
        let mut chain = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        record.insert("prev".into(), Value::String(chain.last_hash.clone()));
        let hash = line_hash(&chain.last_hash, &record);
        record.insert("hash".into(), Value::String(hash.clone()));
        let mut line = Value::Object(record).to_string();
        line.push('\n');
        match chain.file.write_all(line.as_bytes()).and_then(|()| chain.file.flush()) {
            Ok(()) => chain.last_hash = hash,
            Err(error) => tracing::error!(path = %self.path.display(), %error, "cannot write the audit log"),
        }
    }

    /// Flushes the file to disk.
    pub fn sync(&self) {
        let chain = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(error) = chain.file.sync_all() {
            tracing::error!(path = %self.path.display(), %error, "cannot sync the audit log");
        }
    }
}

/// The `hash` of the last line of `file`, if it has one.
fn last_hash(file: &mut File) -> std::io::Result<Option<String>> {
    file.seek(SeekFrom::Start(0))?;
    let mut last = None;
    for line in BufReader::new(&*file).lines() {
        let line = line?;
        if let Ok(Value::Object(record)) = serde_json::from_str::<Value>(&line)
            && let Some(Value::String(hash)) = record.get("hash")
        {
            last = Some(hash.clone());
        }
    }
    Ok(last)
}

/// Checks a whole log: every line is a JSON object whose `hash` matches its
/// content and whose `prev` is the previous line's `hash`. Returns how many
/// records it holds, or the first line that breaks the chain.
pub fn verify(reader: impl BufRead) -> Result<usize, AuditBreak> {
    let mut prev = GENESIS.to_string();
    let mut count = 0;
    for (index, line) in reader.lines().enumerate() {
        let line_number = index + 1;
        let broken = |reason: String| AuditBreak { line: line_number, reason };
        let line = line.map_err(|e| broken(format!("cannot read: {e}")))?;
        let Ok(Value::Object(mut record)) = serde_json::from_str::<Value>(&line) else {
            return Err(broken("not a JSON object".into()));
        };
        let Some(Value::String(hash)) = record.remove("hash") else {
            return Err(broken("no `hash`".into()));
        };
        if record.get("prev").and_then(Value::as_str) != Some(prev.as_str()) {
            return Err(broken(format!("`prev` is not the hash of line {}", line_number - 1)));
        }
        if line_hash(&prev, &record) != hash {
            return Err(broken("its content does not match its `hash` (the line was changed)".into()));
        }
        prev = hash;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(n: u64) -> Map<String, Value> {
        match json!({"event": "tool_call", "n": n, "server": "crm"}) {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn appends_chain_and_verify_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.append(record(1));
        log.append(record(2));
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        log.append(record(3));
        log.sync();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(verify(text.as_bytes()), Ok(3));
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["prev"], GENESIS);
        assert!(first["time"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn tampering_is_found_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        for n in 1..=4 {
            log.append(record(n));
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();

        let edited = text.replacen("\"n\":2", "\"n\":7", 1);
        assert_eq!(verify(edited.as_bytes()).unwrap_err().line, 2);
        let removed = [lines[0], lines[2], lines[3]].join("\n");
        assert_eq!(verify(removed.as_bytes()).unwrap_err().line, 2);
        let swapped = [lines[0], lines[2], lines[1], lines[3]].join("\n");
        assert_eq!(verify(swapped.as_bytes()).unwrap_err().line, 2);
        let garbage = format!("{}\nnot json\n", lines[0]);
        assert_eq!(verify(garbage.as_bytes()).unwrap_err(), AuditBreak { line: 2, reason: "not a JSON object".into() });
    }
}
