"""Scoring a transcript: substitutions, deletions, insertions, WER, invented words.

Shared by the benchmarks and the engine's tests, so a figure in a benchmark
table and a bound in a test are computed the same way. Pure functions on
text, numbers and plain dicts: no model, no audio.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Characters that join two words rather than belong to one: "Dis-moi" and
# "and/or" are scored as two words each, on both sides.
_SEPARATORS = {"-", "/", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212"}


def normalise(text: str) -> list[str]:
    """Words for scoring: lower case, punctuation dropped, hyphens split.

    Letters of every script and digits stay as they are (multilingual
    references are scored as given); apostrophes are dropped, not split, so
    "l'avion" and "lavion" agree but "don't" stays one word.
    """
    text = unicodedata.normalize("NFC", text).lower()
    kept = []
    for ch in text:
        if ch in _SEPARATORS or ch.isspace():
            kept.append(" ")
        elif unicodedata.category(ch)[0] in "PS":
            continue
        else:
            kept.append(ch)
    return "".join(kept).split()


def _aligned_cost(ref: Sequence[str], hyp: Sequence[str], weight: int) -> int:
    """The cheapest alignment's cost, with every edit costing `weight` and every hit -1.

    A true alignment over the whole texts, not difflib's matching blocks: on
    long, repetitive speech those misalign and report differences that are
    not there. With `weight` above the number of words, the minimum is the
    fewest edits first and, among those, the most words matched. One numpy
    row per reference word (hand-written: the row's insertions run along it
    as a running minimum) keeps a two-hour transcript to seconds and to one
    row of memory, where a backtrace matrix would take gigabytes.
    """
    if not ref:
        return weight * len(hyp)
    vocab: dict[str, int] = {}
    hv = np.array([vocab.setdefault(w, len(vocab)) for w in hyp], dtype=np.int64)
    steps = np.arange(len(hyp) + 1, dtype=np.int64) * weight
    prev = steps.copy()
    for word in ref:
        cost = np.where(hv == vocab.get(word, -1), -1, weight).astype(np.int64)
        base = np.empty_like(prev)
        base[0] = prev[0] + weight
        base[1:] = np.minimum(prev[1:] + weight, prev[:-1] + cost)
        # Insertions run along the row: row[j] = min over k <= j of base[k] + w * (j - k).
        prev = np.minimum.accumulate(base - steps) + steps
    return int(prev[-1])


@dataclass(frozen=True)
class Score:
    """Substitutions, deletions, insertions against `ref_words` words; pooled by adding.

    Counted from one alignment that makes the fewest edits and, among those,
    matches the most words: a word the transcript has, a little out of place,
    counts as found (one deletion and one insertion around it) rather than as
    two substitutions, the way sclite's weights lean.
    """

    subs: int
    dels: int
    ins: int
    ref_words: int
    hyp_words: int

    @property
    def edits(self) -> int:
        return self.subs + self.dels + self.ins

    @property
    def wer(self) -> float | None:
        return self.edits / self.ref_words if self.ref_words else None

    @property
    def deletion_rate(self) -> float | None:
        """Spoken words the transcript lost, over the spoken words: D / N."""
        return self.dels / self.ref_words if self.ref_words else None

    def __add__(self, other: Score) -> Score:
        return Score(self.subs + other.subs, self.dels + other.dels, self.ins + other.ins,
                     self.ref_words + other.ref_words, self.hyp_words + other.hyp_words)


def align(ref: Sequence[str], hyp: Sequence[str]) -> Score:
    """S, D and I of the best word alignment of `hyp` against `ref` (already normalised).

    From the cost C = w * E - H of that alignment (E edits, H hits, w > H)
    the counts follow without a backtrace: with N reference and M hypothesis
    words, N = H + S + D and M = H + S + I.
    """
    n, m = len(ref), len(hyp)
    weight = n + m + 1
    cost = _aligned_cost(ref, hyp, weight)
    edits = -(-cost // weight)
    hits = weight * edits - cost
    return Score(subs=n + m - edits - 2 * hits, dels=edits - m + hits, ins=edits - n + hits,
                 ref_words=n, hyp_words=m)


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Word-level Levenshtein distance (substitutions, deletions, insertions)."""
    return align(ref, hyp).edits


def score(reference: str, hypothesis: str) -> Score:
    return align(normalise(reference), normalise(hypothesis))


def wer(reference: str, hypothesis: str) -> float | None:
    """Word error rate of `hypothesis`; None when the reference has no words."""
    return score(reference, hypothesis).wer


def pooled(scores: Iterable[Score]) -> Score:
    """Pooled over words: every reference word weighs the same, whatever its file."""
    total = Score(0, 0, 0, 0, 0)
    for s in scores:
        total = total + s
    return total


def timed_words(segments: Iterable[dict[str, Any]]) -> list[tuple[str, float, float]]:
    """Each scored word with a time span: its own timing if the transcript has one.

    A segment without word timings (raw faster-whisper's default, older
    transcripts) has its words spread evenly over the segment, the best guess
    of where each was said.
    """
    out: list[tuple[str, float, float]] = []
    for seg in segments:
        start, end = float(seg["start"]), float(seg["end"])
        words = seg.get("words") or []
        if words:
            for w in words:
                for token in normalise(str(w["word"])):
                    out.append((token, float(w["start"]), float(w["end"])))
            continue
        tokens = normalise(str(seg.get("text", "")))
        step = (end - start) / len(tokens) if tokens else 0.0
        out.extend((t, start + i * step, start + (i + 1) * step) for i, t in enumerate(tokens))
    return out


def _overlap(lo: float, hi: float, spans: Sequence[tuple[float, float]]) -> float:
    return sum(max(0.0, min(hi, b) - max(lo, a)) for a, b in spans)


def invented_words(segments: Iterable[dict[str, Any]],
                   nonspeech: Sequence[tuple[float, float]],
                   speech: Sequence[tuple[float, float]] = (),
                   margin: float = 0.5) -> list[str]:
    """Words a transcript puts inside the `nonspeech` stretches (start, end) of a file.

    A word counts when its middle lies in a stretch shrunk by `margin` at both
    ends (word timings are good to a fraction of a second, and a word spoken
    right at a boundary is no invention). A segment without word timings that
    overlaps `speech` by more than `margin` is taken as speech: its end often
    runs on into the silence after the last word, and spreading its words
    evenly would blame real words on the silence.
    """
    inner = [(a + margin, b - margin) for a, b in nonspeech if b - a > 2 * margin]
    found = []
    for seg in segments:
        untimed = not seg.get("words")
        if untimed and _overlap(float(seg["start"]), float(seg["end"]), speech) > margin:
            continue
        for token, start, end in timed_words([seg]):
            mid = (start + end) / 2
            if any(lo <= mid < hi for lo, hi in inner):
                found.append(token)
    return found
