"""The control API's listener: `socketserver` with a connection cap, on a socket of our own.

`ThreadingMixIn` alone would start a thread per connection without limit:
here a connection over the cap waits briefly for a slot, then gets 503, so a
flood cannot starve the daemon of threads or descriptors, and the accept loop
never waits for a slot. A peer of another uid is refused even if the socket's
permissions were loosened. Without Unix sockets (or when asked) the API
listens on loopback TCP instead, guarded by a token in a 0600 file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import secrets
import socket
import socketserver
import threading
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from voxtrald import _platform
from voxtrald.api import endpoint
from voxtrald.api.errors import BUSY, INTERNAL_ERROR, STOPPING, ApiError
from voxtrald.api.handler import Handler, encode_response
from voxtrald.api.linger import Lingerer
from voxtrald.api.listen import (
    AlreadyRunning,
    ApiServerError,
    claim,
    prepare_dir,
    replace_stale,
)
from voxtrald.api.router import Request, Router
from voxtrald.config import ApiConfig
from voxtrald.files.locks import LockFile

log = logging.getLogger("voxtrald.api")

__all__ = ["AlreadyRunning", "ApiServer", "ApiServerError"]

# How long a connection over the cap may wait for a free slot before 503.
QUEUE_WAIT_SECONDS = 2.0
# At most this many connections wait for a slot; any more get 503 at once.
MAX_WAITING = 256
# An idle handler thread waits this long for the next connection, then ends.
IDLE_HANDLER_SECONDS = 30.0
# How often the accept loop looks for a stop request on its own.
POLL_SECONDS = 5.0


class _Pool:
    """Threads that serve one connection after another.

    Starting a thread costs about as much as answering /api/status, so a poll
    reuses an idle one; idle ones end after a while, so a burst leaves none.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._idle = 0
        self._closed = False
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._jobs.put(job)
                return
        threading.Thread(target=self._run, args=(job,), name="api-conn", daemon=True).start()

    def _run(self, job: Callable[[], None] | None) -> None:
        while job is not None:
            job()
            with self._lock:
                if self._closed:
                    return
                self._idle += 1
            try:
                job = self._jobs.get(timeout=IDLE_HANDLER_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._idle:  # nobody counted on this thread: end it
                        self._idle -= 1
                        return
                job = self._jobs.get()  # a job was promised to an idle thread meanwhile

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._jobs.put(None)


_LINGER: list[Lingerer] = []
_LINGER_LOCK = threading.Lock()


def _refuse(sock: socket.socket, err: ApiError) -> None:
    """Answer without a handler thread, never blocking the caller; the client reads it
    before the connection ends (see linger). The lingerer (a socket pair and a thread)
    is made at the first refusal, not at import."""
    with _LINGER_LOCK:
        if not _LINGER:
            _LINGER.append(Lingerer())
    _LINGER[0].refuse(sock, encode_response(err.status, err.body(), close=True))


class _Serving(socketserver.ThreadingMixIn, socketserver.BaseServer):
    """The connection cap, the thread pool and what the handler asks of its server."""

    request_queue_size = 1024  # a burst of clients must not be turned away by the backlog
    cfg: ApiConfig
    token: str | None

    def configure(self, router: Router, cfg: ApiConfig, token: str | None) -> None:
        self.router, self.cfg, self.token = router, cfg, token
        self.stopping = threading.Event()
        self._slots = threading.Semaphore(cfg.max_connections)
        self._waiting = 0  # connections waiting for a slot
        self._active: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._pool = _Pool()
        self._uid = _platform.current_uid()

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.stopping.is_set():
            request.close()
            return
        # A newcomer takes a free slot only when nobody waits for one before it.
        has_slot = not self._waiting and self._slots.acquire(blocking=False)
        if not has_slot:
            with self._lock:
                admitted = self._waiting < MAX_WAITING
                self._waiting += admitted
            if not admitted:
                _refuse(request, BUSY)
                return
        try:
            self._pool.submit(partial(self._serve, request, client_address, has_slot))
        except RuntimeError:  # no thread to be had
            self._give_back(has_slot)
            _refuse(request, BUSY)

    def _serve(self, request: socket.socket, client_address: Any, has_slot: bool) -> None:
        if not has_slot:
            has_slot = self._slots.acquire(timeout=QUEUE_WAIT_SECONDS)
            self._give_back(False)
            if not has_slot or self.stopping.is_set():
                _refuse(request, STOPPING if self.stopping.is_set() else BUSY)
                self._give_back(has_slot)
                return
        with self._lock:
            self._active.add(request)
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._active.discard(request)
            self._slots.release()

    def _give_back(self, slot: bool) -> None:
        """Return a slot, or leave the queue of those waiting for one."""
        if slot:
            self._slots.release()
            return
        with self._lock:
            self._waiting -= 1

    def end_connections(self) -> None:
        """At stop: waiting connections get 503, open ones are cut, idle threads end."""
        self._slots.release(MAX_WAITING)
        with self._lock:
            active = list(self._active)
        for sock in active:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._pool.close()

    # -- what the handler asks (handler.Host) ---------------------------

    def dispatch(self, method: str, path: str, query: dict[str, str], body: bytes,
                 headers: dict[str, str], client_gone: Callable[[], bool]
                 ) -> tuple[int, Mapping[str, Any]]:
        request = Request(method, path, query, body, headers=headers, client_gone=client_gone)
        try:
            return self.router.dispatch(request)
        except ApiError as err:
            return err.status, err.body()
        except Exception:
            log.exception("control API handler failed: %s %s", method, path)
            return INTERNAL_ERROR.status, INTERNAL_ERROR.body()

    def peer_refused(self, sock: socket.socket) -> bool:
        if self.token is not None or self._uid is None:
            return False
        uid = _platform.peer_uid(sock)
        return uid is not None and uid != self._uid

    def make_room(self) -> bool:
        """Whether an idle kept-alive connection should give its slot up now."""
        return self._waiting > 0 or self.stopping.is_set()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("control API connection failed")

    def shutdown_request(self, request: Any) -> None:
        # No shutdown() first, as socketserver does for sockets with makefile()
        # readers still open: nothing holds this one, so close() ends it.
        self.close_request(request)


class _TcpServer(_Serving, socketserver.ThreadingTCPServer):
    pass


if hasattr(socketserver, "ThreadingUnixStreamServer"):
    class _UnixServer(_Serving, socketserver.ThreadingUnixStreamServer):
        def server_bind(self) -> None:
            super().server_bind()
            # Before listen(): until then nobody can connect, so no one slips in.
            os.chmod(self.socket.getsockname(), 0o600)


class ApiServer:
    def __init__(self, socket_path: Path, router: Router, cfg: ApiConfig) -> None:
        self.socket_path = Path(socket_path)
        self.router = router
        self.cfg = cfg
        self.tcp: endpoint.TcpEndpoint | None = None
        self._lock = LockFile(self.socket_path.with_name(self.socket_path.name + ".lock"))
        self._server: _Serving | None = None
        self._thread: threading.Thread | None = None
        self._inode: int | None = None

    def start(self) -> None:
        prepare_dir(self.socket_path.parent)
        claim(self._lock, self.socket_path)
        try:
            if self.cfg.transport == "tcp" or not hasattr(socket, "AF_UNIX"):
                server = self._listen_tcp()
            else:
                server = self._listen_unix()
        except BaseException:
            self._lock.release()
            raise
        server.configure(self.router, self.cfg, self.tcp.token if self.tcp else None)
        self._server = server
        # stop() wakes the loop itself; the poll is only a fallback, so it is rare.
        self._thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,),
                                        name="api-accept", daemon=True)
        self._thread.start()
        where = f"127.0.0.1:{self.tcp.port}" if self.tcp else str(self.socket_path)
        log.info("control API listening on %s", where)

    def alive(self) -> bool:
        """Still accepting connections (for the service watchdog)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None or server.stopping.is_set():
            return
        server.stopping.set()
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        while stopper.is_alive() and thread.is_alive():
            self._poke(server)  # wake the accept loop now rather than at its next poll
            stopper.join(0.05)
        server.server_close()
        server.end_connections()
        self._remove_own_files()
        self._lock.release()

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _poke(server: _Serving) -> None:
        address = server.server_address
        family = socket.AF_INET if isinstance(address, tuple) else socket.AF_UNIX
        with contextlib.suppress(OSError), socket.socket(family) as s:
            s.settimeout(0.2)
            s.connect(address)

    def _listen_unix(self) -> _Serving:
        path = self.socket_path
        if len(os.fsencode(path)) > _platform.MAX_SOCKET_PATH:
            raise ApiServerError(f"socket path is too long for the OS: {path}; use a shorter one")
        replace_stale(path)
        try:
            server = _UnixServer(os.fspath(path), Handler)
        except OSError as exc:
            raise ApiServerError(f"cannot listen on {path}: {exc.strerror or exc}") from exc
        self._inode = path.stat().st_ino
        return server

    def _listen_tcp(self) -> _Serving:
        try:
            server = _TcpServer(("127.0.0.1", 0), Handler)
        except OSError as exc:
            raise ApiServerError(f"cannot listen on 127.0.0.1: {exc.strerror or exc}") from exc
        self.tcp = endpoint.TcpEndpoint("127.0.0.1", server.server_address[1],
                                        secrets.token_urlsafe(32))
        try:
            endpoint.write_tcp_endpoint(self.socket_path, self.tcp)
        except OSError as exc:
            server.server_close()
            raise ApiServerError(f"cannot write {endpoint.endpoint_file(self.socket_path)}: "
                                 f"{exc.strerror or exc}") from exc
        return server

    def _remove_own_files(self) -> None:
        if self.tcp is not None:
            endpoint.endpoint_file(self.socket_path).unlink(missing_ok=True)
            return
        try:
            if self.socket_path.stat().st_ino == self._inode:
                self.socket_path.unlink()
        except OSError:
            pass
