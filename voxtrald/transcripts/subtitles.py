"""Subtitle cues from timed segments, laid out the way viewers are used to.

The rules are the broadcasters' (BBC, Netflix) that every Whisper front-end
settles on:

- a cue has at most `Limits.lines` (2) lines of at most `Limits.line_chars`
  (42) characters and lasts at most `Limits.seconds` (7 s); characters are
  counted as screen columns, so a line of Chinese or Japanese, whose
  characters are twice as wide, holds 21;
- cues are cut between words, using the words' own timings; a segment without
  word timings is cut the same way, its span shared out over its characters;
- among the cuts that respect the limits, the chosen one gives cues of even
  length and ends them at a sentence or clause where it can, so no cue is a
  lone "it." after a full one; a pause of `Limits.pause` (1 s) always ends a
  cue, so no text stays up while nobody speaks;
- a cue never spans two segments (the engine's segments follow sentences);
- a word longer than a line (a URL, a run of text in a script written without
  spaces) is cut into line-sized pieces, so the limits hold for any input;
- two lines are balanced: the break that makes the longer line shortest,
  the lower line the longer one;
- times are whole milliseconds; a cue never starts before the previous one
  ends, lasts at least 1 ms and at most the limit, and stays up for
  `Limits.min_seconds` when the next cue leaves room; every cue has text.

Words carry their spacing the way faster-whisper gives them: a leading space
marks a new word, none means "glued to the previous one" (punctuation, or a
language written without spaces). Words from an engine that stripped them are
spaced again when the segment's text shows the language uses spaces.

Pure functions with no I/O, so the limits are tested as properties.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from voxtrald.transcripts.segments import Segment

SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")
CLAUSE_END = (",", ";", ":", "—", "、", "，", "；", "：")
_WORD = re.compile(r"\S+")
# Costs of the cut search, in "characters of unused room" squared: ending a cue
# mid-sentence costs as much as leaving 40 characters empty, after a comma 20.
# So a cue ends at a full stop unless that leaves a nearly empty cue.
_MID_SENTENCE = 40 * 40
_MID_CLAUSE = 20 * 20


@dataclass(frozen=True)
class Limits:
    line_chars: int = 42
    lines: int = 2
    seconds: float = 7.0
    pause: float = 1.0
    min_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.line_chars < 2 or self.lines < 1 or not self.seconds > 0:
            raise ValueError("a cue needs room for a wide character and a positive duration")


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class _Token:
    text: str  # no whitespace inside
    start: float
    end: float
    space: bool  # separated from the token before by a space


def build_cues(segments: Sequence[Segment], limits: Limits = Limits()) -> list[Cue]:
    """Every segment's words as cues, in order, within `limits`."""
    raw: list[tuple[float, float, tuple[str, ...]]] = []
    for seg in segments:
        tokens = _chop(_tokens(seg), limits.line_chars)
        for group in _group(tokens, limits):
            start = group[0].start
            end = max(t.end for t in group)
            raw.append((start, end, _lines(group, limits)))
    return _timed(raw, limits)


# -- words to tokens ---------------------------------------------------------------------


def _tokens(seg: Segment) -> list[_Token]:
    words = [w for w in seg.words if w.word.strip()]
    if not words:
        return _spread(seg.text, seg.start, seg.end, space=True)
    stripped = not any(w.word[:1].isspace() for w in words)
    respace = stripped and any(c.isspace() for c in seg.text.strip())
    tokens: list[_Token] = []
    for w in words:
        space = w.word[:1].isspace() or respace
        tokens.extend(_spread(w.word, w.start, w.end, space=space))
    return tokens


def _spread(text: str, start: float, end: float, space: bool) -> list[_Token]:
    """`text`'s words, timed by sharing [start, end] out over its characters."""
    body = text.strip()
    span = max(0.0, end - start)
    size = max(1, len(body))
    return [
        _Token(m.group(), start + span * m.start() / size, start + span * m.end() / size,
               space if i == 0 else True)
        for i, m in enumerate(_WORD.finditer(body))
    ]


