"""A user's vocabulary (hotwords) spelled the user's way in the transcript.

Hotwords steer the model towards a term, but the batched decoder often
writes it the way its tokens split: asked for "ComfyUI", Whisper base wrote
"Comfy UI". A term the model clearly heard is therefore rewritten as the user
spelled it when the words only differ in case, spaces or hyphens between
them. Only whole words are joined, and only terms of 4 characters or more,
so short common words are never touched; an all-lower-case term never changes
the case of a word that stands alone ("About" at a sentence start stays).
Pure functions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import replace

from voxtrald.transcripts.segments import Segment, Word

MIN_TERM_CHARS = 4
MAX_PARTS = 4
_EDGE = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL | re.UNICODE)


def terms(hotwords: str | None) -> list[str]:
    """The vocabulary's terms: its words, split at spaces, commas and semicolons."""
    if not hotwords:
        return []
    found = []
    for raw in re.split(r"[\s,;]+", hotwords):
        term = raw.strip("\"'()[]{}.!?:")
        if len(term) >= MIN_TERM_CHARS and term not in found:
            found.append(term)
    return found


def _key(text: str) -> str:
    return re.sub(r"[\s\-‐]+", "", text).casefold()


def _core(text: str) -> tuple[str, str, str]:
    match = _EDGE.match(text.strip())
    assert match is not None  # the pattern matches any string
    return match.group(1), match.group(2), match.group(3)


def respell_words(words: Sequence[Word], vocabulary: Sequence[str]) -> tuple[Word, ...]:
    """Words with each split or differently cased vocabulary term joined and respelled."""
    keys = {_key(t): t for t in vocabulary}
    out: list[Word] = []
    i = 0
    while i < len(words):
        for parts in range(min(MAX_PARTS, len(words) - i), 0, -1):
            span = words[i:i + parts]
            lead, _c, _t = _core(span[0].word)
            _l, _c, trail = _core(span[-1].word)
            joined = "".join(w.word.strip() for w in span)
            term = keys.get(_key(joined[len(lead):len(joined) - len(trail) or None]))
            single_ok = not term.islower() and _core(span[0].word)[1] != term if term else False
            if term is not None and (parts > 1 or single_ok):
                space = " " if span[0].word.startswith(" ") else ""
                out.append(Word(f"{space}{lead}{term}{trail}", span[0].start, span[-1].end,
                                min(w.probability for w in span)))
                i += parts
                break
        else:
            out.append(words[i])
            i += 1
    return tuple(out)


def respell_text(text: str, vocabulary: Sequence[str]) -> str:
    for term in vocabulary:
        letters = [re.escape(ch) for ch in term if not ch.isspace()]
        pattern = r"(?<!\w)" + r"[\s\-‐]?".join(letters) + r"(?!\w)"
        text = re.sub(pattern, functools.partial(_choose, term=term), text,
                      flags=re.IGNORECASE)
    return text


def _choose(match: re.Match[str], term: str) -> str:
    found = match.group(0)
    split = found != re.sub(r"[\s\-‐]+", "", found)
    return term if split or not term.islower() else found


def respell(segments: Sequence[Segment], vocabulary: Sequence[str]) -> list[Segment]:
    if not vocabulary:
        return list(segments)
    out = []
    for seg in segments:
        if seg.words:
            words = respell_words(seg.words, vocabulary)
            out.append(replace(seg, words=words, text="".join(w.word for w in words)))
        else:
            out.append(replace(seg, text=respell_text(seg.text, vocabulary)))
    return out
