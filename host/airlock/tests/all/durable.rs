//! Durable executions: a gated call whose approver defers pauses the
//! execution; it is stored sealed in the data folder and resumed, by
//! another runtime as after a restart, by replaying its journal. Calls made
//! before the pause are not made again; what changed since is refused.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::support::{assert_ok, builder};
use airlock::{
    ApprovalRequest, ApprovalSettings, Decision, Error, ExecutionResult, ExecutionStore, Language, ResumeError,
    Runtime, RuntimeBuilder, SqliteStore, ToolDefinition,
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

/// `crm.find_customer`, `crm.count`, `crm.delete_customer` and
/// `mail.send`, recording what they receive; `crm.delete_*` and `mail.*`
/// gated; paused executions kept in `data`.
fn crm(received: &Received, data: &Path, delete: ToolDefinition) -> RuntimeBuilder {
    let record = |name: &'static str, answer: Value| {
        let received = received.clone();
        move |args: Value| {
            received.0.lock().unwrap().push((name.to_string(), args));
            let answer = answer.clone();
            async move { Ok(answer) }
        }
    };
    let rules: ApprovalSettings =
        serde_json::from_value(json!({"require": [{"tools": "crm.delete_*"}, {"tools": "mail.*"}]})).unwrap();
    builder()
        .data_dir(Some(data.to_path_buf()))
        .tool(
            "crm",
            ToolDefinition::new("find_customer"),
            record("find_customer", json!({"name": "Ada Lovelace", "email": "ada.lovelace@example.com"})),
        )
        .tool("crm", ToolDefinition::new("count"), record("count", json!(1)))
        .tool("crm", delete, record("delete_customer", json!({"deleted": true})))
        .tool("mail", ToolDefinition::new("send"), record("send", json!({"sent": true})))
        .approvals(rules)
}

fn delete_tool() -> ToolDefinition {
    ToolDefinition::new("delete_customer")
}

/// An approver that defers every question, keeping what it was asked.
fn deferring(seen: &Arc<Mutex<Vec<ApprovalRequest>>>) -> impl airlock::Approver + 'static {
    let seen = seen.clone();
    move |request: ApprovalRequest| {
        seen.lock().unwrap().push(request);
        async { Decision::Pause }
    }
}

async fn run(runtime: &Runtime, code: &str, language: Language) -> ExecutionResult {
    let session = runtime.session().unwrap();
    session.execute(code, language).await.unwrap()
}

const JS: &str = r#"
    import { callTool } from "airlock";
    const customer = await callTool("crm", "find_customer", { id: 7 });
    const drawn = { random: Math.random(), now: Date.now() };
    console.log("found", customer.name);
    let outcome;
    try {
        outcome = await callTool("crm", "delete_customer", { id: 7 });
    } catch (e) {
        outcome = `${e.kind}: ${e.message}`;
    }
    console.log("deleted", JSON.stringify(outcome));
    export default { drawn, outcome, count: await callTool("crm", "count", {}) };"#;

#[tokio::test]
async fn a_paused_execution_resumes_after_a_restart_to_what_an_unpaused_run_gives() {
    let data = tempfile::tempdir().unwrap();
    let (received, seen) = (Received::default(), Arc::default());

    // Unpaused, approved at once: the result to compare with.
    let unpaused = crm(&Received::default(), data.path(), delete_tool())
        .approver(|_: ApprovalRequest| async { Decision::Approve })
        .build()
        .await
        .unwrap();
    let whole = run(&unpaused, JS, Language::JavaScript).await;
    assert_ok(&whole);

    let first = crm(&received, data.path(), delete_tool()).approver(deferring(&seen)).build().await.unwrap();
    let paused = run(&first, JS, Language::JavaScript).await;
    let pause = paused.paused.clone().expect("the execution paused");
    assert!(paused.error.is_none() && !paused.is_success(), "{paused:?}");
    assert_eq!(paused.stdout, "found [PERSON_1]\n", "output before the pause is shown with it");
    assert_eq!((pause.server.as_str(), pause.tool.as_str()), ("crm", "delete_customer"));
    assert_eq!(pause.arguments, json!({"id": 7}));
    assert_eq!(pause.rule, "tools crm.delete_*");
    assert!(received.of("delete_customer").is_empty());
    drop(first);

    // Another runtime on the same data folder, as after a restart.
    let second = crm(&received, data.path(), delete_tool()).build().await.unwrap();
    let listed = second.paused_executions().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, pause.execution_id);
    let shown = second.paused_execution(&pause.execution_id).await.unwrap();
    assert_eq!((shown.calls_answered, shown.code.as_str()), (1, JS));

    let session = second.session().unwrap();
    let resumed = session.resume(&pause.execution_id, Decision::Approve).await.unwrap();
    assert_ok(&resumed);
    assert_eq!(resumed.stdout, "deleted {\"deleted\":true}\n", "not printed twice");
    assert_eq!(received.of("find_customer").len(), 1, "the call before the pause is not made again");
    assert_eq!(received.of("delete_customer"), [json!({"id": 7})]);
    // The same clock reading and random draw as before the pause.
    let drawn = &resumed.value["drawn"];
    assert!(drawn["random"].is_f64() && drawn["now"].is_u64(), "{drawn}");
    assert_eq!(resumed.value["outcome"], whole.value["outcome"]);
    assert_eq!(resumed.value["count"], whole.value["count"]);
    assert_eq!(format!("{}{}", paused.stdout, resumed.stdout), whole.stdout);
    assert_eq!(resumed.stats.tool_calls, whole.stats.tool_calls, "limits count as if it never paused");
    assert!(second.paused_executions().await.unwrap().is_empty(), "resumed executions leave the store");
    let metrics = second.metrics().encode();
    assert!(metrics.contains("airlock_approvals_pending 0"), "a resume asks nobody: {metrics}");

    // Resumed once only.
    let again = session.resume(&pause.execution_id, Decision::Approve).await.unwrap_err();
    assert!(matches!(again, Error::Resume(ResumeError::NotFound(_))), "{again}");
    assert_eq!(received.of("delete_customer").len(), 1);
}

