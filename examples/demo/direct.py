"""What the same task costs with direct tool calling: the model reads every
tool definition of both servers and the whole `list_records` result.

Uses the official MCP Python SDK as any agent framework would, writes what
the model would have read to the file given as argument, and prints nothing
else: `airlock tokens` counts it.

    tests/servers/.venv/bin/python examples/demo/direct.py OUT.json
"""

import json
import sys

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client

PYTHON = "tests/servers/.venv/bin/python"
SERVERS = {"records": "tests/servers/python/records_server.py", "customers": "tests/servers/python/customers_server.py"}


async def main(out: str) -> None:
    seen = []
    for name, script in SERVERS.items():
        params = StdioServerParameters(command=PYTHON, args=[script], env={"CUSTOMERS_INBOX": "target/demo/direct-inbox"})
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                seen.append([tool.model_dump(mode="json", exclude_none=True) for tool in tools.tools])
                if name == "records":
                    result = await session.call_tool("list_records", {"limit": 10000})
                    seen.append([block.model_dump(mode="json", exclude_none=True) for block in result.content])
    with open(out, "w", encoding="utf-8") as file:
        json.dump(seen, file, ensure_ascii=False)


anyio.run(main, sys.argv[1])
