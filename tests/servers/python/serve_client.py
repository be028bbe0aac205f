"""A real MCP client (the official Python SDK) driving `airlock serve`.

    serve_client.py stdio AIRLOCK_BINARY CONFIG_FILE [SERVE_ARGS...]
    serve_client.py http URL [TOKEN]
    serve_client.py drain URL SERVER_PID
    serve_client.py python AIRLOCK_BINARY CONFIG_FILE [SERVE_ARGS...]
    serve_client.py abandon URL COUNT
    serve_client.py cap URL MAX_SESSIONS
    serve_client.py busy URL
    serve_client.py approve (stdio AIRLOCK_BINARY CONFIG_FILE | http URL)

Over stdio it starts `AIRLOCK_BINARY serve --config CONFIG_FILE`; over HTTP it connects
to a running `airlock serve --http` (with `Authorization: Bearer TOKEN` when given).
It initialises, lists the tools and calls them through a fixed scenario, then prints one
JSON object with what came back, for host/tests/serve.rs to check. Over HTTP it also
runs two sessions side by side to see that they are isolated. In `drain` mode it starts
an execution that waits on a slow tool, sends SIGTERM to the server while it runs, and
reports what the execution returned. In `python` mode it starts `airlock serve --language
python` over stdio and runs a Python scenario. In `abandon` mode it opens COUNT sessions,
runs code in each and leaves without closing them (as a client that crashed would). In
`cap` mode it holds MAX_SESSIONS sessions open, tries one more, and uses the ones it holds.
In `busy` mode (a server with --max-executions-per-session 1 --max-executions 2) it starts
slow executions until the limits refuse more. In `approve` mode the client answers
elicitations (approving the message that says "hi", declining the rest) while code sends two
messages through a gated tool. Exits non-zero if a session itself fails.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys

from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import httpx2
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError


def text_of(result) -> str:
    return "".join(block.text for block in result.content if getattr(block, "type", "") == "text")


@asynccontextmanager
async def connect(argv: list[str], terminate: bool = True, **session_args):
    """A ClientSession over the transport `argv` names; over HTTP, unless
    `terminate` is false, the session ends with a DELETE."""
    if argv[0] == "stdio":
        # The SDK passes a server only a few variables by default; airlock
        # needs the test's cache and data folders.
        params = StdioServerParameters(
            command=argv[1], args=["serve", "--config", argv[2], *argv[3:]], env=dict(os.environ)
        )
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write, **session_args) as session:
                yield session
    else:
        headers = {"Authorization": f"Bearer {argv[2]}"} if len(argv) > 2 else {}
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
            async with streamable_http_client(argv[1], http_client=http, terminate_on_close=terminate) as (read, write):
                async with ClientSession(read, write, **session_args) as session:
                    yield session


async def call_code(session: ClientSession, code: str, **extra) -> dict:
    result = await session.call_tool("execute_code", {"code": code, **extra})
    return {"text": text_of(result), "is_error": bool(result.is_error), "structured": result.structured_content}


async def isolation(argv: list[str]) -> dict:
    """Two sessions at once: files and PII tokens stay in the session that made them."""
    out: dict = {}
    async with connect(argv) as one, connect(argv) as two:
        await one.initialize()
        await two.initialize()
        out["one_write"] = await call_code(
            one,
            'import fs from "fs"; import { getRecord } from "./servers/records";\n'
            'fs.writeFileSync("./workspace/secret.txt", "one");\n'
            "console.log((await getRecord({ id: 3 })).email);",
        )
        out["two_read"] = await call_code(
            two, 'import fs from "fs"; console.log(fs.existsSync("./workspace/secret.txt"));'
        )
        echo = 'import { echoText } from "./servers/records"; console.log(await echoText({ text: "[EMAIL_1]" }));'
        out["one_echo"] = await call_code(one, echo)
        out["two_echo"] = await call_code(two, echo)
        # A skill saved in one session is imported there and in the other.
        saved = await one.call_tool(
            "save_skill",
            {
                "name": "record-email",
                "description": "The email address of a record.",
                "code": 'import { getRecord } from "./servers/records";\n'
                "export async function emailOf(id) { return (await getRecord({ id })).email; }\n",
            },
        )
        out["skill_saved"] = {"text": text_of(saved), "is_error": bool(saved.is_error)}
        use = 'import { emailOf } from "./skills/record-email"; console.log(await emailOf(7));'
        out["skill_one"] = await call_code(one, use)
        out["skill_two"] = await call_code(two, use)
        out["skill_list"] = text_of(await two.call_tool("list_skills", {}))
        tools = await two.list_tools()
        out["skill_description"] = next(t.description for t in tools.tools if t.name == "execute_code")
    return out


async def metrics(argv: list[str]) -> dict:
    """/metrics of the HTTP server, parsed by the official Prometheus client:
    {"name{label=value,...}": value} for every sample."""
    url = argv[1].removesuffix("/mcp") + "/metrics"
    headers = {"Authorization": f"Bearer {argv[2]}"} if len(argv) > 2 else {}
    async with httpx2.AsyncClient(headers=headers) as http:
        response = await http.get(url)
        response.raise_for_status()
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return {"content_type": response.headers.get("content-type"), "samples": samples}


async def drain(argv: list[str]) -> dict:
    """SIGTERM while an execution runs: it must still finish and answer."""
    out: dict = {}
    try:
        async with connect(["http", argv[1]]) as session:
            await session.initialize()
            # The SDK lists tools (for their output schemas) before the first
            # result it validates: do it now, while the server is up.
            await session.list_tools()
            code = (
                'import { sleep } from "./servers/records";\n'
                "const r = await sleep({ ms: 1500, id: 9 });\n"
                'console.log("done", r.id);'
            )
            async with anyio.create_task_group() as group:

                async def run() -> None:
                    out["running"] = await call_code(session, code)

                group.start_soon(run)
                # Wait until the server reports the execution in flight, then stop it.
                for _ in range(1000):
                    samples = (await metrics(["http", argv[1]]))["samples"]
                    if samples.get("airlock_executions_in_flight{}") == 1:
                        break
                    await anyio.sleep(0.01)
                out["in_flight_before_signal"] = samples.get("airlock_executions_in_flight{}")
                os.kill(int(argv[2]), signal.SIGTERM)
    except Exception:
        # Hanging up fails once the server is gone; that is expected here,
        # but only after the execution's result came back.
        if "running" not in out:
            raise
    return out


async def python(argv: list[str]) -> dict:
    """Python agent code through `airlock serve --language python`."""
    out: dict = {}
    async with connect(["stdio", *argv[1:], "--language", "python"]) as session:
        await session.initialize()
        tools = await session.list_tools()
        out["execute_description"] = next(t.description for t in tools.tools if t.name == "execute_code")

        run = functools.partial(call_code, session)

        out["filter"] = await run(
            "from servers import records\n"
            "rows = records.list_records(limit=10000)['records']\n"
            "pending = [r for r in rows if r['status'] == 'pending' and r['amount'] > 1000]\n"
            "print(len(rows), len(pending) > 0, pending[0]['email'])"
        )
        out["caught"] = await run(
            "from airlock import tool_error_kind\n"
            "from servers import records\n"
            "try:\n"
            "    records.fail(message='boom')\n"
            "except ToolError as e:\n"
            "    print(tool_error_kind(e), e.kind, e.server, e.tool, '|', e)"
        )
        out["as_python"] = await run(
            "import csv, io, statistics\n"
            "from servers import records\n"
            "class Overdue(Exception):\n"
            "    def __init__(self, count):\n"
            "        super().__init__(count)\n"
            "        self.count = count\n"
            "def amounts(rows, status):\n"
            "    for row in rows:\n"
            "        if row['status'] == status:\n"
            "            yield row['amount']\n"
            "rows = records.list_records(limit=10000)['records']\n"
            "try:\n"
            "    records.get_record(id='seven')\n"
            "except ToolError as e:\n"
            "    print(e.kind, e.server, e.tool)\n"
            "overdue = [r for r in rows if r['status'] == 'overdue']\n"
            "try:\n"
            "    raise Overdue(len(overdue))\n"
            "except Overdue as e:\n"
            "    print('overdue: %d of %d, mean %.2f' % (e.count, len(rows), statistics.mean(amounts(rows, 'overdue'))))\n"
            "out = io.StringIO()\n"
            "csv.writer(out).writerows([['status', 'count'], ['overdue', len(overdue)]])\n"
            "print(next(csv.reader(io.StringIO(out.getvalue()))) == ['status', 'count'] and 'status,count')"
        )
        out["uncaught"] = await run("x = 1\nraise ValueError('bad')")
        out["pii_round_trip"] = await run(
            "from servers import customers\n"
            "c = customers.get_customer(id=2)\n"
            "customers.send_message(to=c['email'], text='hi ' + c['full_name'])\n"
            "print(c['email'], c['full_name'])"
        )
        out["gathered"] = await run(
            "import asyncio\n"
            "from servers import records\n"
            "records.reset_concurrency()\n"
            "done = await asyncio.gather(*[records.sleep(ms=200, id=i) for i in range(10)])\n"
            "print(len(done), records.concurrency()['peak'])"
        )
        out["timeout"] = await run("while True:\n    pass", timeout_ms=300)
        out["fuel_limit"] = await run("n = 0\nwhile True:\n    n += 1")
        out["memory_limit"] = await run("a = []\nwhile True:\n    a.append('y' * 1048576 + str(len(a)))")
        out["output_limit"] = await run("while True:\n    print('x' * 100)")
        out["tool_call_limit"] = await run(
            "from servers import records\nfor i in range(100):\n    records.add(a=i, b=1)"
        )
        out["javascript"] = await run("console.log(6 * 7)", language="javascript")
        described = await session.call_tool("describe_tools", {"server": "records", "tools": ["get_record"]})
        out["describe"] = text_of(described)
        described_ts = await session.call_tool(
            "describe_tools", {"server": "records", "tools": ["get_record"], "language": "typescript"}
        )
        out["describe_ts"] = text_of(described_ts)
        full = await session.call_tool("search_tools", {"query": "add two numbers", "detail": "full", "limit": 1})
        out["search_full"] = text_of(full)
    return out


@asynccontextmanager
async def http_session(url: str, http: httpx2.AsyncClient, *, terminate: bool = True):
    """An initialised ClientSession over Streamable HTTP on a shared HTTP client."""
    async with streamable_http_client(url, http_client=http, terminate_on_close=terminate) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


async def abandon(argv: list[str]) -> dict:
    """COUNT sessions, each initialised and used once, none closed (no DELETE)."""
    url, count = argv[1], int(argv[2])
    out: dict = {"opened": 0, "ran": 0}
    limit = anyio.Semaphore(20)

    async def one(http: httpx2.AsyncClient, n: int) -> None:
        async with limit:
            async with http_session(url, http, terminate=False) as session:
                out["opened"] += 1
                ran = await call_code(
                    session,
                    'import fs from "fs"; fs.writeFileSync("./workspace/n.txt", "%d");'
                    'console.log(fs.readFileSync("./workspace/n.txt", "utf8"));' % n,
                )
                if ran["text"] == f"{n}\n":
                    out["ran"] += 1

    async with httpx2.AsyncClient(timeout=60) as http:
        async with anyio.create_task_group() as group:
            for n in range(count):
                group.start_soon(one, http, n)
    return out


def error_of(error: MCPError) -> dict:
    return {"code": error.code, "message": error.message, "data": error.data}


def mcp_error_in(error: BaseException) -> MCPError | None:
    """The MCPError `error` is or holds (task groups wrap what they raise)."""
    if isinstance(error, MCPError):
        return error
    for inner in getattr(error, "exceptions", ()):
        if (found := mcp_error_in(inner)) is not None:
            return found
    return None


async def cap(argv: list[str]) -> dict:
    """MAX sessions held open; one more is refused; the held ones keep working."""
    url, count = argv[1], int(argv[2])
    out: dict = {}
    async with httpx2.AsyncClient(timeout=60) as http, AsyncExitStack() as held:
        sessions = [await held.enter_async_context(http_session(url, http)) for _ in range(count)]
        # The refusal as HTTP sees it...
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "cap", "version": "0"},
            },
        }
        accept = {"Accept": "application/json, text/event-stream"}
        refused = await http.post(url, json=initialize, headers=accept)
        out["refused_http"] = {
            "status": refused.status_code,
            "retry_after": refused.headers.get("retry-after"),
            "content_type": refused.headers.get("content-type"),
            "body": refused.json(),
        }
        # ... and as the SDK reports it to its caller.
        try:
            async with http_session(url, http):
                out["refused_sdk"] = None
        except BaseException as error:  # noqa: BLE001 - looking for the MCPError inside
            found = mcp_error_in(error)
            if found is None:
                raise
            out["refused_sdk"] = error_of(found)
        # The sessions already open are served as before.
        out["held"] = [(await call_code(s, f"console.log({i} * 2)"))["text"] for i, s in enumerate(sessions)]
        # Closing one (DELETE) frees a place.
        await held.aclose()
        async with http_session(url, http) as again:
            out["after_close"] = (await call_code(again, "console.log('again')"))["text"]
    return out


async def busy(argv: list[str]) -> dict:
    """Slow executions until the per-session (1) and per-server (2) limits refuse one."""
    url = argv[1]
    out: dict = {}
    slow = 'import { sleep } from "./servers/records"; const r = await sleep({ ms: 1500, id: 1 }); console.log("slept");'

    async def in_flight(n: int) -> None:
        for _ in range(3000):
            samples = (await metrics(["http", url]))["samples"]
            if samples.get("airlock_executions_in_flight{}") == n:
                return
            await anyio.sleep(0.01)
        raise RuntimeError(f"never {n} executions in flight")

    async def refused(session: ClientSession) -> dict | None:
        try:
            await session.call_tool("execute_code", {"code": "console.log(1)"})
            return None
        except MCPError as error:
            return error_of(error)

    async with httpx2.AsyncClient(timeout=60) as http, AsyncExitStack() as stack:
        one, two, three = [await stack.enter_async_context(http_session(url, http)) for _ in range(3)]
        for session in (one, two, three):
            await session.list_tools()
        async with anyio.create_task_group() as group:

            async def run(name: str, session: ClientSession) -> None:
                out[name] = (await call_code(session, slow))["text"]

            group.start_soon(run, "first", one)
            await in_flight(1)
            out["same_session"] = await refused(one)
            group.start_soon(run, "second", two)
            await in_flight(2)
            out["server_full"] = await refused(three)
        out["after"] = (await call_code(one, "console.log('free again')"))["text"]
    out["metrics"] = (await metrics(["http", url]))["samples"]
    return out


async def approve(argv: list[str]) -> dict:
    """Gated calls asked through the client, one approved and one declined:
    once on a legacy session (`initialize`, asked with `elicitation/create`)
    and once on a 2026-07-28 session (`server/discover`, asked with an
    input-required result and a retried call)."""
    from mcp import types
    from mcp.client._input_required import run_input_required_driver

    out: dict = {}
    for handshake in ("legacy", "modern"):
        asked: list[str] = []

        async def answer(context, params) -> types.ElicitResult:
            asked.append(params.message)
            if '"text": "hi ' in params.message:
                return types.ElicitResult(action="accept", content={"approve": True})
            return types.ElicitResult(action="decline")

        async with connect(argv[1:], elicitation_callback=answer) as session:
            if handshake == "legacy":
                protocol = str((await session.initialize()).protocol_version)
            else:
                await session.discover()
                protocol = str(session._negotiated_version)
            code = (
                'import { getCustomer, sendMessage } from "./servers/customers";\n'
                "const anna = await getCustomer({ id: 2 });\n"
                "const sent = await sendMessage({ to: anna.email, text: `hi ${anna.full_name}` });\n"
                "console.log(sent.delivered, sent.to);\n"
                "try {\n"
                '  await sendMessage({ to: anna.email, text: "second message" });\n'
                "} catch (e) { console.log(e.kind, e.message); }"
            )
            arguments = {"code": code}
            first = await session.call_tool("execute_code", arguments, allow_input_required=True)

            async def retry(responses, state):
                return await session.call_tool(
                    "execute_code", arguments, allow_input_required=True, input_responses=responses, request_state=state
                )

            async def dispatch(key, request):
                return await answer(None, request.params)

            # As the SDK's high-level client drives input-required rounds.
            final = (
                await run_input_required_driver(first, dispatch=dispatch, retry=retry)
                if isinstance(first, types.InputRequiredResult)
                else first
            )
            result = {"text": text_of(final), "is_error": bool(final.is_error)}
        out[handshake] = {"result": result, "asked": asked, "protocol": protocol}
    return out


# Looks a customer up, prints, then messages them: a gated call when the
# config gates customers.send_message.
PAUSING_CODE = (
    'import { getCustomer, sendMessage } from "./servers/customers";\n'
    "const anna = await getCustomer({ id: 2 });\n"
    "console.log('found', anna.email);\n"
    "const sent = await sendMessage({ to: anna.email, text: `hi ${anna.full_name}` });\n"
    "console.log(sent.delivered, sent.to);\n"
    "export default sent.chars;"
)


async def pause(argv: list[str]) -> dict:
    """`execute_code` of PAUSING_CODE from a client that declares no
    elicitation: a gated call comes back paused."""
    async with connect(argv[1:]) as session:
        await session.initialize()
        listed = sorted(tool.name for tool in (await session.list_tools()).tools)
        return {"tools": listed, **await call_code(session, PAUSING_CODE)}


async def resume(argv: list[str]) -> dict:
    """`resume_execution` with approval, from a new connection: argv is
    `resume <transport...> <execution id> <call>`."""
    async with connect(argv[1:-2]) as session:
        await session.initialize()
        answer = {"execution_id": argv[-2], "call": int(argv[-1]), "approve": True}
        result = await session.call_tool("resume_execution", answer)
        return {"text": text_of(result), "is_error": bool(result.is_error), "structured": result.structured_content}


# Messages a customer twice: two gated calls, two questions.
TWICE_CODE = (
    'import { getCustomer, sendMessage } from "./servers/customers";\n'
    "const anna = await getCustomer({ id: 2 });\n"
    "await sendMessage({ to: anna.email, text: 'first' });\n"
    "await sendMessage({ to: anna.email, text: 'second' });\n"
    "console.log('both sent');"
)


async def answer_twice(argv: list[str]) -> dict:
    """TWICE_CODE from a client without elicitation: the first question
    answered, the same answer retried (as a model might), then the second
    question answered."""
    async with connect(argv[1:]) as session:
        await session.initialize()
        first = await call_code(session, TWICE_CODE)
        paused = first["structured"]["paused"]

        async def resume_at(call: int) -> dict:
            answer = {"execution_id": paused["execution_id"], "call": call, "approve": True}
            result = await session.call_tool("resume_execution", answer)
            return {"text": text_of(result), "is_error": bool(result.is_error), "structured": result.structured_content}

        second = await resume_at(paused["call"])
        retried = await resume_at(paused["call"])
        last = await resume_at(second["structured"]["paused"]["call"])
        return {"first": first, "second": second, "retried": retried, "last": last}


async def never_asked(context, params):
    raise AssertionError("a 2026-07-28 session is asked through input-required results")


async def ask(argv: list[str]) -> dict:
    """`execute_code` of PAUSING_CODE on a 2026-07-28 session of a client
    with elicitation: the input-required result, not yet answered."""
    from mcp import types

    async with connect(argv[1:], elicitation_callback=never_asked) as session:
        await session.discover()
        first = await session.call_tool("execute_code", {"code": PAUSING_CODE}, allow_input_required=True)
        assert isinstance(first, types.InputRequiredResult), first
        asked = [request.params.message for request in (first.input_requests or {}).values()]
        return {"state": first.request_state, "asked": asked}


async def answer(argv: list[str]) -> dict:
    """The retried call with the human's yes, from a new connection:
    argv is `answer <transport...> <requestState>`."""
    from mcp import types

    async with connect(argv[1:-1], elicitation_callback=never_asked) as session:
        await session.discover()
        yes = {"approval": types.ElicitResult(action="accept", content={"approve": True})}
        final = await session.call_tool(
            "execute_code", {"code": PAUSING_CODE}, allow_input_required=True, input_responses=yes, request_state=argv[-1]
        )
        assert not isinstance(final, types.InputRequiredResult), final
        return {"text": text_of(final), "is_error": bool(final.is_error)}


async def load(argv: list[str]) -> dict:
    """`load <transport...> <clients> <calls>`: that many concurrent
    2026-07-28 clients, each making that many `execute_code` calls of a
    script that looks a customer up; a call that fails (an error result or a
    broken connection) is retried, up to five times, on a new connection."""
    clients, calls = int(argv[-2]), int(argv[-1])
    code = 'import { getCustomer } from "./servers/customers";\nconsole.log((await getCustomer({ id: 1 })).id * 42);'
    failures: list[str] = []
    done = 0

    async def one_call() -> None:
        nonlocal done
        for _ in range(5):
            try:
                async with connect(argv[1:-2]) as session:
                    await session.discover()
                    result = await session.call_tool("execute_code", {"code": code})
                    if not result.is_error and text_of(result) == "42\n":
                        done += 1
                        return
                    failures.append(text_of(result)[:200])
            except Exception as error:  # noqa: BLE001 - any failure is retried and counted
                failures.append(f"{type(error).__name__}: {error}"[:200])
            await anyio.sleep(0.2)

    async def one_client() -> None:
        for _ in range(calls):
            await one_call()

    async with anyio.create_task_group() as group:
        for _ in range(clients):
            group.start_soon(one_client)
    return {"done": done, "wanted": clients * calls, "failures": failures}


async def one_session(argv: list[str]) -> dict:
    """One MCP session (an `initialize` handshake) making several calls:
    the first looks a customer up and prints the token of their address,
    the next ones message that token. Behind a round-robin balancer each
    request may reach another instance. The session is left open (no
    DELETE), so that its stored state can be inspected."""
    out: dict = {"calls": []}
    async with connect(argv[1:], terminate=False) as session:
        await session.initialize()
        first = await call_code(
            session,
            'import { getCustomer } from "./servers/customers";\nconsole.log((await getCustomer({ id: 2 })).email);',
        )
        out["calls"].append(first)
        token = first["text"].strip()
        for n in range(3):
            code = (
                'import { sendMessage } from "./servers/customers";\n'
                f'const sent = await sendMessage({{ to: "{token}", text: "note {n}" }});\n'
                "console.log(sent.to);"
            )
            out["calls"].append(await call_code(session, code))
    return out


async def skill(argv: list[str]) -> dict:
    """One MCP session saves a skill, and one for itself only, then runs
    code importing both three times: behind a round-robin balancer, on
    other instances too."""
    out: dict = {"runs": []}
    async with connect(argv[1:]) as session:
        await session.initialize()
        saved = await session.call_tool(
            "save_skill",
            {"name": "greet", "description": "Greets someone.", "code": "export const greet = (n) => `hi ${n}`;"},
        )
        out["saved"] = {"text": text_of(saved), "is_error": bool(saved.is_error)}
        mine = await session.call_tool(
            "save_skill",
            {"name": "mark", "description": "A mark.", "code": "export const mark = '!';", "session": True},
        )
        out["saved_for_session"] = {"text": text_of(mine), "is_error": bool(mine.is_error)}
        for n in range(3):
            code = (
                f'import {{ greet }} from "./skills/greet";\nimport {{ mark }} from "./skills/mark";\n'
                f'console.log(greet("{n}") + mark);'
            )
            out["runs"].append(await call_code(session, code))
    return out


class RawSession:
    """An MCP session over plain HTTP requests (JSON-RPC POSTs carrying
    `Mcp-Session-Id`), so that a failed request can be sent again in the
    same session: the SDK's client ends its session when a request fails."""

    def __init__(self, http: httpx2.AsyncClient, url: str):
        self.http, self.url, self.id, self.next = http, url, None, 0

    async def post(self, message: dict) -> dict | None:
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        if self.id:
            headers["Mcp-Session-Id"] = self.id
        response = await self.http.post(self.url, json=message, headers=headers)
        response.raise_for_status()
        self.id = response.headers.get("mcp-session-id", self.id)
        if "id" not in message:
            return None
        for line in response.text.splitlines():
            if line.startswith("data:") and line[5:].strip():
                answer = json.loads(line[5:])
                if answer.get("id") == message["id"]:
                    return answer
        return json.loads(response.text)

    async def request(self, method: str, params: dict) -> dict:
        self.next += 1
        return await self.post({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params})

    async def open(self) -> None:
        await self.request(
            "initialize",
            {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw-load", "version": "1"}},
        )
        await self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})


