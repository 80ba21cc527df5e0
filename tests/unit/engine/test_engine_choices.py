"""The engine's pure choices: chunk length, batch size, language, sentence pieces, spelling."""

from __future__ import annotations

import json

import pytest

from voxtrald.config import EngineConfig
from voxtrald.engine.audio import shortfall_warning
from voxtrald.engine.batching import choose_batch_size, item_bytes
from voxtrald.engine.language import (
    Trial,
    candidates,
    doubtful_seconds,
    english_only_warning,
    pick,
    restricted,
    short_speech_warning,
    too_short_to_tell,
)
from voxtrald.engine.segmenting import split_sentences
from voxtrald.engine.spelling import respell_text, respell_words, terms
from voxtrald.engine.whisper_batch import window_language
from voxtrald.engine.windows import plan_windows
from voxtrald.memory.chunks import chunk_seconds
from voxtrald.states import MemoryLevel
from voxtrald.transcripts.segments import Segment, Word
from voxtrald.worker.protocol import EngineSettings

GiB = 1024**3
MiB = 1024**2
N, W, C = MemoryLevel.NORMAL, MemoryLevel.WARNING, MemoryLevel.CRITICAL


@pytest.mark.parametrize(
    ("available", "level", "expected"),
    [
        (None, N, 90.0), (0, N, 60.0), (int(3.99 * GiB), N, 60.0), (4 * GiB, N, 90.0),
        (int(7.9 * GiB), N, 90.0), (8 * GiB, N, 120.0), (64 * GiB, W, 120.0),
        (64 * GiB, C, 60.0),  # critical wins over the figure
    ],
)
def test_chunk_seconds(available: int | None, level: MemoryLevel, expected: float) -> None:
    assert chunk_seconds(available, level, EngineConfig()) == expected


def test_chunk_sizing_is_configurable() -> None:
    assert chunk_seconds(None, N, EngineConfig(chunk_seconds_mid=75.0)) == 75.0
    short = EngineConfig(chunk_seconds_low=10, chunk_seconds_mid=10, chunk_seconds_high=10)
    assert chunk_seconds(GiB, N, short) == 10.0


@pytest.mark.parametrize(
    ("requested", "available", "level", "device", "expected"),
    [
        (0, 16 * GiB, N, "cpu", 4),  # automatic, capped where batching stops paying on a CPU
        (0, 16 * GiB, N, "cuda", 16),
        (0, 16 * GiB, W, "cpu", 2),  # halved at warning
        (0, 16 * GiB, C, "cpu", 1),  # one at critical
        (0, 1300 * MiB, N, "cpu", 2),  # 276 MB past the reserve: two 94 MB items fit
        (0, 512 * MiB, N, "cpu", 1),  # below the reserve: never zero
        (0, None, N, "cpu", 2),
        (8, 16 * GiB, N, "cpu", 8),  # a configured size is honoured
        (8, 16 * GiB, W, "cpu", 4),
        (8, 16 * GiB, C, "cpu", 1),
        (1, 16 * GiB, W, "cpu", 1),
    ],
)
def test_batch_size(requested: int, available: int | None, level: MemoryLevel, device: str,
                    expected: int) -> None:
    assert choose_batch_size(requested, available, level, 145 * MiB, device) == expected


def test_batch_item_follows_model_size() -> None:
    assert item_bytes(145 * MiB) < item_bytes(1500 * MiB)
    assert item_bytes(None) == 256 * MiB and item_bytes(1) == 64 * MiB


def test_sure_detection_is_not_second_guessed() -> None:
    assert candidates([("fr", 0.94), ("br", 0.03)]) == []
    assert candidates([]) == []
    ranked = [("ru", 0.66), ("pl", 0.14), ("pt", 0.1), ("fr", 0.011), ("en", 0.004)]
    assert candidates(ranked) == ["ru", "pl", "pt", "fr"]


