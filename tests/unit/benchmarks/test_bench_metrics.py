"""The benchmark's scoring: normalisation, S/D/I and WER, invented words, the long-form plan.

No model and no audio decoding: these are the pure parts whose mistakes
would silently skew every figure the benchmark prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks import make_longform
from benchmarks.metrics import (
    Score,
    align,
    edit_distance,
    invented_words,
    normalise,
    pooled,
    score,
    timed_words,
    wer,
)
from tests.support.recordings import AUDIO, needs_recordings
from voxtrald.engine.audio import SAMPLE_RATE

# -- normalisation and WER ------------------------------------------------------------------

def test_normalise_lowercases_drops_punctuation_and_splits_hyphens() -> None:
    assert normalise("Dis-moi, est-ce que l'avion vole ?") == \
        ["dis", "moi", "est", "ce", "que", "lavion", "vole"]
    assert normalise("And so, my fellow Americans: ask NOT!") == \
        ["and", "so", "my", "fellow", "americans", "ask", "not"]
    assert normalise("sublicense, and/or sell") == ["sublicense", "and", "or", "sell"]


def test_normalise_keeps_letters_of_every_script_and_composes_accents() -> None:
    assert normalise("Évident, uneingeschränkt — 20 ans") == \
        ["évident", "uneingeschränkt", "20", "ans"]
    # A decomposed é (e + combining acute) scores the same as a composed one.
    assert normalise("e\u0301vident") == normalise("évident")
    assert normalise("C\u2019est l\u2019écran") == normalise("C'est l'écran")


def test_normalise_of_punctuation_only_is_empty() -> None:
    assert normalise(" ... !? -- ") == []


def test_edit_distance_counts_substitutions_insertions_deletions() -> None:
    ref = ["the", "cat", "sat", "on", "the", "mat"]
    assert edit_distance(ref, ref) == 0
    assert edit_distance(ref, ["the", "cat", "sat", "on", "a", "mat"]) == 1
    assert edit_distance(ref, ["the", "cat", "sat", "on", "the", "mat", "today"]) == 1
    assert edit_distance(ref, ["cat", "sat", "on", "the", "mat"]) == 1
    assert edit_distance(ref, []) == 6
    assert edit_distance([], ["x", "y"]) == 2


def _reference_distance(a: list[str], b: list[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


@given(st.lists(st.sampled_from("abcd"), max_size=12),
       st.lists(st.sampled_from("abcde"), max_size=12))
def test_edit_distance_matches_the_textbook_algorithm(a: list[str], b: list[str]) -> None:
    assert edit_distance(a, b) == _reference_distance(a, b)


def test_align_counts_each_kind_of_edit() -> None:
    ref = normalise("the cat sat on the mat")
    assert align(ref, ref) == Score(0, 0, 0, 6, 6)
    assert align(ref, normalise("the cat sat on a mat")) == Score(1, 0, 0, 6, 6)
    assert align(ref, normalise("the cat sat on the mat today")) == Score(0, 0, 1, 6, 7)
    assert align(ref, normalise("cat sat on the mat")) == Score(0, 1, 0, 6, 5)
    assert align(ref, []) == Score(0, 6, 0, 6, 0)
    assert align([], ["x", "y"]) == Score(0, 0, 2, 0, 2)


def test_a_lost_stretch_is_deletions_not_substitutions() -> None:
    # The loop guard's damage: one word kept of a sentence.
    ref = normalise("ask not what your country can do for you")
    assert align(ref, ["you"]) == Score(0, 8, 0, 9, 1)
    s = align(ref, ["hello"])
    assert (s.subs, s.dels, s.ins) == (1, 8, 0)
    assert s.deletion_rate == pytest.approx(8 / 9)


def test_a_shifted_word_counts_as_found() -> None:
    # Two edits either way; the alignment keeps the word both texts have.
    assert align(["a", "b"], ["b", "c"]) == Score(0, 1, 1, 2, 2)
    # A repeated sentence: the second copy's words are insertions, the first all hits.
    once = normalise("the ferry leaves at nine")
    assert align(once, once + once) == Score(0, 0, 5, 5, 10)


def test_a_tail_lost_and_words_invented_elsewhere() -> None:
    ref = normalise("jedem der diese software erhält dies umfasst das recht")
    hyp = normalise("thank you jedem der diese software erhält")
    assert align(ref, hyp) == Score(0, 4, 2, 9, 7)


def _reference_counts(a: list[str], b: list[str]) -> tuple[int, int]:
    """Textbook DP over (edits, -hits) pairs: fewest edits, then most hits."""
    prev = [(j, 0) for j in range(len(b) + 1)]
    for i, x in enumerate(a, 1):
        cur = [(i, 0)]
        for j, y in enumerate(b, 1):
            diag = (prev[j - 1][0], prev[j - 1][1] - 1) if x == y \
                else (prev[j - 1][0] + 1, prev[j - 1][1])
            cur.append(min((prev[j][0] + 1, prev[j][1]), (cur[j - 1][0] + 1, cur[j - 1][1]),
                           diag))
        prev = cur
    edits, neg_hits = prev[-1]
    return edits, -neg_hits


@given(st.lists(st.sampled_from("abcd"), max_size=12),
       st.lists(st.sampled_from("abcde"), max_size=12))
def test_align_matches_the_textbook_algorithm(a: list[str], b: list[str]) -> None:
    s = align(a, b)
    edits, hits = _reference_counts(a, b)
    assert s.edits == edits
    assert s.ref_words - s.subs - s.dels == hits
    assert s.hyp_words - s.subs - s.ins == hits
    assert min(s.subs, s.dels, s.ins) >= 0


def test_deletion_rate_pools_over_words() -> None:
    a, b = score("one two three four", "one two"), score("five six", "five six")
    assert a.deletion_rate == 0.5
    assert pooled([a, b]).deletion_rate == pytest.approx(2 / 6)
    assert score("", "x").deletion_rate is None


def test_wer_is_edits_over_reference_words() -> None:
    assert wer("Ask not what your country can do", "ask not what the country can do") == \
        pytest.approx(1 / 7)
    assert wer("Hello world.", "hello, WORLD!") == 0.0
    assert wer("", "anything") is None
    assert wer("two words", "") == 1.0


def test_pooled_weighs_every_reference_word_the_same() -> None:
    short, long_ = score("a b", "x y"), score(" ".join("w" * 98), " ".join("w" * 98))
    total = pooled([short, long_])
    assert total == Score(2, 0, 0, 100, 100)
    assert total.wer == pytest.approx(0.02)  # not the mean of 1.0 and 0.0
    assert pooled([]).wer is None


# -- invented words -------------------------------------------------------------------------

def test_untimed_words_are_spread_evenly_over_their_segment() -> None:
    words = timed_words([{"start": 10.0, "end": 14.0, "text": "one, two three four"}])
    assert [w for w, _, _ in words] == ["one", "two", "three", "four"]
    assert [(s, e) for _, s, e in words] == [(10, 11), (11, 12), (12, 13), (13, 14)]


def test_word_timings_are_used_when_the_transcript_has_them() -> None:
    seg = {"start": 0.0, "end": 9.0, "text": "Hello there",
           "words": [{"word": " Hello", "start": 0.5, "end": 0.9, "probability": 0.9},
                     {"word": " there.", "start": 7.0, "end": 7.4, "probability": 0.8}]}
    assert timed_words([seg]) == [("hello", 0.5, 0.9), ("there", 7.0, 7.4)]


def test_invented_words_counts_only_words_inside_nonspeech_stretches() -> None:
    segments = [
        {"start": 0.0, "end": 5.0, "text": "real words", "words": [
            {"word": "real", "start": 0.0, "end": 1.0}, {"word": "words", "start": 1.0,
                                                        "end": 2.0}]},
        {"start": 10.0, "end": 20.0, "text": "x", "words": [
            {"word": "Thank", "start": 12.0, "end": 12.5}, {"word": "you.", "start": 12.5,
                                                            "end": 13.0}]},
        # At the stretch's edge, within the margin: a boundary word, not an invention.
        {"start": 29.0, "end": 30.2, "text": "edge", "words": [
            {"word": "edge", "start": 29.6, "end": 30.2}]},
    ]
    assert invented_words(segments, [(10.0, 30.0)], [(0.0, 5.0)]) == ["thank", "you"]
    assert invented_words(segments, []) == []


def test_an_untimed_segment_that_overlaps_speech_is_not_blamed_on_the_silence() -> None:
    # Speech until 5 s, silence 5-35 s: the segment's end runs on into the silence.
    speech, silence = [(0.0, 5.0)], [(5.0, 35.0)]
    running_on = [{"start": 1.0, "end": 34.0, "text": "ask what you can do for your country"}]
    assert invented_words(running_on, silence, speech) == []
    alone = [{"start": 10.0, "end": 14.0, "text": "you you you you"}]
    assert invented_words(alone, silence, speech) == ["you"] * 4


# -- the long-form plan ---------------------------------------------------------------------

DURATIONS = {"a.wav": 11.0, "b.mp3": 180.0, "c.wav": 1.2, "d.mp3": 60.0}


def test_plan_reaches_the_length_with_silence_noise_and_pauses() -> None:
    stretches = make_longform.plan(DURATIONS, 15, seed=1)
    assert stretches[-1]["end"] >= 15 * 60
    kinds = [s["kind"] for s in stretches]
    assert kinds.count("silence") == 1
    silence = stretches[kinds.index("silence")]
    assert silence["end"] - silence["start"] == pytest.approx(30.0)
    noises = [s for s in stretches if s["kind"] == "noise"]
    assert len(noises) >= 3
    assert all(-55 <= n["dbfs"] <= -45 and n["colour"] in ("white", "pink") for n in noises)
    # Contiguous, and no two sounds without a pause between them.
    for before, after in zip(stretches, stretches[1:], strict=False):
        assert after["start"] == before["end"]
        assert "pause" in (before["kind"], after["kind"])
    for s in stretches:
        if s["kind"] == "speech":
            assert s["end"] - s["start"] == pytest.approx(DURATIONS[s["file"]])


def test_plan_is_deterministic_for_a_seed() -> None:
    assert make_longform.plan(DURATIONS, 10, seed=3) == make_longform.plan(DURATIONS, 10, seed=3)
    assert make_longform.plan(DURATIONS, 10, seed=3) != make_longform.plan(DURATIONS, 10, seed=4)


def test_a_short_plan_still_has_its_silence_and_noise() -> None:
    stretches = make_longform.plan({"only.wav": 400.0}, 1, seed=1)
    kinds = {s["kind"] for s in stretches}
    assert {"speech", "silence", "noise"} <= kinds


def test_plan_refuses_nothing_to_build_from() -> None:
    with pytest.raises(ValueError):
        make_longform.plan({}, 15, seed=1)
    with pytest.raises(ValueError):
        make_longform.plan(DURATIONS, 0, seed=1)


def test_manifest_stretches_and_reference_text() -> None:
    stretches = make_longform.plan(DURATIONS, 5, seed=2)
    manifest = {"stretches": stretches}
    nonspeech = make_longform.nonspeech_stretches(manifest)
    assert nonspeech and all(e > s for s, e in nonspeech)
    assert len(make_longform.speech_stretches(manifest)) == \
        sum(s["kind"] == "speech" for s in stretches)
    refs = {name: {"text": f" words of {name} "} for name in DURATIONS}
    text = make_longform.reference_text(stretches, refs)
    assert text.splitlines() == [f"words of {s['file']}" for s in stretches
                                 if s["kind"] == "speech"]


def test_speech_recordings_are_those_with_a_reference_text() -> None:
    refs = {"en.wav": {"lang": "en", "text": "hi"}, "mix.mp3": {"lang": "en+de", "text": "x"},
            "fr.mp3": {"lang": "fr", "text": "oui"}, "empty.wav": {"lang": None, "text": ""},
            "noref.mp3": {"lang": "en", "text": ""}}
    assert make_longform.speech_recordings(refs) == ["en.wav", "fr.mp3", "mix.mp3"]
    assert make_longform.speech_recordings(refs, ["de"]) == ["mix.mp3"]


def test_noise_has_the_asked_level() -> None:
    rng = np.random.default_rng(0)
    for colour in ("white", "pink"):
        block = make_longform.noise(2.0, colour, -50.0, rng)
        assert block.size == 32000 and block.dtype == np.float32
        rms_db = 20 * np.log10(np.sqrt(np.mean(np.square(block))))
        assert rms_db == pytest.approx(-50.0, abs=0.1)


def test_render_follows_the_plan_sample_for_sample() -> None:
    stretches = make_longform.plan({"s.wav": 2.0}, 0.5, seed=1)
    speech = {"s.wav": np.full(32000, 0.5, dtype=np.float32)}
    blocks = list(make_longform.render(stretches, speech, seed=1))
    audio = np.concatenate(blocks)
    rate = SAMPLE_RATE
    assert audio.size == round(stretches[-1]["end"] * rate)
    for s in stretches:
        part = audio[round(s["start"] * rate):round(s["end"] * rate)]
        if s["kind"] in ("silence", "pause"):
            assert not part.any()
        elif s["kind"] == "speech":
            assert np.all(part == 0.5)
        else:
            assert 0 < np.abs(part).max() < 0.1


@needs_recordings
def test_build_writes_audio_reference_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "long.flac"
    manifest = make_longform.build(out, 0.5, seed=1, langs=["en"])
    ref_path, manifest_path = make_longform.side_files(out)
    assert out.stat().st_size > 0
    assert json.loads(manifest_path.read_text()) == manifest
    refs = json.loads((AUDIO / "refs.json").read_text())
    used = [s["file"] for s in manifest["stretches"] if s["kind"] == "speech"]
    assert used and all("en" in refs[f]["lang"] for f in used)
    assert ref_path.read_text().splitlines() == [refs[f]["text"].strip() for f in used]
