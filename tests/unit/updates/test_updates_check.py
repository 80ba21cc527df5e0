"""Update checks against a real local HTTP server standing in for the GitHub API."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.waiting import wait_for
from voxtrald.api.router import ApiError, Router
from voxtrald.api.router import Request as ApiRequest
from voxtrald.config import UpdatesConfig
from voxtrald.events import EventLog
from voxtrald.updates import checker as checker_module
from voxtrald.updates import download, github, state
from voxtrald.updates.checker import UpdateChecker
from voxtrald.updates.cli import format_check
from voxtrald.updates.minisign import SecretKey
from voxtrald.updates.routes import register_routes

REPO = "owner/voxtral"
LATEST = f"/repos/{REPO}/releases/latest"
LIST = f"/repos/{REPO}/releases"


def release(tag: str = "v1.1.0", **extra: Any) -> dict[str, Any]:
    return {
        "tag_name": tag,
        "name": f"Voxtral {tag}",
        "body": "Faster and smaller.",
        "html_url": f"https://github.com/{REPO}/releases/tag/{tag}",
        "published_at": "2025-05-01T10:00:00Z",
        "draft": False,
        "prerelease": False,
        "assets": [],
        **extra,
    }


class Harness:
    def __init__(self, server: HTTPServer, tmp_path: Path) -> None:
        self.server = server
        self.state_dir = tmp_path / "state"
        self.events = EventLog()

    def checker(self, current: str = "1.0.0", **cfg: Any) -> UpdateChecker:
        cfg.setdefault("api_url", self.server.url_for("/").rstrip("/"))
        conf = UpdatesConfig(repo=REPO, **cfg)
        return UpdateChecker(conf, self.state_dir, self.events, current, initial_delay=0,
                             timeout=(2.0, 2.0))

    def serve(self, data: Any, path: str = LATEST, **kw: Any) -> None:
        self.server.expect_request(path).respond_with_json(data, **kw)

    def announced(self) -> list[str]:
        return [e["data"]["version"] for e in self.events.since(0)["events"]
                if e["type"] == "update_available"]

    def requests(self) -> int:
        return len(self.server.log)


@pytest.fixture
def h(httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return Harness(httpserver, tmp_path)


def test_newer_release_is_offered_and_announced_once(h: Harness) -> None:
    h.serve(release("v1.1.0"))
    checker = h.checker()
    assert checker.check()["checked_at"] is None  # cached, nothing asked yet
    assert h.requests() == 0
    result = checker.check(refresh=True)
    assert result["update_available"] is True
    assert result["latest_version"] == "1.1.0"
    assert result["current_version"] == "1.0.0"
    assert result["release_name"] == "Voxtral v1.1.0"
    assert result["release_notes"] == "Faster and smaller."
    assert result["release_url"] == f"https://github.com/{REPO}/releases/tag/v1.1.0"
    assert result["published_at"] == "2025-05-01T10:00:00Z"
    assert result["error"] is None and result["checked_at"]
    checker.check(refresh=True)
    assert h.announced() == ["1.1.0"]
    # A restarted daemon (new checker, same state dir) does not announce it again.
    h.checker().check(refresh=True)
    assert h.announced() == ["1.1.0"]
    assert checker.summary() == {
        "update_available": True, "current_version": "1.0.0", "latest_version": "1.1.0",
        "release_url": result["release_url"], "dismissed": False, "error": None,
        "rolled_back": False, "can_apply": False,
    }


def test_request_carries_github_headers(h: Harness) -> None:
    h.serve(release())
    h.checker().check(refresh=True)
    sent = h.server.log[0][0].headers
    assert sent["Accept"] == "application/vnd.github+json"
    assert sent["User-Agent"].startswith("Voxtral-Transcription/1.0.0")
    assert "Authorization" not in sent


@pytest.mark.parametrize("current", ["1.1.0", "1.2.0"])
def test_equal_or_older_release_is_no_update(h: Harness, current: str) -> None:
    h.serve(release("v1.1.0"))
    result = h.checker(current=current).check(refresh=True)
    assert result["update_available"] is False
    assert result["latest_version"] == "1.1.0"
    assert result["error"] is None
    assert h.announced() == []


@pytest.mark.parametrize(
    ("raw", "channel", "offered"),
    [(release("v1.1.0", prerelease=True), "stable", False),
     (release("v1.1.0rc1"), "stable", False),
     (release("v1.1.0", draft=True), "stable", False)],
)
def test_stable_channel_ignores_prereleases_and_drafts(
    h: Harness, raw: dict, channel: str, offered: bool
) -> None:
    h.serve(raw)
    result = h.checker(channel=channel).check(refresh=True)
    assert result["update_available"] is offered
    assert result["error"] is None
    assert h.announced() == []


def test_prerelease_channel_lists_releases_and_takes_the_newest(h: Harness) -> None:
    h.serve([release("v1.1.0"), release("v1.3.0", draft=True),
             release("v1.2.0rc1", prerelease=True), release("latest")], path=LIST)
    result = h.checker(channel="prerelease").check(refresh=True)
    assert result["update_available"] is True
    assert result["latest_version"] == "1.2.0rc1"
    assert result["prerelease"] is True
    assert h.server.log[0][0].path == LIST


@pytest.mark.parametrize("tag", ["../../x", "v1.2.3-1", "latest", "v1.2.3+local"])
def test_invalid_tags_are_no_update_with_an_error(h: Harness, tag: str) -> None:
    h.serve(release(tag))
    result = h.checker().check(refresh=True)
    assert result["update_available"] is False
    assert result["latest_version"] is None
    assert "ignored" in result["error"]
    assert h.announced() == []


@pytest.mark.parametrize(
    ("respond", "fragment"),
    [(lambda r: r.respond_with_json({"message": "Not Found"}, status=404), "no published release"),
     (lambda r: r.respond_with_data("oops", status=500), "HTTP 500"),
     (lambda r: r.respond_with_data("<html>hello</html>", status=200), "not valid JSON"),
     (lambda r: r.respond_with_json(["not", "a", "release"]), "not a release"),
     (lambda r: r.respond_with_json({"name": "no tag"}), "no tag"),
     (lambda r: r.respond_with_data("x" * (10 * 1024 * 1024)), "too large")],
    ids=["404", "500", "garbage", "list", "missing-fields", "10MB"],
)
def test_bad_answers_become_one_line_errors(h: Harness, respond: Any, fragment: str) -> None:
    respond(h.server.expect_request(LATEST))
    checker = h.checker()
    result = checker.check(refresh=True)
    assert result["update_available"] is False
    assert fragment in result["error"]
    assert "\n" not in result["error"] and "Traceback" not in result["error"]
    assert checker.summary()["error"] == result["error"]


def test_streamed_huge_body_is_cut_off(h: Harness) -> None:
    def endless(_request: Request) -> Response:
        chunk = b"[" + b" " * 65535
        return Response((chunk for _ in range(200)), content_type="application/json")

    h.server.expect_request(LATEST).respond_with_handler(endless)
    result = h.checker().check(refresh=True)
    assert "too large" in result["error"]


def test_server_that_never_answers_times_out(h: Harness, tmp_path: Path) -> None:
    def slow(_request: Request) -> Response:
        time.sleep(1.0)
        return Response(json.dumps(release()), content_type="application/json")

    h.server.expect_request(LATEST).respond_with_handler(slow)
    conf = UpdatesConfig(repo=REPO, api_url=h.server.url_for("/").rstrip("/"))
    checker = UpdateChecker(conf, tmp_path / "s", EventLog(), "1.0.0", initial_delay=0,
                            timeout=(0.2, 0.2))
    result = checker.check(refresh=True)
    assert result["update_available"] is False
    assert "did not answer in time" in result["error"]
    # Let the sleeping handler finish, so its answer is not logged in the next test.
    wait_for(lambda: h.server.log, 10, "the slow handler to finish")


def test_connection_refused_is_a_clean_error(h: Harness) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    checker = h.checker(api_url=f"http://127.0.0.1:{port}")
    result = checker.check(refresh=True)
    assert result["update_available"] is False
    assert result["error"].startswith("cannot reach 127.0.0.1")
    assert checker.download() == {"staged": False, "code": "check_failed",
                                  "error": result["error"]}


def test_etag_304_reuses_the_cached_release(h: Harness) -> None:
    h.server.expect_ordered_request(LATEST).respond_with_json(
        release("v1.1.0"), headers={"ETag": '"abc123"'})
    h.server.expect_ordered_request(LATEST, headers={"If-None-Match": '"abc123"'}) \
        .respond_with_data("", status=304, headers={"ETag": '"abc123"'})
    checker = h.checker()
    first = checker.check(refresh=True)
    second = h.checker().check(refresh=True)  # after a restart, from the state file
    assert h.requests() == 2
    assert h.server.log[1][1].status_code == 304
    assert second["update_available"] is True
    for key in ("latest_version", "release_name", "release_url", "release_notes"):
        assert second[key] == first[key]
    assert h.announced() == ["1.1.0"]


def test_rate_limit_means_no_request_before_reset(h: Harness) -> None:
    reset = int(time.time()) + 3600
    h.server.expect_request(LATEST).respond_with_json(
        {"message": "API rate limit exceeded"}, status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
    checker = h.checker()
    result = checker.check(refresh=True)
    assert "rate limit" in result["error"]
    assert checker.check(refresh=True)["error"] == result["error"]
    h.checker().check(refresh=True)  # a restart does not reset the wait
    assert h.requests() == 1
    saved = state.load(h.state_dir / state.STATE_FILE)
    assert saved["next_request_at"] == reset


def test_429_retry_after_is_honoured(h: Harness) -> None:
    h.server.expect_request(LATEST).respond_with_data("slow down", status=429,
                                                      headers={"Retry-After": "120"})
    checker = h.checker()
    before = time.time()
    assert "rate limit" in checker.check(refresh=True)["error"]
    checker.check(refresh=True)
    assert h.requests() == 1
    saved = state.load(h.state_dir / state.STATE_FILE)
    assert before + 119 <= saved["next_request_at"] <= time.time() + 121


def test_token_from_config_is_sent(h: Harness) -> None:
    h.serve(release())
    h.checker(token="cfg-token").check(refresh=True)
    assert h.server.log[0][0].headers["Authorization"] == "Bearer cfg-token"


def test_token_from_environment_is_sent(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "env-token\n")
    h.serve(release())
    h.checker().check(refresh=True)
    assert h.server.log[0][0].headers["Authorization"] == "Bearer env-token"


def test_untrusted_text_is_cleaned(h: Harness) -> None:
    h.serve(release("v1.1.0", name="Voxtral\x1b[2J 1.1\u202e.0\x07", html_url="http://evil/x",
                    body="notes\x00 here\n" + "y" * 20_000))
    result = h.checker().check(refresh=True)
    assert result["release_name"] == "Voxtral[2J 1.1.0"
    assert result["release_url"] is None
    assert result["release_notes"].startswith("notes here\n")
    assert len(result["release_notes"]) <= 10_000
    assert result["update_available"] is True
    event = h.events.since(0)["events"][0]["data"]
    assert event == {"version": "1.1.0", "release_url": None, "release_name": "Voxtral[2J 1.1.0"}


def test_dismiss_silences_that_version_only(h: Harness) -> None:
    h.serve(release("v1.1.0"))
    checker = h.checker()
    checker.dismiss("v1.1.0")  # before it was ever seen: never announced
    result = checker.check(refresh=True)
    assert result["update_available"] is True and result["dismissed"] is True
    assert h.announced() == []
    h.server.clear()
    h.serve(release("v1.2.0"))
    restarted = h.checker()  # dismissal is on disk
    result = restarted.check(refresh=True)
    assert result["latest_version"] == "1.2.0" and result["dismissed"] is False
    assert h.announced() == ["1.2.0"]
    assert "1.1.0" in state.load(h.state_dir / state.STATE_FILE)["dismissed"]


def test_dismiss_refuses_what_is_not_a_version(h: Harness) -> None:
    with pytest.raises(ValueError):
        h.checker().dismiss("../../x")


def test_background_thread_checks_soon_after_start_and_stops_fast(h: Harness) -> None:
    h.serve(release("v1.1.0"))
    checker = h.checker()
    checker.start()
    try:
        wait_for(h.announced, 20, "the background check's announcement")
        assert h.announced() == ["1.1.0"]
    finally:
        # The thread sleeps until the next check, hours away; stop ends it now (it joins
        # for a second at most, so the thread must be gone when stop returns).
        thread = checker._thread
        checker.stop()
    assert thread is not None and not thread.is_alive()
    assert h.requests() == 1  # one check, then quiet until the interval passes


def test_interval_zero_means_no_automatic_checks(h: Harness) -> None:
    h.serve(release("v1.1.0"))
    checker = h.checker(check_interval_hours=0)
    checker.start()
    time.sleep(0.3)
    checker.stop()
    assert h.requests() == 0
    assert checker.summary() is None
    assert checker.check(refresh=True)["update_available"] is True  # manual still works


def test_corrupt_state_file_is_a_fresh_start(h: Harness) -> None:
    h.state_dir.mkdir(parents=True)
    (h.state_dir / state.STATE_FILE).write_text("{not json")
    h.serve(release("v1.1.0"))
    assert h.checker().check(refresh=True)["update_available"] is True
    assert json.loads((h.state_dir / state.STATE_FILE).read_text())["release"]["version"] == "1.1.0"


def _call(router: Router, method: str, path: str, body: Any = None,
          query: dict | None = None) -> tuple[int, dict]:
    raw = b"" if body is None else json.dumps(body).encode()
    try:
        return router.dispatch(ApiRequest(method, path, query=query or {}, body=raw))
    except ApiError as exc:
        return exc.status, exc.body()


def test_routes(h: Harness) -> None:
    h.serve(release("v1.1.0"))
    router = Router()
    register_routes(router, h.checker())
    status, body = _call(router, "GET", "/api/updates/check")
    assert status == 200 and body["checked_at"] is None and h.requests() == 0
    status, body = _call(router, "GET", "/api/updates/check", query={"refresh": "1"})
    assert status == 200 and body["update_available"] is True
    assert _call(router, "POST", "/api/updates/dismiss", {})[0] == 400
    assert _call(router, "POST", "/api/updates/dismiss", {"version": "latest"})[0] == 400
    assert _call(router, "POST", "/api/updates/dismiss", {"version": 3})[0] == 400
    status, body = _call(router, "POST", "/api/updates/dismiss", {"version": "1.1.0"})
    assert status == 200 and body["dismissed"] is True
    status, body = _call(router, "POST", "/api/updates/download")
    assert status == 409 and body["error"]["code"] == "no_asset"
    status, body = _call(router, "POST", "/api/updates/apply")
    assert status == 409 and body["error"]["code"] == "not_updatable"
    assert _call(router, "GET", "/api/updates/apply")[1]["can_apply"] is False


def test_cli_text_for_each_outcome() -> None:
    base = {"current_version": "1.0.0", "checked_at": "2025-05-01T10:00:00Z", "error": None}
    assert "up to date" in format_check({**base, "update_available": False})
    assert "failed: offline" in format_check({**base, "error": "offline"})
    text = format_check({**base, "update_available": True, "latest_version": "1.1.0",
                         "release_name": "Big one", "dismissed": True,
                         "release_url": "https://x/y"})
    assert "Update available: 1.1.0" in text and "dismissed" in text and "https://x/y" in text


def test_tampered_state_file_does_not_break_checks(h: Harness) -> None:
    h.state_dir.mkdir(parents=True)
    h.serve(release("v1.1.0"))
    first = h.checker()
    first.check(refresh=True)
    saved = json.loads((h.state_dir / state.STATE_FILE).read_text())
    saved["release"]["version"] = "not a version"
    saved["next_request_at"] = "soon"
    (h.state_dir / state.STATE_FILE).write_text(json.dumps(saved))
    checker = h.checker()
    assert checker.check()["latest_version"] is None  # the bad cache is dropped, no crash
    assert checker.check(refresh=True)["latest_version"] == "1.1.0"


def test_deeply_nested_json_is_garbage_not_a_crash(h: Harness) -> None:
    h.server.expect_request(LATEST).respond_with_data("[" * 200_000, content_type="text/json")
    assert "not valid JSON" in h.checker().check(refresh=True)["error"]


def test_another_repository_does_not_inherit_the_cache(h: Harness) -> None:
    h.serve(release("v1.1.0"))
    h.checker().check(refresh=True)
    conf = UpdatesConfig(repo="someone/else", api_url=h.server.url_for("/").rstrip("/"))
    other = UpdateChecker(conf, h.state_dir, EventLog(), "1.0.0", initial_delay=0)
    assert other.check()["latest_version"] is None
    assert other.summary() is None


def _wait(predicate: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_restart_soon_after_a_check_does_not_check_again(h: Harness) -> None:
    h.serve(release("v1.1.0"))
    h.checker().check(refresh=True)
    restarted = h.checker()
    restarted.start()
    try:
        time.sleep(0.5)
        assert h.requests() == 1
    finally:
        restarted.stop()


def test_checks_repeat_every_interval(h: Harness) -> None:
    h.serve(release("v1.1.0"))
    checker = h.checker(check_interval_hours=0.5 / 3600)  # every half second
    checker.start()
    try:
        assert _wait(lambda: h.requests() >= 3)
    finally:
        checker.stop()
    assert h.announced() == ["1.1.0"]


class RawServer:
    """A stdlib HTTP server that sends its answers byte for byte as written.

    pytest-httpserver goes through werkzeug, which rewrites a Content-Length
    and refuses a malformed Location; these tests need exactly such answers,
    and answers dripped out a byte at a time.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.stopping = threading.Event()
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.close_connection = True
                route = routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self.wfile.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                     b"Connection: close\r\n\r\n")
                else:
                    route(self)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def answer(self, path: str, status: str, headers: dict[str, str], body: bytes = b"") -> None:
        def respond(handler: BaseHTTPRequestHandler) -> None:
            lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()),
                     "Connection: close", "", ""]
            handler.wfile.write("\r\n".join(lines).encode("latin-1") + body)

        self.routes[path] = respond

    def drip(self, path: str, interval: float, declared: int = 1000, most: int = 40) -> None:
        """A 200 that promises `declared` bytes, then sends one every `interval` seconds."""
        def respond(handler: BaseHTTPRequestHandler) -> None:
            try:
                handler.wfile.write(f"HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\n"
                                    "Content-Type: application/octet-stream\r\n"
                                    "Connection: close\r\n\r\n".encode())
                for _ in range(most):
                    handler.wfile.write(b" ")
                    if self.stopping.wait(interval):
                        return
            except OSError:
                return  # the client gave up, as it should

        self.routes[path] = respond

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def raw() -> Iterator[RawServer]:
    server = RawServer()
    try:
        yield server
    finally:
        server.close()


