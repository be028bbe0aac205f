//! Where paused executions wait: the [`ExecutionStore`] trait, and its
//! embedded implementation on SQLite. The store keeps sealed bytes it
//! cannot read, and a summary to list them by.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::unix_now;

/// What listing a paused execution shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionSummary {
    /// The execution id.
    pub id: String,
    /// The session that ran it.
    pub session: String,
    /// The language of its code.
    pub language: String,
    /// The server of the call waiting for approval.
    pub server: String,
    /// The tool it calls.
    pub tool: String,
    /// When it paused (Unix seconds).
    pub paused_at: u64,
    /// When it expires (Unix seconds).
    pub expires_at: u64,
    /// Until when a resume holds it (Unix seconds; see
    /// [`ExecutionStore::lease`]); `None` when none does. A store reports
    /// what it holds: a time already past is a lease that ran out (its
    /// process died mid-replay) and holds nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leased_until: Option<u64>,
}

/// A paused execution as stored: its summary and its sealed journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredExecution {
    /// What listing shows.
    pub summary: ExecutionSummary,
    /// The sealed journal (opaque to the store).
    pub sealed: Vec<u8>,
}

/// A store failed (its message says where and why).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

/// Storage that outlives the process: paused executions, and the state of
/// client sessions (an MCP session's handshake, its sealed PII vault), so
/// that another process or instance can take them over. Implement it to
/// keep them elsewhere than the data folder's SQLite file (shared by several
/// instances, for one). Every value is opaque bytes to the store.
pub trait ExecutionStore: Send + Sync + 'static {
    /// Stores `execution`, replacing one with the same id, lease and all.
    fn put(&self, execution: StoredExecution) -> BoxFuture<'_, Result<(), StoreError>>;
    /// The execution `id`, expired or not (the caller checks).
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredExecution>, StoreError>>;
    /// Removes `id` (cancelled, or expired); `true` if this call removed
    /// it.
    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Leases `execution` to the resume `owner` until `until` (Unix
    /// seconds), if the store holds it as given (the same sealed bytes)
    /// and no other lease on it is live at `now`; `true` if this call took
    /// the lease. A resume replays under a lease: of two resumes at once
    /// only one goes on, one that opened a version since replaced (the
    /// execution paused again meanwhile) takes nothing, and when the
    /// process holding the lease dies mid-replay the lease runs out and the
    /// execution can be resumed again. One statement, so that instances
    /// sharing the store cannot both take it. Times are the instances' own
    /// clocks: keep them in step (NTP). A clock ahead by more than a lease
    /// takes a live one early; that resume goes on and the other fails,
    /// since only the lease's owner can take the execution.
    fn lease<'a>(
        &'a self,
        execution: &'a StoredExecution,
        owner: &'a str,
        now: u64,
        until: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Extends `owner`'s lease on `id` to `until`; `false` when `owner`
    /// no longer holds it (released, taken, or the execution removed).
    fn renew_lease<'a>(&'a self, id: &'a str, owner: &'a str, until: u64) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Removes `id` if `owner` holds its lease, ran out or not, as long as
    /// no one else took it since: the moment a resumed execution's waiting
    /// call goes live. `false`: the lease was lost (the execution was
    /// cancelled, or another resume took it after this lease ran out), and
    /// the call must not go live.
    fn take_leased<'a>(&'a self, id: &'a str, owner: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
    /// Ends `owner`'s lease on `id` and keeps the execution: its resume
    /// failed, or was given up, before the waiting call.
    fn release_lease<'a>(&'a self, id: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The executions not expired at `now` (Unix seconds), and those a
    /// live lease holds (a resume approved just before the expiry may
    /// finish), oldest first; the other expired ones are removed.
    fn list(&self, now: u64) -> BoxFuture<'_, Result<Vec<ExecutionSummary>, StoreError>>;
    /// Stores `part` (`mcp`, `vault`, ...) of session `session`'s state,
    /// replacing it.
    fn put_session_state<'a>(
        &'a self,
        session: &'a str,
        part: &'a str,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// `part` of session `session`'s state, if stored.
    fn get_session_state<'a>(
        &'a self,
        session: &'a str,
        part: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>>;
    /// Several `parts` of session `session`'s state, in the order asked:
    /// one read where the store can (an execution reads the vault and the
    /// skills of its session before it starts). By default, one
    /// [`ExecutionStore::get_session_state`] per part.
    fn get_session_parts<'a>(
        &'a self,
        session: &'a str,
        parts: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<Option<Vec<u8>>>, StoreError>> {
        Box::pin(async move {
            let mut found = Vec::with_capacity(parts.len());
            for part in parts {
                found.push(self.get_session_state(session, part).await?);
            }
            Ok(found)
        })
    }
    /// Removes every part of session `session`'s state.
    fn remove_session_state<'a>(&'a self, session: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Marks session `session`'s state used at `now` (Unix seconds).
    fn touch_session_state<'a>(&'a self, session: &'a str, now: u64) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Removes the state of every session not written or touched since
    /// `before` (Unix seconds); how many rows went.
    fn purge_session_state(&self, before: u64) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// Paused executions in a SQLite file (WAL mode, so that several processes
