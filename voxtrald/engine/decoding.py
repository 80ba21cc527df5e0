"""One chunk's speech decoded: a cheap batched pass, checked, doubted windows again, gaps found.

1. Silero finds the speech; it is read in windows of contiguous audio of at
   most 30 s (windows.py).
2. First pass: every window at once through the batched decoder
   (whisper_batch.py), without timestamps, with word timings, at the
   setting `first_pass_beam` (5 by default: measured on 2 cores, greedy saved
   no wall time worth its extra wrong words on hard audio).
3. Each window's text is judged against its audio (checks.py). A window the
   checks doubt is decoded again the careful sequential way (fallback.py) with
   the configured beam, and the better of the two is kept.
4. The quality guard flags loops and invented text, judging repeats by the
   audio (quality.py).
5. Coverage: voiced audio that no kept word covers is decoded again alone;
   what still yields nothing becomes a gap (coverage.py).

Nothing the model heard as speech leaves without either text or a gap. How far
a chunk's steps are is told as they go (progress.py), for the progress bar.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from voxtrald.engine import checks, coverage, fallback, quality, segmenting, spelling
from voxtrald.engine.audio import SAMPLE_RATE
from voxtrald.engine.progress import ChunkSteps, StepCosts, Tell, forward_only
from voxtrald.engine.spans import Span
from voxtrald.engine.whisper_batch import window_language
from voxtrald.engine.windows import plan_windows
from voxtrald.transcripts.segments import Segment

log = logging.getLogger("voxtrald.transcriber")

@dataclass(frozen=True)
class ChunkPlan:
    """What every window of the chunk is decoded with."""

    language: str
    beam_size: int
    batch_size: int
    first_pass_beam: int = 5
    switch_languages: bool = False
    hotwords: str | None = None
    initial_prompt: str | None = None
    spellings: tuple[str, ...] = ()
    # The languages a window may switch to (codes); empty: any the model knows.
    allowed: tuple[str, ...] = ()
    # Tokens the hotwords and prompt take of the model's context.
    prompt_tokens: int = 0
    # "transcribe", or "translate" (into English).
    task: str = "transcribe"


@dataclass
class ChunkStats:
    """What happened to a chunk's windows, for the log and the benchmarks."""

    windows: int = 0
    redecoded: int = 0
    replaced: int = 0
    doubts: dict[str, int] = field(default_factory=dict)
    stretches: int = 0
    recovered: int = 0
    gaps: int = 0
    gap_seconds: float = 0.0


def speech_spans(samples: np.ndarray) -> list[tuple[int, int]]:
    """Where Silero hears speech, in sample ranges (the batched pipeline's own settings)."""
    found = get_speech_timestamps(samples, VadOptions(max_speech_duration_s=30,
                                                      min_silence_duration_ms=160))
    return [(int(span["start"]), int(span["end"])) for span in found]


def _within(spans: list[Span], lo: float, hi: float) -> list[Span]:
    return [(max(a, lo), min(b, hi)) for a, b in spans if min(b, hi) > max(a, lo)]


def _through(steps: ChunkSteps, lo: float, hi: float) -> Callable[[Segment], None]:
    """Each segment of a window decoded again tells how far through the window it is."""
    return lambda seg: steps.within((seg.end - lo) / (hi - lo) if hi > lo else 1.0)


class ChunkDecoder:
    """Holds the model and its batched pipeline; `decode` turns one chunk into segments."""

    def __init__(self, model: Any, pipeline: Any) -> None:
        self.model = model
        self.pipeline = pipeline
        self.costs = StepCosts()  # what each step cost on the chunks before, for progress

    def decode(self, samples: np.ndarray, offset: int, plan: ChunkPlan,
               spans: list[tuple[int, int]], previous: Sequence[Segment],
               progress: Tell,
               check_parent: Callable[[], None]) -> tuple[list[Segment], ChunkStats]:
        """The chunk's final segments (file times; gaps included) and what it took.

        `previous` are the last segments of the chunk before, so a run of identical
        segments is judged across the boundary. `progress(position, until)` is told
        where the chunk's work stands as its steps start and end.
        """
        stats = ChunkStats()
        offset_s = offset / SAMPLE_RATE
        limit = (offset + samples.size) / SAMPLE_RATE
        voiced = [(offset_s + a / SAMPLE_RATE, offset_s + b / SAMPLE_RATE) for a, b in spans]
        windows = plan_windows(spans)
        stats.windows = len(windows)
        if not windows:
            return [], stats
        steps = ChunkSteps(forward_only(progress, offset_s), offset_s, limit, self.costs)
        steps.first_pass(len(windows))
        first = self._first_pass(samples, offset_s, limit, windows, plan, check_parent)
        how = fallback.Decoding(plan.language, plan.beam_size, plan.hotwords,
                                plan.initial_prompt, plan.prompt_tokens, plan.task)
        window_how = how
        decoded: list[Segment] = []
        careful: list[Span] = []  # windows already decoded the careful way
        places = [(offset_s + a / SAMPLE_RATE, offset_s + b / SAMPLE_RATE) for a, b in windows]
        verdicts = [checks.judge(segs, _within(voiced, lo, hi))
                    for (lo, hi), segs in zip(places, first, strict=True)]
        steps.decode_again(sum(1 for v in verdicts if not v.ok))
        for (a, b), (lo, hi), segs, verdict in zip(windows, places, first, verdicts,
                                                   strict=True):
            check_parent()
            here = _within(voiced, lo, hi)
            if not verdict.ok:
                stats.redecoded += 1
                careful.append((lo, hi))
                for doubt in verdict.doubts:
                    stats.doubts[doubt] = stats.doubts.get(doubt, 0) + 1
                if plan.switch_languages:
                    window_how = self._window_language(samples[a:b], how, plan)
                again = fallback.redecode(self.model, samples, a, b, offset_s, limit,
                                          window_how, _through(steps, lo, hi))
                if checks.better(checks.judge(again, here), verdict):
                    segs = again
                    stats.replaced += 1
                steps.decoded_again()
            decoded.extend(spelling.respell(segs, list(plan.spellings)))
        guarded = quality.guard(decoded, previous, voiced)
        guarded = self._cover(samples, offset_s, limit, voiced, guarded, how, stats,
                              plan, careful, check_parent, steps)
        steps.finish()
        return segmenting.split_all(sorted(guarded, key=lambda s: (s.start, s.end))), stats

    def _window_language(self, audio: np.ndarray, how: fallback.Decoding,
                         plan: ChunkPlan) -> fallback.Decoding:
        """The window's own language, by the first pass's rule (switch only when sure)."""
        try:
            _lang, _p, ranked = self.model.detect_language(audio)
        except Exception:  # detection is a refinement: the file's language stands
            return how
        token = window_language([(f"<|{lang}|>", float(p)) for lang, p in ranked],
                                f"<|{plan.language}|>", allowed=plan.allowed)
        return replace(how, language=token.strip("<|>"))

    def _batched(self, samples: np.ndarray, clips: list[dict[str, float]], plan: ChunkPlan,
                 budget: int) -> Iterator[Any]:
        """The batched pass's segments as each batch ends (progress moves with them).

        The token budget is checked against the prompt before the first batch; should
        the prompt take more than counted, the pass runs with the model's own limit.
        """
        def run(cap: int | None) -> Iterator[Any]:
            raw, _info = self.pipeline.transcribe(
                samples, language=plan.language, beam_size=plan.first_pass_beam,
                batch_size=plan.batch_size, word_timestamps=True,
                multilingual=plan.switch_languages, vad_filter=False, clip_timestamps=clips,
                hotwords=plan.hotwords, initial_prompt=plan.initial_prompt,
                without_timestamps=True, task=plan.task, max_new_tokens=cap,
            )
            return iter(raw)

        segments = run(budget)
        try:
            first = next(segments)
        except StopIteration:
            return
        except ValueError:
            segments = run(None)
            first = next(segments, None)
            if first is None:
                return
        yield first
        yield from segments

    def _first_pass(self, samples: np.ndarray, offset_s: float, limit: float,
                    windows: list[tuple[int, int]], plan: ChunkPlan,
                    check_parent: Callable[[], None]) -> list[list[Segment]]:
        """Every window decoded once, batched; the segments of each window, in order."""
        clips = [{"start": a / SAMPLE_RATE, "end": b / SAMPLE_RATE} for a, b in windows]
        self.pipeline.allowed = plan.allowed
        budget = fallback.token_budget(
            max((b - a) / SAMPLE_RATE for a, b in windows), plan.prompt_tokens)
        per_window: list[list[Segment]] = [[] for _ in windows]
        starts = [a / SAMPLE_RATE for a, _b in windows]
        for seg in self._batched(samples, clips, plan, budget):
            check_parent()
            middle = (float(seg.start) + float(seg.end)) / 2
            index = max((i for i, s in enumerate(starts) if s <= middle + 1e-6), default=0)
            piece = segmenting.from_model(seg, offset_s, limit)
            per_window[index].append(piece)
        return per_window

    def _cover(self, samples: np.ndarray, offset_s: float, limit: float, voiced: list[Span],
               segments: list[Segment], how: fallback.Decoding, stats: ChunkStats,
               plan: ChunkPlan, careful: list[Span],
               check_parent: Callable[[], None], steps: ChunkSteps) -> list[Segment]:
        """Voiced stretches no kept word covers: decoded alone, or marked as gaps.

        A stretch inside a window that was already decoded the careful way is
        not decoded a third time (on a song or a chant every window would
        otherwise cost two full sequential decodes): it is a gap at once.
        """
        out = list(segments)
        stretches = coverage.uncovered(voiced, segments)
        steps.cover(len(stretches))
        for start, end in stretches:
            check_parent()
            stats.stretches += 1
            again: list[Segment] = []
            decoded = not any(lo <= start and end <= hi for lo, hi in careful)
            if decoded:
                a = max(0, int(round((start - offset_s) * SAMPLE_RATE)))
                b = min(samples.size, int(round((end - offset_s) * SAMPLE_RATE)))
                again = fallback.redecode(self.model, samples, a, b, offset_s, limit, how)
                again = quality.guard(spelling.respell(again, list(plan.spellings)), (),
                                      voiced)
            steps.covered_one(decoded)
            shown = [s for s in again if not s.removed and s.text.strip()]
            out.extend(again)
            covered_before = [s for s in segments if not s.removed]
            if shown and not coverage.uncovered(_within(voiced, start, end), shown):
                stats.recovered += 1
                continue
            # What is still uncovered after the second decode becomes a gap.
            left = coverage.uncovered(_within(voiced, start, end), [*covered_before, *shown])
            removed = any(s.removed for s in [*again, *segments]
                          if s.end > start and s.start < end)
            for g_start, g_end in left:
                stats.gaps += 1
                stats.gap_seconds += g_end - g_start
                out.append(coverage.gap(g_start, g_end,
                                        "removed_text" if removed else "no_text"))
        return out