#[tokio::test]
async fn replay_reads_the_clock_and_draws_randomness_as_the_first_run_did() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let runtime = pausing(&received, data.path()).await;
    let code = r#"
        import { callTool } from "airlock";
        const drawn = [Math.random(), Date.now(), Math.random(), new Date().toISOString()];
        console.log(JSON.stringify(drawn));
        await callTool("crm", "delete_customer", { id: 1 });
        export default drawn;"#;
    let paused = run(&runtime, code, Language::JavaScript).await;
    let id = paused.paused.expect("paused").execution_id;
    let resumed = runtime.session().unwrap().resume(&id, Decision::Approve).await.unwrap();
    assert_ok(&resumed);
    assert_eq!(resumed.value.to_string(), paused.stdout.trim());
}

#[tokio::test]
async fn a_declined_resume_is_a_denied_error_the_code_catches() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let runtime = pausing(&received, data.path()).await;
    let paused = run(&runtime, JS, Language::JavaScript).await;
    let id = paused.paused.expect("paused").execution_id;
    let decline = Decision::Decline { reason: Some("not today".into()) };
    let resumed = runtime.session().unwrap().resume(&id, decline).await.unwrap();
    assert_ok(&resumed);
    assert_eq!(resumed.value["outcome"], "denied: crm.delete_customer was declined: not today");
    assert!(received.of("delete_customer").is_empty());
    let pause = runtime.session().unwrap().resume("nope", Decision::Pause).await.unwrap_err();
    assert!(matches!(pause, Error::Resume(ResumeError::NotADecision)), "{pause}");
}

#[tokio::test]
async fn python_a_gated_call_in_a_gather_of_ten_pauses_alone_and_the_nine_are_not_made_again() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let runtime = pausing(&received, data.path()).await;
    let code = r#"
import asyncio, random
from servers import crm
drawn = random.random()
print("drawn", drawn)

async def main():
    return await asyncio.gather(
        *[crm.count() for _ in range(4)], crm.delete_customer(id=4), *[crm.count() for _ in range(5)]
    )

results = asyncio.run(main())
print(results[4], len(results))
{"drawn": drawn, "results": results}
"#;
    let paused = run(&runtime, code, Language::Python).await;
    let pause = paused.paused.clone().unwrap_or_else(|| panic!("paused: {paused:?}"));
    assert_eq!(pause.arguments, json!({"id": 4}));
    assert_eq!(received.of("count").len(), 9, "the other nine calls ran");
    let resumed = runtime.session().unwrap().resume(&pause.execution_id, Decision::Approve).await.unwrap();
    assert_ok(&resumed);
    assert_eq!(resumed.stdout, "{'deleted': True} 10\n");
    assert_eq!(received.of("count").len(), 9, "and were not made again");
    assert_eq!(received.of("delete_customer"), [json!({"id": 4})]);
    assert_eq!(format!("drawn {}\n", resumed.value["drawn"]), paused.stdout);
}

#[tokio::test]
async fn the_human_sees_tokens_and_after_a_restart_the_tool_receives_the_real_value() {
    let data = tempfile::tempdir().unwrap();
    let (received, seen) = (Received::default(), Arc::new(Mutex::new(Vec::new())));
    let first = crm(&received, data.path(), delete_tool()).approver(deferring(&seen)).build().await.unwrap();
    let code = r#"
        import { callTool } from "airlock";
        const c = await callTool("crm", "find_customer", { id: 1 });
        console.log("to", c.email);
        const sent = await callTool("mail", "send", { to: c.email, body: "Hello " + c.name });
        console.log(JSON.stringify(sent), c.email);"#;
    let paused = run(&first, code, Language::JavaScript).await;
    let pause = paused.paused.expect("paused");
    assert_eq!(pause.arguments, json!({"to": "[EMAIL_1]", "body": "Hello [PERSON_1]"}));
    assert_eq!(seen.lock().unwrap()[0].arguments, pause.arguments);
    assert_eq!(paused.stdout, "to [EMAIL_1]\n");
    for file in std::fs::read_dir(data.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("ada.lovelace"), "real values are encrypted at rest");
    }
    drop(first);

    let second = crm(&received, data.path(), delete_tool()).build().await.unwrap();
    let resumed = second.session().unwrap().resume(&pause.execution_id, Decision::Approve).await.unwrap();
    assert_ok(&resumed);
    assert_eq!(received.of("send"), [json!({"to": "ada.lovelace@example.com", "body": "Hello Ada Lovelace"})]);
    assert_eq!(resumed.stdout, "{\"sent\":true} [EMAIL_1]\n");
}

