"""Whether a JSON body is exactly what voxtrald.bodies declares, at every depth.

The type checker holds the daemon's builders to the declarations; the tests' stand-in
daemon and the bodies the real routes answer with are checked here, at run time: a
key missing or extra anywhere, or a value of another type, is named with its path.
"""

from __future__ import annotations

import types
import typing
from typing import Any, get_args, get_origin, get_type_hints, is_typeddict

_SCALARS: dict[Any, tuple[type, ...]] = {str: (str,), bool: (bool,), int: (int,),
                                         float: (int, float)}


def mismatches(kind: Any, value: Any, where: str = "body") -> list[str]:
    """What in `value` differs from the declaration `kind` (a body or a type in one)."""
    if kind is Any:
        return []
    if get_origin(kind) in (typing.Union, types.UnionType):
        options = get_args(kind)
        if value is None:
            return [] if type(None) in options else [f"{where} is null"]
        found = [mismatches(k, value, where) for k in options if k is not type(None)]
        return [] if any(not f for f in found) else found[0]
    if is_typeddict(kind):
        if not isinstance(value, dict):
            return [f"{where} is {type(value).__name__}, not a {kind.__name__}"]
        hints = get_type_hints(kind)
        optional = getattr(kind, "__optional_keys__", frozenset())
        out = [f"{where} lacks {key!r}" for key in hints
               if key not in value and key not in optional]
        out += [f"{where} has {key!r}, which {kind.__name__} does not declare"
                for key in value if key not in hints]
        for key, hint in hints.items():
            if key in value:
                out += mismatches(hint, value[key], f"{where}[{key!r}]")
        return out
    origin = get_origin(kind)
    if origin in (list, dict):
        if not isinstance(value, origin):
            return [f"{where} is {type(value).__name__}, not a {origin.__name__}"]
        item = get_args(kind)[-1]
        pairs = enumerate(value) if origin is list else value.items()
        return [m for k, v in pairs for m in mismatches(item, v, f"{where}[{k!r}]")]
    wanted = _SCALARS[kind]
    if isinstance(value, bool) and bool not in wanted:
        return [f"{where} is a bool, not {kind.__name__}"]
    return [] if isinstance(value, wanted) else [
        f"{where} is {type(value).__name__}, not {kind.__name__}"]


def keys_of(kind: Any) -> set[str]:
    return set(get_type_hints(kind))
