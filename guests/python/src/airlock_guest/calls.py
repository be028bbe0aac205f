"""Tool calls: a server's tools as Python callables.

A plain call is synchronous: it asks the host and returns the parsed
result. An awaited call, or one handed to `asyncio.gather` and its kin,
joins a queue instead; the event loop sends the queued calls to the host as
one batch, which runs them concurrently (see `loop.py`).
"""

import dataclasses
import datetime
import decimal
import json
import sys
import uuid

from componentize_py_types import Err
from wit_world.imports import tools as host_tools

from .errors import ToolError


def _json_default(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_arguments(label, args, kwargs):
    """The arguments as the JSON object the host expects: keyword
    arguments, or one dict of them."""
    if len(args) > 1 or (args and not isinstance(args[0], dict)):
        raise TypeError(f"{label}() takes keyword arguments or one dict of them")
    arguments = dict(args[0]) if args else {}
    arguments.update(kwargs)
    for key in arguments:
        if not isinstance(key, str):
            raise TypeError(f"{label}(): argument names must be str, not {type(key).__name__}")
    try:
        return json.dumps(arguments, default=_json_default, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{label}(): {error}") from None


def decode_result(label, text):
    """A tool's result, parsed (the host always sends valid JSON)."""
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValueError(f"{label}: the tool's result cannot be read: {error}") from None


def flush_output():
    """Output printed before a tool call reaches the host before the call
    does, so it is in order with what the call's side effects show."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


class Tool:
    """One tool of one server. Calling it calls the tool."""

    __slots__ = ("server", "tool", "label")

    def __init__(self, server, tool, label):
        self.server = server
        self.tool = tool
        self.label = label

    def __repr__(self):
        return f"<tool {self.label}>"

    def __call__(self, *args, **kwargs):
        arguments = encode_arguments(self.label, args, kwargs)
        flush_output()
        try:
            text = host_tools.call(self.server, self.tool, arguments)
        except Err as error:
            raise ToolError.from_host(error.value, self.server, self.tool) from None
        return decode_result(self.label, text)
