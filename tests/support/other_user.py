"""A second local user, for tests where someone else on the machine is the attacker.

Created with useradd when the tests run as root; elsewhere the test is skipped
with why. What that user does runs as a real process under their uid
(subprocess's `user=`), so the kernel, not the test, decides what they may do.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest

NAME = "voxtral-other"
#: The system interpreter: the other user may not be able to reach a virtual environment.
PYTHON = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.path.exists(p)),
              sys.executable)


@dataclass(frozen=True)
class OtherUser:
    name: str
    uid: int

    def run(self, code: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run Python `code` as this user (argv[1:] = args); the result, never raising."""
        return subprocess.run([PYTHON, "-I", "-c", code, *args], user=self.uid,
                              group=pwd.getpwuid(self.uid).pw_gid, extra_groups=[],
                              capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL, cwd="/")


def other_user() -> OtherUser:
    """The second user, created once; skips the test where that is not possible."""
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("a second local user is needed: run as root to create one")
    try:
        return OtherUser(NAME, pwd.getpwnam(NAME).pw_uid)
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd is None:
        pytest.skip("a second local user is needed and useradd(8) is missing")
    done = subprocess.run([useradd, "--no-create-home", "--shell", "/usr/sbin/nologin", NAME],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot create a second local user: {done.stderr.strip()}")
    return OtherUser(NAME, pwd.getpwnam(NAME).pw_uid)
