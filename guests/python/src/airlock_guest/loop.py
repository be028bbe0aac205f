"""The event loop: a real asyncio loop whose idle point sends the queued
tool calls to the host as one `call-batch`.

asyncio's `BaseEventLoop` waits for I/O in its selector's `select`; here
that wait means "every task has run as far as it can", which is exactly
when the calls they queued should go out together. `asyncio.run` and
`asyncio.new_event_loop` make this loop.
"""

import asyncio
import inspect
import sys
import time

from componentize_py_types import Err
from wit_world.imports import tools as host_tools
from wit_world.imports import types as host_types

from .calls import Tool, decode_result, encode_arguments, flush_output
from .errors import ToolError


class _Idle:
    """Stands in for the selector of `AirlockLoop`."""

    def __init__(self, loop):
        self.loop = loop

    def select(self, timeout):
        loop = self.loop
        if timeout == 0:
            # Callbacks are ready: let every task queue its calls first.
            return []
        if loop.queued:
            loop.send_queued()
            return []
        if timeout is None:
            raise RuntimeError("deadlock: the code awaits something that nothing will ever complete")
        time.sleep(timeout)
        return []

    def close(self):
        pass


class AirlockLoop(asyncio.BaseEventLoop):
    """An event loop that batches queued tool calls."""

    def __init__(self):
        super().__init__()
        self._selector = _Idle(self)
        # (host tool-call, future, tool) per queued call.
        self.queued = []

    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass

    def queue(self, tool, args, kwargs):
        """A future for a call of `tool`, sent with the next batch."""
        arguments = encode_arguments(tool.label, args, kwargs)
        future = self.create_future()
        self.queued.append((host_types.ToolCall(tool.server, tool.tool, arguments), future, tool))
        return future

    def send_queued(self):
        calls, self.queued = self.queued, []
        live = [(call, future, tool) for call, future, tool in calls if not future.cancelled()]
        if not live:
            return
        flush_output()
        if len(live) == 1:
            call = live[0][0]
            try:
                outcomes = [host_tools.call(call.server, call.tool, call.arguments)]
            except Err as error:
                outcomes = [error]
        else:
            outcomes = host_tools.call_batch([call for call, _, _ in live])
        for (_, future, tool), outcome in zip(live, outcomes):
            if future.cancelled():
                continue
            if isinstance(outcome, Err):
                future.set_exception(ToolError.from_host(outcome.value, tool.server, tool.tool))
                continue
            text = outcome.value if hasattr(outcome, "value") else outcome
            try:
                future.set_result(decode_result(tool.label, text))
            except ValueError as error:
                future.set_exception(error)

    def unsent(self):
        """Tools whose queued calls were never awaited."""
        return [tool for _, future, tool in self.queued if not future.cancelled()]


async def _awaiting(future):
    return await future


def acall(function, /, *args, **kwargs):
    """What an awaited call, or a call handed to asyncio.gather and its kin,
    becomes after the source rewrite (`rewrite.py`): a tool call under a
    running `AirlockLoop` joins the next batch; anything else is called as
    written."""
    if type(function) is Tool:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Not in a coroutine: an ordinary call.
            return function(*args, **kwargs)
        if isinstance(loop, AirlockLoop):
            # A coroutine, as an `async def` tool would give, so that
            # create_task takes it too.
            return _awaiting(loop.queue(function, args, kwargs))
        return function(*args, **kwargs)
    result = function(*args, **kwargs)
    if getattr(function, "_airlock_awaitable", False):
        # `await search_tools(...)`: a plain function written as if async.
        future = asyncio.get_running_loop().create_future()
        future.set_result(result)
        return future
    return result


_real_gather = asyncio.gather


def _gather(*aws, return_exceptions=False):
    """asyncio.gather that also takes values already computed (a tool
    called without await in a list), as finished futures."""
    if all(inspect.isawaitable(a) for a in aws):
        return _real_gather(*aws, return_exceptions=return_exceptions)
    loop = asyncio.get_running_loop()
    items = []
    for a in aws:
        if inspect.isawaitable(a):
            items.append(a)
        else:
            done = loop.create_future()
            done.set_result(a)
            items.append(done)
    return _real_gather(*items, return_exceptions=return_exceptions)


def install():
    """Makes asyncio create `AirlockLoop`s and take plain values in gather."""
    asyncio.events.new_event_loop = AirlockLoop
    asyncio.new_event_loop = AirlockLoop
    asyncio.gather = _gather
    asyncio.tasks.gather = _gather


def close(loop):
    """Ends `loop`: warns about tool calls queued but never awaited, and
    cancels the tasks still pending."""
    for tool in loop.unsent():
        print(f"RuntimeWarning: tool call {tool.label} was never awaited", file=sys.stderr)
    loop.queued.clear()
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(_real_gather(*pending, return_exceptions=True))
    loop.close()
