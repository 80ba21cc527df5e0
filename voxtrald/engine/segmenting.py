"""From the model's output to the project's Segments: file times, sentence-sized pieces.

The batched decoder reads up to 30 s of speech per window without timestamp
tokens (with them, Whisper base dropped whole sentences and its error rate
rose from 0.13 to 0.18 on the real recordings), so each window comes back as
one long segment. Word timings let it be cut where a reader expects: after a
sentence, or at a long pause.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from voxtrald.transcripts.segments import Segment, Word

SENTENCE_END = (".", "!", "?", "。", "！", "？", "…", "؟", "।")
PAUSE_SECONDS = 1.5
MIN_PIECE_WORDS = 3


def _r(x: float) -> float:
    return round(float(x), 3)


def from_model(seg: Any, offset: float, limit: float) -> Segment:
    """A faster-whisper segment (times within the chunk) as a Segment timed in the file.

    Every time is kept within the segment's window and before `limit` (the
    chunk's end): the aligner times words on whole seconds of audio, so a last
    word could otherwise end past the window, in the next chunk's time.
    """
    # Rounding must not push a time over the chunk's exact bounds either.
    start = max(_r(offset + seg.start), offset)
    end = max(start, min(_r(offset + seg.end), limit))

    def within(t: float) -> float:
        return min(max(_r(offset + t), start), end)

    words = tuple(
        Word(w.word, within(w.start), within(w.end), round(float(w.probability), 4))
        for w in (seg.words or ())
    )
    return Segment(
        start=start, end=end, text=seg.text, words=words,
        avg_logprob=round(float(seg.avg_logprob), 4),
        no_speech_prob=round(float(seg.no_speech_prob), 4),
        compression_ratio=round(float(seg.compression_ratio), 3),
    )


def split_sentences(seg: Segment) -> list[Segment]:
    """The segment cut after each sentence end and at each long pause between words.

    Pieces keep the segment's quality figures and flags (they were measured on
    the whole window). A piece is never shorter than a few words unless a pause
    set it apart, so "Mr. Smith" stays together. Without words, nothing is cut.
    """
    words = seg.words
    if len(words) < 2:
        return [seg]
    cuts = []
    begin = 0
    for i in range(len(words) - 1):
        pause = words[i + 1].start - words[i].end >= PAUSE_SECONDS
        sentence = words[i].word.rstrip().endswith(SENTENCE_END) and i + 1 - begin >= \
            MIN_PIECE_WORDS
        if pause or sentence:
            cuts.append(i + 1)
            begin = i + 1
    if not cuts:
        return [seg]
    bounds = [0, *cuts, len(words)]
    return [
        replace(seg, start=words[lo].start, end=words[hi - 1].end,
                text="".join(w.word for w in words[lo:hi]), words=tuple(words[lo:hi]))
        for lo, hi in zip(bounds, bounds[1:], strict=False)
    ]


def split_all(segments: Iterable[Segment]) -> list[Segment]:
    return [piece for seg in segments for piece in split_sentences(seg)]
