"""The control API's listener: one owner-only socket, one thread per connection.

Safety comes from the file system first (a 0700 directory and a 0600 socket),
then from the kernel (SO_PEERCRED: a peer of another uid is refused even if
the permissions were loosened). One daemon per socket is enforced with a lock
file held for the daemon's lifetime, so a second start fails with a clear
message instead of stealing the socket, and a socket left by a crashed daemon
is replaced without asking. Connections are capped; a connection over the cap
waits briefly in a bounded queue, then gets 503, so a flood cannot starve the
daemon of threads or file descriptors. The accept loop itself never waits for
a slot: one waiting client must not delay the answer to the next.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import logging
import os
import queue
import secrets
import select
import socket
import stat
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from voxtrald.api import endpoint, http11
from voxtrald.api.router import ApiError, Request, Router
from voxtrald.config import ApiConfig

log = logging.getLogger("voxtrald.api")

# How long a connection over the cap may wait for a free slot before 503.
QUEUE_WAIT_SECONDS = 2.0
# At most this many connections wait for a slot; any more get 503 at once.
MAX_WAITING = 256
# A kept-alive connection with no new request for this long is closed quietly.
IDLE_KEEPALIVE_SECONDS = 5.0
# An idle kept-alive connection checks this often whether others wait for its slot.
_IDLE_CHECK_SECONDS = 0.25
# An idle handler thread waits this long for the next connection, then ends.
IDLE_HANDLER_SECONDS = 30.0
_DRAIN_SECONDS = 0.5
_DRAIN_BYTES = 256 * 1024
_INTERNAL_ERROR = {
    "error": {"code": "internal_error", "message": "internal error; the daemon log has the details"}
}
# sockaddr_un.sun_path, including the terminating NUL.
_SUN_PATH_MAX = 108 if sys.platform.startswith("linux") else 104


class ApiServerError(Exception):
    """The API cannot listen; the message is meant for the user."""


class AlreadyRunning(ApiServerError):
    """Another daemon holds the lock for this socket."""


def peer_uid(conn: socket.socket) -> int | None:
    """The uid of the process at the other end, where the OS tells us (Linux)."""
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None or conn.family != getattr(socket, "AF_UNIX", None):
        return None
    size = struct.calcsize("3i")
    try:
        _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, opt, size))
    except OSError:
        return None
    return uid


def _peer_gone(conn: socket.socket) -> Callable[[], bool]:
    """A check, for the connection's own thread, of whether the peer has hung up.

    A peek that finds end-of-file (or an error) means nobody will read the
    answer. A peer that only shut down its sending side looks the same, so a
    long-poll from such a client ends early with an empty, still valid answer.
    """

    def gone() -> bool:
        previous = conn.gettimeout()
        try:
            conn.setblocking(False)
            return conn.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            with contextlib.suppress(OSError):
                conn.settimeout(previous)

    return gone


class _Lock:
    """An exclusive lock on a file beside the socket, held until release()."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, what: Path) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ApiServerError(f"cannot open {self.path}: {exc.strerror or exc}") from exc
        try:
            if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            try:
                holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            except OSError:
                holder = "unknown"
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise AlreadyRunning(
                    f"another voxtrald (pid {holder}) is already serving {what}; "
                    "stop it first, or give this one its own --socket"
                ) from exc
            raise ApiServerError(f"cannot lock {self.path}: {exc.strerror or exc}") from exc
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        # The file stays: unlinking it would let two daemons lock two inodes.
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


