"""Soak `airlock serve --http`: sessions opened, used and abandoned at a steady rate.

    soak.py [--airlock PATH] [--config FILE] [--minutes 10] [--rate 10]
            [--idle-timeout 10s] [--concurrency 64]

Starts `airlock serve --http 127.0.0.1:0 --session-idle-timeout IDLE` (with its
temporary folders in a folder of its own), then for `--minutes` opens `--rate` MCP
sessions per second from the official Python SDK. Each session initialises, lists the
tools, runs two `execute_code` calls (one calls the `records` server and prints a
tokenized email address, one writes and reads a file in the session's workspace) and
leaves without closing its session (no DELETE), as a client that crashed would. The
server must expire them. Once the load stops it waits for every session to expire.

Prints the server's resident memory (VmRSS) at the start, after warm-up (the first
session), every minute, its peak and at the end, with the sessions opened, failed,
expired and still live, and the workspace folders left behind.

Run from the repository root (the config's paths are relative to it) with the
interpreter of tests/servers/.venv, against a release build; `just soak-serve` does
that for 10 minutes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import anyio
import httpx2

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

RECORD = 'import { getRecord } from "./servers/records";\nconst r = await getRecord({ id: %d });\nconsole.log(r.id, r.email);'
WORKSPACE = (
    'import fs from "fs";\nfs.writeFileSync("./workspace/note.txt", "n%d".repeat(1000));\n'
    'console.log(fs.readFileSync("./workspace/note.txt", "utf8").length);'
)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def samples(url: str) -> dict[str, float]:
    text = httpx2.get(url.removesuffix("/mcp") + "/metrics").text
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


class Counts:
    def __init__(self) -> None:
        self.opened = 0
        self.failed = 0
        self.late = 0
        self.errors: list[str] = []


async def one_session(url: str, http: httpx2.AsyncClient, n: int, counts: Counts) -> None:
    try:
        async with streamable_http_client(url, http_client=http, terminate_on_close=False) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                counts.opened += 1
                await session.list_tools()
                record = await session.call_tool("execute_code", {"code": RECORD % (n % 10000 + 1)})
                text = "".join(getattr(block, "text", "") for block in record.content)
                if record.is_error or "[EMAIL_1]" not in text:
                    raise RuntimeError(f"record: {text!r}")
                note = await session.call_tool("execute_code", {"code": WORKSPACE % (n % 10)})
                text = "".join(getattr(block, "text", "") for block in note.content)
                if note.is_error or text != "2000\n":
                    raise RuntimeError(f"workspace: {text!r}")
    except Exception as error:  # noqa: BLE001 - counted and reported
        counts.failed += 1
        if len(counts.errors) < 5:
            counts.errors.append(repr(error))


async def load(url: str, minutes: float, rate: float, concurrency: int, counts: Counts) -> None:
    limit = anyio.CapacityLimiter(concurrency)
    interval = 1 / rate
    end = time.monotonic() + minutes * 60

    async def run(n: int) -> None:
        async with limit:
            await one_session(url, http, n, counts)

    async with httpx2.AsyncClient(timeout=120) as http:
        async with anyio.create_task_group() as group:
            n = 0
            next_start = time.monotonic()
            while next_start < end:
                # A steady rate: a session every interval, whatever the
                # previous ones are doing (at most `concurrency` at once).
                if limit.borrowed_tokens >= concurrency:
                    counts.late += 1
                group.start_soon(run, n)
                n += 1
                next_start += interval
                await anyio.sleep(max(0.0, next_start - time.monotonic()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--airlock", default="target/release/airlock")
    ap.add_argument("--config", default="bench/mcp.json")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--rate", type=float, default=10, help="sessions opened per second")
    ap.add_argument("--idle-timeout", default="10s")
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="airlock-soak-")
    server = subprocess.Popen(
        [args.airlock, "serve", "--http", "127.0.0.1:0", "--config", args.config,
         "--session-idle-timeout", args.idle_timeout],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": tmp.name},
    )
    try:
        line = ""
        while "serving MCP at" not in line:
            line = server.stderr.readline()
            if not line:
                print("airlock serve exited before it served", file=sys.stderr)
                return 1
        url = line.strip().rsplit(" ", 1)[-1]
        # Keep draining the server's log.
        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()

        start_rss = rss_mib(server.pid)
        warm = Counts()
        anyio.run(load, url, 1 / 600, 1, 1, warm)  # one session: upstream server started, guests loaded
        warm_rss = rss_mib(server.pid)
        if warm.failed:
            print(f"warm-up failed: {warm.errors}", file=sys.stderr)
            return 1

        peak = [max(start_rss, warm_rss)]
        timeline: list[tuple[float, float, float]] = []
        stop = threading.Event()

        def sample() -> None:
            began = time.monotonic()
            next_minute = 60.0
            while not stop.wait(0.25):
                rss = rss_mib(server.pid)
                peak[0] = max(peak[0], rss)
                elapsed = time.monotonic() - began
                if elapsed >= next_minute:
                    live = samples(url).get("airlock_http_sessions", float("nan"))
                    timeline.append((elapsed / 60, rss, live))
                    print(f"  {elapsed / 60:4.1f} min  RSS {rss:6.1f} MiB  live sessions {live:.0f}", flush=True)
                    next_minute += 60

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        counts = Counts()
        print(f"soak: {args.rate:g} sessions/s for {args.minutes:g} min, idle timeout {args.idle_timeout}, "
              f"each session used then abandoned", flush=True)
        began = time.monotonic()
        anyio.run(load, url, args.minutes, args.rate, args.concurrency, counts)
        loaded = time.monotonic() - began
        # Every session expires within an idle period and a quarter of its last use.
        while samples(url).get("airlock_http_sessions", 0) > 0:
            time.sleep(0.5)
        time.sleep(2)
        stop.set()
        sampler.join()
        end_rss = rss_mib(server.pid)
        final = samples(url)
        left = len([p for p in Path(tmp.name).iterdir() if p.name.startswith("airlock-workspace-")])

        print(f"sessions opened    {counts.opened} in {loaded:.0f} s ({counts.opened / loaded:.1f}/s), "
              f"failed {counts.failed}, started late {counts.late}")
        for error in counts.errors:
            print(f"  error: {error}")
        print(f"sessions expired   {final.get('airlock_http_sessions_expired_total', 0):.0f} "
              f"(of {counts.opened + warm.opened} opened with the warm-up), "
              f"live at the end {final.get('airlock_http_sessions', 0):.0f}, "
              f"refused {final.get('airlock_http_sessions_refused_total', 0):.0f}")
        print(f"workspace folders  {left} left")
        print(f"server RSS         start {start_rss:.1f} MiB, after warm-up {warm_rss:.1f} MiB, "
              f"peak {peak[0]:.1f} MiB, end {end_rss:.1f} MiB")
        return 0 if counts.failed == 0 and left == 0 else 1
    finally:
        server.terminate()
        server.wait(timeout=60)
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
