//! The audit log: one JSON line per execution and per tool call, chained by
//! hashes so that an edited, removed or inserted line is detected, and
//! sealed by a head file so that a cut tail or an emptied log is too.
//!
//! Each line holds `prev` (the `hash` of the line before; 64 zeros for the
//! first) and `hash`: sha256 of `prev` followed by the line's JSON without
//! `hash` (keys sorted, as serde_json writes them). Lines never hold a real
//! personal value: only kinds and tokens.
//!
//! Beside the log, `<log>.head` holds the number of records and the last
//! hash, replaced atomically after every append. A hash chain alone cannot
//! see lines cut from the end; the head can, as long as it is kept. Neither
//! is a signature: whoever can rewrite both files can rewrite history
//! consistently, so keep a copy of the head (or the log) where the writer
//! cannot change it when that matters.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// `prev` of the first line.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An append-only, hash-chained audit log file with its sealed head.
pub struct AuditLog {
    path: PathBuf,
    state: Mutex<Chain>,
}

struct Chain {
    file: File,
    last_hash: String,
    records: u64,
}

/// The seal kept beside a log: how many records it holds and the last hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Records in the log when it was sealed.
    pub records: u64,
    /// The `hash` of the last of them (64 zeros for none).
    pub hash: String,
}

/// Why a log does not verify, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct AuditBreak {
    /// The first line (1-based) that does not check out; for a log that
    /// does not match its head, the line after the last one it holds.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Why an audit log cannot be opened for appending.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Reading or writing the files failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The log no longer matches its head: lines were cut or changed.
    #[error(
        "{path}: {broken}; check it with `airlock audit verify`, and move the log and its .head aside to start a new one"
    )]
    Broken {
        /// The log.
        path: PathBuf,
        /// What does not match.
        broken: AuditBreak,
    },
}

/// The hash a line must carry, given the previous hash and its other fields.
fn line_hash(prev: &str, body: &Map<String, Value>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(Value::Object(body.clone()).to_string().as_bytes());
    // sha2 0.11 digests (hybrid-array) have no `LowerHex`.
    crate::digest::hex(&hasher.finalize())
}

/// Where the head of the log at `log` is kept: `<log>.head`.
pub fn head_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".head");
    PathBuf::from(name)
}

/// The head of the log at `log`, if it has one.
pub fn read_head(log: &Path) -> std::io::Result<Option<Head>> {
    match std::fs::read(head_path(log)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(std::io::Error::other),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl AuditLog {
    /// Opens (or creates) the log at `path` and continues its chain. A log
    /// that does not match its head (cut short, emptied, changed) is
    /// refused rather than sealed again in its new state.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        let io = |source| AuditError::Io { path: path.to_path_buf(), source };
        let mut file = OpenOptions::new().create(true).read(true).append(true).open(path).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let head = read_head(path).map_err(|source| AuditError::Io { path: head_path(path), source })?;
        let broken = |broken| AuditError::Broken { path: path.to_path_buf(), broken };
        let checked = verify(BufReader::new(&file)).map_err(broken)?;
        if let Some(head) = &head {
            checked.against(head).map_err(broken)?;
        }
        let log = AuditLog {
            path: path.to_path_buf(),
            state: Mutex::new(Chain { file, last_hash: checked.last_hash, records: checked.records }),
        };
        // Seal what is there: a new log, one from before heads existed, or
        // lines written just before a crash kept the head from following.
        log.seal(&log.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())).map_err(io)?;
        Ok(log)
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record (an object; `time`, `prev` and `hash` are added),
    /// flushes it to the file and seals the head. Failures are logged, not
    /// returned: an audit write must not fail the call it describes.
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
            Ok(()) => {
                chain.last_hash = hash;
                chain.records += 1;
            }
            Err(error) => {
                tracing::error!(path = %self.path.display(), %error, "cannot write the audit log");
                return;
            }
        }
        if let Err(error) = self.seal(&chain) {
            tracing::error!(path = %head_path(&self.path).display(), %error, "cannot seal the audit log");
        }
    }

    /// Replaces the head with the chain's state, atomically.
    fn seal(&self, chain: &Chain) -> std::io::Result<()> {
        let head = Head { records: chain.records, hash: chain.last_hash.clone() };
        let path = head_path(&self.path);
        let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut temp = tempfile::NamedTempFile::new_in(dir)?;
        temp.write_all(serde_json::to_string(&head).map_err(std::io::Error::other)?.as_bytes())?;
        temp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Flushes the file to disk.
    pub fn sync(&self) {
        let chain = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(error) = chain.file.sync_all() {
            tracing::error!(path = %self.path.display(), %error, "cannot sync the audit log");
        }
    }
}