class ApiServer:
    def __init__(self, socket_path: Path, router: Router, cfg: ApiConfig) -> None:
        self.socket_path = Path(socket_path)
        self.router = router
        self.cfg = cfg
        self.tcp: endpoint.TcpEndpoint | None = None
        self._lock = _Lock(self.socket_path.with_name(self.socket_path.name + ".lock"))
        self._listener: socket.socket | None = None
        self._inode: int | None = None
        # Free connection slots and the connections waiting for one (with the
        # time they give up), both guarded by _slot_lock: a slot is either free
        # or handed straight to the oldest waiter, never both.
        self._free_slots = cfg.max_connections
        self._waiting: deque[tuple[socket.socket, float]] = deque()
        self._slot_lock = threading.Lock()
        self._stopping = threading.Event()
        self._wake_r, self._wake_w = -1, -1
        self._accept_thread: threading.Thread | None = None
        self._active: set[socket.socket] = set()
        self._active_lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._idle_handlers = 0
        self._handoff: queue.SimpleQueue[socket.socket | None] = queue.SimpleQueue()
        self._uid = os.getuid() if hasattr(os, "getuid") else None

    # -- lifecycle -------------------------------------------------------

    def start(self) -> None:
        self._prepare_dir()
        self._lock.acquire(self.socket_path)
        try:
            if self.cfg.transport == "tcp" or not hasattr(socket, "AF_UNIX"):
                self._listener = self._bind_tcp()
            else:
                self._listener = self._bind_unix()
        except BaseException:
            self._lock.release()
            raise
        self._wake_r, self._wake_w = os.pipe()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name="api-accept", daemon=True
        )
        self._accept_thread.start()
        where = f"127.0.0.1:{self.tcp.port}" if self.tcp else str(self.socket_path)
        log.info("control API listening on %s", where)

    def alive(self) -> bool:
        """Still accepting connections (for the service watchdog)."""
        return self._accept_thread is not None and self._accept_thread.is_alive()

    def stop(self) -> None:
        if self._stopping.is_set() or self._listener is None:
            return
        self._stopping.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
        self._listener.close()
        with self._slot_lock:
            waiting = [conn for conn, _ in self._waiting]
            self._waiting.clear()
        for conn in waiting:
            self._refuse(conn, ApiError(503, "busy", "the daemon is stopping; try again"))
        with self._active_lock:
            for conn in list(self._active):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        with self._pool_lock:
            idle, self._idle_handlers = self._idle_handlers, 0
        for _ in range(idle):
            self._handoff.put(None)
        self._remove_own_files()
        self._lock.release()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _prepare_dir(self) -> None:
        folder = self.socket_path.parent
        if not folder.exists():
            try:
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(folder, 0o700)
            except OSError as exc:
                raise ApiServerError(
                    f"cannot create socket folder {folder}: {exc.strerror or exc}"
                ) from exc
            return
        st = folder.stat()
        if not stat.S_ISDIR(st.st_mode):
            raise ApiServerError(f"socket folder {folder} is not a folder")
        if self._uid is not None and st.st_uid not in (self._uid, 0):
            raise ApiServerError(
                f"socket folder {folder} belongs to another user (uid {st.st_uid}); "
                "choose another --socket"
            )

    def _bind_unix(self) -> socket.socket:
        path = self.socket_path
        if len(os.fsencode(path)) >= _SUN_PATH_MAX:
            raise ApiServerError(f"socket path is too long for the OS: {path}; use a shorter one")
        self._replace_stale(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(os.fspath(path))
            os.chmod(path, 0o600)
            sock.listen(min(socket.SOMAXCONN, 1024))
        except OSError as exc:
            sock.close()
            raise ApiServerError(f"cannot listen on {path}: {exc.strerror or exc}") from exc
        self._inode = path.stat().st_ino
        return sock

    def _replace_stale(self, path: Path) -> None:
        """Remove a socket a crashed daemon left; refuse anything that is not one."""
        try:
            st = path.lstat()
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise ApiServerError(f"{path} exists and is not a socket; remove it or pick another")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(1.0)
        try:
            probe.connect(os.fspath(path))
        except OSError:
            log.info("replacing stale socket %s", path)
            path.unlink(missing_ok=True)
            return
        finally:
            probe.close()
        raise AlreadyRunning(f"another process is already listening on {path}")

    def _bind_tcp(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            sock.listen(min(socket.SOMAXCONN, 1024))
        except OSError as exc:
            sock.close()
            raise ApiServerError(f"cannot listen on 127.0.0.1: {exc.strerror or exc}") from exc
        port = sock.getsockname()[1]
        self.tcp = endpoint.TcpEndpoint("127.0.0.1", port, secrets.token_urlsafe(32))
        endpoint.write_tcp_endpoint(self.socket_path, self.tcp)
        return sock

    def _remove_own_files(self) -> None:
        if self.tcp is not None:
            endpoint.endpoint_file(self.socket_path).unlink(missing_ok=True)
            return
        try:
            if self.socket_path.stat().st_ino == self._inode:
                self.socket_path.unlink()
        except OSError:
            pass

    # -- accepting -------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        listener = self._listener
        while not self._stopping.is_set():
            try:
                watched: list[socket.socket | int] = [listener, self._wake_r]
                ready, _, _ = select.select(watched, [], [], self._until_next_expiry())
            except (OSError, ValueError):
                return
            if self._wake_r in ready or self._stopping.is_set():
                return
            self._expire_waiting()
            if listener not in ready:
                continue
            try:
                conn, _addr = listener.accept()
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.warning("cannot accept a connection: %s", exc.strerror)
                    time.sleep(0.1)
                continue
            self._admit(conn)

    def _admit(self, conn: socket.socket) -> None:
        """Serve at once if a slot is free, else queue briefly; never block."""
        with self._slot_lock:
            admitted = self._free_slots > 0 and not self._waiting
            if admitted:
                self._free_slots -= 1
            elif len(self._waiting) < MAX_WAITING:
                self._waiting.append((conn, time.monotonic() + QUEUE_WAIT_SECONDS))
                return
        if admitted:
            self._start(conn)
        else:
            self._refuse(conn, ApiError(503, "busy", "too many connections; try again"))

    def _start(self, conn: socket.socket | None) -> None:
        """Hand a connection that holds a slot to a thread; on failure pass the slot on."""
        while conn is not None:
            try:
                self._hand_over(conn)
                return
            except RuntimeError:
                self._refuse(conn, ApiError(503, "busy", "cannot start a handler; try again"))
                conn = self._pass_slot_on()

    def _pass_slot_on(self) -> socket.socket | None:
        """Give a finished connection's slot to the oldest waiter, or free it."""
        with self._slot_lock:
            if self._waiting and not self._stopping.is_set():
                return self._waiting.popleft()[0]
            self._free_slots += 1
            return None

    def _until_next_expiry(self) -> float | None:
        with self._slot_lock:
            if not self._waiting:
                return None
            return max(0.0, self._waiting[0][1] - time.monotonic())

    def _expire_waiting(self) -> None:
        now = time.monotonic()
        expired: list[socket.socket] = []
        with self._slot_lock:
            # Deadlines grow with arrival, so the expired ones are at the front.
            while self._waiting and self._waiting[0][1] <= now:
                expired.append(self._waiting.popleft()[0])
        for conn in expired:
            self._refuse(conn, ApiError(503, "busy", "too many connections; try again"))

    def _hand_over(self, conn: socket.socket) -> None:
        """Give the connection to an idle handler thread, or start one.

        Reusing threads keeps a poll cheap (starting a thread costs about as
        much as answering /api/status); idle ones end after a while, so a
        burst does not leave dozens of threads behind.
        """
        with self._pool_lock:
            if self._idle_handlers > 0:
                self._idle_handlers -= 1
                self._handoff.put(conn)
                return
        threading.Thread(target=self._handler, args=(conn,), name="api-conn", daemon=True
                         ).start()

    def _handler(self, conn: socket.socket | None) -> None:
        while conn is not None:
            self._serve(conn)
            # The slot goes straight to a waiting connection when there is one,
            # which this thread then serves without a trip through the pool.
            conn = self._pass_slot_on()
            if conn is not None:
                continue
            with self._pool_lock:
                if self._stopping.is_set():
                    return
                self._idle_handlers += 1
            try:
                conn = self._handoff.get(timeout=IDLE_HANDLER_SECONDS)
            except queue.Empty:
                with self._pool_lock:
                    if self._idle_handlers > 0:  # nobody counted on this thread: end it
                        self._idle_handlers -= 1
                        return
                # A connection was promised to an idle thread meanwhile: take it.
                conn = self._handoff.get()

    def _refuse(self, conn: socket.socket, err: ApiError) -> None:
        try:
            conn.setblocking(False)
            conn.send(http11.error_response(err))
        except OSError:
            pass
        finally:
            conn.close()

    # -- one connection --------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        with self._active_lock:
            self._active.add(conn)
        try:
            self._serve_requests(conn)
        except Exception:
            log.exception("control API connection failed")
        finally:
            with self._active_lock:
                self._active.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _serve_requests(self, conn: socket.socket) -> None:
        if self._uid is not None and self.tcp is None:
            uid = peer_uid(conn)
            if uid is not None and uid != self._uid:
                log.warning("refused a control API connection from uid %s", uid)
                self._send_error_and_close(
                    conn, ApiError(403, "forbidden", "this daemon only answers its own user")
                )
                return
        reader = http11.Reader(conn)
        gone = _peer_gone(conn)
        served = 0
        while not self._stopping.is_set():
            idle = served > 0
            if idle and not reader.buf and not self._await_next_request(conn):
                return
            wait = IDLE_KEEPALIVE_SECONDS if idle else self.cfg.request_timeout_seconds
            try:
                head = reader.read_head(time.monotonic() + wait, idle=idle)
                if head is None:
                    return
                # The rest of the request gets the full per-request budget.
                deadline = time.monotonic() + self.cfg.request_timeout_seconds
                if self.tcp is not None:
                    self._check_token(head)
                length = reader.body_length(head, self.cfg.max_body_bytes)
                if length and len(reader.buf) < length and \
                        head.headers.get("expect", "").lower() == "100-continue":
                    self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
                body = reader.read_body(length, deadline)
                path, query = head.split_target()
            except ApiError as err:
                self._send_error_and_close(conn, err)
                return
            except http11.ClientGone:
                return
            request = Request(head.method, path, query, body, headers=head.headers,
                              client_gone=gone)
            status, payload = self._dispatch(request)
            keep = head.keep_alive and not self._stopping.is_set()
            try:
                data = http11.encode_response(status, payload, keep)
            except (TypeError, ValueError):
                log.exception("control API answer to %s %s is not JSON", head.method, path)
                data = http11.encode_response(500, _INTERNAL_ERROR, keep)
            if not self._send(conn, data):
                return
            served += 1
            if not keep:
                return

    def _await_next_request(self, conn: socket.socket) -> bool:
        """Wait for a kept-alive peer's next request; False to close the connection.

        An idle connection is the cheapest one to drop, so it gives its slot
        up as soon as another connection is queued for one, instead of holding
        it for the whole keep-alive period while the newcomer times out.
        HTTP lets a server close an idle persistent connection at any time.
        """
        deadline = time.monotonic() + IDLE_KEEPALIVE_SECONDS
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            # Reading the queue's length without the lock is fine: a stale
            # answer only delays the hand-over by one slice.
            if remaining <= 0 or self._waiting:
                return False
            try:
                conn.settimeout(min(_IDLE_CHECK_SECONDS, remaining))
                return conn.recv(1, socket.MSG_PEEK) != b""
            except TimeoutError:
                continue
            except OSError:
                return False
        return False

    def _check_token(self, head: http11.RequestHead) -> None:
        assert self.tcp is not None
        given = head.headers.get(endpoint.TOKEN_HEADER.lower(), "")
        if not hmac.compare_digest(given.encode(), self.tcp.token.encode()):
            raise ApiError(403, "forbidden", f"missing or wrong {endpoint.TOKEN_HEADER} header")

    def _dispatch(self, request: Request) -> tuple[int, dict]:
        started = time.perf_counter()
        try:
            status, payload = self.router.dispatch(request)
        except ApiError as err:
            status, payload = err.status, err.body()
        except Exception:
            log.exception("control API handler failed: %s %s", request.method, request.path)
            status, payload = 500, _INTERNAL_ERROR
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %d in %.1f ms", request.method, request.path, status,
                      (time.perf_counter() - started) * 1000)
        return status, payload

    def _send(self, conn: socket.socket, data: bytes) -> bool:
        try:
            conn.settimeout(self.cfg.request_timeout_seconds)
            conn.sendall(data)
            return True
        except OSError:
            return False

    def _send_error_and_close(self, conn: socket.socket, err: ApiError) -> None:
        """Answer, then drain a little of what the peer still sends so it reads the answer."""
        if not self._send(conn, http11.error_response(err)):
            return
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + _DRAIN_SECONDS
        drained = 0
        try:
            while drained < _DRAIN_BYTES:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                conn.settimeout(remaining)
                chunk = conn.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass
