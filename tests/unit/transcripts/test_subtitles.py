"""Subtitle cue layout: the broadcast conventions, as a table and as properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voxtrald.transcripts.segments import Segment, Word
from voxtrald.transcripts.subtitles import Cue, Limits, build_cues, display_width

LIMITS = Limits()


def timed(text: str, start: float = 0.0, step: float = 0.3, gap: float = 0.05) -> Segment:
    """A segment whose words last `step` seconds each, `gap` apart, with leading spaces."""
    words, t = [], start
    for w in text.split():
        words.append(Word(" " + w, t, t + step, 0.9))
        t += step + gap
    return Segment(start, t, " " + text, words=tuple(words))


def texts(cues: list[Cue]) -> list[tuple[str, ...]]:
    return [c.lines for c in cues]


# -- the table ---------------------------------------------------------------------------

SENTENCES = ("The quick brown fox jumps over the lazy dog and then runs away into the forest "
             "where it sleeps. Then it wakes up, eats breakfast, and goes back to sleep again.")

CASES = [
    pytest.param(
        [timed("Hello there.")],
        [("Hello there.",)],
        id="short text stays on one line",
    ),
    pytest.param(
        [timed("This sentence is a little too long to be shown on a single line.")],
        [("This sentence is a little too", "long to be shown on a single line.")],
        id="two lines, balanced, the lower one longer",
    ),
    pytest.param(
        [timed(SENTENCES)],
        [("The quick brown fox jumps over the lazy", "dog and then runs away into the forest"),
         ("where it sleeps. Then it wakes up, eats", "breakfast, and goes back to sleep again.")],
        id="long segment in even cues",
    ),
    pytest.param(
        [timed("Right. We begin with the first point of the agenda which is long enough.")],
        [("Right. We begin with the first point", "of the agenda which is long enough.")],
        id="fits in one cue: no needless cut",
    ),
    pytest.param(
        [timed("So that is all I wanted to say about the budget for next year. "
               "Now over to you for questions.")],
        [("So that is all I wanted to say", "about the budget for next year."),
         ("Now over to you for questions.",)],
        id="a cut at the sentence end beats an even one",
    ),
    pytest.param(
        [Segment(0.0, 4.0, " No word timings here, the text is shared out over the span "
                           "of the segment by its characters.")],
        [("No word timings here,",),
         ("the text is shared out over the span", "of the segment by its characters.")],
        id="no words: text split by characters, cut at a comma",
    ),
    pytest.param(
        [Segment(0.0, 3.0, "這是一個很長的中文句子沒有空格但是"
                           "需要被切成幾個部分才能顯示在螢幕上面")],
        [("這是一個很長的中文句子沒有空格但是", "需要被切成幾個部分才能顯示在螢幕上面")],
        id="wide characters count twice; no spaces added",
    ),
    pytest.param(
        [Segment(0.0, 1.0, "   "), Segment(1.0, 2.0, "")],
        [],
        id="blank segments make no cues",
    ),
]


@pytest.mark.parametrize(("segments", "expected"), CASES)
def test_layout(segments: list[Segment], expected: list[tuple[str, ...]]) -> None:
    assert texts(build_cues(segments)) == expected


def test_word_timings_place_the_cues() -> None:
    seg = timed("One two three four five six seven eight nine ten eleven twelve thirteen "
                "fourteen fifteen sixteen seventeen eighteen nineteen twenty", step=0.5)
    cues = build_cues([seg])
    assert len(cues) == 2
    first_words = cues[0].lines[-1].split()
    last_of_first = next(w for w in seg.words if w.word.strip() == first_words[-1])
    first_of_second = seg.words[[w.word.strip() for w in seg.words].index(
        cues[1].lines[0].split()[0])]
    assert cues[0].start_ms == 0
    assert cues[0].end_ms == round(last_of_first.end * 1000)
    assert cues[1].start_ms == round(first_of_second.start * 1000)
    assert cues[1].end_ms == round(seg.words[-1].end * 1000)


def test_seven_seconds_at_most_even_for_slow_speech() -> None:
    seg = timed("Slowly spoken words one at a time", step=1.5, gap=0.2)
    cues = build_cues([seg])
    assert all(c.end_ms - c.start_ms <= 7000 for c in cues)
    assert " ".join(" ".join(c.lines) for c in cues) == "Slowly spoken words one at a time"
    assert len(cues) == 2


def test_a_pause_ends_a_cue() -> None:
    words = (Word(" Yes.", 0.0, 0.4, 0.9), Word(" Then", 3.0, 3.3, 0.9),
             Word(" more.", 3.4, 3.8, 0.9))
    cues = build_cues([Segment(0.0, 3.8, " Yes. Then more.", words=words)])
    assert texts(cues) == [("Yes.",), ("Then more.",)]
    # Short cues stay up for a second where the next one leaves room.
    assert (cues[0].start_ms, cues[0].end_ms) == (0, 1000)
    assert (cues[1].start_ms, cues[1].end_ms) == (3000, 4000)


def test_overlapping_segments_never_overlap_as_cues() -> None:
    cues = build_cues([Segment(0.0, 5.0, "First."), Segment(4.0, 4.5, "Second."),
                       Segment(4.2, 6.0, "Third.")])
    assert texts(cues) == [("First.",), ("Second.",), ("Third.",)]
    assert [(c.start_ms, c.end_ms) for c in cues] == [(0, 5000), (5000, 5001), (5001, 6001)]


def test_stripped_words_are_spaced_again_from_the_segment_text() -> None:
    words = (Word("Hello", 0.0, 0.5, 0.9), Word("world.", 0.6, 1.0, 0.9))
    assert texts(build_cues([Segment(0.0, 1.0, "Hello world.", words=words)])) == [
        ("Hello world.",)]
    glued = (Word("你好", 0.0, 0.5, 0.9), Word("世界", 0.6, 1.0, 0.9))
    assert texts(build_cues([Segment(0.0, 1.0, "你好世界", words=glued)])) == [("你好世界",)]


def test_a_word_longer_than_a_line_is_cut_into_even_pieces() -> None:
    url = "https://example.com/" + "a" * 60
    cues = build_cues([Segment(0.0, 2.0, url)])
    assert "".join("".join(c.lines) for c in cues) == url
    assert all(len(line) <= 42 for c in cues for line in c.lines)
    assert [len(line) for c in cues for line in c.lines] == [40, 40]


def test_broken_times_still_give_ordered_cues() -> None:
    nan = float("nan")
    segs = [Segment(nan, nan, "Not a time."), Segment(-5.0, -1.0, "Before the start."),
            Segment(1e12, float("inf"), "Far away.")]
    cues = build_cues(segs)
    assert [c.lines for c in cues] == [("Not a time.",), ("Before the start.",), ("Far away.",)]
    _assert_well_timed(cues)


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        Limits(line_chars=1)
    with pytest.raises(ValueError):
        Limits(seconds=0)


# -- properties --------------------------------------------------------------------------

WORD_TEXT = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzÀéß,.?!'-中文字"), min_size=1, max_size=14)
LONG_WORD_TEXT = st.text(alphabet=st.sampled_from("abcxyz/.:中"), min_size=1, max_size=120)


@st.composite
def word_segments(draw: st.DrawFn, word_text: st.SearchStrategy[str] = WORD_TEXT) -> Segment:
    n = draw(st.integers(min_value=1, max_value=60))
    t = draw(st.floats(min_value=0, max_value=5000, allow_nan=False))
    start = t
    words = []
    for _ in range(n):
        t += draw(st.floats(min_value=-0.5, max_value=2.5, allow_nan=False))  # overlaps too
        length = draw(st.floats(min_value=0, max_value=9, allow_nan=False))
        words.append(Word(" " + draw(word_text), max(0.0, t), max(0.0, t) + length, 0.5))
        t += length
    text = "".join(w.word for w in words)
    return Segment(start, max(start, t), text, words=tuple(words))


@st.composite
def plain_segments(draw: st.DrawFn) -> Segment:
    words = draw(st.lists(WORD_TEXT, min_size=0, max_size=40))
    start = draw(st.floats(min_value=0, max_value=5000, allow_nan=False))
    length = draw(st.floats(min_value=0, max_value=120, allow_nan=False))
    return Segment(start, start + length, " ".join(words))


ANY_SEGMENT = st.one_of(word_segments(), plain_segments())


def _words_of(segments: list[Segment]) -> list[str]:
    out: list[str] = []
    for seg in segments:
        source = [w.word for w in seg.words] if seg.words else [seg.text]
        for piece in source:
            out.extend(piece.split())
    return out


def _assert_well_timed(cues: list[Cue]) -> None:
    prev_end = 0
    for cue in cues:
        assert cue.start_ms >= prev_end
        assert cue.end_ms > cue.start_ms
        assert cue.end_ms - cue.start_ms <= 7000
        prev_end = cue.end_ms


def _assert_within_limits(cues: list[Cue]) -> None:
    for cue in cues:
        assert 1 <= len(cue.lines) <= 2
        for line in cue.lines:
            assert line and line == line.strip()
            assert display_width(line) <= 42


@settings(max_examples=150, deadline=None)
@given(st.lists(ANY_SEGMENT, max_size=6))
def test_every_word_once_in_order_within_limits(segments: list[Segment]) -> None:
    cues = build_cues(segments)
    said = [w for cue in cues for line in cue.lines for w in line.split()]
    assert said == _words_of(segments)
    _assert_within_limits(cues)
    _assert_well_timed(cues)


@settings(max_examples=100, deadline=None)
@given(st.lists(word_segments(LONG_WORD_TEXT), min_size=1, max_size=3))
def test_words_longer_than_a_line_keep_every_character(segments: list[Segment]) -> None:
    cues = build_cues(segments)
    shown = re.sub(r"\s", "", "".join("".join(c.lines) for c in cues))
    assert shown == re.sub(r"\s", "", "".join(_words_of(segments)))
    _assert_within_limits(cues)
    _assert_well_timed(cues)


@settings(max_examples=100, deadline=None)
@given(word_segments())
def test_a_cue_does_not_outlast_its_words_by_more_than_the_minimum(seg: Segment) -> None:
    cues = build_cues([seg])
    last_end = max(round(w.end * 1000) for w in seg.words)
    assert cues[-1].end_ms <= max(last_end, cues[-1].start_ms + 1000)