/// A log whose chain holds: how many records, and the last hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Records in the log.
    pub records: u64,
    /// The `hash` of the last one (64 zeros for none).
    pub last_hash: String,
    /// The hash after each record, to check a head against.
    hashes: Vec<String>,
}

impl Verified {
    /// Checks the log against its head: it must hold at least the sealed
    /// records, the last of them with the sealed hash. Records after them
    /// are allowed (written just before a crash kept the head from
    /// following); the result says how many.
    pub fn against(&self, head: &Head) -> Result<u64, AuditBreak> {
        let sealed = usize::try_from(head.records).unwrap_or(usize::MAX);
        let found = self.hashes.len();
        if found < sealed {
            let what = if found == 0 { "the log is empty".to_string() } else { format!("it holds {found}") };
            return Err(AuditBreak {
                line: found + 1,
                reason: format!("the head seals {sealed} records but {what}: lines were cut from the end"),
            });
        }
        let at = if sealed == 0 { GENESIS } else { self.hashes[sealed - 1].as_str() };
        if at != head.hash {
            return Err(AuditBreak {
                line: sealed,
                reason: "the head's hash is not this line's: the log was rewritten".into(),
            });
        }
        Ok(self.records - head.records)
    }
}

/// Checks a whole log's chain: every line is a JSON object whose `hash`
/// matches its content and whose `prev` is the previous line's `hash`.
/// Returns what it holds, or the first line that breaks the chain. Lines
/// cut from the end show only against the log's [`Head`]
/// ([`Verified::against`]).
pub fn verify(reader: impl BufRead) -> Result<Verified, AuditBreak> {
    let mut prev = GENESIS.to_string();
    let mut hashes = Vec::new();
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
        prev = hash.clone();
        hashes.push(hash);
    }
    Ok(Verified { records: hashes.len() as u64, last_hash: prev, hashes })
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
        let verified = verify(text.as_bytes()).unwrap();
        assert_eq!(verified.records, 3);
        assert_eq!(verified.against(&read_head(&path).unwrap().unwrap()), Ok(0));
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

    #[test]
    fn a_cut_tail_or_an_emptied_log_breaks_the_head() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        for n in 1..=4 {
            log.append(record(n));
        }
        drop(log);
        let head = read_head(&path).unwrap().unwrap();
        assert_eq!(head.records, 4);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();

        // The chain alone cannot see it; the head can.
        let cut = lines[..2].join("\n");
        let verified = verify(cut.as_bytes()).unwrap();
        let broken = verified.against(&head).unwrap_err();
        assert_eq!(broken.line, 3);
        assert!(broken.reason.contains("cut from the end"), "{broken}");
        let empty = verify("".as_bytes()).unwrap();
        assert!(empty.against(&head).unwrap_err().reason.contains("the log is empty"));
        // A log rewritten from scratch with as many lines has other hashes.
        let other = tempfile::tempdir().unwrap();
        let rewritten = AuditLog::open(&other.path().join("a.jsonl")).unwrap();
        for n in 11..=14 {
            rewritten.append(record(n));
        }
        let text = std::fs::read_to_string(other.path().join("a.jsonl")).unwrap();
        assert!(verify(text.as_bytes()).unwrap().against(&head).is_err());

        // Opening a cut log to append to it is refused, not sealed again.
        std::fs::write(&path, format!("{cut}\n")).unwrap();
        assert!(matches!(AuditLog::open(&path), Err(AuditError::Broken { .. })));
        assert_eq!(read_head(&path).unwrap().unwrap().records, 4);
    }

    #[test]
    fn lines_after_the_seal_are_counted_not_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.append(record(1));
        let sealed = read_head(&path).unwrap().unwrap();
        log.append(record(2));
        drop(log);
        // As if the process died between writing line 2 and its seal.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(verify(text.as_bytes()).unwrap().against(&sealed), Ok(1));
    }
}
