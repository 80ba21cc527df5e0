"""A finished transcript's speakers: listed, and renamed by rewriting its files.

The job's JSON transcript holds everything needed (segments with their
speakers, the metadata with `speakers`), so a rename reads it back, puts
the new labels in the metadata and renders the job's whole set again,
atomically, through the same writer as the first time: txt, srt, vtt and
json change together or not at all. The JSON is in the user's folder and
may have been edited: anything that does not read back cleanly is a
RelabelError saying so, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from voxtrald.transcripts import outputs, speakers
from voxtrald.transcripts.segments import Segment

FIRST_WORDS = 12


class RelabelError(Exception):
    """The transcript cannot be read back or the names cannot be applied."""


def read_json(path: Path) -> tuple[list[Segment], dict[str, Any]]:
    """The segments and metadata of a JSON transcript written by this program."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        segments = [Segment.from_dict(s) for s in doc["segments"]]
    except OSError as exc:
        raise RelabelError(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RelabelError(f"{path.name} is not a transcript this program can read back "
                           "(was it edited?)") from exc
    if not isinstance(doc, dict):
        raise RelabelError(f"{path.name} is not a transcript this program can read back")
    meta = {k: v for k, v in doc.items() if k not in ("text", "segments")}
    return segments, meta


def listing(segments: Sequence[Segment], meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each speaker with id, label, seconds and the first words they said."""
    names = {int(s["id"]): str(s.get("label") or "") for s in meta.get("speakers") or ()
             if isinstance(s, dict) and isinstance(s.get("id"), int)}
    out = []
    for item in speakers.summary(segments, names):
        words = [w for seg in outputs.shown(segments) if seg.speaker == item["id"]
                 for w in seg.text.split()]
        out.append({**item, "first_words": " ".join(words[:FIRST_WORDS])})
    return out


def parse_names(given: Mapping[str, Any], known: Sequence[int]) -> dict[int, str]:
    """{"1": "Alice"} → {1: "Alice"}, every id a speaker of the job, every name usable."""
    names: dict[int, str] = {}
    for key, value in given.items():
        if not str(key).isdigit() or int(key) not in known:
            raise RelabelError(f"no speaker {str(key)[:20]!r} in this transcript; "
                               f"speakers: {', '.join(map(str, known)) or 'none'}")
        if not isinstance(value, str):
            raise RelabelError(f"the name of speaker {key} must be text")
        label = speakers.clean_label(value)
        if not label:
            raise RelabelError(f"the name of speaker {key} is empty once cleaned")
        names[int(key)] = label
    return names


def rename(json_path: Path, formats: Sequence[str], names: Mapping[int, str],
           mode: int | None = None) -> list[Path]:
    """Rewrite the set beside `json_path` with these labels; the files written."""
    segments, meta = read_json(json_path)
    known = [s["id"] for s in meta.get("speakers") or () if isinstance(s, dict)]
    if not known:
        raise RelabelError("this transcript has no speaker labels to rename")
    merged = {int(s["id"]): str(s.get("label") or "") for s in meta["speakers"]}
    merged.update(names)
    meta["speakers"] = speakers.summary(segments, merged)
    folder, stem = json_path.parent, json_path.stem
    return outputs.write_transcripts(folder, stem, formats, segments, meta, mode=mode)
