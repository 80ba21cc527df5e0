"""The control API and the CLI client commands against a real daemon subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DaemonProc
from voxtrald.client.connection import Client


def cli(d: DaemonProc | None, *argv: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voxtrald", *argv], capture_output=True, text=True, timeout=60,
        env=env if env is not None else (d.env if d else dict(os.environ)),
    )


def test_cli_commands_against_the_daemon(daemon_factory: Callable[..., DaemonProc],
                                         speech_wav: Path, data_dir: Path) -> None:
    d = daemon_factory({"jobs": {"max_attempts": 1}})
    out = cli(d, "status")
    assert out.returncode == 0, out.stderr
    assert ": idle" in out.stdout and "0 queued" in out.stdout
    assert cli(d, "jobs").stdout.strip() == "No jobs."

    d.drop(speech_wav, "fox.wav")
    d.wait_jobs(1)
    d.drop(data_dir / "not_audio.wav", "broken.wav")
    failed = d.wait_jobs(1, ("failed",))[0]

    out = cli(d, "jobs")
    assert out.returncode == 0, out.stderr
    rows = out.stdout.splitlines()
    assert rows[0].split()[:3] == ["ID", "STATE", "FILE"]
    assert "broken.wav" in rows[1] and "failed" in rows[1]  # newest first
    assert "fox.wav" in rows[2] and "done" in rows[2]
    listed = json.loads(cli(d, "jobs", "--json", "--state", "done").stdout)
    assert [j["file"] for j in listed["jobs"]] == ["fox.wav"]
    done_id = listed["jobs"][0]["id"]

    out = cli(d, "retry", str(done_id))
    assert out.returncode == 1 and "only failed or cancelled jobs" in out.stderr
    out = cli(d, "retry", "9999", "--json")
    assert out.returncode == 1 and json.loads(out.stdout)["error"]["code"] == "job_not_found"
    out = cli(d, "retry", str(failed["id"]))
    assert out.returncode == 0, out.stderr
    assert f"#{failed['id']}" in out.stdout

    def failures() -> int:
        events = d.api("GET", "/api/events?after=0")[1]["events"]
        return sum(1 for e in events
                   if e["type"] == "job_failed" and e["data"]["id"] == failed["id"])

    d.wait_for(lambda: failures() == 2 and d.job(failed["id"])["state"] == "failed", 60,
               "the retried job to run and fail again")

    out = cli(d, "pause")
    assert out.returncode == 0 and "Paused" in out.stdout
    out = cli(d, "status")
    assert ": paused" in out.stdout and "1 done" in out.stdout and "1 failed" in out.stdout
    status = json.loads(cli(d, "status", "--json").stdout)
    assert status["paused"] is True and status["state"] == "paused"
    assert json.loads(cli(d, "resume", "--json").stdout)["paused"] is False


def test_cli_exit_3_without_a_daemon(tmp_path: Path) -> None:
    env = {**os.environ, "VOXTRAL_SOCKET": str(tmp_path / "nobody-home.sock")}
    for argv in (["status"], ["jobs", "--json"], ["pause"], ["resume"], ["retry", "1"]):
        out = cli(None, *argv, env=env)
        assert out.returncode == 3, (argv, out.stderr)
        assert "voxtrald run" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_unix_socket(daemon: DaemonProc) -> None:
    out = subprocess.run(
        ["curl", "-sS", "--unix-socket", str(daemon.socket), "http://x/api/status"],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["state"] == "idle" and status["version"]
    out = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", "--unix-socket", str(daemon.socket),
         "-X", "POST", "-H", "Content-Type: application/json", "-d", "{oops",
         "http://x/api/pause"], capture_output=True, text=True, timeout=30,
    )
    body, code = out.stdout.rsplit("\n", 1)
    assert code == "400" and json.loads(body)["error"]["code"] == "invalid_json"


def test_fifty_long_pollers_see_the_job_in_order(daemon: DaemonProc, speech_wav: Path) -> None:
    start_seq = daemon.status()["events_last_seq"]
    seen: dict[int, list[dict[str, Any]]] = {}
    errors: list[str] = []
    ready = threading.Barrier(51)

    def poll(n: int) -> None:
        client = Client(daemon.socket, timeout=40)
        after = start_seq
        mine: list[dict[str, Any]] = []
        seen[n] = mine
        ready.wait(30)
        deadline = time.monotonic() + 150
        try:
            while time.monotonic() < deadline:
                data = client.get(f"/api/events?after={after}&timeout=20", timeout=40)
                for event in data["events"]:
                    assert event["seq"] > after
                    after = event["seq"]
                    if event["type"].startswith("job_"):
                        mine.append(event)
                if any(e["type"] in ("job_done", "job_failed") for e in mine):
                    return
        except Exception as exc:
            errors.append(f"poller {n}: {exc!r}")

    threads = [threading.Thread(target=poll, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    ready.wait(30)
    time.sleep(0.5)  # most pollers are now parked inside a long-poll
    daemon.drop(speech_wav, "fox.wav")
    for t in threads:
        t.join(180)
    assert not errors, errors[:3]
    assert len(seen) == 50
    for n, events in seen.items():
        types = [e["type"] for e in events]
        assert types == ["job_started", "job_done"], (n, types)
        assert events[0]["data"]["id"] == events[1]["data"]["id"]
        assert events[1]["data"]["file"] == "fox.wav"
    assert daemon.api("GET", "/api/health")[0] == 200


def test_pause_survives_a_restart(daemon: DaemonProc, speech_wav: Path) -> None:
    assert daemon.api("POST", "/api/pause")[1]["paused"] is True
    daemon.restart()
    status = daemon.status()
    assert status["paused"] is True and status["state"] == "paused"
    daemon.drop(speech_wav, "fox.wav")
    daemon.wait_jobs(1, ("queued",), timeout=30)
    time.sleep(2.0)  # settle time has long passed: a running daemon would have started it
    assert [j["state"] for j in daemon.jobs()] == ["queued"]
    assert daemon.api("POST", "/api/resume")[1]["paused"] is False
    daemon.wait_jobs(1, timeout=90)
    daemon.restart()
    assert daemon.status()["paused"] is False


def test_socket_permissions_and_stale_socket_after_a_crash(daemon: DaemonProc) -> None:
    assert oct(daemon.socket.stat().st_mode & 0o777) == oct(0o600)
    assert oct(daemon.socket.parent.stat().st_mode & 0o777) == oct(0o700)
    daemon.kill()  # SIGKILL: no chance to remove the socket
    assert daemon.socket.exists()
    daemon.start()
    assert daemon.api("GET", "/api/health")[0] == 200


def test_second_daemon_on_the_same_socket_is_refused(daemon: DaemonProc, tmp_path: Path
                                                     ) -> None:
    other = tmp_path / "other"
    argv = [sys.executable, "-m", "voxtrald", "run",
            "--inbox", str(other / "in"), "--outbox", str(other / "out"),
            "--processed-dir", str(other / "p"), "--failed-dir", str(other / "f"),
            "--state-dir", str(other / "state"), "--socket", str(daemon.socket)]
    out = subprocess.run(argv, env=daemon.env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "already" in out.stderr and str(daemon.socket) in out.stderr
    assert daemon.api("GET", "/api/health")[0] == 200  # the first one is untouched


def test_bad_input_while_transcribing(daemon: DaemonProc, speech_wav: Path) -> None:
    """Garbage, floods and rude clients: the daemon answers them and finishes its job."""
    import socket

    from tests.unit.api.test_api_server import CURL_STATUS, connect, read_response

    daemon.drop(speech_wav, "fox.wav")
    sock = daemon.socket
    answers: dict[str, list[int]] = {}
    lock = threading.Lock()

    def garbage(kind: str, data: bytes) -> None:
        with connect(sock) as s:
            try:
                s.sendall(data)
                status = read_response(s)[0]
            except OSError:
                status = -1  # cut off: the server stopped reading a flood, as it should
        with lock:
            answers.setdefault(kind, []).append(status)

    def silent() -> None:
        with connect(sock):
            time.sleep(1.0)  # then leaves without a word

    def rude() -> None:
        with connect(sock) as s:
            s.sendall(b"GET /api/jobs?limit=1000 HTTP/1.1\r\n\r\n")
            s.recv(10)  # and hangs up mid-response

    cases = {
        "tls": b"\x16\x03\x01\x00\xff" * 50,
        "bad_json": b"POST /api/pause HTTP/1.1\r\nContent-Length: 5\r\n\r\n{bad}",
        "huge_header": b"GET /api/status HTTP/1.1\r\nX: " + b"a" * 10_000_000 + b"\r\n\r\n",
        "unknown_job": b"GET /api/jobs/999999 HTTP/1.1\r\n\r\n",
    }
    jobs = [threading.Thread(target=garbage, args=item) for item in cases.items()]
    jobs += [threading.Thread(target=silent) for _ in range(5)]
    jobs += [threading.Thread(target=rude) for _ in range(5)]
    jobs += [threading.Thread(target=garbage, args=("status", CURL_STATUS)) for _ in range(150)]
    for t in jobs:
        t.start()
    for t in jobs:
        t.join(60)
    # Over the connection cap a client may be told 503 (busy); nothing else is acceptable.
    assert answers["tls"][0] in (400, 503)
    assert answers["bad_json"][0] in (400, 503)
    assert answers["huge_header"][0] in (431, 503, -1)
    assert answers["unknown_job"][0] in (404, 503)
    assert len(answers["status"]) == 150 and set(answers["status"]) <= {200, 503}
    assert answers["status"].count(200) >= 30
    done = daemon.wait_jobs(1, timeout=90)
    assert done[0]["file"] == "fox.wav"
    assert daemon.status()["paused"] is False  # the broken POST changed nothing
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(sock))
        s.sendall(CURL_STATUS)
        assert read_response(s)[0] == 200
