//! Python agent code (the CPython guest) through the embedding API: the
//! scenarios the JavaScript tests cover, written in Python, against the real
//! servers and under every limit.

use std::time::Duration;

use crate::support::{
    assert_ok, builder, bytes_in, customers_runtime, local_tools_runtime, run_in, run_py, runtime_with,
};
use airlock::{ExecutionError, Language, Limit, Limits, Runtime};
use serde_json::{Value, json};

fn lines(result: &airlock::ExecutionResult) -> Vec<&str> {
    result.stdout.lines().collect()
}

#[tokio::test]
async fn filtering_a_large_real_server_result() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
from servers import records
page = records.list_records(limit=10000)
rows = page["records"]
pending = [r for r in rows if r["status"] == "pending" and r["amount"] > 1000]
print(page["total"], len(rows), len(pending) > 0, all(r["status"] == "pending" for r in pending))
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "10000 10000 True True\n");
    assert_eq!(result.stats.tool_calls, 1);
    runtime.shutdown().await;
}

#[tokio::test]
async fn every_import_form_against_real_servers() {
    let runtime = runtime_with(&["records", "time"], json!(null)).await;
    let code = r#"
from servers import records, time
import servers.records as r
from servers.records import add, echo_text
now = time.get_current_time(timezone="UTC")
print(add(a=2, b=40), echo_text(text="plain text"), now["timezone"], type(now["datetime"]).__name__, r.get_record(id=7)["id"])
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "42 plain text UTC str 7\n");
    runtime.shutdown().await;
}

#[tokio::test]
async fn tool_errors_are_caught_with_their_kinds() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
from airlock import tool_error_kind
from servers import records
attempts = [
    lambda: records.fail(message="boom"),
    lambda: records.get_record(id=99999999),
    lambda: records.get_record(id="seven"),
    lambda: records.get_record(),
]
for attempt in attempts:
    try:
        attempt()
        print("no error")
    except ToolError as e:
        print(tool_error_kind(e), "|", e)
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let lines = lines(&result);
    assert!(lines[0].starts_with("failed | ") && lines[0].contains("boom"), "{}", lines[0]);
    assert!(lines[1].starts_with("failed | ") && lines[1].contains("99999999"), "{}", lines[1]);
    assert!(lines[2].starts_with("invalid-arguments | "), "{}", lines[2]);
    assert!(lines[3].starts_with("invalid-arguments | ") && lines[3].contains("id"), "{}", lines[3]);
    runtime.shutdown().await;
}

#[tokio::test]
async fn an_uncaught_tool_error_names_its_kind_and_line() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let result =
        run_py(&runtime, "from servers import records\n\nrecords.fail(message='boom')\n", &Limits::default()).await;
    match &result.error {
        Some(ExecutionError::Exception { name, message, stack }) => {
            assert_eq!(name, "ToolError");
            assert!(message.contains("failed") && message.contains("boom"), "{message}");
            assert!(stack.as_deref().unwrap_or("").contains("line 3"), "{stack:?}");
        }
        other => panic!("expected a ToolError, got {other:?}"),
    }
    runtime.shutdown().await;
}

#[tokio::test]
async fn a_crashed_server_is_unavailable_then_restarted() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
from airlock import tool_error_kind
from servers import records
before = records.pid()
try:
    records.crash()
except ToolError as e:
    print(tool_error_kind(e))
print(before != records.pid(), records.add(a=1, b=1))
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(lines(&result), ["unavailable", "True 2"]);
    runtime.shutdown().await;
}

#[tokio::test]
async fn gathered_calls_are_in_flight_together_on_the_server() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
import asyncio
from servers import records
records.reset_concurrency()

async def main():
    return await asyncio.gather(*[records.sleep(ms=200, id=i) for i in range(20)])

results = asyncio.run(main())
stats = records.concurrency()
print(",".join(str(r["id"]) for r in results), stats["calls"], stats["peak"])
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let ids: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    assert_eq!(result.stdout, format!("{} 20 20\n", ids.join(",")));
    runtime.shutdown().await;
}

