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
    id: String,
    owner: String,
    state: Mutex<State>,
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
        let lease =
            Arc::new(ResumeLease { store, id: stored.summary.id.clone(), owner, state: Mutex::new(State::Held) });
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(renew(Arc::downgrade(&lease), ttl));
        }
        Ok(Some(lease))
    }

    fn state(&self) -> State {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes the execution from the store, if this lease still holds it:
    /// the waiting call may then go live. `false`: it was cancelled, or
    /// another resume took it after this lease ran out, and the call must
    /// not go live.
    pub(crate) async fn take(&self) -> Result<bool, StoreError> {
        if self.state() != State::Held {
            return Ok(false);
        }
        let taken = self.store.take_leased(&self.id, &self.owner).await?;
        if taken {
            *self.state.lock().unwrap_or_else(PoisonError::into_inner) = State::Taken;
        }
        Ok(taken)
    }

    /// Gives the execution back unless it was taken: the resume ended
    /// before its waiting call went live.
    pub(crate) async fn release(&self) -> Result<(), StoreError> {
        if !self.mark_released() {
            return Ok(());
        }
        self.store.release_lease(&self.id, &self.owner).await
    }

    /// [`ResumeLease::release`] from a task, for a resume dropped before
    /// it settled.
    pub(crate) fn release_in_background(self: &Arc<Self>) {
        if self.state() != State::Held {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(id = %self.id, "a dropped resume could not release its lease (no runtime); it runs out");
            return;
        };
        let lease = self.clone();
        handle.spawn(async move {
            if let Err(error) = lease.release().await {
                tracing::warn!(%error, id = %lease.id, "a dropped resume could not release its lease; it runs out");
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
        match lease.store.renew_lease(&lease.id, &lease.owner, lease_end(ttl)).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => tracing::warn!(%error, id = %lease.id, "could not renew a resume's lease"),
        }
    }
}
