//! Airlock's PostgreSQL store: an [`ExecutionStore`] that several
//! `airlock serve` instances share, so that an execution paused on one is
//! resumed on any other (they must share the journal key too).
//!
//! The schema is versioned: [`PostgresStore::connect`] applies the
//! migrations a database lacks, in order, each in a transaction, and
//! refuses a database migrated by a newer build.

use std::sync::Arc;

use airlock::{ExecutionStore, ExecutionSummary, StoreError, StoredExecution, session_parts_in_order};
use futures::future::BoxFuture;
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls, Row};

/// The migrations, in order; a database at version `n` has had the first
/// `n` applied.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE airlock_paused_executions (
        id TEXT PRIMARY KEY,
        session TEXT NOT NULL,
        language TEXT NOT NULL,
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        paused_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        sealed BYTEA NOT NULL
    );
    CREATE INDEX airlock_paused_executions_expiry ON airlock_paused_executions (expires_at);
",
    "
    CREATE TABLE airlock_session_state (
        session TEXT NOT NULL,
        part TEXT NOT NULL,
        bytes BYTEA NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (session, part)
    );
",
    "
    ALTER TABLE airlock_session_state ADD COLUMN touched_at BIGINT NOT NULL DEFAULT 0;
    CREATE INDEX airlock_session_state_touched ON airlock_session_state (touched_at);
",
    "
    ALTER TABLE airlock_paused_executions ADD COLUMN lease_owner TEXT;
    ALTER TABLE airlock_paused_executions ADD COLUMN leased_until BIGINT NOT NULL DEFAULT 0;
",
];