/// on one machine may share it).
#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    connection: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

/// The migrations, in order (`PRAGMA user_version` counts those applied).
/// A file written before versioning holds migration 1's tables already:
/// its statements are idempotent.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE IF NOT EXISTS paused_executions (
        id TEXT PRIMARY KEY,
        session TEXT NOT NULL,
        language TEXT NOT NULL,
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        paused_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        sealed BLOB NOT NULL
    );
    CREATE INDEX IF NOT EXISTS paused_executions_expiry ON paused_executions (expires_at);
    CREATE TABLE IF NOT EXISTS session_state (
        session TEXT NOT NULL,
        part TEXT NOT NULL,
        bytes BLOB NOT NULL,
        PRIMARY KEY (session, part)
    );
",
    "
    ALTER TABLE session_state ADD COLUMN touched_at INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX session_state_touched ON session_state (touched_at);
",
    "
    ALTER TABLE paused_executions ADD COLUMN lease_owner TEXT;
    ALTER TABLE paused_executions ADD COLUMN leased_until INTEGER NOT NULL DEFAULT 0;
",
];

/// Applies the migrations the file lacks, each in a transaction.
fn migrate(connection: &mut Connection) -> rusqlite::Result<Result<(), String>> {
    let version: usize = connection.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))? as usize;
    if version > MIGRATIONS.len() {
        return Ok(Err(format!(
            "the file's schema is version {version}, newer than this build's {}: upgrade airlock",
            MIGRATIONS.len()
        )));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", index as i64 + 1)?;
        transaction.commit()?;
    }
    Ok(Ok(()))
}

impl SqliteStore {
    /// Opens (creating if missing) the store in the file `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let failed = |e: &dyn std::fmt::Display| StoreError(format!("{}: {e}", path.display()));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| failed(&e))?;
        }
        let mut connection = Connection::open(path).map_err(|e| failed(&e))?;
        connection.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| failed(&e))?;
        connection.pragma_update(None, "journal_mode", "WAL").map_err(|e| failed(&e))?;
        // In WAL mode a commit then survives the process dying (what the
        // store is for), without an fsync per write; a power cut may lose
        // the last ones.
        connection.pragma_update(None, "synchronous", "NORMAL").map_err(|e| failed(&e))?;
        migrate(&mut connection).map_err(|e| failed(&e))?.map_err(|e| failed(&e))?;
        Ok(SqliteStore { path: path.to_path_buf(), connection: Arc::new(Mutex::new(connection)) })
    }

    /// Runs `work` on the connection on a blocking thread.
    fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> BoxFuture<'_, Result<T, StoreError>> {
        let connection = self.connection.clone();
        Box::pin(async move {
            let done = tokio::task::spawn_blocking(move || {
                let connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
                work(&connection)
            })
            .await;
            match done {
                Ok(result) => result.map_err(|e| StoreError(format!("{}: {e}", self.path.display()))),
                Err(e) => Err(StoreError(format!("{}: {e}", self.path.display()))),
            }
        })
    }
}

fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<ExecutionSummary> {
    Ok(ExecutionSummary {
        id: row.get(0)?,
        session: row.get(1)?,
        language: row.get(2)?,
        server: row.get(3)?,
        tool: row.get(4)?,
        paused_at: row.get::<_, i64>(5)? as u64,
        expires_at: row.get::<_, i64>(6)? as u64,
        leased_until: row.get::<_, Option<String>>(7)?.map(|_| row.get::<_, i64>(8)).transpose()?.map(|t| t as u64),
    })
}

