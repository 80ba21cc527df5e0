"""Quality guards on the model's segments: loops and text on non-speech, caught and flagged.

Whisper models invent text in two known ways: they fall into loops ("Okay.
Okay. Okay." dozens of times, or a phrase repeated to the end of a window),
and they put stock phrases ("Thank you.", "Thanks for watching!") on
laughter, music or breath. Both show in figures the model reports with each
segment, which every Segment carries (avg_logprob, no_speech_prob,
compression_ratio), and in the words themselves.

Flags a segment can carry:
- ``repetition`` — a loop: the repeated tail of a phrase (its first saying is
  kept as its own segment), a segment that is the third or later identical one
  in a row, or text that compresses like a loop. **Dropped** from txt/srt/vtt.
  When the audio is known (Silero's voiced stretches), a loop is judged by it,
  not by the text alone: words said again with their own time in the
  recording, spread as speech is, are speech (a chorus, a question asked
  twice, an announcement played again) and stay; only a repeat the audio does
  not carry (words crammed together, or timed where nobody speaks) is a loop.
- ``hallucination`` — text where the model itself says there is no speech (high
  no-speech probability with low confidence), or a stock phrase said with
  doubt. **Dropped** from txt/srt/vtt.
- ``low_confidence`` — kept; the text is the model's best but uncertain guess.
- ``no_speech`` — kept; the model thought there might be no speech but was
  confident in its text.
The JSON keeps every segment with its flags, so nothing disappears unseen.

All functions here are pure: same input, same output, no I/O.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import replace
from statistics import median

from voxtrald.engine import spans
from voxtrald.engine.spans import Span
from voxtrald.transcripts.segments import REMOVED_FLAGS, Segment, Word

REPETITION = "repetition"
HALLUCINATION = "hallucination"
LOW_CONFIDENCE = "low_confidence"
NO_SPEECH = "no_speech"
#: Segments carrying one of these are left out of txt/srt/vtt (declared with Segment).
DROP_FLAGS = REMOVED_FLAGS

#: Whisper's own thresholds (its temperature fallback uses the same figures).
COMPRESSION_LIMIT = 2.4
LOW_LOGPROB = -1.0
NO_SPEECH_PROB = 0.6
#: A stock phrase with this much doubt about speech is taken as invented.
STOCK_NO_SPEECH_PROB = 0.3
STOCK_LOGPROB = -0.8
#: Loops: the longest phrase looked for, and how often it must repeat in a row.
MAX_LOOP_WORDS = 12
MIN_REPEATS_ONE_WORD = 5
MIN_REPEATS_PHRASE = 3
MIN_LOOP_WORDS = 9
#: Below this many characters, gzip's header dominates and the ratio means nothing.
MIN_COMPRESSIBLE_CHARS = 40

# Phrases Whisper is known to produce on non-speech (subtitle credits in its training data).
STOCK_PHRASES = frozenset({
    "thank you", "thank you very much", "thanks for watching", "thank you for watching",
    "thank you so much for watching", "please subscribe", "subscribe to my channel",
    "bye", "you", "oh", "so", "okay", "music", "applause", "laughter",
    "subtitles by the amara org community", "merci", "merci d avoir regardé cette vidéo",
    "sous titrage st 501", "untertitel im auftrag des zdf 2017", "vielen dank",
})

#: Words spread as speech: this share of their time voiced, at this many words a second,
#: and no shorter than this each (the median), covering this share of the voiced time.
SPEECH_VOICED_SHARE = 0.6
SPEECH_MIN_RATE = 0.8
SPEECH_MAX_RATE = 6.0
SPEECH_MIN_WORD_SECONDS = 0.06
SPEECH_MIN_COVER = 0.5
#: Silero pads speech by this much on each side; words are widened alike when compared.
PAD_SECONDS = 0.4

_WORD_CHARS = re.compile(r"[^\w]+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, punctuation and spacing folded: how repeats and stock phrases compare."""
    return " ".join(_WORD_CHARS.sub(" ", text.lower()).split())


