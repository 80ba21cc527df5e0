"""One file's transcription: decoded as a stream, cut into chunks, each chunk decoded.

Per chunk: Silero voice activity detection (bundled with faster-whisper, no
download) finds the speech, and decoding.py turns it into segments: a cheap
batched pass over contiguous windows of up to 30 s, checked against the
audio, with the doubted windows decoded again and what stays unheard marked
as a gap. Each chunk ends in a ChunkDone whose segments are final, so the
daemon can checkpoint them and a later attempt can start where this one
stopped.
Chunk length and batch size are asked of the memory available before every
chunk, so a machine that fills up mid-file gets smaller steps at once.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np

from voxtrald.engine import language as lang_rules
from voxtrald.engine import spelling
from voxtrald.engine.audio import SAMPLE_RATE, DecodeStats, decode_blocks
from voxtrald.engine.batching import choose_batch_size
from voxtrald.engine.chunking import chunk_stream
from voxtrald.engine.decoding import ChunkDecoder, ChunkPlan, speech_spans
from voxtrald.engine.speakers.worker_side import Speakers
from voxtrald.engine.whisper_batch import SteadyBatchedPipeline, detect_and_score
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
SAMPLING_SEED = 1


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
        self.decoder = ChunkDecoder(model, self.pipeline)
        self.speakers = Speakers(settings.threads)

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

    def _tokens(self, text: str | None) -> int:
        if not text:
            return 0
        return len(self.model.hf_tokenizer.encode(" " + text, add_special_tokens=False).ids) + 1

    def _detect(self, speech: np.ndarray, hotwords: str | None, prompt: str | None,
                allowed: tuple[str, ...], speech_seconds: float,
                warnings: list[str]) -> tuple[str, float]:
        """The file's language from its first speech, tried by decoding when unsure.

        Only `allowed` languages are chosen when a person named them; short,
        unsure speech without them takes the fallback language, with a warning.
        """
        short: list[str] = []

        def choose(ranked: list[tuple[str, float]]) -> list[str]:
            ranked = lang_rules.restricted(ranked, allowed)
            fallback = lang_rules.too_short_to_tell(ranked, speech_seconds, allowed)
            if fallback is not None:
                short.append(fallback)
                return []
            return lang_rules.candidates(ranked)

        ranked, scored = detect_and_score(self.model, speech[:WINDOW_SAMPLES], choose,
                                          hotwords, prompt)
        said = ranked[0]
        if short:
            log.info("language %s: only %.1f s of speech and the detector unsure (%s at "
                     "%.2f)", short[0], speech_seconds, said[0], said[1])
            warnings.append(lang_rules.short_speech_warning(short[0], speech_seconds))
            return short[0], said[1] if said[0] == short[0] else 0.0
        trials = [lang_rules.Trial(*one) for one in scored]
        chosen = lang_rules.pick(lang_rules.restricted(ranked, allowed), trials,
                                 chosen_by_person=bool(allowed))
        log.info("language %s (p=%.2f; detector said %s at %.2f)", chosen[0], chosen[1],
                 said[0], said[1])
        return chosen

    def _allowed(self, named: tuple[str, ...], warnings: list[str]) -> tuple[str, ...]:
        """The languages a person said they speak, those the model knows."""
        if not self.multilingual or not named:
            return ()
        known = set(self.model.supported_languages)
        unknown = [code for code in named if code not in known]
        if unknown:
            warnings.append("not language codes the model knows, left out of `languages`: "
                            + ", ".join(repr(c[:40]) for c in unknown[:8]))
        return tuple(code for code in named if code in known)

    # -- the run -------------------------------------------------------------------------

    def run(self, req: Transcribe, send: Callable[[Reply], None],
            check_parent: Callable[[], None]) -> None:
        s = self.settings
        opts = req.options
        # The temperature fallback samples: the same file gives the same text every time.
        ctranslate2.set_random_seed(SAMPLING_SEED)
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
        allowed = self._allowed(opts.languages if opts.languages is not None
                                else tuple(s.languages), warnings)
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
        # -- speakers (engine/speakers): the file's voice windows, resumed ones included --
        speaker_setting = opts.speakers or s.speakers
        voices = list(req.voices)
        for offset, samples in chunk_stream(blocks, self._chunk_seconds, start=skip):
            check_parent()
            end = (offset + samples.size) / SAMPLE_RATE
            # The chunk under way: the bar may move on toward its end while it is heard.
            send(Progress(req.job_id, round(offset / SAMPLE_RATE, 3), round(end, 3)))
            spans = speech_spans(samples)
            if language is None and spans:
                voiced = sum(b - a for a, b in spans) / SAMPLE_RATE
                language, probability = self._detect(_joined(samples, spans), hotwords, prompt,
                                                     allowed, voiced, warnings)
            segments: list[Segment] = []
            if spans and language is not None:
                plan = ChunkPlan(language, s.beam_size, self._batch_size(), s.first_pass_beam,
                                 self.multilingual and forced is None, hotwords, prompt,
                                 tuple(spellings), allowed,
                                 self._tokens(hotwords) + self._tokens(prompt), opts.task)
                segments, found = self.decoder.decode(
                    samples, offset, plan, spans, previous,
                    lambda at, until: send(Progress(req.job_id, round(at, 3), round(until, 3))),
                    check_parent)
                log.info("chunk %d: %d windows, %d decoded again (%s), %d replaced; "
                         "%d unheard stretches, %d recovered, %d gaps (%.1f s)", index,
                         found.windows, found.redecoded, found.doubts, found.replaced,
                         found.stretches, found.recovered, found.gaps, found.gap_seconds)
            guarded = [seg if s.word_timestamps else replace(seg, words=())
                       for seg in segments]
            if guarded:
                previous = guarded[-2:]
            if not self.multilingual:
                total, bad = lang_rules.doubtful_seconds(guarded)
                speech_s, doubtful_s = speech_s + total, doubtful_s + bad
            # -- speakers: this chunk's windows travel with it, so they are checkpointed --
            chunk_voices = self.speakers.chunk(speaker_setting, samples, spans,
                                               offset / SAMPLE_RATE)
            voices.extend(chunk_voices)
            send(ChunkDone(req.job_id, index, end, tuple(guarded), language,
                           _rounded(probability), chunk_voices))
            send(Progress(req.job_id, round(end, 3)))
            index += 1
            del samples, segments, guarded
            gc.collect()
        warnings[:0] = stats.warnings
        # -- speakers: all of the file's windows clustered at once --
        speaker_windows, speaker_warnings = self.speakers.finish(speaker_setting, voices)
        warnings.extend(speaker_warnings)
        if not self.multilingual:
            note = lang_rules.english_only_warning(speech_s, doubtful_s, self.label)
            if note:
                warnings.append(note)
        send(Done(req.job_id, round(stats.samples / SAMPLE_RATE, 3), index - req.first_chunk,
                  language, _rounded(probability), tuple(warnings), stats.sha256,
                  speaker_windows))


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


def _joined(samples: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """The speech alone, joined, at most one 30 s window of it: what detection listens to."""
    parts, total = [], 0
    for start, end in spans:
        parts.append(samples[start:end])
        total += end - start
        if total >= WINDOW_SAMPLES:
            break
    return np.concatenate(parts)[:WINDOW_SAMPLES]
