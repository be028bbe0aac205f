"""What the agent's code must not reach. The real boundary is the host: the
WASI context gives no network, no environment and no folder but the
workspace. This only makes the refusals clear ("not available in the
sandbox" rather than a PermissionError deep in a socket call)."""

import importlib.abc
import os
import sys

BLOCKED = frozenset(
    """socket _socket ssl _ssl select selectors subprocess _posixsubprocess
    ctypes _ctypes multiprocessing _multiprocessing concurrent
    urllib.request http.client http.server ftplib smtplib imaplib poplib
    socketserver xmlrpc webbrowser pty fcntl termios mmap resource signal
    _signal asyncio.subprocess""".split()
)


def blocked(name):
    """Whether `name` or a package above it is blocked."""
    parts = name.split(".")
    return any(".".join(parts[: i + 1]) in BLOCKED for i in range(len(parts)))


class Blocker(importlib.abc.MetaPathFinder):
    """Refuses the modules that reach outside the sandbox."""

    def find_spec(self, fullname, path=None, target=None):
        if blocked(fullname):
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: not available in Airlock's sandbox "
                "(no network, processes, signals or native code)",
                name=fullname,
            )
        return None


def seal():
    """Run once at build time, after everything the guest needs is imported."""
    sys.meta_path.insert(0, Blocker())
    for name in list(sys.modules):
        if blocked(name):
            del sys.modules[name]
    for name in ("system", "popen", "fork", "forkpty", "execv", "execve", "spawnv", "kill", "killpg"):
        if hasattr(os, name):
            delattr(os, name)
    # What componentize-py's build environment held; the agent sees none.
    os.environ.clear()
    sys.argv = ["main.py"]
    # Nothing is importable from files at run time anyway.
    sys.path.clear()
