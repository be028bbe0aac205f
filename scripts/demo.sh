#!/usr/bin/env bash
# The main job on one screen (`scripts/just demo`): an agent's Python code
# searches the tools of two real MCP servers, filters 10,000 records in the
# sandbox and sends a reminder; the model sees personal data as tokens while
# the server receives the real address; then what the model's context paid
# against direct tool calling. Expects a release build (the recipe makes it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
airlock=target/release/airlock
python=tests/servers/.venv/bin/python
demo=target/demo
rm -rf "$demo"
mkdir -p "$demo/inbox"
export DEMO_INBOX="$demo/inbox"

# First use compiles the guests for this machine (about ten seconds, once).
"$airlock" warm >/dev/null

echo "== 1. The agent's code (examples/demo/agent.py) runs in the sandbox. What it prints, all the model sees:"
"$airlock" run --config examples/demo/mcp.json examples/demo/agent.py | tee "$demo/output.txt"

echo
echo "== 2. What the customers server received (its own log, $demo/inbox/messages.jsonl): the real address"
cat "$demo/inbox/messages.jsonl"

echo
echo "== 3. Tokens in the model's context (o200k_base)"
"$python" examples/demo/direct.py "$demo/direct.json"
count() { "$airlock" tokens "$1" | awk 'NR == 1 { print $1 }'; }
code=$(count examples/demo/agent.py)
output=$(count "$demo/output.txt")
direct=$(count "$demo/direct.json")
printf '   code mode: %6d (the code the model wrote: %d, its printed output: %d)\n' $((code + output)) "$code" "$output"
printf '   direct:    %6d (both servers'"'"' tool definitions and the 10,000 records it would have read)\n' "$direct"
awk -v a=$((code + output)) -v d="$direct" 'BEGIN { printf "   code mode used %.2f%% of the tokens of direct tool calling\n", 100 * a / d }'
