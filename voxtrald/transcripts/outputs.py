"""Transcript files: txt, srt, vtt and json, from the engine's segments.

One registry, `RENDERERS`, names every format and how to render it; the
settings' list of formats (`config.OUTPUT_FORMATS`) is taken from it, so a
format cannot exist in one place and not the other. A renderer takes the
segments (`voxtrald.transcripts.segments.Segment`, timed against the original file)
and the job's metadata mapping, and returns the file's text.

Removed segments. A quality guard that decides a segment is not speech the
user said (a repetition loop, text invented on silence) flags it with one of
`transcript.REMOVED_FLAGS` ("hallucination", "repetition") instead of dropping
it. Such a segment is left out of txt, srt, vtt and the JSON's `text`, but the
JSON keeps it among its `segments` with `"removed": true`, its flags and its
figures, so a user can see what was taken out and why. Other flags
("low_confidence", "no_speech"…) are information only: the text stays.

The JSON document holds the metadata first (source, language and
language_probability, duration, model, compute_type, beam_size,
transcribed_at, timing, warnings, generator, and any other key the caller
gives), then `text` and `segments`; each segment has start, end, text, words
(word, start, end, probability; a word keeps its leading space, as Whisper
gives it, so the text can be rebuilt exactly in any script), avg_logprob,
no_speech_prob, compression_ratio, flags and removed, and `speaker` (on
segments and words) once speakers were told apart; `speakers` then lists
them as [{id, label, seconds}] (transcripts/speakers.py renders the labels). Times are in seconds
rounded to the millisecond; a figure that is not a finite number is null
(`voxtrald.files.jsontext`).

Writing. All formats of a job are rendered first, then staged as temp files
beside their targets and renamed into place together (`voxtrald.files.atomic`): a
reader, a sync client or a crash sees no transcript or a whole one. On any
error every temp is removed, and so is every file of the set that did not
exist before, so a failed write leaves the folder as it was (a file that
replaced one of an earlier attempt of the same job stays: it is whole).

Names. `free_stem` picks the name for a new source: `talk`, or `talk-2`…
when any of its files is taken, so another source's transcript is never
overwritten; a name too long for the filesystem is shortened, keeping a short
hash for uniqueness (`voxtrald.files.filenames`).

Gaps. Speech the engine could not transcribe is a gap segment
(`Segment.is_gap`): txt, srt and vtt show it as `[inaudible]` (unless
`mark_gaps` is off), and the JSON lists it under `gaps` with its reason,
never among its `segments` (`voxtrald.transcripts.gaps`).

Modes. Transcripts are the user's documents: they get the mode a file the
user creates would get (0666 less the umask), not mkstemp's private 0600;
`write_transcripts(mode=...)` sets another (for example a private 0600).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from voxtrald.files import atomic, filenames, jsontext
from voxtrald.transcripts import gaps, speakers
from voxtrald.transcripts.segments import Segment, Word
from voxtrald.transcripts.subtitles import Cue, build_cues

TEMP_PREFIX = atomic.TEMP_PREFIX
Meta = Mapping[str, Any]
Renderer = Callable[[Sequence[Segment], Meta], str]

# Metadata keys in the order the JSON shows them; those without a default
# appear only when the caller gives them.
_META_DEFAULTS: dict[str, Any] = {
    "source": None,
    "language": None,
    "language_probability": None,
    "duration": None,
    "model": None,
}
_META_ORDER = (
    "source", "language", "language_probability", "duration", "model", "compute_type",
    "beam_size", "transcribed_at", "timing", "warnings", "generator", "speakers",
)
_OWN_KEYS = ("text", "segments", "gaps")


FILE_MODE = atomic.USER_FILE_MODE


def shown(segments: Iterable[Segment]) -> list[Segment]:
    """The segments that make the transcript's text: not removed, not blank (a gap has
    text only once `gaps.marked` gave it its marker)."""
    return [s for s in segments if not s.removed and s.text.strip()]


def render_txt(segments: Sequence[Segment], meta: Meta | None = None) -> str:
    names = speakers.names_in(meta)
    if names:
        return speakers.paragraphs(shown(segments), names)
    lines = [s.text.strip() for s in shown(segments)]
    return "\n".join(lines) + ("\n" if lines else "")


def render_srt(segments: Sequence[Segment], meta: Meta | None = None) -> str:
    names = speakers.names_in(meta)
    owners = speakers.cue_speakers(shown(segments)) if names else []
    blocks = []
    previous = None
    for i, cue in enumerate(build_cues(shown(segments)), start=1):
        lines = list(cue.lines)
        if names and owners[i - 1] != previous and owners[i - 1] is not None:
            lines[0] = f"{speakers.label_of(owners[i - 1], names)}: {lines[0]}"
        previous = owners[i - 1] if names else None
        # "-->" is the SRT timing arrow; in a text line it would confuse readers.
        text = "\n".join(line.replace("-->", "->") for line in lines)
        blocks.append(f"{i}\n{_times(cue, ',')}\n{text}\n")
    return "\n".join(blocks)


def render_vtt(segments: Sequence[Segment], meta: Meta | None = None) -> str:
    names = speakers.names_in(meta)
    owners = speakers.cue_speakers(shown(segments)) if names else []
    blocks = ["WEBVTT\n"]
    for i, cue in enumerate(build_cues(shown(segments))):
        text = "\n".join(_vtt_escape(line) for line in cue.lines)
        label = speakers.label_of(owners[i], names) if names else None
        if label:  # a WebVTT voice span; the name cannot hold '>' (clean_label drops it)
            text = f"<v {_vtt_escape(label)}>{text}"
        blocks.append(f"{_times(cue, '.')}\n{text}\n")
    return "\n".join(blocks)


def render_json(segments: Sequence[Segment], meta: Meta | None = None) -> str:
    given = dict(meta or {})
    doc: dict[str, Any] = {}
    for key in _META_ORDER:
        if key in given:
            doc[key] = given[key]
        elif key in _META_DEFAULTS:
            doc[key] = _META_DEFAULTS[key]
        elif key == "warnings":
            doc[key] = []
    for key, value in given.items():
        if key not in doc and key not in _OWN_KEYS:
            doc[key] = value
    spoken = [s for s in segments if not s.is_gap]
    doc["text"] = " ".join(s.text.strip() for s in shown(spoken))
    doc["segments"] = [_segment_doc(s) for s in spoken]
    doc["gaps"] = gaps.gap_docs(segments)
    return jsontext.dumps(doc) + "\n"


RENDERERS: dict[str, Renderer] = {
    "txt": render_txt,
    "srt": render_srt,
    "vtt": render_vtt,
    "json": render_json,
}
#: Every output format, in the order the defaults list them.
FORMATS: tuple[str, ...] = tuple(RENDERERS)


def free_stem(folder: Path, stem: str, formats: Iterable[str],
              reserved: Collection[str] = ()) -> str:
    """A stem for which no STEM.fmt exists yet and no other job has reserved: 'talk',
    then 'talk-2', 'talk-3'…

    Shortened (with a short hash) when STEM.fmt would be too long for the
    filesystem, so a source named at the limit still gets its transcripts.
    """
    return filenames.free_stem(folder, stem, [f".{fmt}" for fmt in formats],
                               reserved=reserved)


def write_transcripts(
    folder: Path,
    stem: str,
    formats: Sequence[str],
    segments: Sequence[Segment],
    meta: Meta,
    *,
    mode: int | None = None,
    mark_gaps: bool = True,
) -> list[Path]:
    """Render every format, then put the whole set in place at once; the files written.

    `mark_gaps` shows speech that could not be transcribed as `[inaudible]` in
    txt, srt and vtt; the JSON lists gaps either way.

    Raises OSError (and leaves the folder as it was) when the set cannot be
    written, ValueError for a format no renderer knows.
    """
    segs = list(segments)
    wanted = list(dict.fromkeys(formats))
    unknown = [fmt for fmt in wanted if fmt not in RENDERERS]
    if unknown:
        raise ValueError(f"unknown transcript format(s): {', '.join(unknown)}")
    readable = gaps.marked(segs, mark_gaps)
    texts = [(folder / f"{stem}.{fmt}", RENDERERS[fmt](segs if fmt == "json" else readable, meta))
             for fmt in wanted]
    folder.mkdir(parents=True, exist_ok=True)
    file_mode = FILE_MODE if mode is None else mode
    new = {target for target, _text in texts if not os.path.lexists(target)}
    staged: list[atomic.Staged] = []
    placed: list[Path] = []
    try:
        for target, text in texts:
            staged.append((atomic.stage(target, text, file_mode), target))
        atomic.commit(staged, placed)
    except BaseException:
        atomic.discard(staged)
        for target in placed:
            if target in new:
                target.unlink(missing_ok=True)
        raise
    return [target for target, _text in texts]


def remove_stale_temps(folder: Path) -> int:
    """Delete temp files a killed daemon left behind; they are never a finished transcript."""
    return atomic.remove_stale(folder)


# -- pieces ------------------------------------------------------------------------------


def _timestamp(ms: int, sep: str) -> str:
    h, ms = divmod(max(0, ms), 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _times(cue: Cue, sep: str) -> str:
    return f"{_timestamp(cue.start_ms, sep)} --> {_timestamp(cue.end_ms, sep)}"


def _vtt_escape(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _segment_doc(seg: Segment) -> dict[str, Any]:
    return {
        "start": _round(seg.start, 3),
        "end": _round(seg.end, 3),
        "text": seg.text.strip(),
        "words": [_word_doc(w) for w in seg.words],
        "avg_logprob": _round(seg.avg_logprob, 4),
        "no_speech_prob": _round(seg.no_speech_prob, 4),
        "compression_ratio": _round(seg.compression_ratio, 4),
        "flags": list(seg.flags),
        "removed": seg.removed,
        **({} if seg.speaker is None else {"speaker": seg.speaker}),
    }


def _word_doc(word: Word) -> dict[str, Any]:
    return {
        "word": word.word,
        "start": _round(word.start, 3),
        "end": _round(word.end, 3),
        "probability": _round(word.probability, 4),
        **({} if word.speaker is None else {"speaker": word.speaker}),
    }


def _round(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)
