"""HTTP/1.1 for the control API on `http.server`, with the API's limits and error shape.

`BaseHTTPRequestHandler` parses the request, keeps connections alive and
caps the header count; this adds the limits of `wire`, a body that must
declare its length and fit (411, 413), the loopback transport's token (403),
and one JSON error shape for every refusal, the standard library's own
included: never an HTML page or a traceback. It knows nothing of routes and
hands each request to its server's `dispatch`.
"""

from __future__ import annotations

import hmac
import http
import http.client
import json
import logging
import math
import socket
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from voxtrald.api import wire
from voxtrald.api.errors import INTERNAL_ERROR, ApiError, bad_request
from voxtrald.config import ApiConfig

log = logging.getLogger("voxtrald.api")

TOKEN_HEADER = "X-Voxtral-Token"
_DRAIN_SECONDS = 0.5
_DRAIN_BYTES = 256 * 1024
# Codes for the refusals http.server makes itself, through send_error.
# Fields that may repeat only with the same value.
_SINGLE = frozenset({"content-length", "transfer-encoding", "host"})
_TOKEN_KEY = TOKEN_HEADER.lower()
_CODES = {400: "bad_request", 414: "uri_too_long", 431: "headers_too_large",
          505: "http_version_not_supported"}


class Host(Protocol):
    """What a handler needs from the server it runs under."""

    cfg: ApiConfig
    token: str | None  # the loopback transport's secret; None on a Unix socket

    def dispatch(self, method: str, path: str, query: dict[str, str], body: bytes,
                 headers: dict[str, str], client_gone: Callable[[], bool]
                 ) -> tuple[int, dict[str, Any]]: ...

    def peer_refused(self, sock: socket.socket) -> bool: ...

    def make_room(self) -> bool: ...


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Also the version of an answer given before the request line is understood:
    # the default, HTTP/0.9, would send it without a status line.
    default_request_version = "HTTP/1.1"
    rfile: wire.Reader
    wfile: Any  # the Wire itself: an answer leaves whole and unbuffered, or not at all

    def setup(self) -> None:
        self.host = cast(Host, self.server)
        self.connection = sock = self.request
        if isinstance(self.client_address, tuple):  # TCP: answers must not wait for ACKs
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.io = wire.Wire(sock, self.host.cfg.request_timeout_seconds, self.host.make_room)
        self.rfile, self.wfile = wire.Reader(self.io), self.io

    def handle(self) -> None:
        if self.host.peer_refused(self.request):
            log.warning("refused a control API connection from another user")
            self.fail(ApiError(403, "forbidden", "this daemon only answers its own user"))
            return
        super().handle()

    def handle_one_request(self) -> None:
        self.close_connection = True
        try:
            self.raw_requestline = self.rfile.request_line()
            if not self.parse_request():  # http.server has answered, through send_error
                return
            headers = self._checked_headers()
            body = self._read_body(headers)
            self.rfile.request_read()
            path, query = split_target(self.path)
        except ApiError as err:
            self.fail(err)
            return
        except TimeoutError:
            self.fail(ApiError(408, "request_timeout", "the request did not arrive in time"))
            return
        except (wire.PeerGone, OSError):
            return
        status, payload = self.host.dispatch(self.command, path, query, body, headers,
                                             wire.peer_gone(self.request))
        try:
            data = encode_response(status, payload, self.close_connection)
        except (TypeError, ValueError):
            log.exception("control API answer to %s %s is not JSON", self.command, path)
            status, data = 500, encode_response(500, INTERNAL_ERROR.body(), self.close_connection)
        if self.send(data) and log.isEnabledFor(logging.DEBUG):
            self.log_request(status, len(data))

    def _checked_headers(self) -> dict[str, str]:
        """The headers, lower-cased, once they are known to be well formed and allowed."""
        fields: dict[str, str] = {}
        for name, raw in self.headers.raw_items():  # one pass: each lookup is a scan
            key, value = name.lower(), raw.strip(" \t")
            if "\n" in value or (key in fields and key in _SINGLE and fields[key] != value):
                raise bad_request(f"malformed or conflicting {name} header")
            fields[key] = f"{fields[key]}, {value}" if key in fields else value
        if self.headers.defects:
            raise bad_request("malformed header line")
        token = self.host.token
        if token is not None and not hmac.compare_digest(
                fields.get(_TOKEN_KEY, "").encode(), token.encode()):
            raise ApiError(403, "forbidden", f"missing or wrong {TOKEN_HEADER} header")
        if "close" in fields.get("connection", "").lower().replace(" ", "").split(","):
            self.close_connection = True  # http.server misses "close" in a list
        return fields

    def _read_body(self, fields: dict[str, str]) -> bytes:
        if "transfer-encoding" in fields:
            raise ApiError(411, "length_required",
                           "chunked bodies are not accepted; send Content-Length")
        raw = fields.get("content-length", "0")
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            raise bad_request("Content-Length must be a non-negative integer")
        length, limit = int(raw), self.host.cfg.max_body_bytes
        if length > limit:
            raise ApiError(413, "body_too_large",
                           f"request body of {length} bytes exceeds the limit of {limit}")
        if length > self.rfile.buffered() and fields.get("expect", "").lower() == "100-continue":
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        return self.rfile.read(length)

    def handle_expect_100(self) -> bool:
        return True  # answered in _read_body, once the token and the length are fine

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        phrase = http.client.responses.get(code, "Error")
        self.fail(ApiError(code, _CODES.get(code, phrase.lower().replace(" ", "_")),
                           message or phrase))

    def send(self, data: bytes) -> bool:
        try:
            self.io.write(data)
            return True
        except OSError:
            self.close_connection = True
            return False

    def fail(self, err: ApiError) -> None:
        """Answer and close, draining a little of what the peer still sends.

        Closing with unread data resets the connection, and the peer could
        lose the answer before reading it.
        """
        self.close_connection = True
        if not self.send(encode_response(err.status, err.body(), close=True)):
            return
        sock, drained, give_up = self.request, 0, time.monotonic() + _DRAIN_SECONDS
        try:
            sock.shutdown(socket.SHUT_WR)
            while drained < _DRAIN_BYTES and (left := give_up - time.monotonic()) > 0:
                sock.settimeout(left)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass

    def address_string(self) -> str:
        # An AF_UNIX peer has no address: http.server would index an empty string.
        addr = self.client_address
        return str(addr[0]) if isinstance(addr, tuple) and addr else "local"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def split_target(target: str) -> tuple[str, dict[str, str]]:
    """Path (percent-decoded) and query of an origin-form or absolute-form target."""
    parts = urlsplit(target)
    if not parts.path.startswith("/"):
        raise bad_request("request target must be a path such as /api/status")
    return unquote(parts.path), dict(parse_qsl(parts.query, keep_blank_values=True))


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


def encode_response(status: int, payload: dict[str, Any], close: bool) -> bytes:
    """A whole JSON response in one piece, so it leaves in one write."""
    try:
        text = json.dumps(payload, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        # NaN/Infinity are not JSON and strict clients would choke: they travel as null.
        text = json.dumps(_finite(payload), ensure_ascii=False, default=str, allow_nan=False)
    body = text.encode("utf-8") + b"\n"
    head = (f"HTTP/1.1 {status} {http.client.responses.get(status, 'Unknown')}\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n"
            f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n")
    return head.encode("latin-1") + body
