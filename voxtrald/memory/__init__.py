"""Memory: readings (host, cgroup, processes), levels with hysteresis, the sampler, the route.

The engine worker imports only `read_system` and the chunk rule (`chunk_seconds`);
the daemon wires `MemoryMonitor` and `register_routes`.
"""

from voxtrald.memory.chunks import ChunkSizing, chunk_seconds, model_fits, model_need_bytes
from voxtrald.memory.reading import available_bytes, read_system

__all__ = [
    "ChunkSizing",
    "MemoryMonitor",
    "available_bytes",
    "chunk_seconds",
    "model_fits",
    "model_need_bytes",
    "read_system",
    "register_routes",
]


def __getattr__(name: str) -> object:
    # The worker subprocess needs neither the thread nor the API; loading them lazily
    # keeps its imports to what it uses.
    if name == "MemoryMonitor":
        from voxtrald.memory.sampler import MemoryMonitor

        return MemoryMonitor
    if name == "register_routes":
        from voxtrald.memory.routes import register_routes

        return register_routes
    raise AttributeError(name)
