"""Transcript files: txt, srt, vtt and json, written so nobody sees half of one.

Every format is first written to a hidden temp file in the target folder and
only then renamed into place, all formats of a job together; a reader (or a
sync client) therefore sees either no transcript or a complete one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

TEMP_PREFIX = ".voxtral-tmp-"


def _default_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _default_file_mode()


def _timestamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def render_txt(segments: Sequence[dict[str, Any]]) -> str:
    lines = [seg["text"].strip() for seg in segments if seg["text"].strip()]
    return "\n".join(lines) + ("\n" if lines else "")


def render_srt(segments: Sequence[dict[str, Any]]) -> str:
    blocks = []
    for i, seg in enumerate((s for s in segments if s["text"].strip()), start=1):
        start, end = _timestamp(seg["start"], ","), _timestamp(seg["end"], ",")
        blocks.append(f"{i}\n{start} --> {end}\n{seg['text'].strip()}\n")
    return "\n".join(blocks)


def render_vtt(segments: Sequence[dict[str, Any]]) -> str:
    blocks = ["WEBVTT\n"]
    for seg in segments:
        if seg["text"].strip():
            start, end = _timestamp(seg["start"], "."), _timestamp(seg["end"], ".")
            blocks.append(f"{start} --> {end}\n{seg['text'].strip()}\n")
    return "\n".join(blocks)


def render_json(segments: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    doc = dict(meta)
    doc["text"] = " ".join(s["text"].strip() for s in segments if s["text"].strip())
    doc["segments"] = [
        {"start": round(s["start"], 3), "end": round(s["end"], 3), "text": s["text"].strip()}
        for s in segments
    ]
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


RENDERERS = {
    "txt": lambda segs, meta: render_txt(segs),
    "srt": lambda segs, meta: render_srt(segs),
    "vtt": lambda segs, meta: render_vtt(segs),
    "json": render_json,
}


def free_stem(folder: Path, stem: str, formats: Iterable[str]) -> str:
    """A stem for which no NAME.fmt exists yet: 'talk', then 'talk-2', 'talk-3'..."""
    formats = list(formats)
    candidate, n = stem, 1
    while any((folder / f"{candidate}.{fmt}").exists() for fmt in formats):
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def write_transcripts(
    folder: Path,
    stem: str,
    formats: Sequence[str],
    segments: Sequence[dict[str, Any]],
    meta: dict[str, Any],
) -> list[Path]:
    """Render every format to temp files, then rename them all into place."""
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for fmt in formats:
            text = RENDERERS[fmt](segments, meta)
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=f".{fmt}", dir=folder)
            os.fchmod(fd, _FILE_MODE)  # mkstemp's 0600 would hide transcripts from other apps
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            staged.append((Path(tmp), folder / f"{stem}.{fmt}"))
        for tmp, final in staged:
            os.replace(tmp, final)
    except BaseException:
        for tmp, _final in staged:
            tmp.unlink(missing_ok=True)
        raise
    return [final for _tmp, final in staged]


def remove_stale_temps(folder: Path) -> int:
    """Delete temp files a killed daemon left behind; they are never a finished transcript."""
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.rglob(f"{TEMP_PREFIX}*"):
        try:
            path.unlink()
            removed += 1
        except OSError:
            pass
    return removed