/// A runtime over [`crm`] whose approver defers every question.
async fn pausing(received: &Received, data: &Path) -> Runtime {
    crm(received, data, delete_tool()).approver(deferring(&Arc::default())).build().await.unwrap()
}

/// Pauses [`JS`] in `data`, returning its id.
async fn pause_one(received: &Received, data: &Path) -> String {
    let runtime = pausing(received, data).await;
    let paused = run(&runtime, JS, Language::JavaScript).await;
    paused.paused.expect("paused").execution_id
}

#[tokio::test]
async fn a_tampered_journal_is_refused_and_kept() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let id = pause_one(&received, data.path()).await;
    let store = SqliteStore::open(&data.path().join("executions.sqlite")).unwrap();
    let original = store.get(&id).await.unwrap().unwrap();
    // An edited answer: the journal says the customer is someone else.
    let mut edited = original.clone();
    let text = String::from_utf8(edited.sealed.clone()).unwrap();
    assert!(text.contains("[PERSON_1]"), "the journal holds what the guest saw: tokens");
    edited.sealed = text.replace("[PERSON_1]", "[PERSON_2]").into_bytes();
    store.put(edited).await.unwrap();

    let runtime = crm(&received, data.path(), delete_tool()).build().await.unwrap();
    let session = runtime.session().unwrap();
    let error = session.resume(&id, Decision::Approve).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::Tampered { .. })), "{error}");
    assert!(error.to_string().contains("MAC does not match"), "{error}");
    assert!(received.of("delete_customer").is_empty());

    // Nothing was lost: the genuine record still resumes.
    store.put(original).await.unwrap();
    assert_ok(&session.resume(&id, Decision::Approve).await.unwrap());
    assert_eq!(received.of("delete_customer").len(), 1);

    // Sealed with another key: refused too.
    let id = pause_one(&received, data.path()).await;
    let other = crm(&received, data.path(), delete_tool())
        .journal_key(airlock::JournalKey::from_secret(&[9; 32]))
        .build()
        .await
        .unwrap();
    let error = other.session().unwrap().resume(&id, Decision::Approve).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::Tampered { .. })), "{error}");
}

#[tokio::test]
async fn a_changed_tool_schema_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let id = pause_one(&received, data.path()).await;
    let changed = ToolDefinition::new("delete_customer")
        .input_schema(json!({"type": "object", "properties": {"id": {"type": "string"}}}));
    let runtime = crm(&received, data.path(), changed).build().await.unwrap();
    let error = runtime.session().unwrap().resume(&id, Decision::Approve).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::Changed { .. })), "{error}");
    assert!(error.to_string().contains("the schema of crm.delete_customer changed since the pause"), "{error}");
    assert!(received.of("delete_customer").is_empty());
    assert_eq!(runtime.paused_executions().await.unwrap().len(), 1, "kept");
}

#[tokio::test]
async fn code_that_takes_another_path_on_replay_is_refused_before_anything_goes_live() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let runtime = pausing(&received, data.path()).await;
    let session = runtime.session().unwrap();
    std::fs::write(session.workspace().join("id.txt"), "1").unwrap();
    // The code's path depends on a workspace file, which is not journaled.
    let code = r#"
        import { callTool } from "airlock";
        import { readFileSync } from "fs";
        const id = Number(readFileSync("./workspace/id.txt", "utf8"));
        await callTool("crm", "find_customer", { id });
        await callTool("crm", "delete_customer", { id });"#;
    let paused = session.execute(code, Language::JavaScript).await.unwrap();
    let id = paused.paused.clone().unwrap_or_else(|| panic!("paused: {paused:?}")).execution_id;
    std::fs::write(session.workspace().join("id.txt"), "2").unwrap();
    let error = session.resume(&id, Decision::Approve).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::Diverged { .. })), "{error}");
    assert!(error.to_string().contains("call 1 was recorded as crm.find_customer with other arguments"), "{error}");
    assert!(received.of("delete_customer").is_empty());
    assert_eq!(received.of("find_customer").len(), 1);
    // Kept: with the file as it was, it resumes.
    std::fs::write(session.workspace().join("id.txt"), "1").unwrap();
    assert_ok(&session.resume(&id, Decision::Approve).await.unwrap());
    assert_eq!(received.of("delete_customer"), [json!({"id": 1})]);
}

#[tokio::test]
async fn paused_executions_expire_and_can_be_cancelled() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let expiring = crm(&received, data.path(), delete_tool())
        .approver(deferring(&Arc::default()))
        .paused_expiry(std::time::Duration::ZERO)
        .build()
        .await
        .unwrap();
    let id = run(&expiring, JS, Language::JavaScript).await.paused.unwrap().execution_id;
    let error = expiring.session().unwrap().resume(&id, Decision::Approve).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::Expired(_))), "{error}");

    let id = pause_one(&received, data.path()).await;
    let runtime = crm(&received, data.path(), delete_tool()).build().await.unwrap();
    assert!(runtime.cancel_execution(&id).await.unwrap());
    assert!(!runtime.cancel_execution(&id).await.unwrap());
    let error = runtime.session().unwrap().resume(&id, Decision::Approve).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::NotFound(_))), "{error}");
    assert!(received.of("delete_customer").is_empty());
}

