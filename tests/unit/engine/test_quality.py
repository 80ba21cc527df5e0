"""Quality guards, table by table: loops cut, invented text flagged, real speech kept."""

from __future__ import annotations

import pytest

from voxtrald.engine.quality import (
    DROP_FLAGS,
    HALLUCINATION,
    LOW_CONFIDENCE,
    NO_SPEECH,
    REPETITION,
    compression_ratio,
    find_loop,
    guard,
    judge,
    kept,
    normalise,
    split_loops,
)
from voxtrald.transcripts.segments import Segment, Word


def seg(text: str, lp: float = -0.2, ns: float = 0.05, start: float = 0.0, end: float = 5.0,
        words: bool = False) -> Segment:
    ws: tuple[Word, ...] = ()
    if words:
        toks = text.split()
        step = (end - start) / len(toks)
        ws = tuple(Word(" " + t, round(start + i * step, 3), round(start + (i + 1) * step, 3), 0.9)
                   for i, t in enumerate(toks))
    return Segment(start, end, " " + text, ws, lp, ns, round(compression_ratio(text), 3))


def test_the_dropped_flags_are_the_two_that_mean_invented() -> None:
    assert {REPETITION, HALLUCINATION} == DROP_FLAGS


@pytest.mark.parametrize(
    ("text", "loop"),
    [
        ("okay okay okay okay okay okay", (1, 6)),
        ("okay okay okay okay", None),  # four is still a person talking
        ("no no no", None),
        ("thank you thank you thank you", None),  # six words: below the loop length
        ("i will say i will say i will say and then", (3, 9)),
        ("it is not a problem it is not a problem it is not a problem", (5, 15)),
        ("we went to the shop and then we went home", None),
        ("the end", None),
        ("", None),
    ],
)
def test_find_loop(text: str, loop: tuple[int, int] | None) -> None:
    assert find_loop(text.split()) == loop


def test_loop_tail_is_cut_out_and_the_first_saying_kept() -> None:
    text = "So we start. I will say, I will say, I will say, I will say, and that is all"
    pieces = split_loops(seg(text, words=True, end=10.0))
    assert [p.flags for p in pieces] == [(), (REPETITION,), ()]
    assert pieces[0].text == " So we start. I will say,"
    assert pieces[1].text.strip() == "I will say, I will say, I will say,"
    assert pieces[2].text == " and that is all"
    assert pieces[0].end <= pieces[1].start and pieces[1].end <= pieces[2].start
    assert [w for p in pieces for w in p.words] == list(seg(text, words=True, end=10.0).words)


def test_loop_without_words_shares_the_time_out() -> None:
    pieces = split_loops(seg("okay okay okay okay okay okay okay okay", start=10.0, end=18.0))
    assert [p.text for p in pieces] == [" okay", " okay okay okay okay okay okay okay"]
    assert pieces[0].start == 10.0 and pieces[0].end == 11.0 and pieces[1].end == 18.0
    assert pieces[1].flags == (REPETITION,)


@pytest.mark.parametrize(
    ("text", "lp", "ns", "flags"),
    [
        ("And so my fellow Americans, ask not", -0.15, 0.08, ()),
        ("Thank you", -1.81, 0.54, (HALLUCINATION,)),  # laughter, Whisper base
        ("Thank you for watching!", -1.21, 0.41, (HALLUCINATION,)),  # laughter, tiny.en
        ("Thank you.", -0.3, 0.05, ()),  # someone saying thanks
        ("Okay.", -0.9, 0.1, (HALLUCINATION,)),
        ("Something said in noise", -1.3, 0.7, (HALLUCINATION,)),
        ("Something said in noise", -1.3, 0.2, (LOW_CONFIDENCE,)),
        ("A confident sentence", -0.3, 0.7, (NO_SPEECH,)),
        ("It's not a problem, " * 8, -0.15, 0.17, (REPETITION,)),
    ],
)
def test_judge(text: str, lp: float, ns: float, flags: tuple[str, ...]) -> None:
    assert judge(seg(text, lp, ns)) == flags


def test_identical_segments_in_a_row_are_a_loop_from_the_third_on() -> None:
    run = [seg("Okay let us go.", start=i, end=i + 1.0) for i in range(4)]
    out = guard(run)
    assert [s.flags for s in out] == [(), (), (REPETITION,), (REPETITION,)]
    # Across a chunk boundary: the previous chunk's last two count.
    assert guard(run[:1], previous=run[:2])[0].flags == (REPETITION,)
    assert guard(run[:1], previous=run[:1])[0].flags == ()


def test_kept_leaves_out_only_dropped_flags() -> None:
    segs = guard([seg("Real words here.", -1.2, 0.1), seg("Thank you", -1.8, 0.55)])
    assert [s.flags for s in segs] == [(LOW_CONFIDENCE,), (HALLUCINATION,)]
    assert [s.text for s in kept(segs)] == [" Real words here."]


def test_normalise_and_ratio() -> None:
    assert normalise("Hello,  World! It's") == "hello world it s"
    assert compression_ratio("") == 0.0
    assert compression_ratio("ab " * 50) > 2.4 > compression_ratio("A plain short sentence.")
