"""JSON text for files a user reads, that can always be written.

`json.dumps` alone fails on a NaN (it writes `NaN`, which is not JSON) and
lets through a file name that is not valid UTF-8 (Python keeps its bytes as
lone surrogates, which then cannot be encoded). Here a figure that is not a
finite number becomes null, such a name is shown with U+FFFD where its bad
bytes were, and any other object is written as its text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def dumps(value: Any, indent: int | None = 2) -> str:
    return json.dumps(clean(value), ensure_ascii=False, indent=indent, allow_nan=False,
                      default=lambda obj: clean(str(obj)))


def clean(value: Any) -> Any:
    if isinstance(value, str):
        return readable(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {readable(str(k)): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def readable(text: str) -> str:
    """`text` as valid Unicode: undecodable bytes of a file name become U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text