#[tokio::test]
async fn without_a_data_folder_a_pause_is_a_clear_error() {
    let runtime = crm(&Received::default(), Path::new("/unused"), delete_tool())
        .data_dir(None)
        .approver(deferring(&Arc::default()))
        .build()
        .await
        .unwrap();
    assert!(!runtime.has_store());
    let error = runtime.session().unwrap().execute(JS, Language::JavaScript).await.unwrap_err();
    assert!(error.to_string().contains("no data folder"), "{error}");
    let kept = crm(&Received::default(), Path::new("/unused"), delete_tool()).build().await.unwrap();
    assert!(kept.has_store(), "a data folder is a store");
}

#[tokio::test]
async fn a_skill_changed_while_paused_makes_the_replay_diverge_and_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let runtime = pausing(&received, data.path()).await;
    let session = runtime.session().unwrap();
    let save = |id: u32| {
        format!(
            r#"import {{ saveSkill }} from "airlock";
            await saveSkill({{ name: "pick", description: "Which customer.", code: "export const pick = () => {id};",
                               replace: true, session: true }});"#
        )
    };
    assert_ok(&session.execute(&save(1), Language::JavaScript).await.unwrap());
    let code = r#"
        import { callTool } from "airlock";
        import { pick } from "./skills/pick";
        await callTool("crm", "find_customer", { id: pick() });
        await callTool("crm", "delete_customer", { id: pick() });"#;
    let paused = session.execute(code, Language::JavaScript).await.unwrap();
    let id = paused.paused.clone().unwrap_or_else(|| panic!("paused: {paused:?}")).execution_id;
    // The code the execution imports is not the code it paused with.
    assert_ok(&session.execute(&save(2), Language::JavaScript).await.unwrap());
    let error = session.resume(&id, Decision::Approve).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::Diverged { .. })), "{error}");
    assert!(received.of("delete_customer").is_empty());
    assert_eq!(received.of("find_customer"), [json!({"id": 1})]);
}

#[tokio::test]
async fn fuel_counts_across_the_pause_as_if_it_never_paused() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    // The same burn before and after the gated call.
    let code = r#"
        import { callTool } from "airlock";
        const burn = () => { let x = 0; for (let i = 0; i < 300000; i++) x = (x + i) % 7; return x; };
        burn();
        await callTool("crm", "delete_customer", { id: 1 });
        burn();"#;
    let approving = crm(&received, data.path(), delete_tool())
        .approver(|_: ApprovalRequest| async { Decision::Approve })
        .build()
        .await
        .unwrap();
    let whole = approving.session().unwrap().execute(code, Language::JavaScript).await.unwrap();
    assert_ok(&whole);
    let pausing = pausing(&received, data.path()).await;
    for (share, finishes) in [(120u64, true), (80, false)] {
        // A budget of 120% of what the whole run takes is enough; 80% is
        // not, though either half alone would fit in it.
        let limits = airlock::Limits { fuel: whole.stats.fuel_used * share / 100, ..airlock::Limits::default() };
        let session = pausing.session().unwrap();
        let paused = session.execute_with_limits(code, Language::JavaScript, &limits).await.unwrap();
        let id = paused.paused.clone().unwrap_or_else(|| panic!("paused: {paused:?}")).execution_id;
        let resumed = session.resume(&id, Decision::Approve).await.unwrap();
        if finishes {
            assert_ok(&resumed);
            let used = resumed.stats.fuel_used as f64 / whole.stats.fuel_used as f64;
            assert!((0.95..1.05).contains(&used), "fuel as if unpaused: {used}");
        } else {
            assert_eq!(resumed.limit(), Some(airlock::Limit::Fuel), "{resumed:?}");
        }
    }
}

#[tokio::test]
async fn a_session_kept_in_the_store_resolves_its_tokens_in_another_process() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let approve = |_: ApprovalRequest| async { Decision::Approve };
    // Two runtimes over one data folder, as two instances over one store.
    let one = crm(&received, data.path(), delete_tool()).approver(approve).build().await.unwrap();
    let two = crm(&received, data.path(), delete_tool()).approver(approve).build().await.unwrap();
    let (a, b) = (one.session().unwrap(), two.session().unwrap());
    a.keep_vault_in_store("client-session-1");
    b.keep_vault_in_store("client-session-1");
    let find = r#"
        import { callTool } from "airlock";
        const c = await callTool("crm", "find_customer", { id: 1 });
        console.log(c.email);"#;
    let found = a.execute(find, Language::JavaScript).await.unwrap();
    assert_eq!(found.stdout, "[EMAIL_1]\n");
    // The other process sends to the token the first one minted.
    let send = r#"
        import { callTool } from "airlock";
        await callTool("mail", "send", { to: "[EMAIL_1]", body: "Hello" });"#;
    assert_ok(&b.execute(send, Language::JavaScript).await.unwrap());
    assert_eq!(received.of("send"), [json!({"to": "ada.lovelace@example.com", "body": "Hello"})]);
    // A token minted by the second is known to the first afterwards.
    let minted = b.execute(r#"console.log("bob@example.org")"#, Language::JavaScript).await.unwrap();
    assert_eq!(minted.stdout, "[EMAIL_2]\n");
    let send_two = send.replace("[EMAIL_1]", "[EMAIL_2]");
    assert_ok(&a.execute(&send_two, Language::JavaScript).await.unwrap());
    assert_eq!(received.of("send")[1]["to"], "bob@example.org");
    // Stored encrypted: no file of the data folder holds an address.
    for file in std::fs::read_dir(data.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("ada.lovelace") && !text.contains("bob@example"), "real values are encrypted at rest");
    }
}

