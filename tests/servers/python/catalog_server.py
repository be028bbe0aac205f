"""The "catalog" MCP server: 500 tools of a made-up enterprise suite (stdio transport).

It stands for a big tool catalog: what loading every tool definition costs a model, and
what a tool search engine has to find in. Written with the low-level server of the
official MCP Python SDK 2.x and run with the interpreter of tests/servers/.venv:

    tests/servers/.venv/bin/python tests/servers/python/catalog_server.py
    tests/servers/.venv/bin/python tests/servers/python/catalog_server.py --list-json

`--list-json` prints the tool list (name, description, inputSchema) as JSON and exits.

20 services (drive, docs, sheets, calendar, mail, chat, forms, crm, marketing, billing,
tickets, hr, inventory, shipping, repo, ci, monitoring, projects, analytics, wiki), 15 to
35 tools each, in the package beside this file (catalog/). The list is the same on every
run (seeded randomness only), and every tool answers with deterministic JSON derived
from its arguments, both as `structuredContent` and as JSON text. Arguments are checked
against the tool's input schema; a bad call gets a result with `isError`.

Tools that benchmark scenarios rely on:
- `crm_list_deals`: up to 10,000 deals in one call (`limit` up to 10000, `offset`), 8
  fields per row (id, name, owner, stage, amount, currency, region, updated_at); filters
  stage, owner, region, min_amount, updated_after.
- `docs_get_document`: a ~50 KB meeting transcript (in `content`) for any `document_id`.
- `docs_create_document` (`content`) and `crm_add_note` (`body`): take a long text and
  answer with a short confirmation carrying `bytes_received`.
- `tickets_get_ticket`: one ticket by numeric `ticket_id` (1 to 99999), suited to being
  called in a loop; other ids give an error result.

No network; nothing but the protocol is written to stdout.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import anyio  # noqa: E402
import mcp_types as types  # noqa: E402

from catalog import ToolCallError, call, definitions  # noqa: E402
from mcp.server.context import ServerRequestContext  # noqa: E402
from mcp.server.lowlevel import Server  # noqa: E402
from mcp.server.stdio import stdio_server  # noqa: E402

TOOLS = [types.Tool(name=d["name"], description=d["description"], input_schema=d["inputSchema"]) for d in definitions()]
SCHEMAS = {d["name"]: d["inputSchema"] for d in definitions()}


async def list_tools(ctx: ServerRequestContext, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


async def call_tool(ctx: ServerRequestContext, params: types.CallToolRequestParams) -> types.CallToolResult:
    try:
        result = call(params.name, params.arguments)
    except ToolCallError as err:
        return types.CallToolResult(content=[types.TextContent(type="text", text=str(err))], is_error=True)
    text = json.dumps(result, ensure_ascii=False)
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=result)


server = Server(
    "catalog",
    version="1.0.0",
    instructions="A large enterprise tool catalog (500 tools in 20 services) with deterministic made-up data.",
    get_tool_input_schema=SCHEMAS.get,
    on_list_tools=list_tools,
    on_call_tool=call_tool,
)


async def main() -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


if __name__ == "__main__":
    if "--list-json" in sys.argv[1:]:
        json.dump(definitions(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        anyio.run(main)
