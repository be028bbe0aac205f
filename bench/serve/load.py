"""Load figures for `airlock serve`, measured from the official Python MCP SDK.

    load.py [--airlock PATH] [--config FILE] [--sessions 50] [--calls 20]

1. Streamable HTTP on loopback: starts `airlock serve --http 127.0.0.1:0`, opens
   `--sessions` MCP sessions at once, each running `--calls` `execute_code` calls of a
   small script that makes one tool call (`records.add`). Prints how many succeeded,
   p50/p99 latency, executions per second and the server's peak RSS (VmHWM).
2. stdio: `execute_code` of `console.log(1+1)` from one client, p50 and p99 round trip.

Run from the repository root (the config's paths are relative to it), with the
interpreter of tests/servers/.venv; `just bench-serve` does all that.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx2

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

SCRIPT = 'import { add } from "./servers/records";\nconsole.log(await add({ a: 2, b: 40 }));'


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def one_session(url: str, calls: int, latencies: list[float], failures: list[str]) -> None:
    async with httpx2.AsyncClient(timeout=120) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                for _ in range(calls):
                    start = time.perf_counter()
                    result = await session.call_tool("execute_code", {"code": SCRIPT})
                    latencies.append(time.perf_counter() - start)
                    text = "".join(getattr(block, "text", "") for block in result.content)
                    if result.is_error or text != "42\n":
                        failures.append(text)


async def http_load(airlock: str, config: str, sessions: int, calls: int) -> None:
    server = subprocess.Popen(
        [airlock, "serve", "--http", "127.0.0.1:0", "--config", config],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stderr.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        # Warm up: the upstream server starts on first use.
        warm_latencies: list[float] = []
        await one_session(url, 1, warm_latencies, [])
        latencies: list[float] = []
        failures: list[str] = []
        start = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(sessions):
                group.start_soon(one_session, url, calls, latencies, failures)
        elapsed = time.perf_counter() - start
        total = sessions * calls
        print(f"HTTP: {sessions} sessions x {calls} execute_code calls, each script making one tool call")
        print(f"  succeeded        {total - len(failures)}/{total}")
        print(f"  latency p50      {statistics.median(latencies) * 1000:.1f} ms")
        print(f"  latency p99      {percentile(latencies, 99) * 1000:.1f} ms")
        print(f"  throughput       {len(latencies) / elapsed:.0f} executions/s ({elapsed:.2f} s in all)")
        print(f"  server peak RSS  {peak_rss_mib(server.pid):.1f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=30)


async def stdio_round_trip(airlock: str, config: str, calls: int) -> None:
    params = StdioServerParameters(command=airlock, args=["serve", "--config", config])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            latencies = []
            for _ in range(calls):
                start = time.perf_counter()
                result = await session.call_tool("execute_code", {"code": "console.log(1+1)"})
                latencies.append(time.perf_counter() - start)
                assert not result.is_error
    print(f"stdio: execute_code of console.log(1+1), {calls} calls from one client")
    print(f"  round trip p50   {statistics.median(latencies) * 1000:.2f} ms")
    print(f"  round trip p99   {percentile(latencies, 99) * 1000:.2f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--airlock", default="target/release/airlock")
    ap.add_argument("--config", default="bench/mcp.json")
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--calls", type=int, default=20)
    args = ap.parse_args()
    anyio.run(http_load, args.airlock, args.config, args.sessions, args.calls)
    anyio.run(stdio_round_trip, args.airlock, args.config, 200)
    return 0


if __name__ == "__main__":
    sys.exit(main())
