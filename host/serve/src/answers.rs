//! Requests still owed an answer, so that a stopping server closes its MCP
//! sessions only after every result it computed has been written out:
//! cancelling an rmcp service drops responses still queued for sending.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use rmcp::RoleServer;
use rmcp::model::{JsonRpcMessage, RequestId};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::sync::watch;

/// How many requests are owed an answer.
#[derive(Clone)]
pub struct Pending {
    count: Arc<watch::Sender<usize>>,
}

/// One request owed an answer; dropping it marks the answer sent.
pub struct Owed {
    count: Arc<watch::Sender<usize>>,
}

impl Drop for Owed {
    fn drop(&mut self) {
        self.count.send_modify(|n| *n -= 1);
    }
}

impl Pending {
    pub fn new() -> Self {
        Pending { count: Arc::new(watch::Sender::new(0)) }
    }

    /// Counts one more request until the returned guard drops.
    pub fn owe(&self) -> Owed {
        self.count.send_modify(|n| *n += 1);
        Owed { count: self.count.clone() }
    }

    /// Waits until every request has its answer, or `limit` passes (a
    /// client may hold a request open without end).
    pub async fn settled(&self, limit: Duration) {
        let mut count = self.count.subscribe();
        if tokio::time::timeout(limit, count.wait_for(|n| *n == 0)).await.is_err() {
            tracing::warn!(owed = *count.borrow(), "stopping with requests still unanswered");
        }
    }

    /// HTTP middleware: a POST to the MCP endpoint is owed until its whole
    /// response body (the SSE stream carrying the result) has been sent.
    pub async fn track_http(self, request: Request, next: Next) -> Response {
        if request.method() != Method::POST {
            return next.run(request).await;
        }
        let owed = self.owe();
        let response = next.run(request).await;
        tracing::debug!(status = %response.status(), "answering a POST");
        response.map(|body| {
            Body::from_stream(body.into_data_stream().map(move |chunk| {
                let _owed = &owed;
                chunk
            }))
        })
    }
}

/// A server transport that counts each request from its arrival until its
/// response or error has been written.
pub struct Tracked<T> {
    inner: T,
    pending: Pending,
    owed: Arc<Mutex<HashMap<RequestId, Owed>>>,
}

impl<T> Tracked<T> {
    pub fn new(inner: T, pending: Pending) -> Self {
        Tracked { inner, pending, owed: Arc::default() }
    }

    fn settle(&self, id: &RequestId) -> Option<Owed> {
        self.owed.lock().unwrap_or_else(PoisonError::into_inner).remove(id)
    }
}

impl<T: Transport<RoleServer>> Transport<RoleServer> for Tracked<T> {
    type Error = T::Error;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let answered = match &item {
            JsonRpcMessage::Response(response) => self.settle(&response.id),
            JsonRpcMessage::Error(error) => error.id.as_ref().and_then(|id| self.settle(id)),
            _ => None,
        };
        let sending = self.inner.send(item);
        async move {
            let sent = sending.await;
            drop(answered);
            sent
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        let message = self.inner.receive().await?;
        if let JsonRpcMessage::Request(request) = &message {
            let owed = self.pending.owe();
            self.owed.lock().unwrap_or_else(PoisonError::into_inner).insert(request.id.clone(), owed);
        }
        Some(message)
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}