async def load_sessions(argv: list[str]) -> dict:
    """`load-sessions <url> <sessions> <calls>`: that many MCP sessions at
    once, each looking a customer up (the token of their address) and then
    handing that token to `spell` `calls` times: the server spells what it
    received, so an `@` in the answer shows the token resolved to the real
    address. A request that fails is sent again in the same session, up to
    five times."""
    url, sessions, calls = argv[1], int(argv[2]), int(argv[3])
    failures: list[str] = []
    done = 0
    wrong: list[str] = []

    async def call(session: RawSession, code: str) -> str:
        for _ in range(5):
            try:
                answer = await session.request("tools/call", {"name": "execute_code", "arguments": {"code": code}})
                result = answer.get("result") or {}
                text = "".join(block.get("text", "") for block in result.get("content", []))
                if "error" not in answer and not result.get("isError"):
                    return text
                failures.append(text[:200] or json.dumps(answer)[:200])
            except Exception as error:  # noqa: BLE001 - any failure is retried and counted
                failures.append(f"{type(error).__name__}: {error}"[:200])
            await anyio.sleep(0.2)
        raise RuntimeError("five attempts failed")

    async def one(http: httpx2.AsyncClient) -> None:
        nonlocal done
        session = RawSession(http, url)
        for attempt in range(5):
            try:
                await session.open()
                break
            except Exception as error:  # noqa: BLE001
                failures.append(f"open: {type(error).__name__}: {error}"[:200])
                await anyio.sleep(0.2)
        lookup = 'import { getCustomer } from "./servers/customers";\nconsole.log((await getCustomer({ id: 2 })).email);'
        token = (await call(session, lookup)).strip()
        for n in range(calls):
            code = (
                'import { spell } from "./servers/customers";\n'
                f'console.log((await spell({{ text: "{token}" }})).includes("@"), {n});'
            )
            resolved = (await call(session, code)).strip()
            if resolved != f"true {n}":
                wrong.append(f"{token} did not resolve: {resolved}")
            done += 1

    async with httpx2.AsyncClient(timeout=120) as http:
        async with anyio.create_task_group() as group:
            for _ in range(sessions):
                group.start_soon(one, http)
    return {"done": done, "wanted": sessions * calls, "failures": failures, "wrong": wrong}


