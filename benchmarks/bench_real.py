"""Our engine against raw faster-whisper on real recordings, in one run.

Every file in ../shared/audio/refs.json (or, with --hard, the hard set that
benchmarks/make_hardset.py builds from them) plus long-form files
(benchmarks/make_longform.py) go through three sides, file by file so all
meet the same load from whatever else runs: (a) raw faster-whisper
sequential, `WhisperModel.transcribe` with default options and no VAD, and
(b) raw with its own VAD, `WhisperModel.transcribe(path, vad_filter=True)`,
both in one child process of their own; (c) the real daemon, `voxtrald run`
on temp folders, fed through its inbox. Same model folder, int8, same
threads and beam size.

Prints per file, per side and pooled over words: substitutions, deletions
and insertions against the reference (lower case, punctuation dropped,
hyphens split), WER, deletion rate (D / reference words), words invented on
non-speech (every word of empty.wav and laugh2.mp3; on a long-form, words
timed inside its silence and noise stretches), wall time (raw: transcribe;
ours: the job's own wall_seconds, and drop to transcript), peak RSS (the
raw child; the daemon's worker), ours/raw wall ratios, and the engine's
targets, met or missed.

    python benchmarks/bench_real.py [--model default] [--files jfk.flac,empty.wav]
        [--hard] [--longform-minutes 15 | --lengths 5,25,100] [--skip-raw] [--skip-vad]
        [--workdir DIR] [--out FIGURES.json]

The hard set with a 5-minute long-form (the engine's "before and after"):

    .venv/bin/python benchmarks/bench_real.py --hard --lengths 5 --workdir /tmp/bench-real \
        --out /tmp/bench-real/figures.json

Needs the test extras (`make .venv/.test-installed`): the daemon is started
the way the end-to-end tests start it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import make_hardset, make_longform  # noqa: E402
from benchmarks.daemon_side import WARM_UP, OurDaemon  # noqa: E402
from benchmarks.raw_whisper import RawWhisper  # noqa: E402
from benchmarks.report import (  # noqa: E402
    LONGFORM,
    OURS,
    RAW,
    VAD,
    Item,
    hard_items,
    item_from_ref,
    pooled_figures,
    row,
)
from benchmarks.tables import notes, table, targets_table  # noqa: E402
from benchmarks.targets import targets  # noqa: E402
from voxtrald.models import resolve_model  # noqa: E402

AUDIO_DIR = make_longform.AUDIO_DIR


def select_items(refs: dict[str, Any], files: list[str], audio_dir: Path) -> list[Item]:
    """refs.json's files (all, or those named), and any other audio file named by path."""
    items = []
    for name in files or sorted(refs):
        if name in refs:
            items.append(item_from_ref(name, str(audio_dir / name), refs[name]))
        elif Path(name).is_file():
            items.append(item_from_ref(Path(name).name, str(Path(name).resolve()), None))
        else:
            raise SystemExit(f"{name}: neither a file in refs.json nor an audio file")
    return items


def longform_item(workdir: Path, minutes: float, seed: int, audio_dir: Path) -> Item:
    """Build (or reuse, same length and seed) a long-form file and describe it."""
    out = workdir / f"longform-{minutes:g}min-seed{seed}.flac"
    ref_path, manifest_path = make_longform.side_files(out)
    manifest = None
    if out.exists() and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest is None or manifest.get("minutes") != minutes or manifest.get("seed") != seed:
        print(f"building {out.name} ...", flush=True)
        manifest = make_longform.build(out, minutes, seed, audio_dir)
    return Item(out.name, str(out), LONGFORM, "mixed", ref_path.read_text(encoding="utf-8"),
                manifest, minutes)


def parse_sets(pairs: list[str]) -> dict[str, dict[str, Any]]:
    """--set engine.batch_size=4: extra daemon config, the value read as TOML."""
    extra: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        section, dot, name = key.strip().partition(".")
        if not (sep and dot and section and name):
            raise SystemExit(f"--set {pair!r}: use SECTION.KEY=VALUE")
        try:
            parsed = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            parsed = value
        extra.setdefault(section, {})[name] = parsed
    return extra


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default", help="a model name or a model folder")
    ap.add_argument("--files", default="",
                    help="comma-separated subset of refs.json (or paths to other audio)")
    ap.add_argument("--longform-minutes", "--lengths", dest="lengths", default="15",
                    help="long-form lengths in minutes, e.g. 15 or 5,25,100; 0 for none")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hard", action="store_true",
                    help="run the hard set (make_hardset.py) instead of refs.json's files")
    ap.add_argument("--skip-raw", action="store_true", help="run only our daemon")
    ap.add_argument("--skip-vad", action="store_true",
                    help="leave out raw faster-whisper's vad_filter=True path")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="extra daemon config, e.g. --set engine.language='\"fr\"'")
    ap.add_argument("--audio-dir", type=Path, default=AUDIO_DIR)
    ap.add_argument("--workdir", type=Path,
                    help="keep long-form files (and the daemon's folders) here; reused")
    ap.add_argument("--out", type=Path, help="write every figure to this JSON file")
    return ap.parse_args(argv)