def test_unsure_detection_goes_to_the_language_the_decoder_is_surest_of() -> None:
    ranked = [("ru", 0.66), ("pl", 0.14), ("fr", 0.011)]
    trials = [Trial("ru", -0.68, 6, 0.04, " Бонжуло!"), Trial("pl", -0.97, 5, 0.04, " Bązul?"),
              Trial("fr", -0.35, 2, 0.04, " Bonjour !")]
    # A language the detector gave almost nothing cannot overrule it on its own...
    assert pick(ranked, trials)[0] == "ru"
    # ...but among the languages a person said they speak, the decoder decides.
    lang, p = pick(restricted(ranked, ("fr", "ru")), trials, chosen_by_person=True)
    assert lang == "fr" and 0.5 < p <= 1.0
    # A likely enough language still wins by the decoder's confidence.
    assert pick([("ru", 0.66), ("fr", 0.2)], trials)[0] == "fr"
    # A close call keeps the detector's pick.
    close = [Trial("ru", -0.40, 6, 0.04, "x"), Trial("fr", -0.30, 2, 0.04, "y")]
    assert pick(ranked, close)[0] == "ru"
    # Not speech enough to judge by: the detector's figure stands.
    assert pick(ranked, [Trial("ru", -2.0, 3, 0.5, "x"), Trial("fr", -0.3, 2, 0.5, "y")]) == \
        ("ru", 0.66)
    # Empty text never wins.
    assert pick(ranked, [Trial("ru", -0.9, 3, 0.1, "x"), Trial("fr", -0.1, 0, 0.1, " ")])[0] \
        == "ru"


def test_a_confident_detector_is_not_overruled_by_a_language_it_ranked_near_zero() -> None:
    # An espeak English sentence once came out as Welsh this way.
    ranked = [("en", 0.76), ("cy", 0.004), ("de", 0.1)]
    trials = [Trial("en", -0.9, 12, 0.05, " The ferry to the island"),
              Trial("cy", -0.4, 14, 0.05, " a fer i'r ddiol")]
    assert pick(ranked, trials)[0] == "en"


def test_languages_named_by_a_person_restrict_the_ranking() -> None:
    ranked = [("la", 0.5), ("fr", 0.3), ("en", 0.1)]
    assert restricted(ranked, ("en", "fr")) == [("fr", pytest.approx(0.75)),
                                                ("en", pytest.approx(0.25))]
    assert restricted(ranked, ()) == ranked
    assert restricted(ranked, ("ja",)) == ranked  # none of them ranked: all of it


def test_short_unsure_speech_takes_the_fallback_language() -> None:
    unsure = [("la", 0.5), ("fr", 0.3)]
    assert too_short_to_tell(unsure, 1.2, ()) == "en"
    assert too_short_to_tell(unsure, 4.0, ()) is None
    assert too_short_to_tell([("fr", 0.95)], 1.2, ()) is None
    assert too_short_to_tell(unsure, 1.2, ("fr", "en")) is None
    assert "1.2 s" in short_speech_warning("en", 1.2)


def test_window_language_switches_only_when_sure() -> None:
    assert window_language([("<|de|>", 0.97)], "<|en|>") == "<|de|>"
    assert window_language([("<|la|>", 0.9), ("<|fr|>", 0.05)], "<|en|>",
                           allowed=("en", "fr")) == "<|fr|>"
    assert window_language([("<|ru|>", 0.66)], "<|fr|>") == "<|fr|>"
    assert window_language([], "<|fr|>") == "<|fr|>"


def _s(start: float, end: float, lp: float, cr: float = 1.2, flags: tuple[str, ...] = ()
       ) -> Segment:
    return Segment(start, end, " x", (), lp, 0.1, cr, flags)


def test_english_only_model_on_other_speech_is_flagged() -> None:
    # tiny.en on the French talk: loops and low confidence everywhere.
    french = [_s(0, 19, -0.65, 4.96), _s(26, 56, -0.15, 22.5), _s(115, 134, -0.82, 2.84)]
    total, bad = doubtful_seconds(french)
    assert total == bad == 68
    warning = english_only_warning(total, bad, "tiny.en")
    assert warning and "tiny.en" in warning and "knows only English" in warning
    # English, even hard English, is left alone.
    assert english_only_warning(*doubtful_seconds([_s(0, 10, -0.15), _s(10, 15, -0.54)]),
                                "tiny.en") is None
    # Too little speech to tell.
    assert english_only_warning(*doubtful_seconds([_s(0, 2, -1.3)]), "tiny.en") is None


def _words(*spec: tuple[str, float, float]) -> tuple[Word, ...]:
    return tuple(Word(w, s, e, 0.9) for w, s, e in spec)


