"""Fixtures for the tray's desktop tests: one private desktop for the whole run.

Xvfb, the session bus and the stand-in notification server and tray watcher
start once (session scope) and are reset between tests; each test starts
its own tray process (and daemon), which is what the test is about. A
recording stand-in for `xdg-open` (first on PATH) and for the browser
(BROWSER) write down what the tray asked the desktop to open.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.traybus.bus_services import DesktopServices
from tests.support.traybus.dbusmenu import MenuItem, MenuReader
from tests.support.traybus.fake_daemon import FakeDaemon
from tests.support.traybus.session import Desktop, start_desktop
from tests.support.waiting import wait_for


@dataclass
class Tray:
    proc: subprocess.Popen[bytes]
    log: Path
    services: DesktopServices
    desktop: Desktop
    registrations_before: int
    opened_log: Path
    browser_log: Path
    _reader: MenuReader | None = field(default=None)

    def reader(self) -> MenuReader:
        if self._reader is None:
            n = self.registrations_before
            sender, path = self.services.wait_for(
                lambda: self.services.registrations()[n:][:1], 30, "the tray item to register"
            )[0]
            self._reader = MenuReader(self.desktop.bus_address, sender, path)
        return self._reader

    def menu(self) -> list[MenuItem]:
        return [i for i in self.reader().layout() if not i.separator]

    def labels(self) -> list[str]:
        return [i.label for i in self.menu()]

    def wait_menu(self, pred: Callable[[list[MenuItem]], bool], what: str) -> list[MenuItem]:
        return wait_for(lambda: (m := self.menu()) and pred(m) and m, 20, what)

    def click(self, label_start: str, rebuilt: bool = True) -> None:
        """Click an entry, then wait for the menu pystray rebuilds after every click (its
        items get new ids): a second click sent before that names an item that is gone,
        and is lost. `rebuilt=False` for a click that ends the tray (Quit)."""
        reader = self.reader()
        item = next(i for i in self.menu() if i.label.startswith(label_start))
        shown = reader.last_revision
        reader.click(item.id)
        if rebuilt:
            wait_for(lambda: reader.revision()[0] != shown, 10,
                     f"the menu rebuilt after the click on {label_start!r}")

    def opened(self) -> list[str]:
        """What the tray asked xdg-open to open, in order."""
        return self.opened_log.read_text().splitlines() if self.opened_log.exists() else []

    def stop(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="session")
def shared_desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[Desktop, DesktopServices]]:
    d = start_desktop(tmp_path_factory.mktemp("desktop"))
    try:
        services = DesktopServices(d.bus_address)
    except BaseException:
        d.stop()
        raise
    yield d, services
    services.close()
    d.stop()


@pytest.fixture
def desktop(shared_desktop: tuple[Desktop, DesktopServices]) -> Desktop:
    return shared_desktop[0]


@pytest.fixture
def services(shared_desktop: tuple[Desktop, DesktopServices]) -> DesktopServices:
    s = shared_desktop[1]
    s.reset()
    return s


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeDaemon]:
    folders = {k: str(tmp_path / k) for k in ("inbox", "transcripts", "processed", "failed")}
    daemon = FakeDaemon(tmp_path / "voxtrald.sock", folders)
    yield daemon
    daemon.stop()
    assert daemon.errors == [], f"the stand-in answered what no daemon sends: {daemon.errors}"


def recorder(folder: Path, name: str, log: Path) -> Path:
    """An executable that appends its first argument to `log`: a stand-in opener."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{log}"\n')
    script.chmod(0o755)
    return script


@pytest.fixture
def start_tray(
    tmp_path: Path, desktop: Desktop, services: DesktopServices
) -> Iterator[Callable[..., Tray]]:
    started: list[Tray] = []
    config = tmp_path / "config.toml"
    config.write_text("[tray]\npoll_seconds = 0.5\n")
    browser_log = tmp_path / "browser.log"
    opened_log = tmp_path / "opened.log"
    browser = recorder(tmp_path / "bin", "browser.sh", browser_log)
    recorder(tmp_path / "bin", "xdg-open", opened_log)

    def start(socket: Path | None, extra_env: dict[str, str] | None = None,
              config_extra: str = "") -> Tray:
        """socket None: no --socket flag, the tray finds it by its config (config_extra)."""
        if config_extra:
            config.write_text("[tray]\npoll_seconds = 0.5\n" + config_extra)
        env = desktop.env()
        env.pop("VOXTRAL_SOCKET", None)
        env.update(
            {
                "BROWSER": str(browser),
                "PATH": f"{tmp_path / 'bin'}:{env.get('PATH', '')}",
                "XDG_STATE_HOME": str(tmp_path / "state"),
                "XDG_CONFIG_HOME": str(tmp_path / "xdgconfig"),
                "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "PYTHONUNBUFFERED": "1",
                **(extra_env or {}),
            }
        )
        log = tmp_path / f"tray-{len(started)}.log"
        cmd = [
            sys.executable,
            "-c",
            "from tray.app import main; raise SystemExit(main())",
            *(["--socket", str(socket)] if socket is not None else []),
            "--config",
            str(config),
            "--state-file",
            str(tmp_path / "tray.json"),
        ]
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        tray = Tray(proc, log, services, desktop, len(services.registrations()), opened_log,
                    browser_log)
        started.append(tray)
        return tray

    yield start
    for tray in started:
        tray.stop()


def polls_after(fake: FakeDaemon, n: int = 3) -> None:
    """Wait until the tray has read the status n more times: it had its chance to speak."""
    start = fake.count("GET", "/api/status")
    wait_for(lambda: fake.count("GET", "/api/status") >= start + n, 20, f"{n} status polls")


__all__ = ["Tray", "desktop", "fake", "polls_after", "services", "shared_desktop", "start_tray"]
