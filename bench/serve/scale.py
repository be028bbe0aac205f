"""Executions per second through HAProxy with one and with three `airlock serve`
instances sharing a PostgreSQL store, in one run, from the official Python MCP SDK.

    scale.py [--airlock PATH] [--config FILE] [--clients 24] [--calls 20]

Starts PostgreSQL (Debian package: initdb in a temporary folder, its own port),
then for 1 and for 3 instances: the instances (`--http 127.0.0.1:0`, the store and
a shared journal key), HAProxy round-robin in front of them with no stickiness, and
`--clients` concurrent MCP sessions (an `initialize` handshake each; with three
instances every session is served by all of them, its state in the store), each
making `--calls` `execute_code` calls of a script that makes one tool call
(`records.add`). Prints executions/s and p50/p99 per execution for each, then one
instance straight (no HAProxy) with the PostgreSQL store, with the default (SQLite in
the data folder) and with sessions in memory only (`--sessions-in-memory`): each
execution reads the session's vault from the store.

Run from the repository root with the interpreter of tests/servers/.venv;
`just bench-scale` does that.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import anyio

# The load's MCP session (an `initialize`, then `execute_code` calls of a
# script making one records.add call) and its percentile, as load.py has them.
from load import one_session, percentile

KEY = "5eed" * 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not start on port {port}")


def start_postgres(folder: Path) -> tuple[subprocess.Popen, str]:
    """A PostgreSQL server of its own (as the postgres user when we are root)."""
    versions = sorted(Path("/usr/lib/postgresql").iterdir(), key=lambda p: int(p.name))
    bin_dir = Path(os.environ.get("AIRLOCK_PG_BIN", versions[-1] / "bin"))
    as_postgres = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_postgres else []
    if as_postgres:
        subprocess.run(["chown", "-R", "postgres:postgres", str(folder)], check=True)
    data = folder / "data"
    subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "airlock", "--auth=trust", "--no-sync"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    server = subprocess.Popen(
        [*prefix, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(folder),
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, "PostgreSQL")
    for _ in range(100):
        ready = subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"])
        if ready.returncode == 0:
            break
        time.sleep(0.1)
    return server, f"postgres://airlock@127.0.0.1:{port}/postgres"


def start_instance(airlock: str, config: Path, store: str | None, data: Path) -> tuple[subprocess.Popen, str]:
    """`store`: a postgres:// URL, "sqlite" (the default store) or "memory"."""
    env = {**os.environ, "AIRLOCK_DATA_DIR": str(data), "AIRLOCK_JOURNAL_KEY": KEY}
    env.pop("AIRLOCK_STORE", None)
    extra = []
    if store == "memory":
        extra = ["--sessions-in-memory"]
    elif store != "sqlite":
        env["AIRLOCK_STORE"] = store
    server = subprocess.Popen(
        [airlock, "serve", "--http", "127.0.0.1:0", "--config", str(config), *extra],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    for line in server.stderr:
        if "serving MCP at" in line:
            url = line.strip().rsplit(" ", 1)[-1]
            # Drain the log so the server never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
            return server, url.removeprefix("http://").removesuffix("/mcp")
    raise SystemExit("airlock serve exited before it served")


def start_haproxy(folder: Path, backends: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    servers = "".join(f"    server airlock{i} {address}\n" for i, address in enumerate(backends))
    config = folder / "haproxy.cfg"
    config.write_text(
        "global\n    maxconn 1024\n"
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 120s\n    timeout server 120s\n"
        "    retries 3\n    option redispatch 1\n"
        f"frontend mcp\n    bind 127.0.0.1:{port}\n    default_backend airlock\n"
        f"backend airlock\n    balance roundrobin\n{servers}"
    )
    proxy = subprocess.Popen(["haproxy", "-f", str(config), "-db"], stdout=subprocess.DEVNULL)
    wait_for_port(port, "HAProxy")
    return proxy, f"http://127.0.0.1:{port}/mcp"


async def load(url: str, clients: int, calls: int) -> tuple[float, list[float], int]:
    # Warm up: every instance starts its records server on first use.
    await one_session(url, 6, [], [])
    latencies: list[float] = []
    failures: list[str] = []
    start = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(clients):
            group.start_soon(one_session, url, calls, latencies, failures)
    elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, latencies, len(failures)


def run_topology(args, folder: Path, store: str | None, instances: int, proxied: bool) -> dict:
    started = []
    try:
        backends = []
        for i in range(instances):
            server, address = start_instance(args.airlock, args.config, store, folder / f"data-{instances}-{i}")
            started.append(server)
            backends.append(address)
        if proxied:
            proxy, url = start_haproxy(folder, backends)
            started.append(proxy)
        else:
            url = f"http://{backends[0]}/mcp"
        rate, latencies, failed = anyio.run(load, url, args.clients, args.calls)
        return {"rate": rate, "p50": statistics.median(latencies), "p99": percentile(latencies, 99),
                "failed": failed, "total": args.clients * args.calls}
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--airlock", default="target/release/airlock")
    ap.add_argument("--config", type=Path, default=Path("bench/mcp.json"))
    ap.add_argument("--clients", type=int, default=24)
    ap.add_argument("--calls", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="airlock-scale-") as tmp:
        folder = Path(tmp)
        postgres, store = start_postgres(folder)
        try:
            rows = [
                ("HAProxy, 1 instance, PostgreSQL store", run_topology(args, folder, store, 1, True)),
                ("HAProxy, 3 instances, PostgreSQL store", run_topology(args, folder, store, 3, True)),
                ("1 instance direct, PostgreSQL store", run_topology(args, folder, store, 1, False)),
                ("1 instance direct, default store (SQLite)", run_topology(args, folder, "sqlite", 1, False)),
                ("1 instance direct, sessions in memory", run_topology(args, folder, "memory", 1, False)),
            ]
        finally:
            postgres.terminate()
            postgres.wait(timeout=30)
    cores = os.cpu_count()
    print(f"Scale-out ({cores} cores; {args.clients} concurrent MCP sessions x {args.calls} execute_code calls,")
    print("each script making one records.add call)")
    print(f"{'topology':<48} {'exec/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7}")
    for name, row in rows:
        print(f"{name:<48} {row['rate']:>8.0f} {row['p50'] * 1000:>8.1f} {row['p99'] * 1000:>8.1f} "
              f"{row['failed']:>3}/{row['total']}")
    one, three = rows[0][1], rows[1][1]
    print(f"{'3 instances / 1 instance (throughput)':<48} {three['rate'] / one['rate']:>8.2f}")
    pg, sqlite, memory = rows[2][1], rows[3][1], rows[4][1]
    print(f"{'PostgreSQL store / in memory (throughput)':<48} {pg['rate'] / memory['rate']:>8.2f}")
    print(f"{'SQLite default / in memory (throughput)':<48} {sqlite['rate'] / memory['rate']:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