#[tokio::test]
async fn skills_saved_for_a_session_kept_in_the_store_reach_its_other_instances() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    // Two runtimes over one data folder, as two instances over one store.
    let one = crm(&received, data.path(), delete_tool()).build().await.unwrap();
    let two = crm(&received, data.path(), delete_tool()).build().await.unwrap();
    let (a, b) = (one.session().unwrap(), two.session().unwrap());
    a.keep_vault_in_store("client-session-1");
    b.keep_vault_in_store("client-session-1");
    let save = r#"
        import { saveSkill } from "airlock";
        await saveSkill({ name: "draft", description: "A draft.", code: "export const answer = 'secret plan';", session: true });"#;
    assert_ok(&a.execute(save, Language::JavaScript).await.unwrap());
    // The other instance imports it, in executions running at once too,
    // and lists it.
    let import = r#"import { answer } from "./skills/draft"; console.log(answer);"#;
    let (imported, at_once) =
        tokio::join!(b.execute(import, Language::JavaScript), b.execute(import, Language::JavaScript));
    for imported in [imported.unwrap(), at_once.unwrap()] {
        assert_ok(&imported);
        assert_eq!(imported.stdout, "secret plan\n");
    }
    assert!(b.skills().load("draft").is_ok());
    // One saved on each side at once: an execution of b saves one and is
    // still running (not stored yet) when a stores another and b takes it.
    let save_other = save.replace("\"draft\"", "\"other\"");
    let local = "import time
from airlock import save_skill
save_skill('local', 'Here first.', 'x = 1', session=True)
time.sleep(1.5)";
    let running = b.execute(local, Language::Python);
    let meanwhile = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_ok(&a.execute(&save_other, Language::JavaScript).await.unwrap());
        let other = r#"import { answer } from "./skills/other"; console.log(answer);"#;
        assert_ok(&b.execute(other, Language::JavaScript).await.unwrap());
        assert!(b.skills().load("local").is_ok(), "a skill saved here and not stored yet stays");
    };
    let (saved_here, ()) = tokio::join!(running, meanwhile);
    assert_ok(&saved_here.unwrap());
    a.load_shared_skills().await.unwrap();
    assert!(a.skills().load("local").is_ok() && b.skills().load("other").is_ok());
    // Stored sealed: no file of the data folder holds the code.
    for file in std::fs::read_dir(data.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("secret plan"), "skills are encrypted at rest");
    }
    // Removed outside an execution on one, gone from the other.
    b.skills().remove("draft").unwrap();
    b.store_shared_skills().await.unwrap();
    let gone = a.execute(import, Language::JavaScript).await.unwrap();
    let error = gone.error.expect("the skill is gone").to_string();
    assert!(error.contains("no skill 'draft'"), "{error}");
    assert!(a.skills().load("draft").is_err());
    // A session kept under another key sees none of it.
    let other = one.session().unwrap();
    other.keep_vault_in_store("client-session-2");
    a.execute(save, Language::JavaScript).await.unwrap();
    other.load_shared_skills().await.unwrap();
    assert!(other.skills().load("draft").is_err());
}

#[tokio::test]
async fn a_paused_execution_importing_a_session_skill_resumes_in_another_process() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let first = pausing(&received, data.path()).await;
    let session = first.session().unwrap();
    let save = r#"
        import { saveSkill } from "airlock";
        await saveSkill({ name: "target", description: "Whom to delete.", code: "export const id = 7;", session: true });"#;
    assert_ok(&session.execute(save, Language::JavaScript).await.unwrap());
    let code = r#"
        import { callTool } from "airlock";
        import { id } from "./skills/target";
        await callTool("crm", "delete_customer", { id });
        console.log("deleted", id);"#;
    let paused = session.execute(code, Language::JavaScript).await.unwrap();
    let id = paused.paused.expect("paused at the gated call").execution_id;
    drop((session, first));
    // Another process: a new runtime and a session that never saved it.
    let second = crm(&received, data.path(), delete_tool()).build().await.unwrap();
    let resuming = second.session().unwrap();
    let resumed = resuming.resume(&id, Decision::Approve).await.unwrap();
    assert_ok(&resumed);
    assert_eq!(resumed.stdout, "deleted 7\n");
    assert_eq!(received.of("delete_customer"), [json!({"id": 7})]);
}

