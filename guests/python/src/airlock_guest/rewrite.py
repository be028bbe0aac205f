"""Compiling agent code: the source rewrite that lets awaited tool calls
batch, the last expression kept as the execution's value, top-level await.

`await crm.get(id=1)` and the calls handed to `asyncio.gather` (and
`create_task`, `wait_for`, ...) become `__airlock_acall__(crm.get, id=1)`,
which queues a tool call instead of making it (see `loop.acall`). Nothing
else changes, so line numbers stay the agent's own.
"""

import ast
import inspect
import linecache
import re

from . import loop

ACALL = "__airlock_acall__"

_ASYNC_TAKERS = {"gather", "create_task", "ensure_future", "wait_for", "shield", "wait", "as_completed"}
# Only source that mentions one of these needs the rewrite: walking the
# tree in Python costs more than parsing it.
_NEEDS_REWRITE = re.compile(r"\b(?:await|" + "|".join(sorted(_ASYNC_TAKERS)) + r")\b")


class _Rewrite(ast.NodeTransformer):
    def _mark(self, node):
        """`f(args)` -> `__airlock_acall__(f, args)`, in the same place."""
        if isinstance(node, ast.Call):
            marked = ast.Call(
                func=ast.copy_location(ast.Name(ACALL, ast.Load()), node),
                args=[node.func, *node.args],
                keywords=node.keywords,
            )
            return ast.copy_location(marked, node)
        if isinstance(node, ast.Starred):
            node.value = self._mark(node.value)
        elif isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            node.elt = self._mark(node.elt)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            node.elts = [self._mark(element) for element in node.elts]
        return node

    def visit_Await(self, node):
        self.generic_visit(node)
        node.value = self._mark(node.value)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        function = node.func
        if isinstance(function, ast.Attribute):
            name = function.attr
        elif isinstance(function, ast.Name):
            name = function.id
        else:
            name = None
        if name in _ASYNC_TAKERS:
            node.args = [self._mark(argument) for argument in node.args]
        return node


def prepare(source, filename, value_name=None):
    """Parses and rewrites `source` (known as `filename` in tracebacks);
    with `value_name`, its last statement, when an expression, is assigned
    to that name."""
    tree = ast.parse(source, filename)
    if _NEEDS_REWRITE.search(source):
        tree = _Rewrite().visit(tree)
    if value_name and tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        target = ast.copy_location(ast.Name(value_name, ast.Store()), last)
        tree.body[-1] = ast.copy_location(ast.Assign(targets=[target], value=last.value), last)
    # Tracebacks quote the agent's lines from here.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return compile(tree, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)


def run(code, namespace):
    """Runs compiled code in `namespace`; code with top-level `await` runs
    on an `AirlockLoop`."""
    namespace.setdefault(ACALL, loop.acall)
    if code.co_flags & inspect.CO_COROUTINE:
        event_loop = loop.AirlockLoop()
        try:
            event_loop.run_until_complete(eval(code, namespace))
        finally:
            loop.close(event_loop)
    else:
        exec(code, namespace)
