"""The benchmark's printed tables: one block per file, one line per side, then the pools.

Pure formatting of report.py's rows and targets.py's verdicts, so what a
person reads and what --out writes are the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.report import OURS, RAW, SIDE_NAMES, SIDES, VAD


def _fmt(value: Any, spec: str = ".2f") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


COLUMNS = (("file", 18), ("side", 7), ("ref", 5), ("S", 4), ("D", 4), ("I", 4),
           ("WER", 6), ("del", 6), ("inv", 4), ("wall", 7), ("drop>json", 9),
           ("x seq", 6), ("x VAD", 6), ("RSS", 5))


def _line(cells: Sequence[str]) -> str:
    return " ".join(c.rjust(w) if i > 1 else c.ljust(w)
                    for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS, strict=True)))


def _side_line(label: str, side: str, fig: dict[str, Any] | None,
               ratios: dict[str, Any] | None) -> str:
    f = fig or {}
    if "error" in f:
        return f"{label:<18} {SIDE_NAMES[side]:<7} error: {str(f['error']).splitlines()[0]}"
    seq = (ratios or {}).get(RAW, {}).get("wall") if side == OURS else None
    vad = (ratios or {}).get(VAD, {}).get("wall") if side == OURS else None
    return _line([
        label[:18], SIDE_NAMES[side], _fmt(f.get("ref_words")), _fmt(f.get("subs")),
        _fmt(f.get("dels")), _fmt(f.get("ins")), _fmt(f.get("wer"), ".3f"),
        _fmt(f.get("deletion_rate"), ".3f"), _fmt(f.get("invented")),
        _fmt(f.get("wall"), ".1f"), _fmt(f.get("drop_to_transcript"), ".1f"),
        _fmt(seq), _fmt(vad), _fmt(f.get("peak_rss_mb"), ".0f"),
    ])


def table(rows: Sequence[dict[str, Any]], pooled_: dict[str, Any]) -> str:
    """Per file, per side, then pooled: S, D, I, WER, deletion rate, invented words, time."""
    lines = [_line([c for c, _ in COLUMNS])]
    for r in rows:
        for i, side in enumerate(s for s in SIDES if r.get(s) is not None):
            lines.append(_side_line(r["file"] if i == 0 else "", side, r[side], r["ratios"]))
    for group, sides in pooled_.items():
        for i, side in enumerate(s for s in SIDES if sides.get(s) is not None):
            lines.append(_side_line(f"pooled {group}" if i == 0 else "", side, sides[side], None))
    return "\n".join(lines)


def notes(rows: Sequence[dict[str, Any]]) -> str:
    """What each hard file is, and which reference it is scored against."""
    out = []
    for r in rows:
        if r.get("what"):
            against = f"; scored against the {r['scored_against']}" \
                if r.get("scored_against") else ""
            out.append(f"  {r['file']}: {r['what']}{against}")
    return "\n".join(out)


def targets_table(found: Sequence[dict[str, Any]]) -> str:
    """One line per target: ours, raw's figure, the goal, met / MISSED / n/a."""
    width = max((len(t["target"]) for t in found), default=0)
    lines = []
    for t in found:
        mark = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
        lines.append(f"  {t['target']:<{width}} ours {_fmt(t['ours'], '.3f'):>8}  "
                     f"raw {_fmt(t['raw'], '.3f'):>8}  {t['goal']:<24} {mark}")
    return "\n".join(lines)
