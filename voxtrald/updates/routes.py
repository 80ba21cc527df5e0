"""The updates part of the control API, mapped onto the checker.

Failures of the check itself are not HTTP errors: the check answers 200 with
an `error` line, because "GitHub is unreachable" is news about the world, not
a broken request. A download that stages nothing is an error, with a code a
script can branch on.
"""

from __future__ import annotations

from typing import Any

from voxtrald.api.router import ApiError, Request, Router
from voxtrald.updates.checker import UpdateChecker

# What the release offers (nothing newer, no wheel, no checksum) is a 409; what
# went wrong fetching it is the upstream's fault (502) or ours (500).
_DOWNLOAD_STATUS = {
    "no_update": 409, "no_asset": 409, "unverifiable": 409,
    "check_failed": 503, "staging_failed": 500,
}


def register_routes(router: Router, checker: UpdateChecker) -> None:
    def check(request: Request) -> dict[str, Any]:
        refresh = request.query.get("refresh", "").lower() in ("1", "true", "yes")
        return checker.check(refresh=refresh)

    def dismiss(request: Request) -> dict[str, Any]:
        version = request.json().get("version")
        if not isinstance(version, str) or not version.strip():
            raise ApiError(400, "bad_parameter", "'version' (e.g. \"1.2.0\") is required")
        try:
            return checker.dismiss(version.strip())
        except ValueError as exc:
            raise ApiError(400, "bad_parameter", str(exc)) from None

    def download(request: Request) -> dict[str, Any]:
        result = checker.download()
        if not result["staged"]:
            status = _DOWNLOAD_STATUS.get(result["code"], 502)
            raise ApiError(status, result["code"], result["error"])
        return result

    def apply(request: Request) -> tuple[int, dict[str, Any]]:
        staged = checker.staged()
        if staged:
            how = f"install the staged wheel with `pip install {staged['path']}`"
        else:
            how = (f"nothing is staged yet (`voxtrald download-update` stages one under "
                   f"{checker.staged_dir()}/X.Y.Z/); then install its wheel with pip")
        raise ApiError(
            501, "not_implemented",
            f"applying updates is not built in: {how} and restart voxtrald",
        )

    router.add("GET", "/api/updates/check", check)
    router.add("POST", "/api/updates/dismiss", dismiss)
    router.add("POST", "/api/updates/download", download)
    router.add("POST", "/api/updates/apply", apply)
