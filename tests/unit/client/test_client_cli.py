"""The client and the CLI commands against a real API server on a real socket."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.api.test_api_routes import FakeControl
from voxtrald import cli, paths
from voxtrald.api import core_routes
from voxtrald.api.router import Router
from voxtrald.api.server import ApiServer
from voxtrald.client import calls, commands
from voxtrald.client.connection import ApiResponseError, Client, DaemonUnreachable
from voxtrald.config import ApiConfig
from voxtrald.states import EventType

BUSY_STATUS: dict[str, Any] = {
    "version": "1.0.0", "app_name": "Voxtral Transcription", "instance": "abc",
    "state": "transcribing", "paused": False, "waiting_reason": None,
    "queue": {"queued": 2, "running": 1, "done": 7, "failed": 1, "duplicate": 0},
    "current_job": {"id": 12, "file": "meeting.m4a", "percent": 42.0, "eta_seconds": 95.0,
                    "started_at": "2024-05-01T10:00:00Z"},
    "folders": {"inbox": "/home/u/Voxtral/Inbox", "transcripts": "/home/u/Voxtral/Transcripts",
                "processed": "/p", "failed": "/f"},
    "memory": {"level": "warning", "percent": 83.1, "available_gb": 3.2,
               "message": "Memory is high: close other applications."},
    "update": {"update_available": True, "current_version": "1.0.0", "latest_version": "1.1.0",
               "release_url": "https://example.invalid/r/1.1.0", "dismissed": False,
               "error": None},
    "events_last_seq": 3,
}


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="vxcli-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def daemon(sock_dir: Path) -> Iterator[tuple[Path, FakeControl]]:
    router = Router()
    control = FakeControl()
    core_routes.register(router, control)
    server = ApiServer(sock_dir / "api.sock", router, ApiConfig(request_timeout_seconds=2.0))
    server.start()
    yield server.socket_path, control
    server.stop()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# -- client ----------------------------------------------------------------


def test_client_get_post_and_errors(daemon: tuple[Path, FakeControl]) -> None:
    sock, control = daemon
    client = Client(sock)
    assert client.get("/api/status")["state"] == "idle"
    assert client.post("/api/pause")["paused"] is True and control.paused
    assert client.post("/api/resume", {"why": "test"})["paused"] is False
    with pytest.raises(ApiResponseError) as info:
        client.get("/api/jobs/999")
    assert (info.value.status, info.value.code) == (404, "job_not_found")
    assert client.request("GET", "/nope") == (
        404, {"error": {"code": "not_found", "message": "no such route: /nope"}})


def test_client_socket_from_environment(daemon: tuple[Path, FakeControl],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    sock, _ = daemon
    monkeypatch.setenv("VOXTRAL_SOCKET", str(sock))
    assert Client().socket_path == sock
    assert Client().get("/api/health")["ok"] is True


def test_client_long_poll_uses_its_own_timeout(daemon: tuple[Path, FakeControl]) -> None:
    sock, control = daemon
    threading.Timer(0.5, lambda: control.events.emit(EventType.JOB_DONE, id=1)).start()
    data = Client(sock, timeout=0.2).get("/api/events?after=0&timeout=10", timeout=15)
    assert [e["type"] for e in data["events"]] == ["job_done"]


def test_unreachable_missing_socket(sock_dir: Path) -> None:
    with pytest.raises(DaemonUnreachable, match="voxtrald run"):
        Client(sock_dir / "none.sock").get("/api/status")


def test_unreachable_stale_socket(sock_dir: Path) -> None:
    path = sock_dir / "stale.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.fspath(path))
    s.close()
    with pytest.raises(DaemonUnreachable, match="not running.*voxtrald run"):
        Client(path).get("/api/status")


def test_unreachable_silent_daemon(sock_dir: Path) -> None:
    path = sock_dir / "silent.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.fspath(path))
    s.listen()
    try:
        with pytest.raises(DaemonUnreachable, match="did not answer"):
            Client(path, timeout=0.3).get("/api/status")
    finally:
        s.close()


def test_unreachable_when_cut_off(sock_dir: Path) -> None:
    path = sock_dir / "rude.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.fspath(path))
    s.listen()

    def rude() -> None:
        conn, _ = s.accept()
        conn.recv(1000)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\"")
        conn.close()

    threading.Thread(target=rude, daemon=True).start()
    try:
        with pytest.raises(DaemonUnreachable, match="lost the connection"):
            Client(path).get("/api/status")
    finally:
        s.close()


# -- rendering -------------------------------------------------------------


def test_progress_bar_and_times() -> None:
    assert commands.progress_bar(50, width=10) == "[#####-----]  50.0%"
    assert commands.progress_bar(None, width=4) == "[----]   0.0%"
    assert commands.progress_bar(250, width=4) == "[####] 100.0%"
    assert commands.format_seconds(95) == "1:35"
    assert commands.format_seconds(3725) == "1:02:05"
    assert commands.format_seconds(None) == "?"


def test_render_status_busy() -> None:
    text = commands.render_status(BUSY_STATUS)
    assert "Voxtral 1.0.0: transcribing" in text
    assert "2 queued, 1 running, 7 done, 1 failed, 0 duplicate" in text
    assert "#12 meeting.m4a" in text and "42.0%" in text and "ETA 1:35" in text
    assert "Memory:  warning, 83 % used, 3.2 GB available" in text
    assert "close other applications" in text
    assert "1.1.0 is available (this is 1.0.0): https://example.invalid/r/1.1.0" in text


def test_render_status_quiet_lines_absent() -> None:
    st = {**BUSY_STATUS, "state": "paused", "paused": True, "current_job": None,
          "memory": None, "update": None}
    text = commands.render_status(st)
    assert "paused" in text and "voxtrald resume" in text
    assert "Memory" not in text and "Update" not in text and "Current" not in text


def test_render_jobs_newest_first() -> None:
    jobs = [{"id": 1, "file": "a.wav", "state": "done", "duration": 61.0, "wall_seconds": 5.0},
            {"id": 3, "file": "c.wav", "state": "failed", "error": "cannot decode",
             "attempts": 3, "max_attempts": 3},
            {"id": 2, "file": "b.wav", "state": "running", "percent": 40.0}]
    lines = commands.render_jobs(jobs).splitlines()
    assert lines[0].split()[:3] == ["ID", "STATE", "FILE"]
    assert [ln.split()[0] for ln in lines[1:]] == ["3", "2", "1"]
    assert "gave up: cannot decode" in lines[1] and "40%" in lines[2] and "1:01" in lines[3]


def test_render_jobs_counts_attempts_only_while_retries_remain() -> None:
    failing = {"id": 4, "file": "d.wav", "state": "queued", "error": "worker died",
               "attempts": 1, "max_attempts": 3, "next_attempt_at": "2026-01-01T00:00:00Z"}
    given_up = {"id": 5, "file": "e.wav", "state": "failed", "error": "not audio",
                "attempts": 1, "max_attempts": 3, "next_attempt_at": None}
    text = commands.render_jobs([failing, given_up])
    assert "will retry [1/3] worker died" in text
    assert "gave up: not audio" in text and "[1/3] not audio" not in text
    assert commands.render_jobs([]) == "No jobs."


def test_render_jobs_shows_the_warnings_of_a_finished_job() -> None:
    jobs = [{"id": 1, "file": "cut.flac", "state": "done", "duration": 0.1,
             "warnings": ["decoded 0.1 s of 11.0 s (the file is truncated or damaged)"]}]
    (_, line) = commands.render_jobs(jobs).splitlines()
    assert "warning: decoded 0.1 s of 11.0 s" in line


def test_render_jobs_says_how_to_transcribe_a_cancelled_job_anyway() -> None:
    jobs = [{"id": 7, "file": "skip.wav", "state": "cancelled", "percent": 40.0}]
    (_, line) = commands.render_jobs(jobs).splitlines()
    assert "cancelled" in line and "`voxtrald retry 7` transcribes it anyway" in line


# -- CLI commands ------------------------------------------------------------


def test_cli_status_human_and_json(daemon: tuple[Path, FakeControl],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    sock, control = daemon
    code, out, _ = run_cli(capsys, "status", "--socket", str(sock))
    assert code == cli.EXIT_OK and ": idle" in out and "1 queued" in out
    code, out, _ = run_cli(capsys, "status", "--json", "--socket", str(sock))
    assert code == 0 and json.loads(out) == control.status()


def test_cli_jobs(daemon: tuple[Path, FakeControl], capsys: pytest.CaptureFixture[str]) -> None:
    sock, _ = daemon
    code, out, _ = run_cli(capsys, "jobs", "--socket", str(sock))
    assert code == 0 and [ln.split()[0] for ln in out.splitlines()[1:]] == ["5", "4", "3", "2",
                                                                             "1"]
    code, out, _ = run_cli(capsys, "jobs", "--state", "failed", "--json", "--socket", str(sock))
    assert code == 0 and [j["id"] for j in json.loads(out)["jobs"]] == [2]
    code, _, err = run_cli(capsys, "jobs", "--state", "weird", "--socket", str(sock))
    assert code == cli.EXIT_USAGE and "invalid choice" in err


def test_cli_pause_resume(daemon: tuple[Path, FakeControl],
                          capsys: pytest.CaptureFixture[str]) -> None:
    sock, control = daemon
    code, out, _ = run_cli(capsys, "pause", "--socket", str(sock))
    assert code == 0 and "Paused" in out and control.paused
    code, out, _ = run_cli(capsys, "resume", "--json", "--socket", str(sock))
    assert code == 0 and json.loads(out)["paused"] is False and not control.paused


def test_cli_retry(daemon: tuple[Path, FakeControl], capsys: pytest.CaptureFixture[str]) -> None:
    sock, _ = daemon
    code, out, _ = run_cli(capsys, "retry", "2", "--socket", str(sock))
    assert code == 0 and "#2" in out and "queued" in out
    code, out, err = run_cli(capsys, "retry", "1", "--socket", str(sock))
    assert code == cli.EXIT_ERROR and "only failed or cancelled jobs" in err
    code, out, err = run_cli(capsys, "retry", "404", "--json", "--socket", str(sock))
    assert code == cli.EXIT_ERROR and json.loads(out)["error"]["code"] == "job_not_found"
    code, _, err = run_cli(capsys, "retry", "abc", "--socket", str(sock))
    assert code == cli.EXIT_USAGE


def test_cli_cancel(daemon: tuple[Path, FakeControl], capsys: pytest.CaptureFixture[str]) -> None:
    sock, control = daemon
    control.jobs[3]["source_path"] = "/home/me/Voxtral/Inbox/f3.wav"
    code, out, err = run_cli(capsys, "cancel", "3", "--socket", str(sock))
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "Job #3 (f3.wav) is cancelled: it is not transcribed, and its file stays where it is "
        "(/home/me/Voxtral/Inbox/f3.wav).",
        "`voxtrald retry 3` transcribes it anyway."]
    code, out, _ = run_cli(capsys, "cancel", "4", "--json", "--socket", str(sock))
    assert code == 0 and json.loads(out)["state"] == "cancelled"
    code, out, err = run_cli(capsys, "cancel", "1", "--socket", str(sock))
    assert code == cli.EXIT_ERROR and out == "" and "is done; only queued or running" in err
    code, out, err = run_cli(capsys, "cancel", "404", "--json", "--socket", str(sock))
    assert code == cli.EXIT_ERROR and json.loads(out)["error"]["code"] == "job_not_found"
    assert run_cli(capsys, "cancel", "abc", "--socket", str(sock))[0] == cli.EXIT_USAGE


@pytest.mark.parametrize("argv", [["status"], ["jobs"], ["pause"], ["resume"], ["retry", "1"],
                                  ["cancel", "1"], ["status", "--json"]])
def test_cli_unreachable_exit_3(sock_dir: Path, capsys: pytest.CaptureFixture[str],
                                argv: list[str]) -> None:
    code, out, err = run_cli(capsys, *argv, "--socket", str(sock_dir / "none.sock"))
    assert code == cli.EXIT_UNREACHABLE
    assert "voxtrald run" in err and out == ""


def test_cli_finds_the_socket_named_in_the_config_file(
        daemon: tuple[Path, FakeControl], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    sock, _ = daemon
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[api]\nsocket = "{sock}"\n', encoding="utf-8")
    monkeypatch.delenv("VOXTRAL_SOCKET", raising=False)
    monkeypatch.setenv("VOXTRAL_CONFIG", str(cfg))
    code, out, _ = run_cli(capsys, "status")
    assert code == 0 and ": idle" in out
    # A broken config file does not stop a query that names its socket.
    cfg.write_text("[api]\nsocket = 5\n", encoding="utf-8")
    assert run_cli(capsys, "status", "--socket", str(sock))[0] == 0
    # ... and without a flag it falls back to the platform default.
    assert calls.socket_for(None) == paths.default_socket()


def test_cli_errors_print_once(daemon: tuple[Path, FakeControl],
                               capsys: pytest.CaptureFixture[str]) -> None:
    sock, _ = daemon
    code, out, err = run_cli(capsys, "retry", "404", "--json", "--socket", str(sock))
    assert code == cli.EXIT_ERROR and err == ""
    error = json.loads(out)["error"]
    assert error["code"] == "job_not_found" and error["message"]
    code, out, err = run_cli(capsys, "retry", "404", "--socket", str(sock))
    assert code == cli.EXIT_ERROR and out == "" and err.count("\n") == 1


@pytest.mark.parametrize("command", ["check-update", "download-update"])
def test_update_commands_use_the_same_socket_rule_and_output(
        daemon: tuple[Path, FakeControl], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], command: str) -> None:
    sock, _ = daemon
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[api]\nsocket = "{sock}"\n', encoding="utf-8")
    monkeypatch.delenv("VOXTRAL_SOCKET", raising=False)
    monkeypatch.setenv("VOXTRAL_CONFIG", str(cfg))
    # This stand-in daemon has no update routes: reached (404, exit 1), not unreachable (3).
    code, out, err = run_cli(capsys, command, "--json")
    assert code == cli.EXIT_ERROR and err == ""
    assert json.loads(out)["error"]["code"] == "not_found"
    code, out, err = run_cli(capsys, command)
    assert code == cli.EXIT_ERROR and out == "" and "no such route" in err
