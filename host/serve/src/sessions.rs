//! The MCP sessions of the Streamable HTTP front: rmcp's in-memory
//! [`LocalSessionManager`] holds them, this wrapper bounds how many live at
//! once and closes those left idle, so that clients that never say goodbye
//! cannot grow the server without end.
//!
//! - A session is admitted only under `max` live ones: the HTTP front
//!   claims a place before rmcp creates the session ([`Sessions::admit`],
//!   handed over through [`ADMITTED`]) and answers 503 when there is none.
//! - A session with no request in flight for `idle` is closed
//!   ([`Sessions::expire_idle`]): its rmcp worker stops, its handler (and
//!   with it the Airlock session: workspace folder, PII vault) is dropped.
//!   rmcp's own keep-alive is switched off: it also fires while a long
//!   execution runs (no message moves meanwhile), which would cut it off.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, LocalSessionManagerError};
use rmcp::transport::streamable_http_server::session::{RestoreOutcome, ServerSseMessage, SessionId, SessionManager};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

tokio::task_local! {
    /// The place [`Sessions::admit`] gave the request now being served, for
    /// [`Sessions::create_session`] to keep (the HTTP front and rmcp's
    /// service run the request in one task).
    pub(crate) static ADMITTED: RefCell<Option<Admission>>;
}

/// One session's place under the cap, given back when it drops.
pub(crate) struct Admission {
    _place: OwnedSemaphorePermit,
}

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    /// rmcp's session manager failed.
    #[error(transparent)]
    Local(#[from] LocalSessionManagerError),
    /// The server already holds its maximum of live sessions.
    #[error("the server holds its maximum of {0} sessions")]
    Full(usize),
}

/// Counters and gauges of the sessions, exported at `/metrics`.
#[derive(Clone, Default)]
pub(crate) struct SessionMetrics {
    /// Sessions open now.
    pub live: Gauge,
    /// Sessions closed for being idle.
    pub expired: Counter,
    /// `initialize` requests refused at the cap.
    pub refused: Counter,
}

struct Live {
    last_active: Instant,
    in_flight: usize,
    _admission: Admission,
}

struct Shared {
    live: Mutex<HashMap<SessionId, Live>>,
    metrics: SessionMetrics,
}

impl Shared {
    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Live>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn touch(&self, id: &SessionId, in_flight: isize) {
        if let Some(live) = self.sessions().get_mut(id) {
            live.last_active = Instant::now();
            live.in_flight = live.in_flight.saturating_add_signed(in_flight);
        }
    }
}

/// A request in flight in a session, until its response stream is done.
struct Busy {
    shared: Arc<Shared>,
    id: SessionId,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.shared.touch(&self.id, -1);
    }
}

/// rmcp's [`LocalSessionManager`] with a cap on live sessions and an idle
/// expiry.
pub struct Sessions {
    inner: LocalSessionManager,
    shared: Arc<Shared>,
    places: Arc<Semaphore>,
    max: usize,
    idle: Duration,
}

impl Sessions {
    /// At most `max` live sessions, each closed after `idle` without a
    /// request in flight.
    pub(crate) fn new(max: usize, idle: Duration, metrics: SessionMetrics) -> Sessions {
        let mut inner = LocalSessionManager::default();
        inner.session_config.keep_alive = None;
        let max = max.max(1);
        Sessions {
            inner,
            shared: Arc::new(Shared { live: Mutex::default(), metrics }),
            places: Arc::new(Semaphore::new(max)),
            max,
            idle: idle.max(Duration::from_millis(1)),
        }
    }

    /// The cap.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// The idle expiry.
    pub(crate) fn idle(&self) -> Duration {
        self.idle
    }

    /// Counts an `initialize` refused at the cap.
    pub(crate) fn refused(&self) {
        self.shared.metrics.refused.inc();
    }

    /// Whether session `id` is open on this instance (not only in the
    /// store).
    pub(crate) fn is_open(&self, id: &str) -> bool {
        self.shared.sessions().contains_key(id)
    }

    /// Whether the cap leaves a place for one more session now.
    pub(crate) fn has_room(&self) -> bool {
        self.places.available_permits() > 0
    }