def test_sentences_and_pauses_cut_a_long_window() -> None:
    words = _words((" Settlement,", 0.4, 1.0), (" Kentucky,", 3.0, 3.6), (" causing", 3.7, 4.0),
                   (" damage.", 4.0, 4.5), (" It", 4.6, 4.7), (" went", 4.7, 4.9),
                   (" on.", 4.9, 5.2), (" Mr.", 5.3, 5.4), (" Smith", 5.4, 5.8),
                   (" left.", 5.8, 6.1))
    seg = Segment(0.4, 6.1, "".join(w.word for w in words), words, -0.3, 0.05, 1.1, ("x",))
    pieces = split_sentences(seg)
    assert [p.text for p in pieces] == [" Settlement,", " Kentucky, causing damage.",
                                        " It went on.", " Mr. Smith left."]
    assert pieces[1].start == 3.0 and pieces[1].end == 4.5
    assert all(p.avg_logprob == -0.3 and p.flags == ("x",) for p in pieces)
    assert split_sentences(Segment(0, 5, " No words.", ())) == [Segment(0, 5, " No words.", ())]


def test_vocabulary_respelled_as_the_user_wrote_it() -> None:
    assert terms("ComfyUI, the Kubernetes; vLLM") == ["ComfyUI", "Kubernetes", "vLLM"]
    assert terms(None) == [] and terms("  ") == []
    words = _words((" your", 0, 1), (" Comfy", 1, 2), (" UI.", 2, 3), (" kubernetes", 3, 4),
                   (" About", 4, 5))
    out = respell_words(words, terms("ComfyUI, kubernetes about"))
    assert [w.word for w in out] == [" your", " ComfyUI.", " kubernetes", " About"]
    assert (out[1].start, out[1].end) == (1, 3)
    assert respell_text("the Comfy UI and comfy-ui, not comfyuis", ["ComfyUI"]) == \
        "the ComfyUI and ComfyUI, not comfyuis"


@pytest.mark.parametrize(
    ("decoded", "container", "warns"),
    [(0.1045, 11.0, True), (10.9, 11.0, False), (9.88, 9.882, False), (100.0, 104.0, False),
     (60.0, 100.0, True), (5.0, None, False), (1.0, 2.5, False)],
)
def test_shortfall_warning(decoded: float, container: float | None, warns: bool) -> None:
    warning = shortfall_warning(decoded, container)
    assert bool(warning) == warns
    if warns:
        assert warning == (f"decoded {decoded:.1f} s of {container:.1f} s: "
                           "the file looks truncated or damaged")


def test_engine_settings_round_trip_and_refuse_bad_values() -> None:
    settings = EngineSettings(model="base", batch_size=2, chunk_seconds_low=45.0)
    assert EngineSettings.from_json(settings.to_json()) == settings
    assert chunk_seconds(0, N, settings) == 45.0
    ignored: list[str] = []
    parsed = EngineSettings.from_json(
        '{"threads": 2, "memory_warning_percent": 75, "from_a_newer_daemon": 1}', ignored)
    assert parsed.threads == 2 and parsed.memory_warning_percent == 75.0
    assert ignored == ["from_a_newer_daemon"]
    for bad, name in [({"batch_size": "4"}, "batch_size"), ({"word_timestamps": 1},
                      "word_timestamps"), ({"threads": True}, "threads"),
                      ({"chunk_seconds_low": None}, "chunk_seconds_low")]:
        with pytest.raises(ValueError, match=name):
            EngineSettings.from_json(json.dumps(bad))
    with pytest.raises(ValueError):
        EngineSettings.from_json("[]")


def _sec(*spans: tuple[float, float]) -> list[tuple[int, int]]:
    return [(int(a * 16000), int(b * 16000)) for a, b in spans]


@pytest.mark.parametrize(
    ("spans", "windows"),
    [
        ([], []),
        ([(0, 5), (5.5, 9), (12, 20)], [(0, 20)]),  # pauses stay inside one window
        ([(0, 5), (10, 12)], [(0, 5), (10, 12)]),  # a long pause starts a new window
        ([(0, 20), (21, 29), (29.5, 35)], [(0, 29), (29.5, 35)]),  # never past 30 s
        ([(0, 30.1)], [(0, 30), (30, 30.1)]),  # VAD's own 30 s limit, overshot a little
        ([(3, 3)], []),
    ],
)
def test_windows_are_contiguous_speech_of_at_most_30_s(
    spans: list[tuple[float, float]], windows: list[tuple[float, float]]
) -> None:
    assert plan_windows(_sec(*spans)) == _sec(*windows)
