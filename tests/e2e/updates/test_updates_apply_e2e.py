"""Updates end to end: real releases, a real side-by-side install, apply, rollback, kills.

The release script builds two newer versions of this very project from a
clone (GOOD, migrating the job store; BROKEN, migrating it again and then
refusing to start) and signs them with a key made by the `minisign` tool. A
local server stands in for GitHub. The current version is installed with
`voxtrald install --root` into a temp folder and started through its
launcher, as a user would; the tests then apply, roll back and kill it.

The tests in this module run in order on one install (module-scoped), since
each environment costs seconds to build. Environments are seeded from the
test environment's installed packages, so no test downloads a dependency.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import ROOT, DaemonProc
from tests.support.waiting import wait_for
from voxtrald.store.migrations import SCHEMA_VERSION
from voxtrald.updates.minisign import SecretKey, default_trusted_comment

pytestmark = [pytest.mark.skipif(shutil.which("minisign") is None,
                                 reason="the minisign tool is needed (Debian package minisign)")]

REPO = "owner/voxtral"
LATEST = f"/repos/{REPO}/releases/latest"
GIT = ["git", "-c", "user.name=Release Test", "-c", "user.email=release@example.invalid"]
_MAJOR, _MINOR, _PATCH = (int(p) for p in (ROOT / "VERSION").read_text().split("."))
GOOD = f"{_MAJOR}.{_MINOR + 1}.0"  # migrates the job store
BROKEN = f"{_MAJOR}.{_MINOR + 2}.0"  # migrates it again, then cannot start
MIGRATION = ('\n_STEPS[{n}] = "CREATE TABLE notes{n} (job_id INTEGER, note TEXT)"\n'
             "SCHEMA_VERSION = {n}\n")


def git(repo: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, timeout=120)


def cut_release(repo: Path, version: str, key: Path, out: Path, schema: int,
                broken: bool = False) -> Path:
    """Raise VERSION, add a store migration (and a start-up failure), release, keep dist/."""
    (repo / "VERSION").write_text(version + "\n")
    with (repo / "voxtrald" / "store" / "migrations.py").open("a") as fh:
        fh.write(MIGRATION.format(n=schema))
    if broken:
        daemon = repo / "voxtrald" / "daemon.py"
        text = daemon.read_text()
        marker = "        self.store = store = open_store(cfg)\n"
        assert marker in text
        daemon.write_text(text.replace(marker, marker + "        raise StartupError("
                                       "'this release cannot start')\n"))
    git(repo, "commit", "-qam", f"release {version}")
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "release.py"), "--root",
                           str(repo), "--skip-tests", "--sign-key", str(key)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    shutil.copytree(repo / "dist", out / version)
    return out / version


class Releases:
    def __init__(self, server: HTTPServer, folder: Path, pub: str) -> None:
        self.server = server
        self.folder = folder
        self.pub = pub

    def publish(self, version: str, *, wheel_bytes: bytes | None = None,
                signer: SecretKey | None = None) -> None:
        """Serve `version` as the latest release (optionally tampered or signed by another)."""
        self.server.clear()
        dist = self.folder / version
        assets = []
        for path in sorted(dist.iterdir()):
            body = path.read_bytes()
            if path.suffix == ".whl" and wheel_bytes is not None:
                body = wheel_bytes
            if path.name == "SHA256SUMS.minisig" and signer is not None:
                sums = (dist / "SHA256SUMS").read_bytes()
                body = signer.sign(sums, default_trusted_comment("SHA256SUMS")).encode()
            url = f"/dl/{version}/{path.name}"
            self.server.expect_request(url).respond_with_data(body)
            assets.append({"name": path.name, "size": len(body),
                           "browser_download_url": self.server.url_for(url)})
        self.server.expect_request(LATEST).respond_with_json({
            "tag_name": f"v{version}", "name": f"Voxtral {version}", "draft": False,
            "prerelease": False, "html_url": f"https://github.com/{REPO}/releases/v{version}",
            "assets": assets})


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Releases]:
    work = tmp_path_factory.mktemp("releases")
    pub, sec = work / "test.pub", work / "test.key"
    subprocess.run(["minisign", "-G", "-W", "-p", str(pub), "-s", str(sec)], check=True,
                   capture_output=True, timeout=60)
    repo = work / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True, timeout=120)
    started = time.monotonic()
    cut_release(repo, GOOD, sec, work / "dist", schema=SCHEMA_VERSION + 1)
    cut_release(repo, BROKEN, sec, work / "dist", schema=SCHEMA_VERSION + 2, broken=True)
    print(f"two releases built in {time.monotonic() - started:.1f} s")
    server = HTTPServer(host="127.0.0.1")
    server.start()
    try:
        yield Releases(server, work / "dist", pub.read_text().splitlines()[1])
    finally:
        server.clear()
        server.stop()


class Installed(DaemonProc):
    """The daemon started the way an installed user starts it: DIR/bin/voxtrald run."""

    def __init__(self, home: Path, install: Path, config: dict[str, dict[str, Any]]) -> None:
        super().__init__(home, config, None)
        self.install = install

    @property
    def argv(self) -> list[str]:
        return [str(self.install / "bin" / "voxtrald"), *super().argv[3:]]

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """The installed command line (the socket comes from VOXTRAL_SOCKET)."""
        return subprocess.run([str(self.install / "bin" / "voxtrald"), *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def current(self) -> str:
        return os.readlink(self.install / "current")

    def versions(self) -> list[str]:
        return sorted(p.name for p in (self.install / "versions").iterdir())

    def health(self) -> dict[str, Any]:
        return self.api("GET", "/api/health", timeout=5)[1]

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.api("GET", "/api/events?after=0")[1]["events"]
                if e["type"] == kind]


@pytest.fixture(scope="module")
def installed(releases: Releases, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[Installed]:
    home = tmp_path_factory.mktemp("home")
    install = home / "install"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "voxtrald", "install", "--root", str(install)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"install --root took {time.monotonic() - started:.1f} s")
    config = {"updates": {"api_url": releases.server.url_for("/").rstrip("/"), "repo": REPO,
                          "public_keys": [releases.pub], "health_timeout_seconds": 30}}
    (home / "d").mkdir()
    d = Installed(home / "d", install, config)
    d.start()
    d.wait_for(lambda: d.health()["ok"], 60, "the installed daemon to be healthy")
    try:
        yield d
    finally:
        d.kill()
        for pid in _daemon_pids(d):
            os.kill(pid, signal.SIGKILL)


def _daemon_pids(d: Installed) -> list[int]:
    """Processes of this install still running (a daemon started by a rollback, say)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(d.install).encode() in cmd and int(entry.name) != os.getpid():
                found.append(int(entry.name))
    return found


