# ruff: noqa: F811 - pytest fixtures imported from tests.support.api_server are parameters here
"""The API server on a real Unix socket, fed raw bytes the way curl and worse peers do."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api_server import (  # noqa: F401 - fixtures
    _readers,
    assert_healthy,
    connect,
    exchange,
    get,
    make_server,
    read_response,
    server,
    sock_dir,
)
from tests.support.waiting import wait_for
from tests.unit.api.test_api_routes import FakeControl
from voxtrald.api import server as server_mod
from voxtrald.api import wire
from voxtrald.api.router import ApiError
from voxtrald.api.server import AlreadyRunning, ApiServer, ApiServerError
from voxtrald.states import EventType

# Exactly what `curl --unix-socket S http://x/api/status` sends.
CURL_STATUS = (
    b"GET /api/status HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
)


def run_all(fn: Callable[[], None], n: int, timeout: float = 60) -> None:
    """Run `fn` on n threads at once and wait for all of them."""
    threads = [threading.Thread(target=fn) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)


def holding(srv: ApiServer, n: int) -> None:
    """Wait until n connections hold a slot (being served)."""
    wait_for(lambda: srv._server is not None and len(srv._server._active) == n, 10,
             f"{n} connections holding a slot")


def waiting(srv: ApiServer, n: int) -> None:
    """Wait until n connections wait for a slot."""
    wait_for(lambda: srv._server is not None and srv._server._waiting == n, 10,
             f"{n} connections waiting for a slot")


def test_curl_request_and_keep_alive(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    with connect(srv.socket_path) as s:
        s.sendall(CURL_STATUS)
        status, headers, body = read_response(s)
        assert status == 200 and body["state"] == "idle"
        assert headers["content-type"].startswith("application/json")
        s.sendall(CURL_STATUS.replace(b"/api/status", b"/api/version"))
        status, _, body = read_response(s)
        assert status == 200 and "version" in body


def test_pipelined_requests_answered_in_order(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    with connect(srv.socket_path) as s:
        s.sendall(CURL_STATUS + CURL_STATUS.replace(b"/api/status", b"/api/version"))
        assert "state" in read_response(s)[2]
        assert "app_name" in read_response(s)[2]


def test_http10_absolute_target_and_query(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    req = b"GET http://x/api/jobs?state=failed&limit=5 HTTP/1.0\r\n\r\n"
    status, headers, body = exchange(srv.socket_path, req)
    assert status == 200 and [j["id"] for j in body["jobs"]] == [2]
    assert headers["connection"] == "close"


def test_post_with_body_and_expect_continue(server: tuple[ApiServer, FakeControl]) -> None:
    srv, control = server
    body = json.dumps({"pad": "x" * 2000}).encode()
    head = (f"POST /api/pause HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode()
    with connect(srv.socket_path) as s:
        s.sendall(head)
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(body)
        status, _, data = read_response(s)
    assert status == 200 and data["paused"] is True and control.paused


@pytest.mark.parametrize(("request_bytes", "status", "code"), [
    (b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found"),
    (b"DELETE /api/status HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method_not_allowed"),
    (b"GET /api/jobs/12345 HTTP/1.1\r\nHost: x\r\n\r\n", 404, "job_not_found"),
    (b"POST /api/pause HTTP/1.1\r\nContent-Length: 5\r\n\r\n{bad}", 400, "invalid_json"),
    (b"GET /api/jobs?limit=0 HTTP/1.1\r\n\r\n", 400, "bad_parameter"),
    (b"GET /api/status HTTP/2.0\r\n\r\n", 505, "http_version_not_supported"),
    (b"GET /api/status\r\n\r\n", 400, "bad_request"),
    (b"GET api/status HTTP/1.1\r\n\r\n", 400, "bad_request"),
    (b"GET /api/status HTTP/1.1\r\nno colon here\r\n\r\n", 400, "bad_request"),
    (b"GET /api/status HTTP/1.1\r\nContent-Length: -3\r\n\r\n", 400, "bad_request"),
    ("GET /api/status HTTP/1.1\r\nContent-Length: \u00b2\r\n\r\n".encode("latin-1"), 400,
     "bad_request"),
    (b"GET /api/status HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
     "bad_request"),
    (b"POST /api/pause HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411,
     "length_required"),
    (b"POST /api/pause HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n", 413, "body_too_large"),
])
def test_error_statuses(server: tuple[ApiServer, FakeControl], request_bytes: bytes,
                        status: int, code: str) -> None:
    srv, _ = server
    got, headers, body = exchange(srv.socket_path, request_bytes)
    assert (got, body["error"]["code"]) == (status, code)
    assert set(body) == {"error"} and body["error"]["message"]
    assert headers["content-type"].startswith("application/json")
    assert_healthy(srv.socket_path)


def test_body_too_large_for_configured_limit(sock_dir: Path) -> None:
    srv, _ = make_server(sock_dir / "s.sock", max_body_bytes=1024)
    with srv:
        body = b'{"a": "' + b"x" * 2000 + b'"}'
        req = b"POST /api/pause HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        status, _, data = exchange(srv.socket_path, req)
        assert status == 413 and "1024" in data["error"]["message"]


def test_handler_crash_is_500_without_traceback(server: tuple[ApiServer, FakeControl],
                                                caplog: pytest.LogCaptureFixture) -> None:
    srv, control = server
    control.fail_status = True
    status, _, body = exchange(srv.socket_path, CURL_STATUS)
    raw = json.dumps(body)
    assert status == 500 and body["error"]["code"] == "internal_error"
    assert "Traceback" not in raw and "secret internal detail" not in raw
    assert "secret internal detail" in caplog.text  # the log keeps the details
    assert_healthy(srv.socket_path)


def test_answers_are_strict_json(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    with connect(srv.socket_path) as s:
        s.sendall(b"GET /api/odd HTTP/1.1\r\nConnection: close\r\n\r\n")
        raw = s.makefile("rb").read()
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert json.loads(body, parse_constant=lambda c: pytest.fail(f"not JSON: {c}")) == {
        "eta": None, "when": "/x", "list": [None, 1.5]}
    status, body = get(srv.socket_path, "/api/loop")
    assert status == 500 and body["error"]["code"] == "internal_error"
    assert_healthy(srv.socket_path)


@pytest.mark.parametrize("garbage", [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(40)),  # a TLS ClientHello
    b"\x00\x00\x00\x00",
    b"hello daemon\n",
    b"SSH-2.0-OpenSSH_9.2\r\n",
])
def test_non_http_bytes_refused_at_once(server: tuple[ApiServer, FakeControl],
                                        garbage: bytes) -> None:
    srv, _ = server
    status, _, body = exchange(srv.socket_path, garbage)
    # Refused on sight: a request cut at the read deadline would be a 408.
    assert status == 400 and body["error"]["code"] == "bad_request"
    assert_healthy(srv.socket_path)


def test_silent_client_gets_408(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    with connect(srv.socket_path) as s:
        status, _, body = read_response(s)
    assert status == 408 and body["error"]["code"] == "request_timeout"


def test_slowloris_is_cut_at_the_deadline(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    with connect(srv.socket_path) as s:
        s.sendall(b"GET /api/status HTTP/1.1\r\n")
        got = b""
        # One header byte every 0.2 s would keep a per-recv timeout happy forever.
        for ch in b"X-Slow: " + b"a" * 40:
            try:
                s.sendall(bytes([ch]))
            except OSError:
                break
            time.sleep(0.2)
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                got += s.recv(4096)
            s.setblocking(True)
            if got:
                break
    assert got.startswith(b"HTTP/1.1 408 ")


def test_slow_body_gets_408(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    with connect(srv.socket_path) as s:
        s.sendall(b"POST /api/pause HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}")
        status, _, _ = read_response(s)
    assert status == 408


def test_truncated_request_then_close(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    for cut in (b"GE", b"GET /api/status HTT", b"POST /api/pause HTTP/1.1\r\nContent-Length: 9"
                b"\r\n\r\n{"):
        with connect(srv.socket_path) as s:
            s.sendall(cut)
            s.shutdown(socket.SHUT_WR)
            assert s.recv(4096) == b""  # nobody to answer a half request: just closed
    assert_healthy(srv.socket_path)


def test_ten_megabyte_header(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    with connect(srv.socket_path) as s:
        payload = b"GET /api/status HTTP/1.1\r\nX-Big: " + b"a" * 10_000_000 + b"\r\n\r\n"

        def push() -> None:
            with contextlib.suppress(OSError):  # the server stops reading, as it should
                s.sendall(payload)

        sender = threading.Thread(target=push, daemon=True)
        sender.start()
        status, _, body = read_response(s)
        assert status == 431 and body["error"]["code"] == "headers_too_large"
    sender.join(5)
    assert_healthy(srv.socket_path)


def test_too_many_header_lines(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    req = b"GET /api/status HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150))
    status, _, _ = exchange(srv.socket_path, req + b"\r\n")
    assert status == 431


def test_client_disconnects_mid_response(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    for _ in range(5):
        with connect(srv.socket_path) as s:
            s.sendall(b"GET /api/big HTTP/1.1\r\n\r\n")
            assert s.recv(16).startswith(b"HTTP/1.1 200")
    assert_healthy(srv.socket_path)


def test_two_hundred_clients_at_once(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    results: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(200)

    def one() -> None:
        try:
            # All start together, each sending as soon as it is connected: waiting at the
            # barrier after connecting ran down the server's 1 s read deadline under load.
            barrier.wait(timeout=30)
            s = connect(srv.socket_path, timeout=30)
            s.sendall(CURL_STATUS.replace(b"Accept", b"Connection: close\r\nAccept"))
            status = read_response(s)[0]
            s.close()
        except Exception as exc:
            status = repr(exc)  # type: ignore[assignment]
        with lock:
            results.append(status)

    run_all(one, 200)
    assert len(results) == 200
    assert all(r == 200 for r in results), [r for r in results if r != 200][:5]
    assert_healthy(srv.socket_path)


def _handler_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "api-conn"}


def test_handler_threads_are_reused_and_end_on_stop(sock_dir: Path) -> None:
    before = _handler_threads()
    srv, _ = make_server(sock_dir / "s.sock")
    with srv:
        for _ in range(50):
            assert_healthy(srv.socket_path)
        mine = _handler_threads() - before
        # One poll after another: idle threads serve them again (without reuse, 50 threads;
        # under load a thread may not be back in the pool when the next poll comes).
        assert 1 <= len(mine) <= 10
    for thread in mine:
        thread.join(10)
        assert not thread.is_alive()


def test_connection_cap_answers_503_when_full(sock_dir: Path) -> None:
    srv, _ = make_server(sock_dir / "s.sock", max_connections=3, request_timeout_seconds=6.0)
    with srv:
        hogs = [connect(srv.socket_path) for _ in range(3)]
        for h in hogs:
            h.sendall(b"GET /api/sta")  # incomplete: each holds a slot
        time.sleep(0.2)
        status, headers, body = exchange(srv.socket_path, CURL_STATUS)
        assert status == 503 and body["error"]["code"] == "busy"
        for h in hogs:
            h.close()
        # Slots come back as soon as the hogs go.
        wait_for(lambda: get(srv.socket_path, "/api/health")[0] == 200, 10,
                 "a free slot after the hogs left")


def test_long_polls_share_the_server(server: tuple[ApiServer, FakeControl]) -> None:
    srv, control = server
    got: list[list[str]] = []

    def poll() -> None:
        _, body = get(srv.socket_path, "/api/events?after=0&timeout=20")
        got.append([e["type"] for e in body["events"]])

    threads = [threading.Thread(target=poll) for _ in range(20)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    assert_healthy(srv.socket_path)  # long-polls do not block short requests
    control.events.emit(EventType.JOB_STARTED, id=1, file="a.wav")
    for t in threads:
        t.join(15)
    assert got == [["job_started"]] * 20


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=600),
    st.builds(
        lambda m, t, v, h, b: m + b" " + t + b" " + v + b"\r\n" + h + b"\r\n\r\n" + b,
        st.sampled_from([b"GET", b"POST", b"PUT", b"G\x00T", b"", b"get"]),
        st.one_of(st.sampled_from([b"/api/status", b"/api/jobs/1/retry", b"/api/pause",
                                   b"/api/events?after=x", b"/%00", b"//", b"*"]),
                  st.binary(max_size=40)),
        st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/9", b"", b"http/1.1"]),
        st.binary(max_size=200),
        st.binary(max_size=100),
    ),
))
def test_fuzz_malformed_requests(server: tuple[ApiServer, FakeControl], data: bytes) -> None:
    srv, _ = server
    with connect(srv.socket_path, timeout=10) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
        except OSError:
            reply = b""
    if reply:
        assert reply.startswith(b"HTTP/1.1 ")
        assert b"Traceback" not in reply
        status = int(reply.split(b" ")[1])
        assert status != 500, reply[:300]
    assert_healthy(srv.socket_path)


def test_socket_and_folder_permissions(sock_dir: Path) -> None:
    sock = sock_dir / "deep" / "er" / "api.sock"
    srv, _ = make_server(sock)
    with srv:
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        assert stat.S_ISSOCK(sock.stat().st_mode)
    assert not sock.exists()  # stop() removes it, so clients see "not running"


def test_second_server_on_the_same_socket_is_refused(server: tuple[ApiServer, FakeControl]
                                                     ) -> None:
    srv, _ = server
    other, _ = make_server(srv.socket_path)
    with pytest.raises(AlreadyRunning, match=rf"pid {os.getpid()}.*{srv.socket_path}"):
        other.start()
    assert_healthy(srv.socket_path)  # the first one keeps its socket


def test_stale_socket_is_replaced(sock_dir: Path) -> None:
    path = sock_dir / "api.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(os.fspath(path))  # a crashed daemon leaves its socket file behind
    dead.close()
    assert path.exists()
    srv, _ = make_server(path)
    with srv:
        assert_healthy(path)


def test_live_socket_without_lock_is_not_stolen(sock_dir: Path) -> None:
    path = sock_dir / "api.sock"
    squatter = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    squatter.bind(os.fspath(path))
    squatter.listen()
    try:
        srv, _ = make_server(path)
        with pytest.raises(AlreadyRunning, match="already listening"):
            srv.start()
        assert path.exists()
    finally:
        squatter.close()


def test_regular_file_in_the_way_is_not_deleted(sock_dir: Path) -> None:
    path = sock_dir / "api.sock"
    path.write_text("precious")
    srv, _ = make_server(path)
    with pytest.raises(ApiServerError, match="not a socket"):
        srv.start()
    assert path.read_text() == "precious"


def test_restart_after_stop(sock_dir: Path) -> None:
    path = sock_dir / "api.sock"
    for _ in range(2):
        srv, _ = make_server(path)
        with srv:
            assert_healthy(path)


def _get_status(path: Path, target: str, timeout: float = 30.0) -> int | str:
    """Status of one request, or the error."""
    try:
        with connect(path, timeout=timeout) as s:
            s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            status: int | str = read_response(s)[0]
    except Exception as exc:
        status = repr(exc)
    return status


def test_connections_over_the_cap_do_not_queue_behind_each_other(
        sock_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each extra connection used to hold the accept thread while it waited for a slot,
    # so the k-th one waited behind k-1 others for its 503. Now every one of them waits
    # side by side: with an hour's wait for a slot, all eleven are accepted and waiting
    # at once, which a queue behind the accept thread could never show.
    monkeypatch.setattr(server_mod, "QUEUE_WAIT_SECONDS", 3600.0)
    srv, _ = make_server(sock_dir / "s.sock", max_connections=2, request_timeout_seconds=30.0)
    results: list[int | str] = []
    lock = threading.Lock()

    def one() -> None:
        res = _get_status(srv.socket_path, "/api/health")
        with lock:
            results.append(res)

    with srv:
        hogs = [connect(srv.socket_path) for _ in range(2)]
        for h in hogs:
            h.sendall(b"GET /api/sta")  # idle clients holding every slot
        holding(srv, 2)
        clients = [threading.Thread(target=one) for _ in range(11)]
        for c in clients:
            c.start()
        waiting(srv, 11)
        assert results == []  # none answered yet: all wait, none is turned away
    # The server stopped: each of them is told at once to come back (503), none hangs.
    for c in clients:
        c.join(30)
    for h in hogs:
        h.close()
    assert results == [503] * 11


def test_waiting_connection_gets_a_slot_as_soon_as_one_frees(
        sock_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With an hour's wait for a slot, an answer at all means the freed slot went to it.
    monkeypatch.setattr(server_mod, "QUEUE_WAIT_SECONDS", 3600.0)
    srv, _ = make_server(sock_dir / "s.sock", max_connections=1, request_timeout_seconds=30.0)
    with srv:
        hog = connect(srv.socket_path)
        hog.sendall(b"GET /api/sta")
        holding(srv, 1)
        got: list[int | str] = []
        answer = threading.Thread(target=lambda: got.append(
            _get_status(srv.socket_path, "/api/health")))
        answer.start()
        waiting(srv, 1)
        hog.close()
        answer.join(30)
    assert got == [200]


def test_long_polls_whose_clients_hung_up_free_their_slots(sock_dir: Path) -> None:
    # A long-poll used to keep its slot for the whole timeout after the
    # client left, so a few abandoned polls locked everyone out for a minute.
    srv, control = make_server(sock_dir / "s.sock", max_connections=4)
    with srv:
        for _ in range(4):
            with connect(srv.socket_path) as s:
                s.sendall(b"GET /api/events?after=0&timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_for(lambda: _get_status(srv.socket_path, "/api/health", timeout=10) == 200, 10,
                 "the departed long-polls' slots to come back")
        # A client that is still there keeps waiting: asked whether it left, the answer is
        # no, again and again, and it gets the event that comes after that.
        asked: list[bool] = []
        since = control.events.since

        def noting(after: int, timeout: float = 0.0,
                   cancelled: Callable[[], bool] | None = None) -> Any:
            def gone() -> bool:
                asked.append(cancelled() if cancelled else False)
                return asked[-1]
            return since(after, timeout, gone)

        control.events.since = noting  # type: ignore[method-assign]
        last = control.events.last_seq
        with connect(srv.socket_path) as s:
            s.sendall(f"GET /api/events?after={last}&timeout=60 HTTP/1.1\r\n"
                      "Host: x\r\n\r\n".encode())
            wait_for(lambda: len(asked) >= 2, 10, "two looks at whether the client is there")
            control.events.emit(EventType.PAUSED)
            assert [e["type"] for e in read_response(s)[2]["events"]] == ["paused"]
        assert not any(asked)


def test_a_flood_of_empty_lines_is_refused_quickly(server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    with connect(srv.socket_path) as s:
        sent = [0]

        def push() -> None:
            chunk = b"\r\n" * 32768
            with contextlib.suppress(OSError):  # the server stops reading, as it should
                for _ in range(300):  # about 19 MiB
                    s.sendall(chunk)
                    sent[0] += len(chunk)

        sender = threading.Thread(target=push, daemon=True)
        sender.start()
        status, _, body = read_response(s)
    sender.join(5)
    # Refused for its size: reading on to the 1 s deadline would have been a 408.
    assert status in (400, 431) and body["error"]["code"] in ("bad_request", "headers_too_large")
    assert_healthy(srv.socket_path)


def test_reader_caps_empty_lines_before_the_request_line() -> None:
    a, b = socket.socketpair()
    with a, b:
        b.sendall(b"\r\n" * 20000)  # 40 000 bytes, more than the 16 KiB head limit
        with pytest.raises(ApiError) as err:
            wire.Reader(wire.Wire(a, 10, lambda: False)).request_line()
        assert err.value.status in (400, 431)  # not 408: it stopped reading at the limit


def test_reader_skips_a_few_empty_lines_and_keeps_what_follows() -> None:
    a, b = socket.socketpair()
    with a, b:
        b.sendall(b"\r\n\n\r\n" + b"POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
                  + b"\r\nGET /y HTTP/1.1\r\n\r\n")
        reader = wire.Reader(wire.Wire(a, 5, lambda: False))
        head = reader.request_line()
        assert head.split()[1] == b"/x"
        assert reader.readline() == b"Content-Length: 2\r\n"
        assert reader.readline() == b"\r\n"
        assert reader.read(2) == b"hi"
        reader.request_read()
        head = reader.request_line()
        assert head.split()[1] == b"/y"


def test_idle_keep_alive_connections_make_room_for_waiting_ones(sock_dir: Path) -> None:
    # Clients that keep their connection open between polls must not lock a
    # newcomer out for the whole keep-alive period.
    srv, _ = make_server(sock_dir / "s.sock", max_connections=2)
    with srv:
        idle = [connect(srv.socket_path) for _ in range(2)]
        for s in idle:
            s.sendall(CURL_STATUS)
            assert read_response(s)[0] == 200
        # A slot within the 2 s a newcomer waits (else 503), long before the idle
        # connections' 5 s keep-alive ends.
        assert _get_status(srv.socket_path, "/api/health") == 200
        # One of them was closed quietly, as HTTP allows for idle connections.
        closed = 0
        for s in idle:
            s.settimeout(0.5)
            with contextlib.suppress(TimeoutError):
                closed += s.recv(1) == b""
            s.close()
        assert closed >= 1


def test_a_kept_alive_connection_is_held_to_the_same_limits(
        server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    with connect(srv.socket_path) as s:
        s.sendall(CURL_STATUS)
        assert read_response(s)[0] == 200
        s.sendall(b"\x16\x03\x01\x00")  # then TLS on the same connection
        status, _, body = read_response(s)
        assert (status, body["error"]["code"]) == (400, "bad_request")  # on sight, not a 408
    with connect(srv.socket_path) as s:
        s.sendall(CURL_STATUS)
        assert read_response(s)[0] == 200
        s.sendall(b"GET /api/status HTTP/1.1\r\nX-Slow: ")  # and never finishes
        status, _, body = read_response(s)
        assert (status, body["error"]["code"]) == (408, "request_timeout")


@pytest.mark.parametrize("header", [b" folded onto the line before", b"X Y: space in name",
                                    b": no name", b"X-Nul\x00: x"])
def test_malformed_header_lines_are_refused(server: tuple[ApiServer, FakeControl],
                                            header: bytes) -> None:
    srv, _ = server
    request = b"GET /api/status HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n"
    status, _, body = exchange(srv.socket_path, request)
    assert (status, body["error"]["code"]) == (400, "bad_request")


def test_connection_close_among_other_options_closes(
        server: tuple[ApiServer, FakeControl]) -> None:
    srv, _ = server
    status, headers, _ = exchange(
        srv.socket_path, b"GET /api/health HTTP/1.1\r\nConnection: TE, close\r\n\r\n")
    assert status == 200 and headers["connection"] == "close"


def test_debug_log_of_a_unix_peer(server: tuple[ApiServer, FakeControl],
                                  caplog: pytest.LogCaptureFixture) -> None:
    # A Unix socket peer has no address for the request log to name.
    srv, _ = server
    with caplog.at_level("DEBUG", logger="voxtrald.api"):
        assert get(srv.socket_path, "/api/health")[0] == 200
        # The line is logged just after the answer leaves.
        wait_for(lambda: "GET /api/health" in caplog.text, 10, "the request's log line")
    assert "GET /api/health HTTP/1.1" in caplog.text
    assert "Traceback" not in caplog.text and "failed" not in caplog.text


@pytest.mark.parametrize("waiting", [1, 20], ids=["refused-at-once", "refused-after-waiting"])
def test_two_hundred_clients_over_the_cap_read_their_503(
        sock_dir: Path, monkeypatch: pytest.MonkeyPatch, waiting: int) -> None:
    """Every client reads an answer (200 or a 503 it can parse), none gets a reset.

    Two long-polls hold the only slots; the rest either get 503 at once (over
    MAX_WAITING) or after waiting. Clients send their request after the server
    may already have refused them, as real clients racing a refusal do.
    """
    monkeypatch.setattr(server_mod, "MAX_WAITING", waiting)
    monkeypatch.setattr(server_mod, "QUEUE_WAIT_SECONDS", 0.2)
    srv, _ = make_server(sock_dir / "s.sock", max_connections=2)
    results: list[object] = []
    lock = threading.Lock()
    barrier = threading.Barrier(200)
    with srv:
        hogs = [connect(srv.socket_path, timeout=30) for _ in range(2)]
        for h in hogs:
            h.sendall(b"GET /api/events?after=999999&timeout=20 HTTP/1.1\r\n\r\n")

        def one() -> None:
            try:
                s = connect(srv.socket_path, timeout=30)
                barrier.wait(timeout=30)
                s.sendall(CURL_STATUS.replace(b"Accept", b"Connection: close\r\nAccept"))
                status, _, body = read_response(s)
                result: object = status if status == 200 else body["error"]["code"]
                s.close()
            except Exception as exc:
                result = repr(exc)
            with lock:
                results.append(result)

        run_all(one, 200)
        for h in hogs:
            h.close()
    assert len(results) == 200
    odd = [r for r in results if r not in (200, "busy")]
    assert odd == [], odd[:5]
    assert "busy" in results