def _chop(tokens: list[_Token], width: int) -> list[_Token]:
    """Tokens wider than a line, cut into even pieces glued to each other."""
    out: list[_Token] = []
    for t in tokens:
        total = display_width(t.text)
        if total <= width:
            out.append(t)
            continue
        target = -(-total // -(-total // width))  # ceil(total / pieces)
        pieces: list[str] = []
        current, used = "", 0
        for ch in t.text:
            w = display_width(ch)
            if current and used + w > target:
                pieces.append(current)
                current, used = "", 0
            current, used = current + ch, used + w
        pieces.append(current)
        span = max(0.0, t.end - t.start)
        size, at = len(t.text), 0
        for i, piece in enumerate(pieces):
            out.append(_Token(piece, t.start + span * at / size,
                              t.start + span * (at + len(piece)) / size,
                              t.space if i == 0 else False))
            at += len(piece)
    return out


def display_width(text: str) -> int:
    """Columns `text` takes on screen: wide (CJK) characters count two, marks none."""
    if text.isascii():
        return len(text)
    return sum(_char_width(c) for c in text)


def _char_width(c: str) -> int:
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


# -- tokens to cues ----------------------------------------------------------------------


class _Measure:
    """Lengths of runs of tokens as joined text, in O(1) from prefix sums."""

    def __init__(self, tokens: Sequence[_Token]) -> None:
        self.tokens = tokens
        self.cum = [0]
        for t in tokens:
            self.cum.append(self.cum[-1] + display_width(t.text) + (1 if t.space else 0))

    def length(self, a: int, b: int) -> int:
        """Columns of tokens[a:b] joined (the first token's space dropped)."""
        if b <= a:
            return 0
        return self.cum[b] - self.cum[a] - (1 if self.tokens[a].space else 0)

    def lines_needed(self, a: int, b: int, width: int) -> int:
        """Fewest lines of `width` holding tokens[a:b] (greedy filling is optimal)."""
        count = 0
        while a < b:
            # Largest k with length(a, k) <= width; every token fits a line on its own.
            base = self.cum[a] + (1 if self.tokens[a].space else 0)
            k = bisect_right(self.cum, base + width, a + 1, b + 1) - 1
            a = max(k, a + 1)
            count += 1
        return count


def _group(tokens: list[_Token], limits: Limits) -> list[list[_Token]]:
    """Split one segment's tokens into cues: the feasible cut with the lowest cost.

    A shortest-path search over cut positions (as in Knuth and Plass's line
    breaking): a cue's cost is its unused room squared plus a penalty for
    ending mid-sentence, which yields even cues and clean breaks.
    """
    n = len(tokens)
    if n == 0:
        return []
    m = _Measure(tokens)
    room = limits.line_chars * limits.lines
    inf = float("inf")
    best = [inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    penalty = [_break_penalty(tokens, b) for b in range(n + 1)]
    for a in range(n):
        if best[a] == inf:
            continue
        last_end = tokens[a].end
        for b in range(a + 1, n + 1):
            t = tokens[b - 1]
            if b > a + 1:
                if t.start - last_end >= limits.pause:
                    break
                if max(last_end, t.end) - tokens[a].start > limits.seconds:
                    break
                if m.lines_needed(a, b, limits.line_chars) > limits.lines:
                    break
            last_end = max(last_end, t.end)
            slack = max(0, room - m.length(a, b))
            cost = best[a] + slack * slack + penalty[b]
            if cost < best[b]:
                best[b], back[b] = cost, a
    groups: list[list[_Token]] = []
    b = n
    while b > 0:
        a = back[b]
        groups.append(tokens[a:b])
        b = a
    groups.reverse()
    return groups


def _break_penalty(tokens: list[_Token], b: int) -> int:
    if b == 0 or b == len(tokens):
        return 0
    text = tokens[b - 1].text
    if text.endswith(SENTENCE_END):
        return 0
    if text.endswith(CLAUSE_END):
        return _MID_CLAUSE
    return _MID_SENTENCE


def _lines(group: list[_Token], limits: Limits) -> tuple[str, ...]:
    """The cue's text on as few lines as hold it, balanced: the narrowest width that
    needs no more lines, filled from the bottom so the lower line is the longer one."""
    m = _Measure(group)
    n = len(group)
    needed = m.lines_needed(0, n, limits.line_chars)
    width = limits.line_chars
    if needed > 1:
        narrowest = max(display_width(t.text) for t in group)
        width = next((w for w in range(narrowest, limits.line_chars)
                      if m.lines_needed(0, n, w) <= needed), limits.line_chars)
    lines: list[str] = []
    b = n
    while b > 0:
        a = b - 1
        while a > 0 and m.length(a - 1, b) <= width:
            a -= 1
        lines.append(_join(group[a:b]))
        b = a
    lines.reverse()
    return tuple(lines)


def _join(tokens: Sequence[_Token]) -> str:
    parts = [tokens[0].text]
    for t in tokens[1:]:
        parts.append(" " + t.text if t.space else t.text)
    return "".join(parts)


# -- times -------------------------------------------------------------------------------


def _timed(raw: list[tuple[float, float, tuple[str, ...]]], limits: Limits) -> list[Cue]:
    """Whole milliseconds, in order, never overlapping, within the duration limits."""
    longest = max(1, round(limits.seconds * 1000))
    shortest = round(limits.min_seconds * 1000)
    spans: list[list[int]] = []
    prev_end = 0
    for start_s, end_s, _text in raw:
        start = max(_ms(start_s), prev_end)
        end = min(max(_ms(end_s), start + 1), start + longest)
        spans.append([start, end])
        prev_end = end
    for i, span in enumerate(spans):
        room = spans[i + 1][0] if i + 1 < len(spans) else span[0] + shortest
        span[1] = max(span[1], min(span[0] + min(shortest, longest), room))
    return [Cue(s, e, lines) for (s, e), (_a, _b, lines) in zip(spans, raw, strict=True)]


def _ms(seconds: float) -> int:
    if seconds != seconds or seconds <= 0:  # NaN or before the start
        return 0
    return round(min(seconds, 1e9) * 1000)
