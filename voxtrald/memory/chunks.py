"""Memory-driven choices that need no I/O: chunk length, and whether a model fits.

Shorter chunks hold less decoded audio and fewer decoder states at once, so
the engine asks before each chunk; a model that does not fit waits rather than
pushing the machine into swap. The chunk rule is declared here once, with its
one settings type, and kept free of numpy so the daemon can import it.
"""

from __future__ import annotations

from dataclasses import dataclass

from voxtrald.memory.figures import GiB, MiB
from voxtrald.schema import MemoryLevel


@dataclass(frozen=True)
class ChunkSizing:
    """Chunk lengths by free memory: `low_s` under `low_below_gb`, `mid_s` under `mid_below_gb`."""

    low_s: float = 60.0
    mid_s: float = 90.0
    high_s: float = 120.0
    low_below_gb: float = 4.0
    mid_below_gb: float = 8.0


def chunk_seconds(
    available_bytes: int | None,
    level: MemoryLevel | str = MemoryLevel.NORMAL,
    sizing: ChunkSizing = ChunkSizing(),  # frozen: one shared default is safe
) -> float:
    """Chunk length for the memory available now.

    Unknown memory gets the middle length; critical memory the shortest
    whatever the figure says. A batch never spans chunks, so the default
    lengths (2 to 4 windows of 30 s) also bound the batch a chunk can fill.
    """
    if level == MemoryLevel.CRITICAL:
        return sizing.low_s
    if available_bytes is None:
        return sizing.mid_s
    if available_bytes < sizing.low_below_gb * GiB:
        return sizing.low_s
    if available_bytes < sizing.mid_below_gb * GiB:
        return sizing.mid_s
    return sizing.high_s


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
