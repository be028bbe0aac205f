"""A real MCP client (the official Python SDK) driving `airlock serve`.

    serve_client.py stdio AIRLOCK_BINARY CONFIG_FILE [SERVE_ARGS...]
    serve_client.py http URL [TOKEN]
    serve_client.py drain URL SERVER_PID
    serve_client.py python AIRLOCK_BINARY CONFIG_FILE [SERVE_ARGS...]

Over stdio it starts `AIRLOCK_BINARY serve --config CONFIG_FILE`; over HTTP it connects
to a running `airlock serve --http` (with `Authorization: Bearer TOKEN` when given).
It initialises, lists the tools and calls them through a fixed scenario, then prints one
JSON object with what came back, for host/tests/serve.rs to check. Over HTTP it also
runs two sessions side by side to see that they are isolated. In `drain` mode it starts
an execution that waits on a slow tool, sends SIGTERM to the server while it runs, and
reports what the execution returned. In `python` mode it starts `airlock serve --language
python` over stdio and runs a Python scenario. Exits non-zero if a session itself fails.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys

from contextlib import asynccontextmanager

import anyio
import httpx2
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client


def text_of(result) -> str:
    return "".join(block.text for block in result.content if getattr(block, "type", "") == "text")


@asynccontextmanager
async def connect(argv: list[str]):
    """A ClientSession over the transport `argv` names."""
    if argv[0] == "stdio":
        params = StdioServerParameters(command=argv[1], args=["serve", "--config", argv[2], *argv[3:]])
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                yield session
    else:
        headers = {"Authorization": f"Bearer {argv[2]}"} if len(argv) > 2 else {}
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
            async with streamable_http_client(argv[1], http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
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


async def main(argv: list[str]) -> None:
    if argv[0] == "drain":
        print(json.dumps(await drain(argv)))
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
            await session.call_tool("execute_code", {"code": "print(1)", "lang": "python"})
            out["unknown_argument"] = {"raised": False}
        except Exception as error:
            out["unknown_argument"] = {"raised": True, "code": error.error.code, "message": error.error.message}
    if argv[0] == "http":
        out["isolation"] = await isolation(argv)
        out["metrics_after"] = await metrics(argv)
    print(json.dumps(out))


if __name__ == "__main__":
    anyio.run(main, sys.argv[1:])
