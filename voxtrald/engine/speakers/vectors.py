"""Voice vectors between numpy (the worker) and their packed form (wire and store)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np

from voxtrald.transcripts.voices import Voice


def pack(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode("ascii")


def unpack(voices: Sequence[Voice]) -> np.ndarray:
    """(n, 256) float32 unit rows; a row that is not finite becomes zeros (no vote)."""
    if not voices:
        return np.zeros((0, 256), np.float32)
    rows = np.stack([np.frombuffer(base64.b64decode(v.packed), dtype="<f2") for v in voices])
    rows = np.nan_to_num(rows.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-9)