#[tokio::test]
async fn personal_data_round_trips_as_tokens() {
    let inbox = tempfile::tempdir().unwrap();
    let runtime = customers_runtime(inbox.path()).await;
    let code = r#"
from servers import customers
c = customers.get_customer(id=1)
print(c["email"], c["full_name"])
customers.send_message(to=c["email"], text="hello " + c["full_name"])
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "[EMAIL_1] [PERSON_1]\n");
    let received: Value =
        serde_json::from_str(std::fs::read_to_string(inbox.path().join("messages.jsonl")).unwrap().trim()).unwrap();
    assert_eq!(received, json!({"to": "ivan.1@example.com", "text": "hello Ivan Petrov"}));
    runtime.shutdown().await;
}

#[tokio::test]
async fn the_final_expression_is_the_value_and_errors_name_their_line() {
    let runtime = builder().build().await.unwrap();
    let session = runtime.session().unwrap();
    let code = "x = {'b': 1, 'a': [1.5, None, True], 'é': 'ü'}\nprint(x)\nx";
    let value = run_in(&session, code, Language::Python, &Limits::default()).await;
    assert_ok(&value);
    assert_eq!(value.stdout, "{'b': 1, 'a': [1.5, None, True], 'é': 'ü'}\n");
    assert_eq!(value.value, json!({"b": 1, "a": [1.5, null, true], "é": "ü"}));

    let thrown =
        run_in(&session, "print('before')\n\nraise ValueError('bad input')\n", Language::Python, &Limits::default())
            .await;
    assert_eq!(thrown.stdout, "before\n");
    match &thrown.error {
        Some(ExecutionError::Exception { name, message, stack }) => {
            assert_eq!((name.as_str(), message.as_str()), ("ValueError", "bad input"));
            assert!(stack.as_deref().unwrap_or("").contains("line 3"), "{stack:?}");
        }
        other => panic!("expected ValueError, got {other:?}"),
    }
    let syntax = run_in(&session, "def f(:\n  pass\n", Language::Python, &Limits::default()).await;
    match &syntax.error {
        Some(ExecutionError::Exception { name, .. }) => assert_eq!(name, "SyntaxError"),
        other => panic!("expected SyntaxError, got {other:?}"),
    }
}

#[tokio::test]
async fn search_tools_shows_python_signatures() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
from airlock import search_tools
found = search_tools("add two numbers", "full", 1)
print(found[0]["name"])
print(found[0]["declaration"])
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert!(result.stdout.starts_with("records.add\n"), "{}", result.stdout);
    assert!(result.stdout.contains("def add(*, a: int, b: int) -> int:"), "{}", result.stdout);
    runtime.shutdown().await;
}

#[tokio::test]
async fn tools_whose_python_names_collide_are_numbered_as_their_declarations_say() {
    let mut builder = builder();
    // Listed in this order: `list_items` is an identifier and keeps its
    // name, `list-items` becomes `list_items2`, `café` becomes `caf_`.
    // `_tools` is a name the guest's module once kept its own table under.
    for name in ["list-items", "list_items", "café", "_tools"] {
        let echo = move |_: Value| async move { Ok(json!(name)) };
        let definition = airlock::ToolDefinition::new(name).description("Lists the shop's items.");
        builder = builder.tool("shop", definition, echo);
    }
    let runtime = builder.build().await.unwrap();
    let code = r#"
from servers import shop
from airlock import search_tools
print(shop.list_items(), shop.list_items2(), shop.caf_(), shop._tools(), sorted(dir(shop)))
for found in search_tools("list items", "full", 4):
    print(found["tool"], "->", [line for line in found["declaration"].splitlines() if line.startswith("def ")])
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let mut lines = result.stdout.lines();
    assert_eq!(lines.next(), Some("list_items list-items café _tools ['_tools', 'caf_', 'list_items', 'list_items2']"));
    let mut declared: Vec<&str> = lines.collect();
    declared.sort();
    assert_eq!(
        declared,
        [
            "_tools -> ['def _tools() -> Any:']",
            "café -> ['def caf_() -> Any:']",
            "list-items -> ['def list_items2() -> Any:']",
            "list_items -> ['def list_items() -> Any:']",
        ]
    );
}

