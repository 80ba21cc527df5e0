"""From two transcripts of each file to the figures, the targets and the printed table.

Pure: takes the benchmark's items and the two sides' results (plain dicts),
returns plain dicts; bench_real.py does the running, this does the judging.
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


def item_from_ref(name: str, path: str, ref: dict[str, Any] | None) -> Item:
    """refs.json's entry decides the kind: no language = no speech; no text = no reference."""
    if ref is None:
        return Item(name, path, NOREF)
    text = (ref.get("text") or "").strip()
    lang = ref.get("lang")
    if lang is None:
        return Item(name, path, NONSPEECH, None, text)
    return Item(name, path, SPEECH if normalise(text) else NOREF, str(lang), text)


def side_figures(item: Item, result: dict[str, Any] | None) -> dict[str, Any] | None:
    """WER, invented words and the measured figures of one side on one file."""
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
        fig.update(edits=s.edits, ref_words=s.ref_words, wer=s.wer)
    if item.kind == NONSPEECH:
        fig["invented"] = fig["words"]
    elif item.kind == LONGFORM and item.manifest is not None:
        found = invented_words(segments, nonspeech_stretches(item.manifest),
                               speech_stretches(item.manifest))
        fig["invented"] = len(found)
        fig["invented_words"] = found
    return fig


def _ratio(a: Any, b: Any) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float) and b:
        return round(a / b, 3)
    return None


def row(item: Item, raw: dict[str, Any] | None, ours: dict[str, Any] | None) -> dict[str, Any]:
    r, o = side_figures(item, raw), side_figures(item, ours)
    rr, oo = r or {}, o or {}
    return {
        "file": item.name, "kind": item.kind, "lang": item.lang, "minutes": item.minutes,
        "raw": r, "ours": o,
        "ratios": {
            "wall": _ratio(oo.get("wall"), rr.get("wall")),
            "drop_to_transcript": _ratio(oo.get("drop_to_transcript"), rr.get("wall")),
            "peak_rss": _ratio(oo.get("peak_rss_mb"), rr.get("peak_rss_mb")),
        },
    }


def _pooled(rows: Sequence[dict[str, Any]], side: str) -> dict[str, Any] | None:
    figs = [r[side] for r in rows]
    if not figs or any(f is None or "error" in f for f in figs):
        return None
    total: Score = pooled(Score(f["edits"], f["ref_words"], f["words"]) for f in figs)
    return {"edits": total.edits, "ref_words": total.ref_words, "wer": total.wer}


