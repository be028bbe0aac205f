"""The `airlock` module agent code imports: `ToolError`, `search_tools`,
`save_skill`, `run_skill`."""

import json

from componentize_py_types import Err
from wit_world.imports import components as host_components
from wit_world.imports import skills as host_skills
from wit_world.imports import tools as host_tools

from .errors import ToolError, tool_error_kind

_DETAILS = {
    "name": host_tools.Detail.NAME,
    "description": host_tools.Detail.DESCRIPTION,
    "full": host_tools.Detail.FULL,
}


def search_tools(query, detail="description", limit=10):
    """The `limit` tools of every server that best match `query`, best
    first, as dicts: name (`server.tool`), server, tool, score, and with
    `detail` "description" or "full" a one-line description, with "full"
    the Python signature too; "needs" lists the ids it requires that
    another tool of its server gives (found beside it when the limit
    allows), "gives" the ids it gives to other results. Not a tool call:
    no limit counts it."""
    if not isinstance(query, str):
        raise TypeError("search_tools(query, detail, limit): query must be a str")
    if detail not in _DETAILS:
        raise ValueError("search_tools: detail is 'name', 'description' or 'full'")
    limit = int(limit)
    if limit < 1:
        raise ValueError("search_tools: limit must be a positive integer")
    found = []
    for tool in host_tools.find(query, _DETAILS[detail], min(limit, 1000)):
        match = tool.found
        item = {"name": f"{match.server}.{match.tool}", "server": match.server, "tool": match.tool, "score": match.score}
        if match.description is not None:
            item["description"] = match.description
        if match.declaration is not None:
            item["declaration"] = match.declaration
        if tool.needs:
            item["needs"] = list(tool.needs)
        if tool.gives:
            item["gives"] = list(tool.gives)
        found.append(item)
    return found


def save_skill(name, description, code, *, language="python", replace=False, session=False):
    """Saves `code` as the skill `name`, importable later (`from
    skills.<name> import ...`, with `-` as `_`); returns {"name", "tools"}
    (the tools it calls). With `session=True` only this session sees it."""
    for field, value in (("name", name), ("description", description), ("code", code)):
        if not isinstance(value, str):
            raise TypeError(f"save_skill: {field} must be a str")
    try:
        tools = host_skills.save(name, description, code, str(language), bool(replace), bool(session))
    except Err as error:
        raise ValueError(f"save_skill: {error.value}") from None
    return {"name": name, "tools": list(tools)}


def run_skill(name, input=None):
    """Runs the component skill `name` with `input` (any JSON value) in an
    instance of its own, under what is left of this execution's budget, and
    returns its output."""
    if not isinstance(name, str):
        raise TypeError("run_skill(name, input): name must be a str")
    try:
        output = host_components.run(name, json.dumps(input))
    except Err as error:
        raise RuntimeError(f"skill {name!r}: {error.value}") from None
    return json.loads(output)


# `await search_tools(...)` works too, as if they were coroutines.
for _function in (search_tools, save_skill, run_skill):
    _function._airlock_awaitable = True

EXPORTS = {
    "ToolError": ToolError,
    "tool_error_kind": tool_error_kind,
    "search_tools": search_tools,
    "save_skill": save_skill,
    "run_skill": run_skill,
}
