"""The engine's targets, judged from one run's figures: each met, missed, or not measurable.

Pure, on report.py's rows and pools. A target whose raw side was not run
(--skip-raw) is "n/a", never met by default. The bounds are the engine's:
a transcript may be uncertain, but it never loses speech silently, so
deletions are held to raw sequential's own, file by file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.report import LONGFORM, NONSPEECH, OURS, RAW, SPEECH, VAD, ratio

DELETION_SLACK = 0.02  # deletion rate: ours <= raw sequential + this, per hard file and pooled
WER_SLACK = 0.03  # WER: ours <= raw sequential + this, per hard file
LONGFORM_WALL_RATIO = 0.30  # long-form wall: ours <= this x raw sequential
RSS_GROWTH = 1.15  # worker peak RSS, longest / shortest long-form


def _get(r: dict[str, Any] | None, side: str, key: str) -> Any:
    fig = (r or {}).get(side) or {}
    return fig.get(key)


def _target(name: str, ours: Any, raw: Any, goal: str, ok: bool | None) -> dict[str, Any]:
    return {"target": name, "ours": ours, "raw": raw, "goal": goal, "met": ok}


def _le(a: Any, b: Any, slack: float = 0.0) -> bool | None:
    return None if a is None or b is None else bool(a <= b + slack + 1e-12)


def _no_worse(name: str, ours: dict[str, Any] | None, raw: dict[str, Any] | None,
              wer_slack: float | None) -> list[dict[str, Any]]:
    """Deletion rate within DELETION_SLACK of raw's; WER within `wer_slack` (None: skip)."""
    o, w = ours or {}, raw or {}
    out = [_target(f"{name} deletion rate", o.get("deletion_rate"), w.get("deletion_rate"),
                   f"<= raw seq + {DELETION_SLACK:.2f}",
                   _le(o.get("deletion_rate"), w.get("deletion_rate"), DELETION_SLACK))]
    if wer_slack is not None:
        goal = f"<= raw seq + {wer_slack:.2f}" if wer_slack else "<= raw seq"
        out.append(_target(f"{name} WER", o.get("wer"), w.get("wer"), goal,
                           _le(o.get("wer"), w.get("wer"), wer_slack)))
    return out


def hard_targets(rows: Sequence[dict[str, Any]],
                 pooled_: dict[str, Any]) -> list[dict[str, Any]]:
    """Per hard file and pooled over the hard set: deletions and WER against raw sequential."""
    out = []
    for r in rows:
        if r["hard"] and r["kind"] == SPEECH:
            out += _no_worse(r["file"], r[OURS], r[RAW], WER_SLACK)
    if "hard" in pooled_:
        out += _no_worse("hard set pooled", pooled_["hard"][OURS], pooled_["hard"][RAW], 0.0)
    return out


def longform_targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """A long-form: as fast as raw's own VAD path, a fraction of sequential, no worse text."""
    m = f"long-form {r['minutes']:g} min"
    ours_wall, raw_wall, vad_wall = (_get(r, s, "wall") for s in (OURS, RAW, VAD))
    seq_ratio = ratio(ours_wall, raw_wall)
    wers = [w for w in (_get(r, RAW, "wer"), _get(r, VAD, "wer")) if w is not None]
    better = min(wers) if wers else None
    ours_wer = _get(r, OURS, "wer")
    out = [
        _target(f"{m} wall ours/raw seq", seq_ratio, None, f"<= {LONGFORM_WALL_RATIO:.2f}",
                _le(seq_ratio, LONGFORM_WALL_RATIO)),
        _target(f"{m} wall ours vs raw VAD (s)", ours_wall, vad_wall, "<= raw VAD",
                _le(ours_wall, vad_wall)),
        _target(f"{m} WER", ours_wer, better, "<= better raw path", _le(ours_wer, better)),
    ]
    return out + _no_worse(m, r[OURS], r[RAW], None)


def targets(rows: Sequence[dict[str, Any]], pooled_: dict[str, Any]) -> list[dict[str, Any]]:
    """The engine's targets, each with ours, raw's figure and whether ours meets it."""
    by_name = {r["file"]: r for r in rows}
    longs = sorted((r for r in rows if r["kind"] == LONGFORM), key=lambda r: r["minutes"])
    out = hard_targets(rows, pooled_)
    for r in longs:
        out += longform_targets(r)
    if "english" in pooled_:
        eng = pooled_["english"]
        ours_wer, raw_wer = (eng[OURS] or {}).get("wer"), (eng[RAW] or {}).get("wer")
        out.append(_target("pooled English WER", ours_wer, raw_wer, "ours <= raw seq",
                           _le(ours_wer, raw_wer)))
    for name, bound in (("smartphone.mp3", 0.20), ("multilingual.mp3", 0.25)):
        if name in by_name:
            wer = _get(by_name[name], OURS, "wer")
            out.append(_target(f"{name} WER", wer, _get(by_name[name], RAW, "wer"),
                               f"<= {bound:.2f} (default model)", _le(wer, bound)))
    for r in rows:
        if r["kind"] in (NONSPEECH, LONGFORM):
            o, w = _get(r, OURS, "invented"), _get(r, RAW, "invented")
            where = "silence+noise" if r["kind"] == LONGFORM else "whole file"
            out.append(_target(f"invented words, {r['file']} ({where})", o, w,
                               "ours <= raw seq (aim 0)", _le(o, w)))
    if len(longs) >= 2:
        short, long_ = longs[0], longs[-1]
        growth = ratio(_get(long_, OURS, "peak_rss_mb"), _get(short, OURS, "peak_rss_mb"))
        out.append(_target(f"worker peak RSS {long_['minutes']:g} min / {short['minutes']:g} min",
                           growth, ratio(_get(long_, RAW, "peak_rss_mb"),
                                         _get(short, RAW, "peak_rss_mb")),
                           f"<= {RSS_GROWTH}", _le(growth, RSS_GROWTH)))
    for r in longs:
        if r["minutes"] == 25:
            o, w = _get(r, OURS, "peak_rss_mb"), _get(r, RAW, "peak_rss_mb")
            out.append(_target("worker peak RSS at 25 min (MB)", o, w, "ours <= raw", _le(o, w)))
    return out
