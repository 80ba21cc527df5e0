"""GET /api/system/memory on the control API."""

from __future__ import annotations

from voxtrald.api.router import Request, Router
from voxtrald.bodies import MemoryReport
from voxtrald.memory.sampler import MemoryMonitor

_TRUE = ("1", "true", "yes", "on")


def register_routes(router: Router, monitor: MemoryMonitor) -> None:
    def system_memory(request: Request) -> MemoryReport:
        # The walk over all processes costs; only on request (?top=1).
        include_top = request.query.get("top", "").lower() in _TRUE
        return monitor.snapshot(include_top=include_top)

    router.add("GET", "/api/system/memory", system_memory)
