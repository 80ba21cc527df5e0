"""A voice window: 1.6 s of speech and its speaker embedding, timed against the file.

The worker computes them per chunk; they travel with the chunk to the daemon
and into the chunk checkpoints, and a resumed attempt hands them back to the
worker, so the speakers of a whole file are found over all of its windows,
the same after a crash as in one run. The daemon never looks inside a
vector (it imports no numpy): it is kept as 256 little-endian float16 values
in base64, 684 characters instead of about 2,500 as JSON numbers; 2 hours
of speech make about 9,000 windows, about 7 MB.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from typing import Any

DIMENSIONS = 256
PACKED_BYTES = DIMENSIONS * 2


@dataclass(frozen=True)
class Voice:
    start: float
    end: float
    packed: str  # base64 of 256 float16 values, unit length

    @property
    def centre(self) -> float:
        return (self.start + self.end) / 2

    def to_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "v": self.packed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Voice:
        """A window from the wire or the store; a malformed one is a ValueError."""
        packed = str(data["v"])
        try:
            raw = base64.b64decode(packed, validate=True)
        except binascii.Error as exc:
            raise ValueError("a voice vector must be base64") from exc
        if len(raw) != PACKED_BYTES:
            raise ValueError("a voice vector must hold 256 float16 values")
        start, end = float(data["start"]), float(data["end"])
        if not (math.isfinite(start) and math.isfinite(end)) or end < start or start < 0:
            raise ValueError("a voice window must end after it starts")
        return cls(start, end, packed)


def voices_from_list(items: Any) -> tuple[Voice, ...]:
    """Windows from a JSON list, the malformed ones left out (they only cost a guess)."""
    out: list[Voice] = []
    for item in items if isinstance(items, list) else ():
        try:
            out.append(Voice.from_dict(item))
        except (ValueError, KeyError, TypeError):
            continue
    return tuple(out)
