//! PII through the embedding API: a session's vault lives across its
//! executions and never resolves another session's tokens.

use crate::support::{assert_ok, customers_runtime, run_in};
use airlock::Limits;
use serde_json::{Value, json};

#[tokio::test]
async fn tokens_resolve_only_in_the_session_that_minted_them() {
    let inbox = tempfile::tempdir().unwrap();
    let runtime = customers_runtime(inbox.path()).await;
    let send = r#"
        import { sendMessage } from "./servers/customers";
        await sendMessage({ to: "[EMAIL_1]", text: "hello [PERSON_1]" });"#;

    let one = runtime.session().unwrap();
    let first = run_in(
        &one,
        r#"import { getCustomer } from "./servers/customers";
           const c = await getCustomer({ id: 1 });
           console.log(c.email, c.full_name);"#,
        airlock::Language::JavaScript,
        &Limits::default(),
    )
    .await;
    assert_ok(&first);
    assert_eq!(first.stdout, "[EMAIL_1] [PERSON_1]\n");
    // A later execution of the same session resolves the tokens...
    assert_ok(&run_in(&one, send, airlock::Language::JavaScript, &Limits::default()).await);
    // ...another session's do not: the server receives them as they are.
    let two = runtime.session().unwrap();
    assert_ok(&run_in(&two, send, airlock::Language::JavaScript, &Limits::default()).await);

    let received: Vec<Value> = std::fs::read_to_string(inbox.path().join("messages.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(received[0], json!({"to": "ivan.1@example.com", "text": "hello Ivan Petrov"}));
    assert_eq!(received[1], json!({"to": "[EMAIL_1]", "text": "hello [PERSON_1]"}));
    runtime.shutdown().await;
}