#[tokio::test]
async fn servers_whose_python_names_collide_are_imported_as_their_declarations_say() {
    let mut builder = builder();
    for server in ["my-shop", "my_shop"] {
        let echo = move |_: Value| async move { Ok(json!(server)) };
        builder = builder.tool(server, airlock::ToolDefinition::new("whoami").description("Names its shop."), echo);
    }
    let runtime = builder.build().await.unwrap();
    let code = r#"
from servers import my_shop, my_shop2
from airlock import search_tools
print(my_shop.whoami(), my_shop2.whoami())
for found in search_tools("names its shop", "full", 2):
    print(found["server"], "->", found["declaration"].splitlines()[0].split("`")[1])
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let mut lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(lines.remove(0), "my_shop my-shop");
    lines.sort();
    assert_eq!(lines, ["my-shop -> from servers import my_shop2", "my_shop -> from servers import my_shop"]);
}

/// Runs Python `code`, expects `limit`, then checks the runtime still
/// serves JavaScript as well as Python.
async fn expect_limit(runtime: &Runtime, code: &str, limits: Limits, limit: Limit) -> airlock::ExecutionResult {
    let result = crate::support::expect_limit(runtime, Language::Python, code, limits, limit).await;
    let session = runtime.session().unwrap();
    let js = run_in(&session, "console.log('js too')", Language::JavaScript, &Limits::default()).await;
    assert_eq!(js.stdout, "js too\n");
    result
}

#[tokio::test]
async fn an_infinite_loop_runs_out_of_fuel() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { fuel: 50_000_000, ..Limits::default() };
    let result = expect_limit(&runtime, "while True:\n    pass\n", limits, Limit::Fuel).await;
    assert_eq!(result.stats.fuel_used, 50_000_000);
}

#[tokio::test]
async fn an_infinite_loop_hits_the_deadline() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { fuel: u64::MAX, timeout: Duration::from_millis(200), ..Limits::default() };
    expect_limit(&runtime, "while True:\n    pass\n", limits, Limit::Timeout).await;
}

#[tokio::test]
async fn the_deadline_covers_a_slow_tool_call() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { timeout: Duration::from_millis(200), ..Limits::default() };
    let result = expect_limit(
        &runtime,
        "from servers import local\nlocal.slow()\nprint('unreachable')\n",
        limits,
        Limit::Timeout,
    )
    .await;
    assert_eq!(result.stdout, "");
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_cap() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { memory_bytes: 64 << 20, ..Limits::default() };
    let code = "chunks = []\nwhile True:\n    chunks.append('x' * 1000000)\n";
    let result = expect_limit(&runtime, code, limits, Limit::Memory).await;
    assert!(result.stats.peak_memory <= 64 << 20, "{}", result.stats.peak_memory);
}

#[tokio::test]
async fn an_output_flood_is_cut_at_the_cap() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { stdout_bytes: 10_000, ..Limits::default() };
    let result = expect_limit(&runtime, "while True:\n    print('x' * 100)\n", limits, Limit::Output).await;
    assert!(result.stdout.len() <= 10_000 + 200, "{}", result.stdout.len());
}

#[tokio::test]
async fn a_workspace_flood_hits_the_workspace_cap() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { workspace_bytes: 1 << 20, ..Limits::default() };
    let code = "with open('./workspace/flood.bin', 'wb') as f:\n    while True:\n        f.write(b'x' * 65536)\n        f.flush()\n";
    expect_limit(&runtime, code, limits, Limit::Workspace).await;
}