#: Stock phrases this long are recognised inside a longer text too ("don't forget to
#: subscribe to my channel"); shorter ones ("you", "so") only as the whole text.
MIN_CONTAINED_STOCK_WORDS = 3
_CONTAINED = tuple(f" {p} " for p in STOCK_PHRASES
                   if len(p.split()) >= MIN_CONTAINED_STOCK_WORDS)
#: A text longer than this is not a stock phrase, whatever it contains.
MAX_STOCK_TEXT_WORDS = 10


def is_stock(normalised: str) -> bool:
    """Whether the text is one of the phrases Whisper writes on non-speech."""
    if normalised in STOCK_PHRASES:
        return True
    if len(normalised.split()) > MAX_STOCK_TEXT_WORDS:
        return False
    padded = f" {normalised} "
    return any(p in padded for p in _CONTAINED)


def compression_ratio(text: str) -> float:
    """Length over zlib-compressed length, as Whisper measures it (loops compress well)."""
    data = text.encode("utf-8")
    if not data:
        return 0.0
    return len(data) / len(zlib.compress(data))


def find_loop(tokens: Sequence[str]) -> tuple[int, int] | None:
    """The first loop as (end of its first saying, end of the loop), or None.

    A loop is a phrase of up to MAX_LOOP_WORDS words said again and again in a
    row: a single word at least MIN_REPEATS_ONE_WORD times, a longer phrase at
    least MIN_REPEATS_PHRASE times and over MIN_LOOP_WORDS words in all, so
    "no, no, no" or "thank you, thank you" stay speech.
    """
    n_tokens = len(tokens)
    for start in range(n_tokens):
        for size in range(1, min(MAX_LOOP_WORDS, (n_tokens - start) // 2) + 1):
            phrase = tokens[start:start + size]
            repeats = 1
            pos = start + size
            while tokens[pos:pos + size] == phrase:
                repeats += 1
                pos += size
            needed = MIN_REPEATS_ONE_WORD if size == 1 else MIN_REPEATS_PHRASE
            if repeats >= needed and (size == 1 or size * repeats >= MIN_LOOP_WORDS):
                return start + size, pos
    return None


def speech_like(words: Sequence[Word], voiced: Sequence[Span] | None) -> bool:
    """Whether words are timed the way speech is: in voiced audio, at a speaking pace.

    A model that loops writes its repeats where the audio does not carry them:
    crammed into a moment, or timed over silence or noise. Unknown audio
    (`voiced` None) or words without timings tell nothing: False.
    """
    if voiced is None or len(words) < 2:
        return False
    durations = [max(0.0, w.end - w.start) for w in words]
    spoken = sum(durations)
    span = words[-1].end - words[0].start
    if spoken <= 0 or span <= 0:
        return False
    inside = [(max(vs, words[0].start), min(ve, words[-1].end)) for vs, ve in voiced]
    inside = [(a, b) for a, b in inside if b > a]
    voiced_here = sum(b - a for a, b in inside)
    widened = [(w.start - PAD_SECONDS, w.end + PAD_SECONDS) for w in words]
    rate = len(words) / span
    return (
        spans.overlap([(w.start, w.end) for w in words], voiced) / spoken >= SPEECH_VOICED_SHARE
        and SPEECH_MIN_RATE <= rate <= SPEECH_MAX_RATE
        and median(durations) >= SPEECH_MIN_WORD_SECONDS
        and (voiced_here <= 0 or spans.overlap(widened, inside) / voiced_here
             >= SPEECH_MIN_COVER)
    )


def _piece(seg: Segment, words: Sequence[Word], flags: tuple[str, ...] = ()) -> Segment:
    text = "".join(w.word for w in words)
    return replace(seg, start=words[0].start, end=words[-1].end, text=text, words=tuple(words),
                   compression_ratio=round(compression_ratio(text.strip()), 3),
                   flags=_merge(seg.flags, flags))


def _merge(flags: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
    return flags + tuple(f for f in more if f not in flags)


def split_loops(seg: Segment, voiced: Sequence[Span] | None = None) -> list[Segment]:
    """The segment with each loop's repeated tail cut out into its own `repetition` piece.

    The first saying stays in the text, so a speaker who said it once is not
    silenced. Without word timings the tail's times are shared out by words.
    A tail whose words are timed as speech (`speech_like`) is not a loop.
    """
    if seg.words:
        units: list[tuple[str, Word | None]] = [(normalise(w.word), w) for w in seg.words]
    else:
        units = [(normalise(t), None) for t in seg.text.split()]
    units = [u for u in units if u[0] or u[1] is not None]
    tokens = [u[0] for u in units]
    pieces: list[tuple[int, int, bool]] = []  # (from, to, is_loop_tail)
    pos = kept_from = 0
    while True:
        found = find_loop(tokens[pos:])
        if found is None:
            break
        keep_end, loop_end = pos + found[0], pos + found[1]
        tail = [w for _t, w in units[keep_end:loop_end] if w is not None]
        if not speech_like(tail, voiced):
            pieces.append((kept_from, keep_end, False))
            pieces.append((keep_end, loop_end, True))
            kept_from = loop_end
        pos = loop_end
    if not pieces:
        return [seg]
    if kept_from < len(tokens):
        pieces.append((kept_from, len(tokens), False))
    out = []
    for lo, hi, is_loop in pieces:
        if lo >= hi:
            continue
        flags = (REPETITION,) if is_loop else ()
        if seg.words:
            out.append(_piece(seg, [w for _t, w in units[lo:hi] if w is not None], flags))
        else:
            out.append(_text_piece(seg, lo, hi, len(tokens), flags))
    return out


def _text_piece(seg: Segment, lo: int, hi: int, total: int, flags: tuple[str, ...]) -> Segment:
    words = seg.text.split()
    span = seg.end - seg.start
    text = " " + " ".join(words[lo:hi])
    return replace(seg, start=round(seg.start + span * lo / total, 3),
                   end=round(seg.start + span * hi / total, 3), text=text,
                   compression_ratio=round(compression_ratio(text.strip()), 3),
                   flags=_merge(seg.flags, flags))


def judge(seg: Segment, voiced: Sequence[Span] | None = None) -> tuple[str, ...]:
    """The flags one segment earns on its own figures and text (and the audio, if known)."""
    flags: list[str] = []
    lp = seg.avg_logprob if seg.avg_logprob is not None else 0.0
    ns = seg.no_speech_prob if seg.no_speech_prob is not None else 0.0
    text = seg.text.strip()
    if len(text) >= MIN_COMPRESSIBLE_CHARS and compression_ratio(text) > COMPRESSION_LIMIT \
            and not speech_like(seg.words, voiced):
        flags.append(REPETITION)
    stock = is_stock(normalise(text))
    if (ns >= NO_SPEECH_PROB and lp < LOW_LOGPROB) or (
        stock and (ns >= STOCK_NO_SPEECH_PROB or lp < STOCK_LOGPROB)
    ):
        flags.append(HALLUCINATION)
    elif lp < LOW_LOGPROB:
        flags.append(LOW_CONFIDENCE)
    elif ns >= NO_SPEECH_PROB:
        flags.append(NO_SPEECH)
    return tuple(flags)


def guard(segments: Sequence[Segment], previous: Sequence[Segment] = (),
          voiced: Sequence[Span] | None = None) -> list[Segment]:
    """Every segment split at loops and flagged; `previous` are the segments just before.

    Passing the last segments of the previous chunk lets a run of identical
    segments be caught across a chunk boundary. `voiced` are the stretches
    Silero hears speech in (seconds in the file), when known: repeats the
    audio carries are speech, not loops.
    """
    out: list[Segment] = []
    for seg in segments:
        if seg.is_gap:
            out.append(seg)
            continue
        for piece in split_loops(seg, voiced):
            out.append(replace(piece, flags=_merge(piece.flags, judge(piece, voiced))))
    history = [normalise(s.text) for s in previous[-2:]]
    for i, seg in enumerate(out):
        key = normalise(seg.text)
        if key and len(history) >= 2 and history[-1] == key and history[-2] == key \
                and not speech_like(seg.words, voiced):
            out[i] = replace(seg, flags=_merge(seg.flags, (REPETITION,)))
        history.append(key)
    return out


def kept(segments: Sequence[Segment]) -> list[Segment]:
    """The segments a reader sees in txt/srt/vtt."""
    return [s for s in segments if not s.removed]
