"""Shared test fixtures: audio made by espeak-ng, and a real daemon in a subprocess.

The daemon runs exactly as a user starts it (`python -m voxtrald run`), on
temp folders and a temp socket, with the real embedded model; tests talk to
it through its socket and its folders, never through its internals.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.waiting import wait_for
from voxtrald.client.connection import Client, DaemonUnreachable
from voxtrald.models import MODELS_DIR_ENV

# `wait_for` lives in tests/support/waiting.py; re-exported for the daemon helpers below.
__all__ = ["DATA", "ROOT", "DaemonProc", "flip_byte", "tmpfs", "wait_for", "write_toml"]

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parent.parent


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def write_toml(path: Path, config: dict[str, dict[str, Any]]) -> None:
    lines = []
    for section, body in config.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in body.items())
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


@contextlib.contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A real small filesystem at `folder` (a full or a read-only disk), unmounted after.

    Mounting needs root (CI runs as root); elsewhere the test is skipped with why.
    """
    mount = shutil.which("mount")
    if os.name != "posix" or os.geteuid() != 0 or mount is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([mount, "-t", "tmpfs", "-o", options, "voxtral-test", str(folder)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


# Fast defaults for tests: short settle, quick retries, and the small English model, since
# these tests speak English and are about the daemon, not the language (tests of the default
# multilingual model ask for it with {"engine": {"model": "default"}}); the rest as shipped.
BASE_CONFIG: dict[str, dict[str, Any]] = {
    "inbox": {"settle_seconds": 0.5, "scan_interval_seconds": 2.0},
    "jobs": {"retry_backoff_seconds": 0.2},
    "engine": {"threads": 2, "model": "tiny.en"},
    "updates": {"check_interval_hours": 0},
}


# The daemon tests against the team queue: an admin DSN of a PostgreSQL cluster here gives
# every daemon a fresh database of its own on it (docs/development.md).
TEAM_QUEUE_ENV = "VOXTRAL_TEST_TEAM_QUEUE"


def _team_database(admin_dsn: str) -> str:
    import uuid

    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = "vx_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    return make_conninfo(**{**conninfo_to_dict(admin_dsn), "dbname": name})


class DaemonProc:
    def __init__(self, root: Path, config: dict[str, dict[str, Any]] | None,
                 env: dict[str, str] | None, socket_in_config: bool = False) -> None:
        self.root = root
        self.inbox = root / "Inbox"
        self.transcripts = root / "Transcripts"
        self.processed = root / "Processed"
        self.failed = root / "Failed"
        self.state_dir = root / "state"
        self.socket = root / "run" / "voxtrald.sock"
        self.config_path = root / "config.toml"
        self.log_path = root / "daemon.log"
        merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in BASE_CONFIG.items()}
        for section, body in (config or {}).items():
            merged.setdefault(section, {}).update(body)
        if TEAM_QUEUE_ENV in os.environ and "queue" not in merged:
            merged["queue"] = {"backend": _team_database(os.environ[TEAM_QUEUE_ENV])}
        # Either the socket is named only in the config file, or by flag and environment.
        self.socket_in_config = socket_in_config
        if socket_in_config:
            merged.setdefault("api", {})["socket"] = str(self.socket)
        write_toml(self.config_path, merged)
        self.env = dict(os.environ)
        self.env.update({
            "VOXTRAL_SOCKET": str(self.socket),
            "VOXTRAL_CONFIG": str(self.config_path),
            "XDG_STATE_HOME": str(root / "xdg-state"),
            "XDG_CONFIG_HOME": str(root / "xdg-config"),
            "PYTHONUNBUFFERED": "1",
        })
        if socket_in_config:
            del self.env["VOXTRAL_SOCKET"]
        self.env.update(env or {})
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def argv(self) -> list[str]:
        socket_flag = [] if self.socket_in_config else ["--socket", str(self.socket)]
        return [
            sys.executable, "-m", "voxtrald", "run",
            "--inbox", str(self.inbox), "--outbox", str(self.transcripts),
            "--processed-dir", str(self.processed), "--failed-dir", str(self.failed),
            "--state-dir", str(self.state_dir), *socket_flag,
        ]

    def start(self, wait_ready: bool = True) -> DaemonProc:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.root,
                                         stdout=log, stderr=log)
        if wait_ready:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.log()}")
            try:
                return self.api("GET", "/api/health", timeout=2)[0] == 200
            except DaemonUnreachable:
                return False
        wait_for(ready, timeout, "the daemon to answer on its socket")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") \
            if self.log_path.exists() else ""

    def api(self, method: str, path: str, body: dict[str, Any] | None = None,
            timeout: float = 10) -> tuple[int, dict[str, Any]]:
        return Client(self.socket, timeout=timeout).request(method, path, body, timeout=timeout)

    def status(self) -> dict[str, Any]:
        return self.api("GET", "/api/status")[1]

    def job(self, job_id: int) -> dict[str, Any]:
        return self.api("GET", f"/api/jobs/{job_id}")[1]

    def jobs(self) -> list[dict[str, Any]]:
        return self.api("GET", "/api/jobs?limit=1000")[1]["jobs"]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0,
                 what: str = "") -> Any:
        try:
            return wait_for(predicate, timeout, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- daemon log ---\n{self.log()[-4000:]}") from None

    def wait_jobs(self, n: int, states: tuple[str, ...] = ("done",), timeout: float = 60.0,
                  ) -> list[dict[str, Any]]:
        def finished() -> list[dict[str, Any]] | None:
            jobs = [j for j in self.jobs() if j["state"] in states]
            return jobs if len(jobs) >= n else None
        return self.wait_for(finished, timeout, f"{n} job(s) in {states}")

    def drop(self, source: Path, name: str | None = None) -> Path:
        """Copy a file into the inbox the way a user would: written elsewhere, then moved in."""
        self.inbox.mkdir(parents=True, exist_ok=True)
        target = self.inbox / (name or source.name)
        tmp = self.root / f".drop-{target.name}"
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        return target

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"daemon did not stop within {timeout} s:\n{self.log()}") from None

    def end(self, timeout: float = 15.0) -> None:
        """At a test's end: stopped if it still runs (SIGTERM, then SIGKILL after `timeout`)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self, wait_ready: bool = True) -> DaemonProc:
        self.stop()
        return self.start(wait_ready)


def flip_byte(path: Path, offset: int) -> None:
    """Damage a model file the quiet way: one byte changed, size and modification time kept."""
    st = path.stat()
    with path.open("r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.fixture(scope="session", autouse=True)
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One assembled copy of the default model for the whole run, never in the user's home.

    Set in the environment, so every daemon and CLI started by a test inherits it.
    """
    root = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(MODELS_DIR_ENV, str(root))
        yield root


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[Callable[..., DaemonProc]]:
    started: list[DaemonProc] = []

    def start(config: dict[str, dict[str, Any]] | None = None,
              env: dict[str, str] | None = None, wait_ready: bool = True,
              socket_in_config: bool = False) -> DaemonProc:
        root = tmp_path / f"d{len(started)}"
        root.mkdir()
        d = DaemonProc(root, config, env, socket_in_config)
        started.append(d)
        return d.start(wait_ready)

    yield start
    for d in started:
        d.end()


@pytest.fixture
def daemon(daemon_factory: Callable[..., DaemonProc]) -> DaemonProc:
    return daemon_factory()


@pytest.fixture
def speech_wav() -> Path:
    return DATA / "fox.wav"


@pytest.fixture
def data_dir() -> Path:
    return DATA


E2E_DIR = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/e2e/ start real processes: marked `e2e` by their folder."""
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