/// Paused executions in a PostgreSQL database.
pub struct PostgresStore {
    url: String,
    /// The connection, made again when it was lost.
    client: Mutex<Option<Arc<Client>>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

/// A store error: `context`, and what the server said (a database error's
/// own message, which tokio-postgres's `Display` leaves out).
fn failed(context: &str, error: tokio_postgres::Error) -> StoreError {
    match error.as_db_error() {
        Some(db) => StoreError(format!("PostgreSQL: {context}: {} ({})", db.message(), db.code().code())),
        None => StoreError(format!("PostgreSQL: {context}: {error}")),
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`)
    /// and brings its schema up to date.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let store = PostgresStore { url: url.to_string(), client: Mutex::new(None) };
        let client = store.client().await?;
        migrate(&client).await?;
        Ok(store)
    }

    /// The connection, reconnecting when the last one closed (the
    /// database restarted, say).
    async fn client(&self) -> Result<Arc<Client>, StoreError> {
        let mut held = self.client.lock().await;
        if let Some(client) = held.as_ref().filter(|client| !client.is_closed()) {
            return Ok(client.clone());
        }
        let (client, connection) =
            tokio_postgres::connect(&self.url, NoTls).await.map_err(|e| failed("cannot connect", e))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(%error, "the PostgreSQL connection ended");
            }
        });
        let client = Arc::new(client);
        *held = Some(client.clone());
        Ok(client)
    }
}

/// Applies the migrations `client`'s database lacks.
async fn migrate(client: &Client) -> Result<(), StoreError> {
    // One instance migrates at a time: the others wait on the lock (two
    // concurrent CREATE TABLE IF NOT EXISTS can still collide).
    client
        .batch_execute("SELECT pg_advisory_lock(7041711)")
        .await
        .map_err(|e| failed("cannot take the migration lock", e))?;
    let outcome = apply(client).await;
    let _ = client.batch_execute("SELECT pg_advisory_unlock(7041711)").await;
    outcome
}

async fn apply(client: &Client) -> Result<(), StoreError> {
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS airlock_schema (version INTEGER NOT NULL)")
        .await
        .map_err(|e| failed("cannot create the schema version table", e))?;
    let row = client
        .query_opt("SELECT version FROM airlock_schema", &[])
        .await
        .map_err(|e| failed("cannot read the schema version", e))?;
    let version = row.map_or(0, |row| row.get::<_, i32>(0)) as usize;
    if version > MIGRATIONS.len() {
        return Err(StoreError(format!(
            "PostgreSQL: the database's schema is version {version}, newer than this build's {}: upgrade airlock",
            MIGRATIONS.len()
        )));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        let next = index as i32 + 1;
        let sql = format!(
            "BEGIN; {migration}; DELETE FROM airlock_schema; INSERT INTO airlock_schema (version) VALUES ({next}); COMMIT;"
        );
        if let Err(e) = client.batch_execute(&sql).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(failed(&format!("migration {next} failed"), e));
        }
        tracing::info!(version = next, "PostgreSQL schema migrated");
    }
    Ok(())
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn summary(row: &Row) -> ExecutionSummary {
    ExecutionSummary {
        id: row.get(0),
        session: row.get(1),
        language: row.get(2),
        server: row.get(3),
        tool: row.get(4),
        paused_at: row.get::<_, i64>(5) as u64,
        expires_at: row.get::<_, i64>(6) as u64,
        leased_until: row.get::<_, Option<String>>(7).map(|_| row.get::<_, i64>(8) as u64),
    }
}

/// The columns [`summary`] reads, in its order.
const SUMMARY: &str = "id, session, language, server, tool, paused_at, expires_at, lease_owner, leased_until";

impl ExecutionStore for PostgresStore {
    fn put(&self, execution: StoredExecution) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let s = &execution.summary;
            self.client()
                .await?
                .execute(
                    "INSERT INTO airlock_paused_executions \
                     (id, session, language, server, tool, paused_at, expires_at, sealed) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (id) DO UPDATE SET session = $2, language = $3, server = $4, tool = $5, \
                     paused_at = $6, expires_at = $7, sealed = $8, lease_owner = NULL, leased_until = 0",
                    &[
                        &s.id,
                        &s.session,
                        &s.language,
                        &s.server,
                        &s.tool,
                        &(s.paused_at as i64),
                        &(s.expires_at as i64),
                        &execution.sealed,
                    ],
                )
                .await
                .map(|_| ())
                .map_err(|e| failed("cannot store a paused execution", e))
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredExecution>, StoreError>> {
        Box::pin(async move {
            let row = self
                .client()
                .await?
                .query_opt(&format!("SELECT {SUMMARY}, sealed FROM airlock_paused_executions WHERE id = $1"), &[&id])
                .await
                .map_err(|e| failed("cannot read a paused execution", e))?;
            Ok(row.map(|row| StoredExecution { summary: summary(&row), sealed: row.get(9) }))
        })
    }

    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let removed = self
                .client()
                .await?
                .execute("DELETE FROM airlock_paused_executions WHERE id = $1", &[&id])
                .await
                .map_err(|e| failed("cannot remove a paused execution", e))?;
            Ok(removed == 1)
        })
    }

    fn lease<'a>(
        &'a self,
        execution: &'a StoredExecution,
        owner: &'a str,
        now: u64,
        until: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let leased = self
                .client()
                .await?
                .execute(
                    "UPDATE airlock_paused_executions SET lease_owner = $3, leased_until = $4 \
                     WHERE id = $1 AND sealed = $2 AND (lease_owner IS NULL OR leased_until <= $5)",
                    &[&execution.summary.id, &execution.sealed, &owner, &(until as i64), &(now as i64)],
                )
                .await
                .map_err(|e| failed("cannot lease a paused execution", e))?;
            Ok(leased == 1)
        })
    }

    fn renew_lease<'a>(&'a self, id: &'a str, owner: &'a str, until: u64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let renewed = self
                .client()
                .await?
                .execute(
                    "UPDATE airlock_paused_executions SET leased_until = $3 WHERE id = $1 AND lease_owner = $2",
                    &[&id, &owner, &(until as i64)],
                )
                .await
                .map_err(|e| failed("cannot renew a lease", e))?;
            Ok(renewed == 1)
        })
    }

    fn take_leased<'a>(&'a self, id: &'a str, owner: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let taken = self
                .client()
                .await?
                .execute("DELETE FROM airlock_paused_executions WHERE id = $1 AND lease_owner = $2", &[&id, &owner])
                .await
                .map_err(|e| failed("cannot take a leased execution", e))?;
            Ok(taken == 1)
        })
    }

    fn release_lease<'a>(&'a self, id: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.client()
                .await?
                .execute(
                    "UPDATE airlock_paused_executions SET lease_owner = NULL, leased_until = 0 \
                     WHERE id = $1 AND lease_owner = $2",
                    &[&id, &owner],
                )
                .await
                .map(|_| ())
                .map_err(|e| failed("cannot release a lease", e))
        })
    }

    fn list(&self, now: u64) -> BoxFuture<'_, Result<Vec<ExecutionSummary>, StoreError>> {
        Box::pin(async move {
            let client = self.client().await?;
            client
                .execute(
                    "DELETE FROM airlock_paused_executions \
                     WHERE expires_at <= $1 AND (lease_owner IS NULL OR leased_until <= $1)",
                    &[&(now as i64)],
                )
                .await
                .map_err(|e| failed("cannot remove expired executions", e))?;
            let rows = client
                .query(&format!("SELECT {SUMMARY} FROM airlock_paused_executions ORDER BY paused_at, id"), &[])
                .await
                .map_err(|e| failed("cannot list paused executions", e))?;
            Ok(rows.iter().map(summary).collect())
        })
    }

    fn put_session_state<'a>(
        &'a self,
        session: &'a str,
        part: &'a str,
        bytes: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.client()
                .await?
                .execute(
                    "INSERT INTO airlock_session_state (session, part, bytes, touched_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (session, part) DO UPDATE SET bytes = $3, updated_at = now(), touched_at = $4",
                    &[&session, &part, &bytes, &(unix_now() as i64)],
                )
                .await
                .map(|_| ())
                .map_err(|e| failed("cannot store session state", e))
        })
    }

    fn get_session_state<'a>(
        &'a self,
        session: &'a str,
        part: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            let row = self
                .client()
                .await?
                .query_opt(
                    "SELECT bytes FROM airlock_session_state WHERE session = $1 AND part = $2",
                    &[&session, &part],
                )
                .await
                .map_err(|e| failed("cannot read session state", e))?;
            Ok(row.map(|row| row.get(0)))
        })
    }

    fn get_session_parts<'a>(
        &'a self,
        session: &'a str,
        parts: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<Option<Vec<u8>>>, StoreError>> {
        Box::pin(async move {
            let rows = self
                .client()
                .await?
                .query(
                    "SELECT part, bytes FROM airlock_session_state WHERE session = $1 AND part = ANY($2)",
                    &[&session, &parts],
                )
                .await
                .map_err(|e| failed("cannot read session state", e))?;
            Ok(session_parts_in_order(parts, rows.iter().map(|row| (row.get(0), row.get(1)))))
        })
    }

    fn touch_session_state<'a>(&'a self, session: &'a str, now: u64) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.client()
                .await?
                .execute(
                    "UPDATE airlock_session_state SET touched_at = $2 WHERE session = $1",
                    &[&session, &(now as i64)],
                )
                .await
                .map(|_| ())
                .map_err(|e| failed("cannot touch session state", e))
        })
    }

    fn purge_session_state(&self, before: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            self.client()
                .await?
                .execute("DELETE FROM airlock_session_state WHERE touched_at < $1", &[&(before as i64)])
                .await
                .map_err(|e| failed("cannot purge session state", e))
        })
    }

    fn remove_session_state<'a>(&'a self, session: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.client()
                .await?
                .execute("DELETE FROM airlock_session_state WHERE session = $1", &[&session])
                .await
                .map(|_| ())
                .map_err(|e| failed("cannot remove session state", e))
        })
    }
}
