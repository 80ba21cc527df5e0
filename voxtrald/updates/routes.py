"""The updates part of the control API, mapped onto the checker.

Failures of the check itself are not HTTP errors: the check answers 200 with
an `error` line, because "GitHub is unreachable" is news about the world, not
a broken request. A download that stages nothing is an error, with a code a
script can branch on.
"""

from __future__ import annotations

from voxtrald.api.router import ApiError, Request, Router
from voxtrald.bodies import ApplyState, ApplyStatus, Download, RollbackStarted, UpdateCheck
from voxtrald.install.apply import Applier, ApplyError, DownloadFailed, SelfTestFailed
from voxtrald.updates.checker import UpdateChecker
from voxtrald.updates.versions import InvalidTag

# What the release offers (nothing newer, no wheel, no checksum) is a 409; what
# went wrong fetching it is the upstream's fault (502) or ours (500).
_DOWNLOAD_STATUS = {
    "no_update": 409, "no_asset": 409, "unverifiable": 409, "unsigned": 409,
    "bad_signature": 409,
    "check_failed": 503, "staging_failed": 500,
}


def _apply_status(exc: ApplyError) -> int:
    """A refusal is a conflict with the install's state; the rest failed on our side or GitHub's."""
    if isinstance(exc, DownloadFailed):
        return 502
    if isinstance(exc, SelfTestFailed):
        return 500
    return 409


def register_routes(router: Router, checker: UpdateChecker,
                    applier: Applier | None = None) -> None:
    def check(request: Request) -> UpdateCheck:
        refresh = request.query.get("refresh", "").lower() in ("1", "true", "yes")
        return checker.check(refresh=refresh)

    def dismiss(request: Request) -> UpdateCheck:
        version = request.json().get("version")
        if not isinstance(version, str) or not version.strip():
            raise ApiError(400, "bad_parameter", "'version' (e.g. \"1.2.0\") is required")
        try:
            return checker.dismiss(version.strip())
        except InvalidTag as exc:
            raise ApiError(400, "bad_parameter", str(exc)) from None

    def download(request: Request) -> Download:
        result = checker.download()
        if not result["staged"]:
            code = result["code"] or "download_failed"
            raise ApiError(_DOWNLOAD_STATUS.get(code, 502), code,
                           result["error"] or "nothing was staged")
        return result

    def apply(request: Request) -> tuple[int, ApplyState]:
        body = request.json()
        retry = body.get("retry_failed") is True
        wanted = body.get("version")
        if wanted is not None and (not isinstance(wanted, str) or not 0 < len(wanted) <= 64):
            raise ApiError(400, "bad_parameter", "'version' must be the version to install")
        if applier is None:
            raise ApiError(409, "not_updatable", "this daemon cannot apply updates")
        try:
            return 202, applier.apply(retry_failed=retry, wanted=wanted)
        except ApplyError as exc:
            raise ApiError(_apply_status(exc), exc.code, str(exc)) from None

    def apply_status(_request: Request) -> ApplyStatus:
        if applier is None:
            return ApplyStatus(state="idle", version=None, error=None, code=None,
                               install="other", root=None, can_apply=False,
                               how_to_update=None, versions=[])
        return applier.status()

    def rollback(request: Request) -> tuple[int, RollbackStarted]:
        request.json()
        if applier is None:
            raise ApiError(409, "not_updatable", "this daemon cannot roll back")
        try:
            return 202, applier.rollback()
        except ApplyError as exc:
            raise ApiError(_apply_status(exc), exc.code, str(exc)) from None

    router.add("GET", "/api/updates/check", check)
    router.add("POST", "/api/updates/dismiss", dismiss)
    router.add("POST", "/api/updates/download", download)
    router.add("POST", "/api/updates/apply", apply)
    router.add("GET", "/api/updates/apply", apply_status)
    router.add("POST", "/api/updates/rollback", rollback)