#[tokio::test]
async fn a_sparse_file_counts_at_its_length() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { workspace_bytes: 1 << 20, ..Limits::default() };
    // A write far past the end, through a stream or at an offset, and a
    // truncate that lengthens: each would make a terabyte file.
    for code in [
        "with open('./workspace/hole.bin', 'wb') as f:\n    f.seek(10**12)\n    f.write(b'x')\n",
        "import os\nfd = os.open('./workspace/hole.bin', os.O_WRONLY | os.O_CREAT)\nos.pwrite(fd, b'x', 10**12)\n",
        "with open('./workspace/hole.bin', 'wb') as f:\n    f.truncate(10**12)\n",
    ] {
        expect_limit(&runtime, code, limits.clone(), Limit::Workspace).await;
    }
}

#[tokio::test]
async fn a_file_truncated_under_an_open_stream_is_charged_again_when_refilled() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { workspace_bytes: 1 << 20, ..Limits::default() };
    // Each round leaves 600 KiB on disk: the stream was opened when the
    // file was full, and the truncation gave its room back meanwhile.
    let code = "import os
big = b'x' * (600 << 10)
for i in range(5):
    path = f'./workspace/f{i}.bin'
    with open(path, 'wb') as f:
        f.write(big)
    with open(path, 'r+b', buffering=0) as f:
        f.write(b'y')
        os.ftruncate(f.fileno(), 0)
        rest = memoryview(big)
        while rest:
            rest = rest[f.write(rest):]
    print(i, flush=True)
";
    let result = expect_limit(&runtime, code, limits, Limit::Workspace).await;
    assert_eq!(result.stdout, "0\n", "{}", result.stdout);
}

#[tokio::test]
async fn a_removed_file_still_open_is_not_given_back_twice() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { workspace_bytes: 1 << 20, ..Limits::default() };
    // Removing an open file frees nothing yet; truncating it then does.
    // Were both counted, each round would gain 400 KiB on `big`.
    let code = "import os
def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]
big = os.open('./workspace/big', os.O_WRONLY | os.O_CREAT)
for i in range(15):
    fd = os.open(f'./workspace/tmp{i}', os.O_RDWR | os.O_CREAT)
    write_all(fd, b'a' * (400 << 10))
    os.unlink(f'./workspace/tmp{i}')
    os.ftruncate(fd, 0)
    os.close(fd)
    write_all(big, b'b' * (400 << 10))
    print(i, flush=True)
";
    let result = expect_limit(&runtime, code, limits, Limit::Workspace).await;
    assert_eq!(result.stdout, "0\n1\n", "{}", result.stdout);
}

#[tokio::test]
async fn a_folder_too_deep_for_host_paths_is_still_measured() {
    let runtime = local_tools_runtime().await;
    let session = runtime.session().unwrap();
    let limits = Limits { workspace_bytes: 1 << 20, ..Limits::default() };
    // 18 folders of 250-byte names: past the host's path length limit.
    let code = "import os, time
name = 'a' * 250
d = os.open('/workspace', os.O_RDONLY | os.O_DIRECTORY)
for i in range(18):
    try:
        os.mkdir(name, dir_fd=d)
    except FileExistsError:
        pass
    d = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=d)
fd = os.open(f'f{time.time_ns()}', os.O_WRONLY | os.O_CREAT, dir_fd=d)
data = b'x' * 600_000
while data:
    data = data[os.write(fd, data):]
";
    let first = run_in(&session, code, Language::Python, &limits).await;
    assert_ok(&first);
    let second = run_in(&session, code, Language::Python, &limits).await;
    assert_eq!(second.limit(), Some(Limit::Workspace), "{:?}", second.error);
}

