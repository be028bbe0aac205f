//! Approval of tool calls made by code: rules by name and by annotation,
//! an embedder's `Approver`, declines the code can catch, a gated call
//! inside `Promise.all`, and tokens shown to the human.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{assert_ok, builder, run_in, run_js, run_py};
use airlock::{
    ApprovalRequest, ApprovalSettings, Decision, Error, Language, Limits, Runtime, RuntimeBuilder, ToolAnnotations,
    ToolDefinition,
};
use serde_json::{Value, json};

/// Calls received by each in-process tool, as the tool saw them.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, Value)>>>);

impl Received {
    fn of(&self, tool: &str) -> Vec<Value> {
        self.0.lock().unwrap().iter().filter(|(t, _)| t == tool).map(|(_, args)| args.clone()).collect()
    }
}

fn rules(json: Value) -> ApprovalSettings {
    serde_json::from_value(json).unwrap()
}

/// `crm.delete_customer` (no annotations: destructive as MCP reads it),
/// `crm.find_customer` (read-only), `mail.send` (destructive: false) and
/// `crm.count` (read-only), each recording what it received.
fn crm(received: &Received) -> RuntimeBuilder {
    let record = |name: &'static str, received: &Received, answer: Value| {
        let received = received.clone();
        move |args: Value| {
            received.0.lock().unwrap().push((name.to_string(), args));
            let answer = answer.clone();
            async move { Ok(answer) }
        }
    };
    let read_only = ToolAnnotations { read_only_hint: Some(true), ..Default::default() };
    let additive = ToolAnnotations { destructive_hint: Some(false), ..Default::default() };
    builder()
        .tool(
            "crm",
            ToolDefinition::new("delete_customer"),
            record("delete_customer", received, json!({"deleted": true})),
        )
        .tool(
            "crm",
            ToolDefinition::new("find_customer").annotations(read_only.clone()),
            record("find_customer", received, json!({"name": "Ada Lovelace", "email": "ada.lovelace@example.com"})),
        )
        .tool("crm", ToolDefinition::new("count").annotations(read_only), record("count", received, json!(1)))
        .tool(
            "mail",
            ToolDefinition::new("send").annotations(additive),
            record("send", received, json!({"sent": true})),
        )
}

/// The approvals asked about, in order.
type Seen = Arc<Mutex<Vec<ApprovalRequest>>>;

/// An approver that answers `decide` and keeps every request it saw.
fn approver(
    seen: &Seen,
    decide: impl Fn(&ApprovalRequest) -> Decision + Send + Sync + 'static,
) -> impl airlock::Approver + 'static {
    let seen = seen.clone();
    move |request: ApprovalRequest| {
        let decision = decide(&request);
        seen.lock().unwrap().push(request);
        async move { decision }
    }
}

/// The [`crm`] runtime gating the calls `require` names, with an
/// [`approver`] answering `decide`; what the tools received and what the
/// approver was asked.
async fn gated(
    require: Value,
    decide: impl Fn(&ApprovalRequest) -> Decision + Send + Sync + 'static,
) -> (Runtime, Received, Seen) {
    let (received, seen) = (Received::default(), Seen::default());
    let runtime = crm(&received)
        .approvals(rules(json!({ "require": require })))
        .approver(approver(&seen, decide))
        .build()
        .await
        .unwrap();
    (runtime, received, seen)
}

