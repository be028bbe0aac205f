#!/usr/bin/env bash
# The client side of the MCP conformance suite: `conformance client --command
# "bash tests/conformance/client.sh"` appends the URL of its test server.
# Connects Airlock's upstream client (through `airlock run`) to that URL,
# lists the tools and calls `add_numbers` when the server offers it.
# $AIRLOCK is the airlock binary.
set -euo pipefail
url="${*: -1}"
config="$(mktemp)"
trap 'rm -f "$config"' EXIT
printf '{"mcpServers": {"suite": {"url": "%s"}}}' "$url" > "$config"
"${AIRLOCK:?set AIRLOCK to the airlock binary}" run --config "$config" - <<'JS'
import * as suite from "./servers/suite";
if (suite.addNumbers) console.log(await suite.addNumbers({ a: 2, b: 3 }));
else console.log(Object.keys(suite).sort().join(","));
JS