async def main(argv: list[str]) -> None:
    modes = {"isolation": isolation, "load-sessions": load_sessions, "skill": skill, "pause": pause, "resume": resume, "answer-twice": answer_twice, "ask": ask, "answer": answer, "load": load, "session": one_session}
    if argv[0] in modes:
        print(json.dumps(await modes[argv[0]](argv)))
        return
    if argv[0] == "approve":
        print(json.dumps(await approve(argv)))
        return
    if argv[0] == "drain":
        print(json.dumps(await drain(argv)))
        return
    if argv[0] in ("abandon", "cap", "busy"):
        print(json.dumps(await {"abandon": abandon, "cap": cap, "busy": busy}[argv[0]](argv)))
        return
    if argv[0] == "python":
        print(json.dumps(await python(argv)))
        return
    out: dict = {}
    if argv[0] == "http":
        out["metrics_before"] = await metrics(argv)
    async with connect(argv) as session:
        init = await session.initialize()
        out["server_name"] = init.server_info.name
        tools = await session.list_tools()
        out["tools"] = sorted(tool.name for tool in tools.tools)
        out["execute_description"] = next(t.description for t in tools.tools if t.name == "execute_code")

        run = functools.partial(call_code, session)

        out["record"] = await run(
            'import { getRecord } from "./servers/records";\n'
            "const r = await getRecord({ id: 7 });\n"
            "console.log(r.id, r.email);"
        )
        out["typescript"] = await run("const n: number = 40 + 2; console.log(n);", language="typescript")
        out["throw"] = await run("console.log('before'); throw new Error('boom');")
        out["timeout"] = await run("while (true) {}", timeout_ms=300)
        out["write"] = await run('import fs from "fs"; fs.writeFileSync("./workspace/note.txt", "kept");')
        out["read"] = await run('import fs from "fs"; console.log(fs.readFileSync("./workspace/note.txt", "utf8"));')
        out["crash"] = await run(
            'import { crash } from "./servers/records";\n'
            "try { await crash({}); } catch (e) { console.log(e.kind); }"
        )
        out["after_crash"] = await run(
            'import { add } from "./servers/records"; console.log(await add({ a: 2, b: 3 }));'
        )
        described = await session.call_tool("describe_tools", {"server": "records", "tools": ["get_record"]})
        out["describe"] = {"text": text_of(described), "is_error": bool(described.is_error)}
        unknown = await session.call_tool("describe_tools", {"server": "records", "tools": ["nope"]})
        out["describe_unknown"] = {"text": text_of(unknown), "is_error": bool(unknown.is_error)}
        listed = await session.call_tool("list_servers", {})
        out["list_servers"] = text_of(listed)
        found = await session.call_tool("search_tools", {"query": "fetch one record by its id", "limit": 3})
        out["search"] = {"text": text_of(found), "structured": found.structured_content}
        full = await session.call_tool("search_tools", {"query": "add two numbers", "detail": "full", "limit": 1})
        out["search_full"] = text_of(full)
        resources = await session.list_resources()
        out["resources"] = sorted(str(r.uri) for r in resources.resources)
        read = await session.read_resource("airlock://servers/records/getRecord.ts")
        out["resource_get_record"] = [
            {"uri": str(c.uri), "mime_type": c.mime_type, "text": c.text} for c in read.contents
        ]
        try:
            await session.read_resource("airlock://servers/../etc/passwd")
            out["resource_escape"] = "read"
        except Exception as error:  # the SDK raises the JSON-RPC error
            out["resource_escape"] = str(error)
        # A misspelt argument: the published schema says additionalProperties is false.
        try:
            refused = await session.call_tool("execute_code", {"code": "print(1)", "lang": "python"})
            out["unknown_argument"] = {"raised": False, "is_error": bool(refused.is_error), "text": text_of(refused)}
        except Exception as error:
            out["unknown_argument"] = {"raised": True, "code": error.error.code, "message": error.error.message}
    if argv[0] == "http":
        out["isolation"] = await isolation(argv)
        out["metrics_after"] = await metrics(argv)
    print(json.dumps(out))


if __name__ == "__main__":
    anyio.run(main, sys.argv[1:])