#[tokio::test]
async fn a_destructive_call_waits_for_approval_and_a_decline_is_a_catchable_denied_error() {
    let (runtime, received, seen) =
        gated(json!([{"destructive": true}]), |request| match request.arguments["id"].as_i64() {
            Some(1) => Decision::Approve,
            _ => Decision::Decline { reason: Some("not that one".into()) },
        })
        .await;
    let code = r#"
        import { callTool, ToolError } from "airlock";
        console.log(JSON.stringify(await callTool("crm", "delete_customer", { id: 1 })));
        try {
            await callTool("crm", "delete_customer", { id: 2 });
        } catch (e) {
            console.log(e instanceof ToolError, e.kind, e.message);
        }
        // Read-only and non-destructive tools are not gated.
        await callTool("crm", "count", {});
        await callTool("mail", "send", { to: "x" });
        console.log("done");"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(lines, ["{\"deleted\":true}", "true denied crm.delete_customer was declined: not that one", "done"]);
    // The declined call never reached the tool; the approved one did.
    assert_eq!(received.of("delete_customer"), [json!({"id": 1})]);
    assert_eq!(received.of("count").len(), 1);
    assert_eq!(received.of("send").len(), 1);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "only the two destructive calls were asked about");
    assert_eq!((seen[0].server.as_str(), seen[0].tool.as_str()), ("crm", "delete_customer"));
    assert_eq!(seen[0].rule, "destructive tools");
}

#[tokio::test]
async fn the_human_sees_tokens_and_the_tool_receives_the_real_value() {
    let (runtime, received, seen) = gated(json!([{"tools": "mail.*"}]), |_| Decision::Approve).await;
    let code = r#"
        import { callTool } from "airlock";
        const customer = await callTool("crm", "find_customer", { id: 7 });
        console.log(customer.email);
        await callTool("mail", "send", { to: customer.email, body: "Hello" });"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout.trim(), "[EMAIL_1]");
    assert_eq!(seen.lock().unwrap()[0].arguments, json!({"to": "[EMAIL_1]", "body": "Hello"}));
    assert_eq!(received.of("send"), [json!({"to": "ada.lovelace@example.com", "body": "Hello"})]);

    // Configured to, the human sees the real value; the code still not.
    let (received, seen) = (Received::default(), Seen::default());
    let showing = crm(&received)
        .approvals(rules(json!({"require": [{"tools": "mail.*"}], "show_values": true})))
        .approver(approver(&seen, |_| Decision::Approve))
        .build()
        .await
        .unwrap();
    let result = run_js(&showing, code, &Limits::default()).await;
    assert_eq!(result.stdout.trim(), "[EMAIL_1]");
    assert_eq!(seen.lock().unwrap()[0].arguments, json!({"to": "ada.lovelace@example.com", "body": "Hello"}));
}

