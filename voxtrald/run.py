"""`voxtrald run`: load the config, start the daemon, serve until a signal, stop cleanly.

Also the service manager's handshake: READY once the socket answers, watchdog
pings only while every part is healthy, STOPPING on the way out.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from voxtrald import config as config_mod
from voxtrald.daemon import Daemon
from voxtrald.files import textsafe
from voxtrald.service import sdnotify
from voxtrald.startup import StartupError

log = logging.getLogger("voxtrald")


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO), stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("watchdog", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    textsafe.install()


def run_daemon(args: argparse.Namespace) -> int:
    overrides = {
        "paths.inbox": args.inbox, "paths.transcripts": args.transcripts,
        "paths.processed": args.processed_dir, "paths.failed": args.failed_dir,
        "paths.state_dir": args.state_dir, "engine.model": args.model,
        "api.socket": args.socket,
    }
    try:
        cfg = config_mod.load(args.config, overrides)
    except config_mod.ConfigError as exc:
        print(f"voxtrald: {exc}", file=sys.stderr)
        return 1
    setup_logging(args.log_level)
    daemon = Daemon(cfg)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        daemon.start()
    except StartupError as exc:
        print(f"voxtrald: {exc}", file=sys.stderr)
        daemon.stop()
        return 1
    # The socket answers by now: tell a service manager we are up, and keep its watchdog fed.
    sdnotify.notify(f"READY=1\nSTATUS=watching {cfg.paths.inbox}")
    watchdog = sdnotify.Watchdog(daemon.healthy)
    watchdog.start()
    while not stop.wait(0.5) and not daemon.restart.is_set():
        pass
    sdnotify.notify("STOPPING=1")
    watchdog.stop()
    daemon.stop()
    if daemon.restart.is_set() and not stop.is_set():
        from voxtrald.install.restart import relaunch  # an update or rollback is ready

        return relaunch(sys.argv[1:])
    return 0
