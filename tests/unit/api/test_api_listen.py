"""Where the daemon listens: folders and sockets another user prepared are refused."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.api.test_api_server import get, make_server
from voxtrald.api.server import ApiServerError


@pytest.fixture
def base() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="vxlisten-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def refused(sock: Path) -> str:
    server, _ = make_server(sock)
    with pytest.raises(ApiServerError) as err:
        server.start()
    return str(err.value)


def test_a_socket_folder_that_is_a_link_is_refused(base: Path) -> None:
    (base / "elsewhere").mkdir(mode=0o700)
    (base / "run").symlink_to(base / "elsewhere")
    assert "is a link" in refused(base / "run" / "voxtrald.sock")
    assert list((base / "elsewhere").iterdir()) == []


def test_a_folder_others_may_write_to_is_refused_and_left_as_it_is(base: Path) -> None:
    folder = base / "run"
    folder.mkdir()
    folder.chmod(0o777)
    message = refused(folder / "voxtrald.sock")
    assert "can be changed by other users (mode 0777)" in message and "chmod 700" in message
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777


def test_an_encoded_slash_in_the_path_is_a_400(base: Path) -> None:
    server, _ = make_server(base / "run" / "voxtrald.sock")
    server.start()
    try:
        status, body = get(base / "run" / "voxtrald.sock", "/api/jobs/1%2Fretry")
        assert status == 400 and "%2F" in body["error"]["message"]
        assert get(base / "run" / "voxtrald.sock", "/api/jobs/1%2fretry")[0] == 400
    finally:
        server.stop()


needs_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="acting as another user needs root and setpriv")


def as_nobody(*argv: str) -> None:
    subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv],
                   check=True, capture_output=True, timeout=30)


@needs_root
def test_a_folder_another_user_made_is_refused(base: Path) -> None:
    base.chmod(0o1777)
    as_nobody("mkdir", "-m", "0755", str(base / "voxtral-0"))
    message = refused(base / "voxtral-0" / "voxtrald.sock")
    assert "belongs to another user" in message and "uid 65534" in message


@needs_root
def test_another_users_stale_socket_in_a_sticky_folder_is_one_clear_error(base: Path) -> None:
    base.chmod(0o1777)  # like /tmp: we may not remove what others made here
    stale = base / "voxtrald.sock"
    as_nobody(sys.executable, "-c",
              f"import socket; s = socket.socket(socket.AF_UNIX); s.bind({str(stale)!r})")
    assert stale.exists()
    message = refused(stale)
    assert "belongs to another user" in message
    assert stale.exists()
