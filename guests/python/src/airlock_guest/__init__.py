"""Airlock's CPython guest: runs the Python code an agent wrote.

componentize-py imports `airlock_guest.app` at build time and snapshots the
started interpreter, so everything done at import time here (the standard
library, the import hooks, the event loop class, a warm-up run) costs
nothing per execution. Each execution runs in a fresh instance of that
snapshot: `WitWorld.run(code)` is called once.
"""
