//! A resume's hold on a stored execution: a lease in the store, renewed
//! while the code replays, that becomes the execution's removal at the
//! moment its waiting call goes live. A process that dies mid-replay
//! leaves a lease that runs out, and the execution can be resumed again;
//! from the waiting call on, the decision is spent and the execution is
//! gone from the store (at most once, never twice).

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use super::store::{ExecutionStore, StoreError, StoredExecution};
use super::unix_now;

/// Where a lease stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Held: renewed until taken or released.
    Held,
    /// The waiting call went live: the execution left the store.
    Taken,
    /// Given back: the execution stays, for another resume.
    Released,
}

/// A lease on one stored execution, taken by [`ResumeLease::acquire`].
pub(crate) struct ResumeLease {
    store: Arc<dyn ExecutionStore>,
    /// The version leased: given back if the resume goes away while the
    /// store removes it for the call that was about to go live.
    stored: StoredExecution,
    owner: String,
    state: Mutex<State>,
    /// The outcome of turning the lease into the execution's removal,
    /// shared by every call that would go live (one batch may hold
    /// several): `Err` says why nothing may go live.
    taken: tokio::sync::OnceCell<Result<(), String>>,
}

impl ResumeLease {
    /// Leases `stored` for `ttl`, renewed every third of it while held;
    /// `None` when the store no longer holds that version or another
    /// resume holds a live lease on it.
    pub(crate) async fn acquire(
        store: Arc<dyn ExecutionStore>,
        stored: &StoredExecution,
        ttl: Duration,
    ) -> Result<Option<Arc<ResumeLease>>, StoreError> {
        let owner = crate::digest::hex(&rand::random::<[u8; 16]>());
        if !store.lease(stored, &owner, unix_now(), lease_end(ttl)).await? {
            return Ok(None);
        }
        let lease = Arc::new(ResumeLease {
            store,
            stored: stored.clone(),
            owner,
            state: Mutex::new(State::Held),
            taken: tokio::sync::OnceCell::new(),
        });
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(renew(Arc::downgrade(&lease), ttl));
        }
        Ok(Some(lease))
    }

    /// The execution's id.
    fn id(&self) -> &str {
        &self.stored.summary.id
    }

    fn state(&self) -> State {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_state(&self, state: State) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    /// Removes the execution from the store, once, if this lease still
    /// holds it: from then on calls may go live. `Err` (why) when it was
    /// cancelled or expired, or another resume took it after this lease ran
    /// out: nothing may go live.
    pub(crate) async fn ensure_taken(self: &Arc<Self>) -> Result<(), String> {
        self.taken.get_or_init(|| self.take()).await.clone()
    }

    /// The store's removal runs in a task: a resume that goes away while
    /// it runs (its caller stopped waiting, its deadline passed) does not
    /// lose the execution, which the task gives back, since the call it was
    /// for can no longer be made.
    async fn take(self: &Arc<Self>) -> Result<(), String> {
        const LOST: &str = "it was cancelled or expired, or another resume took it after this one's lease ran out";
        if self.state() != State::Held {
            return Err(LOST.into());
        }
        let (outcome_tx, outcome_rx) = tokio::sync::oneshot::channel();
        let (used_tx, used_rx) = tokio::sync::oneshot::channel::<()>();
        let lease = self.clone();
        tokio::spawn(async move {
            let taken = lease.store.take_leased(lease.id(), &lease.owner).await;
            let took = matches!(taken, Ok(true));
            if took {
                lease.set_state(State::Taken);
            }
            let _ = outcome_tx.send(taken);
            if took && used_rx.await.is_err() {
                tracing::info!(id = %lease.id(), "a resume went away before its call went live; the execution is kept");
                if let Err(error) = lease.store.put(lease.stored.clone()).await {
                    tracing::error!(%error, id = %lease.id(), "could not keep the execution of a resume that went away");
                }
            }
        });
        match outcome_rx.await {
            Ok(Ok(true)) => {
                // In the same poll as the outcome: no await in between.
                let _ = used_tx.send(());
                Ok(())
            }
            Ok(Ok(false)) => Err(LOST.into()),
            Ok(Err(error)) => Err(format!("the store: {error} (the execution may be gone)")),
            Err(_) => Err("the store's answer was lost".into()),
        }
    }

    /// Gives the execution back unless it was taken: the resume ended
    /// before its waiting call went live.
    pub(crate) async fn release(&self) -> Result<(), StoreError> {
        if !self.mark_released() {
            return Ok(());
        }
        self.store.release_lease(self.id(), &self.owner).await
    }

    /// [`ResumeLease::release`] from a task, for a resume dropped before
    /// it settled.
    pub(crate) fn release_in_background(self: &Arc<Self>) {
        if self.state() != State::Held {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(id = %self.id(), "a dropped resume could not release its lease (no runtime); it runs out");
            return;
        };
        let lease = self.clone();
        handle.spawn(async move {
            if let Err(error) = lease.release().await {
                tracing::warn!(%error, id = %lease.id(), "a dropped resume could not release its lease; it runs out");
            }
        });
    }

    /// Marks the lease released; `false` if it was not held.
    fn mark_released(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let held = *state == State::Held;
        if held {
            *state = State::Released;
        }
        held
    }
}

