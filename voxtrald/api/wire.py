"""The reading side of an API connection: the limits `http.server` leaves to its caller.

The standard library reads with a per-read timeout and no total size for the
head, so a client sending a byte a second, or megabytes of headers, could
hold a connection forever. Here a request must arrive whole before one
deadline (408), its line and headers share a 16 KiB budget (431), and bytes
that cannot start a request (TLS, SSH, binary) are refused as they arrive.
"""

from __future__ import annotations

import contextlib
import io
import socket
import time
from collections.abc import Callable
from typing import Any

from voxtrald.api.errors import ApiError, bad_request

MAX_HEAD_BYTES = 16 * 1024
# A kept-alive connection with no new request for this long is closed quietly.
IDLE_KEEPALIVE_SECONDS = 5.0
# How often an idle kept-alive connection asks whether others wait for its slot.
IDLE_CHECK_SECONDS = 0.25
_MAX_METHOD = 16
_TOKEN = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
NOT_HTTP = "this socket speaks HTTP/1.1; the bytes received are not an HTTP request"


class PeerGone(Exception):
    """The peer left before its request was complete: there is nobody to answer."""


class Wire(io.RawIOBase):
    """The socket, read against the current request's deadline, written within the timeout.

    Between kept-alive requests the wait is a pause, not a request: it ends
    quietly (end of file) after IDLE_KEEPALIVE_SECONDS, or at once when
    `make_room()` says another connection waits for this one's slot (HTTP
    lets a server close an idle connection at any time). A later request's
    clock starts at its first byte.
    """

    def __init__(self, sock: socket.socket, timeout: float,
                 make_room: Callable[[], bool]) -> None:
        super().__init__()
        self.sock, self.timeout, self.make_room = sock, timeout, make_room
        self.received = 0
        self.next_request(idle=False, sniff=True)

    def next_request(self, idle: bool, sniff: bool) -> None:
        self.idle, self.sniff, self.prefix = idle, sniff, b""
        self.deadline = time.monotonic() + self.timeout

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        """All of `data`, unbuffered (a failed answer must not linger), within the timeout."""
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)
        return len(data)

    def readinto(self, buf: Any) -> int:
        if self.idle:
            if not self._next_request_arrives():
                return 0
            self.next_request(idle=False, sniff=self.sniff)
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)
        n = self.sock.recv_into(buf)
        self.received += n
        if self.sniff and n:
            self._sniff(bytes(memoryview(buf)[:n]))
        return n

    def _next_request_arrives(self) -> bool:
        give_up = time.monotonic() + IDLE_KEEPALIVE_SECONDS
        while not self.make_room() and (left := give_up - time.monotonic()) > 0:
            self.sock.settimeout(min(IDLE_CHECK_SECONDS, left))
            with contextlib.suppress(TimeoutError):
                return self.sock.recv(1, socket.MSG_PEEK) != b""
        return False

    def _sniff(self, data: bytes) -> None:
        """Refuse what cannot become a method without waiting for the end of the line."""
        self.prefix = (self.prefix + data).lstrip(b"\r\n")[:_MAX_METHOD + 1]
        method, space, _ = self.prefix.partition(b" ")
        if len(method) > _MAX_METHOD or method.translate(None, _TOKEN):
            raise bad_request(NOT_HTTP)
        self.sniff = not space


class Reader(io.BufferedReader):
    """Buffered reads that hold the request head to MAX_HEAD_BYTES.

    The request line and headers are read with readline(), so a capped
    readline caps the head; a line cut short by end of file means the peer
    left mid-request.
    """

    def __init__(self, wire: Wire) -> None:
        super().__init__(wire, 65536)
        self.wire = wire
        self.consumed = 0
        self.head_left = MAX_HEAD_BYTES

    def readline(self, size: int | None = -1) -> bytes:
        limit = self.head_left + 1
        line = super().readline(limit if size is None or size < 0 else min(size, limit))
        self.consumed += len(line)
        self.head_left -= len(line)
        if line.endswith(b"\n"):
            return line
        if self.head_left < 0:
            raise ApiError(431, "headers_too_large",
                           f"request line and headers exceed {MAX_HEAD_BYTES} bytes")
        raise PeerGone

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.consumed += len(data)
        if size is not None and len(data) < size:
            raise PeerGone
        return data

    def buffered(self) -> int:
        """Bytes received but not read yet: the start of a pipelined request."""
        return self.wire.received - self.consumed

    def request_line(self) -> bytes:
        """The next request line, past empty lines a client may send first (RFC 9112, 2.2).

        They count toward the head budget, so a flood of them is refused.
        """
        self.head_left = MAX_HEAD_BYTES
        line = self.readline()
        while line in (b"\r\n", b"\n"):
            line = self.readline()
        return line

    def request_read(self) -> None:
        """The request is in: wait for the next one as an idle connection."""
        self.wire.next_request(idle=True, sniff=self.buffered() == 0)


def peer_gone(sock: socket.socket) -> Callable[[], bool]:
    """Whether the peer has hung up, for a long-poll to stop and free its slot.

    A peer that only shut down its sending side looks the same and gets an
    early, still valid answer.
    """

    def gone() -> bool:
        previous = sock.gettimeout()
        try:
            sock.setblocking(False)
            return sock.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(previous)

    return gone
