"""The first start of a new version, watched by the previous one.

The launcher hands `run` to this module, in the environment of the version
named in `DIR/pending` (the previous, known-good version), while an update
or a rollback is unfinished. It backs up the job store, switches `current`,
starts the new daemon as its child and waits for `/api/health` to say `ok`
for a few seconds in a row. If the child exits first, or is not healthy
within the limit, it is stopped, the previous version is put back
(`rollback`), and the launcher is started again in this same process, so a
terminal keeps its daemon and a service manager sees one main process.

After a healthy start the supervisor stays the parent: it passes signals
on, relays the service manager's READY and watchdog messages (systemd only
listens to its main process), and when the daemon asks for a restart (exit
75: another update) starts the launcher again in place.

    python -m voxtrald.install.trial --root DIR -- run [ARGS...]
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from voxtrald import _platform
from voxtrald.install import record, rollback, storecopy
from voxtrald.install.layout import InstallRoot, LayoutError
from voxtrald.install.restart import EXIT_RESTART, SUPERVISOR_ENV, launcher_path
from voxtrald.service import sdnotify
from voxtrald.version import current_version

log = logging.getLogger("voxtrald.install")

MAX_STARTS = 3  # a trial interrupted this often (kills, reboots) counts as failed
STABLE_SECONDS = 5.0  # healthy this long in a row before the new version is kept
POLL = 0.5
STOP_GRACE = 20.0
WATCHDOG_EVERY = 10.0
MAX_ROUNDS = 5
_ROUNDS_ENV = "VOXTRAL_TRIAL_ROUNDS"


def _health(socket_path: str) -> tuple[bool, str | None, list[str]]:
    """(ok, version, problems) from the daemon's /api/health; not ok when it does not answer."""
    from voxtrald.bodies import HealthReport
    from voxtrald.client.connection import Client, DaemonUnreachable
    from voxtrald.client.read import read

    try:
        status, raw = Client(Path(socket_path), timeout=2.0).request("GET", "/api/health")
    except DaemonUnreachable:
        return False, None, ["its control socket does not answer"]
    health = read(HealthReport, raw)
    return status == 200 and health["ok"], health["version"] or None, health["problems"][:3]


