"""One file's transcription: decoded as a stream, cut into chunks, each chunk batched.

Per chunk: Silero voice activity detection (bundled with faster-whisper, no
download) finds the speech; it is read in contiguous windows of up to 30 s
(windows.py), several at a time by the batched decoder, so silence and noise
between them are never decoded and times need no mapping back. Each chunk
ends in a ChunkDone whose segments are final, so the daemon can checkpoint
them and a later attempt can start where this one stopped.
Chunk length and batch size are asked of the memory available before every
chunk, so a machine that fills up mid-file gets smaller steps at once.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from voxtrald.engine import language as lang_rules
from voxtrald.engine import quality, segmenting, spelling
from voxtrald.engine.audio import SAMPLE_RATE, DecodeStats, decode_blocks
from voxtrald.engine.batching import choose_batch_size
from voxtrald.engine.chunking import chunk_stream
from voxtrald.engine.whisper_batch import SteadyBatchedPipeline, detect_and_score
from voxtrald.engine.windows import plan_windows
from voxtrald.memory import chunk_seconds, read_system
from voxtrald.memory.levels import raw_level
from voxtrald.states import MemoryLevel
from voxtrald.transcripts.segments import Segment
from voxtrald.worker.protocol import (
    ChunkDone,
    Done,
    EngineSettings,
    Progress,
    Reply,
    Started,
    Transcribe,
)

log = logging.getLogger("voxtrald.transcriber")
WINDOW_SAMPLES = 30 * SAMPLE_RATE
#: Vocabulary (hotwords, prompt) is cut to this many tokens each, so both fit the
#: model's 448-token context beside the text it writes.
MAX_VOCABULARY_TOKENS = 100


class Transcriber:
    """Holds the loaded model; `run` transcribes one file and reports as it goes."""

    def __init__(self, model: Any, settings: EngineSettings, model_bytes: int | None,
                 label: str) -> None:
        self.model = model
        self.settings = settings
        self.model_bytes = model_bytes
        self.label = label
        self.multilingual = bool(model.model.is_multilingual)
        self.pipeline = SteadyBatchedPipeline(model)

    # -- memory -------------------------------------------------------------------------

    def _memory(self) -> tuple[int | None, MemoryLevel]:
        try:
            reading = read_system()
        except Exception:  # an unreadable figure means "assume normal"
            return None, MemoryLevel.NORMAL
        level = raw_level(reading.percent, self.settings.memory_warning_percent,
                          self.settings.memory_critical_percent)
        return reading.available, MemoryLevel(level)

    def _batch_size(self) -> int:
        available, level = self._memory()
        return choose_batch_size(self.settings.batch_size, available, level, self.model_bytes,
                                 self.settings.device)

    def _chunk_seconds(self) -> float:
        available, level = self._memory()
        return chunk_seconds(available, level, self.settings)

    # -- vocabulary and language ----------------------------------------------------------

    def _capped(self, text: str) -> str | None:
        text = " ".join(text.split())
        if not text:
            return None
        ids = self.model.hf_tokenizer.encode(" " + text, add_special_tokens=False).ids
        if len(ids) <= MAX_VOCABULARY_TOKENS:
            return text
        return str(self.model.hf_tokenizer.decode(ids[:MAX_VOCABULARY_TOKENS])).strip()

    def _detect(self, speech: np.ndarray, hotwords: str | None,
                prompt: str | None) -> tuple[str, float]:
        """The file's language from its first speech, tried by decoding when unsure."""
        ranked, scored = detect_and_score(self.model, speech[:WINDOW_SAMPLES],
                                          lang_rules.candidates, hotwords, prompt)
        trials = [lang_rules.Trial(*one) for one in scored]
        chosen = lang_rules.pick(ranked, trials)
        log.info("language %s (p=%.2f; detector said %s at %.2f)", chosen[0], chosen[1],
                 ranked[0][0], ranked[0][1])
        return chosen

    # -- the run -------------------------------------------------------------------------

    def run(self, req: Transcribe, send: Callable[[Reply], None],
            check_parent: Callable[[], None]) -> None:
        s = self.settings
        opts = req.options
        forced = (opts.language or s.language or "").strip() or None
        hotwords = self._capped(opts.hotwords if opts.hotwords is not None else s.hotwords)
        prompt = self._capped(opts.initial_prompt if opts.initial_prompt is not None
                              else s.initial_prompt)
        spellings = spelling.terms(hotwords)
        warnings: list[str] = []
        if forced and not self.multilingual and forced != "en":
            warnings.append(f"{self.label} knows only English: language '{forced}' was not used")
            forced = "en"
        elif forced and forced not in self.model.supported_languages:
            warnings.append(f"{forced[:40]!r} is not a language code the model knows; "
                            "the language was detected instead")
            forced = None
        language = forced or req.known_language or (None if self.multilingual else "en")
        probability = None if forced else (
            req.known_language_probability if req.known_language else None)

        stats = DecodeStats()
        skip = max(0, round(req.start_at * SAMPLE_RATE))
        blocks = _announce(decode_blocks(Path(req.path), stats, skip),
                           lambda: send(Started(req.job_id, stats.duration)))
        index = req.first_chunk
        previous: list[Segment] = []
        speech_s = doubtful_s = 0.0
        for offset, samples in chunk_stream(blocks, self._chunk_seconds, start=skip):
            check_parent()
            offset_s = offset / SAMPLE_RATE
            spans = _speech_spans(samples)
            if language is None and spans:
                language, probability = self._detect(_joined(samples, spans), hotwords, prompt)
            segments: list[Segment] = []
            if spans and language is not None:
                clips = [{"start": a / SAMPLE_RATE, "end": b / SAMPLE_RATE}
                         for a, b in plan_windows(spans)]
                raw, _info = self.pipeline.transcribe(
                    samples, language=language, beam_size=s.beam_size,
                    batch_size=self._batch_size(), word_timestamps=s.word_timestamps,
                    multilingual=self.multilingual and forced is None, vad_filter=False,
                    clip_timestamps=clips, hotwords=hotwords, initial_prompt=prompt,
                    without_timestamps=True, task=opts.task,
                )
                limit = (offset + samples.size) / SAMPLE_RATE
                for seg in raw:
                    check_parent()
                    segments.append(segmenting.from_model(seg, offset_s, limit))
                    send(Progress(req.job_id, round(segments[-1].end, 3)))
            segments = spelling.respell(segments, spellings)
            guarded = segmenting.split_all(quality.guard(segments, previous))
            if guarded:
                previous = guarded[-2:]
            if not self.multilingual:
                total, bad = lang_rules.doubtful_seconds(guarded)
                speech_s, doubtful_s = speech_s + total, doubtful_s + bad
            end = (offset + samples.size) / SAMPLE_RATE
            send(ChunkDone(req.job_id, index, end, tuple(guarded), language,
                           _rounded(probability)))
            send(Progress(req.job_id, round(end, 3)))
            index += 1
            del samples, segments, guarded
            gc.collect()
        warnings[:0] = stats.warnings
        if not self.multilingual:
            note = lang_rules.english_only_warning(speech_s, doubtful_s, self.label)
            if note:
                warnings.append(note)
        send(Done(req.job_id, round(stats.samples / SAMPLE_RATE, 3), index - req.first_chunk,
                  language, _rounded(probability), tuple(warnings), stats.sha256))


def _rounded(p: float | None) -> float | None:
    return None if p is None else round(float(p), 4)


def _announce(blocks: Iterator[np.ndarray], started: Callable[[], None]) -> Iterator[np.ndarray]:
    """The blocks, with `started` called once the first one decoded (the length is known).

    A file that cannot be opened, or holds no audio, fails without a Started.
    """
    first = True
    for block in blocks:
        if first:
            started()
            first = False
        yield block


def _speech_spans(samples: np.ndarray) -> list[tuple[int, int]]:
    """Where Silero hears speech, in sample ranges (the batched pipeline's own settings)."""
    found = get_speech_timestamps(samples, VadOptions(max_speech_duration_s=30,
                                                      min_silence_duration_ms=160))
    return [(int(span["start"]), int(span["end"])) for span in found]


def _joined(samples: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """The speech alone, joined, at most one 30 s window of it: what detection listens to."""
    parts, total = [], 0
    for start, end in spans:
        parts.append(samples[start:end])
        total += end - start
        if total >= WINDOW_SAMPLES:
            break
    return np.concatenate(parts)[:WINDOW_SAMPLES]
