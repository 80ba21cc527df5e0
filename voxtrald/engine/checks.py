"""Whether a window's first decode can be trusted, judged on its own figures and the audio.

Whisper's sequential path decodes a window again at a higher temperature when
its text compresses like a loop (ratio > 2.4) or the model is unsure of it
(average log-probability < -1.0). The batched first pass decodes each window
once, at one temperature and without timestamps, so it also fails in ways
those figures do not show: it stops after the first sentence and leaves the
rest of the window unheard, or writes a few words for a lot of speech. Each
check here names one such failure; a window that fails any of them is decoded
again the sequential way (fallback.py), and the better of the two is kept by
the same checks (`better`). Text that compresses like a loop is doubted only
when its words are not timed as speech (quality.speech_like): a chorus or a
sentence said again compresses as well as a loop does.

Times are seconds in the file. `voiced` are Silero's speech stretches within
the window, padded by VAD_PAD_SECONDS on each side as Silero pads them, so
words are widened by the same pad before they are compared. Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from voxtrald.engine.quality import (
    COMPRESSION_LIMIT,
    LOW_LOGPROB,
    compression_ratio,
    find_loop,
    speech_like,
)
from voxtrald.engine.quality import normalise as normalise_text
from voxtrald.engine.spans import Span, overlap, total
from voxtrald.transcripts.segments import Segment

#: Silero's padding around speech (faster-whisper's VadOptions.speech_pad_ms).
VAD_PAD_SECONDS = 0.4
#: Words must cover at least this share of the window's voiced time.
MIN_COVERAGE = 0.6
#: Text that ends this long before the window's speech does has lost its tail.
EARLY_END_SECONDS = 1.5
#: Less voiced time than this is too little to judge coverage or an early end by.
MIN_VOICED_SECONDS = 1.0

COMPRESSION = "compression"
LOGPROB = "logprob"
LOOP = "loop"
COVERAGE = "coverage"
EARLY_END = "early_end"


@dataclass(frozen=True)
class Verdict:
    """What the checks found on one decode of one window."""

    doubts: tuple[str, ...]
    coverage: float
    avg_logprob: float

    @property
    def ok(self) -> bool:
        return not self.doubts


def word_spans(segments: Sequence[Segment], pad: float = VAD_PAD_SECONDS) -> list[Span]:
    """Where the words are, each widened by Silero's pad so the two compare fairly."""
    return [(w.start - pad, w.end + pad) for s in segments for w in s.words]


def coverage(segments: Sequence[Segment], voiced: Sequence[Span]) -> float:
    """Share of the voiced time that words cover (1.0 when there is no voiced time)."""
    voiced_s = total(voiced)
    if voiced_s <= 0:
        return 1.0
    return min(1.0, overlap(voiced, word_spans(segments)) / voiced_s)


def mean_logprob(segments: Sequence[Segment]) -> float:
    """The segments' average log-probability, weighted by their length in time."""
    weights = [(max(0.01, s.end - s.start), s.avg_logprob) for s in segments
               if s.avg_logprob is not None and s.text.strip()]
    if not weights:
        return 0.0
    return sum(w * lp for w, lp in weights) / sum(w for w, _ in weights)


def judge(segments: Sequence[Segment], voiced: Sequence[Span]) -> Verdict:
    """The doubts one decode of a window raises; none means it is kept as it is."""
    doubts: list[str] = []
    text = " ".join(s.text.strip() for s in segments).strip()
    words = [w for s in segments for w in s.words]
    # Text said again compresses well too: the audio decides whether it was said.
    if compression_ratio(text) > COMPRESSION_LIMIT and not speech_like(words, voiced):
        doubts.append(COMPRESSION)
    lp = mean_logprob(segments)
    if lp < LOW_LOGPROB:
        doubts.append(LOGPROB)
    tokens = [normalise_text(w.word) for s in segments for w in s.words] or \
        normalise_text(text).split()
    if find_loop([t for t in tokens if t]) is not None:
        doubts.append(LOOP)
    cov = coverage(segments, voiced)
    if total(voiced) >= MIN_VOICED_SECONDS:
        if cov < MIN_COVERAGE:
            doubts.append(COVERAGE)
        speech_end = max(end for _start, end in voiced) - VAD_PAD_SECONDS
        text_end = words[-1].end if words else (segments[-1].end if text else None)
        if text_end is None or speech_end - text_end >= EARLY_END_SECONDS:
            doubts.append(EARLY_END)
    return Verdict(tuple(doubts), round(cov, 4), round(lp, 4))


def better(candidate: Verdict, current: Verdict) -> bool:
    """Whether a re-decode's verdict beats the first one's: fewer doubts, then more
    speech covered, then a surer model."""
    def key(v: Verdict) -> tuple[int, float, float]:
        return (-len(v.doubts), round(v.coverage, 2), v.avg_logprob)
    return key(candidate) > key(current)
