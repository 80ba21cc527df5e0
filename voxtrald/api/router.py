"""The route table of the control API, kept free of sockets and threads.

Each feature (jobs, memory, updates) registers its own routes here, so adding
one never touches the server; handlers take a Request and return a JSON-able
dict (status 200) or a (status, dict) pair, and raise ApiError for a 4xx/5xx.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from voxtrald.api.errors import ApiError

__all__ = ["ApiError", "Handler", "Request", "Router"]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # Set by the server: True once the peer has hung up, so a handler that
    # waits (a long-poll) can stop early instead of holding a connection slot.
    client_gone: Callable[[], bool] | None = field(default=None, repr=False, compare=False)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; an empty body is an empty object."""
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "invalid_json", f"request body is not valid JSON: {exc}") from exc
        except RecursionError as exc:  # [[[[...]]]] 60 KB deep
            raise ApiError(400, "invalid_json", "request body nests too deep") from exc
        if not isinstance(value, dict):
            raise ApiError(400, "invalid_json", "request body must be a JSON object")
        return value

    def int_query(self, name: str, default: int, lo: int, hi: int) -> int:
        return int(self._number_query(name, default, lo, hi, int, "an integer"))

    def float_query(self, name: str, default: float, lo: float, hi: float) -> float:
        return float(self._number_query(name, default, lo, hi, float, "a number"))

    def _number_query(self, name: str, default: float, lo: float, hi: float,
                      cast: Callable[[str], float], kind: str) -> float:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = cast(raw)
        except ValueError as exc:
            raise ApiError(400, "bad_parameter", f"'{name}' must be {kind}") from exc
        if not lo <= value <= hi:
            raise ApiError(400, "bad_parameter", f"'{name}' must be from {lo} to {hi}")
        return value


Handler = Callable[[Request], "Mapping[str, Any] | tuple[int, Mapping[str, Any]]"]
_PARAM = re.compile(r"\{(\w+)\}")


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], str, dict[str, Handler]]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """Register `handler` for METHOD on a path like /api/jobs/{id}."""
        for _regex, pat, methods in self._routes:
            if pat == pattern:
                methods[method.upper()] = handler
                return
        regex = re.compile("^" + _PARAM.sub(r"(?P<\1>[^/]+)", re.escape(pattern).replace(
            r"\{", "{").replace(r"\}", "}")) + "$")
        self._routes.append((regex, pattern, {method.upper(): handler}))

    def dispatch(self, request: Request) -> tuple[int, Mapping[str, Any]]:
        for regex, _pattern, methods in self._routes:
            match = regex.match(request.path)
            if not match:
                continue
            handler = methods.get(request.method)
            if handler is None:
                allowed = ", ".join(sorted(methods))
                raise ApiError(
                    405, "method_not_allowed", f"{request.method} not allowed here; use {allowed}"
                )
            request.params = match.groupdict()
            result = handler(request)
            if isinstance(result, tuple):
                return result
            return 200, result
        raise ApiError(404, "not_found", f"no such route: {request.path}")
