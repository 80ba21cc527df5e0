"""What makes audio hard, done to clean recordings: crosstalk, a phone line, music, babble.

Pure numpy on 16 kHz mono float32 arrays, seeded where chance enters, so
the hard set (benchmarks/make_hardset.py) is the same file on every
machine. Hand-written because each is a few lines of arithmetic: the
filter is an FFT mask, levels are RMS over the frames where someone speaks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SAMPLE_RATE = 16000
FRAME = 320  # 20 ms
ACTIVE_DB = 35.0  # frames within this many dB of the loudest count as speech


def _frames(x: np.ndarray) -> np.ndarray:
    n = x.size // FRAME * FRAME
    return x[:n].reshape(-1, FRAME) if n else x.reshape(1, -1)


def active_rms(x: np.ndarray) -> float:
    """RMS over the frames where the signal is on, so pauses do not lower a speaker's level."""
    if not x.size:
        return 0.0
    energy = np.mean(np.square(_frames(x).astype(np.float64)), axis=1)
    loudest = float(energy.max())
    if loudest <= 0.0:
        return 0.0
    on = energy[energy >= loudest * 10 ** (-ACTIVE_DB / 10)]
    return float(np.sqrt(on.mean()))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x.astype(np.float64))))) if x.size else 0.0


def at_level(x: np.ndarray, level: float) -> np.ndarray:
    """`x` scaled so its active RMS is `level` (silence stays silence)."""
    now = active_rms(x)
    return (x * (level / now)).astype(np.float32) if now else x.astype(np.float32)


def fit(x: np.ndarray, n: int) -> np.ndarray:
    """Exactly `n` samples: `x` repeated as often as needed, then cut."""
    if not x.size:
        return np.zeros(n, dtype=np.float32)
    reps = -(-n // x.size)
    return np.tile(x, reps)[:n].astype(np.float32)


def overlay(base: np.ndarray, other: np.ndarray, offset: int) -> np.ndarray:
    """`other` added onto `base` from sample `offset`; the result is as long as both need."""
    n = max(base.size, offset + other.size)
    out = np.zeros(n, dtype=np.float32)
    out[:base.size] += base
    out[offset:offset + other.size] += other
    return out


def concat(parts: Sequence[np.ndarray], pause: float) -> np.ndarray:
    """The parts one after the other, `pause` seconds of silence between them."""
    gap = np.zeros(int(round(pause * SAMPLE_RATE)), dtype=np.float32)
    out: list[np.ndarray] = []
    for i, p in enumerate(parts):
        if i:
            out.append(gap)
        out.append(p.astype(np.float32))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def peak_safe(x: np.ndarray, peak: float = 0.9) -> np.ndarray:
    """Scaled down (never up) so no sample passes `peak`: a mix must not clip by accident."""
    top = float(np.abs(x).max()) if x.size else 0.0
    return (x * (peak / top)).astype(np.float32) if top > peak else x.astype(np.float32)


def band_limit(x: np.ndarray, low: float = 300.0, high: float = 3400.0,
               taper: float = 50.0) -> np.ndarray:
    """Only the band a telephone carries, by an FFT mask with cosine edges `taper` Hz wide."""
    spectrum = np.fft.rfft(x.astype(np.float64))
    freqs = np.fft.rfftfreq(x.size, 1.0 / SAMPLE_RATE)
    mask = np.zeros_like(freqs)
    mask[(freqs >= low) & (freqs <= high)] = 1.0
    rise = (freqs > low - taper) & (freqs < low)
    mask[rise] = 0.5 - 0.5 * np.cos(np.pi * (freqs[rise] - (low - taper)) / taper)
    fall = (freqs > high) & (freqs < high + taper)
    mask[fall] = 0.5 + 0.5 * np.cos(np.pi * (freqs[fall] - high) / taper)
    return np.fft.irfft(spectrum * mask, n=x.size).astype(np.float32)


def hard_clip(x: np.ndarray, drive_db: float, out_peak: float = 0.8) -> np.ndarray:
    """Driven `drive_db` past full scale and cut flat there, as an overloaded line does."""
    top = float(np.abs(x).max()) if x.size else 0.0
    if not top:
        return x.astype(np.float32)
    driven = x / top * 10 ** (drive_db / 20)
    return (np.clip(driven, -1.0, 1.0) * out_peak).astype(np.float32)


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`noise` (repeated to length) under `speech`, `snr_db` below the speech's active level."""
    bed = fit(noise, speech.size)
    level = rms(bed)
    if not level:
        return speech.astype(np.float32)
    bed = bed * (active_rms(speech) / level / 10 ** (snr_db / 20))
    return peak_safe(speech + bed)


# A minor pentatonic over two octaves: notes that sound like music, not like a test tone.
_SCALE = 220.0 * 2 ** (np.array([0, 3, 5, 7, 10, 12, 15, 17, 19, 22]) / 12)


def tones(seconds: float, seed: int) -> np.ndarray:
    """Music-like: a seeded melody of plucked notes with harmonics over a slow bass line."""
    rng = np.random.default_rng([seed, 7])
    n = int(round(seconds * SAMPLE_RATE))
    out = np.zeros(n, dtype=np.float64)
    t = 0
    count = 0
    while t < n:
        length = int(rng.uniform(0.18, 0.55) * SAMPLE_RATE)
        freq = float(rng.choice(_SCALE))
        _note(out, t, length, freq, 1.0)
        if count % 4 == 0:
            _note(out, t, 4 * length, freq / 4, 0.6)
        t += length
        count += 1
    return out.astype(np.float32)


def _note(out: np.ndarray, start: int, length: int, freq: float, gain: float) -> None:
    length = min(length, out.size - start)
    if length <= 0:
        return
    time = np.arange(length) / SAMPLE_RATE
    envelope = np.exp(-time * 4.0) * np.minimum(1.0, time / 0.01)
    wave = sum(np.sin(2 * np.pi * freq * k * time) / k for k in (1, 2, 3))
    out[start:start + length] += gain * envelope * wave


def babble(voices: Sequence[np.ndarray], seconds: float, seed: int) -> np.ndarray:
    """Several talkers at once, each at the same level from a seeded point of its recording."""
    rng = np.random.default_rng([seed, 11])
    n = int(round(seconds * SAMPLE_RATE))
    out = np.zeros(n, dtype=np.float32)
    for voice in voices:
        if not voice.size:
            continue
        start = int(rng.integers(0, voice.size))
        out += at_level(fit(np.roll(voice, -start), n), 0.1)
    return out