def done_jobs(d: Installed, name: str) -> list[dict[str, Any]]:
    return [j for j in d.jobs() if j["file"] == name and j["state"] == "done"]


def test_installed_version_runs_from_its_launcher(installed: Installed) -> None:
    d = installed
    version = (ROOT / "VERSION").read_text().strip()
    assert d.current() == f"versions/{version}"
    assert d.health()["version"] == version and d.health()["ok"] is True
    launcher = (d.install / "bin" / "voxtrald").read_text()
    assert launcher.startswith("#!/bin/sh") and "current/bin/voxtrald" in launcher
    status, body = d.api("GET", "/api/updates/apply")
    assert status == 200 and body["can_apply"] is True and body["install"] == "side-by-side"
    # install-service uses the launchers of this kind of install.
    out = d.cli("install-service", "--dry-run", "--platform", "linux")
    assert f"ExecStart={d.install}/bin/voxtrald run" in out.stdout, out.stdout + out.stderr


def test_apply_good_then_broken_rolls_back_on_its_own(installed: Installed,
                                                      releases: Releases,
                                                      speech_wav: Path) -> None:
    d = installed
    old = d.health()["version"]
    d.drop(DATA_STORY, "story.flac")
    releases.publish(GOOD)
    started = time.monotonic()
    done = d.cli("apply-update", "--json")
    print(f"apply of {GOOD} took {time.monotonic() - started:.1f} s")
    result = json.loads(done.stdout)
    assert done.returncode == 0 and result["applied"] is True, done.stdout + done.stderr
    assert result["running"] == GOOD and result["previous"] == old
    assert d.current() == f"versions/{GOOD}"
    assert d.proc is not None and d.proc.poll() is None  # the same process the user started
    (job,) = d.wait_jobs(1, timeout=120)
    assert job["file"] == "story.flac" and len(done_jobs(d, "story.flac")) == 1
    assert sorted(p.name for p in d.transcripts.iterdir()) == [
        "story.json", "story.srt", "story.txt", "story.vtt"]
    d.wait_for(lambda: d.events("update_applied"), 30, "update_applied")
    assert d.events("update_applied")[0]["data"]["version"] == GOOD

    releases.publish(BROKEN)
    check = json.loads(d.cli("check-update", "--json").stdout)
    assert check["update_available"] is True and check["latest_version"] == BROKEN
    assert check["can_apply"] is True and d.status()["update"]["can_apply"] is True
    started = time.monotonic()
    done = d.cli("apply-update", "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 1 and result["applied"] is False, done.stdout
    assert "rolled back" in result["error"] and "exited" in result["error"]
    d.wait_for(lambda: d.health().get("ok") and d.health()["version"] == GOOD, 120,
               f"{GOOD} serving again")
    print(f"apply and rollback of {BROKEN} took {time.monotonic() - started:.1f} s")
    assert d.current() == f"versions/{GOOD}"
    check = json.loads(d.cli("check-update", "--json").stdout)
    assert check["rolled_back"] is True and check["update_available"] is False
    assert "exited during its first start" in check["rolled_back_reason"]
    assert "rolled back" in d.cli("check-update").stdout
    (event,) = d.wait_for(lambda: d.events("update_rolled_back"), 30, "the rollback event")
    assert event["data"]["version"] == BROKEN and event["data"]["restored"] == GOOD
    status, body = d.api("POST", "/api/updates/apply")
    assert status == 409 and body["error"]["code"] == "rolled_back"
    # The store BROKEN migrated was given back in a form GOOD reads, with every job.
    assert len(done_jobs(d, "story.flac")) == 1
    d.drop(speech_wav, "after.wav")
    d.wait_for(lambda: done_jobs(d, "after.wav"), 120, "a file dropped after the rollback")
    assert len(done_jobs(d, "story.flac")) == 1


def test_tampered_wheel_and_wrong_key_are_refused_with_nothing_changed(
        installed: Installed, releases: Releases) -> None:
    d = installed
    before = (d.current(), d.versions())
    wheel = next((releases.folder / BROKEN).glob("*.whl")).read_bytes()
    tampered = bytearray(wheel)
    tampered[len(tampered) // 2] ^= 0xFF
    for kwargs, code in (({"wheel_bytes": bytes(tampered)}, "verification_failed"),
                         ({"signer": SecretKey.generate()}, "bad_signature")):
        releases.publish(BROKEN, **kwargs)
        shutil.rmtree(d.state_dir / "updates" / BROKEN, ignore_errors=True)  # not yet staged
        status, body = d.api("POST", "/api/updates/apply", {"retry_failed": True})
        assert status == 202, body
        progress = d.wait_for(lambda: d.api("GET", "/api/updates/apply")[1]
                              if d.api("GET", "/api/updates/apply")[1]["state"] == "failed"
                              else None, 60, "the refusal")
        assert progress["code"] == code, progress
        assert (d.current(), d.versions()) == before
        assert d.health()["ok"] is True and d.health()["version"] == GOOD


def test_rollback_by_hand_then_kill_9_during_apply_leaves_a_daemon_that_starts(
        installed: Installed, releases: Releases) -> None:
    d = installed
    done = d.cli("rollback", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    old = (ROOT / "VERSION").read_text().strip()
    d.wait_for(lambda: d.health().get("ok") and d.health()["version"] == old, 60, "rollback")
    assert d.current() == f"versions/{old}"
    assert set(json.loads(d.cli("check-update", "--json").stdout).keys()) >= {"rolled_back"}

    # Killed while the new version's self-check runs: the old one still starts.
    releases.publish(GOOD)
    status, _body = d.api("POST", "/api/updates/apply", {"retry_failed": True})
    assert status == 202
    status, body = d.api("POST", "/api/updates/apply", {"retry_failed": True})
    assert status == 409 and body["error"]["code"] == "busy"  # one apply at a time
    d.wait_for(lambda: d.api("GET", "/api/updates/apply")[1]["state"] == "testing", 120,
               "the self-check")
    for pid in _daemon_pids(d):
        os.kill(pid, signal.SIGKILL)
    assert d.proc is not None
    d.proc.wait()
    d.start()
    d.wait_for(lambda: _healthy_version(d) == old, 60, "the old version after the kill")
    assert d.health()["version"] == old and d.current() == f"versions/{old}"

    # Killed during the new version's first start: the next start finishes the trial.
    status, _body = d.api("POST", "/api/updates/apply", {"retry_failed": True})
    assert status == 202
    wait_for(lambda: (d.install / "pending").exists() and d.current() == f"versions/{GOOD}",
             180, "the trial to begin")
    for pid in _daemon_pids(d):
        os.kill(pid, signal.SIGKILL)
    assert d.proc is not None
    d.proc.wait()
    d.start(wait_ready=False)
    d.wait_for(lambda: _healthy_version(d) == GOOD, 120, f"{GOOD} after the killed trial")
    wait_for(lambda: not (d.install / "pending").exists(), 30, "the trial to be settled")
    assert d.current() == f"versions/{GOOD}"
    # Kept: the current and the previous version; the failed one is removed.
    wait_for(lambda: d.versions() == sorted([old, GOOD]), 30, "older versions to be removed")


def _healthy_version(d: Installed) -> str | None:
    try:
        health = d.health()
    except Exception:
        return None
    return health.get("version") if health.get("ok") else None


DATA_STORY = Path(__file__).resolve().parents[2] / "data" / "story.flac"


def test_sha256_of_signed_release_matches(releases: Releases) -> None:
    dist = releases.folder / GOOD
    done = subprocess.run(["minisign", "-Vm", str(dist / "SHA256SUMS"), "-P", releases.pub],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and f"version:{GOOD}" in done.stdout, done.stderr
    for line in (dist / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest
