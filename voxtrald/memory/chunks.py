"""Memory-driven choices that need no I/O: chunk length, and whether a model fits.

Shorter chunks hold less decoded audio and fewer decoder states at once, so
the engine asks before each chunk; a model that does not fit waits rather than
pushing the machine into swap.
"""

from __future__ import annotations

from typing import Protocol

from voxtrald.memory.figures import MiB


class ChunkSettings(Protocol):
    chunk_seconds_low: float
    chunk_seconds_mid: float
    chunk_seconds_high: float
    chunk_low_below_gb: float
    chunk_mid_below_gb: float


def choose_chunk_seconds(available_bytes: int | None, engine_cfg: ChunkSettings) -> float:
    """Chunk length for the memory available now; unknown memory gets the middle value.

    The thresholds live in the engine's chunking module (one rule, one place);
    this is the config-shaped door to it. Imported late: chunking brings numpy,
    which the daemon's memory monitor has no use for.
    """
    from voxtrald import chunking

    return chunking.choose_chunk_seconds(
        available_bytes,
        engine_cfg.chunk_seconds_low,
        engine_cfg.chunk_seconds_mid,
        engine_cfg.chunk_seconds_high,
        engine_cfg.chunk_low_below_gb,
        engine_cfg.chunk_mid_below_gb,
    )


def model_need_bytes(model_bytes: int, factor: float, margin_mb: float) -> int:
    """Estimated memory to load and run a model: its files times a measured factor, plus a margin.

    int8 weights expand when loaded, and decoding adds buffers; the factor is
    measured by benchmarks/bench_memory.py.
    """
    return int(model_bytes * factor + margin_mb * MiB)


def model_fits(available: int | None, model_bytes: int | None, factor: float, margin_mb: float
               ) -> bool:
    """Unknown figures never hold a job: a wait must rest on a real reading."""
    if available is None or not model_bytes:
        return True
    return available >= model_need_bytes(model_bytes, factor, margin_mb)
