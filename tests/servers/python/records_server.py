"""The "records" MCP server that Airlock's integration tests start (stdio transport, or
Streamable HTTP on loopback with `--http PORT [--json]`).

Written with the official MCP Python SDK 2.x (`mcp.server.mcpserver.MCPServer`), run
with the interpreter of tests/servers/.venv (installed by scripts/setup-servers.sh):

    tests/servers/.venv/bin/python tests/servers/python/records_server.py

It offers deterministic data (10,000 invoice-like records with personal data in them)
and tools that misbehave on purpose: errors, a crash, a hang, slow concurrent calls and a
tool list that changes at run time. No network; nothing is ever printed to stdout (it
carries the protocol), and stderr only gets warnings.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
from typing import Annotated, Literal

import anyio
from pydantic import BaseModel, Field

from mcp.server import NotificationOptions
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.stdio import stdio_server
from mcp.types import ToolAnnotations

TOTAL_RECORDS = 10_000

server = MCPServer(
    "records",
    version="1.0.0",
    instructions="Invoice records for tests, plus tools that fail, crash, hang or sleep on purpose.",
    log_level="WARNING",
)


# --------------------------------------------------------------------------- data


class Record(BaseModel):
    """One invoice record."""

    id: int = Field(description="Record id, 1 to 10000.")
    name: str = Field(description="Customer's full name.")
    email: str = Field(description="Customer's email address.")
    status: Literal["pending", "paid", "overdue"] = Field(description="Payment status.")
    amount: float = Field(description="Invoice amount in euros.")
    region: str = Field(description="Sales region.")
    created: str = Field(description="Creation date, ISO 8601 (YYYY-MM-DD).")
    tags: list[str] = Field(description="Free-form labels.")


class RecordPage(BaseModel):
    """A page of records."""

    records: list[Record] = Field(description="The records from `offset`, at most `limit` of them.")
    total: int = Field(description="How many records exist in all.")


FIRST_NAMES = [
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "John",
    "Radia", "Edsger", "Sophie", "Tim", "Hedy", "Donald", "Katherine", "Niklaus", "Lynn", "Guido",
]  # fmt: skip
LAST_NAMES = [
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
    "Allen", "McCarthy", "Perlman", "Dijkstra", "Wilson", "Berners-Lee", "Lamarr", "Knuth",
    "Johnson", "Wirth", "Conway", "van Rossum",
]  # fmt: skip
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com"]
STATUSES = ["pending", "paid", "overdue"]
REGIONS = ["north", "south", "east", "west", "central"]
TAGS = ["vip", "new", "recurring", "discount", "priority", "wholesale", "retail", "trial"]


def _make_records() -> list[dict]:
    """The same 10,000 records on every run (fixed seed)."""
    rng = random.Random(20240101)
    start = dt.date(2024, 1, 1)
    records = []
    for i in range(1, TOTAL_RECORDS + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().replace(" ", "").replace("-", "")
        records.append(
            {
                "id": i,
                "name": f"{first} {last}",
                "email": f"{local}{i}@{rng.choice(DOMAINS)}",
                "status": rng.choice(STATUSES),
                "amount": round(rng.uniform(5, 5000), 2),
                "region": rng.choice(REGIONS),
                "created": (start + dt.timedelta(days=rng.randrange(730))).isoformat(),
                "tags": sorted(rng.sample(TAGS, rng.randrange(0, 4))),
            }
        )
    return records


RECORDS = _make_records()
BY_ID = {r["id"]: r for r in RECORDS}


# -------------------------------------------------------------------------- tools


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def list_records(
    limit: Annotated[int, Field(ge=0, description="Maximum number of records to return.")] = TOTAL_RECORDS,
    offset: Annotated[int, Field(ge=0, description="Index of the first record to return.")] = 0,
) -> RecordPage:
    """List invoice records (10,000 in all), in id order."""
    page = RECORDS[offset : offset + limit]
    return RecordPage.model_validate({"records": page, "total": len(RECORDS)})


def _record(id: int) -> Record:
    record = BY_ID.get(id)
    if record is None:
        raise ToolError(f"no record with id {id}")
    return Record.model_validate(record)


# RECORDS_IDS_AS_TEXT=1 changes get_record's schema (the id becomes a string), for
# tests of code written against the old one.
if os.environ.get("RECORDS_IDS_AS_TEXT") == "1":

    @server.tool()
    def get_record(id: Annotated[str, Field(description="The record's id, as text.")]) -> Record:
        """Get one record by id; fails for an unknown id."""
        return _record(int(id))

else:

    @server.tool()
    def get_record(id: Annotated[int, Field(description="The record's id.")]) -> Record:
        """Get one record by id; fails for an unknown id."""
        return _record(id)


@server.tool()
def fail(message: Annotated[str, Field(description="The error message to fail with.")] = "this tool always fails") -> str:
    """Always fails with the given message (a tool result with isError)."""
    raise ToolError(message)


@server.tool()
def add(
    a: Annotated[int, Field(description="First addend.")],
    b: Annotated[int, Field(description="Second addend.")],
) -> int:
    """Add two integers."""
    return a + b


@server.tool(structured_output=False)
def echo_text(text: Annotated[str, Field(description="The text to echo back.")]) -> str:
    """Return the given text unchanged, as plain text content (no structuredContent, no outputSchema)."""
    return text


class _Concurrency:
    in_flight = 0
    peak = 0
    calls = 0


class SleepResult(BaseModel):
    id: int = Field(description="The id passed in.")
    peak_in_flight: int = Field(description="Most `sleep` calls in flight at once so far.")


class ConcurrencyStats(BaseModel):
    in_flight: int = Field(description="`sleep` calls in flight now.")
    peak: int = Field(description="Most `sleep` calls in flight at once since the last reset.")
    calls: int = Field(description="`sleep` calls started since the last reset.")


@server.tool()
async def sleep(
    ms: Annotated[int, Field(ge=0, description="How long to sleep, in milliseconds.")],
    id: Annotated[int, Field(description="An id echoed back, to tell calls apart.")] = 0,
) -> SleepResult:
    """Sleep for `ms` milliseconds, counting how many calls are in flight at once."""
    _Concurrency.calls += 1
    _Concurrency.in_flight += 1
    _Concurrency.peak = max(_Concurrency.peak, _Concurrency.in_flight)
    try:
        await anyio.sleep(ms / 1000)
    finally:
        _Concurrency.in_flight -= 1
    return SleepResult(id=id, peak_in_flight=_Concurrency.peak)


@server.tool()
def concurrency() -> ConcurrencyStats:
    """How many `sleep` calls are in flight, the peak, and the total since the last reset."""
    return ConcurrencyStats(in_flight=_Concurrency.in_flight, peak=_Concurrency.peak, calls=_Concurrency.calls)


@server.tool()
def reset_concurrency() -> ConcurrencyStats:
    """Reset the `sleep` counters (peak and calls; in-flight calls stay counted)."""
    _Concurrency.peak = _Concurrency.in_flight
    _Concurrency.calls = 0
    return ConcurrencyStats(in_flight=_Concurrency.in_flight, peak=_Concurrency.peak, calls=_Concurrency.calls)


@server.tool()
def crash() -> str:
    """Exit the server process at once (exit code 3), in the middle of the call."""
    os._exit(3)


@server.tool()
async def hang() -> str:
    """Never return (sleeps for an hour)."""
    await anyio.sleep(3600)
    return "woke up"


@server.tool()
async def add_tool(
    name: Annotated[str, Field(description="Name of the tool to register.")],
    ctx: Context,
) -> str:
    """Register a tool called `name` (optional `text` in, "<name>: <text>" out) and send tools/list_changed."""
    if any(tool.name == name for tool in await server.list_tools()):
        raise ToolError(f"a tool named {name!r} already exists")

    def dynamic(text: Annotated[str, Field(description="Any text.")] = "") -> str:
        return f"{name}: {text}"

    server.add_tool(dynamic, name=name, description=f"A tool added at run time ({name}).")
    # Clients of the handshake-era protocols (up to 2025-11-25) get the notification
    # on the connection; 2026-07-28 clients get it through `subscriptions/listen`.
    await ctx.session.send_tool_list_changed()
    await ctx.notify_tools_changed()
    return "added"


@server.tool()
def pid() -> int:
    """The server's process id (changes when the server is restarted)."""
    return os.getpid()


# --------------------------------------------------------------------------- main


async def main() -> None:
    # `MCPServer.run()` does not advertise `tools.listChanged`; this server does send it.
    lowlevel = server._lowlevel_server  # noqa: SLF001 (no public way to pass NotificationOptions)
    options = lowlevel.create_initialization_options(NotificationOptions(tools_changed=True))
    async with stdio_server() as (read_stream, write_stream):
        await lowlevel.run(read_stream, write_stream, options)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--http"]:
        # `--http PORT [--json]`: Streamable HTTP on loopback, replies as SSE
        # streams (or JSON bodies), for the tests of HTTP upstreams.
        server.run(
            "streamable-http",
            host="127.0.0.1",
            port=int(sys.argv[2]),
            json_response="--json" in sys.argv,
            max_request_body_size=64 << 20,
        )
    else:
        anyio.run(main)
