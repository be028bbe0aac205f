//! Asking the client's human about gated tool calls (`airlock.approvals`).
//!
//! A client on protocol 2026-07-28 or later is asked the MCP way: the
//! `tools/call` answers with an input-required result holding an
//! elicitation and a `requestState`, the client asks its human and retries
//! the call with the answer and the state. Meanwhile the execution is
//! paused and stored, not held in memory: the state is a MAC-sealed handle
//! to its journal, so the retry resumes it on any instance that shares the
//! store and the key, after a restart too. An older client that declared
//! elicitation is asked with `elicitation/create` during the call.

use std::time::Duration;

use airlock::{ApprovalRequest, Approver, Decision, Paused};
use futures::future::BoxFuture;
use rmcp::model::{
    CallToolResponse, ElicitRequest, ElicitRequestParams, ElicitationAction, ElicitationSchema, InputRequest,
    InputRequests, InputRequiredResult, InputResponses,
};
use rmcp::{Peer, RoleServer};
use serde_json::Value;

/// How long an older client has to answer `elicitation/create`; then the
/// call is declined and the execution goes on.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

/// The key of the one input request in an input-required result.
const APPROVAL: &str = "approval";

/// An approver that asks an older client with `elicitation/create`.
pub(crate) struct PeerApprover(pub Peer<RoleServer>);

impl Approver for PeerApprover {
    fn decide<'a>(&'a self, request: &'a ApprovalRequest) -> BoxFuture<'a, Decision> {
        Box::pin(async move {
            let question = elicitation(
                &request.server,
                &request.tool,
                &request.arguments,
                &request.rule,
                request.session_allowance,
            );
            match self.0.create_elicitation_with_timeout(question, Some(ANSWER_TIMEOUT)).await {
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
fn elicitation(
    server: &str,
    tool: &str,
    arguments: &Value,
    rule: &str,
    session_allowance: bool,
) -> ElicitRequestParams {
    let arguments = serde_json::to_string_pretty(arguments).unwrap_or_default();
    let message =
        format!("Code wants to call {server}.{tool} (approval required for {rule}).\nArguments:\n{arguments}");
    let mut schema = ElicitationSchema::builder().required_bool("approve");
    if session_allowance {
        schema = schema.optional_bool("allow_for_session", false);
    }
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message,
        // Two boolean properties: nothing for `build` to refuse.
        requested_schema: schema.build_unchecked(),
    }
}

/// The input-required result that asks about the call `paused` waits on;
/// `state` is the paused execution's handle.
pub(crate) fn question(paused: &Paused, session_allowance: bool, state: String) -> CallToolResponse {
    let asked = elicitation(&paused.server, &paused.tool, &paused.arguments, &paused.rule, session_allowance);
    let mut requests = InputRequests::new();
    requests.insert(APPROVAL.to_string(), InputRequest::Elicitation(ElicitRequest::new(asked)));
    CallToolResponse::InputRequired(InputRequiredResult::new(Some(requests), Some(state)))
}

/// The decision in a retried call's input responses.
pub(crate) fn answered(responses: Option<&InputResponses>) -> Decision {
    decision(&responses.and_then(|r| r.get(APPROVAL)).cloned().unwrap_or(Value::Null))
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