def pooled_figures(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pooled over words, over the short files with a reference (long-forms repeat them)."""
    speech = [r for r in rows if r["kind"] == SPEECH]
    english = [r for r in speech if r["lang"] == "en"]
    return {
        group: {side: _pooled(members, side) for side in ("raw", "ours")}
        for group, members in (("all", speech), ("english", english))
    }


def _get(r: dict[str, Any] | None, side: str, key: str) -> Any:
    fig = (r or {}).get(side) or {}
    return fig.get(key)


def _target(name: str, ours: Any, raw: Any, goal: str, ok: bool | None) -> dict[str, Any]:
    return {"target": name, "ours": ours, "raw": raw, "goal": goal, "met": ok}


def _le(a: Any, b: Any) -> bool | None:
    return None if a is None or b is None else bool(a <= b)


def targets(rows: Sequence[dict[str, Any]], pooled_: dict[str, Any]) -> list[dict[str, Any]]:
    """The engine's targets, each with both sides' figure and whether ours meets it."""
    by_name = {r["file"]: r for r in rows}
    longs = sorted((r for r in rows if r["kind"] == LONGFORM), key=lambda r: r["minutes"])
    out = []
    for r in longs:
        ratio = r["ratios"]["wall"]
        out.append(_target(f"long-form {r['minutes']:g} min wall ours/raw", ratio, None,
                           "<= 0.33 (aim 0.15)", _le(ratio, 0.33)))
    eng = pooled_["english"]
    ours_wer = (eng["ours"] or {}).get("wer")
    raw_wer = (eng["raw"] or {}).get("wer")
    out.append(_target("pooled English WER", ours_wer, raw_wer, "ours <= raw",
                       _le(ours_wer, raw_wer)))
    for name, bound in (("smartphone.mp3", 0.20), ("multilingual.mp3", 0.25)):
        if name in by_name:
            wer = _get(by_name[name], "ours", "wer")
            out.append(_target(f"{name} WER", wer, _get(by_name[name], "raw", "wer"),
                               f"<= {bound:.2f} (default model)", _le(wer, bound)))
    for r in rows:
        if r["kind"] in (NONSPEECH, LONGFORM):
            o, w = _get(r, "ours", "invented"), _get(r, "raw", "invented")
            where = "silence+noise" if r["kind"] == LONGFORM else "whole file"
            out.append(_target(f"invented words, {r['file']} ({where})", o, w,
                               "ours <= raw (aim 0)", _le(o, w)))
    if len(longs) >= 2:
        short, long_ = longs[0], longs[-1]
        a, b = _get(short, "ours", "peak_rss_mb"), _get(long_, "ours", "peak_rss_mb")
        growth = _ratio(b, a)
        out.append(_target(f"worker peak RSS {long_['minutes']:g} min / {short['minutes']:g} min",
                           growth, _ratio(_get(long_, "raw", "peak_rss_mb"),
                                          _get(short, "raw", "peak_rss_mb")),
                           "<= 1.15", _le(growth, 1.15)))
    for r in longs:
        if r["minutes"] == 25:
            o, w = _get(r, "ours", "peak_rss_mb"), _get(r, "raw", "peak_rss_mb")
            out.append(_target("worker peak RSS at 25 min (MB)", o, w, "ours <= raw", _le(o, w)))
    return out


def _fmt(value: Any, spec: str = ".2f") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


COLUMNS = (("file", 24), ("ref", 5), ("WER raw", 8), ("WER ours", 8), ("inv raw", 7),
           ("inv ours", 8), ("wall raw", 8), ("wall ours", 9), ("drop>json", 9),
           ("wall x", 6), ("RSS raw", 7), ("RSS ours", 8), ("RSS x", 6))


def table(rows: Sequence[dict[str, Any]], pooled_: dict[str, Any]) -> str:
    """Per file, then pooled: WER, invented words, seconds, MB, ratios ours/raw."""
    def line(cells: Sequence[str]) -> str:
        return " ".join(c.rjust(w) if i else c.ljust(w)
                        for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS, strict=True)))

    lines = [line([c for c, _ in COLUMNS])]
    for r in rows:
        raw, ours = r["raw"] or {}, r["ours"] or {}
        if "error" in raw or "error" in ours:
            lines.append(f"{r['file']:<24} error: "
                         + (raw.get("error") or ours.get("error") or "").splitlines()[0])
            continue
        lines.append(line([
            r["file"][:24], _fmt(ours.get("ref_words") or raw.get("ref_words")),
            _fmt(raw.get("wer"), ".3f"), _fmt(ours.get("wer"), ".3f"),
            _fmt(raw.get("invented")), _fmt(ours.get("invented")),
            _fmt(raw.get("wall"), ".1f"), _fmt(ours.get("wall"), ".1f"),
            _fmt(ours.get("drop_to_transcript"), ".1f"), _fmt(r["ratios"]["wall"]),
            _fmt(raw.get("peak_rss_mb"), ".0f"), _fmt(ours.get("peak_rss_mb"), ".0f"),
            _fmt(r["ratios"]["peak_rss"]),
        ]))
    for group, sides in pooled_.items():
        raw, ours = sides["raw"] or {}, sides["ours"] or {}
        lines.append(line([f"pooled {group}", _fmt(ours.get("ref_words") or raw.get("ref_words")),
                           _fmt(raw.get("wer"), ".3f"), _fmt(ours.get("wer"), ".3f")]
                          + [""] * (len(COLUMNS) - 4)))
    return "\n".join(lines)


def targets_table(found: Sequence[dict[str, Any]]) -> str:
    lines = []
    for t in found:
        mark = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
        lines.append(f"  {t['target']:<62} ours {_fmt(t['ours'], '.3f'):>8}  "
                     f"raw {_fmt(t['raw'], '.3f'):>8}  {t['goal']:<24} {mark}")
    return "\n".join(lines)
