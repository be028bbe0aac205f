"""Import hooks: `servers` (one module per server, one callable per tool),
`airlock`, and `skills` (saved Python skills and component skills).

`from servers import crm`, `import servers.crm as crm` and `from
servers.crm import list_customers` all work; a name that is not a server or
tool raises the usual ImportError or AttributeError, with the names meant.
"""

import difflib
import importlib
import importlib.abc
import importlib.machinery
import keyword
import types

from componentize_py_types import Err
from wit_world.imports import modules as host_modules
from wit_world.imports import tools as host_tools
from wit_world.imports import tree as host_tree

from . import api, rewrite
from .calls import Tool
from .errors import ToolError


def python_name(name):
    """An MCP (or skill) name as a Python identifier: characters other than
    ASCII letters, digits and `_` become `_`, a keyword gets a trailing
    `_` (the host's declarations use the same rule)."""
    if name.isascii() and name.isidentifier() and not keyword.iskeyword(name):
        return name
    out = "".join(c if (c.isascii() and c.isalnum()) or c == "_" else "_" for c in name)
    if not out or out[0].isdigit():
        out = "_" + out
    if keyword.iskeyword(out):
        out += "_"
    return out


def _named(names):
    """{Python name: original name}: a name that is an identifier keeps it,
    the others get `python_name`, numbered from 2 when taken (`list-items`
    beside `list_items` is `list_items2`), in the order listed. The host
    names them in its declarations by the same rule."""
    table = {name: name for name in names if python_name(name) == name}
    for name in names:
        if python_name(name) == name:
            continue
        base = candidate = python_name(name)
        number = 2
        while candidate in table:
            candidate = f"{base}{number}"
            number += 1
        table[candidate] = name
    return table


def _suggest(name, names):
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    close += [n for n in names if name.lower() in n.lower() or n.lower() in name.lower()]
    close = list(dict.fromkeys(close))[:3]
    return f"did you mean {', '.join(close)}? " if close else ""


def _folder(path):
    """The names in a folder of the host's tree, or none."""
    try:
        node = host_tree.lookup(path)
    except Err:
        return []
    return node.value if isinstance(node, host_tree.Node_Folder) else []


_server_table = None


def servers():
    """{Python name: server name}, listed once per execution."""
    global _server_table
    if _server_table is None:
        _server_table = _named(_folder("/servers"))
    return _server_table


class _Servers(types.ModuleType):
    """The `servers` package: its attributes are the servers."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return importlib.import_module(f"servers.{name}")

    def __dir__(self):
        return sorted(servers())


# {module name: {Python name: tool name}}, outside the modules' own
# namespaces, where a tool may have any name (`_tools` too).
_tool_tables = {}


class _Server(types.ModuleType):
    """One server: its attributes are its tools."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        tools = _tool_tables.get(self.__name__, {})
        names = list(tools)
        available = f"its tools: {', '.join(names[:40])}" if names else "it offers no tools"
        server = self.__name__.split(".", 1)[1]
        raise AttributeError(f"server {server!r} has no tool {name!r}; {_suggest(name, names)}{available}")

    def __dir__(self):
        return list(_tool_tables.get(self.__name__, {}))


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        if spec.name == "servers":
            return _Servers(spec.name)
        if spec.name.startswith("servers."):
            return _Server(spec.name)
        return None

    def exec_module(self, module):
        name = module.__name__
        if name in ("servers", "skills"):
            module.__path__ = []
        elif name.startswith("servers."):
            self._server(module, name.split(".", 1)[1])
        elif name == "airlock":
            module.__dict__.update(api.EXPORTS)
            module.__all__ = list(api.EXPORTS)
        elif name.startswith("skills."):
            self._skill(module, name.split(".", 1)[1])

    def _server(self, module, pyname):
        server = servers().get(pyname)
        if server is None:
            names = list(servers())
            available = f"the servers: {', '.join(names)}" if names else "no servers are configured"
            raise ModuleNotFoundError(
                f"No module named 'servers.{pyname}'; {_suggest(pyname, names)}{available}", name=module.__name__
            )
        try:
            names = host_tools.tool_names(server)
        except Err as error:
            raise ToolError.from_host(error.value, server) from None
        tools = _named(names)
        _tool_tables[module.__name__] = tools
        module.__all__ = list(tools)
        for python, mcp in tools.items():
            setattr(module, python, Tool(server, mcp, f"{pyname}.{python}"))

    def _skill(self, module, pyname):
        skills = _named(_folder("/skills"))
        skill = skills.get(pyname)
        if skill is None:
            names = list(skills)
            raise ModuleNotFoundError(
                f"No module named 'skills.{pyname}'; {_suggest(pyname, names)}saved skills: {', '.join(names) or 'none'}",
                name=module.__name__,
            )
        try:
            found = host_modules.load(f"/skills/{skill}/index.py")
        except Err as error:
            raise ImportError(f"cannot import skills.{pyname}: {error.value}", name=module.__name__) from None
        filename = f"skills/{skill}/index.py"
        module.__file__ = filename
        rewrite.run(rewrite.prepare(found.source, filename), module.__dict__)


class Finder(importlib.abc.MetaPathFinder):
    """Finds `servers`, `servers.<x>`, `airlock`, `skills` and `skills.<x>`."""

    _loader = _Loader()

    def find_spec(self, fullname, path=None, target=None):
        top, _, rest = fullname.partition(".")
        if top not in ("servers", "airlock", "skills") or "." in rest or (top == "airlock" and rest):
            return None
        package = not rest and top != "airlock"
        return importlib.machinery.ModuleSpec(fullname, self._loader, is_package=package)


def reset():
    """Forgets what one execution listed (the snapshot must hold none)."""
    global _server_table
    _server_table = None
    _tool_tables.clear()
