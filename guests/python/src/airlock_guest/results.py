"""What an execution hands back: its value as JSON, or its exception as a
`guest-error` whose traceback shows the agent's own frames."""

import collections
import dataclasses
import datetime
import decimal
import fractions
import math
import traceback
import uuid

from wit_world.imports import types as host_types

SCRIPT = "main.py"


def jsonable(value, depth=0):
    """`value` as JSON can hold it: tuples and sets as lists, dates,
    decimals and UUIDs as strings, dataclasses as objects, NaN as null,
    anything else as its repr."""
    if depth > 100:
        return repr(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, collections.deque)):
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID, fractions.Fraction)):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value), depth + 1)
    return repr(value)


def _agent_frame(frame):
    return frame.filename == SCRIPT or frame.filename.startswith("skills/")


def _trim(exception):
    """Keeps the agent's frames and what they called, not the guest's own
    (the runner, the import machinery, asyncio's internals)."""
    frames = list(exception.stack)
    agent = [i for i, frame in enumerate(frames) if _agent_frame(frame)]
    if agent:
        kept = frames[agent[0] : agent[-1] + 1] + [
            frame
            for frame in frames[agent[-1] + 1 :]
            if "airlock_guest" not in frame.filename and not frame.filename.startswith("<frozen")
        ]
        frames = [frame for frame in kept if _agent_frame(frame) or "/asyncio/" not in frame.filename]
    exception.stack = traceback.StackSummary.from_list(frames)
    for chained in (exception.__cause__, exception.__context__):
        if chained is not None:
            _trim(chained)


def guest_error(error):
    """The `guest-error` for an exception the agent's code let through."""
    if isinstance(error, SyntaxError):
        stack = "".join(traceback.format_exception_only(type(error), error))
        return host_types.GuestError(type(error).__name__, error.msg or str(error), stack)
    summary = traceback.TracebackException(type(error), error, error.__traceback__)
    _trim(summary)
    return host_types.GuestError(type(error).__name__, str(error), "".join(summary.format()))