#[tokio::test]
async fn a_decline_stands_when_the_resuming_runtime_no_longer_gates_the_tool() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let id = pause_one(&received, data.path()).await;
    // The same tools, no approval rules: the human's decline still holds.
    let ungated = crm(&received, data.path(), delete_tool()).approvals(ApprovalSettings::default()).build().await;
    let session = ungated.unwrap().session().unwrap();
    let decline = Decision::Decline { reason: Some("no way".into()) };
    let resumed = session.resume(&id, decline).await.unwrap();
    assert_ok(&resumed);
    assert_eq!(resumed.value["outcome"], "denied: crm.delete_customer was declined: no way");
    assert!(received.of("delete_customer").is_empty());
}

/// Code whose batch holds the gated call and, after it, a call whose
/// arguments come from a workspace file (which the journal does not hold).
const BATCH: &str = r#"
    import { callTool } from "airlock";
    import { readFileSync } from "fs";
    const id = Number(readFileSync("./workspace/id.txt", "utf8"));
    await Promise.all([callTool("crm", "delete_customer", { id: 1 }), callTool("crm", "count", { id })]);"#;

#[tokio::test]
async fn a_batch_that_differs_after_its_gated_call_is_refused_before_the_gated_call_runs() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let runtime = pausing(&received, data.path()).await;
    let session = runtime.session().unwrap();
    std::fs::write(session.workspace().join("id.txt"), "1").unwrap();
    let paused = session.execute(BATCH, Language::JavaScript).await.unwrap();
    let id = paused.paused.clone().unwrap_or_else(|| panic!("paused: {paused:?}")).execution_id;
    assert_eq!(received.of("count"), [json!({"id": 1})], "the other call of the batch ran");
    std::fs::write(session.workspace().join("id.txt"), "2").unwrap();
    for _ in 0..2 {
        let error = session.resume(&id, Decision::Approve).await.unwrap_err();
        assert!(matches!(&error, Error::Resume(ResumeError::Diverged { .. })), "{error}");
        assert!(error.to_string().contains("call 2 was recorded as crm.count with other arguments"), "{error}");
        assert!(received.of("delete_customer").is_empty(), "the approved call did not run");
    }
    std::fs::write(session.workspace().join("id.txt"), "1").unwrap();
    assert_ok(&session.resume(&id, Decision::Approve).await.unwrap());
    assert_eq!(received.of("delete_customer"), [json!({"id": 1})], "made once, when the replay matched");
    assert_eq!(received.of("count").len(), 1, "and the recorded call was not made again");
}

#[tokio::test]
async fn code_that_ends_before_the_waiting_call_on_replay_is_refused_and_kept() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let runtime = pausing(&received, data.path()).await;
    let session = runtime.session().unwrap();
    std::fs::write(session.workspace().join("go.txt"), "yes").unwrap();
    let code = r#"
        import { callTool } from "airlock";
        import { readFileSync } from "fs";
        if (readFileSync("./workspace/go.txt", "utf8") === "yes") {
            await callTool("crm", "delete_customer", { id: 3 });
        }
        console.log("done");"#;
    let paused = session.execute(code, Language::JavaScript).await.unwrap();
    let id = paused.paused.clone().unwrap_or_else(|| panic!("paused: {paused:?}")).execution_id;
    std::fs::write(session.workspace().join("go.txt"), "no").unwrap();
    let error = session.resume(&id, Decision::Approve).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::Diverged { .. })), "{error}");
    assert!(error.to_string().contains("the code ended before call 1 (crm.delete_customer)"), "{error}");
    assert_eq!(runtime.paused_executions().await.unwrap().len(), 1, "the decision was not spent: kept");
    std::fs::write(session.workspace().join("go.txt"), "yes").unwrap();
    assert_ok(&session.resume(&id, Decision::Approve).await.unwrap());
    assert_eq!(received.of("delete_customer"), [json!({"id": 3})]);
}

