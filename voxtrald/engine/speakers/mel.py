"""The encoder's input: a 40-band power mel spectrogram, 25 ms windows every 10 ms.

Hand-written in numpy because the encoder was trained on librosa's
`melspectrogram` (Slaney mel scale and norm, Hann window, centred frames with
zero padding, power 2) and librosa would bring numba and scipy for these few
lines; tests/unit/engine/test_speaker_mel.py checks it against known values.
"""

from __future__ import annotations

from functools import cache

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / f_sp
    high = hz >= min_log_hz
    mel[high] = min_log_mel + np.log(hz[high] / min_log_hz) / logstep
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    mel = np.asarray(mel, dtype=np.float64)
    hz = f_sp * mel
    high = mel >= min_log_mel
    hz[high] = min_log_hz * np.exp(logstep * (mel[high] - min_log_mel))
    return hz


@cache
def filterbank() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangular filters, Slaney-normalised (librosa's default)."""
    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    mel_points = _mel_to_hz(np.linspace(_hz_to_mel(np.array([0.0]))[0],
                                        _hz_to_mel(np.array([SAMPLE_RATE / 2]))[0], N_MELS + 2))
    fdiff = np.diff(mel_points)
    ramps = mel_points[:, None] - fft_freqs[None, :]
    weights = np.zeros((N_MELS, fft_freqs.size))
    for i in range(N_MELS):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_points[2:N_MELS + 2] - mel_points[:N_MELS]))[:, None]
    return weights.astype(np.float32)


@cache
def _window() -> np.ndarray:
    n = np.arange(N_FFT)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)  # periodic Hann


def mel_frames(samples: np.ndarray) -> np.ndarray:
    """(frames, 40) float32: frame t is centred on sample t * HOP."""
    padded = np.pad(samples.astype(np.float32), N_FFT // 2)
    count = 1 + (padded.size - N_FFT) // HOP
    if count <= 0:
        return np.zeros((0, N_MELS), np.float32)
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(count, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0]))
    spectrum = np.abs(np.fft.rfft(frames * _window(), axis=1)) ** 2
    return (spectrum.astype(np.float32) @ filterbank().T).astype(np.float32)


def volume_gain(samples: np.ndarray, target_dbfs: float = -30.0) -> float:
    """The factor that raises quiet audio to the level the encoder was trained at (loud
    audio is left alone: 1.0)."""
    if not samples.size:
        return 1.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms <= 1e-9:
        return 1.0
    change = target_dbfs - 20 * np.log10(rms)
    return 1.0 if change < 0 else float(10 ** (change / 20))
