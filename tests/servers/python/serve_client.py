"""A real MCP client (the official Python SDK) driving `airlock serve` over stdio.

    serve_client.py AIRLOCK_BINARY CONFIG_FILE

Starts `AIRLOCK_BINARY serve --config CONFIG_FILE`, initialises, lists the tools and
calls them through a fixed scenario, then prints one JSON object with what came back,
for host/tests/serve.rs to check. Exits non-zero if the session itself fails.
"""

from __future__ import annotations

import json
import sys

import anyio

from mcp import ClientSession, StdioServerParameters, stdio_client


def text_of(result) -> str:
    return "".join(block.text for block in result.content if getattr(block, "type", "") == "text")


async def main(binary: str, config: str) -> None:
    params = StdioServerParameters(command=binary, args=["serve", "--config", config])
    out: dict = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["server_name"] = init.server_info.name
            tools = await session.list_tools()
            out["tools"] = sorted(tool.name for tool in tools.tools)
            out["execute_description"] = next(t.description for t in tools.tools if t.name == "execute_code")

            async def run(code: str, **extra) -> dict:
                result = await session.call_tool("execute_code", {"code": code, **extra})
                return {"text": text_of(result), "is_error": bool(result.is_error), "structured": result.structured_content}

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
    print(json.dumps(out))


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2])