/// When a lease taken or renewed now runs out: `ttl` from now, at least.
/// The store's clock is whole Unix seconds, and a reading is a second's
/// start: rounded up by one, a lease never lasts less than `ttl`.
fn lease_end(ttl: Duration) -> u64 {
    unix_now() + ttl.as_secs().max(1) + 1
}

/// Renews the lease every third of `ttl` while it is held and referenced.
/// A renewal the store refuses (the execution was cancelled) stops it: the
/// resume then fails at [`ResumeLease::take`].
async fn renew(lease: Weak<ResumeLease>, ttl: Duration) {
    let every = (ttl / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        let Some(lease) = lease.upgrade() else { return };
        if lease.state() != State::Held {
            return;
        }
        match lease.store.renew_lease(lease.id(), &lease.owner, lease_end(ttl)).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => tracing::warn!(%error, id = %lease.id(), "could not renew a resume's lease"),
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::future::BoxFuture;

    use super::*;
    use crate::durable::store::{ExecutionSummary, SqliteStore};

    /// A SQLite store whose removal of a leased execution takes a while.
    struct SlowTake(SqliteStore);

    impl ExecutionStore for SlowTake {
        fn put(&self, execution: StoredExecution) -> BoxFuture<'_, Result<(), StoreError>> {
            self.0.put(execution)
        }
        fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<StoredExecution>, StoreError>> {
            self.0.get(id)
        }
        fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
            self.0.remove(id)
        }
        fn lease<'a>(
            &'a self,
            execution: &'a StoredExecution,
            owner: &'a str,
            now: u64,
            until: u64,
        ) -> BoxFuture<'a, Result<bool, StoreError>> {
            self.0.lease(execution, owner, now, until)
        }
        fn renew_lease<'a>(
            &'a self,
            id: &'a str,
            owner: &'a str,
            until: u64,
        ) -> BoxFuture<'a, Result<bool, StoreError>> {
            self.0.renew_lease(id, owner, until)
        }
        fn take_leased<'a>(&'a self, id: &'a str, owner: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
            Box::pin(async move {
                let taken = self.0.take_leased(id, owner).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                taken
            })
        }
        fn release_lease<'a>(&'a self, id: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
            self.0.release_lease(id, owner)
        }
        fn list(&self, now: u64) -> BoxFuture<'_, Result<Vec<ExecutionSummary>, StoreError>> {
            self.0.list(now)
        }
        fn put_session_state<'a>(
            &'a self,
            session: &'a str,
            part: &'a str,
            bytes: Vec<u8>,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            self.0.put_session_state(session, part, bytes)
        }
        fn get_session_state<'a>(
            &'a self,
            session: &'a str,
            part: &'a str,
        ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
            self.0.get_session_state(session, part)
        }
        fn get_session_parts<'a>(
            &'a self,
            session: &'a str,
            parts: &'a [&'a str],
        ) -> BoxFuture<'a, Result<Vec<Option<Vec<u8>>>, StoreError>> {
            self.0.get_session_parts(session, parts)
        }
        fn remove_session_state<'a>(&'a self, session: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
            self.0.remove_session_state(session)
        }
        fn touch_session_state<'a>(&'a self, session: &'a str, now: u64) -> BoxFuture<'a, Result<(), StoreError>> {
            self.0.touch_session_state(session, now)
        }
        fn purge_session_state(&self, before: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
            self.0.purge_session_state(before)
        }
    }

    fn paused(id: &str) -> StoredExecution {
        let summary = ExecutionSummary {
            id: id.into(),
            session: "s".into(),
            language: "javascript".into(),
            server: "crm".into(),
            tool: "delete".into(),
            paused_at: 1,
            expires_at: u64::MAX >> 2,
            leased_until: None,
        };
        StoredExecution { summary, sealed: vec![7] }
    }

    #[tokio::test]
    async fn a_resume_that_goes_away_while_the_store_removes_the_execution_gets_it_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ExecutionStore> =
            Arc::new(SlowTake(SqliteStore::open(&dir.path().join("e.sqlite")).unwrap()));
        store.put(paused("a")).await.unwrap();
        let lease = ResumeLease::acquire(store.clone(), &paused("a"), Duration::from_secs(30)).await.unwrap().unwrap();
        // The removal commits at once; its caller is gone before it hears.
        let gone = tokio::time::timeout(Duration::from_millis(50), lease.ensure_taken()).await;
        assert!(gone.is_err(), "still taking");
        let mut kept = None;
        for _ in 0..100 {
            kept = store.get("a").await.unwrap();
            if kept.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let kept = kept.expect("given back");
        assert_eq!((kept.sealed, kept.summary.leased_until), (vec![7], None), "as it was, and free");

        // A caller that hears the outcome keeps the removal.
        store.put(paused("b")).await.unwrap();
        let lease = ResumeLease::acquire(store.clone(), &paused("b"), Duration::from_secs(30)).await.unwrap().unwrap();
        assert_eq!(lease.ensure_taken().await, Ok(()));
        assert_eq!(lease.ensure_taken().await, Ok(()), "once, for every call of a batch");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(store.get("b").await.unwrap(), None);
    }
}
