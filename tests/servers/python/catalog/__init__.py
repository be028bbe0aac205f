"""The catalog: 500 tools of 20 made-up enterprise services, with deterministic answers.

`TOOLS` holds them in a fixed order; `call(name, arguments)` answers one call (raising
`ToolCallError` for an unknown tool or arguments that do not fit the tool's schema).
"""

from __future__ import annotations

from typing import Any

import jsonschema

from . import data
from .schema import ToolDef
from .services_comms import calendar, chat, forms, mail
from .services_eng import ci, monitoring, repo
from .services_files import docs, drive, sheets
from .services_ops import hr, inventory, shipping, tickets
from .services_sales import billing, crm, marketing
from .services_work import analytics, projects, wiki

EXPECTED_TOOLS = 500
BUILDERS = [drive, docs, sheets, calendar, mail, chat, forms, crm, marketing, billing,
            tickets, hr, inventory, shipping, repo, ci, monitoring, projects, analytics, wiki]
SERVICES = [build() for build in BUILDERS]
TOOLS: list[ToolDef] = [tool for service in SERVICES for tool in service.tools]
BY_NAME = {tool.name: tool for tool in TOOLS}

if len(TOOLS) != EXPECTED_TOOLS or len(BY_NAME) != len(TOOLS):
    counts = ", ".join(f"{s.key} {len(s.tools)}" for s in SERVICES)
    raise RuntimeError(f"catalog has {len(TOOLS)} tools ({len(BY_NAME)} distinct names), expected {EXPECTED_TOOLS}: {counts}")


class ToolCallError(Exception):
    """A call the catalog refuses: unknown tool, invalid arguments, unknown object."""


def definitions() -> list[dict]:
    return [tool.definition() for tool in TOOLS]


def call(name: str, arguments: dict | None) -> Any:
    tool = BY_NAME.get(name)
    if tool is None:
        raise ToolCallError(f"unknown tool: {name}")
    args = dict(arguments or {})
    try:
        jsonschema.validate(args, tool.schema, format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "arguments"
        raise ToolCallError(f"invalid arguments for {name} ({where}): {err.message}") from None
    try:
        return tool.handler(args) if tool.handler else data.answer(tool, args)
    except ValueError as err:
        raise ToolCallError(str(err)) from None
