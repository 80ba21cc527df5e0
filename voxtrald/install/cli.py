"""`voxtrald install`, `apply-update`, `rollback` and `selftest`.

`apply-update` and `rollback` ask the running daemon (it owns the job in
progress and must checkpoint it), then wait until it is back and say which
version answers. `rollback` with no daemon running does the work itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voxtrald import config, exit_codes
from voxtrald.bodies import ApplyState, ApplyStatus, HealthReport, UpdateCheck
from voxtrald.client.calls import add_options, call_and_print, socket_for
from voxtrald.client.connection import ApiResponseError, Client, DaemonUnreachable
from voxtrald.client.read import read
from voxtrald.files.locks import AlreadyLocked, LockError, LockFile
from voxtrald.install import envbuild, rollback, selftest
from voxtrald.install.layout import LayoutError, detect, how_to_update
from voxtrald.install.record import failed_versions
from voxtrald.version import current_version

APPLY_TIMEOUT = 40 * 60.0  # download, environment, self-check, restart, trial
POLL = 1.0


def register(sub: argparse._SubParsersAction) -> None:
    inst = sub.add_parser("install", help="install this version side by side in DIR, with "
                          "launchers, so it can be updated and rolled back")
    inst.add_argument("--root", type=Path, default=None,
                      help="install folder (default: the platform's user data folder)")
    inst.add_argument("--wheel", type=Path, help="install this Voxtral wheel instead of "
                      "building one from the running source checkout")
    inst.set_defaults(func=_cmd_install)

    apply = sub.add_parser("apply-update", help="download, verify, install and switch to the "
                           "newer release, then restart the daemon into it")
    apply.add_argument("--retry-failed", action="store_true",
                       help="apply a version even though it was rolled back here before")
    apply.add_argument("--no-wait", action="store_true",
                       help="return once the daemon has started applying")
    add_options(apply, timeout=APPLY_TIMEOUT)
    apply.set_defaults(func=_cmd_apply)

    back = sub.add_parser("rollback", help="go back to the previous installed version "
                          "(and never offer the current one again)")
    add_options(back, timeout=600.0)
    back.set_defaults(func=_cmd_rollback)
    selftest.register(sub)


def _cmd_install(args: argparse.Namespace) -> int:
    from voxtrald.install.installer import default_root, install

    try:
        print(install(args.root or default_root(), args.wheel))
    except (LayoutError, envbuild.EnvError, OSError) as exc:
        print(f"voxtrald: install: {exc}", file=sys.stderr)
        return exit_codes.ERROR
    return exit_codes.OK


def _health(client: Client, **kw: Any) -> HealthReport:
    return read(HealthReport, client.get("/api/health", **kw))


def _wait_back(client: Client, old_instance: str | None, deadline: float) -> HealthReport:
    """The daemon's health once it answers again as a new instance."""
    while time.monotonic() < deadline:
        try:
            health = _health(client, timeout=5.0)
        except (DaemonUnreachable, ApiResponseError):
            time.sleep(POLL)
            continue
        if health["instance"] != old_instance and health["ok"]:
            return health
        time.sleep(POLL)
    raise TimeoutError


def _apply_call(args: argparse.Namespace) -> Callable[[Client], dict[str, Any]]:
    def call(client: Client) -> dict[str, Any]:
        before = _health(client)
        answer = client.post("/api/updates/apply", {"retry_failed": args.retry_failed})
        if args.no_wait:
            return answer
        deadline = time.monotonic() + args.timeout
        target = read(ApplyState, answer)["version"]
        while time.monotonic() < deadline:
            try:
                raw = client.get("/api/updates/apply", timeout=5.0)
            except DaemonUnreachable:
                break  # restarting
            progress = read(ApplyStatus, raw)
            if progress["state"] == "failed":
                return {**raw, "applied": False}
            if progress["state"] in ("restarting", "idle"):
                break  # idle: already a new daemon, which has not applied anything
            time.sleep(POLL)
        try:
            health = _wait_back(client, before["instance"], deadline)
        except TimeoutError:
            return {"applied": False, "version": target, "state": "unknown",
                    "error": "the daemon did not come back in time; see its log"}
        running = health["version"]
        check = read(UpdateCheck, client.get("/api/updates/check"))
        return {"applied": running == target, "version": target, "running": running,
                "previous": before["version"], "state": "done",
                "error": None if running == target else
                f"Voxtral {target} was rolled back: {check['rolled_back_reason'] or '?'}"}
    return call


def format_apply(data: dict[str, Any]) -> str:
    if data.get("applied"):
        return f"Voxtral {data['version']} is running (was {data.get('previous')})."
    if data.get("error"):
        return f"Update to {data.get('version')} not applied: {data['error']}"
    return f"Applying Voxtral {data.get('version')}: {data.get('state')}"


def _cmd_apply(args: argparse.Namespace) -> int:
    return call_and_print(args, _apply_call(args), format_apply,
                          lambda d: exit_codes.OK if d.get("applied") or args.no_wait
                          else exit_codes.ERROR)


def _cmd_rollback(args: argparse.Namespace) -> int:
    def call(client: Client) -> dict[str, Any]:
        before = _health(client)
        started = client.post("/api/updates/rollback")
        try:
            health = _wait_back(client, before["instance"], time.monotonic() + args.timeout)
        except TimeoutError:
            return {**started, "error": "the daemon did not come back in time; see its log"}
        return {**started, "running": health["version"], "error": None}

    try:
        Client(socket_for(args.socket), timeout=5.0).get("/api/health")
    except DaemonUnreachable:
        return _rollback_here(args)
    except ApiResponseError:
        pass
    return call_and_print(args, call, format_rollback,
                          lambda d: exit_codes.ERROR if d.get("error") else exit_codes.OK)


def format_rollback(data: dict[str, Any]) -> str:
    if data.get("error"):
        return f"Rollback to {data.get('previous')}: {data['error']}"
    return (f"Rolled back from {data.get('version')} to {data.get('previous')}; "
            f"{data.get('version')} is not offered again.")


def _rollback_here(args: argparse.Namespace) -> int:
    """No daemon runs: roll the install back directly (the next start runs the old version)."""
    running = detect()
    if running.root is None:
        print(f"voxtrald: rollback: {how_to_update(running)}", file=sys.stderr)
        return exit_codes.ERROR
    root = running.root
    current = root.current() or current_version()
    previous = rollback.previous_of(root, current)
    if previous is None:
        print(f"voxtrald: rollback: no earlier version than {current} is installed in "
              f"{root.path}", file=sys.stderr)
        return exit_codes.ERROR
    try:
        state_dir = config.load().paths.state_dir
        # A daemon that holds the store but did not answer must not have it changed under it.
        lock = LockFile(state_dir / "voxtrald.lock")
        lock.acquire()
        try:
            rollback.begin(root, current, previous, "rolled back by hand", state_dir)
            rollback.finish(root)
        finally:
            lock.release()
    except AlreadyLocked as exc:
        print(f"voxtrald: rollback: a daemon (pid {exc.holder}) is running but does not "
              "answer; stop it first", file=sys.stderr)
        return exit_codes.ERROR
    except (config.ConfigError, LayoutError, LockError, OSError, TimeoutError) as exc:
        print(f"voxtrald: rollback: {exc}", file=sys.stderr)
        return exit_codes.ERROR
    data = {"rolling_back": False, "version": current, "previous": previous, "error": None,
            "failed": sorted(failed_versions(root))}
    if args.json:
        import json

        print(json.dumps(data, indent=2))
    else:
        print(format_rollback(data))
    return exit_codes.OK
