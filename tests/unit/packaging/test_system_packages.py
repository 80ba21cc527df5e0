"""`make test` on a fresh machine: system packages first, before any pip step.

packaging/system-packages.sh is run with stand-ins for dpkg-query, apt-get,
sudo and id first on PATH, so each situation of a fresh Debian/Ubuntu machine
(root, passwordless sudo, neither, apt failing, no Python headers) is shown
without touching this machine's packages; the real `make test` is run the
same way to show it stops before creating the virtualenv.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2].parent
SCRIPT = ROOT / "packaging" / "system-packages.sh"
LIST = ROOT / "packaging" / "system-packages.txt"


def listed() -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in LIST.read_text().splitlines())
    return [line for line in lines if line]


def tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


@pytest.fixture
def fakes(tmp_path: Path) -> Path:
    """Stand-ins; FAKE_* variables choose what they answer, calls go to calls.log."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "calls.log"
    tool(bin_, "dpkg-query", 'for pkg; do :; done\ncase " $FAKE_INSTALLED " in *" $pkg "*) '
         'printf "install ok installed";; *) exit 1;; esac\n')
    tool(bin_, "apt-get", f'echo "apt-get $*" >> "{log}"\n[ -z "$FAKE_APT_FAILS" ]\n')
    tool(bin_, "id", 'echo "${FAKE_UID:-1000}"\n')
    tool(bin_, "uname", "echo Linux\n")
    tool(bin_, "sudo", f'[ -n "$FAKE_SUDO" ] || exit 1\nshift\necho "sudo $*" >> "{log}"\n'
         '[ "$1" = true ] && exit 0\n"$@"\n')
    tool(bin_, "python3", 'case "$*" in *Python.h*) [ -z "$FAKE_NO_HEADERS" ];; '
         '*) echo 3.11;; esac\n')
    return bin_


def run(fakes: Path, cmd: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    full = {"PATH": f"{fakes}:/usr/bin:/bin", "HOME": str(fakes.parent), "PYTHON": "python3",
            **env}
    return subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=120, cwd=ROOT)


def calls(fakes: Path) -> list[str]:
    log = fakes.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_without_root_or_sudo_it_stops_with_the_one_command(fakes: Path) -> None:
    have = listed()[:3]
    proc = run(fakes, ["sh", str(SCRIPT)], FAKE_INSTALLED=" ".join(have))
    assert proc.returncode == 2
    missing = listed()[3:]
    assert f"sudo apt-get install -y --no-install-recommends {' '.join(missing)}" in proc.stderr
    assert calls(fakes) == []


def test_as_root_it_installs_what_is_missing(fakes: Path) -> None:
    proc = run(fakes, ["sh", str(SCRIPT)], FAKE_UID="0", FAKE_INSTALLED="espeak-ng xvfb")
    assert proc.returncode == 0, proc.stderr
    missing = [p for p in listed() if p not in ("espeak-ng", "xvfb")]
    assert calls(fakes) == [
        "apt-get update -qq",
        f"apt-get install -y -qq --no-install-recommends {' '.join(missing)}",
    ]


def test_with_passwordless_sudo_it_installs_through_sudo(fakes: Path) -> None:
    proc = run(fakes, ["sh", str(SCRIPT)], FAKE_SUDO="1", FAKE_INSTALLED="")
    assert proc.returncode == 0, proc.stderr
    assert calls(fakes)[0] == "sudo true"
    assert calls(fakes)[1] == "sudo apt-get update -qq"
    assert calls(fakes)[-1].startswith("apt-get install -y -qq --no-install-recommends espeak-ng")


def test_all_installed_means_nothing_to_do(fakes: Path) -> None:
    proc = run(fakes, ["sh", str(SCRIPT)], FAKE_INSTALLED=" ".join(listed()))
    assert (proc.returncode, proc.stderr, calls(fakes)) == (0, "", [])


def test_missing_python_headers_add_the_dev_package(fakes: Path) -> None:
    proc = run(fakes, ["sh", str(SCRIPT)], FAKE_INSTALLED=" ".join(listed()),
               FAKE_NO_HEADERS="1")
    assert proc.returncode == 2
    assert "sudo apt-get install -y --no-install-recommends python3.11-dev" in proc.stderr


def test_apt_failure_is_exit_2_with_the_command(fakes: Path) -> None:
    proc = run(fakes, ["sh", str(SCRIPT)], FAKE_UID="0", FAKE_APT_FAILS="1")
    assert proc.returncode == 2
    assert "run: sudo apt-get install -y --no-install-recommends espeak-ng" in proc.stderr


def test_make_test_stops_before_pip_and_make_run_needs_no_system_package(
    fakes: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    proc = run(fakes, ["make", "test", f"VENV={venv}"])
    assert proc.returncode == 2
    assert "sudo apt-get install" in proc.stderr
    assert not venv.exists()  # stopped before the virtualenv, let alone pip
    dry = run(fakes, ["make", "-n", "test", f"VENV={venv}"]).stdout.splitlines()
    first_pip = next(i for i, line in enumerate(dry) if "pip install" in line)
    assert any("system-packages.sh" in line for line in dry[:first_pip])
    dry_run = run(fakes, ["make", "-n", "run", f"VENV={venv}"]).stdout
    assert "pip install" in dry_run and "system-packages" not in dry_run


def test_ci_runs_make_test_and_nothing_else() -> None:
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert commands[-1] == "make test"
    assert not any("apt-get" in line for line in commands)


def test_the_list_is_the_only_one() -> None:
    """README and .ci/run point at the list rather than repeating it."""
    readme = (ROOT / "README.md").read_text()
    assert "packaging/system-packages.txt" in readme
    assert "libgirepository1.0-dev libcairo2-dev" not in readme
    assert os.access(SCRIPT, os.X_OK)
