"""Memory-driven choices that need no I/O: chunk length, and whether a model fits.

Shorter chunks hold less decoded audio and fewer decoder states at once, so
the engine asks before each chunk; a model that does not fit waits rather than
pushing the machine into swap. The chunk rule is declared here once, with its
one settings type, and kept free of numpy so the daemon can import it.
"""

from __future__ import annotations

from typing import Protocol

from voxtrald.memory.figures import GiB, MiB
from voxtrald.states import MemoryLevel


class ChunkSizing(Protocol):
    """The chunk settings, declared (with their defaults) once: the config's [engine] keys.

    Chunk lengths by free memory: `chunk_seconds_low` under `chunk_low_below_gb`,
    `chunk_seconds_mid` under `chunk_mid_below_gb`, else `chunk_seconds_high`.
    """

    chunk_seconds_low: float
    chunk_seconds_mid: float
    chunk_seconds_high: float
    chunk_low_below_gb: float
    chunk_mid_below_gb: float


def chunk_seconds(available_bytes: int | None, level: MemoryLevel | str,
                  sizing: ChunkSizing) -> float:
    """Chunk length for the memory available now.

    Unknown memory gets the middle length; critical memory the shortest
    whatever the figure says. A batch never spans chunks, so the default
    lengths (2 to 4 windows of 30 s) also bound the batch a chunk can fill.
    """
    if level == MemoryLevel.CRITICAL:
        return sizing.chunk_seconds_low
    if available_bytes is None:
        return sizing.chunk_seconds_mid
    if available_bytes < sizing.chunk_low_below_gb * GiB:
        return sizing.chunk_seconds_low
    if available_bytes < sizing.chunk_mid_below_gb * GiB:
        return sizing.chunk_seconds_mid
    return sizing.chunk_seconds_high


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
