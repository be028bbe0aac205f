"""The component's export: `run(code)`, and the build-time set-up that
componentize-py snapshots."""

import builtins
import gc
import importlib
import json
import sys

import wit_world
from componentize_py_types import Err

from . import stdlib  # noqa: F401  (the standard library, in the snapshot)
from . import imports, loop, results, rewrite, sandbox
from .errors import ToolError

# The value of the program's last expression is kept under this name.
VALUE = "__airlock_value__"

# Deeper Python recursion raises a catchable RecursionError; the host gives
# the guest enough wasm stack for C code to reach it first.
RECURSION_LIMIT = 1000


def _namespace():
    return {
        "__name__": "__main__",
        "__builtins__": builtins,
        "__file__": results.SCRIPT,
        "ToolError": ToolError,
        "servers": sys.modules["servers"],
    }


class WitWorld(wit_world.WitWorld):
    def run(self, code: str) -> str:
        # The runtime sets argv from WASI's (empty) arguments on each call.
        sys.argv = [results.SCRIPT]
        namespace = _namespace()
        try:
            rewrite.run(rewrite.prepare(code, results.SCRIPT, VALUE), namespace)
            value = namespace.get(VALUE)
            return "null" if value is None else json.dumps(results.jsonable(value), ensure_ascii=False)
        except SystemExit as exit:
            if exit.code in (None, 0):
                return "null"
            raise Err(results.guest_error(exit))
        except BaseException as error:
            # Anything else escaping an export would trap the instance.
            raise Err(results.guest_error(error))
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass


def _warm_up():
    """Runs what every execution runs once, so that lazily built state
    (compiled regexes, the event loop's machinery, traceback formatting) is
    in the snapshot rather than paid per execution."""
    code = (
        "import asyncio, json, statistics\n"
        "rows = [{'id': i, 'ok': i % 2 == 0} for i in range(64)]\n"
        "picked = sorted((r for r in rows if r['ok']), key=lambda r: -r['id'])\n"
        "async def f():\n    await asyncio.sleep(0)\n    return 1\n"
        "asyncio.run(f())\n"
        "'%s %d' % ('x', statistics.mean([1, 2])) + json.dumps(picked[:2])\n"
    )
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    rewrite.run(rewrite.prepare(code, results.SCRIPT, VALUE), namespace)
    json.dumps(results.jsonable(namespace[VALUE]))
    try:
        exec(compile("def g():\n    raise ValueError('x')\ng()\n", results.SCRIPT, "exec"), {})
    except ValueError as error:
        results.guest_error(error)


loop.install()
sys.meta_path.insert(0, imports.Finder())
_warm_up()
# Made now, so that no execution pays the import machinery for them; they
# ask the host nothing until an attribute is read.
importlib.import_module("servers")
importlib.import_module("airlock")
importlib.import_module("skills")
imports.reset()
sandbox.seal()
sys.setrecursionlimit(RECURSION_LIMIT)
gc.collect()
gc.freeze()