#[tokio::test]
async fn a_resume_dropped_before_the_waiting_call_puts_the_execution_back() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let runtime = pausing(&received, data.path()).await;
    // Seconds of compute before the gated call: the replay takes as long.
    let code = r#"
        import { callTool } from "airlock";
        let x = 0;
        for (let i = 0; i < 10000000; i++) x = (x + i) % 7;
        await callTool("crm", "delete_customer", { id: x });"#;
    let session = runtime.session().unwrap();
    let paused = session.execute(code, Language::JavaScript).await.unwrap();
    let id = paused.paused.clone().unwrap_or_else(|| panic!("paused: {paused:?}")).execution_id;
    let resume = session.resume(&id, Decision::Approve);
    assert!(tokio::time::timeout(std::time::Duration::from_millis(100), resume).await.is_err(), "still replaying");
    // Kept in the store all along; its lease is given back.
    let mut listed = Vec::new();
    for _ in 0..100 {
        listed = runtime.paused_executions().await.unwrap();
        if listed.iter().all(|summary| summary.leased_until.is_none()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(listed.len(), 1, "kept");
    assert_eq!(listed[0].leased_until, None, "given back");
    assert!(received.of("delete_customer").is_empty());
    assert_ok(&session.resume(&id, Decision::Approve).await.unwrap());
    assert_eq!(received.of("delete_customer").len(), 1);
}

/// Code that computes for seconds before its gated call (under
/// [`slow_limits`]): its replay takes as long.
const SLOW: &str = r#"
    import { callTool } from "airlock";
    let x = 0;
    for (let i = 0; i < 100000000; i++) x = (x + i) % 7;
    // Two gated calls in one batch: the first waits, the second (not in
    // the journal) is asked again on the resume.
    await Promise.all([
        callTool("crm", "delete_customer", { id: x }),
        callTool("crm", "delete_customer", { id: x + 1 }),
    ]);"#;

fn slow_limits() -> airlock::Limits {
    airlock::Limits { fuel: 200_000_000_000, timeout: std::time::Duration::from_secs(120), ..Default::default() }
}

#[tokio::test]
async fn a_replay_holds_a_renewed_lease_and_a_cancel_meanwhile_keeps_its_batch_from_going_live() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    // A one-second lease: without renewal it would run out mid-replay.
    let rules: ApprovalSettings =
        serde_json::from_value(json!({"require": [{"tools": "crm.delete_*"}], "resume_lease": "1s"})).unwrap();
    let runtime = crm(&received, data.path(), delete_tool())
        .approvals(rules)
        .approver(deferring(&Arc::default()))
        .build()
        .await
        .unwrap();
    let session = runtime.session().unwrap();
    let started = std::time::Instant::now();
    let paused = session.execute_with_limits(SLOW, Language::JavaScript, &slow_limits()).await.unwrap();
    let id = paused.paused.clone().unwrap_or_else(|| panic!("paused: {paused:?}")).execution_id;
    eprintln!("the first run took {:?}", started.elapsed());

    // The resume's approver approves the batch's other call.
    let first = tokio::spawn({
        let (session, id) = (runtime.session().unwrap(), id.clone());
        let approving: Arc<dyn airlock::Approver> = Arc::new(|_: ApprovalRequest| async { Decision::Approve });
        let options = airlock::ResumeOptions { approver: Some(approving), ..Default::default() };
        async move { session.resume_with(&id, Decision::Approve, options).await }
    });
    let mut leased = None;
    for _ in 0..200 {
        leased = runtime.paused_executions().await.unwrap()[0].leased_until;
        if leased.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let leased = leased.expect("the replay holds a lease");
    // A second and a half later it is held still, and for longer: renewed.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(!first.is_finished(), "the replay should still run: make SLOW slower");
    let renewed = runtime.paused_executions().await.unwrap()[0].leased_until.unwrap();
    assert!(renewed > leased, "renewed: {leased} → {renewed}");
    let second = runtime.session().unwrap().resume(&id, Decision::Approve).await.unwrap_err();
    assert!(matches!(&second, Error::Resume(ResumeError::InProgress { .. })), "{second}");
    assert!(second.to_string().contains("being resumed"), "{second}");

    // Cancelled mid-replay: the resume cannot take it, and neither call of
    // the batch is made.
    assert!(runtime.cancel_execution(&id).await.unwrap());
    let lost = first.await.unwrap().unwrap_err();
    assert!(matches!(&lost, Error::Resume(ResumeError::Lost { .. })), "{lost}");
    assert!(lost.to_string().contains("the waiting call was not made"), "{lost}");
    assert!(received.of("delete_customer").is_empty());
    assert!(runtime.paused_executions().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_resume_in_another_instance_mints_into_the_client_sessions_vault() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    // Two instances of one client session over one store.
    let one = pausing(&received, data.path()).await;
    let two = pausing(&received, data.path()).await;
    let (a, b) = (one.session().unwrap(), two.session().unwrap());
    a.keep_vault_in_store("client-session-1");
    b.keep_vault_in_store("client-session-1");
    let code = r#"
        import { callTool } from "airlock";
        const c = await callTool("crm", "find_customer", { id: 1 });
        await callTool("mail", "send", { to: c.email, body: "Hi" });
        console.log("carol@example.net");"#;
    let paused = a.execute(code, Language::JavaScript).await.unwrap();
    let id = paused.paused.clone().unwrap_or_else(|| panic!("paused: {paused:?}")).execution_id;
    // Meanwhile the other instance mints a token of its own.
    let minted = b.execute(r#"console.log("bob@example.org")"#, Language::JavaScript).await.unwrap();
    assert_eq!(minted.stdout, "[EMAIL_2]\n");
    let resumed = b.resume(&id, Decision::Approve).await.unwrap();
    assert_ok(&resumed);
    assert_eq!(resumed.stdout, "[EMAIL_3]\n", "a new token, not one the session already gave out");
    assert_eq!(received.of("send"), [json!({"to": "ada.lovelace@example.com", "body": "Hi"})]);
    let send = |token: &str| {
        format!(r#"import {{ callTool }} from "airlock"; await callTool("mail", "send", {{ to: "{token}" }});"#)
    };
    let approving = |_: ApprovalRequest| async { Decision::Approve };
    a.set_approver(Arc::new(approving));
    for (token, value) in [("[EMAIL_2]", "bob@example.org"), ("[EMAIL_3]", "carol@example.net")] {
        assert_ok(&a.execute(&send(token), Language::JavaScript).await.unwrap());
        assert_eq!(received.of("send").last().unwrap()["to"], value, "{token} on the other instance");
    }

    // A session whose tokens mean other values cannot take it over.
    let id = run(&one, code, Language::JavaScript).await.paused.expect("paused").execution_id;
    let stranger = two.session().unwrap();
    let other = stranger.execute(r#"console.log("eve@example.com")"#, Language::JavaScript).await.unwrap();
    assert_eq!(other.stdout, "[EMAIL_1]\n");
    let error = stranger.resume(&id, Decision::Approve).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::OtherSession(_))), "{error}");
    assert_eq!(one.paused_executions().await.unwrap().len(), 1, "kept");
    assert_ok(&one.session().unwrap().resume(&id, Decision::Approve).await.unwrap());
}

#[tokio::test]
async fn the_sealed_expiry_decides_not_the_stores_column() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let expiring = crm(&received, data.path(), delete_tool())
        .approver(deferring(&Arc::default()))
        .paused_expiry(std::time::Duration::ZERO)
        .build()
        .await
        .unwrap();
    let id = run(&expiring, JS, Language::JavaScript).await.paused.unwrap().execution_id;
    let store = SqliteStore::open(&data.path().join("executions.sqlite")).unwrap();
    let mut extended = store.get(&id).await.unwrap().unwrap();
    extended.summary.expires_at = u64::MAX / 2;
    store.put(extended).await.unwrap();
    let error = expiring.session().unwrap().resume(&id, Decision::Approve).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::Expired(_))), "{error}");
    assert!(received.of("delete_customer").is_empty());
    assert!(store.get(&id).await.unwrap().is_none(), "removed");
}

