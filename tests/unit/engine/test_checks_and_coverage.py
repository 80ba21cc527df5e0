"""The checks that send a window to the careful decode, coverage and gaps: pure functions."""

from __future__ import annotations

import pytest

from voxtrald.engine import checks, coverage, quality, spans
from voxtrald.transcripts import gaps
from voxtrald.transcripts.segments import Segment, Word


def words(text: str, start: float, step: float = 0.4, length: float = 0.3) -> tuple[Word, ...]:
    return tuple(Word(" " + w, round(start + i * step, 3), round(start + i * step + length, 3),
                      0.9) for i, w in enumerate(text.split()))


def seg(text: str, start: float, step: float = 0.4, lp: float = -0.2) -> Segment:
    ws = words(text, start, step)
    return Segment(ws[0].start, ws[-1].end, " " + text, ws, lp, 0.05, 1.3)


def test_a_plain_window_raises_no_doubt() -> None:
    s = seg("the ferry to the island leaves at half past nine", 0.5)
    verdict = checks.judge([s], [(0.1, 4.3)])
    assert verdict.ok and verdict.coverage > 0.9


def test_text_that_stops_before_the_speech_does_is_an_early_end() -> None:
    # One sentence decoded, but Silero hears speech for six more seconds.
    s = seg("the ferry to the island leaves at half past nine", 0.5)
    verdict = checks.judge([s], [(0.1, 4.3), (4.6, 10.4)])
    assert checks.EARLY_END in verdict.doubts and checks.COVERAGE in verdict.doubts


def test_unsure_looping_and_empty_windows_are_doubted() -> None:
    voiced = [(0.0, 8.0)]
    assert checks.LOGPROB in checks.judge([seg("maybe this was said", 0.4, lp=-1.4)],
                                          [(0.0, 2.0)]).doubts
    loop = seg(" ".join(["hello"] * 12), 0.4, step=0.6)
    assert checks.LOOP in checks.judge([loop], voiced).doubts
    empty = checks.judge([], voiced)
    assert {checks.COVERAGE, checks.EARLY_END} <= set(empty.doubts)
    assert empty.coverage == 0.0


def test_the_better_decode_has_fewer_doubts_then_covers_more() -> None:
    bad = checks.Verdict((checks.LOOP, checks.COVERAGE), 0.3, -0.5)
    good = checks.Verdict((), 0.95, -0.6)
    assert checks.better(good, bad) and not checks.better(bad, good)
    assert checks.better(checks.Verdict((checks.LOGPROB,), 0.9, -1.1),
                         checks.Verdict((checks.LOGPROB,), 0.5, -1.0))


def test_span_arithmetic() -> None:
    assert spans.merge([(3, 4), (0, 1), (0.5, 2)]) == [(0, 2), (3, 4)]
    assert spans.overlap([(0, 10)], [(2, 3), (5, 7)]) == pytest.approx(3)
    assert spans.total([(0, 2), (1, 3)]) == pytest.approx(3)
    assert coverage.subtract([(0, 10)], [(2, 3), (5, 7)]) == [(0, 2), (3, 5), (7, 10)]


def test_voiced_audio_no_word_covers_is_found() -> None:
    said = seg("first words here", 0.5)
    gap_at = coverage.uncovered([(0.1, 2.0), (5.0, 9.0)], [said])
    assert gap_at == [(5.0, 9.0)]
    # Removed text does not cover speech; short stretches are not worth a decode.
    removed = Segment(5.0, 9.0, " Thank you.", words("Thank you.", 5.2), -1.5, 0.7, 1.0,
                      (quality.HALLUCINATION,))
    assert coverage.uncovered([(5.0, 9.0)], [removed]) == [(5.0, 9.0)]
    assert coverage.uncovered([(5.0, 5.6)], []) == []


