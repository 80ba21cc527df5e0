"""Hooks with real processes: the JSON on stdin, a time limit, bounded output, no shell.

The runner is exercised with real programs (small scripts written by the test);
the daemon test drops real speech and reads what the hook received.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from conftest import DATA, DaemonProc, wait_for

from voxtrald.jobs.hooks import run_hook

pytestmark = pytest.mark.e2e


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)
    return path


def test_the_hook_gets_the_json_on_stdin_and_its_arguments_unsplit(tmp_path: Path) -> None:
    hook = script(tmp_path, "h", "import sys, json\n"
                  "print(json.dumps({'argv': sys.argv[1:], 'stdin': sys.stdin.read()}))\n")
    result = run_hook((str(hook), "a b; rm -rf /", "$HOME"), b'{"id": 1}', 10, 65536)
    assert result.returncode == 0 and not result.timed_out
    got = json.loads(result.output)
    assert got == {"argv": ["a b; rm -rf /", "$HOME"], "stdin": '{"id": 1}'}


def test_a_hook_that_hangs_is_killed_with_its_children_at_the_limit(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    hook = script(tmp_path, "hang", "import os, time, subprocess, sys\n"
                  "child = subprocess.Popen([sys.executable, '-c',\n"
                  "                          'import time; time.sleep(600)'])\n"
                  f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
                  "print('started', flush=True)\ntime.sleep(600)\n")
    result = run_hook((str(hook),), b"{}", 1.0, 1024)
    assert result.timed_out and result.returncode is None
    assert result.output.startswith(b"started")
    child = int(pid_file.read_text())

    def gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        # A zombie waiting for its reaper is gone too.
        return Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"
    wait_for(gone, 10, "the hook's child to be killed with it")


def test_a_hook_writing_100_mb_is_read_to_the_end_and_kept_to_the_limit(
        tmp_path: Path) -> None:
    hook = script(tmp_path, "loud", "import sys\nblock = b'x' * (1 << 20)\n"
                  "for _ in range(100):\n    sys.stdout.buffer.write(block)\n")
    result = run_hook((str(hook),), b"", 60, 4096)
    assert result.returncode == 0 and not result.timed_out
    assert len(result.output) == 4096 and result.output_total == 100 << 20


def test_a_hook_that_forks_and_exits_is_done_when_it_exits(tmp_path: Path) -> None:
    # The child holds the output pipe for ten minutes; waiting for it would run into the
    # hook's 60 s time limit.
    child = tmp_path / "child.pid"
    hook = script(tmp_path, "fork", "import os, time\n"
                  "if os.fork() == 0:\n"
                  f"    open({str(child)!r}, 'w').write(str(os.getpid()))\n"
                  "    time.sleep(600)\n    os._exit(0)\n"
                  "print('parent done', flush=True)\n")
    try:
        result = run_hook((str(hook),), b"", 60, 1024)
        assert result.returncode == 0 and b"parent done" in result.output
        assert not result.timed_out  # done when the hook exited, not when the pipe closed
    finally:
        wait_for(child.exists, 10, "the child's pid")
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(child.read_text() or 0), signal.SIGKILL)


def test_a_hook_that_is_not_executable_cannot_start(tmp_path: Path) -> None:
    hook = tmp_path / "plain"
    hook.write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(PermissionError):
        run_hook((str(hook),), b"", 5, 1024)


def test_the_daemon_runs_on_done_with_the_json_and_a_hanging_hook_never_holds_the_queue(
        daemon_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen = tmp_path / "seen.jsonl"
    hook = script(tmp_path, "record", "import sys, json, time\n"
                  "doc = json.loads(sys.stdin.read())\n"
                  f"open({str(seen)!r}, 'a').write(json.dumps({{'argv': sys.argv[1:], "
                  "'doc': doc}) + '\\n')\n"
                  "if doc['file'].startswith('slow'):\n    time.sleep(600)\n")
    d: DaemonProc = daemon_factory({"hooks": {"on_done": [str(hook), "{json}", "{id}"],
                                              "timeout_seconds": 2}})
    d.drop(DATA / "fox.wav", "slow.wav")
    d.wait_jobs(1, timeout=120)
    d.drop(DATA / "fox.wav", "fox-again.wav")  # same audio: a duplicate, no hook
    d.drop(DATA / "story.flac")
    jobs = d.wait_jobs(2, timeout=120)
    d.wait_for(lambda: seen.exists() and len(seen.read_text().splitlines()) >= 2, 30,
               "both hooks to be called")
    calls = [json.loads(line) for line in seen.read_text().splitlines()]
    first = next(c for c in calls if c["doc"]["file"] == "slow.wav")
    assert first["doc"]["event"] == "job_done" and first["doc"]["state"] == "done"
    assert first["argv"][0].endswith("slow.json") and Path(first["argv"][0]).exists()
    assert first["argv"][1] == str(first["doc"]["id"])
    assert Path(first["doc"]["source"]).parent == d.processed
    assert {j["file"] for j in jobs} >= {"slow.wav", "story.flac"}
    d.wait_for(lambda: "killed at its time limit of 2 s" in d.log(), 30,
               "the hanging hook to be killed and said so")
    assert d.log().count("killed at its time limit") == 1


def test_a_failed_job_runs_on_failed_and_a_broken_hook_is_said_once(
        daemon_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    not_executable = tmp_path / "nx"
    not_executable.write_text("#!/bin/sh\n")
    d: DaemonProc = daemon_factory({"hooks": {"on_failed": [str(not_executable), "{source}"]},
                                    "jobs": {"max_attempts": 1}})
    d.drop(DATA / "not_audio.wav", "bad1.wav")
    d.drop(DATA / "not_audio.wav", "bad2.wav")
    d.wait_jobs(2, states=("failed", "duplicate"), timeout=120)
    d.wait_for(lambda: "cannot be started" in d.log(), 30, "the broken hook to be reported")
    assert d.log().count("cannot be started") == 1
