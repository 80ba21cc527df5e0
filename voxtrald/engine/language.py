"""Which language a file is in, and whether an English-only model can be trusted with it.

Whisper's language detector looks at one 30 s window. On a second of speech
it is often wrong: Whisper base hears Russian (p = 0.66) in a French
"Bonjour !", with French fifth at 0.01. Its decoder knows better: asked to
write the clip as French it is far more confident (avg log-probability -0.38)
than as Russian (-0.70). So when detection is unsure, the likely languages
are each tried on the same window and the one the decoder is surest of wins,
and only by a clear margin, so the detector's pick stands on a close call.
The probability then reported is the decoder's: each tried language's text
likelihood, normalised over the languages tried.

An English-only model (tiny.en) cannot detect anything: it writes every
language as English words. What it writes on other languages is telling,
though: on French speech tiny.en loops ("I will say, I will say, ...";
compression ratios of 5 to 22) or is unsure (avg log-probability -0.8 to
-1.4), where on real English recordings, even hard ones, its windows stay
above -0.6 and below a ratio of 2.4. When much of a file's speech looks like
that, the job says so instead of handing over confident-looking nonsense.

A person who speaks only a few languages can say which (`languages =
["en", "fr"]`): detection then chooses among those alone, so a short French
clip can no longer come out as Latin. Without that list, a language the
detector ranked near zero (below OVERRULE_FLOOR) never overrules its
confident pick (an English sentence came out as Welsh that way), and on less
than SHORT_SPEECH_SECONDS of speech an unsure detector is not trusted at all:
the first of `languages`, or English, is taken, and the job says so.

Pure functions; the model calls are the transcriber's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from voxtrald.engine.quality import COMPRESSION_LIMIT, HALLUCINATION, REPETITION
from voxtrald.transcripts.segments import Segment

#: Detection at or above this is taken as it is.
SURE_PROBABILITY = 0.8
#: Languages tried when unsure: those at least this likely, at most MAX_CANDIDATES of them.
CANDIDATE_PROBABILITY = 0.005
MAX_CANDIDATES = 8
#: A tried language must beat the detector's pick by this much avg log-probability.
RESCORE_MARGIN = 0.15
#: Above this no-speech probability the window is not speech enough to judge a language by.
JUDGE_NO_SPEECH = 0.3
#: A tried language the detector gave less than this may not overrule its pick.
OVERRULE_FLOOR = 0.05
#: Below this much speech, an unsure detection is not trusted (without `languages`).
SHORT_SPEECH_SECONDS = 3.0
#: The language taken then, when `languages` does not name one.
FALLBACK_LANGUAGE = "en"

#: English-only check: a window below this avg log-probability is doubtful.
DOUBTFUL_LOGPROB = -0.7
#: Share of the speech time in doubtful windows from which the file is flagged.
DOUBTFUL_SHARE = 0.4
#: Less speech than this says too little to flag a file.
MIN_SPEECH_SECONDS = 4.0


@dataclass(frozen=True)
class Trial:
    """One language tried on the detection window."""

    language: str
    avg_logprob: float
    tokens: int
    no_speech_prob: float
    text: str

    @property
    def log_likelihood(self) -> float:
        # faster-whisper averages over the tokens plus the end of text.
        return self.avg_logprob * (self.tokens + 1)


def restricted(ranked: Sequence[tuple[str, float]],
               allowed: Sequence[str]) -> list[tuple[str, float]]:
    """The ranking limited to the languages a person speaks, renormalised; all of it
    when none are named (or none of them is ranked)."""
    if not allowed:
        return list(ranked)
    kept = [(lang, p) for lang, p in ranked if lang in allowed]
    mass = sum(p for _lang, p in kept)
    if not kept or mass <= 0:
        return list(ranked)
    return [(lang, p / mass) for lang, p in kept]


def candidates(ranked: Sequence[tuple[str, float]]) -> list[str]:
    """Languages worth trying when the detector is unsure; empty when it is sure."""
    if not ranked or ranked[0][1] >= SURE_PROBABILITY:
        return []
    return [lang for lang, p in ranked[:MAX_CANDIDATES] if p >= CANDIDATE_PROBABILITY]


def too_short_to_tell(ranked: Sequence[tuple[str, float]], speech_seconds: float,
                      allowed: Sequence[str]) -> str | None:
    """The language to take without trials on short, unsure speech; None to detect.

    With `allowed` named, detection among them is trusted at any length.
    """
    if allowed or not ranked or ranked[0][1] >= SURE_PROBABILITY:
        return None
    if speech_seconds >= SHORT_SPEECH_SECONDS:
        return None
    return FALLBACK_LANGUAGE


def short_speech_warning(language: str, speech_seconds: float) -> str:
    return (f"only {speech_seconds:.1f} s of speech: too little to tell its language "
            f"surely, so it was transcribed as '{language}' (set `languages` or "
            "`language` to choose)")


def pick(ranked: Sequence[tuple[str, float]], trials: Sequence[Trial],
         chosen_by_person: bool = False) -> tuple[str, float]:
    """The language and its probability after the trials.

    The detector's top language stands unless another tried language wrote
    non-empty text with a clearly higher average log-probability, on a window
    the model takes for speech, and the detector gave it at least
    OVERRULE_FLOOR (any figure, when a person named the languages to choose
    from). Without usable trials the detector's figure is reported as it is.
    """
    top_lang, top_p = ranked[0]
    detected = dict(ranked)
    floor = 0.0 if chosen_by_person else OVERRULE_FLOOR
    trials = [t for t in trials
              if t.language == top_lang or detected.get(t.language, 0.0) >= floor]
    by_lang = {t.language: t for t in trials}
    base = by_lang.get(top_lang)
    if base is None or base.no_speech_prob >= JUDGE_NO_SPEECH:
        return top_lang, top_p
    best = base
    for trial in trials:
        if trial.text.strip() and trial.avg_logprob > best.avg_logprob + (
            RESCORE_MARGIN if best is base else 0.0
        ):
            best = trial
    peak = max(t.log_likelihood for t in trials)
    weights = {t.language: math.exp(t.log_likelihood - peak) for t in trials}
    return best.language, weights[best.language] / sum(weights.values())


def doubtful(seg: Segment) -> bool:
    lp = seg.avg_logprob if seg.avg_logprob is not None else 0.0
    cr = seg.compression_ratio or 0.0
    return (lp < DOUBTFUL_LOGPROB or cr > COMPRESSION_LIMIT
            or bool({REPETITION, HALLUCINATION}.intersection(seg.flags)))


def doubtful_seconds(segments: Sequence[Segment]) -> tuple[float, float]:
    """(seconds of speech, seconds of it in doubtful windows), to add up over a file."""
    total = sum(max(0.0, s.end - s.start) for s in segments)
    bad = sum(max(0.0, s.end - s.start) for s in segments if doubtful(s))
    return total, bad


def english_only_warning(speech_s: float, doubtful_s: float, model: str) -> str | None:
    """A warning when an English-only model's output looks like another language garbled."""
    if speech_s < MIN_SPEECH_SECONDS:
        return None
    share = doubtful_s / speech_s
    if share < DOUBTFUL_SHARE:
        return None
    return (f"{share:.0%} of the speech came out looped or unsure with {model}, which "
            "knows only English: if the speech is in another language, use a "
            "multilingual model (model = \"default\")")