def run(items: list[Item], model: str, args: argparse.Namespace,
        workdir: Path) -> list[dict[str, Any]]:
    """Each file through raw, then through the daemon; both stay up between files."""
    model_dir = resolve_model(model)
    raw = None if args.skip_raw else RawWhisper(model_dir, args.threads, args.beam)
    if raw is not None:  # warm, as the daemon's worker is before its first measured file
        raw.transcribe(WARM_UP)
    daemon_root = workdir / f"daemon-{os.getpid()}"
    ours = OurDaemon(daemon_root, model, args.threads, args.beam, parse_sets(args.set))
    rows = []
    try:
        for item in items:
            results: dict[str, dict[str, Any] | None] = {}
            print(f"{item.name}: raw seq ...", end=" ", flush=True)
            results[RAW] = raw.transcribe(Path(item.path)) if raw else None
            print("raw VAD ...", end=" ", flush=True)
            results[VAD] = raw.transcribe(Path(item.path), vad_filter=True) \
                if raw is not None and not args.skip_vad else None
            print("ours ...", end=" ", flush=True)
            results[OURS] = ours.transcribe(Path(item.path))
            r = row(item, results)
            print("wall " + ", ".join(f"{side} {(r[side] or {}).get('wall')}"
                                      for side in (RAW, VAD, OURS)), flush=True)
            rows.append(r)
            if args.out:  # a run cut short still leaves the files it finished
                write_figures(args.out, {"partial": True, "files": rows})
    finally:
        ours.close()
        if raw:
            raw.close()
    return rows


def write_figures(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _load(avg: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.1f}" for x in avg)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    refs = json.loads((args.audio_dir / "refs.json").read_text(encoding="utf-8"))
    files = [f.strip() for f in args.files.split(",") if f.strip()]
    lengths = [float(x) for x in args.lengths.split(",") if x.strip() and float(x) > 0]
    started = time.monotonic()
    load_before = psutil.getloadavg()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-real-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        items = select_items(refs, files, args.audio_dir) if files or not args.hard else []
        if args.hard:
            manifest = make_hardset.build(workdir / "hardset", args.seed, args.audio_dir)
            for name, why in manifest["skipped"].items():
                print(f"hard set: {name} left out ({why})")
            items += hard_items(manifest)
        items += [longform_item(workdir, m, args.seed, args.audio_dir) for m in lengths]
        rows = run(items, args.model, args, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    pooled = pooled_figures(rows)
    found = targets(rows, pooled)
    total = time.monotonic() - started
    print()
    print(f"model {args.model} ({resolve_model(args.model)}), int8, {args.threads} threads, "
          f"beam {args.beam}; S, D, I, WER and deletion rate (del = D / ref words) per file "
          "and pooled over words; inv = invented words; wall in s, RSS in MB; "
          "x seq, x VAD = ours/raw wall")
    print(table(rows, pooled))
    if any(r["hard"] for r in rows):
        print("\nhard set:")
        print(notes(rows))
    print("\ntargets:")
    print(targets_table(found))
    load_after = psutil.getloadavg()
    print(f"\nwhole run: {total:.0f} s; load average (1, 5, 15 min) before "
          f"{_load(load_before)}, after {_load(load_after)} on {os.cpu_count()} CPUs")
    if args.out:
        write_figures(args.out, {
            "model": args.model, "model_path": resolve_model(args.model),
            "threads": args.threads, "beam_size": args.beam, "cpus": os.cpu_count(),
            "daemon_config": parse_sets(args.set), "files": rows, "pooled": pooled,
            "targets": found, "run_seconds": round(total, 1),
            "load_average_before": load_before, "load_average_after": load_after,
        })
        print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
