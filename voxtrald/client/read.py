"""Reading the daemon's answers back into the bodies it declares (voxtrald.bodies).

A client may talk to an older or a newer daemon than itself, so the reader is
tolerant, and it is the only place that is: `read(bodies.Status, raw)` gives a
whole `bodies.Status` whatever came. A key that is missing, or holds a value
of another type, gets a neutral value (None where the declaration allows it,
else an empty string, zero, False, an empty list, or a body read from nothing);
a key the declaration does not name is dropped; an item of a list that does
not fit is left out. Keys declared as not required stay absent when absent.

The reader follows the declarations themselves, so there is one parser per
body and it reads exactly the keys the daemon builds: callers then write
`body["key"]`, checked by the type checker, instead of guessing at the JSON.
"""

from __future__ import annotations

import functools
import math
import types
import typing
from typing import Any, TypeVar, cast, get_args, get_origin, get_type_hints, is_typeddict

T = TypeVar("T")

_MISSING: Any = object()
_ZERO: dict[Any, Any] = {str: "", int: 0, float: 0.0, bool: False}


def read(kind: type[T], raw: object) -> T:
    """`raw` (a decoded JSON answer) as the body `kind` declares; see the module's rules."""
    return cast(T, _body(kind, raw))


@functools.cache
def _keys(kind: type) -> tuple[dict[str, Any], frozenset[str]]:
    hints = get_type_hints(kind)
    optional = frozenset(getattr(kind, "__optional_keys__", ()))
    return hints, optional


def _body(kind: type, raw: object) -> dict[str, Any]:
    if not is_typeddict(kind):
        raise TypeError(f"{kind!r} is not a declared body")
    data = raw if isinstance(raw, dict) else {}
    hints, optional = _keys(kind)
    out: dict[str, Any] = {}
    for key, hint in hints.items():
        value = _value(hint, data[key]) if key in data else _MISSING
        if value is _MISSING:
            if key in optional:
                continue
            value = _neutral(hint)
        out[key] = value
    return out


def _is_union(hint: Any) -> bool:
    return get_origin(hint) in (typing.Union, types.UnionType)


def _value(hint: Any, value: Any) -> Any:
    """`value` as `hint` has it, or _MISSING when it does not fit."""
    if hint is Any:
        return value
    if _is_union(hint):
        if value is None:
            return None if type(None) in get_args(hint) else _MISSING
        for arg in get_args(hint):
            if arg is not type(None) and (got := _value(arg, value)) is not _MISSING:
                return got
        return _MISSING
    if is_typeddict(hint):
        return _body(hint, value) if isinstance(value, dict) else _MISSING
    origin = get_origin(hint)
    if origin is list:
        if not isinstance(value, list):
            return _MISSING
        (item,) = get_args(hint)
        return [got for v in value if (got := _value(item, v)) is not _MISSING]
    if origin is dict:
        if not isinstance(value, dict):
            return _MISSING
        _, item = get_args(hint)
        return {k: got for k, v in value.items()
                if isinstance(k, str) and (got := _value(item, v)) is not _MISSING}
    return _scalar(hint, value)


def _scalar(hint: Any, value: Any) -> Any:
    if hint is bool or isinstance(value, bool):  # JSON's true is no number here
        return value if hint is bool and isinstance(value, bool) else _MISSING
    if hint is str:
        return value if isinstance(value, str) else _MISSING
    if hint is int:
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        return value if isinstance(value, int) else _MISSING
    if hint is float:
        return float(value) if isinstance(value, int | float) else _MISSING
    raise TypeError(f"no reader for a key declared as {hint!r}")


def _neutral(hint: Any) -> Any:
    """The value of a key that came missing or unusable."""
    if hint is Any or (_is_union(hint) and type(None) in get_args(hint)):
        return None
    if _is_union(hint):
        return _neutral(get_args(hint)[0])
    if is_typeddict(hint):
        return _body(hint, {})
    origin = get_origin(hint)
    if origin is list:
        return []
    if origin is dict:
        return {}
    if hint in _ZERO:
        return _ZERO[hint]
    raise TypeError(f"no neutral value for a key declared as {hint!r}")
