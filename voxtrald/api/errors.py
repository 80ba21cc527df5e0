"""The API's one error shape, kept where both the protocol layer and the routes can reach it.

Every refusal, whether the HTTP layer finds the request malformed or a route
finds it wrong, reaches the peer as `{"error": {"code", "message"}}` with a
fitting status; the protocol layer owns the type so it never has to import
the routes.
"""

from __future__ import annotations

from voxtrald.bodies import ErrorDetail, ErrorReply


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> ErrorReply:
        return ErrorReply(error=ErrorDetail(code=self.code, message=self.message))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


INTERNAL_ERROR = ApiError(500, "internal_error", "internal error; the daemon log has the details")
BUSY = ApiError(503, "busy", "too many connections; try again")
STOPPING = ApiError(503, "busy", "the daemon is stopping; try again")
