"""Every module of the ``asgard`` package imported once, by the main thread, as a test
session starts.

pytest rewrites the asserts of the package that registers its plugin (``asgard``, for
``asgard.testing``), which means parsing each module's source with ``ast`` when it is
first imported. Asgard imports some modules lazily, in functions that may run in a
thread (``asyncio.to_thread``); CPython 3.11 keeps the state of that parsing in one place
for every thread, so a first import in a thread while the main thread imports another
module can fail with "SystemError: AST constructor recursion depth mismatch" (CI run 15;
cpython gh-106905). Imported here first, no module is parsed again later, in any thread."""

from __future__ import annotations

import importlib
import pkgutil

import asgard

__all__ = ["import_every_module"]


def import_every_module() -> int:
    """How many modules were imported (``asgard.__main__`` is the command itself)."""
    names = [
        info.name
        for info in pkgutil.walk_packages(asgard.__path__, prefix="asgard.")
        if info.name != "asgard.__main__"
    ]
    for name in names:
        importlib.import_module(name)
    return len(names)
