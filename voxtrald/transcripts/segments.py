"""A transcript's pieces as the engine produces them and every output renders them.

Declared once here so the worker, the job store's checkpoints and the four
output formats agree on one shape; `to_dict`/`from_dict` are the only way
these cross a process or a database boundary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Quality flags that mean "not speech the user said": a segment carrying one is
#: left out of the text, subtitles and the JSON's `text`, yet kept among the
#: JSON's segments with its flags and figures, so nothing is hidden silently.
REMOVED_FLAGS: frozenset[str] = frozenset({"hallucination", "repetition"})

#: A gap: speech that could not be transcribed. A gap segment has no text; its
#: second flag says why (one of GAP_REASONS). The outputs mark it (`[inaudible]`)
#: and the JSON lists it under `gaps`, so speech is never lost without a sign.
GAP_FLAG = "gap"
#: How txt, srt and vtt show a gap (unless `[outputs] mark_gaps = false`).
INAUDIBLE = "[inaudible]"
GAP_REASONS: dict[str, str] = {
    "no_text": "the model wrote nothing for it",
    "removed_text": "what the model wrote was judged a loop or invented",
}


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    probability: float
    # Who said it (1, 2, ...), once the file's speakers are known; None when not labelled.
    speaker: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Word:
        return cls(str(data["word"]), float(data["start"]), float(data["end"]),
                   float(data.get("probability", 0.0)), _speaker(data.get("speaker")))


@dataclass(frozen=True)
class Segment:
    """One stretch of speech, timed against the original file (not the chunk)."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    # Quality findings, e.g. "repetition", "low_confidence", "no_speech".
    flags: tuple[str, ...] = field(default=())
    # Who said it (1, 2, ...); segments are split where the speaker changes.
    speaker: int | None = None

    @property
    def is_gap(self) -> bool:
        return GAP_FLAG in self.flags

    @property
    def gap_reason(self) -> str | None:
        if not self.is_gap:
            return None
        return next((f for f in self.flags if f in GAP_REASONS), "no_text")

    @property
    def removed(self) -> bool:
        """Whether a quality guard took this segment out of the transcript text."""
        return not REMOVED_FLAGS.isdisjoint(self.flags)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["words"] = [_without_none_speaker(asdict(w)) for w in self.words]
        data["flags"] = list(self.flags)
        return _without_none_speaker(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        def opt(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        return cls(
            start=float(data["start"]),
            end=float(data["end"]),
            text=str(data["text"]),
            words=tuple(Word.from_dict(w) for w in data.get("words") or ()),
            avg_logprob=opt("avg_logprob"),
            no_speech_prob=opt("no_speech_prob"),
            compression_ratio=opt("compression_ratio"),
            flags=tuple(str(f) for f in data.get("flags") or ()),
            speaker=_speaker(data.get("speaker")),
        )


def _without_none_speaker(data: dict[str, Any]) -> dict[str, Any]:
    """No `speaker` key at all when nobody was labelled: files without labels look as before."""
    if data.get("speaker") is None:
        data.pop("speaker", None)
    return data


def _speaker(value: Any) -> int | None:
    """A speaker number as stored, or None for anything else (never a crash on old data)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