#[tokio::test]
async fn executions_running_at_once_in_one_workspace_share_its_cap() {
    let runtime = local_tools_runtime().await;
    let session = runtime.session().unwrap();
    let limits = Limits { workspace_bytes: 1 << 20, ..Limits::default() };
    // Each opens its file first, so all have measured the empty folder
    // before any writes.
    let code = "import os, time
fd = os.open(f'./workspace/p{time.monotonic_ns()}', os.O_WRONLY | os.O_CREAT)
time.sleep(0.5)
for i in range(9):
    data = b'x' * 100_000
    while data:
        data = data[os.write(fd, data):]
    time.sleep(0.05)
";
    let runs = (0..3).map(|_| run_in(&session, code, Language::Python, &limits));
    let results = futures::future::join_all(runs).await;
    let capped = results.iter().filter(|result| result.limit() == Some(Limit::Workspace)).count();
    assert!(capped >= 2, "{:?}", results.iter().map(|result| &result.error).collect::<Vec<_>>());
    let held = bytes_in(session.workspace());
    assert!(held <= 1 << 20, "the folder holds {held} bytes");
}

#[tokio::test]
async fn truncating_while_another_execution_writes_counts_each_byte_once() {
    let runtime = local_tools_runtime().await;
    let session = runtime.session().unwrap();
    let cap = 1 << 20;
    let limits = Limits { workspace_bytes: cap, ..Limits::default() };
    let setup = "open('./workspace/h', 'wb').write(b'h' * 655360)
open('./workspace/f', 'wb').write(b'f' * 65536)";
    assert_ok(&run_in(&session, setup, Language::Python, &limits).await);
    // One rewrites f in place (by `pwrite` and through a stream) while two
    // others truncate it, then floods g. Unserialised, a truncation between a write's look at f's length
    // and the write itself was given back without the refill being
    // charged, or a write was charged for a file emptied before it (the
    // writer stopped at the cap with the folder far below it); two
    // truncations at once were both given back.
    let racer = |role: &str, seconds: f64| {
        format!(
            "import os, time
fd = os.open('./workspace/f', os.O_RDWR)
chunk = b'x' * 65536
end = time.monotonic() + {seconds}
n = 0
while time.monotonic() < end:
    n += 1
    if '{role}' == 'writer' and n % 2:
        os.pwrite(fd, chunk, 0)
    elif '{role}' == 'writer':
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, chunk)
    else:
        os.ftruncate(fd, 0)
print('raced', flush=True)
if '{role}' == 'writer':
    g = os.open('./workspace/g', os.O_WRONLY | os.O_CREAT)
    while True:
        os.write(g, b'y' * 4096)
"
        )
    };
    let (writer, truncater) = (racer("writer", 1.0), racer("truncater", 1.5));
    let (written, truncated, truncated_too) = tokio::join!(
        run_in(&session, &writer, Language::Python, &limits),
        run_in(&session, &truncater, Language::Python, &limits),
        run_in(&session, &truncater, Language::Python, &limits)
    );
    assert_eq!(written.stdout, "raced\n", "{:?}", written.error);
    assert_eq!(written.limit(), Some(Limit::Workspace), "{:?}", written.error);
    assert_ok(&truncated);
    assert_ok(&truncated_too);
    // The flood stops within a chunk of the cap, less three entries (and
    // f's 64 KiB, which a last truncation may have removed after it).
    let held = bytes_in(session.workspace());
    assert!(held <= cap && held >= cap - (96 << 10), "the folder holds {held} of {cap} bytes");
}

#[tokio::test]
async fn an_execution_truncates_a_file_it_writes_without_waiting_on_itself() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { timeout: Duration::from_secs(10), ..Limits::default() };
    // Empty writes, writes through two descriptors, then truncations of
    // the same file: nothing a stream did before may hold them up.
    let code = "import os
fd = os.open('./workspace/z', os.O_RDWR | os.O_CREAT)
os.write(fd, b'abc')
os.write(fd, b'')
os.ftruncate(fd, 0)
with open('./workspace/z', 'ab') as f:
    f.write(b'')
    f.flush()
    os.truncate('./workspace/z', 1)
    f.write(b'xy')
