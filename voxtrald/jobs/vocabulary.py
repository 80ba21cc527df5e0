"""Names and jargon the model should expect: global settings and a per-file sidecar.

A user who drops `interview.mp3` can put `interview.mp3.vocab.txt` or
`interview.vocab.txt` beside it: one word or phrase per line (or separated by
commas). The sidecar comes from the same untrusted folder as the audio, so it
is read with a size cap, must be text, and a bad one is ignored with a
warning in the transcript rather than failing the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from voxtrald.files import hashing

SUFFIX = ".vocab.txt"
MAX_BYTES = 16 * 1024
# Whisper's prompt holds about 224 tokens; longer vocabularies are cut at a term boundary.
MAX_CHARS = 600


@dataclass(frozen=True)
class Vocabulary:
    hotwords: str | None
    warnings: tuple[str, ...] = ()


def sidecar_for(source: Path) -> Path | None:
    """NAME.EXT.vocab.txt or NAME.vocab.txt beside the source, if one is there.

    Whatever is there under that name counts, a link or a pipe included: it is
    never followed or read (read_sidecar refuses it), but the user is told it
    was ignored rather than left wondering why their names were not used.
    """
    for candidate in (source.with_name(source.name + SUFFIX),
                      source.with_name(source.stem + SUFFIX)):
        try:
            candidate.lstat()
            return candidate
        except OSError:  # none there, or a name too long to exist beside a long source
            continue
    return None


def parse_terms(text: str) -> list[str]:
    """Terms from lines or commas, stripped, without duplicates, in order."""
    seen: dict[str, None] = {}
    for line in text.replace("\r", "\n").split("\n"):
        for term in line.split(","):
            term = " ".join(term.split())
            if term and not term.startswith("#"):
                seen.setdefault(term, None)
    return list(seen)


def join_terms(terms: list[str], limit: int = MAX_CHARS) -> tuple[str | None, bool]:
    """The terms as one hotwords string within `limit` characters; True when some were cut."""
    out: list[str] = []
    size = 0
    for term in terms:
        extra = len(term) + (2 if out else 0)
        if size + extra > limit:
            return (", ".join(out) or None), True
        out.append(term)
        size += extra
    return (", ".join(out) or None), False


def read_sidecar(path: Path) -> tuple[list[str], str | None]:
    """The terms of a sidecar file, or a warning saying why it was ignored."""
    name = path.name
    try:
        with hashing.open_regular(path) as fh:
            raw = fh.read(MAX_BYTES + 1)
    except hashing.NotRegular:
        return [], (f"vocabulary file {name} is a link, a pipe or another special file, not a "
                    "regular file; ignored (put the file itself beside the recording)")
    except OSError as exc:
        return [], f"vocabulary file {name} cannot be read ({exc.strerror or exc}); ignored"
    if len(raw) > MAX_BYTES:
        return [], f"vocabulary file {name} is larger than {MAX_BYTES // 1024} KiB; ignored"
    if b"\0" in raw:
        return [], f"vocabulary file {name} is not text; ignored"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], f"vocabulary file {name} is not UTF-8 text; ignored"
    return parse_terms(text), None


def for_source(source: Path, configured: str) -> Vocabulary:
    """The configured hotwords plus the source's sidecar terms."""
    terms = parse_terms(configured)
    warnings: list[str] = []
    sidecar = sidecar_for(source)
    if sidecar is not None:
        extra, warning = read_sidecar(sidecar)
        terms.extend(t for t in extra if t not in terms)
        if warning:
            warnings.append(warning)
    hotwords, cut = join_terms(terms)
    if cut:
        warnings.append(f"vocabulary longer than {MAX_CHARS} characters; the rest was left out")
    return Vocabulary(hotwords, tuple(warnings))
