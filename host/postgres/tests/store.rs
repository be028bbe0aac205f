//! The PostgreSQL store against a real server started for the test.

use airlock::{ExecutionStore, ExecutionSummary, StoredExecution};
use airlock_fixtures::postgres::Postgres;
use airlock_postgres::PostgresStore;

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
        sealed: vec![0, 1, 2, 255],
    }
}

#[tokio::test]
async fn two_instances_share_paused_executions_and_the_schema_is_migrated_once() {
    let postgres = Postgres::start();
    // Two instances connect at once: one migrates, the other waits.
    let (one, two) = tokio::join!(PostgresStore::connect(&postgres.url), PostgresStore::connect(&postgres.url));
    let (one, two) = (one.unwrap(), two.unwrap());
    one.put(stored("a", 100)).await.unwrap();
    one.put(stored("b", 50)).await.unwrap();
    assert_eq!(two.get("a").await.unwrap(), Some(stored("a", 100)));
    let mut replaced = stored("a", 200);
    replaced.sealed = vec![9];
    two.put(replaced.clone()).await.unwrap();
    assert_eq!(one.get("a").await.unwrap(), Some(replaced.clone()));
    let listed: Vec<String> = one.list(60).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(listed, ["a"], "b expired at 50 and is gone");
    // A lease on the version first read fails once it was replaced.
    let first = stored("a", 100);
    assert!(!one.lease(&first, "r1", 10, 40).await.unwrap(), "replaced since: not leased");
    assert!(two.lease(&replaced, "r1", 10, 40).await.unwrap());
    assert!(!one.lease(&replaced, "r2", 10, 40).await.unwrap(), "only one lease at a time");
    assert_eq!(one.get("a").await.unwrap().unwrap().summary.leased_until, Some(40));
    assert!(one.renew_lease("a", "r1", 60).await.unwrap());
    assert!(!one.renew_lease("a", "r2", 90).await.unwrap(), "renewed by its owner only");
    one.release_lease("a", "r1").await.unwrap();
    assert_eq!(two.get("a").await.unwrap().unwrap().summary.leased_until, None);
    // A lease that ran out (its process died) is taken over; the first
    // owner can then no longer take the execution.
    assert!(one.lease(&replaced, "r1", 50, 80).await.unwrap());
    assert!(two.lease(&replaced, "r2", 80, 110).await.unwrap(), "ran out at 80");
    assert!(!one.take_leased("a", "r1").await.unwrap(), "lost to r2");
    assert!(two.take_leased("a", "r2").await.unwrap());
    assert_eq!(one.get("a").await.unwrap(), None);
    two.put(replaced.clone()).await.unwrap();
    assert_eq!(one.get("a").await.unwrap(), Some(replaced.clone()), "put again: unleased");
    assert!(two.remove("a").await.unwrap());
    assert!(!one.remove("a").await.unwrap(), "only one remover wins");
    // An expired execution under a live lease is not purged from under its
    // resume; once the lease ran out, it is.
    one.put(stored("late", 100)).await.unwrap();
    assert!(two.lease(&stored("late", 100), "r1", 90, 130).await.unwrap());
    assert_eq!(one.list(120).await.unwrap().len(), 1, "leased until 130");
    assert!(two.list(130).await.unwrap().is_empty(), "the lease ran out");
    one.put_session_state("s1", "vault", vec![1]).await.unwrap();
    two.put_session_state("s1", "vault", vec![2, 3]).await.unwrap();
    assert_eq!(one.get_session_state("s1", "vault").await.unwrap(), Some(vec![2, 3]));
    one.put_session_state("s1", "skills", vec![4]).await.unwrap();
    let parts = two.get_session_parts("s1", &["skills", "missing", "vault"]).await.unwrap();
    assert_eq!(parts, [Some(vec![4]), None, Some(vec![2, 3])], "in the order asked, in one read");
    one.remove_session_state("s1").await.unwrap();
    assert_eq!(two.get_session_state("s1", "vault").await.unwrap(), None);
    one.put_session_state("old", "mcp", vec![1]).await.unwrap();
    one.put_session_state("used", "mcp", vec![1]).await.unwrap();
    one.touch_session_state("old", 100).await.unwrap();
    two.touch_session_state("used", u64::MAX >> 2).await.unwrap();
    assert_eq!(two.purge_session_state(1000).await.unwrap(), 1);
    assert_eq!(one.get_session_state("used", "mcp").await.unwrap(), Some(vec![1]));
    // A third connection finds the schema current and migrates nothing.
    let three = PostgresStore::connect(&postgres.url).await.unwrap();
    assert_eq!(three.get("a").await.unwrap(), None);
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    let error = PostgresStore::connect("postgres://airlock@127.0.0.1:1/postgres").await.unwrap_err();
    assert!(error.0.starts_with("PostgreSQL: cannot connect"), "{error}");
}
