"""Just enough HTTP/1.1 for the control API, with every limit enforced while reading.

The socket is the daemon's only door, so a hostile or broken peer must never
make it buffer without bound or wait forever: the request head is capped
(431), the body is capped before a byte of it is read (413), the whole request
must arrive before a deadline (408, against slowloris), and bytes that are
plainly not HTTP are refused as soon as they arrive (400) rather than after
the deadline. Everything here raises ApiError so the server answers in the
API's one error shape.
"""

from __future__ import annotations

import http
import json
import math
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from voxtrald.api.router import ApiError

MAX_HEAD_BYTES = 16 * 1024
MAX_HEADERS = 100
_MAX_METHOD = 16
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_VERSIONS = ("HTTP/1.1", "HTTP/1.0")
_RECV = 65536


class ClientGone(Exception):
    """The peer closed or reset the connection; there is nobody to answer."""


@dataclass
class RequestHead:
    method: str
    target: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def keep_alive(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in conn
        return "close" not in conn

    def split_target(self) -> tuple[str, dict[str, str]]:
        """Path (percent-decoded) and query of origin-form or absolute-form targets."""
        parts = urlsplit(self.target)
        if not parts.path.startswith("/"):
            raise ApiError(400, "bad_request", "request target must be a path such as /api/status")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return unquote(parts.path), query


def _bad(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def _check_prefix(buf: bytes) -> None:
    """Refuse early what cannot become a request line, without waiting for CRLFCRLF."""
    data = buf.lstrip(b"\r\n")
    if not data:
        return
    line_end = data.find(b"\n")
    if line_end >= 0:
        parse_request_line(data[:line_end].rstrip(b"\r").decode("latin-1"))
        return
    space = data.find(b" ")
    method = data if space < 0 else data[:space]
    if any(c not in _TOKEN for c in method[:_MAX_METHOD + 1]) or len(method) > _MAX_METHOD:
        raise _bad("this socket speaks HTTP/1.1; the bytes received are not an HTTP request")


def parse_request_line(line: str) -> tuple[str, str, str]:
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts):
        raise _bad("malformed request line; expected 'METHOD /path HTTP/1.1'")
    method, target, version = parts
    if len(method) > _MAX_METHOD or any(ord(c) not in _TOKEN for c in method):
        raise _bad("this socket speaks HTTP/1.1; the bytes received are not an HTTP request")
    if version not in _VERSIONS:
        if version.startswith("HTTP/"):
            raise ApiError(505, "http_version_not_supported", "use HTTP/1.1 or HTTP/1.0")
        raise _bad("malformed request line; expected 'METHOD /path HTTP/1.1'")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        raise _bad("request target contains control characters")
    return method, target, version


def parse_head(raw: bytes) -> RequestHead:
    try:
        text = raw.decode("latin-1")
    except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes anything
        raise _bad("request head is not text") from exc
    lines = text.lstrip("\r\n").split("\n")
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    method, target, version = parse_request_line(lines[0])
    headers: dict[str, str] = {}
    header_lines = [ln for ln in lines[1:] if ln]
    if len(header_lines) > MAX_HEADERS:
        raise ApiError(431, "headers_too_large", f"more than {MAX_HEADERS} header fields")
    for line in header_lines:
        name, sep, value = line.partition(":")
        if not sep or not name or any(ord(c) not in _TOKEN for c in name):
            raise _bad(f"malformed header line: {line[:60]!r}")
        key = name.lower()
        value = value.strip(" \t")
        if key in headers:
            if key in ("content-length", "host", "transfer-encoding"):
                if headers[key] != value:
                    raise _bad(f"conflicting {name} headers")
                continue
            value = headers[key] + ", " + value
        headers[key] = value
    return RequestHead(method, target, version, headers)


class Reader:
    """Buffered reads from one connection, all bounded by a caller's deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _recv(self, deadline: float) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(_RECV)
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise ClientGone from exc
        if not chunk:
            raise ClientGone
        return chunk

    def _skip_empty_lines(self) -> int:
        """Drop CR/LF bytes before a request line as they arrive; how many went."""
        if self.buf[:1] not in (b"\r", b"\n"):
            return 0
        stripped = self.buf.lstrip(b"\r\n")
        skipped = len(self.buf) - len(stripped)
        self.buf = stripped
        return skipped

    def read_head(self, deadline: float, idle: bool) -> RequestHead | None:
        """The next request head; None when an idle keep-alive peer goes away or sleeps.

        `idle` marks a connection that already served a request: silence or EOF
        there before any new byte is a normal end, not a slow or broken client.
        Empty lines before the request line are tolerated (RFC 9112, 2.2) but
        dropped as they arrive and counted toward the head limit, so a flood
        of bare CRLFs is neither buffered nor rescanned and is refused once it
        outgrows the limit.
        """
        skipped = self._skip_empty_lines()
        while True:
            if skipped > MAX_HEAD_BYTES:
                raise _bad(f"more than {MAX_HEAD_BYTES} bytes of empty lines before the "
                           "request line")
            end = self.buf.find(b"\r\n\r\n")
            alt = self.buf.find(b"\n\n")
            cut = min((e + n for e, n in ((end, 4), (alt, 2)) if e >= 0), default=-1)
            if cut >= 0:
                if skipped + cut > MAX_HEAD_BYTES:
                    raise ApiError(431, "headers_too_large",
                                   f"request line and headers exceed {MAX_HEAD_BYTES} bytes")
                head, self.buf = self.buf[:cut], self.buf[cut:]
                return parse_head(head)
            if skipped + len(self.buf) > MAX_HEAD_BYTES:
                _check_prefix(self.buf)
                raise ApiError(431, "headers_too_large",
                               f"request line and headers exceed {MAX_HEAD_BYTES} bytes")
            try:
                chunk = self._recv(deadline)
            except TimeoutError as exc:
                if idle and not self.buf.strip():
                    return None
                raise ApiError(408, "request_timeout",
                               "the request did not arrive in time") from exc
            except ClientGone:
                if idle and not self.buf.strip():
                    return None
                raise
            self.buf += chunk
            skipped += self._skip_empty_lines()
            _check_prefix(self.buf)

    def body_length(self, head: RequestHead, max_body: int) -> int:
        if "transfer-encoding" in head.headers:
            raise ApiError(411, "length_required",
                           "chunked bodies are not accepted; send Content-Length")
        raw = head.headers.get("content-length")
        if raw is None:
            return 0
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            raise _bad("Content-Length must be a non-negative integer")
        length = int(raw)
        if length > max_body:
            raise ApiError(413, "body_too_large",
                           f"request body of {length} bytes exceeds the limit of {max_body}")
        return length

    def read_body(self, length: int, deadline: float) -> bytes:
        while len(self.buf) < length:
            try:
                self.buf += self._recv(deadline)
            except TimeoutError as exc:
                raise ApiError(408, "request_timeout", "the request body did not arrive in time"
                               ) from exc
        body, self.buf = self.buf[:length], self.buf[length:]
        return body


def _finite(value: Any, depth: int = 0) -> Any:
    if depth > 64:
        raise ValueError("answer nests too deep (or refers to itself)")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v, depth + 1) for v in value]
    return value


def reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def encode_response(
    status: int, payload: dict[str, Any], keep_alive: bool, extra: dict[str, str] | None = None
) -> bytes:
    try:
        text = json.dumps(payload, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        # NaN/Infinity are not JSON; strict clients would choke, so they travel as null.
        text = json.dumps(_finite(payload), ensure_ascii=False, default=str, allow_nan=False)
    body = text.encode("utf-8") + b"\n"
    lines = [
        f"HTTP/1.1 {status} {reason(status)}",
        "Content-Type: application/json; charset=utf-8",
        f"Content-Length: {len(body)}",
        "Cache-Control: no-store",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
    ]
    lines.extend(f"{k}: {v}" for k, v in (extra or {}).items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def error_response(err: ApiError, keep_alive: bool = False) -> bytes:
    return encode_response(err.status, err.body(), keep_alive)
