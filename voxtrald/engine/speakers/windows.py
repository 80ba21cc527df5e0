"""Which 1.6 s windows of a chunk's voiced audio get an embedding.

Silero's speech spans are cut into windows of 1.6 s every 0.8 s; a span
between 0.8 and 1.6 s long gets one window centred on it (borrowing the
audio around it); shorter ones get none (their words take the nearest
speaker). Pure arithmetic on frame numbers, so it is tested directly.
"""

from __future__ import annotations

import numpy as np

from voxtrald.engine.speakers.encoder import FRAMES, SpeakerEncoder
from voxtrald.engine.speakers.mel import HOP, SAMPLE_RATE, mel_frames, volume_gain
from voxtrald.engine.speakers.vectors import pack
from voxtrald.transcripts.voices import Voice

STEP = FRAMES // 2  # 0.8 s
MIN_FRAMES = FRAMES // 2  # a span under 0.8 s carries too little voice to tell


def window_starts(first: int, last: int, total: int) -> list[int]:
    """Start frames of the windows over frames [first, last) of a chunk of `total` frames."""
    length = last - first
    if length < MIN_FRAMES or total < FRAMES:
        return []
    if length <= FRAMES:
        centred = first + length // 2 - FRAMES // 2
        return [min(max(0, centred), total - FRAMES)]
    starts = list(range(first, last - FRAMES + 1, STEP))
    if last - (starts[-1] + FRAMES) >= STEP // 2:
        starts.append(last - FRAMES)  # the tail, overlapping its neighbour
    return starts


def chunk_voices(encoder: SpeakerEncoder, samples: np.ndarray,
                 spans: list[tuple[int, int]], offset_s: float) -> tuple[Voice, ...]:
    """The voice windows of one chunk's speech spans, timed against the file."""
    if not spans:
        return ()
    gain = volume_gain(np.concatenate([samples[a:b] for a, b in spans]))
    mel = mel_frames(samples * np.float32(gain) if gain != 1.0 else samples)
    starts = sorted({s for a, b in spans
                     for s in window_starts(a // HOP, b // HOP, len(mel))})
    if not starts:
        return ()
    vectors = encoder.embed(np.stack([mel[s:s + FRAMES] for s in starts]))
    step = HOP / SAMPLE_RATE
    return tuple(Voice(round(offset_s + s * step, 3), round(offset_s + (s + FRAMES) * step, 3),
                       pack(v)) for s, v in zip(starts, vectors, strict=True))