/// The columns [`summary`] reads, in its order.
const SUMMARY: &str = "id, session, language, server, tool, paused_at, expires_at, lease_owner, leased_until";

impl ExecutionStore for SqliteStore {
    fn put(&self, execution: StoredExecution) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(move |db| {
            let s = &execution.summary;
            db.execute(
                "INSERT OR REPLACE INTO paused_executions \
                 (id, session, language, server, tool, paused_at, expires_at, sealed) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    s.id,
                    s.session,
                    s.language,
                    s.server,
                    s.tool,
                    s.paused_at as i64,
                    s.expires_at as i64,
                    execution.sealed
                ],
            )
            .map(|_| ())
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredExecution>, StoreError>> {
        let id = id.to_string();
        self.with(move |db| {
            db.query_row(
                &format!("SELECT {SUMMARY}, sealed FROM paused_executions WHERE id = ?1"),
                params![id],
                |row| Ok(StoredExecution { summary: summary(row)?, sealed: row.get(9)? }),
            )
            .optional()
        })
    }

    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let id = id.to_string();
        self.with(move |db| Ok(db.execute("DELETE FROM paused_executions WHERE id = ?1", params![id])? == 1))
    }

    fn lease<'a>(
        &'a self,
        execution: &'a StoredExecution,
        owner: &'a str,
        now: u64,
        until: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let (id, sealed, owner) = (execution.summary.id.clone(), execution.sealed.clone(), owner.to_string());
        self.with(move |db| {
            let leased = db.execute(
                "UPDATE paused_executions SET lease_owner = ?3, leased_until = ?4 \
                 WHERE id = ?1 AND sealed = ?2 AND (lease_owner IS NULL OR leased_until <= ?5)",
                params![id, sealed, owner, until as i64, now as i64],
            )?;
            Ok(leased == 1)
        })
    }

    fn renew_lease<'a>(&'a self, id: &'a str, owner: &'a str, until: u64) -> BoxFuture<'a, Result<bool, StoreError>> {
        let (id, owner) = (id.to_string(), owner.to_string());
        self.with(move |db| {
            let renewed = db.execute(
                "UPDATE paused_executions SET leased_until = ?3 WHERE id = ?1 AND lease_owner = ?2",
                params![id, owner, until as i64],
            )?;
            Ok(renewed == 1)
        })
    }

    fn take_leased<'a>(&'a self, id: &'a str, owner: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        let (id, owner) = (id.to_string(), owner.to_string());
        self.with(move |db| {
            Ok(db.execute("DELETE FROM paused_executions WHERE id = ?1 AND lease_owner = ?2", params![id, owner])? == 1)
        })
    }

    fn release_lease<'a>(&'a self, id: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let (id, owner) = (id.to_string(), owner.to_string());
        self.with(move |db| {
            db.execute(
                "UPDATE paused_executions SET lease_owner = NULL, leased_until = 0 WHERE id = ?1 AND lease_owner = ?2",
                params![id, owner],
            )
            .map(|_| ())
        })
    }

    fn list(&self, now: u64) -> BoxFuture<'_, Result<Vec<ExecutionSummary>, StoreError>> {
        self.with(move |db| {
            db.execute(
                "DELETE FROM paused_executions \
                 WHERE expires_at <= ?1 AND (lease_owner IS NULL OR leased_until <= ?1)",
                params![now as i64],
            )?;
            let mut statement =
                db.prepare(&format!("SELECT {SUMMARY} FROM paused_executions ORDER BY paused_at, id"))?;
            let rows = statement.query_map([], summary)?;
            rows.collect()
        })
    }

    fn put_session_state<'a>(
        &'a self,
        session: &'a str,
        part: &'a str,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let (session, part) = (session.to_string(), part.to_string());
        self.with(move |db| {
            db.execute(
                "INSERT OR REPLACE INTO session_state (session, part, bytes, touched_at) VALUES (?1, ?2, ?3, ?4)",
                params![session, part, bytes, unix_now() as i64],
            )
            .map(|_| ())
        })
    }

    fn get_session_state<'a>(
        &'a self,
        session: &'a str,
        part: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        let (session, part) = (session.to_string(), part.to_string());
        self.with(move |db| {
            db.query_row(
                "SELECT bytes FROM session_state WHERE session = ?1 AND part = ?2",
                params![session, part],
                |row| row.get(0),
            )
            .optional()
        })
    }

    fn get_session_parts<'a>(
        &'a self,
        session: &'a str,
        parts: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<Option<Vec<u8>>>, StoreError>> {
        let session = session.to_string();
        let wanted: Vec<String> = parts.iter().map(|part| part.to_string()).collect();
        self.with(move |db| {
            let mut statement = db.prepare_cached("SELECT part, bytes FROM session_state WHERE session = ?1")?;
            let rows = statement.query_map(params![session], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))?;
            Ok(session_parts_in_order(&wanted, rows.collect::<rusqlite::Result<Vec<_>>>()?))
        })
    }

    fn remove_session_state<'a>(&'a self, session: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let session = session.to_string();
        self.with(move |db| db.execute("DELETE FROM session_state WHERE session = ?1", params![session]).map(|_| ()))
    }

    fn touch_session_state<'a>(&'a self, session: &'a str, now: u64) -> BoxFuture<'a, Result<(), StoreError>> {
        let session = session.to_string();
        self.with(move |db| {
            db.execute("UPDATE session_state SET touched_at = ?2 WHERE session = ?1", params![session, now as i64])
                .map(|_| ())
        })
    }

    fn purge_session_state(&self, before: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        self.with(move |db| {
            db.execute("DELETE FROM session_state WHERE touched_at < ?1", params![before as i64]).map(|n| n as u64)
        })
    }
}