os.write(fd, b'de')
os.ftruncate(fd, 2)
print(os.fstat(fd).st_size)
";
    let result = run_in(&runtime.session().unwrap(), code, Language::Python, &limits).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "2\n");
}

#[tokio::test]
async fn holding_too_many_files_open_hits_the_open_files_cap() {
    let runtime = local_tools_runtime().await;
    let code = "import os
open('./workspace/f', 'wb').close()
held = []
while True:
    held.append(os.open('./workspace/f', os.O_RDONLY))
";
    expect_limit(&runtime, code, Limits::default(), Limit::OpenFiles).await;
}

#[tokio::test]
async fn operations_that_fail_give_back_what_they_were_charged() {
    let runtime = local_tools_runtime().await;
    let session = runtime.session().unwrap();
    let limits = Limits { workspace_bytes: 64 << 10, ..Limits::default() };
    // `makedirs(exist_ok=True)` tries `mkdir` and catches EEXIST: each try
    // was charged a folder's 4 KiB before.
    let code = "import os
for i in range(2000):
    os.makedirs('./workspace/out', exist_ok=True)
print('done')
";
    let result = run_in(&session, code, Language::Python, &limits).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "done\n");
}

#[tokio::test]
async fn too_many_tool_calls_hit_the_cap() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { tool_calls: 5, ..Limits::default() };
    let code = "from servers import local\nfor i in range(10):\n    local.echo(i=i)\n";
    let result = expect_limit(&runtime, code, limits, Limit::ToolCalls).await;
    assert_eq!(result.stats.tool_calls, 5);
}

#[tokio::test]
async fn unbounded_recursion_is_a_recursion_error() {
    let runtime = local_tools_runtime().await;
    let code = "def f(n):\n    return f(n + 1)\n\nf(0)\n";
    let result = run_py(&runtime, code, &Limits::default()).await;
    match &result.error {
        Some(ExecutionError::Exception { name, .. }) => assert_eq!(name, "RecursionError"),
        other => panic!("expected RecursionError, got {other:?}"),
    }
    let next = run_py(&runtime, "print('still serving')", &Limits::default()).await;
    assert_eq!(next.stdout, "still serving\n");
}

#[tokio::test]
async fn python_as_agents_write_it_against_a_real_server() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
import csv, io, statistics
from dataclasses import dataclass
from servers import records

class Overdue(Exception):
    def __init__(self, count):
        super().__init__(f"{count} overdue")
        self.count = count

@dataclass
class Summary:
    status: str
    count: int

def amounts(rows, status):
    for row in rows:
        if row["status"] == status:
            yield row["amount"]

rows = records.list_records(limit=10000)["records"]
by_status = {}
for row in rows:
    by_status[row["status"]] = by_status.get(row["status"], 0) + 1
mean = statistics.mean(amounts(rows, "overdue"))
out = io.StringIO()
writer = csv.writer(out)
writer.writerow(["status", "count"])
for status in sorted(by_status):
    writer.writerow([status, by_status[status]])
parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
try:
    records.get_record(id="seven")
except ToolError as e:
    print(e.kind, e.server, e.tool)
try:
    raise Overdue(by_status["overdue"])
except Overdue as e:
    print("overdue: %d of %d, mean %.2f" % (e.count, len(rows), mean), mean > 0)
match parsed:
    case [{"status": first}, *rest]:
        print(first, len(rest), Summary("paid", by_status["paid"]).count == by_status["paid"])
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let lines = lines(&result);
    assert_eq!(lines[0], "invalid-arguments records get_record");
    assert!(
        lines[1].starts_with("overdue: ") && lines[1].contains(" of 10000, mean ") && lines[1].ends_with(" True"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "overdue 2 True");
    assert_eq!(result.stats.tool_calls, 2);
    runtime.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_shows_nothing_of_the_host() {
    let runtime = builder().build().await.unwrap();
    let code = r#"
import os, sys
found = []
for module in ("socket", "subprocess", "ctypes", "multiprocessing", "ssl", "select"):
    try:
        __import__(module)
        found.append(module)
    except ImportError as e:
        assert "not available in Airlock's sandbox" in str(e), e
for path in ("/etc/passwd", "/proc/self/environ", "../etc/passwd", "/workspace/../etc/passwd"):
    try:
        open(path).read()
        found.append(path)
    except OSError:
        pass
try:
    listed = os.listdir("/")
except OSError:
    listed = []
print(found, dict(os.environ), sys.argv, [name for name in listed if name != "workspace"])
print(hasattr(os, "system"), hasattr(os, "fork"))
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "[] {} ['main.py'] []\nFalse False\n");
}

