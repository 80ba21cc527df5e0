"""Speaker labels in what is written: names, talk time, paragraphs and cue owners.

The job's metadata carries `speakers: [{id, label, seconds}]` (the JSON shows
it as is); `label` is "Speaker N" until the user renames it, and renaming
only rewrites this list, so every later render keeps the names. A file with
fewer than two speakers gets no labels in txt, srt or vtt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from voxtrald.transcripts.segments import Segment
from voxtrald.transcripts.subtitles import build_cues

MAX_LABEL = 60


def default_label(speaker: int) -> str:
    return f"Speaker {speaker}"


def clean_label(text: str) -> str:
    """A name as a user typed it, made safe for every format: one line, no markup, short."""
    kept = "".join(c if c.isprintable() else " " for c in text)
    kept = kept.replace("<", "").replace(">", "").replace("-->", "-")
    return " ".join(kept.split())[:MAX_LABEL].strip()


def summary(segments: Sequence[Segment], names: Mapping[int, str] | None = None
            ) -> list[dict[str, Any]]:
    """[{id, label, seconds}] for every speaker heard, in number order."""
    seconds: dict[int, float] = {}
    for seg in segments:
        if seg.speaker is not None and not seg.removed:
            seconds[seg.speaker] = seconds.get(seg.speaker, 0.0) + max(0.0, seg.end - seg.start)
    names = names or {}
    return [{"id": sid, "label": names.get(sid) or default_label(sid),
             "seconds": round(seconds[sid], 1)} for sid in sorted(seconds)]


def names_in(meta: Mapping[str, Any] | None) -> dict[int, str] | None:
    """Speaker number → label when the metadata lists two speakers or more; else None."""
    listed = (meta or {}).get("speakers")
    if not isinstance(listed, list):
        return None
    names: dict[int, str] = {}
    for item in listed:
        if isinstance(item, dict) and isinstance(item.get("id"), int):
            names[item["id"]] = clean_label(str(item.get("label") or "")) or default_label(
                item["id"])
    return names if len(names) >= 2 else None


def label_of(speaker: int | None, names: Mapping[int, str]) -> str | None:
    if speaker is None:
        return None
    return names.get(speaker) or default_label(speaker)


def paragraphs(segments: Sequence[Segment], names: Mapping[int, str]) -> str:
    """Text in paragraphs at speaker turns, each opened by its label."""
    blocks: list[tuple[int | None, list[str]]] = []
    for seg in segments:
        if blocks and blocks[-1][0] == seg.speaker:
            blocks[-1][1].append(seg.text.strip())
        else:
            blocks.append((seg.speaker, [seg.text.strip()]))
    out = []
    for speaker, texts in blocks:
        label = label_of(speaker, names)
        body = " ".join(texts)
        out.append(f"{label}: {body}" if label else body)
    return "\n\n".join(out) + ("\n" if out else "")


def cue_speakers(segments: Sequence[Segment]) -> list[int | None]:
    """The speaker of each cue build_cues makes of these segments (a cue never spans two)."""
    return [seg.speaker for seg in segments for _cue in build_cues([seg])]