RAW_KEY = SecretKey.generate()


def signed_manifest(raw: RawServer, wheel: str) -> list[dict[str, Any]]:
    """SHA256SUMS (listing `wheel` with an all-zero digest) and its signature, served."""
    sums = f"{'0' * 64}  {wheel}\n".encode()
    signature = RAW_KEY.sign(sums, "file:SHA256SUMS").encode()
    raw.answer("/dl/SHA256SUMS", "200 OK", {"Content-Length": str(len(sums))}, sums)
    raw.answer("/dl/SHA256SUMS.minisig", "200 OK", {"Content-Length": str(len(signature))},
               signature)
    return [{"name": "SHA256SUMS", "browser_download_url": raw.url("/dl/SHA256SUMS")},
            {"name": "SHA256SUMS.minisig",
             "browser_download_url": raw.url("/dl/SHA256SUMS.minisig")}]


def raw_checker(raw: RawServer, tmp_path: Path) -> UpdateChecker:
    conf = UpdatesConfig(repo=REPO, api_url=raw.url("").rstrip("/"),
                         public_keys=[RAW_KEY.public.encode()])
    return UpdateChecker(conf, tmp_path / "raw-state", EventLog(), "1.0.0", initial_delay=0,
                         timeout=(2.0, 2.0))


def test_api_answer_dripping_a_byte_at_a_time_hits_the_deadline(
    raw: RawServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each byte comes well within the read timeout, so only the deadline stops it.
    monkeypatch.setattr(github, "API_DEADLINE", 1.0)
    raw.drip(LATEST, interval=0.3)
    checker = raw_checker(raw, tmp_path)
    result = checker.check(refresh=True)
    # Cut by the deadline: the drip alone would end, after 12 s, in a good answer.
    assert "sending too slowly" in result["error"]
    # The network lock was let go: the next check runs (and meets the deadline again).
    raw.answer(LATEST, "200 OK", {"Content-Type": "application/json"},
               json.dumps(release("v1.1.0")).encode())
    assert checker.check(refresh=True)["latest_version"] == "1.1.0"


def test_download_dripping_a_byte_at_a_time_hits_the_deadline(
    raw: RawServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "DOWNLOAD_DEADLINE", 1.0)
    wheel = "voxtral-1.1.0-py3-none-any.whl"
    assets = [{"name": wheel, "browser_download_url": raw.url(f"/dl/{wheel}"), "size": 1000,
               "digest": "sha256:" + "0" * 64}, *signed_manifest(raw, wheel)]
    raw.answer(LATEST, "200 OK", {"Content-Type": "application/json"},
               json.dumps(release("v1.1.0", assets=assets)).encode())
    raw.drip(f"/dl/{wheel}", interval=0.3)
    checker = raw_checker(raw, tmp_path)
    result = checker.download()
    assert result["code"] == "download_failed"
    assert "sending too slowly" in result["error"]
    updates = tmp_path / "raw-state" / "updates"
    assert not updates.exists() or not any(updates.iterdir())


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [("429 Too Many Requests", {"Retry-After": "\u00b2"}, 60),
     ("403 Forbidden", {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "\u00b2"}, 60),
     ("429 Too Many Requests", {"Retry-After": "9" * 5000}, 24 * 3600)],
    ids=["superscript-retry-after", "superscript-reset", "endless-retry-after"],
)
def test_unreadable_rate_limit_numbers_still_record_a_wait(
    raw: RawServer, tmp_path: Path, status: str, headers: dict[str, str], wait: int
) -> None:
    raw.answer(LATEST, status, {**headers, "Content-Length": "0"})
    checker = raw_checker(raw, tmp_path)
    before = time.time()
    result = checker.check(refresh=True)
    assert "rate limit" in result["error"]
    saved = state.load(tmp_path / "raw-state" / state.STATE_FILE)
    assert before + wait - 1 <= saved["next_request_at"] <= time.time() + wait + 1
    assert saved["last_attempt"] >= before


