//! Asking the client's human about gated tool calls (`airlock.approvals`).
//!
//! A client on protocol 2026-07-28 or later is asked the MCP way: the
//! `tools/call` answers with an input-required result holding an
//! elicitation and a `requestState`, the client asks its human and retries
//! the call with the answer and the state. Meanwhile the execution waits,
//! parked in this process under that state (a random handle; nothing of it
//! is trusted from the client but the lookup). An older client that
//! declared elicitation is asked with `elicitation/create` during the call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use airlock::{ApprovalRequest, Approver, Decision};
use futures::future::BoxFuture;
use rmcp::model::{
    CallToolResponse, CallToolResult, ElicitRequest, ElicitRequestParams, ElicitationAction, ElicitationSchema,
    InputRequest, InputRequests, InputRequiredResult,
};
use rmcp::{Peer, RoleServer};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// How long a parked execution waits for the client to come back with the
/// human's answer; then the call is declined and the execution goes on.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

/// The key of the one input request in an input-required result.
const APPROVAL: &str = "approval";

/// What a running execution tells the request that drives it.
pub(crate) enum Event {
    /// A gated call needs an answer, to be sent on the channel.
    Ask(ApprovalRequest, oneshot::Sender<Decision>),
    /// The execution finished with this result.
    Done(CallToolResult),
}

/// An approver that hands each question to whoever drives the execution.
pub(crate) struct ChannelApprover(pub mpsc::Sender<Event>);

impl Approver for ChannelApprover {
    fn decide<'a>(&'a self, request: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(async move {
            let (reply, answer) = oneshot::channel();
            if self.0.send(Event::Ask(request.clone(), reply)).await.is_err() {
                return declined("the request that ran the code is gone");
            }
            match tokio::time::timeout(ANSWER_TIMEOUT, answer).await {
                Ok(Ok(decision)) => decision,
                Ok(Err(_)) => declined("the client did not come back with an answer"),
                Err(_) => declined(&format!("no answer within {} minutes", ANSWER_TIMEOUT.as_secs() / 60)),
            }
        })
    }
}

/// An approver that asks an older client with `elicitation/create`.
pub(crate) struct PeerApprover(pub Peer<RoleServer>);

impl Approver for PeerApprover {
    fn decide<'a>(&'a self, request: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(async move {
            match self.0.create_elicitation_with_timeout(elicitation(request), Some(ANSWER_TIMEOUT)).await {
                Ok(answer) => decision(&serde_json::to_value(answer).unwrap_or_default()),
                Err(error) => declined(&format!("the client could not ask: {error}")),
            }
        })
    }
}

fn declined(reason: &str) -> Decision {
    Decision::Decline { reason: Some(reason.to_string()) }
}

/// The question a human sees: server, tool, the rule, and the arguments as
/// the code passed them (personal data as tokens).
fn elicitation(request: &ApprovalRequest) -> ElicitRequestParams {
    let arguments = serde_json::to_string_pretty(&request.arguments).unwrap_or_default();
    let message = format!(
        "Code wants to call {}.{} (approval required for {}).\nArguments:\n{arguments}",
        request.server, request.tool, request.rule
    );
    let mut schema = ElicitationSchema::builder().required_bool("approve");
    if request.session_allowance {
        schema = schema.optional_bool("allow_for_session", false);
    }
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message,
        // Two boolean properties: nothing for `build` to refuse.
        requested_schema: schema.build_unchecked(),
    }
}

/// The decision in an elicitation's answer (`{action, content}`): only an
/// accepted form that says `approve: true` approves.
fn decision(answer: &Value) -> Decision {
    let accepted = serde_json::from_value::<ElicitationAction>(answer["action"].clone())
        .is_ok_and(|action| action == ElicitationAction::Accept);
    let content = &answer["content"];
    match (accepted, content["approve"].as_bool()) {
        (true, Some(true)) if content["allow_for_session"].as_bool() == Some(true) => Decision::AllowForSession,
        (true, Some(true)) => Decision::Approve,
        _ => declined("declined by the user"),
    }
}

/// An execution waiting for the client to retry with the human's answer.
struct Parked {
    events: mpsc::Receiver<Event>,
    reply: oneshot::Sender<Decision>,
}

/// The executions of this process parked on a question, by handle. One
/// map for the process: on protocol 2026-07-28 over HTTP a retried call
/// may come without a session (stateless), so it reaches another server
/// instance than the call that parked it. The 128-bit random handle is
/// what entitles a caller to resume.
#[derive(Clone)]
pub(crate) struct ParkedExecutions(Arc<Mutex<HashMap<String, Parked>>>);

impl ParkedExecutions {
    /// The process's one map.
    pub(crate) fn of_process() -> Self {
        static PROCESS: std::sync::OnceLock<ParkedExecutions> = std::sync::OnceLock::new();
        PROCESS.get_or_init(|| ParkedExecutions(Arc::default())).clone()
    }

    /// Waits for the execution behind `events` to finish, or to ask: then
    /// parks it and answers with the question.
    pub(crate) async fn drive(&self, mut events: mpsc::Receiver<Event>) -> CallToolResponse {
        match events.recv().await {
            Some(Event::Done(result)) => result.into(),
            Some(Event::Ask(request, reply)) => {
                let state = handle();
                let question = ElicitRequest::new(elicitation(&request));
                let mut requests = InputRequests::new();
                requests.insert(APPROVAL.to_string(), InputRequest::Elicitation(question));
                self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(state.clone(), Parked { events, reply });
                CallToolResponse::InputRequired(InputRequiredResult::new(Some(requests), Some(state)))
            }
            None => CallToolResult::error(vec![rmcp::model::ContentBlock::text(
                "the execution ended without a result (it panicked or was cancelled)",
            )])
            .into(),
        }
    }

    /// Resumes the execution parked under `state` with the answer in
    /// `responses`, then drives it on. `None` if no execution is parked
    /// there (an old, used or forged state).
    pub(crate) async fn resume(
        &self,
        state: &str,
        responses: Option<&rmcp::model::InputResponses>,
    ) -> Option<CallToolResponse> {
        let parked = self.0.lock().unwrap_or_else(PoisonError::into_inner).remove(state)?;
        let answer = responses.and_then(|r| r.get(APPROVAL)).cloned().unwrap_or(Value::Null);
        let _ = parked.reply.send(decision(&answer));
        Some(self.drive(parked.events).await)
    }
}

/// A fresh handle for a parked execution: 128 bits from the standard
/// library's randomly keyed hashers (keys from the OS). The handle only
/// finds an execution of the same MCP session.
fn handle() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher
            .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_accepted_yes_approves() {
        assert_eq!(decision(&json!({"action": "accept", "content": {"approve": true}})), Decision::Approve);
        assert_eq!(
            decision(&json!({"action": "accept", "content": {"approve": true, "allow_for_session": true}})),
            Decision::AllowForSession
        );
        for answer in [
            json!({"action": "accept", "content": {"approve": false}}),
            json!({"action": "decline"}),
            json!({"action": "cancel"}),
            json!({"action": "accept"}),
            json!(null),
        ] {
            assert!(matches!(decision(&answer), Decision::Decline { .. }), "{answer}");
        }
    }
}