def test_gaps_are_told_and_marked() -> None:
    g = coverage.gap(3.2, 17.4, "no_text")
    segments = [seg("before it", 0.5), g, seg("after it", 18.0)]
    note = gaps.warning(segments)
    assert note is not None and "14.2 s of speech could not be transcribed" in note
    assert "0:03\u20130:17" in note
    assert gaps.gap_docs(segments) == [{"start": 3.2, "end": 17.4,
                                        "reason": "the model wrote nothing for it"}]
    shown = gaps.marked(segments, True)
    assert [s.text.strip() for s in shown] == ["before it", "[inaudible]", "after it"]
    assert [s.text.strip() for s in gaps.marked(segments, False)] == ["before it", "after it"]
    assert gaps.warning([seg("all heard", 0.0)]) is None
    with pytest.raises(ValueError):
        coverage.gap(0, 1, "because")
    many = [coverage.gap(i * 10, i * 10 + 2, "removed_text") for i in range(7)]
    assert "and 3 more" in (gaps.warning(many) or "")


def test_speech_said_again_is_not_a_loop_when_the_audio_carries_it() -> None:
    # "ask not" said four times, each with its own time in voiced audio.
    text = " ".join(["ask not what your country"] * 4)
    spoken = seg(text, 0.0, step=0.45)
    voiced = [(0.0, spoken.end + 0.4)]
    assert quality.speech_like(spoken.words, voiced)
    assert [s.flags for s in quality.guard([spoken], (), voiced)] == [()]
    # The same text with no audio under its repeats is a loop, cut out as before.
    crammed = Segment(0.0, 2.5, spoken.text, words(text, 0.0, step=0.02, length=0.01),
                      -0.3, 0.05, 3.0)
    flags = [s.flags for s in quality.guard([crammed], (), voiced)]
    assert any(quality.REPETITION in f for f in flags)
    # Without the audio, the text alone decides (the old rule).
    assert any(quality.REPETITION in s.flags for s in quality.guard([spoken]))
    # Repeats timed over silence are a loop too.
    assert not quality.speech_like(spoken.words, [(0.0, 1.0)])


def test_a_decode_may_not_write_more_than_its_audio_can_hold() -> None:
    from voxtrald.engine.fallback import MODEL_MAX_TOKENS, token_budget

    assert token_budget(3.6, 0) < token_budget(30.0, 0) <= MODEL_MAX_TOKENS
    assert token_budget(30.0, 200) <= MODEL_MAX_TOKENS - 200
    assert token_budget(30.0, 10_000) == 1


def test_credits_inside_a_short_text_are_stock_phrases() -> None:
    assert quality.is_stock("don t forget to subscribe to my channel")
    assert quality.is_stock("thank you")
    assert not quality.is_stock("you know what i mean")
    long = "we talked about how people subscribe to my channel and what they watch every day"
    assert not quality.is_stock(long)


def test_a_prompt_longer_than_counted_runs_the_first_pass_uncapped() -> None:
    import numpy as np

    from voxtrald.engine.decoding import ChunkDecoder, ChunkPlan

    class Pipeline:
        """Refuses a token cap the way faster-whisper does when the prompt is too long."""

        caps: list[int | None] = []

        def transcribe(self, *_a: object, max_new_tokens: int | None = None, **_k: object):
            self.caps.append(max_new_tokens)

            def segments():
                if max_new_tokens is not None:
                    raise ValueError("the prompt leaves no room")
                yield "segment"
            return segments(), None

    pipeline = Pipeline()
    decoder = ChunkDecoder(object(), pipeline)
    got = list(decoder._batched(np.zeros(16000, np.float32), [{"start": 0.0, "end": 1.0}],
                                ChunkPlan("en", 5, 1), 40))
    assert got == ["segment"] and pipeline.caps == [40, None]


def test_progress_never_moves_back() -> None:
    from voxtrald.engine.progress import forward_only

    told: list[tuple[float, float]] = []
    tell = forward_only(lambda at, until: told.append((at, until)), 10.0)
    for position, until in ((5.0, 8.0), (12.0, 30.0), (40.0, 60.0), (15.0, 20.0),
                            (41.5, 60.0)):
        tell(position, until)
    assert told == [(10.0, 10.0), (12.0, 30.0), (40.0, 60.0), (40.0, 40.0), (41.5, 60.0)]
