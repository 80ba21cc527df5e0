"""MemoryMonitor: the background thread that samples memory and announces level changes.

It never acts on a running job (memory warnings are advice, not brakes); it
emits one event per level change, one reminder per `reminder_minutes` while
critical, and tells listeners so the daemon can end an idle worker. A reading
that fails keeps the last good one, logs one line, and the thread carries on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from voxtrald.bodies import MemoryReport, MemorySummary, Thresholds
from voxtrald.config import MemoryConfig
from voxtrald.events import EventLog, utc_now_iso
from voxtrald.memory import messages, report
from voxtrald.memory.chunks import model_fits, model_need_bytes
from voxtrald.memory.figures import BadReading, ProcessMemory, SystemReading, TopProcess
from voxtrald.memory.levels import CRITICAL, NORMAL, next_level
from voxtrald.memory.process import ProcessReader, top_processes
from voxtrald.memory.reading import read_system
from voxtrald.memory.trend import Trend
from voxtrald.states import MEMORY_EVENTS, MemoryLevel

log = logging.getLogger("voxtrald.memory")

# How close below the warning threshold sampling turns fast (earlyoom's adaptive poll).
FAST_BAND_PERCENT = 10.0
FAST_INTERVAL_SECONDS = 1.0

Listener = Callable[[str, str], None]


def interval_for(percent: float | None, cfg: MemoryConfig) -> float:
    """Seconds to the next sample: quick near the thresholds, relaxed far from them."""
    if percent is not None and percent >= cfg.warning_percent - FAST_BAND_PERCENT:
        return min(FAST_INTERVAL_SECONDS, cfg.interval_seconds)
    return cfg.interval_seconds


def reminder_due(level: str, last_emit: float | None, now: float, reminder_minutes: float) -> bool:
    return level == CRITICAL and last_emit is not None and now - last_emit >= reminder_minutes * 60


class MemoryMonitor:
    def __init__(
        self,
        cfg: MemoryConfig,
        events: EventLog,
        worker_pid: Callable[[], int | None],
        *,
        reader: Callable[[], SystemReading] = read_system,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cfg = cfg
        self._events = events
        self._worker_pid = worker_pid
        self._reader = reader
        self._clock = clock
        self._procs = ProcessReader()
        self._lock = threading.Lock()
        self._level = NORMAL
        self._reading: SystemReading | None = None
        self._sampled_at: str | None = None
        self._own: ProcessMemory | None = None
        self._worker: ProcessMemory | None = None
        self._top: list[TopProcess] = []
        self._trend = Trend()
        self._last_critical_emit: float | None = None
        self._problems: dict[str, str] = {}
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="memory-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def add_listener(self, fn: Listener) -> None:
        """fn(old_level, new_level), called from the sampler thread on each change."""
        with self._lock:
            self._listeners.append(fn)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception as exc:  # the sampler must outlive any surprise
                self._problem("sampler", f"memory sample failed: {exc!r}")
            self._stop.wait(self.current_interval())

    # -- sampling -----------------------------------------------------------

    def current_interval(self) -> float:
        with self._lock:
            percent = self._reading.percent if self._reading else None
        return interval_for(percent, self.cfg)

    def _problem(self, source: str, text: str | None) -> None:
        """Log a problem once when it appears or changes, and once when it clears."""
        before = self._problems.get(source)
        if text == before:
            return
        if text is None:
            self._problems.pop(source, None)
            log.info("memory %s readings are back", source)
        else:
            self._problems[source] = text
            log.warning("%s", text)

    def _read_system(self) -> SystemReading | None:
        try:
            reading = self._reader()
        except (BadReading, OSError, ValueError) as exc:
            self._problem("system", f"memory reading failed, keeping the last one: {exc}")
            return None
        self._problem("system", None)
        self._problem("cgroup", "; ".join(reading.notes) or None)
        return reading

    def _read_processes(self) -> tuple[ProcessMemory | None, ProcessMemory | None]:
        try:
            own = self._procs.own()
            self._problem("process", None)
        except BadReading as exc:
            own = None
            self._problem("process", str(exc))
        try:
            pid = self._worker_pid()
        except Exception as exc:
            pid = None
            self._problem("worker", f"cannot tell the worker's pid: {exc!r}")
        worker = self._procs.worker(pid)
        if pid is not None and worker is None:
            self._problem("worker", f"worker pid {pid} is gone; no worker figures")
        elif "worker" in self._problems:
            self._problem("worker", None)
        return own, worker

    def sample_once(self) -> str:
        """Take one reading, update the level, emit what is due; returns the level."""
        now = self._clock()
        reading = self._read_system()
        own, worker = self._read_processes()
        with self._lock:
            if reading is not None:
                self._reading = reading
                self._sampled_at = utc_now_iso()
                self._trend.add(now, reading.used)
            self._own, self._worker = own, worker
            old = self._level
            new = next_level(
                old,
                reading.percent if reading else None,
                self.cfg.warning_percent,
                self.cfg.critical_percent,
                self.cfg.hysteresis_percent,
            )
            self._level = new
            listeners = list(self._listeners)
        if reading is None:
            return new
        if new != old:
            self._announce(new, old, reading, worker, reminder=False, now=now)
            for fn in listeners:
                try:
                    fn(old, new)
                except Exception:
                    log.exception("memory level listener failed")
        elif reminder_due(new, self._last_critical_emit, now, self.cfg.reminder_minutes):
            self._announce(new, old, reading, worker, reminder=True, now=now)
        return new

    def _announce(
        self,
        level: MemoryLevel,
        previous: MemoryLevel,
        reading: SystemReading,
        worker: ProcessMemory | None,
        reminder: bool,
        now: float,
    ) -> None:
        top = self._top_safely() if level != NORMAL else []
        if level == NORMAL:
            text = messages.back_to_normal_message(reading.percent, reading.available)
        else:
            text = messages.level_message(
                level, reading.percent, reading.available,
                worker.rss if worker else None, top, reading.limit,
            )
        with self._lock:
            self._top = top
        self._last_critical_emit = now if level == CRITICAL else None
        data = report.event_json(level, previous, reading, worker, text, reminder, top)
        self._events.emit(MEMORY_EVENTS[MemoryLevel(level)], **data)
        log.log(
            logging.INFO if level == NORMAL else logging.WARNING,
            "memory %s%s: %s", level, " (reminder)" if reminder else "", text,
        )

    def _top_safely(self) -> list[TopProcess]:
        try:
            return top_processes()
        except Exception as exc:
            self._problem("top", f"cannot list processes: {exc!r}")
            return []

    # -- what others read -----------------------------------------------------

    @property
    def level(self) -> str:
        with self._lock:
            return self._level

    def _message(self) -> str:
        with self._lock:
            level, reading, worker, top = self._level, self._reading, self._worker, self._top
        if reading is None:
            return messages.level_message(level, None, None)
        return messages.level_message(
            level, reading.percent, reading.available,
            worker.rss if worker else None, top if level != NORMAL else (), reading.limit,
        )

    def summary(self) -> MemorySummary:
        """The memory part of /api/status: small, cheap, no fresh reading."""
        message = self._message()
        with self._lock:
            reading, level = self._reading, self._level
        return MemorySummary(
            level=str(level),
            percent=round(reading.percent, 1) if reading else None,
            available_gb=round(reading.available / 1024**3, 2) if reading else None,
            message=message,
            limit=reading.limit if reading else None,
        )

    def snapshot(self, include_top: bool = False) -> MemoryReport:
        """GET /api/system/memory: the last sample in full (top processes read on request)."""
        message = self._message()
        with self._lock:
            reading, level = self._reading, self._level
            own, worker = self._own, self._worker
            sampled_at = self._sampled_at
            critical_used = reading.total * self.cfg.critical_percent / 100 if reading else 0
            trend = self._trend.report(reading.used if reading else 0, critical_used)
            problems = sorted(self._problems.values())
        if reading is None:
            # Not sampled yet (or never readable): show a fresh look without judging it.
            try:
                reading = self._reader()
                own = self._procs.own()
            except (BadReading, OSError, ValueError):
                pass
        total = reading.total if reading else None
        return MemoryReport(
            level=str(level),
            system=report.system_json(reading, level),
            process=report.process_json(own, worker, total),
            worker=report.worker_json(worker, total),
            swap=report.swap_json(reading),
            limit=reading.limit if reading else None,
            psi=report.psi_json(reading),
            trend=trend,
            top_processes=report.top_json(self._top_safely()) if include_top else None,
            message=message,
            thresholds=Thresholds(
                warning_percent=self.cfg.warning_percent,
                critical_percent=self.cfg.critical_percent,
                hysteresis_percent=self.cfg.hysteresis_percent,
            ),
            interval_seconds=interval_for(reading.percent if reading else None, self.cfg),
            sampled_at=sampled_at,
            problems=problems,
        )

    def hold_reason(self, model_bytes: int | None, worker_loaded: bool) -> str | None:
        """Why a NEW job should wait now, in words for /api/status; None when it may start."""
        with self._lock:
            level = self._level
            percent = self._reading.percent if self._reading else None
            last_available = self._reading.available if self._reading else None
        if self.cfg.pause_new_jobs_at_critical and level == CRITICAL:
            clear_below = self.cfg.critical_percent - self.cfg.hysteresis_percent
            return messages.hold_for_critical(percent, clear_below)
        if worker_loaded or not model_bytes:
            return None
        try:
            available: int | None = self._reader().available
        except (BadReading, OSError, ValueError):
            available = last_available
        factor, margin = self.cfg.model_memory_factor, self.cfg.model_memory_margin_mb
        if available is not None and not model_fits(available, model_bytes, factor, margin):
            return messages.hold_for_model(model_need_bytes(model_bytes, factor, margin), available)
        return None
