"""Decoding one stretch of audio again, the careful way faster-whisper's sequential path does.

Used for a window whose batched decode the checks doubt (checks.py), and for
a stretch of speech that no word covers after decoding (coverage.py). The
careful way: timestamps on (the decoder moves through the audio instead of
writing one run of text for 30 s, so a sentence after the first is not
dropped), temperature fallback from 0.0 to 1.0 (a loop or an unsure decode
is tried again with sampling, as Whisper does), and no conditioning on text
before the stretch (a loop in earlier text cannot carry over). The stretch
is decoded on its own audio, so times need no mapping beyond its offset.

Cost: at most one encoding and len(TEMPERATURES) decodes per 30 s of the
stretch, with the memory of a batch of one; a file whose every window falls
back costs about what faster-whisper's own sequential path costs. Each
decode may write at most `token_budget(seconds)` tokens: a loop on a short
stretch (laughter, a hum) would otherwise run to the model's 448 tokens at
every temperature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from voxtrald.engine import segmenting
from voxtrald.engine.audio import SAMPLE_RATE
from voxtrald.engine.quality import COMPRESSION_LIMIT, LOW_LOGPROB, NO_SPEECH_PROB
from voxtrald.transcripts.segments import Segment

TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
#: Tokens a decode may write: a base plus this many per second of audio (speech runs
#: at about 3-7 tokens a second in Whisper's tokens, timestamps included).
TOKENS_BASE = 24
TOKENS_PER_SECOND = 12
#: Whisper's context, and the special tokens every prompt holds.
MODEL_MAX_TOKENS = 448
SPECIAL_TOKENS = 8
#: Flag on segments that come from a second decode, so the JSON shows which did.
REDECODED = "redecoded"


@dataclass(frozen=True)
class Decoding:
    """How to decode: the same choices as the first pass."""

    language: str
    beam_size: int
    hotwords: str | None = None
    initial_prompt: str | None = None
    # How many tokens the hotwords and the prompt take of the model's context.
    prompt_tokens: int = 0
    # "transcribe", or "translate" (into English).
    task: str = "transcribe"


def token_budget(seconds: float, prompt_tokens: int) -> int:
    """How many tokens a decode of `seconds` of audio may write (at least 1)."""
    room = MODEL_MAX_TOKENS - prompt_tokens - SPECIAL_TOKENS
    return max(1, min(room, int(TOKENS_BASE + TOKENS_PER_SECOND * seconds)))


def _decode(model: Any, audio: np.ndarray, how: Decoding, budget: int | None) -> list[Any]:
    """faster-whisper's sequential path on the audio, all its segments."""
    raw, _info = model.transcribe(
        audio, language=how.language, task=how.task, beam_size=how.beam_size,
        temperature=list(TEMPERATURES), condition_on_previous_text=False,
        word_timestamps=True, vad_filter=False, without_timestamps=False,
        compression_ratio_threshold=COMPRESSION_LIMIT, log_prob_threshold=LOW_LOGPROB,
        no_speech_threshold=NO_SPEECH_PROB, hotwords=how.hotwords,
        initial_prompt=how.initial_prompt, max_new_tokens=budget,
    )
    return list(raw)


def redecode(model: Any, samples: np.ndarray, start: int, end: int, offset_s: float,
             limit_s: float, how: Decoding,
             on_segment: Callable[[Segment], None] | None = None) -> list[Segment]:
    """Segments for samples[start:end] of a chunk that begins `offset_s` into the file.

    `limit_s` is the chunk's end in the file: no time may pass it.
    """
    audio = np.ascontiguousarray(samples[start:end], dtype=np.float32)
    if audio.size < SAMPLE_RATE // 10:
        return []
    budget = token_budget(min(30.0, audio.size / SAMPLE_RATE), how.prompt_tokens)
    try:
        raw = _decode(model, audio, how, budget)
    except ValueError:  # the prompt took more of the context than counted: no cap, then
        raw = _decode(model, audio, how, None)
    stretch_offset = offset_s + start / SAMPLE_RATE
    stretch_limit = min(limit_s, offset_s + end / SAMPLE_RATE)
    out: list[Segment] = []
    for seg in raw:
        if not str(seg.text).strip():
            continue
        piece = segmenting.from_model(seg, stretch_offset, stretch_limit)
        piece = replace(piece, flags=(*piece.flags, REDECODED))
        out.append(piece)
        if on_segment is not None:
            on_segment(piece)
    return out