class Child:
    """The daemon under watch: started once, signals passed on, stopped on demand."""

    def __init__(self, argv: list[str]) -> None:
        env = dict(os.environ)
        env[SUPERVISOR_ENV] = str(os.getpid())
        env.pop(_ROUNDS_ENV, None)
        env.pop("NOTIFY_SOCKET", None)  # the service manager listens to us, not the child
        self.proc = subprocess.Popen(argv, env=env, preexec_fn=_platform.die_with_parent)
        self.stop_requested = False
        for name in ("SIGTERM", "SIGINT", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is not None:
                signal.signal(signum, self._forward)

    def _forward(self, signum: int, _frame: Any) -> None:
        self.stop_requested = True
        with contextlib.suppress(OSError):
            self.proc.send_signal(signum)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                _platform.hard_kill(self.proc.pid)
        return self.proc.wait()


def relaunch(root: InstallRoot, args: list[str]) -> None:
    """Start the launcher again in this process (it finds no pending work now).

    Should `pending` somehow survive (a read-only folder), the launcher would
    hand us the same work forever; after a few rounds `current` is started
    directly instead.
    """
    rounds = int(os.environ.get(_ROUNDS_ENV, "0") or 0) + 1
    os.environ[_ROUNDS_ENV] = str(rounds)
    target = launcher_path(root)
    current = root.current()
    if rounds > MAX_ROUNDS and current is not None:
        log.error("the install keeps asking for the same unfinished update; starting "
                  "Voxtral %s as it is", current)
        target = root.program(current, "voxtrald")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(target, [str(target), *args])


def watch(root: InstallRoot, trial: dict[str, Any], args: list[str]) -> str | None:
    """Run the trial; None when the new version is kept, else why it failed."""
    new, previous = trial["version"], trial["previous"]
    state_dir = Path(trial["state_dir"])
    if not root.is_complete(new):
        return f"version {new} is not completely installed"
    backup = rollback.backup_path(root, previous)
    if not trial.get("backed_up"):
        storecopy.backup(state_dir, backup)
        record.update(root, lambda s: s["trial"].update(backed_up=True) if s["trial"] else None)
    root.switch(new)
    child = Child([str(root.program(new, "voxtrald")), *args])
    deadline = time.monotonic() + float(trial.get("timeout") or 60.0)
    healthy_since: float | None = None
    problems: list[str] = []
    while True:
        code = child.proc.poll()
        if code is not None:
            if child.stop_requested:
                sys.exit(code)  # stopped by the user during its trial: decided next start
            return f"it exited during its first start ({_platform.describe_exit(code)})"
        ok, version, problems = _health(trial["socket"])
        now = time.monotonic()
        if ok and version == new:
            healthy_since = healthy_since or now
            if now - healthy_since >= STABLE_SECONDS:
                break
        else:
            healthy_since = None
        if now > deadline and healthy_since is None:
            child.stop()
            detail = f": {'; '.join(problems)}" if problems else ""
            return (f"it did not report healthy within {trial.get('timeout') or 60:g} s"
                    f"{detail}")
        time.sleep(POLL)
    _confirm(root, new, previous)
    _serve(root, child, trial["socket"], args)
    return None  # not reached: _serve exits or relaunches


def _confirm(root: InstallRoot, new: str, previous: str) -> None:
    def change(state: dict[str, Any]) -> None:
        state["trial"] = None
        state["applied"] = {"version": new, "previous": previous, "at": record.now_iso(),
                            "announced": False}
    record.update(root, change)
    record.write_pending(root, None)
    rollback.prune(root, {new, previous})
    log.info("Voxtral %s is healthy; keeping it (previous: %s)", new, previous)
    sdnotify.notify(f"READY=1\nSTATUS=running Voxtral {new}")


def _serve(root: InstallRoot, child: Child, socket_path: str, args: list[str]) -> None:
    next_ping = 0.0
    while (code := child.proc.poll()) is None:
        if time.monotonic() >= next_ping and os.environ.get("NOTIFY_SOCKET"):
            if _health(socket_path)[0]:
                sdnotify.notify("WATCHDOG=1")
            next_ping = time.monotonic() + WATCHDOG_EVERY
        time.sleep(POLL)
    if code == EXIT_RESTART and not child.stop_requested:
        relaunch(root, args)
    sys.exit(code)


def _fail(root: InstallRoot, trial: dict[str, Any], reason: str) -> None:
    rollback.begin(root, trial["version"], trial["previous"], reason,
                   Path(trial["state_dir"]))
    rollback.finish(root)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 3 or argv[0] != "--root" or "--" not in argv:
        print("usage: python -m voxtrald.install.trial --root DIR -- run [ARGS...]",
              file=sys.stderr)
        return 2
    root = InstallRoot(Path(argv[1]))
    args = argv[argv.index("--") + 1:]
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        state = record.load(root)
        if state["rollback"] is not None:
            rollback.finish(root)
        elif state["trial"] is not None and state["trial"]["previous"] == current_version():
            trial = state["trial"]
            starts = int(trial.get("starts") or 0) + 1
            if starts > MAX_STARTS:
                _fail(root, trial, f"it did not come up in {MAX_STARTS} starts")
            else:
                record.update(root, lambda s: s["trial"].update(starts=starts)
                              if s["trial"] else None)
                reason = watch(root, trial, args)
                if reason is not None:
                    _fail(root, trial, reason)
        else:
            record.write_pending(root, None)  # nothing to finish: a stale name
    except (LayoutError, OSError, TimeoutError, ValueError) as exc:
        # The install must still start: whatever `current` is, the launcher runs it.
        log.error("could not finish the update or rollback: %s", exc)
        with contextlib.suppress(OSError):
            record.write_pending(root, None)
    relaunch(root, args)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