#[tokio::test]
async fn workspace_files_persist_within_a_session_only() {
    let runtime = builder().build().await.unwrap();
    let session = runtime.session().unwrap();
    let write = "with open('./workspace/notes.txt', 'w') as f:\n    f.write('kept')\n";
    assert_ok(&run_in(&session, write, Language::Python, &Limits::default()).await);
    let read = "print(open('workspace/notes.txt').read(), open('/workspace/notes.txt').read())";
    let result = run_in(&session, read, Language::Python, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "kept kept\n");
    // JavaScript in the same session sees the same folder.
    let js = "import { readFileSync } from \"fs\"; console.log(readFileSync(\"./workspace/notes.txt\", \"utf8\"));";
    assert_eq!(run_in(&session, js, Language::JavaScript, &Limits::default()).await.stdout, "kept\n");
    let other = runtime.session().unwrap();
    let exists = "import os\nprint(os.path.exists('workspace/notes.txt'))";
    assert_eq!(run_in(&other, exists, Language::Python, &Limits::default()).await.stdout, "False\n");
}

#[tokio::test]
async fn python_skills_are_saved_and_imported() {
    let folder = tempfile::tempdir().unwrap();
    let runtime = builder()
        .config(&crate::support::config_with(&["records"], json!(null)))
        .skill_folders(vec![folder.path().to_path_buf()])
        .build()
        .await
        .unwrap();
    let save = r#"
from airlock import save_skill
code = """
from servers import records

def email_of(id):
    return records.get_record(id=id)["email"]
"""
print(save_skill("record-email", "The email address of a record.", code))
"#;
    let saved = run_py(&runtime, save, &Limits::default()).await;
    assert_ok(&saved);
    assert_eq!(saved.stdout, "{'name': 'record-email', 'tools': ['records.get_record']}\n");
    let manifest = std::fs::read_to_string(folder.path().join("record-email/SKILL.md")).unwrap();
    assert!(manifest.contains("language: \"python\"") && manifest.contains("records.get_record"), "{manifest}");
    // Another execution (another session) imports it; `-` reads as `_`.
    let used =
        run_py(&runtime, "from skills.record_email import email_of\nprint(email_of(7))", &Limits::default()).await;
    assert_ok(&used);
    assert!(used.stdout.starts_with("[EMAIL_"), "{}", used.stdout);
    // A JavaScript skill is for JavaScript code.
    let save_js = "import { saveSkill } from \"airlock\";\nawait saveSkill({ name: \"js-only\", description: \"d\", code: \"export const x = 1;\" });";
    assert_ok(&run_in(&runtime.session().unwrap(), save_js, Language::JavaScript, &Limits::default()).await);
    let js = run_py(&runtime, "import skills.js_only", &Limits::default()).await;
    match &js.error {
        Some(ExecutionError::Exception { name, message, .. }) => {
            assert_eq!(name, "ImportError");
            assert!(message.contains("JavaScript"), "{message}");
        }
        other => panic!("expected an import error, got {other:?}"),
    }
    runtime.shutdown().await;
}