#[tokio::test]
async fn a_gated_call_in_promise_all_waits_alone() {
    let received = Received::default();
    let counted = Arc::new(AtomicUsize::new(0));
    let runtime = {
        let received_by_approver = received.clone();
        let counted = counted.clone();
        crm(&received)
            .approvals(rules(json!({"require": [{"tools": "crm.delete_*"}]})))
            .approver(move |_request: ApprovalRequest| {
                let received = received_by_approver.clone();
                let counted = counted.clone();
                async move {
                    // Approve only once the nine other calls of the batch
                    // have reached their tool: had they waited behind this
                    // one, they never would, and this declines.
                    for _ in 0..200 {
                        if received.of("count").len() == 9 {
                            counted.store(9, Ordering::SeqCst);
                            return Decision::Approve;
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Decision::Decline { reason: Some("the other calls never ran".into()) }
                }
            })
            .build()
            .await
            .unwrap()
    };
    let code = r#"
        import { callTool } from "airlock";
        const calls = [];
        for (let i = 0; i < 10; i++) {
            calls.push(i === 4 ? callTool("crm", "delete_customer", { id: 4 }) : callTool("crm", "count", {}));
        }
        const results = await Promise.all(calls);
        console.log(JSON.stringify(results[4]), results.length);"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout.trim(), "{\"deleted\":true} 10");
    assert_eq!(counted.load(Ordering::SeqCst), 9);
    assert_eq!(received.of("delete_customer").len(), 1);
}

#[tokio::test]
async fn allowed_for_the_session_is_not_asked_again_in_that_session_only() {
    let (runtime, received, seen) =
        gated(json!([{"tools": "crm.delete_customer"}]), |_| Decision::AllowForSession).await;
    let code = r#"
        import { callTool } from "airlock";
        await callTool("crm", "delete_customer", { id: 1 });
        await callTool("crm", "delete_customer", { id: 2 });"#;
    let session = runtime.session().unwrap();
    assert_ok(&run_in(&session, code, Language::JavaScript, &Limits::default()).await);
    assert_ok(&run_in(&session, code, Language::JavaScript, &Limits::default()).await);
    assert_eq!(seen.lock().unwrap().len(), 1, "asked once for the whole session");
    let other = runtime.session().unwrap();
    assert_ok(&run_in(&other, code, Language::JavaScript, &Limits::default()).await);
    assert_eq!(seen.lock().unwrap().len(), 2, "another session is asked again");
    assert_eq!(received.of("delete_customer").len(), 6);
}

#[tokio::test]
async fn python_code_is_gated_too_and_with_no_approver_the_call_is_declined() {
    let require = json!([{"read_only": false}]);
    let (runtime, received, _) = gated(require.clone(), |request| {
        if request.arguments["id"] == 1 { Decision::Approve } else { Decision::Decline { reason: None } }
    })
    .await;
    let code = "from servers import crm\n\
                print(crm.delete_customer(id=1))\n\
                try:\n    crm.delete_customer(id=2)\nexcept ToolError as e:\n    print(e.kind, e.message)\n\
                print(crm.count())\n";
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "{'deleted': True}\ndenied crm.delete_customer was declined\n1\n");
    assert_eq!(received.of("delete_customer"), [json!({"id": 1})]);

    // No approver: the gated call is declined, and says why.
    let unasked = crm(&Received::default()).approvals(rules(json!({ "require": require }))).build().await.unwrap();
    let code = r#"
        import { callTool } from "airlock";
        try { await callTool("crm", "delete_customer", { id: 1 }) } catch (e) { console.log(e.kind, e.message) }"#;
    let result = run_js(&unasked, code, &Limits::default()).await;
    assert_ok(&result);
    assert!(
        result.stdout.starts_with("denied calling crm.delete_customer needs a human's approval"),
        "{}",
        result.stdout
    );
    assert!(result.stdout.contains("there is no one to ask"), "{}", result.stdout);
}

#[tokio::test]
async fn a_session_approver_replaces_the_runtimes() {
    let received = Received::default();
    let runtime: Runtime =
        crm(&received).approvals(rules(json!({"require": [{"tools": "crm.delete_*"}]}))).build().await.unwrap();
    let session = runtime.session().unwrap();
    let seen = Seen::default();
    session.set_approver(Arc::new(approver(&seen, |_| Decision::Approve)));
    let code = r#"import { callTool } from "airlock"; await callTool("crm", "delete_customer", { id: 3 });"#;
    assert_ok(&run_in(&session, code, Language::JavaScript, &Limits::default()).await);
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(received.of("delete_customer"), [json!({"id": 3})]);
}

#[tokio::test]
async fn a_rule_naming_no_server_or_malformed_is_refused_at_build() {
    let error = crm(&Received::default())
        .approvals(rules(json!({"require": [{"tools": "cmr.delete_*"}]})))
        .build()
        .await
        .err()
        .expect("a rule for a server that does not exist gates nothing");
    match &error {
        Error::Config(config) => {
            assert_eq!(config.field, "airlock.approvals.require[0].tools");
            assert!(config.message.contains("no server 'cmr'") && config.message.contains("crm"), "{}", config.message);
        }
        other => panic!("expected a config error, got {other:?}"),
    }
    let error = crm(&Received::default()).approvals(rules(json!({"require": [{}]}))).build().await.err().unwrap();
    assert!(matches!(&error, Error::Config(c) if c.field == "airlock.approvals.require[0]"), "{error:?}");
}

#[tokio::test]
async fn a_real_servers_annotations_decide_what_is_gated() {
    // The records server marks list_records read-only and says nothing of
    // add, which MCP then reads as possibly destructive.
    let runtime =
        crate::support::runtime_with(&["records"], json!({"approvals": {"require": [{"destructive": true}]}})).await;
    let listing = runtime.tools().listing("records").await.unwrap();
    let hints = |name: &str| listing.definitions.iter().find(|d| d.name == name).unwrap().annotations.clone();
    assert_eq!(hints("list_records"), Some(ToolAnnotations { read_only_hint: Some(true), ..Default::default() }));
    assert_eq!(hints("add"), None);
    let code = r#"
        import { listRecords, add } from "./servers/records";
        const { records } = await listRecords({ limit: 2 });
        console.log(records.length);
        try { await add({ a: 1, b: 2 }) } catch (e) { console.log(e.kind) }"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "2\ndenied\n");
    runtime.shutdown().await;
}

#[tokio::test]
async fn requests_and_decisions_are_audited_in_the_chain_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = Arc::new(airlock::AuditLog::open(&path).unwrap());
    let seen = Seen::default();
    let runtime = crm(&Received::default())
        .audit(log.clone())
        .approvals(rules(json!({"require": [{"tools": "crm.delete_customer"}]})))
        .approver(approver(&seen, |request| {
            if request.arguments["id"] == 1 {
                Decision::Approve
            } else {
                Decision::Decline { reason: Some("no".into()) }
            }
        }))
        .build()
        .await
        .unwrap();
    let code = r#"
        import { callTool } from "airlock";
        await callTool("crm", "delete_customer", { id: 1 });
        try { await callTool("crm", "delete_customer", { id: 2 }) } catch (e) {}"#;
    let session = runtime.session().unwrap();
    session.set_client("claude-code 2.1");
    assert_ok(&run_in(&session, code, Language::JavaScript, &Limits::default()).await);
    log.sync();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(airlock::audit::verify(text.as_bytes()).unwrap().records, text.lines().count() as u64);
    let events: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let approvals: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["event"].as_str().is_some_and(|name| name.starts_with("approval")))
        .map(|e| (e["event"].as_str().unwrap(), e["outcome"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        approvals,
        [
            ("approval_requested", ""),
            ("approval_decided", "approved"),
            ("approval_requested", ""),
            ("approval_decided", "declined")
        ]
    );
    // Each says which client's session asked.
    for event in events.iter().filter(|e| e["event"].as_str().is_some_and(|name| name.starts_with("approval"))) {
        assert_eq!(event["client"], "claude-code 2.1", "{event}");
    }
    // The declined call is audited as a tool call denied, never as run.
    let denied = events.iter().filter(|e| e["event"] == "tool_call" && e["outcome"] == "denied").count();
    assert_eq!(denied, 1);
    let metrics = runtime.metrics().encode();
    assert!(metrics.contains("airlock_approvals_pending 0"), "{metrics}");
    assert!(metrics.contains("airlock_approval_decisions_total{outcome=\"approved\"} 1"), "{metrics}");
    assert!(metrics.contains("airlock_approval_decisions_total{outcome=\"declined\"} 1"), "{metrics}");
}

#[tokio::test]
async fn waiting_for_a_human_is_not_execution_time() {
    let received = Received::default();
    let runtime = crm(&received)
        .approvals(rules(json!({"require": [{"tools": "crm.delete_customer"}]})))
        .approver(|_request: ApprovalRequest| async {
            // Three times the execution's whole timeout.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            Decision::Approve
        })
        .build()
        .await
        .unwrap();
    // Fuel enough that only the deadline can end the loop below (the
    // default burns out in about half a second on a fast machine).
    let limits = Limits { timeout: Duration::from_millis(500), fuel: u64::MAX, ..Limits::default() };
    let code = r#"
        import { callTool } from "airlock";
        console.log(JSON.stringify(await callTool("crm", "delete_customer", { id: 1 })));"#;
    let result = run_js(&runtime, code, &limits).await;
    assert_ok(&result);
    assert_eq!(result.stdout.trim(), "{\"deleted\":true}");
    // The deadline still holds for the code's own time after the wait.
    let code = r#"
        import { callTool } from "airlock";
        await callTool("crm", "delete_customer", { id: 2 });
        while (true) {}"#;
    let result = run_js(&runtime, code, &limits).await;
    match &result.error {
        Some(airlock::ExecutionError::Limit { limit: airlock::Limit::Timeout, .. }) => {}
        other => panic!("expected the timeout limit, got {other:?}"),
    }
}
