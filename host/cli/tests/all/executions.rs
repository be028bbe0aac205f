//! Executions paused for approval, end to end: `airlock serve` killed with
//! SIGKILL between the pause and the resume, and the `airlock run` /
//! `airlock executions` commands. The customers server counts, on its
//! side, the lookups and messages it receives.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::common::{cache_dir, customers_inbox, python_client, serve_http, serve_http_with, servers_config};

/// The customers server's `get_customer` calls, as it logged them.
fn lookups(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("inbox/lookups.jsonl")).unwrap_or_default().lines().count()
}

fn gated() -> Value {
    json!({"approvals": {"require": [{"tools": "customers.send_message"}]}})
}

fn airlock(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .env("AIRLOCK_CACHE_DIR", cache_dir())
        .env("AIRLOCK_DATA_DIR", data)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The id an `airlock run` that paused (exit status 4) printed in the
/// command that resumes it.
fn paused_id(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(4), "paused: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    stderr.split("airlock executions resume ").nth(1).unwrap().split(' ').next().unwrap().to_string()
}

#[test]
fn a_paused_execution_survives_sigkill_of_airlock_serve_and_resumes_from_a_new_client() {
    let data = tempfile::tempdir().unwrap();
    let envs = [("AIRLOCK_DATA_DIR", data.path().to_str().unwrap())];

    // The same code, unpaused, on a server without approval rules.
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = servers_config(plain_dir.path(), &["customers"], Value::Null);
    let (mut server, url) = serve_http(&plain, &envs);
    let whole = python_client(&["pause", "http", &url]).0;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(whole["is_error"], false, "{whole}");
    assert!(!whole["tools"].as_array().unwrap().contains(&json!("resume_execution")), "no rules, no resume tool");

    // A client without elicitation: the gated call comes back paused.
    let dir = tempfile::tempdir().unwrap();
    let config = servers_config(dir.path(), &["customers"], gated());
    let audit = dir.path().join("audit.jsonl");
    let audited = ["--audit", audit.to_str().unwrap()];
    let (mut server, url, _) = serve_http_with(&config, &audited, &envs);
    let first = python_client(&["pause", "http", &url]).0;
    assert!(first["tools"].as_array().unwrap().contains(&json!("resume_execution")), "{first}");
    assert_eq!(first["is_error"], false, "{first}");
    let paused = &first["structured"]["paused"];
    let id = paused["execution_id"].as_str().unwrap_or_else(|| panic!("not paused: {first}")).to_string();
    let call = paused["call"].to_string();
    assert_eq!(call, "2", "the lookup was call 1");
    assert_eq!((&paused["server"], &paused["tool"]), (&json!("customers"), &json!("send_message")));
    // The human is shown tokens, never the address.
    let to = paused["arguments"]["to"].as_str().unwrap();
    assert!(to.starts_with("[EMAIL_") && !paused.to_string().contains('@'), "{paused}");
    let shown = first["text"].as_str().unwrap();
    let (before, notice) = shown.split_once("[paused]").unwrap();
    assert!(notice.contains(&id) && notice.contains("resume_execution") && notice.contains("call 2"), "{notice}");
    assert_eq!((lookups(dir.path()), customers_inbox(dir.path()).len()), (1, 0));

    // Killed between the pause and the resume.
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    let (mut server, url, _) = serve_http_with(&config, &audited, &envs);
    let second = python_client(&["resume", "http", &url, &id, &call]).0;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(second["is_error"], false, "{second}");
    assert_eq!(second["structured"]["paused"], Value::Null, "{second}");
    // The lookup made before the pause was not made again; the message
    // went out once, to the real address.
    assert_eq!(lookups(dir.path()), 1);
    assert_eq!(customers_inbox(dir.path()), [json!({"to": "anna.2@example.com", "text": "hi Anna Smirnova"})]);
    // Together, what it printed is what the unpaused run printed.
    assert_eq!(format!("{before}{}", second["text"].as_str().unwrap()), whole["text"].as_str().unwrap());

    // The audit log, across both processes: the pause and the approval,
    // each naming the client (the Python SDK) that asked.
    let records: Vec<Value> =
        std::fs::read_to_string(&audit).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let decided: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r["event"] == "approval_decided")
        .map(|r| (r["outcome"].as_str().unwrap(), r["client"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(decided.len(), 2, "{records:?}");
    assert_eq!(decided[0].0, "paused");
    assert_eq!(decided[1].0, "approved");
    assert!(decided.iter().all(|(_, client)| client.starts_with("mcp")), "{decided:?}");

    // Resumed once: a second resume finds nothing.
    let (mut server, url) = serve_http(&config, &envs);
    let again = python_client(&["resume", "http", &url, &id, &call]).0;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(again["is_error"], true, "{again}");
    assert!(again["text"].as_str().unwrap().contains("no paused execution"), "{again}");
    assert_eq!(customers_inbox(dir.path()).len(), 1);
}

#[test]
fn a_retried_resume_execution_does_not_answer_the_next_question() {
    let data = tempfile::tempdir().unwrap();
    let envs = [("AIRLOCK_DATA_DIR", data.path().to_str().unwrap())];
    let dir = tempfile::tempdir().unwrap();
    let config = servers_config(dir.path(), &["customers"], gated());
    let (mut server, url) = serve_http(&config, &envs);
    let out = python_client(&["answer-twice", "http", &url]).0;
    let _ = server.kill();
    let _ = server.wait();
    let paused_at = |step: &str| out[step]["structured"]["paused"]["call"].clone();
    assert_eq!((paused_at("first"), paused_at("second")), (json!(2), json!(3)), "{out}");
    // The first answer, retried: refused, not taken for the second question.
    assert_eq!(out["retried"]["is_error"], true, "{out}");
    assert!(out["retried"]["text"].as_str().unwrap().contains("now waits on another call"), "{out}");
    assert_eq!(out["last"]["is_error"], false, "{out}");
    assert_eq!(out["last"]["text"], "both sent\n", "{out}");
    // Each message went out once: the retry sent nothing.
    let texts: Vec<Value> = customers_inbox(dir.path()).iter().map(|message| message["text"].clone()).collect();
    assert_eq!(texts, [json!("first"), json!("second")]);
}

#[test]
fn airlock_run_pauses_and_airlock_executions_lists_shows_resumes_and_cancels() {
    let (dir, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config = servers_config(dir.path(), &["customers"], gated());
    let config = config.to_str().unwrap();
    let code = dir.path().join("send.js");
    std::fs::write(
        &code,
        "import { getCustomer, sendMessage } from './servers/customers';\n\
         const anna = await getCustomer({ id: 2 });\n\
         console.log('found', anna.email);\n\
         try {\n\
           const sent = await sendMessage({ to: anna.email, text: 'hi' });\n\
           console.log('sent', sent.delivered);\n\
         } catch (e) { console.log(e.kind, e.message); }\n",
    )
    .unwrap();
    let code = code.to_str().unwrap();
    let run = || {
        let out = airlock(data.path(), &["run", code, "--config", config]);
        let id = paused_id(&out);
        assert!(text(&out.stdout).starts_with("found [EMAIL_"), "{}", text(&out.stdout));
        id
    };
    let id = run();

    let listed = airlock(data.path(), &["executions", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["tool"], "send_message");
    let shown = text(&airlock(data.path(), &["executions", "show", &id]).stdout);
    assert!(shown.contains("waits on  customers.send_message") && shown.contains("[EMAIL_"), "{shown}");
    assert!(shown.contains("answered  1 tool calls") && shown.contains("getCustomer"), "{shown}");

    let resumed = airlock(data.path(), &["executions", "resume", &id, "--approve", "--config", config]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    assert_eq!(text(&resumed.stdout), "sent true\n");
    assert_eq!((lookups(dir.path()), customers_inbox(dir.path()).len()), (1, 1));

    // Declined: the code catches `denied`; nothing is sent.
    let id = run();
    let args = ["executions", "resume", &id, "--decline", "--reason", "not now", "--config", config];
    let declined = airlock(data.path(), &args);
    assert_eq!(text(&declined.stdout), "denied customers.send_message was declined: not now\n");
    assert_eq!(customers_inbox(dir.path()).len(), 1);

    // Cancelled: gone for good.
    let id = run();
    assert_eq!(text(&airlock(data.path(), &["executions", "cancel", &id]).stdout), format!("cancelled {id}\n"));
    let gone = airlock(data.path(), &["executions", "resume", &id, "--approve", "--config", config]);
    assert_eq!(gone.status.code(), Some(2));
    assert!(text(&gone.stderr).contains("no paused execution"), "{}", text(&gone.stderr));
    assert_eq!(text(&airlock(data.path(), &["executions", "list"]).stdout), "no paused executions\n");
    assert_eq!(customers_inbox(dir.path()).len(), 1);
}

#[test]
fn a_resume_killed_mid_replay_leaves_the_execution_to_resume_once_its_lease_runs_out() {
    let (dir, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let settings = json!({
        "approvals": {"require": [{"tools": "customers.send_message"}], "resume_lease": "4s"},
        "limits": {"fuel": 200_000_000_000u64, "timeout": "120s"}
    });
    let config = servers_config(dir.path(), &["customers"], settings);
    let config = config.to_str().unwrap();
    // A second or two of compute between the lookup and the gated call:
    // the replay takes as long, and is killed in it.
    let code = dir.path().join("send.js");
    std::fs::write(
        &code,
        "import { getCustomer, sendMessage } from './servers/customers';\n\
         const anna = await getCustomer({ id: 2 });\n\
         let x = 0;\n\
         for (let i = 0; i < 40000000; i++) x = (x + i) % 7;\n\
         const sent = await sendMessage({ to: anna.email, text: 'hi ' + x });\n\
         console.log('sent', sent.delivered);\n",
    )
    .unwrap();
    let id = paused_id(&airlock(data.path(), &["run", code.to_str().unwrap(), "--config", config]));
    let leased_until = || {
        let listed: Value =
            serde_json::from_slice(&airlock(data.path(), &["executions", "list", "--json"]).stdout).unwrap();
        assert_eq!(listed[0]["id"], id.as_str(), "kept: {listed}");
        listed[0]["leased_until"].as_u64()
    };

    let mut resuming = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["executions", "resume", &id, "--approve", "--config", config])
        .env("AIRLOCK_CACHE_DIR", cache_dir())
        .env("AIRLOCK_DATA_DIR", data.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while leased_until().is_none() {
        assert!(std::time::Instant::now() < deadline, "the resume never took its lease");
        assert!(resuming.try_wait().unwrap().is_none(), "the resume ended before it was killed");
    }
    resuming.kill().unwrap(); // SIGKILL, mid-replay
    resuming.wait().unwrap();
    assert!(leased_until().is_some(), "still in the store, under the dead resume's lease");
    assert_eq!(customers_inbox(dir.path()).len(), 0);

    // Refused while the lease runs, then resumed once it ran out.
    let mut refused = 0;
    let resumed = loop {
        let out = airlock(data.path(), &["executions", "resume", &id, "--approve", "--config", config]);
        if out.status.code() == Some(0) {
            break out;
        }
        assert!(text(&out.stderr).contains("is being resumed"), "{}", text(&out.stderr));
        assert!(std::time::Instant::now() < deadline, "the lease never ran out");
        refused += 1;
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    assert!(refused >= 1, "the first attempt came while the dead resume's lease ran");
    assert_eq!(text(&resumed.stdout), "sent true\n");
    // The lookup came from the journal each time; the message went once.
    assert_eq!((lookups(dir.path()), customers_inbox(dir.path()).len()), (1, 1));
    assert_eq!(text(&airlock(data.path(), &["executions", "list"]).stdout), "no paused executions\n");
}

#[test]
fn airlock_serve_removes_expired_paused_executions_on_its_own() {
    let data = tempfile::tempdir().unwrap();
    let envs = [("AIRLOCK_DATA_DIR", data.path().to_str().unwrap())];
    let dir = tempfile::tempdir().unwrap();
    let settings = json!({"approvals": {"require": [{"tools": "customers.send_message"}], "paused_expiry": "2s"}});
    let config = servers_config(dir.path(), &["customers"], settings);
    let (mut server, url) = serve_http(&config, &envs);
    let paused = python_client(&["pause", "http", &url]).0;
    let id = paused["structured"]["paused"]["execution_id"].as_str().unwrap_or_else(|| panic!("{paused}")).to_string();
    // Expired after 2 s; serve looks every second.
    std::thread::sleep(std::time::Duration::from_secs(4));
    let shown = airlock(data.path(), &["executions", "show", &id]);
    let _ = server.kill();
    let _ = server.wait();
    // Not "expired" (found, then removed by this command): already gone.
    assert!(text(&shown.stderr).contains("no paused execution"), "{}", text(&shown.stderr));
}

#[test]
fn the_printed_resume_command_replays_with_the_same_config_and_workspace() {
    let (dir, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config = servers_config(dir.path(), &["customers"], gated());
    let workspace = dir.path().join("work");
    std::fs::create_dir(&workspace).unwrap();
    std::fs::write(workspace.join("id.txt"), "2").unwrap();
    // The customer it messages comes from a workspace file; the resumed
    // code writes one.
    let code = dir.path().join("send.js");
    std::fs::write(
        &code,
        "import fs from 'fs';\n\
         import { getCustomer, sendMessage } from './servers/customers';\n\
         const id = Number(fs.readFileSync('./workspace/id.txt', 'utf8'));\n\
         const c = await getCustomer({ id });\n\
         const sent = await sendMessage({ to: c.email, text: 'hi' });\n\
         fs.writeFileSync('./workspace/sent.txt', String(sent.delivered));\n",
    )
    .unwrap();
    let args = ["run", code.to_str().unwrap(), "--config", config.to_str().unwrap(), "--workspace"];
    let out = airlock(data.path(), &[&args[..], &[workspace.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(4), "paused: {}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let command = stderr.lines().find(|line| line.trim_start().starts_with("airlock executions resume")).unwrap();
    // Run as printed (its paths need no quoting here).
    let words: Vec<&str> = command.split_whitespace().take_while(|word| *word != "(or").collect();
    assert!(words.contains(&"--config") && words.contains(&"--workspace"), "{command}");
    let resumed = airlock(data.path(), &words[1..]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    assert_eq!(std::fs::read_to_string(workspace.join("sent.txt")).unwrap(), "true", "written in the same workspace");
    assert_eq!((lookups(dir.path()), customers_inbox(dir.path()).len()), (1, 1));
}

#[test]
fn a_2026_07_28_client_retries_its_answered_call_on_a_restarted_server() {
    let (dir, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let envs = [("AIRLOCK_DATA_DIR", data.path().to_str().unwrap())];
    let config = servers_config(dir.path(), &["customers"], gated());
    let (mut server, url) = serve_http(&config, &envs);
    let asked = python_client(&["ask", "http", &url]).0;
    let state = asked["state"].as_str().unwrap_or_else(|| panic!("no requestState: {asked}")).to_string();
    let question = asked["asked"][0].as_str().unwrap();
    assert!(question.contains("customers.send_message") && question.contains("[EMAIL_"), "{question}");
    server.kill().unwrap(); // SIGKILL while the human thinks
    server.wait().unwrap();
    assert_eq!(lookups(dir.path()), 1);

    // The state is a sealed handle: an edited one is refused.
    let (mut server, url) = serve_http(&config, &envs);
    let forged = python_client(&["answer", "http", &url, &state.replacen('.', "0.", 1)]).0;
    assert_eq!(forged["is_error"], true, "{forged}");
    assert!(forged["text"].as_str().unwrap().contains("MAC does not match"), "{forged}");
    let answered = python_client(&["answer", "http", &url, &state]).0;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(answered["is_error"], false, "{answered}");
    // Everything the code printed, the part before the question included.
    let printed: Vec<&str> = answered["text"].as_str().unwrap().lines().collect();
    assert!(printed[0].starts_with("found [EMAIL_") && printed[1].starts_with("true [EMAIL_"), "{printed:?}");
    assert_eq!(lookups(dir.path()), 1, "the lookup before the question was not made again");
    assert_eq!(customers_inbox(dir.path()), [json!({"to": "anna.2@example.com", "text": "hi Anna Smirnova"})]);
}

#[test]
fn without_a_data_folder_http_sessions_stay_in_memory_and_work() {
    let dir = tempfile::tempdir().unwrap();
    let config = servers_config(dir.path(), &["customers"], Value::Null);
    // No $AIRLOCK_DATA_DIR, $XDG_DATA_HOME or $HOME: nowhere to keep state.
    let envs = [("AIRLOCK_DATA_DIR", ""), ("XDG_DATA_HOME", ""), ("HOME", "")];
    let (mut server, url) = serve_http(&config, &envs);
    let seen = python_client(&["session", "http", &url]).0;
    let _ = server.kill();
    let _ = server.wait();
    for call in seen["calls"].as_array().unwrap() {
        assert_eq!(call["is_error"], false, "{call}");
    }
    assert_eq!(customers_inbox(dir.path()).len(), 3);
}