/// What [`ExecutionStore::get_session_parts`] returns from the rows of one
/// query, `(part, bytes)` in any order: the bytes of each of `parts` in
/// the order asked, `None` for a part without a row.
pub fn session_parts_in_order(
    parts: &[impl AsRef<str>],
    rows: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> Vec<Option<Vec<u8>>> {
    let mut found = vec![None; parts.len()];
    for (part, bytes) in rows {
        if let Some(at) = parts.iter().position(|want| want.as_ref() == part) {
            found[at] = Some(bytes);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: &str, expires_at: u64) -> StoredExecution {
        StoredExecution {
            summary: ExecutionSummary {
                id: id.into(),
                session: "s".into(),
                language: "javascript".into(),
                server: "records".into(),
                tool: "delete_record".into(),
                paused_at: 10,
                expires_at,
                leased_until: None,
            },
            sealed: vec![1, 2, 3],
        }
    }

    #[tokio::test]
    async fn session_parts_come_in_the_order_asked() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("executions.sqlite")).unwrap();
        store.put_session_state("s1", "vault", vec![1]).await.unwrap();
        store.put_session_state("s1", "skills", vec![2]).await.unwrap();
        store.put_session_state("s2", "vault", vec![3]).await.unwrap();
        let parts = store.get_session_parts("s1", &["skills", "missing", "vault"]).await.unwrap();
        assert_eq!(parts, [Some(vec![2]), None, Some(vec![1])]);
        assert_eq!(store.get_session_parts("none", &["vault"]).await.unwrap(), [None]);
    }

    #[tokio::test]
    async fn stores_lists_expires_and_removes_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/executions.sqlite");
        let store = SqliteStore::open(&path).unwrap();
        store.put(stored("a", 100)).await.unwrap();
        store.put(stored("b", 50)).await.unwrap();
        // Another process opening the same file sees them.
        let other = SqliteStore::open(&path).unwrap();
        assert_eq!(other.get("a").await.unwrap(), Some(stored("a", 100)));
        let listed: Vec<String> = other.list(60).await.unwrap().into_iter().map(|s| s.id).collect();
        assert_eq!(listed, ["a"], "b expired at 50 and is gone");
        assert_eq!(store.get("b").await.unwrap(), None);
        // A lease on a version since replaced takes nothing.
        let mut replaced = stored("a", 100);
        replaced.sealed = vec![9];
        other.put(replaced.clone()).await.unwrap();
        assert!(!store.lease(&stored("a", 100), "r1", 10, 40).await.unwrap(), "replaced since: not leased");
        assert!(other.lease(&replaced, "r1", 10, 40).await.unwrap());
        assert!(!store.lease(&replaced, "r2", 10, 40).await.unwrap(), "only one lease at a time");
        assert_eq!(store.get("a").await.unwrap().unwrap().summary.leased_until, Some(40));
        // Renewed by its owner only; released, it can be leased again.
        assert!(store.renew_lease("a", "r1", 60).await.unwrap());
        assert!(!store.renew_lease("a", "r2", 90).await.unwrap());
        assert!(!store.lease(&replaced, "r2", 50, 80).await.unwrap(), "renewed to 60: still held at 50");
        store.release_lease("a", "r2").await.unwrap();
        assert!(!store.lease(&replaced, "r2", 50, 80).await.unwrap(), "a stranger's release is no release");
        store.release_lease("a", "r1").await.unwrap();
        assert_eq!(store.get("a").await.unwrap().unwrap().summary.leased_until, None);
        assert!(!store.renew_lease("a", "r1", 90).await.unwrap(), "released: not renewed");
        // A lease that ran out (its process died) is taken over, and the
        // first owner can then no longer take the execution.
        assert!(store.lease(&replaced, "r1", 50, 80).await.unwrap());
        assert!(other.lease(&replaced, "r2", 80, 110).await.unwrap(), "ran out at 80");
        assert!(!store.take_leased("a", "r1").await.unwrap(), "lost to r2");
        assert!(other.take_leased("a", "r2").await.unwrap());
        assert_eq!(store.get("a").await.unwrap(), None, "taken: gone");
        other.put(replaced).await.unwrap();
        assert_eq!(store.get("a").await.unwrap().unwrap().summary.leased_until, None, "put again: unleased");
        assert!(store.remove("a").await.unwrap());
        assert!(!other.remove("a").await.unwrap(), "only one remover wins");
        assert_eq!(store.get("missing").await.unwrap(), None);
        // An expired execution under a live lease is not purged from under
        // its resume; once the lease ran out, it is.
        store.put(stored("late", 100)).await.unwrap();
        assert!(store.lease(&stored("late", 100), "r1", 90, 130).await.unwrap());
        assert_eq!(store.list(120).await.unwrap().len(), 1, "leased until 130");
        assert!(store.list(130).await.unwrap().is_empty(), "the lease ran out");
        assert_eq!(store.get("late").await.unwrap(), None);

        store.put_session_state("s1", "vault", vec![1]).await.unwrap();
        store.put_session_state("s1", "vault", vec![2]).await.unwrap();
        store.put_session_state("s1", "mcp", vec![3]).await.unwrap();
        assert_eq!(other.get_session_state("s1", "vault").await.unwrap(), Some(vec![2]));
        other.remove_session_state("s1").await.unwrap();
        assert_eq!(store.get_session_state("s1", "mcp").await.unwrap(), None);

        // Sessions not touched since a time are purged; touched ones stay.
        store.put_session_state("old", "vault", vec![1]).await.unwrap();
        store.put_session_state("used", "vault", vec![1]).await.unwrap();
        store.touch_session_state("old", 100).await.unwrap();
        store.touch_session_state("used", u64::MAX >> 2).await.unwrap();
        assert_eq!(store.purge_session_state(1000).await.unwrap(), 1);
        assert_eq!(store.get_session_state("old", "vault").await.unwrap(), None);
        assert_eq!(store.get_session_state("used", "vault").await.unwrap(), Some(vec![1]));
    }

    #[test]
    fn a_file_from_before_versioning_is_migrated_and_a_newer_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("executions.sqlite");
        {
            let db = Connection::open(&path).unwrap();
            db.execute_batch(MIGRATIONS[0]).unwrap();
            db.execute("INSERT INTO session_state (session, part, bytes) VALUES ('s', 'mcp', x'01')", []).unwrap();
        }
        SqliteStore::open(&path).unwrap();
        let db = Connection::open(&path).unwrap();
        let touched: i64 = db.query_row("SELECT touched_at FROM session_state", [], |row| row.get(0)).unwrap();
        assert_eq!(touched, 0, "the old row kept, with the new column");
        db.pragma_update(None, "user_version", 99).unwrap();
        let error = SqliteStore::open(&path).unwrap_err();
        assert!(error.0.contains("newer than this build's"), "{error}");
    }
}
