"""HTTP/1.1 for the control API on `http.server`, with the API's limits and error shape.

`BaseHTTPRequestHandler` runs the connection (one request after another while
the client keeps it alive); this reads each request within the limits of
`wire`, refuses a body without a declared length or over the limit (411,
413) and a missing token on the loopback transport (403), and gives every
refusal the API's JSON shape: never an HTML page or a traceback. It knows
nothing of routes and hands each request to its server's `dispatch`.
"""

from __future__ import annotations

import hmac
import http.client
import json
import logging
import math
import re
import socket
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from voxtrald.api import wire
from voxtrald.api.errors import INTERNAL_ERROR, ApiError, bad_request
from voxtrald.config import ApiConfig

log = logging.getLogger("voxtrald.api")

TOKEN_HEADER = "X-Voxtral-Token"
MAX_HEADERS = 100
_DRAIN_SECONDS = 0.5
_DRAIN_BYTES = 256 * 1024
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_METHOD = re.compile(_TOKEN + "{1,16}")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
# A header line (RFC 9112, 5): a token, a colon, a value; no folding onto the next line.
_FIELD = re.compile(rf"({_TOKEN}+):[ \t]*(.*?)[ \t]*\r?\n")
# Fields that may repeat only with the same value.
_SINGLE = frozenset({"content-length", "transfer-encoding", "host"})
_MALFORMED = "malformed request line; expected 'METHOD /path HTTP/1.1'"
_TOKEN_KEY = TOKEN_HEADER.lower()


class Host(Protocol):
    """What a handler needs from the server it runs under."""

    cfg: ApiConfig
    token: str | None  # the loopback transport's secret; None on a Unix socket

    def dispatch(self, method: str, path: str, query: dict[str, str], body: bytes,
                 headers: dict[str, str], client_gone: Callable[[], bool]
                 ) -> tuple[int, Mapping[str, Any]]: ...

    def peer_refused(self, sock: socket.socket) -> bool: ...

    def make_room(self) -> bool: ...


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    rfile: wire.Reader
    fields: dict[str, str]  # the request's headers, names lower-cased
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
            self.parse_request()
            body = self._read_body()
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
        status, payload = self.host.dispatch(self.command, path, query, body, self.fields,
                                             wire.peer_gone(self.request))
        try:
            data = encode_response(status, payload, self.close_connection)
        except (TypeError, ValueError):
            log.exception("control API answer to %s %s is not JSON", self.command, path)
            status, data = 500, encode_response(500, INTERNAL_ERROR.body(), self.close_connection)
        if self.send(data) and log.isEnabledFor(logging.DEBUG):
            self.log_request(status, len(data))

    def parse_request(self) -> bool:
        """The request line and headers, strictly, into command, path and `fields`.

        http.server's own parse_request hands the headers to `email.parser`,
        which is lenient (a line without a colon becomes a "defect", and a
        two-word line an HTTP/0.9 request) and costs about 40 µs a request:
        half of what answering /api/status costs with it, which the
        benchmark's 20 busy clients felt. Header lines are simple enough.
        """
        self.requestline = line = self.raw_requestline.decode("latin-1").rstrip("\r\n")
        parts = line.split(" ")
        if len(parts) != 3 or not all(parts):
            raise bad_request(_MALFORMED)
        self.command, self.path, self.request_version = parts
        if not _METHOD.fullmatch(self.command):
            raise bad_request(wire.NOT_HTTP)
        if self.request_version not in ("HTTP/1.1", "HTTP/1.0"):
            if self.request_version.startswith("HTTP/"):
                raise ApiError(505, "http_version_not_supported", "use HTTP/1.1 or HTTP/1.0")
            raise bad_request(_MALFORMED)
        if _CONTROL.search(self.path):
            raise bad_request("request target contains control characters")
        fields: dict[str, str] = {}
        self.fields = fields
        for count in range(MAX_HEADERS + 1):
            raw = self.rfile.readline().decode("latin-1")
            if raw in ("\r\n", "\n"):
                break
            if count == MAX_HEADERS:
                raise ApiError(431, "headers_too_large", f"more than {MAX_HEADERS} header fields")
            match = _FIELD.fullmatch(raw)
            if match is None:
                raise bad_request(f"malformed header line: {raw[:60]!r}")
            name, value = match[1].lower(), match[2]
            if name in fields:
                if name in _SINGLE and fields[name] != value:
                    raise bad_request(f"conflicting {match[1]} headers")
                value = f"{fields[name]}, {value}"
            fields[name] = value
        tokens = {t.strip() for t in fields.get("connection", "").lower().split(",")}
        self.close_connection = "close" in tokens or (
            self.request_version == "HTTP/1.0" and "keep-alive" not in tokens)
        return True

    def _read_body(self) -> bytes:
        fields, token = self.fields, self.host.token
        if token is not None and not hmac.compare_digest(
                fields.get(_TOKEN_KEY, "").encode(), token.encode()):
            raise ApiError(403, "forbidden", f"missing or wrong {TOKEN_HEADER} header")
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
    if "%2f" in parts.path.lower():
        # Decoded, it would make another route (/api/jobs/1%2Fretry); no route has one.
        raise bad_request("an encoded '/' (%2F) is not allowed in the path")
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


def encode_response(status: int, payload: Mapping[str, Any], close: bool) -> bytes:
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