def test_unreadable_content_length_is_ignored(raw: RawServer, tmp_path: Path) -> None:
    body = json.dumps(release("v1.1.0")).encode()
    raw.answer(LATEST, "200 OK", {"Content-Type": "application/json",
                                  "Content-Length": "\u00b2"}, body)
    result = raw_checker(raw, tmp_path).check(refresh=True)
    assert result["error"] is None and result["latest_version"] == "1.1.0"


def test_redirect_to_a_malformed_address_is_a_clean_error(
    raw: RawServer, tmp_path: Path
) -> None:
    raw.answer(LATEST, "302 Found", {"Location": "https://[::1", "Content-Length": "0"})
    checker = raw_checker(raw, tmp_path)
    result = checker.check(refresh=True)
    assert "an address that is not a URL" in result["error"]
    saved = state.load(tmp_path / "raw-state" / state.STATE_FILE)
    assert saved["error"] == result["error"] and saved["last_attempt"]
    router = Router()
    register_routes(router, checker)
    status, body = _call(router, "GET", "/api/updates/check", query={"refresh": "1"})
    assert status == 200 and body["error"] == result["error"]


def test_download_redirect_to_a_malformed_address_is_a_clean_error(
    raw: RawServer, tmp_path: Path
) -> None:
    wheel = "voxtral-1.1.0-py3-none-any.whl"
    assets = [{"name": wheel, "browser_download_url": raw.url(f"/dl/{wheel}"), "size": 10,
               "digest": "sha256:" + "0" * 64}, *signed_manifest(raw, wheel)]
    raw.answer(LATEST, "200 OK", {"Content-Type": "application/json"},
               json.dumps(release("v1.1.0", assets=assets)).encode())
    raw.answer(f"/dl/{wheel}", "302 Found", {"Location": "https://[::1", "Content-Length": "0"})
    result = raw_checker(raw, tmp_path).download()
    assert result["code"] == "download_failed"
    assert "not a URL" in result["error"]


def test_any_value_error_while_reading_the_answer_ends_as_an_error_line(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_raw: object) -> dict[str, Any]:
        raise ValueError("unforeseen\x1b[2J")

    monkeypatch.setattr(checker_module.release, "normalize_release", broken)
    h.serve(release("v1.1.0"))
    checker = h.checker()
    before = time.time()
    result = checker.check(refresh=True)
    assert result["error"] == "GitHub's answer could not be used (unforeseen[2J)"
    saved = state.load(h.state_dir / state.STATE_FILE)
    assert saved["last_attempt"] >= before and saved["error"] == result["error"]
    assert checker.download()["code"] == "check_failed"


def test_any_value_error_while_staging_is_a_failed_download(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> dict[str, Any]:
        raise ValueError("embedded null byte")

    h.serve(release("v1.1.0"))
    checker = h.checker()
    monkeypatch.setattr(checker._downloader, "stage", broken)
    result = checker.download()
    assert result == {"staged": False, "code": "download_failed",
                      "error": "the release's download could not be used (embedded null byte)"}
