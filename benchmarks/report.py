"""From each side's transcript of each file to the figures: S, D, I, WER, invented words.

Pure: takes the benchmark's items and the sides' results (plain dicts),
returns plain dicts; bench_real.py does the running, targets.py the judging
and tables.py the printing. The sides, measured in the same run: raw
faster-whisper sequential (`raw`), raw with its own VAD (`vad`), and the
daemon (`ours`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.make_longform import nonspeech_stretches, speech_stretches
from benchmarks.metrics import Score, invented_words, normalise, pooled, score

# What each file is for: scored against a reference, a file with no speech
# (every word is invented), a file without a reference, a built long-form.
SPEECH, NONSPEECH, NOREF, LONGFORM = "speech", "nonspeech", "noref", "longform"
RAW, VAD, OURS = "raw", "vad", "ours"
SIDES = (RAW, VAD, OURS)
SIDE_NAMES = {RAW: "raw seq", VAD: "raw VAD", OURS: "ours"}


@dataclass
class Item:
    name: str
    path: str
    kind: str
    lang: str | None = None
    reference: str = ""
    manifest: dict[str, Any] | None = None
    minutes: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    hard: bool = False  # one of the hard set's files, judged by the hard-set targets


def item_from_ref(name: str, path: str, ref: dict[str, Any] | None) -> Item:
    """refs.json's entry decides the kind: no language = no speech; no text = no reference."""
    if ref is None:
        return Item(name, path, NOREF)
    text = (ref.get("text") or "").strip()
    lang = ref.get("lang")
    if lang is None:
        return Item(name, path, NONSPEECH, None, text)
    return Item(name, path, SPEECH if normalise(text) else NOREF, str(lang), text)


def hard_items(manifest: dict[str, Any]) -> list[Item]:
    """The hard set's clips (make_hardset.build's manifest) as benchmark items."""
    items = []
    for entry in manifest["items"]:
        kind = NONSPEECH if entry["kind"] == "nonspeech" else SPEECH
        extra = {k: entry[k] for k in ("what", "scored_against", "other_reference") if k in entry}
        items.append(Item(entry["name"], entry["path"], kind, entry.get("lang"),
                          entry.get("reference") or "", extra=extra, hard=True))
    return items


def side_figures(item: Item, result: dict[str, Any] | None) -> dict[str, Any] | None:
    """S, D, I, WER, invented words and the measured figures of one side on one file."""
    if result is None:
        return None
    if "error" in result:
        return {"error": result["error"]}
    segments = result.get("segments") or []
    text = result.get("text")
    if text is None:
        text = " ".join(str(s.get("text", "")).strip() for s in segments)
    fig: dict[str, Any] = {
        "words": len(normalise(text)), "wall": result.get("wall"),
        "peak_rss_mb": result.get("peak_rss_mb"), "language": result.get("language"),
        "text": text,
    }
    if "drop_to_transcript" in result:
        fig["drop_to_transcript"] = result["drop_to_transcript"]
    if item.kind in (SPEECH, LONGFORM):
        s = score(item.reference, text)
        fig.update(subs=s.subs, dels=s.dels, ins=s.ins, edits=s.edits, ref_words=s.ref_words,
                   wer=s.wer, deletion_rate=s.deletion_rate)
    if item.kind == NONSPEECH:
        fig["invented"] = fig["words"]
    elif item.kind == LONGFORM and item.manifest is not None:
        found = invented_words(segments, nonspeech_stretches(item.manifest),
                               speech_stretches(item.manifest))
        fig["invented"] = len(found)
        fig["invented_words"] = found
    return fig


def ratio(a: Any, b: Any) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float) and b:
        return round(a / b, 3)
    return None


def row(item: Item, results: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """One file: each side's figures, and ours against each raw side."""
    figs = {side: side_figures(item, results.get(side)) for side in SIDES}
    ours = figs[OURS] or {}
    ratios = {}
    for side in (RAW, VAD):
        other = figs[side] or {}
        ratios[side] = {
            "wall": ratio(ours.get("wall"), other.get("wall")),
            "drop_to_transcript": ratio(ours.get("drop_to_transcript"), other.get("wall")),
            "peak_rss": ratio(ours.get("peak_rss_mb"), other.get("peak_rss_mb")),
        }
    return {"file": item.name, "kind": item.kind, "lang": item.lang, "minutes": item.minutes,
            "hard": item.hard, "what": item.extra.get("what"),
            "scored_against": item.extra.get("scored_against"), **figs, "ratios": ratios}


def _pooled(rows: Sequence[dict[str, Any]], side: str) -> dict[str, Any] | None:
    figs = [r[side] for r in rows]
    if not figs or any(f is None or "error" in f for f in figs):
        return None
    total: Score = pooled(Score(f["subs"], f["dels"], f["ins"], f["ref_words"], f["words"])
                          for f in figs)
    return {"subs": total.subs, "dels": total.dels, "ins": total.ins, "edits": total.edits,
            "ref_words": total.ref_words, "wer": total.wer,
            "deletion_rate": total.deletion_rate}


def pooled_figures(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pooled over words: the short files of refs.json (all, English) and the hard set's.

    Long-forms are left out of the pools (they repeat the short files) and
    judged on their own.
    """
    speech = [r for r in rows if r["kind"] == SPEECH and not r["hard"]]
    english = [r for r in speech if r["lang"] == "en"]
    hard = [r for r in rows if r["kind"] == SPEECH and r["hard"]]
    groups = (("all", speech), ("english", english), ("hard", hard))
    return {group: {side: _pooled(members, side) for side in SIDES}
            for group, members in groups if members}
