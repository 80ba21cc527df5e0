"""A voice window: 1.6 s of speech and its speaker embedding, timed against the file.

The worker computes them per chunk; they travel with the chunk to the daemon
and into the chunk checkpoints, so the speakers of a whole file are found
over all of its windows at the end, the same after a resume as in one run.
On the wire and in the store a vector is 256 float16 values in base64
(684 characters instead of about 2,500 as JSON numbers): 2 hours of speech
make about 9,000 windows, about 7 MB.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np

DIMENSIONS = 256


@dataclass(frozen=True, eq=False)
class Voice:
    start: float
    end: float
    vector: np.ndarray  # (256,) float32, unit length

    @property
    def centre(self) -> float:
        return (self.start + self.end) / 2

    def to_dict(self) -> dict[str, Any]:
        packed = np.asarray(self.vector, dtype="<f2").tobytes()
        return {"start": round(self.start, 3), "end": round(self.end, 3),
                "v": base64.b64encode(packed).decode("ascii")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Voice:
        """A window from the wire or the store; a malformed one is a ValueError."""
        raw = base64.b64decode(str(data["v"]), validate=True)
        vector = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        if vector.size != DIMENSIONS or not np.all(np.isfinite(vector)):
            raise ValueError("a voice vector must hold 256 finite values")
        start, end = float(data["start"]), float(data["end"])
        if not (np.isfinite(start) and np.isfinite(end)) or end < start:
            raise ValueError("a voice window must end after it starts")
        return cls(start, end, vector)


def voices_from_list(items: Any) -> tuple[Voice, ...]:
    """Windows from a JSON list, the malformed ones left out (they only cost a guess)."""
    out: list[Voice] = []
    for item in items if isinstance(items, list) else ():
        try:
            out.append(Voice.from_dict(item))
        except (ValueError, KeyError, TypeError):
            continue
    return tuple(out)
