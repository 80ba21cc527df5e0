"""`voxtrald selftest`: does this installation work? Imports, model, a real transcription.

Run in a new version's environment before `current` is switched to it, so a
version that cannot import its parts, load the model or transcribe is never
started at all. The clip is eight seconds of speech shipped in the package
(`selftest.flac`: espeak-ng saying CLIP_TEXT, 16 kHz mono), read in place.

The judge is tolerant on purpose. A broken installation (audio decoded wrong,
a model that does not load the right weights, a decoder that returns nothing
or loops) gets almost every word wrong; a working one with any bundled model,
even the smallest, hears most of them, whatever the load on the machine. So
the check asks that most of the clip's words be heard, and that the text not
run on far past them, rather than for one exact word a small model may
mishear ("hello" heard as "the low").
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from voxtrald import exit_codes

CLIP = Path(__file__).resolve().parent / "selftest.flac"
CLIP_TEXT = ("The quick brown fox jumps over the lazy dog. Please call Stella. Ask her to "
             "bring these things with her from the store.")
#: Share of the clip's words that must be heard; every bundled model hears over 90 %.
MIN_HEARD = 0.6
MODULES = ("voxtrald.daemon", "voxtrald.api.server", "voxtrald.engine", "voxtrald.updates.checker",
           "faster_whisper", "ctranslate2", "av", "numpy", "watchdog", "psutil", "cryptography")
LOAD_TIMEOUT = 300.0
TRANSCRIBE_TIMEOUT = 120.0


class SelfTestError(Exception):
    """A step failed; the message names it."""


def check_imports() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # any import failure is the finding
            raise SelfTestError(f"cannot import {name}: {type(exc).__name__}: {exc}") from None


def transcribe_clip(settings: dict[str, Any]) -> str:
    """Load the model in a real worker and transcribe the clip; returns the text."""
    from voxtrald.worker import protocol as wp
    from voxtrald.worker.process import WorkerError, WorkerProcess

    worker = WorkerProcess(settings)
    try:
        try:
            worker.start(timeout=LOAD_TIMEOUT)
        except WorkerError as exc:
            raise SelfTestError(f"cannot load the model: {exc}") from None
        worker.submit(wp.Transcribe(job_id=1, path=str(CLIP)))
        words: list[str] = []
        deadline = time.monotonic() + TRANSCRIBE_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SelfTestError("transcribing the test clip took too long")
            try:
                msg = worker.next_message(left)
            except Exception:
                raise SelfTestError("transcribing the test clip took too long") from None
            if msg is None:
                raise SelfTestError(f"the worker died: {worker.exit_reason()}")
            if isinstance(msg, wp.ChunkDone):
                words.extend(seg.text for seg in msg.segments)
            elif isinstance(msg, wp.Failed):
                raise SelfTestError(f"transcribing the test clip failed: {msg.message}")
            elif isinstance(msg, wp.Done):
                return " ".join(w.strip() for w in words).strip()
    finally:
        worker.stop()


def words(text: str) -> list[str]:
    """Lower-case words without punctuation, for comparing what was said with what was heard."""
    cleaned = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text.lower())
    return cleaned.split()


def judge(heard: str, said: str = CLIP_TEXT) -> str | None:
    """Why `heard` is not a working transcription of `said`, or None when it is.

    Counts the said words that were heard (each as often as said), so a
    misheard word or two costs a little and silence, garbage or a wrong
    language costs everything; a text far longer than the clip is a decoder
    that runs on.
    """
    expected, got = words(said), words(heard)
    left: dict[str, int] = {}
    for word in got:
        left[word] = left.get(word, 0) + 1
    found = 0
    for word in expected:
        if left.get(word, 0) > 0:
            left[word] -= 1
            found += 1
    share = found / len(expected)
    if share < MIN_HEARD:
        return (f"the test clip was transcribed as {heard[:200]!r}: {found} of its "
                f"{len(expected)} words heard, at least {MIN_HEARD:.0%} expected")
    if len(got) > 2 * len(expected):
        return (f"the test clip was transcribed as {heard[:200]!r}: {len(got)} words for "
                f"{len(expected)} said")
    return None


def run(model: str | None, config: Path | None) -> dict[str, Any]:
    from voxtrald import config as config_mod
    from voxtrald.version import current_version
    from voxtrald.worker.process import worker_settings

    started = time.monotonic()
    check_imports()
    cfg = config_mod.load(config, {"engine.model": model})
    text = transcribe_clip(worker_settings(cfg))
    wrong = judge(text)
    if wrong is not None:
        raise SelfTestError(wrong)
    return {"ok": True, "version": current_version(), "model": cfg.engine.model, "text": text,
            "seconds": round(time.monotonic() - started, 1)}


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("selftest", help="check this installation: imports, the model, and "
                         "a real transcription of a bundled clip")
    cmd.add_argument("--model", help="the model to load (default: the config's)")
    cmd.add_argument("--config", type=Path, help="config file (default: as for `run`)")
    cmd.add_argument("--json", action="store_true", help="print the result as JSON")
    cmd.set_defaults(func=_cmd_selftest)


def _cmd_selftest(args: argparse.Namespace) -> int:
    from voxtrald.config import ConfigError

    try:
        result = run(args.model, args.config)
    except (SelfTestError, ConfigError) as exc:
        if args.json:
            print(json.dumps({"ok": False, "error": str(exc)}))
        else:
            print(f"voxtrald: selftest failed: {exc}", file=sys.stderr)
        return exit_codes.ERROR
    if args.json:
        print(json.dumps(result))
    else:
        print(f"Voxtral {result['version']} works: model {result['model']} transcribed the "
              f"test clip as {result['text']!r} ({result['seconds']} s).")
    return exit_codes.OK
