"""The hard set's ingredients: each degradation does what its name says, at the asked level.

Made-up signals (sines, noise, silence) so each property is checked by
measuring it: the band a filter lets through, the share of samples a clip
flattens, the SNR a mix lands at. The full build from the shared
recordings is checked end to end in tests/e2e/benchmarks/.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import degrade as dg
from benchmarks import make_hardset

RATE = dg.SAMPLE_RATE


def _sine(freq: float, seconds: float = 1.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _db(x: np.ndarray, y: np.ndarray) -> float:
    return float(20 * np.log10(dg.rms(x) / dg.rms(y)))


def test_band_limit_keeps_the_telephone_band_only() -> None:
    for freq in (500.0, 1000.0, 3000.0):
        kept = dg.band_limit(_sine(freq))
        assert abs(_db(kept, _sine(freq))) < 0.1
    for freq in (100.0, 200.0, 4000.0, 6000.0):
        assert _db(dg.band_limit(_sine(freq)), _sine(freq)) < -40


def test_hard_clip_flattens_the_peaks_it_drives_past_full_scale() -> None:
    x = _sine(440.0)
    clipped = dg.hard_clip(x, drive_db=12.0, out_peak=0.8)
    assert float(np.abs(clipped).max()) == pytest.approx(0.8)
    flat = np.mean(np.abs(clipped) >= 0.8 - 1e-6)
    # A sine driven 4x past full scale sits on the rails for most of its cycle.
    assert 0.7 < flat < 0.9
    assert not dg.hard_clip(np.zeros(100, dtype=np.float32), 12.0).any()


def test_active_rms_ignores_pauses() -> None:
    speech = _sine(300.0, 1.0, 0.2)
    with_pause = dg.concat([speech, speech], pause=6.0)
    assert dg.active_rms(with_pause) == pytest.approx(dg.rms(speech), rel=0.01)
    assert dg.rms(with_pause) < 0.55 * dg.rms(speech)
    assert dg.active_rms(np.zeros(10, dtype=np.float32)) == 0.0


@pytest.mark.parametrize("snr", [5.0, 8.0, 10.0])
def test_mix_at_snr_puts_the_bed_the_asked_level_below_speech(snr: float) -> None:
    speech = dg.concat([_sine(300.0, 2.0, 0.3)] * 2, pause=1.0)
    bed = np.random.default_rng(0).standard_normal(RATE).astype(np.float32)
    mixed = dg.mix_at_snr(speech, bed, snr)
    assert mixed.size == speech.size
    assert float(np.abs(mixed).max()) <= 0.9 + 1e-6
    # Undo the peak guard's scaling, then measure the bed alone in the pause.
    gain = float(np.dot(mixed[:RATE], speech[:RATE]) / np.dot(speech[:RATE], speech[:RATE]))
    noise = mixed / gain - speech
    measured = 20 * np.log10(dg.active_rms(speech) / dg.rms(noise))
    assert measured == pytest.approx(snr, abs=0.3)


def test_tones_are_music_like_and_seeded() -> None:
    a, b, c = dg.tones(3.0, seed=1), dg.tones(3.0, seed=1), dg.tones(3.0, seed=2)
    assert a.size == 3 * RATE and np.array_equal(a, b) and not np.array_equal(a, c)
    spectrum = np.abs(np.fft.rfft(a))
    freqs = np.fft.rfftfreq(a.size, 1 / RATE)
    # Pitched notes and their harmonics, not noise: the energy sits below 3 kHz.
    assert spectrum[freqs < 3000].sum() > 0.95 * spectrum.sum()


def test_babble_is_several_voices_at_one_level() -> None:
    voices = [_sine(200.0 + 100 * i, 1.5, 0.05 * (i + 1)) for i in range(4)]
    out = dg.babble(voices, 2.0, seed=3)
    assert out.size == 2 * RATE
    assert np.array_equal(out, dg.babble(voices, 2.0, seed=3))
    spectrum = np.abs(np.fft.rfft(out))
    freqs = np.fft.rfftfreq(out.size, 1 / RATE)
    levels = [spectrum[np.argmin(np.abs(freqs - (200.0 + 100 * i)))] for i in range(4)]
    assert max(levels) / min(levels) < 1.5  # the quiet voice raised, the loud one lowered


def test_overlay_and_concat_keep_every_sample() -> None:
    a, b = np.ones(10, dtype=np.float32), np.full(6, 2.0, dtype=np.float32)
    assert dg.overlay(a, b, 8).tolist() == [1.0] * 8 + [3.0, 3.0] + [2.0] * 4
    joined = dg.concat([a, b], pause=0.001)
    assert joined.size == 10 + 16 + 6 and not joined[10:26].any()


def test_alternation_alternates_audio_and_texts() -> None:
    a = (np.ones(RATE, dtype=np.float32), " Ask not. ")
    b = (np.full(RATE // 2, 0.5, dtype=np.float32), "The ferry leaves.")
    audio, text = make_hardset.alternate(a, b, 3, pause=0.5)
    assert text == " ".join(["Ask not.", "The ferry leaves."] * 3)
    assert audio.size == 3 * (RATE + RATE // 2) + 5 * RATE // 2
    assert audio[0] == 1.0 and audio[RATE + RATE // 2] == 0.5


def test_split_languages_cuts_in_the_silence_and_splits_the_text() -> None:
    audio = np.concatenate([_sine(300.0, 29.1), np.zeros(int(1.9 * RATE), np.float32),
                            _sine(500.0, 10.0)])
    (en, en_text), (de, de_text) = make_hardset.split_languages(
        audio, "Permission is hereby granted. Jedem, der diese Software erhält.")
    assert en_text == "Permission is hereby granted."
    assert de_text == "Jedem, der diese Software erhält."
    assert en.size == int(29.5 * RATE) and de.size == audio.size - int(30.5 * RATE)
    with pytest.raises(ValueError, match="silence"):
        make_hardset.split_languages(_sine(300.0, 40.0), "a Jedem b")
    with pytest.raises(ValueError, match="German"):
        make_hardset.split_languages(audio, "only English")


def test_head_until_cuts_in_a_pause_and_ends_the_text_there() -> None:
    audio = dg.concat([_sine(300.0, 2.0), _sine(400.0, 2.0)], pause=0.4)
    head, text = make_hardset.head_until(audio, "one two, three four", 2.2, "two,")
    assert head.size == int(2.2 * RATE) and text == "one two,"
    with pytest.raises(ValueError, match="pause"):
        make_hardset.head_until(audio, "one two, three four", 1.0, "two,")
    with pytest.raises(ValueError, match="reference"):
        make_hardset.head_until(audio, "one two", 2.2, "five")