#[tokio::test]
async fn an_answer_handle_opens_only_while_the_execution_waits_on_its_call() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let runtime = pausing(&received, data.path()).await;
    let code = r#"
        import { callTool } from "airlock";
        await callTool("crm", "delete_customer", { id: 1 });
        await callTool("crm", "delete_customer", { id: 2 });"#;
    let session = runtime.session().unwrap();
    let paused = session.execute(code, Language::JavaScript).await.unwrap().paused.expect("paused");
    let id = paused.execution_id.clone();
    let first = runtime.execution_handle(&id).await.unwrap();
    assert_eq!(runtime.answer_handle(&paused).await.unwrap(), first, "the same handle, without a store read");
    assert_eq!(runtime.open_execution_handle(&first).await.unwrap(), id);
    let again = session.resume(&runtime.open_execution_handle(&first).await.unwrap(), Decision::Approve).await;
    let paused = again.unwrap().paused.expect("paused again, at the second call");
    assert_eq!((paused.execution_id.as_str(), &paused.arguments), (id.as_str(), &json!({"id": 2})));
    // The answer to the first question, retried, is not taken for the second.
    let error = runtime.open_execution_handle(&first).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::Answered(_))), "{error}");
    let second = runtime.execution_handle(&id).await.unwrap();
    assert_ne!(first, second);
    assert_eq!(runtime.open_execution_handle(&second).await.unwrap(), id);
    assert_eq!(received.of("delete_customer"), [json!({"id": 1})]);
    let forged = format!("{id}/0.{}", "00".repeat(32));
    let error = runtime.open_execution_handle(&forged).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::Tampered { .. })), "{error}");
}

#[tokio::test]
async fn a_resume_for_another_call_than_the_one_waiting_is_refused_and_kept() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let runtime = pausing(&received, data.path()).await;
    let id = run(&runtime, JS, Language::JavaScript).await.paused.expect("paused").execution_id;
    let (opened, call) = runtime.open_answer_handle(&runtime.execution_handle(&id).await.unwrap()).await.unwrap();
    assert_eq!((opened.as_str(), call), (id.as_str(), 1));
    let stale = airlock::ResumeOptions { expected_call: Some(0), ..Default::default() };
    let error = runtime.session().unwrap().resume_with(&id, Decision::Approve, stale).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::Answered(_))), "{error}");
    assert_eq!(runtime.paused_executions().await.unwrap().len(), 1, "kept");
    let current = airlock::ResumeOptions { expected_call: Some(call), ..Default::default() };
    assert_ok(&runtime.session().unwrap().resume_with(&id, Decision::Approve, current).await.unwrap());
    assert_eq!(received.of("delete_customer").len(), 1);
}

#[tokio::test]
async fn a_waiting_call_made_without_the_rest_of_its_batch_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let received = Received::default();
    let runtime = pausing(&received, data.path()).await;
    let session = runtime.session().unwrap();
    std::fs::write(session.workspace().join("batch.txt"), "yes").unwrap();
    let code = r#"
        import { callTool } from "airlock";
        import { readFileSync } from "fs";
        if (readFileSync("./workspace/batch.txt", "utf8") === "yes") {
            await Promise.all([callTool("crm", "delete_customer", { id: 1 }), callTool("crm", "count", {})]);
        } else {
            await callTool("crm", "delete_customer", { id: 1 });
        }"#;
    let paused = session.execute(code, Language::JavaScript).await.unwrap();
    let id = paused.paused.clone().unwrap_or_else(|| panic!("paused: {paused:?}")).execution_id;
    std::fs::write(session.workspace().join("batch.txt"), "no").unwrap();
    let error = session.resume(&id, Decision::Approve).await.unwrap_err();
    assert!(matches!(&error, Error::Resume(ResumeError::Diverged { .. })), "{error}");
    assert!(error.to_string().contains("the code now makes fewer"), "{error}");
    assert!(received.of("delete_customer").is_empty());
    assert_eq!(runtime.paused_executions().await.unwrap().len(), 1, "kept");
}