    /// A place for one more session, if the cap leaves one.
    pub(crate) fn admit(&self) -> Option<Admission> {
        self.places.clone().try_acquire_owned().ok().map(|place| Admission { _place: place })
    }

    /// Closes, until `stop` resolves, every session left without a request
    /// in flight for the idle time.
    pub(crate) async fn expire_idle(self: Arc<Self>, stop: impl Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        // Checked four times per idle period: a session outlives its expiry
        // by a quarter of it at most (and by 30 s at most).
        let tick = (self.idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(30));
        loop {
            tokio::select! {
                () = tokio::time::sleep(tick) => {}
                () = &mut stop => return,
            }
            let now = Instant::now();
            let expired: Vec<(SessionId, Live)> = {
                let mut sessions = self.shared.sessions();
                let idle: Vec<SessionId> = sessions
                    .iter()
                    .filter(|(_, live)| live.in_flight == 0 && now.duration_since(live.last_active) >= self.idle)
                    .map(|(id, _)| id.clone())
                    .collect();
                idle.into_iter().filter_map(|id| sessions.remove(&id).map(|live| (id, live))).collect()
            };
            for (id, live) in expired {
                tracing::info!(session = %id, idle = ?now.duration_since(live.last_active), "closing an idle session");
                self.shared.metrics.expired.inc();
                self.shared.metrics.live.dec();
                drop(live);
                if let Err(error) = self.inner.close_session(&id).await {
                    tracing::warn!(session = %id, %error, "cannot close an idle session");
                }
            }
        }
    }
}

impl SessionManager for Sessions {
    type Error = SessionsError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        // The place the HTTP front claimed for this request, else one now
        // (a session created some other way).
        let admission = ADMITTED.try_with(|cell| cell.borrow_mut().take()).ok().flatten().or_else(|| self.admit());
        let Some(admission) = admission else {
            self.shared.metrics.refused.inc();
            return Err(SessionsError::Full(self.max));
        };
        let (id, transport) = self.inner.create_session().await?;
        let live = Live { last_active: Instant::now(), in_flight: 0, _admission: admission };
        self.shared.sessions().insert(id.clone(), live);
        self.shared.metrics.live.inc();
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.shared.touch(id, 0);
        Ok(self.inner.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        Ok(self.inner.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        // A DELETE from the client, or rmcp once the session's service has
        // ended (also after an expiry: then it is gone already).
        if self.shared.sessions().remove(id).is_some() {
            self.shared.metrics.live.dec();
        }
        Ok(self.inner.close_session(id).await?)
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        // In flight until the stream that carries the response ends (or the
        // client drops it).
        self.shared.touch(id, 1);
        let busy = Busy { shared: self.shared.clone(), id: id.clone() };
        let stream = self.inner.create_stream(id, message).await?;
        Ok(stream.map(move |message| {
            let _busy = &busy;
            message
        }))
    }

    async fn accept_message(&self, id: &SessionId, message: ClientJsonRpcMessage) -> Result<(), Self::Error> {
        self.shared.touch(id, 0);
        Ok(self.inner.accept_message(id, message).await?)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        // Opening the stream is activity; holding it open is not (every
        // client holds one), so it keeps no session from expiring.
        self.shared.touch(id, 0);
        Ok(self.inner.create_standalone_stream(id).await?)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.shared.touch(id, 0);
        Ok(self.inner.resume(id, last_event_id).await?)
    }

    async fn restore_session(&self, id: SessionId) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        // A session another instance opened (its handshake is in the
        // store): it takes a place here like a new one.
        let Some(admission) = self.admit() else {
            self.shared.metrics.refused.inc();
            return Err(SessionsError::Full(self.max));
        };
        let outcome = self.inner.restore_session(id.clone()).await?;
        if let RestoreOutcome::Restored(_) = &outcome {
            let live = Live { last_active: Instant::now(), in_flight: 0, _admission: admission };
            self.shared.sessions().insert(id, live);
            self.shared.metrics.live.inc();
        }
        Ok(outcome)
    }
}
