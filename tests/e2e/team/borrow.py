"""Borrowing a test module's store tests, to run them again on another store."""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any


def borrowed(module: ModuleType) -> dict[str, Any]:
    """The tests of `module` that need only a `store` (and their parametrized arguments)."""
    found = {}
    for name, fn in vars(module).items():
        if not (name.startswith("test_") and callable(fn)):
            continue
        params = list(inspect.signature(fn).parameters)
        marked = {arg.strip() for mark in getattr(fn, "pytestmark", [])
                  if mark.name == "parametrize"
                  for arg in (mark.args[0].split(",") if isinstance(mark.args[0], str)
                              else mark.args[0])}
        if params and params[0] == "store" and set(params[1:]) <= marked:
            found[name] = fn
    return found