#[tokio::test]
async fn deep_recursion_in_c_code_is_a_recursion_error_too() {
    let runtime = local_tools_runtime().await;
    // json.dumps, == and deepcopy recurse in C: the guest's stack must hold
    // until Python's own guard raises.
    let code = r#"
import copy, json
def nest(depth):
    x = []
    for _ in range(depth):
        x = [x]
    return x
x, y = nest(100000), nest(100000)
for name, attempt in [("json", lambda: json.dumps(x)), ("eq", lambda: x == y), ("deepcopy", lambda: copy.deepcopy(x))]:
    try:
        attempt()
    except RecursionError:
        print(name)
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "json\neq\ndeepcopy\n");
}

/// What Monty (the Python guest before CPython) could not run, each printed
/// by name when it works: the CPython column of issue 19's feature table.
#[tokio::test]
async fn the_python_monty_lacked_runs() {
    let runtime = builder().build().await.unwrap();
    let code = r#"
import bisect, copy, csv, decimal, hashlib, heapq, io, itertools, operator, random, statistics, string, textwrap, time, uuid
from collections import OrderedDict
from functools import lru_cache
worked = []
class Base:
    def kind(self): return "base"
class Child(Base):
    def kind(self): return "child:" + super().kind()
    @property
    def name(self): return "p"
    @staticmethod
    def make(): return Child()
    @classmethod
    def build(cls): return cls()
if Child.make().kind() == "child:base" and Child.build().name == "p": worked.append("inheritance+decorators")
class Custom(Exception): pass
try:
    raise Custom("x")
except Custom:
    worked.append("custom exceptions")
def gen():
    yield 1
    yield from [2, 3]
if list(gen()) == [1, 2, 3]: worked.append("generators")
d = {"a": 1}; del d["a"]
if d == {}: worked.append("del")
if "%s=%d" % ("n", 3) == "n=3": worked.append("%")
match {"k": [1, 2]}:
    case {"k": [first, *rest]}: worked.append("match")
with io.StringIO() as f:
    csv.writer(f).writerow(["a", "b"]); worked.append("with+io+csv" if f.getvalue() == "a,b\r\n" else "csv?")
if statistics.median([3, 1, 2]) == 2: worked.append("statistics")
if len(str(uuid.uuid4())) == 36: worked.append("uuid")
if string.ascii_lowercase[:3] == "abc" and textwrap.shorten("a b c d", 5) == "[...]": worked.append("string+textwrap")
if heapq.nsmallest(2, [5, 1, 4]) == [1, 4] and bisect.bisect([1, 3], 2) == 1: worked.append("heapq+bisect")
if operator.itemgetter("x")({"x": 7}) == 7: worked.append("operator")
if [k for k, _ in itertools.groupby("aab")] == ["a", "b"]: worked.append("groupby")
if lru_cache(maxsize=None)(lambda n: n * 2)(4) == 8: worked.append("lru_cache")
if list(OrderedDict(a=1)) == ["a"] and copy.deepcopy([[1]]) == [[1]]: worked.append("OrderedDict+copy")
if str(decimal.Decimal("1.10") + decimal.Decimal("2.20")) == "3.30" and len(hashlib.sha256(b"").hexdigest()) == 64: worked.append("decimal+hashlib")
if round(2.675, 2) == 2.67 and sorted(["b", "a"], key=str.upper) == ["a", "b"]: worked.append("float rounding+unbound methods")
random.random(); time.time()
print(", ".join(worked))
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(
        result.stdout,
        "inheritance+decorators, custom exceptions, generators, del, %, match, with+io+csv, statistics, uuid, \
         string+textwrap, heapq+bisect, operator, groupby, lru_cache, OrderedDict+copy, decimal+hashlib, \
         float rounding+unbound methods\n"
    );
}

#[tokio::test]
async fn a_runtime_sized_for_one_execution_runs_python() {
    // The instance pool is sized per execution; the CPython guest alone
    // instantiates 14 core modules.
    let runtime = builder().max_concurrent_executions(1).build().await.unwrap();
    let result = run_py(&runtime, "print(sum(range(10)))", &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "45\n");
    runtime.shutdown().await;
}
